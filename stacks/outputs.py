"""Terraform outputs of a stack: ALB, target groups, Auto Scaling groups, security groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformOutput, TerraformStack

from .parts import Part


@dataclass(frozen=True)
class FleetOutputs:
    """What a fleet exposes to other stacks and tools (str tokens)."""

    target_group_arn: str
    autoscaling_group_name: str
    spot_autoscaling_group_name: str | None
    instance_security_group_id: str


class Outputs(Part):
    """Adds the stack outputs, named without the group prefix (``alb_dns_name``): the
    ALB's DNS name, ARN, zone ID and security group, the alarm topic ARN (None when
    alarms are off: no output) and, per fleet in name order, its :class:`FleetOutputs`
    (``<fleet>_target_group_arn``, ...)."""

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        alb_dns_name: str,
        alb_arn: str,
        alb_zone_id: str,
        alb_security_group_id: str,
        alarm_topic_arn: str | None,
        fleets: Mapping[str, FleetOutputs],
    ):
        super().__init__(scope, id_)

        def out(name: str, value: str, description: str) -> None:
            TerraformOutput(self.stack, name, value=value, description=description)

        out("alb_dns_name", alb_dns_name, "DNS name of the load balancer.")
        out("alb_arn", alb_arn, "ARN of the load balancer.")
        out("alb_zone_id", alb_zone_id, "Route 53 zone ID of the load balancer (for alias records).")
        out("alb_security_group_id", alb_security_group_id, "Security group of the load balancer.")
        if alarm_topic_arn is not None:
            out("alarm_topic_arn", alarm_topic_arn, "SNS topic the fleet alarms notify.")
        for name in sorted(fleets):
            fleet = fleets[name]
            out(f"{name}_target_group_arn", fleet.target_group_arn, f"Target group of the {name} fleet.")
            out(
                f"{name}_autoscaling_group_name",
                fleet.autoscaling_group_name,
                f"Auto Scaling group of the {name} fleet.",
            )
            if fleet.spot_autoscaling_group_name is not None:
                out(
                    f"{name}_spot_autoscaling_group_name",
                    fleet.spot_autoscaling_group_name,
                    f"Spot Auto Scaling group of the {name} fleet.",
                )
            out(
                f"{name}_instance_security_group_id",
                fleet.instance_security_group_id,
                f"Security group of the {name} fleet's instances.",
            )
