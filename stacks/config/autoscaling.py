"""``fleets.<name>.autoscaling_group``, ``spot_autoscaling_group`` and
``lifecycle_hooks``: the fleet's Auto Scaling group(s) and what they launch."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Field

from .base import FieldProblem, StrictModel
from .types import InstanceType, Percent


class InstanceOverride(StrictModel):
    """One instance type of a mixed instances policy, with an optional weight."""

    instance_type: InstanceType
    weighted_capacity: int | None = Field(
        None, ge=1, le=999, description="Capacity units one instance of this type counts for (1-999)."
    )


#: ``spot_allocation_strategy`` values AWS accepts (``instances_distribution``).
SpotAllocationStrategy = Literal[
    "price-capacity-optimized",
    "capacity-optimized",
    "capacity-optimized-prioritized",
    "lowest-price",
]


class InstanceTypeChoice(StrictModel):
    """The instance types a group with a mixed instances policy launches (the
    policy's ``launch_template.override`` blocks)."""

    instance_types: list[InstanceType | InstanceOverride] = Field(
        ...,
        min_length=1,
        max_length=40,
        description="Instance types to diversify over, for example [g5.xlarge, g6.xlarge]; "
        "an entry may be {instance_type, weighted_capacity}.",
    )

    def overrides(self) -> list[InstanceOverride]:
        """The instance types as overrides, in the order given."""
        return [
            t if isinstance(t, InstanceOverride) else InstanceOverride(instance_type=t) for t in self.instance_types
        ]

    def own_problems(self) -> list[FieldProblem]:
        """Each instance type once; weights for every type or for none (Auto Scaling
        rejects overrides that weigh only some types: "Weighted capacity ... must be
        specified for all instance types or none")."""
        overrides = self.overrides()
        types = [o.instance_type for o in overrides]
        out: list[FieldProblem] = []
        if len(set(types)) != len(types):
            out.append(("instance_types", "lists a type twice"))
        weights = [o.weighted_capacity is None for o in overrides]
        if any(weights) and not all(weights):  # aws-rule: weights-all-or-none
            out.append(("instance_types", "give weighted_capacity for every instance type or for none"))
        return out


class MixedInstancesPolicy(InstanceTypeChoice):
    """Spot/on-demand mix (``aws_autoscaling_group.mixed_instances_policy``)."""

    on_demand_base_capacity: int = Field(1, ge=0, description="On-demand instances kept first.")
    on_demand_percentage_above_base_capacity: Percent = Field(
        0, description="Percent of capacity above the base that is on-demand (rest spot)."
    )
    spot_allocation_strategy: SpotAllocationStrategy = Field(
        "price-capacity-optimized", description="How spot instances are chosen among the types and AZs."
    )
    on_demand_allocation_strategy: Literal["prioritized", "lowest-price"] = Field(
        "prioritized", description="prioritized: on-demand instances follow the order of instance_types."
    )


class InstanceRefresh(StrictModel):
    """Rolling replacement when the launch template changes
    (``aws_autoscaling_group.instance_refresh``, StartInstanceRefresh)."""

    min_healthy_percentage: Percent = Field(90, description="Capacity kept in service during the refresh, percent.")
    max_healthy_percentage: int = Field(
        100, ge=100, le=200, description="Capacity allowed above desired during the refresh."
    )
    instance_warmup: int | None = Field(
        None, ge=0, le=3600, description="Seconds; default: the group's default_instance_warmup."
    )
    checkpoint_percentages: list[Annotated[int, Field(ge=1, le=100)]] = Field(
        default_factory=list, description="Pause points, ascending percentages."
    )
    checkpoint_delay: int | None = Field(None, ge=0, le=172800, description="Seconds per pause.")
    auto_rollback: bool = Field(True, description="Roll back when the refresh fails.")
    skip_matching: bool = Field(True, description="Skip instances already on the new template.")

    def own_problems(self) -> list[FieldProblem]:
        """At most 100 points between the healthy percentages; ascending checkpoints;
        a checkpoint delay only with checkpoints."""
        out: list[FieldProblem] = []
        if self.max_healthy_percentage - self.min_healthy_percentage > 100:
            out.append(("max_healthy_percentage", "may exceed min_healthy_percentage by at most 100"))
        cps = self.checkpoint_percentages
        if any(b <= a for a, b in pairwise(cps)):
            out.append(("checkpoint_percentages", "must be strictly ascending"))
        if self.checkpoint_delay is not None and not cps:
            out.append(("checkpoint_delay", "needs checkpoint_percentages"))
        return out


class WarmPool(StrictModel):
    """Warm pool of the fleet's Auto Scaling group (``aws_autoscaling_group.warm_pool``)."""

    pool_state: Literal["Stopped", "Hibernated", "Running"] = Field(
        "Stopped", description="State of instances in the pool; Stopped costs only EBS."
    )
    min_size: int = Field(0, ge=0, le=10000, description="Instances kept in the pool.")
    max_group_prepared_capacity: int | None = Field(
        None,
        ge=0,
        le=10000,
        description="Cap on instances in the group plus the pool; default: the group's max_size.",
    )
    reuse_on_scale_in: bool = Field(
        True, description="Return instances to the pool on scale-in instead of terminating."
    )


def _size_problems(min_size: int, max_size: int, desired: int | None) -> list[FieldProblem]:
    """``min_size <= desired_capacity <= max_size`` (desired checked only when the
    bounds are in order)."""
    if min_size > max_size:
        return [("min_size", f"must not exceed max_size ({min_size} > {max_size})")]
    if desired is not None and not min_size <= desired <= max_size:
        return [
            (
                "desired_capacity",
                f"must be within [min_size, max_size] = [{min_size}, {max_size}], got {desired}",
            )
        ]
    return []


class SpotAutoscalingGroupConfig(InstanceTypeChoice):
    """A second, spot-only Auto Scaling group of the same fleet, registered in the same
    target group with the same launch template. Lets the main group stay on-demand with
    a warm pool (AWS forbids warm pools on groups with spot) while spot capacity scales
    beside it."""

    min_size: int = Field(0, ge=0, le=10000, description="Smallest number of spot instances.")
    max_size: int = Field(..., ge=1, le=10000, description="Largest number of spot instances.")
    desired_capacity: int | None = Field(None, ge=0, le=10000, description="Default: min_size.")
    spot_allocation_strategy: SpotAllocationStrategy = Field(
        "price-capacity-optimized", description="How spot instances are chosen among the types and AZs."
    )
    capacity_rebalance: bool = Field(True, description="Replace spot instances at elevated interruption risk.")

    @property
    def effective_desired_capacity(self) -> int:
        """Desired capacity, defaulting to ``min_size``."""
        return self.min_size if self.desired_capacity is None else self.desired_capacity

    def own_problems(self) -> list[FieldProblem]:
        """Sizes in order; each type once."""
        return _size_problems(self.min_size, self.max_size, self.desired_capacity) + super().own_problems()


class AutoscalingGroupConfig(StrictModel):
    """Auto Scaling group per fleet (``aws_autoscaling_group``)."""

    min_size: int = Field(2, ge=0, le=10000, description="Smallest number of instances.")
    max_size: int = Field(4, ge=1, le=10000, description="Largest number of instances.")
    desired_capacity: int | None = Field(
        None,
        ge=0,
        le=10000,
        description="Default: min_size. Ignored by later applies when a scaling policy manages it.",
    )
    health_check_type: Literal["ELB", "EC2"] = Field(
        "ELB", description="ELB: instances failing the target group's health check are replaced."
    )
    health_check_grace_period: int | None = Field(
        None,
        ge=0,
        le=7200,
        description="Seconds after InService before failed health checks count (0-7200). "
        "Default: model_load_seconds + healthy_threshold x interval; with a launch "
        "lifecycle hook (which holds the instance until the model is ready) only "
        "healthy_threshold x interval + 60.",
    )
    default_instance_warmup: int | None = Field(
        None,
        ge=0,
        le=3600,
        description="Seconds before a new instance's metrics count (0-3600). Default: "
        "model_load_seconds (without launch hook) + the slow-start ramp, at least 60.",
    )
    capacity_rebalance: bool | None = Field(
        None,
        description="Replace spot instances at elevated interruption risk; "
        "default: on when a mixed_instances_policy is set.",
    )
    max_instance_lifetime: int | None = Field(None, description="Seconds; 0 or 86400-31536000 (1-365 days).")
    mixed_instances_policy: MixedInstancesPolicy | None = Field(
        None, description="Spot/on-demand mix over several instance types; default: on-demand only."
    )
    warm_pool: WarmPool | None = Field(
        None,
        description="Pre-initialized stopped/hibernated instances so scale-out skips the model "
        "download. AWS does not allow it with a mixed_instances_policy: use "
        "spot_autoscaling_group for spot capacity next to a warm on-demand group.",
    )
    instance_refresh: InstanceRefresh | None = Field(
        InstanceRefresh(), description="Rolling refresh on template change; null turns it off."
    )
    enabled_metrics: bool = Field(True, description="Publish group metrics at 1-minute granularity.")

    @property
    def effective_desired_capacity(self) -> int:
        """Desired capacity, defaulting to ``min_size``."""
        return self.min_size if self.desired_capacity is None else self.desired_capacity

    def own_problems(self) -> list[FieldProblem]:
        """Sizes in order; a valid instance lifetime; a warm pool only without a mixed
        instances policy (PutWarmPool rejects it) and sized within the group; an
        on-demand base within ``max_size``."""
        out = _size_problems(self.min_size, self.max_size, self.desired_capacity)
        if self.max_instance_lifetime not in (None, 0) and not 86400 <= self.max_instance_lifetime <= 31536000:
            out.append(("max_instance_lifetime", "must be 0 or 86400-31536000 seconds"))
        wp, mip = self.warm_pool, self.mixed_instances_policy
        if wp is not None:
            if mip is not None:  # aws-rule: warm-pool-no-mixed-instances
                out.append(
                    (
                        "warm_pool",
                        "AWS does not allow a warm pool on a group with a mixed_instances_policy "
                        "(PutWarmPool rejects it): keep this group on-demand and add spot capacity "
                        "with the fleet's spot_autoscaling_group",
                    )
                )
            if wp.min_size > self.max_size:
                out.append(("warm_pool.min_size", f"must not exceed max_size ({wp.min_size} > {self.max_size})"))
            if wp.max_group_prepared_capacity is not None and wp.max_group_prepared_capacity < self.min_size:
                out.append(
                    (
                        "warm_pool.max_group_prepared_capacity",
                        f"must be at least min_size ({wp.max_group_prepared_capacity} < {self.min_size})",
                    )
                )
        if mip is not None and mip.on_demand_base_capacity > self.max_size:
            out.append(
                (
                    "mixed_instances_policy.on_demand_base_capacity",
                    f"must not exceed max_size ({mip.on_demand_base_capacity} > {self.max_size})",
                )
            )
        return out


class LaunchHook(StrictModel):
    """Launch lifecycle hook ``model-ready``: holds a new instance in Pending:Wait until it
    reports the model loaded (``aws autoscaling complete-lifecycle-action``)."""

    heartbeat_timeout: int | None = Field(
        None,
        ge=30,
        le=7200,
        description="Seconds to wait (30-7200). Default: model_load_seconds + healthy_threshold x interval.",
    )
    default_result: Literal["ABANDON", "CONTINUE"] = Field(
        "ABANDON", description="On timeout: ABANDON terminates and replaces the instance."
    )


class TerminationHook(StrictModel):
    """Termination lifecycle hook ``drain``: keeps a terminating instance up while its
    in-flight requests finish."""

    heartbeat_timeout: int | None = Field(
        None, ge=30, le=7200, description="Seconds (30-7200). Default: max_request_seconds."
    )
    default_result: Literal["ABANDON", "CONTINUE"] = Field(
        "CONTINUE", description="What happens when the timeout ends (both terminate the instance)."
    )


class LifecycleHooks(StrictModel):
    """Lifecycle hooks created with the group (``initial_lifecycle_hook``), so even the
    first instances pass through them. Both are off unless configured."""

    launch: LaunchHook | None = Field(
        None, description="Hold new instances until user data reports the model ready; default: none."
    )
    termination: TerminationHook | None = Field(
        None, description="Keep terminating instances up while requests finish; default: none."
    )
