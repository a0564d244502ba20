"""Terraform outputs of a stack: ALB, target groups, Auto Scaling groups, security groups."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from .parts import Part


class Outputs(Part):
    """Adds the stack outputs, named without the group prefix (``alb_dns_name``).

    Takes the ``LoadBalancer`` and ``SecurityGroups`` groups, dicts of fleet name ->
    ``TargetGroup`` and fleet name -> ``FleetGroup``, and the alarm
    topic ARN (or None when alarms are off).
    """

    def __init__(
        self, scope: TerraformStack | Part, id_: str, *, lb, security_groups, target_groups: dict, fleets: dict, alarm_topic_arn
    ):
        super().__init__(scope, id_)

        def out(name: str, value, description: str) -> None:
            TerraformOutput(self.stack, name, value=value, description=description)

        out("alb_dns_name", lb.alb_dns_name, "DNS name of the load balancer.")
        out("alb_arn", lb.alb_arn, "ARN of the load balancer.")
        out("alb_zone_id", lb.alb_zone_id, "Route 53 zone ID of the load balancer (for alias records).")
        out("alb_security_group_id", security_groups.alb_id, "Security group of the load balancer.")
        if alarm_topic_arn is not None:
            out("alarm_topic_arn", alarm_topic_arn, "SNS topic the fleet alarms notify.")
        for name in sorted(target_groups):
            out(f"{name}_target_group_arn", target_groups[name].arn, f"Target group of the {name} fleet.")
            out(f"{name}_autoscaling_group_name", fleets[name].group_name, f"Auto Scaling group of the {name} fleet.")
            if fleets[name].spot_group is not None:
                out(
                    f"{name}_spot_autoscaling_group_name",
                    fleets[name].spot_group_name,
                    f"Spot Auto Scaling group of the {name} fleet.",
                )
            out(
                f"{name}_instance_security_group_id",
                security_groups.instance_ids[name],
                f"Security group of the {name} fleet's instances.",
            )
