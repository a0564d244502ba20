"""Target-tracking scaling policies for one fleet (``aws_autoscaling_policy``).

- ``ALBRequestCountPerTarget``: the resource label is built from the ALB and target
  group ``arn_suffix`` attributes (``app/<lb>/<id>/targetgroup/<tg>/<id>``), as the EC2
  Auto Scaling API requires.
- ``ASGAverageCPUUtilization``: average CPU of the group.
"""

from __future__ import annotations

from constructs import Construct

from .aws import aws
from .config import Fleet


def has_policies(fleet: Fleet) -> bool:
    """True when the fleet's config asks for at least one scaling policy."""
    s = fleet.scaling
    return s.request_count_per_target is not None or s.cpu_utilization is not None


class Scaling(Construct):
    """Creates the fleet's target-tracking policies (none when none is configured)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        fleet_name: str,
        fleet: Fleet,
        group_name: str,
        alb_arn_suffix: str,
        target_group_arn_suffix: str,
    ):
        super().__init__(scope, id_)
        s = fleet.scaling
        if s.request_count_per_target is not None:
            aws.autoscaling_policy.AutoscalingPolicy(
                self,
                "request_count",
                name=f"{fleet_name}-request-count-per-target",
                autoscaling_group_name=group_name,
                policy_type="TargetTrackingScaling",
                target_tracking_configuration={
                    "predefined_metric_specification": {
                        "predefined_metric_type": "ALBRequestCountPerTarget",
                        "resource_label": f"{alb_arn_suffix}/{target_group_arn_suffix}",
                    },
                    "target_value": s.request_count_per_target,
                    "disable_scale_in": s.disable_scale_in,
                },
            )
        if s.cpu_utilization is not None:
            aws.autoscaling_policy.AutoscalingPolicy(
                self,
                "cpu",
                name=f"{fleet_name}-cpu-utilization",
                autoscaling_group_name=group_name,
                policy_type="TargetTrackingScaling",
                target_tracking_configuration={
                    "predefined_metric_specification": {
                        "predefined_metric_type": "ASGAverageCPUUtilization",
                    },
                    "target_value": s.cpu_utilization,
                    "disable_scale_in": s.disable_scale_in,
                },
            )
