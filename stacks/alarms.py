"""CloudWatch alarms per fleet and the SNS topic they notify.

Per fleet, on the target group's Application Load Balancer metrics (namespace
``AWS/ApplicationELB``, dimensions ``TargetGroup`` and ``LoadBalancer`` from the
``arn_suffix`` attributes):

- ``UnHealthyHostCount`` (Maximum) at or above the threshold: targets failing health checks;
- ``HTTPCode_Target_5XX_Count`` (Sum) at or above the threshold: the model server erroring;
- ``TargetResponseTime`` p99 above the threshold (default: max_request_seconds).

Missing data (no traffic) is not breaching. Alarms notify on ALARM and OK. The topic is
the configured one, or one the stack creates, encrypted with the AWS managed SNS key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformStack

from .aws import aws
from .config import FleetAlarmsConfig
from .parts import Part


@dataclass(frozen=True)
class FleetAlarms:
    """What one fleet's alarms need: its ``alarms`` section, the p99 response time
    threshold in seconds (``FleetConfig.effective_p99_target_response_time``) and its
    target group's ``arn_suffix`` token."""

    alarms: FleetAlarmsConfig
    p99_threshold: float
    target_group_arn_suffix: str


class Alarms(Part):
    """Creates the SNS topic of environment ``name`` (unless ``sns_topic_arn`` names
    one) and three alarms per fleet of ``fleets`` on the ALB ``alb_arn_suffix``.
    Attribute ``topic_arn`` (str token).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        name: str,
        sns_topic_arn: str | None,
        fleets: Mapping[str, FleetAlarms],
        alb_arn_suffix: str,
    ):
        super().__init__(scope, id_)
        if sns_topic_arn:
            self.topic_arn = sns_topic_arn
        else:
            topic = aws.sns_topic.SnsTopic(
                self.stack,
                self.element_id("topic"),
                name=f"{name}-fleet-alarms",
                kms_master_key_id="alias/aws/sns",
            )
            self.topic_arn = topic.arn
        for fleet_name, fleet in fleets.items():
            a = fleet.alarms
            dims = {"TargetGroup": fleet.target_group_arn_suffix, "LoadBalancer": alb_arn_suffix}
            p99 = fleet.p99_threshold
            specs = [
                (
                    "unhealthy-hosts",
                    "UnHealthyHostCount",
                    {"statistic": "Maximum"},
                    "GreaterThanOrEqualToThreshold",
                    a.unhealthy_host_count,
                    f"{fleet_name}: {a.unhealthy_host_count}+ targets failing health checks",
                ),
                (
                    "target-5xx",
                    "HTTPCode_Target_5XX_Count",
                    {"statistic": "Sum"},
                    "GreaterThanOrEqualToThreshold",
                    a.target_5xx_count,
                    f"{fleet_name}: model servers returned {a.target_5xx_count}+ 5XX in {a.period} s",
                ),
                (
                    "p99-response-time",
                    "TargetResponseTime",
                    {"extended_statistic": "p99"},
                    "GreaterThanThreshold",
                    p99,
                    f"{fleet_name}: p99 target response time above {p99:g} s",
                ),
            ]
            for key, metric, stat, comparison, threshold, description in specs:
                aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
                    self.stack,
                    self.element_id(f"{fleet_name}-{key}"),
                    alarm_name=f"{name}-{fleet_name}-{key}",
                    alarm_description=description,
                    namespace="AWS/ApplicationELB",
                    metric_name=metric,
                    dimensions=dims,
                    period=a.period,
                    evaluation_periods=a.evaluation_periods,
                    threshold=threshold,
                    comparison_operator=comparison,
                    treat_missing_data="notBreaching",
                    alarm_actions=[self.topic_arn],
                    ok_actions=[self.topic_arn],
                    **stat,
                )
