"""CloudWatch alarms per fleet and the SNS topic they notify.

Per fleet, on the target group's Application Load Balancer metrics (namespace
``AWS/ApplicationELB``, dimensions ``TargetGroup`` and ``LoadBalancer`` from the
``arn_suffix`` attributes):

- ``UnHealthyHostCount`` (Maximum) at or above the threshold: targets failing health checks;
- ``HTTPCode_Target_5XX_Count`` (Sum) at or above the threshold: the model server erroring;
- ``TargetResponseTime`` p99 above the threshold (default: max_request_seconds).

Missing data (no traffic) is not breaching. Alarms notify on ALARM and OK. The topic is
the configured one, or one the stack creates:

- encrypted with a customer managed KMS key (rotation on) whose policy lets CloudWatch
  use it (``kms:GenerateDataKey*``, ``kms:Decrypt``). The AWS managed key
  ``alias/aws/sns`` cannot be used: its policy cannot be changed and does not let
  CloudWatch use it, so every alarm action would fail with a KMS access error and no
  notification would ever arrive (AWS knowledge center, "Configure a CloudWatch alarm
  with an encrypted Amazon SNS topic"; SNS developer guide, "Enable compatibility
  between event sources from AWS services and encrypted topics"; aws/aws-cdk#11121);
- with a topic policy that keeps the account's own rights and lets CloudWatch alarms of
  this account and region publish (``aws:SourceArn``/``aws:SourceAccount``, AWS knowledge
  center "Why didn't I receive an SNS notification for my CloudWatch alarm trigger?").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import Fn, TerraformStack

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
    """Creates the SNS topic of environment ``name`` in ``region`` with its KMS key and
    policy (unless ``sns_topic_arn`` names one) and three alarms per fleet of ``fleets``
    on the ALB ``alb_arn_suffix``. ``partition`` and ``account_id`` are tokens
    (``data.aws_partition``, ``data.aws_caller_identity``). Attributes ``topic_arn``
    (str token) and ``alarm_names`` (fleet name -> alarm key such as ``target-5xx`` ->
    the alarm's ``alarm_name`` token, so that what names an alarm depends on it).
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
        region: str,
        partition: str,
        account_id: str,
    ):
        super().__init__(scope, id_)
        if sns_topic_arn:
            self.topic_arn = sns_topic_arn
        else:
            self.topic_arn = self._topic(name, region, partition, account_id)
        self.alarm_names: dict[str, dict[str, str]] = {}
        for fleet_name, fleet in fleets.items():
            a = fleet.alarms
            names = self.alarm_names.setdefault(fleet_name, {})
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
                alarm = aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
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
                names[key] = alarm.alarm_name

    def _topic(self, name: str, region: str, partition: str, account_id: str) -> str:
        """The encrypted topic, its key and its policy; returns the topic ARN token."""
        account_root = f"arn:{partition}:iam::{account_id}:root"
        alarms_of_this_account = f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"
        # aws-rule: alarm-topic-key-cloudwatch
        key = aws.kms_key.KmsKey(
            self.stack,
            self.element_id("key"),
            description=f"SNS topic of the fleet alarms of {name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=Fn.jsonencode(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministersTheKey",
                            "Effect": "Allow",
                            "Principal": {"AWS": account_root},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "CloudWatchAlarmsEncryptNotifications",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                        },
                    ],
                }
            ),
            tags={"Name": f"{name}-fleet-alarms"},
        )
        topic = aws.sns_topic.SnsTopic(
            self.stack,
            self.element_id("topic"),
            name=f"{name}-fleet-alarms",
            kms_master_key_id=key.arn,
        )
        topic_arn: str = topic.arn
        aws.sns_topic_policy.SnsTopicPolicy(
            self.stack,
            self.element_id("topic_policy"),
            arn=topic_arn,
            policy=Fn.jsonencode(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountManagesTheTopic",
                            "Effect": "Allow",
                            "Principal": {"AWS": account_root},
                            "Action": [
                                "SNS:AddPermission",
                                "SNS:DeleteTopic",
                                "SNS:GetTopicAttributes",
                                "SNS:ListSubscriptionsByTopic",
                                "SNS:Publish",
                                "SNS:RemovePermission",
                                "SNS:SetTopicAttributes",
                                "SNS:Subscribe",
                            ],
                            "Resource": topic_arn,
                        },
                        {
                            "Sid": "CloudWatchAlarmsOfThisAccountPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic_arn,
                            "Condition": {
                                "ArnLike": {"aws:SourceArn": alarms_of_this_account},
                                "StringEquals": {"aws:SourceAccount": account_id},
                            },
                        },
                    ],
                }
            ),
        )
        return topic_arn
