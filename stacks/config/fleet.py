"""``fleets.<name>``: one model server fleet, and the values derived from its preset and
timings (docs/serving-defaults.md explains each derivation)."""

from __future__ import annotations

from pydantic import Field

from .alarms import FleetAlarmsConfig
from .autoscaling import AutoscalingGroupConfig, LifecycleHooks, SpotAutoscalingGroupConfig
from .base import FieldProblem, StrictModel
from .launch_template import LaunchTemplateConfig
from .listener_rule import Canary, Forward, ListenerRule
from .presets import ALB_GRPC_DEFAULT_PATH, PRESETS, QUEUE_METRIC_NAMESPACE, Preset
from .scaling import ScalingConfig
from .target_group import TargetGroupConfig

#: Seconds an apply allows a new instance, beside the launch hook's wait, to launch, boot
#: and reach ``InService``, retries after ``InsufficientInstanceCapacity`` included (the
#: provider's default wait is 600 s in all).
LAUNCH_ALLOWANCE_SECONDS = 600


class FleetConfig(StrictModel):
    """One model server fleet: target group, launch template and Auto Scaling group(s)."""

    preset: Preset = Field(
        "custom",
        description="Inference server; sets port, health path and matcher, and the model "
        "load and request-time defaults.",
    )
    model_load_seconds: int | None = Field(
        None,
        ge=1,
        le=7200,
        description="Seconds from boot to serving (model download + load). Drives the grace "
        "period, instance warm-up, slow start and launch-hook timeout. Default: the preset's.",
    )
    max_request_seconds: int | None = Field(
        None,
        ge=1,
        le=4000,
        description="Longest request in seconds, streamed generations included. Drives "
        "ALB idle_timeout, deregistration_delay and the termination hook. Default: the preset's.",
    )
    default: bool = Field(False, description="Receives requests no listener rule matches; exactly one fleet.")
    listener_rule: ListenerRule | None = Field(
        None,
        description="How requests reach this fleet; required for every fleet but the default one and canaries.",
    )
    canary: Canary | None = Field(
        None,
        description="This fleet is a candidate version of another fleet and takes a weight of that fleet's "
        "route ([canary.md](canary.md)); default: none.",
    )
    forward: Forward | None = Field(
        None,
        description="This fleet's weight and the stickiness of its route when canary fleets share it; default: none.",
    )
    target_group: TargetGroupConfig = Field(TargetGroupConfig(), description="The fleet's ALB target group.")
    launch_template: LaunchTemplateConfig = Field(..., description="What the fleet's instances run.")
    autoscaling_group: AutoscalingGroupConfig = Field(
        AutoscalingGroupConfig(), description="The fleet's Auto Scaling group."
    )
    spot_autoscaling_group: SpotAutoscalingGroupConfig | None = Field(
        None, description="A spot-only group beside the main one, in the same target group; default: none."
    )
    lifecycle_hooks: LifecycleHooks = Field(LifecycleHooks(), description="Launch and termination lifecycle hooks.")
    scaling: ScalingConfig = Field(ScalingConfig(), description="Target tracking and scheduled actions.")
    alarms: FleetAlarmsConfig = Field(FleetAlarmsConfig(), description="CloudWatch alarms of the fleet.")

    def own_problems(self) -> list[FieldProblem]:
        """Spot capacity either from the main group's mixed instances policy or from a
        spot group, not both; a health check the preset's server answers; gRPC only for
        servers that speak it; queue-depth scaling only for servers with a queue metric,
        and not beside a custom metric that tracks the same metric; a canary has no route
        of its own."""
        out: list[FieldProblem] = []
        if self.canary is not None:
            if self.listener_rule is not None:
                out.append(("listener_rule", f"a canary shares the route of fleet {self.canary.of!r}: remove it"))
            if self.default:
                out.append(("default", f"a canary shares the route of fleet {self.canary.of!r}: remove it"))
            if self.forward is not None:
                out.append(("forward", "a canary's route is its fleet's: set forward on that fleet"))
        if self.spot_autoscaling_group is not None and self.autoscaling_group.mixed_instances_policy is not None:
            out.append(
                (
                    "spot_autoscaling_group",
                    "use either autoscaling_group.mixed_instances_policy or a spot group, not both",
                )
            )
        preset = PRESETS[self.preset]
        tg = self.target_group
        path = tg.health_check.path
        # aws-rule: grpc-server-preset
        if tg.grpc and self.preset != "custom" and "grpc_port" not in preset:
            out.append(
                (
                    "target_group.protocol_version",
                    f"the {self.preset} preset's server does not speak gRPC: use HTTP1 (or HTTP2), or preset "
                    "custom for a gRPC server of your own",
                )
            )
        # aws-rule: health-check-path-served
        elif path is not None and not tg.grpc and "paths" in preset and path not in preset["paths"]:
            out.append(
                (
                    "target_group.health_check.path",
                    f"{path} is not served by the {self.preset} server, so every target would fail its health "
                    f"check and be replaced in a loop; use one of {', '.join(preset['paths'])}, or preset custom "
                    "for another server",
                )
            )
        out.extend(self._queue_depth_problems())
        return out

    def _queue_depth_problems(self) -> list[FieldProblem]:
        """``scaling.queue_depth`` needs a preset whose server publishes a queue metric
        (presets.py ``queue_metric``), and a ``custom_metric`` beside it must track
        another metric: Auto Scaling allows several target tracking policies on a group
        only on different metrics (EC2 Auto Scaling user guide, "Target tracking scaling
        policies": https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html)."""
        s = self.scaling
        if s.queue_depth is None:
            return []
        # aws-rule: queue-depth-preset-metric
        if "queue_metric" not in PRESETS[self.preset]:
            having = ", ".join(f"{name} ({p['queue_metric']})" for name, p in PRESETS.items() if "queue_metric" in p)
            return [
                (
                    "scaling.queue_depth",
                    f"the {self.preset} preset's server has no queue metric to scale on; presets with one: "
                    f"{having}; for another server, publish its metric and use scaling.custom_metric",
                )
            ]
        namespace, metric = self.queue_metric or ("", "")
        m = s.custom_metric
        # aws-rule: target-tracking-distinct-metrics
        if m is not None and (m.namespace, m.metric_name) == (namespace, metric) and not m.dimensions:
            return [
                (
                    "scaling.custom_metric",
                    f"tracks {namespace} {metric}, the metric queue_depth tracks; Auto Scaling allows several "
                    "target tracking policies on a group only on different metrics: remove one of the two",
                )
            ]
        return []

    # Values resolved from the preset and the timing inputs ----------------------------
    # Each property returns the explicit value when one is set, else the derived default.
    @property
    def port(self) -> int:
        """Application port: explicit, else the preset's (its gRPC port for gRPC)."""
        preset = PRESETS[self.preset]
        if self.target_group.port:
            return self.target_group.port
        port: int = preset.get("grpc_port", preset["port"]) if self.target_group.grpc else preset["port"]
        return port

    @property
    def health_check_path(self) -> str:
        """Health-check path: explicit, else the preset's (for gRPC its health method, or
        the ALB default path)."""
        if self.target_group.health_check.path:
            return self.target_group.health_check.path
        preset = PRESETS[self.preset]
        path: str = preset.get("grpc_path", ALB_GRPC_DEFAULT_PATH) if self.target_group.grpc else preset["path"]
        return path

    @property
    def health_check_matcher(self) -> str:
        """Matcher: explicit, else 200 for HTTP; for gRPC 0 (OK) when the path is a real
        health method, 12 (UNIMPLEMENTED) for the ALB default path."""
        explicit = self.target_group.health_check.matcher
        if explicit:
            return explicit
        if self.target_group.grpc:
            return "12" if self.health_check_path == ALB_GRPC_DEFAULT_PATH else "0"
        return "200"

    @property
    def queue_metric(self) -> tuple[str, str] | None:
        """CloudWatch namespace and metric name of the server's queue of waiting requests
        when ``scaling.queue_depth`` is on and the preset has one, else None. The
        CloudWatch agent publishes the Prometheus metric under its own name."""
        metric = PRESETS[self.preset].get("queue_metric")
        if self.scaling.queue_depth is None or metric is None:
            return None
        return QUEUE_METRIC_NAMESPACE, metric

    @property
    def effective_model_load_seconds(self) -> int:
        """Model load time, seconds: explicit or the preset's."""
        seconds: int = self.model_load_seconds or PRESETS[self.preset]["model_load_seconds"]
        return seconds

    @property
    def effective_max_request_seconds(self) -> int:
        """Longest request, seconds: explicit or the preset's."""
        seconds: int = self.max_request_seconds or PRESETS[self.preset]["max_request_seconds"]
        return seconds

    @property
    def _ready_seconds(self) -> int:
        hc = self.target_group.health_check
        return hc.healthy_threshold * hc.interval

    @property
    def effective_deregistration_delay(self) -> int:
        """Deregistration delay, seconds: explicit or max_request_seconds (cap 3600)."""
        explicit = self.target_group.deregistration_delay
        return explicit if explicit is not None else min(3600, self.effective_max_request_seconds)

    @property
    def effective_slow_start(self) -> int:
        """Slow start, seconds: explicit, else with round_robin a fifth of the model load
        time within 30-900, else 0 (AWS allows slow start only with round_robin)."""
        explicit = self.target_group.slow_start
        if explicit is not None:
            return explicit
        if self.target_group.load_balancing_algorithm_type != "round_robin":
            return 0
        return min(900, max(30, self.effective_model_load_seconds // 5))

    @property
    def effective_health_check_grace_period(self) -> int:
        """Grace period, seconds: explicit, else covers model load (or only the health
        checks when a launch hook already waited for the model); cap 7200."""
        explicit = self.autoscaling_group.health_check_grace_period
        if explicit is not None:
            return explicit
        if self.lifecycle_hooks.launch is not None:
            return self._ready_seconds + 60
        return min(7200, self.effective_model_load_seconds + self._ready_seconds)

    @property
    def effective_default_instance_warmup(self) -> int:
        """Instance warm-up, seconds: explicit, else model load (without launch hook)
        plus the slow-start ramp, at least 60; cap 3600."""
        explicit = self.autoscaling_group.default_instance_warmup
        if explicit is not None:
            return explicit
        load = 0 if self.lifecycle_hooks.launch is not None else self.effective_model_load_seconds
        return min(3600, max(60, load + self.effective_slow_start))

    @property
    def effective_launch_heartbeat(self) -> int | None:
        """Launch hook timeout, seconds (None without a launch hook)."""
        hook = self.lifecycle_hooks.launch
        if hook is None:
            return None
        if hook.heartbeat_timeout is not None:
            return hook.heartbeat_timeout
        return min(7200, max(30, self.effective_model_load_seconds + self._ready_seconds))

    @property
    def effective_termination_heartbeat(self) -> int | None:
        """Termination hook timeout, seconds (None without a termination hook)."""
        hook = self.lifecycle_hooks.termination
        if hook is None:
            return None
        if hook.heartbeat_timeout is not None:
            return hook.heartbeat_timeout
        return min(7200, max(30, self.effective_max_request_seconds))

    @property
    def wait_for_capacity_seconds(self) -> int:
        """How long an apply waits for a group's instances to be ``InService``
        (``aws_autoscaling_group.wait_for_capacity_timeout``), seconds: the launch hook's
        heartbeat (an instance stays ``Pending:Wait`` until the model serves) plus
        :data:`LAUNCH_ALLOWANCE_SECONDS` for launch, boot and retries after capacity
        errors. The provider's default, 10 minutes, is shorter than many hooks."""
        return LAUNCH_ALLOWANCE_SECONDS + (self.effective_launch_heartbeat or 0)

    @property
    def effective_p99_target_response_time(self) -> float:
        """Threshold of the p99 response time alarm, seconds: explicit or max_request_seconds."""
        return self.alarms.p99_target_response_time or float(self.effective_max_request_seconds)

    def instance_type_fields(self, prefix: str) -> dict[str, str]:
        """Every instance type the fleet's groups may launch, each with the config field
        (under ``prefix``, the fleet's path) that lists it first: the launch template's
        type, or the mixed instances policy's types, then the spot group's. Types
        selected by attributes (``instance_requirements``) are not known before launch
        and are not listed."""
        mip = self.autoscaling_group.mixed_instances_policy
        if mip is None:
            fields = {self.launch_template.instance_type: f"{prefix}.launch_template.instance_type"}
        else:
            where = f"{prefix}.autoscaling_group.mixed_instances_policy.instance_types"
            fields = dict.fromkeys(mip.explicit_types, where)
        spot = self.spot_autoscaling_group
        for t in spot.explicit_types if spot is not None else []:
            fields.setdefault(t, f"{prefix}.spot_autoscaling_group.instance_types")
        return fields

    @property
    def uses_spot(self) -> bool:
        """True when any group of the fleet may launch spot instances."""
        mip = self.autoscaling_group.mixed_instances_policy
        return self.spot_autoscaling_group is not None or (
            mip is not None and mip.on_demand_percentage_above_base_capacity < 100
        )

    def advisories(self) -> list[FieldProblem]:
        """Risky but valid choices of this fleet, as :data:`FieldProblem` warnings: explicit
        timings shorter than the model load or request time they must cover, spot
        capacity with fewer than two instance types (spot pools run dry one type at a
        time; the EC2 spot best practices ask for diversification), and hibernated warm
        pools."""
        out: list[FieldProblem] = []
        load = self.effective_model_load_seconds
        hooked = self.lifecycle_hooks.launch is not None
        asg = self.autoscaling_group
        if not hooked and asg.health_check_grace_period is not None and asg.health_check_grace_period < load:
            out.append(
                (
                    "autoscaling_group.health_check_grace_period",
                    f"{asg.health_check_grace_period} s is shorter than model_load_seconds ({load} s): "
                    "instances may be replaced before the model is loaded",
                )
            )
        if not hooked and asg.default_instance_warmup is not None and asg.default_instance_warmup < load:
            out.append(
                (
                    "autoscaling_group.default_instance_warmup",
                    f"{asg.default_instance_warmup} s is shorter than model_load_seconds ({load} s): "
                    "scaling may count instances that do not serve yet",
                )
            )
        hook = self.lifecycle_hooks.launch
        if hook is not None and hook.heartbeat_timeout is not None and hook.heartbeat_timeout < load:
            out.append(
                (
                    "lifecycle_hooks.launch.heartbeat_timeout",
                    f"{hook.heartbeat_timeout} s is shorter than model_load_seconds ({load} s)",
                )
            )
        dd = self.target_group.deregistration_delay
        req = self.effective_max_request_seconds
        if dd is not None and dd < req:
            out.append(
                (
                    "target_group.deregistration_delay",
                    f"{dd} s is shorter than max_request_seconds ({req} s): draining may cut requests",
                )
            )
        mip = asg.mixed_instances_policy
        if mip is not None and self.uses_spot and not mip.attribute_based and len(mip.instance_types) < 2:
            out.append(
                (
                    "autoscaling_group.mixed_instances_policy.instance_types",
                    "spot with a single instance type: list two or more so one type's "
                    "interruptions or shortage do not take the spot capacity down",
                )
            )
        spot = self.spot_autoscaling_group
        if spot is not None and not spot.attribute_based and len(spot.instance_types) < 2:
            out.append(("spot_autoscaling_group.instance_types", "spot with a single instance type: list two or more"))
        preset = PRESETS[self.preset]
        # aws-rule: container-imds-hop-limit
        if preset.get("container") and self.launch_template.http_put_response_hop_limit < 2:
            out.append(
                (
                    "launch_template.http_put_response_hop_limit",
                    f"the {self.preset} server normally runs in a container, and with a hop limit of 1 IMDSv2 "
                    "answers do not reach containers (no role credentials, no region): set it to 2",
                )
            )
        # aws-rule: target-protocol-https-needs-tls-server
        if self.target_group.protocol == "HTTPS" and self.preset != "custom":
            out.append(
                (
                    "target_group.protocol",
                    f"the {self.preset} server serves plain HTTP unless it is started with a TLS certificate; "
                    "without one every HTTPS health check fails",
                )
            )
        wp = asg.warm_pool
        if wp is not None and wp.pool_state == "Hibernated":
            out.append(
                (
                    "autoscaling_group.warm_pool.pool_state",
                    "Hibernated needs instance types that support hibernation (most GPU types "
                    "do not) and a root volume larger than the instance memory",
                )
            )
        return out
