"""``alarms`` (where notifications go) and ``fleets.<name>.alarms`` (a fleet's alarms)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import FieldProblem, StrictModel
from .types import Arn


class FleetAlarmsConfig(StrictModel):
    """CloudWatch alarms of one fleet on its target group's ALB metrics
    (``aws_cloudwatch_metric_alarm``), sent to the environment's SNS topic."""

    unhealthy_host_count: int = Field(
        1, ge=1, le=1_000_000_000, description="Alarm when this many targets are unhealthy (UnHealthyHostCount)."
    )
    target_5xx_count: int = Field(
        10, ge=1, le=1_000_000_000, description="Alarm when targets return this many 5XX per period."
    )
    p99_target_response_time: float | None = Field(
        None,
        gt=0,
        description="Alarm when p99 TargetResponseTime exceeds this many seconds. Default: "
        "the fleet's max_request_seconds.",
    )
    period: Literal[60, 300, 900, 3600] = Field(
        60, description="Seconds per datapoint (ALB metrics are per minute: no shorter periods)."
    )
    evaluation_periods: int = Field(
        3, ge=1, le=100, description="Datapoints; period x evaluation_periods at most one day (CloudWatch)."
    )

    def own_problems(self) -> list[FieldProblem]:
        """The evaluated window within CloudWatch's limit (PutMetricAlarm: one day for
        periods below one hour, seven days for longer ones)."""
        # aws-rule: alarm-evaluation-window
        limit = 86400 if self.period < 3600 else 604800
        window = self.period * self.evaluation_periods
        if window > limit:
            return [
                (
                    "",
                    f"period {self.period} s x evaluation_periods {self.evaluation_periods} = "
                    f"{window} s; CloudWatch allows at most {limit} s",
                )
            ]
        return []


class AlarmsConfig(StrictModel):
    """Where fleet alarms go: a given SNS topic, or one the stack creates, encrypted with
    a KMS key of its own that CloudWatch may use (stacks/alarms.py)."""

    enabled: bool = Field(True, description="Create the fleets' CloudWatch alarms.")
    sns_topic_arn: Arn | None = Field(
        None,
        description="Existing SNS topic for alarm and OK notifications; default: create one. "
        "Its access policy must let cloudwatch.amazonaws.com publish, and if it is encrypted, "
        "with a customer managed key whose policy lets cloudwatch.amazonaws.com use "
        "kms:Decrypt and kms:GenerateDataKey* (not alias/aws/sns: CloudWatch cannot use it).",
    )
