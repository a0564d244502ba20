"""``fleets.<name>.autoscaling_group``, ``spot_autoscaling_group`` and
``lifecycle_hooks``: the fleet's Auto Scaling group(s) and what they launch."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Discriminator, Field, StringConstraints, Tag

from .base import FieldProblem, StrictModel
from .types import InstanceType, Percent

#: ``accelerator_names`` Auto Scaling accepts (API reference, InstanceRequirements:
#: AcceleratorNames). EC2 Fleet knows more names (a10g, h100, l4...); Auto Scaling's list
#: is shorter, so for current GPUs select by manufacturer, count and memory instead.
AcceleratorName = Literal["a100", "v100", "k80", "t4", "m60", "radeon-pro-v520", "vu9p"]


class Range(StrictModel):
    """A ``{min, max}`` block of instance requirements; either bound may be left out
    (no limit)."""

    min: int | None = Field(None, ge=0, description="Lowest value; default: no minimum.")
    max: int | None = Field(None, ge=0, description="Highest value; default: no maximum.")

    def own_problems(self) -> list[FieldProblem]:
        """``min <= max`` (InstanceRequirements: each request's Min and Max)."""
        # aws-rule: instance-requirements-min-max
        if self.min is not None and self.max is not None and self.min > self.max:
            return [("min", f"must not exceed max ({self.min} > {self.max})")]
        return []


class RequiredRange(Range):
    """A ``{min, max}`` block whose ``min`` AWS requires (``vcpu_count``, ``memory_mib``)."""

    min: int = Field(..., ge=0, description="Lowest value (required).")


class InstanceRequirements(StrictModel):
    """Attribute-based instance type selection: the group launches every current type
    matching all given attributes (a list matches any of its values), and new types as
    AWS adds them (``override.instance_requirements``; EC2 Auto Scaling user guide,
    "Create mixed instances group using attribute-based instance type selection", and
    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRequirements.html:
    ``vcpu_count`` and ``memory_mib`` are required, every other attribute optional)."""

    vcpu_count: RequiredRange = Field(..., description="vCPUs per instance, {min, max}; min required.")
    memory_mib: RequiredRange = Field(..., description="Instance memory, MiB, {min, max}; min required.")
    accelerator_count: Range | None = Field(
        None, description="Accelerators (GPUs, Inferentia/Trainium chips) per instance, {min, max}."
    )
    accelerator_manufacturers: list[Literal["nvidia", "amd", "amazon-web-services", "xilinx"]] = Field(
        default_factory=list, max_length=4, description="Accelerator makers to allow; default: any."
    )
    accelerator_names: list[AcceleratorName] = Field(
        default_factory=list,
        max_length=7,
        description="Accelerator models to allow (Auto Scaling knows a100, v100, k80, t4, m60, "
        "radeon-pro-v520, vu9p only); default: any.",
    )
    accelerator_total_memory_mib: Range | None = Field(
        None, description="Accelerator memory of the whole instance, MiB, {min, max}: the model must fit."
    )
    accelerator_types: list[Literal["gpu", "fpga", "inference"]] = Field(
        default_factory=list, max_length=3, description="Accelerator kinds to allow; default: any."
    )
    allowed_instance_types: list[Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9.*\-]{1,30}$")]] = Field(
        default_factory=list,
        max_length=400,
        description="Only these types (wildcards allowed: g6e.*, g5.*); not with excluded_instance_types.",
    )
    excluded_instance_types: list[Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9.*\-]{1,30}$")]] = Field(
        default_factory=list, max_length=400, description="Never these types (wildcards allowed)."
    )
    instance_generations: list[Literal["current", "previous"]] = Field(
        default_factory=list, max_length=2, description="Instance generations to allow; default: both."
    )
    burstable_performance: Literal["included", "excluded", "required"] | None = Field(
        None, description="Burstable (T) types; AWS default: excluded."
    )

    def own_problems(self) -> list[FieldProblem]:
        """``allowed_instance_types`` or ``excluded_instance_types``, not both
        (InstanceRequirements: "one of the following parameters, but not both")."""
        # aws-rule: instance-requirements-allowed-or-excluded
        if self.allowed_instance_types and self.excluded_instance_types:
            return [("allowed_instance_types", "give allowed_instance_types or excluded_instance_types, not both")]
        return []


class InstanceOverride(StrictModel):
    """One entry of a mixed instances policy's overrides: an instance type, or the
    attributes of the types to launch (``instance_requirements``), with an optional
    weight."""

    instance_type: InstanceType | None = Field(None, description="An instance type, e.g. g6e.xlarge.")
    instance_requirements: InstanceRequirements | None = Field(
        None, description="Attributes of the types to launch, instead of instance_type."
    )
    weighted_capacity: int | None = Field(
        None, ge=1, le=999, description="Capacity units one instance of this type counts for (1-999)."
    )

    def own_problems(self) -> list[FieldProblem]:
        """Exactly one of ``instance_type`` and ``instance_requirements`` (Auto Scaling API
        reference, LaunchTemplateOverrides: "If you specify InstanceRequirements, you
        can't specify InstanceType")."""
        # aws-rule: override-type-or-requirements
        if (self.instance_type is None) == (self.instance_requirements is None):
            return [("", "give exactly one of instance_type and instance_requirements")]
        return []


