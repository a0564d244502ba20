"""One ALB target group per fleet (``aws_lb_target_group``).

Named with ``name_prefix`` (at most 6 characters) and ``create_before_destroy``: a change
of port, protocol or protocol version replaces the group, and Terraform must create the
new one and repoint the listener before it deletes the old one, which a fixed ``name``
would make impossible (AWS target group names are unique per region and account).

Gray failures: with ``weighted_random`` the group turns on anomaly mitigation (automatic
target weights) unless told not to; ``target_group_health`` writes DNS failover and
fail-open thresholds only when configured (ELB user guide, "Edit target group
attributes": routing algorithms, automatic target weights, target group health).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from cdktf import TerraformResourceLifecycle, TerraformStack

from .aws import aws
from .config import FleetConfig, TargetGroupHealth
from .parts import Part


class TargetGroup(Part):
    """Creates the target group of fleet ``fleet_name`` in ``vpc_id``, from the fleet's
    ``target_group`` section and the port, health check and timings derived from its
    preset. Attributes: ``target_group_arn`` and ``target_group_arn_suffix`` (str tokens,
    each read once, on first use)."""

    def __init__(self, scope: TerraformStack | Part, id_: str, *, fleet_name: str, fleet: FleetConfig, vpc_id: str):
        super().__init__(scope, id_)
        tg = fleet.target_group
        hc = tg.health_check
        self._resource = aws.lb_target_group.LbTargetGroup(
            self.stack,
            self.element_id("target_group"),
            name_prefix=f"{fleet_name[:5]}-",
            port=fleet.port,
            protocol=tg.protocol,
            protocol_version=tg.protocol_version,
            target_type="instance",
            vpc_id=vpc_id,
            deregistration_delay=str(fleet.effective_deregistration_delay),
            slow_start=fleet.effective_slow_start,
            load_balancing_algorithm_type=tg.load_balancing_algorithm_type,
            load_balancing_anomaly_mitigation=tg.effective_anomaly_mitigation,
            target_group_health=self._health(tg.target_group_health),
            health_check={
                "enabled": True,
                "protocol": tg.protocol,
                "port": "traffic-port",
                "path": fleet.health_check_path,
                "matcher": fleet.health_check_matcher,
                "interval": hc.interval,
                "timeout": hc.timeout,
                "healthy_threshold": hc.healthy_threshold,
                "unhealthy_threshold": hc.unhealthy_threshold,
            },
            tags={"Name": fleet_name, "fleet": fleet_name},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

    @staticmethod
    def _health(health: TargetGroupHealth) -> dict[str, Any] | None:
        """The ``target_group_health`` block, or None when neither part is set (nothing
        written, so existing groups see no change). A part left unset is written with
        AWS's defaults: DescribeTargetGroupAttributes reports all four thresholds, so a
        part left out would re-plan."""
        written = health.written()
        if written is None:
            return None
        dns, routing = written
        return {
            "dns_failover": {
                "minimum_healthy_targets_count": str(dns.minimum_healthy_targets_count),
                "minimum_healthy_targets_percentage": str(dns.minimum_healthy_targets_percentage),
            },
            "unhealthy_state_routing": {
                "minimum_healthy_targets_count": routing.minimum_healthy_targets_count,
                "minimum_healthy_targets_percentage": str(routing.minimum_healthy_targets_percentage),
            },
        }

    @cached_property
    def target_group_arn(self) -> str:
        """ARN of the target group (token)."""
        arn: str = self._resource.arn
        return arn

    @cached_property
    def target_group_arn_suffix(self) -> str:
        """ARN suffix (``targetgroup/<name>/<id>``) for CloudWatch dimensions (token)."""
        suffix: str = self._resource.arn_suffix
        return suffix
