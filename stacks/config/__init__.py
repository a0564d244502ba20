"""Typed environment config: the single source of truth for what a stack builds.

One YAML file per environment (``config/<env>.yaml``) is parsed by :func:`load_config`
into an :class:`EnvironmentConfig`. Keys mirror the Terraform attribute they drive
(``deregistration_delay``, ``health_check_grace_period``, ``on_demand_base_capacity``...),
so the hashicorp/aws provider documentation describes each of them.

Modules, one per concern:

- ``types``: reusable field types (AWS names, IDs, ARNs, CIDRs, tags, S3 bucket names);
  ``presets``: what each inference server implies;
- one module per section, each model validating its own fields and the rules across
  them (``own_problems``, see ``base``): ``network``, ``load_balancer`` (access logs,
  WAF), ``target_group``, ``launch_template``, ``autoscaling`` (groups, warm pool,
  instance refresh, hooks), ``scaling``, ``listener_rule``, ``alarms``, ``fleet`` (and
  its derived values), ``backend``, ``objectives``, ``environment`` (the whole file);
- ``checks``: the rules that span sections, and warnings (``advisories``);
- ``loading``: YAML reading and the three validation passes; ``messages``: problem
  messages (pydantic errors, secret values); ``errors``: :class:`Problem`,
  :class:`ConfigError`;
- ``environments``: the files of a run (discovery, unique names, one state each);
- ``reference``: ``config/schema.json`` and ``docs/configuration.md`` from the model.

Every problem becomes one :class:`Problem` naming the file and the field; the command
line prints them all and exits with code 2 (``stacks.cli``). Nothing here loads cdktf
or the AWS provider.
"""

from .alarms import AlarmsConfig, FleetAlarmsConfig
from .autoscaling import (
    AutoscalingGroupConfig,
    InstanceOverride,
    InstanceRefresh,
    LaunchHook,
    LifecycleHooks,
    MixedInstancesPolicy,
    SpotAutoscalingGroupConfig,
    TerminationHook,
    WarmPool,
)
from .backend import BackendConfig, CloudBackend, LocalBackend, S3Backend
from .base import FieldProblem, StrictModel, under
from .checks import advisories, cross_section_problems
from .environment import MANAGED_BY, CloudwatchLogsConfig, EnvironmentConfig
from .environments import cloud_stacks, discover, load_all, name_clashes
from .errors import ConfigError, Problem
from .fleet import FleetConfig
from .launch_template import BUILTIN_POLICY_KEYS, LaunchTemplateConfig, managed_policy_key
from .listener_rule import ListenerRule
from .load_balancer import DEFAULT_MANAGED_RULE_GROUPS, AccessLogsConfig, LoadBalancerConfig, WafConfig
from .loading import USER_DATA_MAX_BYTES, file_problems, load_config, parse_config
from .network import CreateVpc, NetworkConfig
from .objectives import ResilienceObjectives
from .presets import ALB_GRPC_DEFAULT_PATH, PRESETS
from .scaling import CustomMetric, ScalingConfig, ScheduledAction
from .target_group import HealthCheck, TargetGroupConfig, TargetGroupHealth

__all__ = [
    "ALB_GRPC_DEFAULT_PATH",
    "BUILTIN_POLICY_KEYS",
    "DEFAULT_MANAGED_RULE_GROUPS",
    "MANAGED_BY",
    "PRESETS",
    "USER_DATA_MAX_BYTES",
    "AccessLogsConfig",
    "AlarmsConfig",
    "AutoscalingGroupConfig",
    "BackendConfig",
    "CloudBackend",
    "CloudwatchLogsConfig",
    "ConfigError",
    "CreateVpc",
    "CustomMetric",
    "EnvironmentConfig",
    "FieldProblem",
    "FleetAlarmsConfig",
    "FleetConfig",
    "HealthCheck",
    "InstanceOverride",
    "InstanceRefresh",
    "LaunchHook",
    "LaunchTemplateConfig",
    "LifecycleHooks",
    "ListenerRule",
    "LoadBalancerConfig",
    "LocalBackend",
    "MixedInstancesPolicy",
    "NetworkConfig",
    "Problem",
    "ResilienceObjectives",
    "S3Backend",
    "ScalingConfig",
    "ScheduledAction",
    "SpotAutoscalingGroupConfig",
    "StrictModel",
    "TargetGroupConfig",
    "TargetGroupHealth",
    "TerminationHook",
    "WafConfig",
    "WarmPool",
    "advisories",
    "cloud_stacks",
    "cross_section_problems",
    "discover",
    "file_problems",
    "load_all",
    "load_config",
    "managed_policy_key",
    "name_clashes",
    "parse_config",
    "under",
]