def _entry_kind(value: object) -> str:
    """Which kind an ``instance_types`` entry is: a mapping is an override, anything else a
    type name. Validating only that kind gives one message per mistake, not one per kind
    (the tags are union labels that messages leave out, stacks/config/messages.py)."""
    return "InstanceOverride" if isinstance(value, (dict, InstanceOverride)) else "str"


#: One entry of ``instance_types``: a type name or an override.
InstanceTypeEntry = Annotated[
    Annotated[InstanceType, Tag("str")] | Annotated[InstanceOverride, Tag("InstanceOverride")],
    Discriminator(_entry_kind),
]


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

    instance_types: list[InstanceTypeEntry] = Field(
        ...,
        min_length=1,
        max_length=40,
        description="Instance types to diversify over, for example [g5.xlarge, g6.xlarge]; "
        "an entry may be {instance_type, weighted_capacity}, or {instance_requirements: {...}} "
        "to select types by attributes (then every entry must be one).",
    )

    def overrides(self) -> list[InstanceOverride]:
        """The instance types as overrides, in the order given."""
        return [
            t if isinstance(t, InstanceOverride) else InstanceOverride(instance_type=t) for t in self.instance_types
        ]

    @property
    def attribute_based(self) -> bool:
        """True when the types are selected by attributes (``instance_requirements``)."""
        return any(o.instance_requirements is not None for o in self.overrides())

    @property
    def explicit_types(self) -> list[str]:
        """The instance types listed by name, in order (none when attribute-based)."""
        return [o.instance_type for o in self.overrides() if o.instance_type is not None]

    def own_problems(self) -> list[FieldProblem]:
        """Each instance type once; weights for every type or for none (Auto Scaling
        rejects overrides that weigh only some types: "Weighted capacity ... must be
        specified for all instance types or none"); attribute-based entries or named
        types, not both (a group either specifies InstanceRequirements or not, and its
        allocation strategies follow: Auto Scaling API reference, InstancesDistribution)."""
        overrides = self.overrides()
        types = self.explicit_types
        named = sum(o.instance_requirements is None for o in overrides)
        sets = sum(o.instance_type is None for o in overrides)
        out: list[FieldProblem] = []
        if len(set(types)) != len(types):
            out.append(("instance_types", "lists a type twice"))
        weights = [o.weighted_capacity is None for o in overrides]
        if any(weights) and not all(weights):  # aws-rule: weights-all-or-none
            out.append(("instance_types", "give weighted_capacity for every instance type or for none"))
        # aws-rule: attribute-based-not-mixed
        if sets and named:
            out.append(
                (
                    "instance_types",
                    "mixes instance_requirements entries with named instance types: select all types by "
                    "attributes (add the named ones with allowed_instance_types) or name them all",
                )
            )
        return out + self._strategy_problems()

    def _strategy_problems(self) -> list[FieldProblem]:
        """Allocation strategies that follow the order of the overrides do not go with
        attribute-based selection (InstancesDistribution: ``prioritized`` "cannot be used
        for groups that" specify InstanceRequirements; ``capacity-optimized-prioritized``
        "is not a valid value for Auto Scaling groups that specify InstanceRequirements")."""
        spot = getattr(self, "spot_allocation_strategy", None)
        # aws-rule: attribute-based-allocation-strategy
        if self.attribute_based and spot == "capacity-optimized-prioritized":
            return [
                (
                    "spot_allocation_strategy",
                    "capacity-optimized-prioritized follows the order of named instance types, which "
                    "attribute-based selection has not: use price-capacity-optimized or capacity-optimized",
                )
            ]
        return []


class MixedInstancesPolicy(InstanceTypeChoice):
    """Spot/on-demand mix (``aws_autoscaling_group.mixed_instances_policy``)."""

    on_demand_base_capacity: int = Field(1, ge=0, description="On-demand instances kept first.")
    on_demand_percentage_above_base_capacity: Percent = Field(
        0, description="Percent of capacity above the base that is on-demand (rest spot)."
    )
    spot_allocation_strategy: SpotAllocationStrategy = Field(
        "price-capacity-optimized", description="How spot instances are chosen among the types and AZs."
    )
    on_demand_allocation_strategy: Literal["prioritized", "lowest-price"] | None = Field(
        None,
        description="prioritized: on-demand instances follow the order of instance_types; "
        "lowest-price: the cheapest type first. Default: prioritized, or lowest-price with "
        "attribute-based selection (the only one AWS allows there).",
    )

    @property
    def effective_on_demand_allocation_strategy(self) -> str:
        """The on-demand allocation strategy: explicit, else ``lowest-price`` for
        attribute-based selection and ``prioritized`` otherwise (AWS's defaults)."""
        if self.on_demand_allocation_strategy is not None:
            return self.on_demand_allocation_strategy
        return "lowest-price" if self.attribute_based else "prioritized"

    def _strategy_problems(self) -> list[FieldProblem]:
        """Also ``prioritized`` on-demand allocation not with attribute-based selection."""
        out = super()._strategy_problems()
        # aws-rule: attribute-based-allocation-strategy
        if self.attribute_based and self.on_demand_allocation_strategy == "prioritized":
            out.append(
                (
                    "on_demand_allocation_strategy",
                    "prioritized follows the order of named instance types, which attribute-based "
                    "selection has not (AWS refuses it): use lowest-price, or leave it unset",
                )
            )
        return out


