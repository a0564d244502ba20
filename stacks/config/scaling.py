"""``fleets.<name>.scaling``: target tracking policies and scheduled actions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from ..secrets import shown
from .base import FieldProblem, StrictModel


class CustomMetric(StrictModel):
    """Target tracking on a CloudWatch metric published per Auto Scaling group
    (``customized_metric_specification``). The default is the GPU utilization that the
    CloudWatch agent's ``nvidia_gpu`` plugin publishes (see user_data/vllm-gpu.sh), with
    the ``AutoScalingGroupName`` dimension added for each group."""

    namespace: str = Field("CWAgent", min_length=1, max_length=255, description="CloudWatch namespace of the metric.")
    metric_name: str = Field(
        "nvidia_smi_utilization_gpu", min_length=1, max_length=255, description="CloudWatch metric name."
    )
    statistic: Literal["Average", "Minimum", "Maximum", "Sum", "SampleCount"] = Field(
        "Average", description="Statistic tracked across the group."
    )
    unit: str | None = Field(None, description="CloudWatch unit, e.g. Percent.")
    target_value: float = Field(..., gt=0, description="Target value of the metric.")
    dimensions: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=255)],
        Annotated[str, StringConstraints(min_length=1, max_length=1024)],
    ] = Field(
        default_factory=dict,
        max_length=29,
        description="Extra dimensions besides AutoScalingGroupName (CloudWatch allows 30 in all).",
    )


class QueueDepth(StrictModel):
    """Target tracking on the per-instance average of the preset server's queue of waiting
    requests (``customized_metric_specification``, statistic ``Average``, dimension
    ``AutoScalingGroupName``): vLLM ``vllm:num_requests_waiting``, TGI ``tgi_queue_size``,
    published by the CloudWatch agent from the server's Prometheus endpoint (the shipped
    user_data/vllm-gpu.sh configures it; docs/serving-defaults.md#queue-depth-scaling)."""

    target_value: float = Field(
        ...,
        gt=0,
        description="Target average number of requests waiting per instance (a queue above it scales out).",
    )


#: Ranges of the five fields of a Unix cron expression, and the names allowed in them.
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)


def _recurrence(value: str) -> str:
    """A Unix cron expression as Auto Scaling takes it: five fields of numbers in range
    (or names for months and weekdays), ``*``, lists, ranges and steps."""
    # The field's pattern ensures five fields; zip stops at the shorter of the two anyway.
    for text, (what, low, high, names) in zip(value.split(" "), _CRON_FIELDS, strict=False):
        for item in text.split(","):
            base, _, step = item.partition("/")
            if step and not (step.isdigit() and int(step) >= 1):
                raise ValueError(f"{shown(value)}: step {shown(step)} in the {what} field must be a positive number")
            for end in [] if base == "*" else base.split("-", 1):
                if end.upper() in names:
                    continue
                if not end.isdigit() or not low <= int(end) <= high:
                    raise ValueError(
                        f"{shown(value)}: {shown(end)} in the {what} field is not {low}-{high}"
                        + (f" or a name ({names[0]}...)" if names else "")
                    )
    return value


class ScheduledAction(StrictModel):
    """A scheduled size change (``aws_autoscaling_schedule``); give at least one size."""

    recurrence: Annotated[str, AfterValidator(_recurrence)] = Field(
        ...,
        pattern=r"^\S+ \S+ \S+ \S+ \S+$",
        description="Cron expression in five fields, e.g. '0 8 * * MON-FRI'.",
    )
    time_zone: str = Field(
        "Etc/UTC",
        pattern=r"^[A-Za-z_+\-]+(/[A-Za-z0-9_+\-]+)*$",
        description="IANA time zone of the recurrence, for example Europe/Berlin.",
    )
    min_size: int | None = Field(None, ge=0, le=10000, description="New min_size of the group; default: unchanged.")
    max_size: int | None = Field(None, ge=0, le=10000, description="New max_size of the group; default: unchanged.")
    desired_capacity: int | None = Field(
        None, ge=0, le=10000, description="New desired capacity of the group; default: unchanged."
    )

    def own_problems(self) -> list[FieldProblem]:
        """At least one size, and the sizes given in order."""
        out: list[FieldProblem] = []
        sizes = [self.min_size, self.desired_capacity, self.max_size]
        if all(v is None for v in sizes):
            out.append(("", "set at least one of min_size, max_size and desired_capacity"))
        given = [v for v in sizes if v is not None]
        if given != sorted(given):
            out.append(("", "needs min_size <= desired_capacity <= max_size"))
        return out


class ScalingConfig(StrictModel):
    """Scaling of the fleet's group(s): target-tracking policies
    (``aws_autoscaling_policy``) and scheduled actions (``aws_autoscaling_schedule``)."""

    request_count_per_target: float | None = Field(
        None,
        gt=0,
        description="Target ALBRequestCountPerTarget (requests per target per minute).",
    )
    cpu_utilization: float | None = Field(None, gt=0, le=100, description="Target average CPU utilization, percent.")
    custom_metric: CustomMetric | None = Field(
        None, description="Target tracking on a CloudWatch metric, e.g. GPU utilization."
    )
    queue_depth: QueueDepth | None = Field(
        None,
        description="Target tracking on the server's queue of waiting requests per instance (presets vllm and tgi).",
    )
    disable_scale_in: bool = Field(False, description="Target tracking only scales out; scale in by hand or schedule.")
    scheduled_actions: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")],
        ScheduledAction,
    ] = Field(  # aws-rule: scheduled-actions-quota
        default_factory=dict,
        max_length=125,
        description="Scheduled size changes keyed by name; at most 125 (Auto Scaling's quota per group).",
    )

    @property
    def has_target_tracking(self) -> bool:
        """True when at least one target-tracking policy manages the desired capacity."""
        return any(
            x is not None
            for x in (self.request_count_per_target, self.cpu_utilization, self.custom_metric, self.queue_depth)
        )

    @property
    def uses_cloudwatch_agent(self) -> bool:
        """True when a policy tracks a metric the instances' CloudWatch agent publishes
        (``custom_metric``, ``queue_depth``): the instance role then needs
        CloudWatchAgentServerPolicy."""
        return self.custom_metric is not None or self.queue_depth is not None

    @property
    def owned_group_sizes(self) -> tuple[str, ...]:
        """The Auto Scaling group size attributes that scaling changes at run time, so
        that applies must leave them as they are (``ignore_changes``): ``desired_capacity``
        with target tracking or any scheduled action (a schedule that moves the bounds
        moves it too), ``min_size`` and ``max_size`` when a scheduled action sets them.
        Without this the next apply sets back what a schedule set (Auto Scaling user
        guide, "Scheduled scaling": a scheduled action changes the group's sizes until
        another changes them again)."""
        actions = self.scheduled_actions.values()
        owned = []
        if self.has_target_tracking or actions:
            owned.append("desired_capacity")
        if any(a.min_size is not None for a in actions):
            owned.append("min_size")
        if any(a.max_size is not None for a in actions):
            owned.append("max_size")
        return tuple(owned)
