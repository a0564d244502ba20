"""Scaling of one fleet's Auto Scaling group(s).

- Target tracking (``aws_autoscaling_policy``) on ``ALBRequestCountPerTarget`` (the
  resource label built from the ALB and target group ``arn_suffix`` attributes,
  ``app/<lb>/<id>/targetgroup/<tg>/<id>``, as the EC2 Auto Scaling API requires), on
  ``ASGAverageCPUUtilization``, on a custom CloudWatch metric such as the GPU
  utilization the CloudWatch agent publishes per group, and on the model server's queue
  of waiting requests per instance (``queue_depth``: the Average of the metric the
  CloudWatch agent scrapes from the server's Prometheus endpoint, dimension
  ``AutoScalingGroupName``).
- Scheduled actions (``aws_autoscaling_schedule``) for known daily peaks.

A fleet with a spot group gets the same policies on both groups; target tracking on a
per-target metric keeps them proportionate. With several policies Auto Scaling scales
out when any policy asks for it and in only when all of them do (EC2 Auto Scaling user
guide, "Target tracking scaling policies":
https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html).
"""

from typing import Any

from cdktf import TerraformStack

from .aws import aws
from .config import CustomMetric, ScalingConfig
from .parts import Part


class Scaling(Part):
    """Creates the ``scaling`` section's policies and scheduled actions of fleet
    ``fleet_name`` for each of its groups.

    ``group_names`` maps a key ("" for the main group, "spot-" for the spot group, used
    as a construct ID prefix so the main group's IDs never change) to the group's name
    token; ``alb_arn_suffix`` and ``target_group_arn_suffix`` build the
    ``ALBRequestCountPerTarget`` resource label; ``queue_metric`` is the CloudWatch
    namespace and metric name of the server's queue (``FleetConfig.queue_metric``), given
    when ``scaling.queue_depth`` is set.
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        fleet_name: str,
        scaling: ScalingConfig,
        group_names: dict[str, str],
        alb_arn_suffix: str,
        target_group_arn_suffix: str,
        queue_metric: tuple[str, str] | None = None,
    ):
        super().__init__(scope, id_)
        s = scaling
        pol = aws.autoscaling_policy
        policies: list[tuple[str, str, dict[str, Any]]] = []  # (construct ID, name, configuration)
        if s.request_count_per_target is not None:
            policies.append(
                (
                    "request_count",
                    "request-count-per-target",
                    {
                        "predefined_metric_specification": {
                            "predefined_metric_type": "ALBRequestCountPerTarget",
                            "resource_label": f"{alb_arn_suffix}/{target_group_arn_suffix}",
                        },
                        "target_value": s.request_count_per_target,
                    },
                )
            )
        if s.cpu_utilization is not None:
            policies.append(
                (
                    "cpu",
                    "cpu-utilization",
                    {
                        "predefined_metric_specification": {"predefined_metric_type": "ASGAverageCPUUtilization"},
                        "target_value": s.cpu_utilization,
                    },
                )
            )
        for key, group_name in group_names.items():
            label = f"{fleet_name}-{key.rstrip('-')}" if key else fleet_name
            per_group = list(policies)
            if s.custom_metric is not None:
                per_group.append(self._custom_metric(s.custom_metric, group_name))
            if s.queue_depth is not None and queue_metric is not None:
                per_group.append(self._queue_depth(queue_metric, s.queue_depth.target_value, group_name))
            for cid, policy, config in per_group:
                pol.AutoscalingPolicy(
                    self.stack,
                    self.element_id(f"{key}{cid}"),
                    name=f"{label}-{policy}",
                    autoscaling_group_name=group_name,
                    policy_type="TargetTrackingScaling",
                    target_tracking_configuration={**config, "disable_scale_in": s.disable_scale_in},
                )
            # Scheduled sizes describe the main group; the spot group follows by tracking.
            for name, action in sorted(s.scheduled_actions.items()) if not key else []:
                aws.autoscaling_schedule.AutoscalingSchedule(
                    self.stack,
                    self.element_id(f"{key}schedule-{name}"),
                    scheduled_action_name=f"{label}-{name}",
                    autoscaling_group_name=group_name,
                    recurrence=action.recurrence,
                    time_zone=action.time_zone,
                    min_size=-1 if action.min_size is None else action.min_size,
                    max_size=-1 if action.max_size is None else action.max_size,
                    desired_capacity=-1 if action.desired_capacity is None else action.desired_capacity,
                )

    @staticmethod
    def _custom_metric(m: CustomMetric, group_name: str) -> tuple[str, str, dict[str, Any]]:
        """The target tracking policy on ``m`` for one group: its own
        ``AutoScalingGroupName`` dimension beside the configured ones."""
        pol = aws.autoscaling_policy
        dims = {**m.dimensions, "AutoScalingGroupName": group_name}
        spec: dict[str, Any] = {
            "namespace": m.namespace,
            "metric_name": m.metric_name,
            "statistic": m.statistic,
            "metric_dimension": [
                pol.AutoscalingPolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricDimension(
                    name=k, value=v
                )
                for k, v in sorted(dims.items())
            ],
        }
        if m.unit:
            spec["unit"] = m.unit
        name = m.metric_name.replace("_", "-")[:64]
        return "custom_metric", name, {"customized_metric_specification": spec, "target_value": m.target_value}

    @staticmethod
    def _queue_depth(metric: tuple[str, str], target_value: float, group_name: str) -> tuple[str, str, dict[str, Any]]:
        """The target tracking policy on the Average of the queue ``metric`` (namespace,
        name) over the instances of one group: each instance publishes its own queue
        with the group's ``AutoScalingGroupName`` dimension, so the Average is the
        requests waiting per instance (no unit given: the policy matches the metric
        whatever unit it was published with)."""
        pol = aws.autoscaling_policy
        namespace, name = metric
        spec = {
            "namespace": namespace,
            "metric_name": name,
            "statistic": "Average",
            "metric_dimension": [
                pol.AutoscalingPolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricDimension(
                    name="AutoScalingGroupName", value=group_name
                )
            ],
        }
        return "queue_depth", "queue-depth", {"customized_metric_specification": spec, "target_value": target_value}