#: The fleet alarms (``fleets.<name>.alarms``, stacks/alarms.py) an instance refresh can
#: roll back on, by their key in the alarm names.
RollbackAlarm = Literal["target-5xx", "unhealthy-hosts", "p99-response-time"]


class AlarmSpecification(StrictModel):
    """Alarms that fail an instance refresh, and with ``auto_rollback`` roll it back,
    when one goes to ALARM (``instance_refresh.preferences.alarm_specification``; EC2
    Auto Scaling user guide, "Undo changes with a manual or auto rollback")."""

    alarms: list[RollbackAlarm] = Field(
        default_factory=lambda: list[RollbackAlarm](["target-5xx", "unhealthy-hosts"]),
        max_length=3,
        description="The fleet's own alarms by key (target-5xx, unhealthy-hosts, p99-response-time); "
        "default: the 5XX and unhealthy hosts alarms, which a model that serves errors or fails "
        "its health check trips. An empty list turns alarm rollback off.",
    )


class InstanceMaintenancePolicy(StrictModel):
    """Capacity kept while Auto Scaling replaces instances outside an instance refresh:
    failed health checks, max_instance_lifetime, AZ rebalancing
    (``aws_autoscaling_group.instance_maintenance_policy``; EC2 Auto Scaling user guide,
    "Instance maintenance policies"). With ``min_healthy_percentage`` 100 a replacement
    launches and waits for the new instance to be ready before it terminates the old one."""

    min_healthy_percentage: Percent = Field(
        100, description="Percent of desired capacity kept in service while replacing (0-100)."
    )
    max_healthy_percentage: int = Field(
        110, ge=100, le=200, description="Percent of desired capacity allowed while replacing (100-200)."
    )

    def own_problems(self) -> list[FieldProblem]:
        """At most 100 points apart (InstanceMaintenancePolicy API reference), and room to
        replace: with both at 100 capacity may neither drop below nor rise above desired,
        so no instance could be replaced."""
        # aws-rule: maintenance-policy-range
        spread = self.max_healthy_percentage - self.min_healthy_percentage
        if spread > 100:
            return [("max_healthy_percentage", "may exceed min_healthy_percentage by at most 100")]
        if spread == 0 and self.min_healthy_percentage == 100:
            return [
                (
                    "max_healthy_percentage",
                    "must be above 100 when min_healthy_percentage is 100, or no instance could be replaced",
                )
            ]
        return []


class AvailabilityZoneDistribution(StrictModel):
    """How a group spreads over its AZs when one cannot give capacity
    (``aws_autoscaling_group.availability_zone_distribution``; EC2 Auto Scaling user
    guide, "Availability Zone distribution")."""

    capacity_distribution_strategy: Literal["balanced-best-effort", "balanced-only"] = Field(
        "balanced-best-effort",
        description="balanced-best-effort: when launches fail in one AZ (no GPU capacity, an "
        "impaired AZ), launch in the others; balanced-only: keep trying that AZ. AWS's default "
        "is balanced-best-effort too (API reference, AvailabilityZoneDistribution): written "
        "explicitly so plans and the report show it.",
    )


class InstanceRefresh(StrictModel):
    """Rolling replacement when the launch template changes
    (``aws_autoscaling_group.instance_refresh``, StartInstanceRefresh)."""

    min_healthy_percentage: Percent = Field(
        100, description="Capacity kept in service during the refresh, percent of desired (AWS default 90)."
    )
    max_healthy_percentage: int = Field(
        110,
        ge=100,
        le=200,
        description="Capacity allowed during the refresh, percent of desired (AWS default 100). With "
        "the defaults a new instance serves before an old one is terminated (launch before terminate).",
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
    alarm_specification: AlarmSpecification = Field(
        AlarmSpecification(),
        description="Fleet alarms that fail (and with auto_rollback roll back) a refresh; used when "
        "alarms.enabled is on.",
    )

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
    availability_zone_distribution: AvailabilityZoneDistribution = Field(
        AvailabilityZoneDistribution(), description="What the group does when an AZ has no spot capacity."
    )

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
    instance_maintenance_policy: InstanceMaintenancePolicy | None = Field(
        InstanceMaintenancePolicy(),
        description="Launch before terminate when replacing unhealthy or expired instances "
        "(min 100 %, max 110 %); null: AWS's default, terminate then launch.",
    )
    availability_zone_distribution: AvailabilityZoneDistribution = Field(
        AvailabilityZoneDistribution(), description="What the group does when an AZ has no capacity."
    )

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
