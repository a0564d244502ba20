"""The whole environment file: one Terraform stack."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from .alarms import AlarmsConfig
from .backend import BackendConfig, LocalBackend
from .base import FieldProblem, StrictModel
from .fleet import FleetConfig
from .listener_rule import WEIGHT_TOTAL
from .load_balancer import LoadBalancerConfig
from .network import NetworkConfig
from .objectives import ResilienceObjectives
from .types import AwsRegion, EnvName, FleetName, KmsKeyArn, TagMap

#: Value of the ``managed-by`` tag on every resource the stacks create.
MANAGED_BY = "ai-fleet-terraform"


class CloudwatchLogsConfig(StrictModel):
    """Encryption of the CloudWatch log groups the stack creates (VPC flow logs, WAF
    logs): ``aws_cloudwatch_log_group.kms_key_id``."""

    kms_key_id: KmsKeyArn | None = Field(
        None,
        description="KMS key ARN for the log groups; default: the stack creates a key "
        "(rotation on) that only CloudWatch Logs of this account and region may use.",
    )


class EnvironmentConfig(StrictModel):
    """One environment: becomes one Terraform stack named ``name``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "AI serving fleet environment",
        },
    )

    name: EnvName
    region: AwsRegion
    production: bool = Field(
        False,
        description="Production environment: turns on ALB deletion protection and the WAF web ACL by default.",
    )
    tags: TagMap = Field(
        default_factory=dict,
        description="Added to every resource, with environment=<name> and managed-by=ai-fleet-terraform "
        "(provider default_tags, and explicitly on Auto Scaling groups and the instances and volumes "
        "they launch). At most 45 (AWS allows 50 per resource; the stacks add up to five), keys "
        "1-128 characters not starting with 'aws:', values up to 256; letters, digits, spaces and "
        "_ . : / = + - @.",
    )
    network: NetworkConfig = Field(..., description="Existing VPC and subnets, or a VPC the stack creates.")
    load_balancer: LoadBalancerConfig = Field(..., description="The Application Load Balancer.")
    fleets: dict[FleetName, FleetConfig] = Field(
        ..., min_length=1, max_length=20, description="Model server fleets behind the ALB, keyed by name (1-20)."
    )
    alarms: AlarmsConfig = Field(AlarmsConfig(), description="Where the fleets' alarms notify.")
    backend: BackendConfig = Field(
        LocalBackend(),
        description="Where Terraform keeps this stack's state: local (default), s3 or cloud.",
    )
    resilience_objectives: ResilienceObjectives | None = Field(
        None,
        description="Targets `make report` checks the synthesized stack against; none by default.",
    )
    cloudwatch_logs: CloudwatchLogsConfig = Field(
        CloudwatchLogsConfig(), description="Encryption of the log groups the stack creates."
    )

    def own_problems(self) -> list[FieldProblem]:
        """The ALB is named ``<name>-alb``, and ALB names may not begin with ``internal-``
        (ELB API reference, CreateLoadBalancer: Name)."""
        # aws-rule: alb-name-internal-prefix
        if self.name.startswith("internal-"):
            return [("name", "ALB names may not begin with 'internal-', and the ALB is named <name>-alb: rename it")]
        return []

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags for everything the stack creates: ``environment`` (the name),
        ``managed-by`` (:data:`MANAGED_BY`) and the configured ``tags``, which win on a
        clash. The provider's ``default_tags``; also written explicitly where those do
        not reach: the instances and volumes an Auto Scaling group launches (launch
        template ``tag_specifications``) and the group itself."""
        return {"environment": self.name, "managed-by": MANAGED_BY, **self.tags}

    @property
    def deletion_protection(self) -> bool:
        """ALB deletion protection: explicit, else on in production."""
        explicit = self.load_balancer.enable_deletion_protection
        return self.production if explicit is None else explicit

    @property
    def effective_idle_timeout(self) -> int:
        """ALB idle timeout, seconds: explicit or the longest max_request_seconds (cap 4000)."""
        explicit = self.load_balancer.idle_timeout
        if explicit is not None:
            return explicit
        return min(4000, max(f.effective_max_request_seconds for f in self.fleets.values()))

    @property
    def waf_enabled(self) -> bool:
        """WAF web ACL on the ALB: explicit, else on in production."""
        explicit = self.load_balancer.waf.enabled
        return self.production if explicit is None else explicit

    @property
    def default_fleet(self) -> str:
        """Name of the fleet behind the listeners' default action (canaries aside: they
        share a route, docs/canary.md)."""
        routed = [name for name, fleet in self.fleets.items() if fleet.canary is None]
        if len(routed) == 1:
            return routed[0]
        return next(name for name, fleet in self.fleets.items() if fleet.default)

    def canaries(self, fleet_name: str) -> dict[str, int]:
        """The canary fleets sharing the route of ``fleet_name``, each with its target
        group weight, in config order (empty: the route forwards to that fleet alone)."""
        return {
            name: fleet.canary.weight
            for name, fleet in self.fleets.items()
            if fleet.canary is not None and fleet.canary.of == fleet_name
        }

    def route_weight(self, fleet_name: str) -> int:
        """Target group weight of ``fleet_name`` in its own weighted route: its
        ``forward.weight``, else 100 minus its canaries' weights (at least 0)."""
        forward = self.fleets[fleet_name].forward
        if forward is not None and forward.weight is not None:
            return forward.weight
        return max(0, WEIGHT_TOTAL - sum(self.canaries(fleet_name).values()))

    @property
    def creates_log_groups(self) -> bool:
        """True when the stack creates a CloudWatch log group (flow logs or WAF logs)."""
        cv = self.network.create_vpc
        flow_logs = cv is not None and cv.enable_flow_logs
        waf_logs = self.waf_enabled and self.load_balancer.waf.logging.enabled
        return flow_logs or waf_logs

    @property
    def uses_cloud_backend(self) -> bool:
        """True when the state lives in HCP Terraform or Terraform Enterprise (a ``cloud``
        block, which needs Terraform 1.1 or later)."""
        return self.backend.type == "cloud"
