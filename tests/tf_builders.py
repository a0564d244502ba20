"""Hand-made Terraform JSON stacks for the resilience report tests.

They are written the way Terraform JSON is (and the way cdktf writes it): resources by
type and name, linked by ``${type.name.attr}`` references. Names are deliberately
unlike the ones our constructs generate, so the report cannot rely on names.
"""

from __future__ import annotations

import copy


def ref(rtype: str, name: str, attr: str = "id") -> str:
    return f"${{{rtype}.{name}.{attr}}}"


class StackBuilder:
    """Builds one ``cdk.tf.json``-shaped dict; every method returns ``self``."""

    def __init__(self) -> None:
        self.doc: dict = {"resource": {}, "data": {}}

    def add(self, rtype: str, name: str, body: dict) -> StackBuilder:
        self.doc["resource"].setdefault(rtype, {})[name] = body
        return self

    def subnets(self, tier: str, azs: list[str]) -> list[str]:
        """Create one subnet per AZ entry (repeat an AZ to get two subnets in it)."""
        out = []
        for i, az in enumerate(azs):
            name = f"{tier}{i}"
            self.add("aws_subnet", name, {"availability_zone": az, "vpc_id": ref("aws_vpc", "main")})
            out.append(ref("aws_subnet", name))
        return out

    def alb(
        self, name: str = "front", subnets: list[str] | None = None, protection: bool | None = False
    ) -> StackBuilder:
        body = {"name": f"{name}-lb", "load_balancer_type": "application", "internal": False, "subnets": subnets or []}
        if protection is not None:
            body["enable_deletion_protection"] = protection
        return self.add("aws_lb", name, body)

    def target_group(self, name: str, health_check: dict | None = None, **attrs) -> StackBuilder:
        body = {"port": 8000, "protocol": "HTTP", "vpc_id": ref("aws_vpc", "main"), **attrs}
        if health_check is not None:
            body["health_check"] = health_check
        return self.add("aws_lb_target_group", name, body)

    def listener(
        self, name: str, tg: str | None, port: int = 80, protocol: str = "HTTP", lb: str = "front"
    ) -> StackBuilder:
        action = (
            {"type": "forward", "target_group_arn": ref("aws_lb_target_group", tg, "arn")}
            if tg
            else {
                "type": "redirect",
                "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"},
            }
        )
        return self.add(
            "aws_lb_listener",
            name,
            {
                "load_balancer_arn": ref("aws_lb", lb, "arn"),
                "port": port,
                "protocol": protocol,
                "default_action": [action],
            },
        )

    def rule(self, name: str, listener: str, tg: str, priority: int, paths: list[str]) -> StackBuilder:
        return self.add(
            "aws_lb_listener_rule",
            name,
            {
                "listener_arn": ref("aws_lb_listener", listener, "arn"),
                "priority": priority,
                "action": [{"type": "forward", "target_group_arn": ref("aws_lb_target_group", tg, "arn")}],
                "condition": [{"path_pattern": {"values": paths}}],
            },
        )

    def launch_template(self, name: str, instance_type: str | None = "t2.micro", **attrs) -> StackBuilder:
        body = dict(attrs)
        if instance_type:
            body["instance_type"] = instance_type
        return self.add("aws_launch_template", name, body)

    def group(
        self,
        name: str,
        *,
        subnets: list,
        tgs: list[str] = (),
        lt: str = "tmpl",
        min_size: int = 1,
        max_size: int = 3,
        desired: int | None = 2,
        fleet: str | None = None,
        **attrs,
    ) -> StackBuilder:
        body = {
            "min_size": min_size,
            "max_size": max_size,
            "vpc_zone_identifier": list(subnets),
            "health_check_type": "ELB",
            "health_check_grace_period": 300,
            "target_group_arns": [ref("aws_lb_target_group", t, "arn") for t in tgs],
            **attrs,
        }
        if desired is not None:
            body["desired_capacity"] = desired
        if "mixed_instances_policy" not in attrs:
            body["launch_template"] = {"id": ref("aws_launch_template", lt), "version": "$Latest"}
        if fleet:
            body["tag"] = [{"key": "fleet", "value": fleet, "propagate_at_launch": False}]
        return self.add("aws_autoscaling_group", name, body)

    def build(self) -> dict:
        return copy.deepcopy(self.doc)


#: The design card's seed: health check on / every 30 s, thresholds 2/2, timeout 3 s;
#: ASG desired 2, min 1, max 3, ELB health checks, grace 300 s, over two AZs.
SEED_HEALTH_CHECK = {
    "path": "/",
    "matcher": "200-299",
    "interval": 30,
    "timeout": 3,
    "healthy_threshold": 2,
    "unhealthy_threshold": 2,
}


def seed(**group_attrs) -> StackBuilder:
    """The seed topology: one fleet behind an HTTP listener, two AZs."""
    b = StackBuilder()
    public = b.subnets("pub", ["us-east-1a", "us-east-1b"])
    private = b.subnets("priv", ["us-east-1a", "us-east-1b"])
    b.alb(subnets=public)
    b.target_group("web", dict(SEED_HEALTH_CHECK))
    b.listener("plain", "web")
    b.launch_template("tmpl")
    b.group("pool", subnets=private, tgs=["web"], **group_attrs)
    return b


def mixed_policy(types: list, base: int, pct: int, lt: str = "tmpl", **dist) -> dict:
    """A mixed_instances_policy block; ``types`` are names or (name, weight) pairs."""
    overrides = []
    for t in types:
        if isinstance(t, tuple):
            overrides.append({"instance_type": t[0], "weighted_capacity": str(t[1])})
        else:
            overrides.append({"instance_type": t})
    return {
        "launch_template": {
            "launch_template_specification": {"launch_template_id": ref("aws_launch_template", lt)},
            "override": overrides,
        },
        "instances_distribution": {
            "on_demand_base_capacity": base,
            "on_demand_percentage_above_base_capacity": pct,
            "spot_allocation_strategy": "price-capacity-optimized",
            **dist,
        },
    }


def multi_fleet_doc() -> dict:
    """Two fleets behind one ALB: GPU chat (spot) by default, CPU embeddings by path rule;
    HTTP redirects to HTTPS; three AZs."""
    b = StackBuilder()
    public = b.subnets("pub", ["us-west-2a", "us-west-2b", "us-west-2c"])
    private = b.subnets("priv", ["us-west-2a", "us-west-2b", "us-west-2c"])
    b.alb(subnets=public, protection=True)
    b.target_group(
        "alpha", dict(SEED_HEALTH_CHECK, interval=10, timeout=5, unhealthy_threshold=3), deregistration_delay="600"
    )
    b.target_group("beta", dict(SEED_HEALTH_CHECK, interval=5, timeout=2), deregistration_delay="30", slow_start=60)
    b.listener("redir", None, 80)
    b.listener("tls", "alpha", 443, "HTTPS")
    b.rule("embed_route", "tls", "beta", 10, ["/v1/embeddings*"])
    b.launch_template("gpu_t", instance_type=None).launch_template("cpu_t", "c7i.xlarge")
    b.group(
        "g1",
        subnets=private,
        tgs=["alpha"],
        lt="gpu_t",
        min_size=3,
        desired=3,
        max_size=9,
        fleet="chat",
        capacity_rebalance=True,
        mixed_instances_policy=mixed_policy(["g5.xlarge", "g6.xlarge"], 1, 0, lt="gpu_t"),
    )
    b.group("g2", subnets=private, lt="cpu_t", min_size=2, desired=2, max_size=4, fleet="embed", target_group_arns=[])
    # The embeddings group joins its target group through a separate attachment.
    b.add(
        "aws_autoscaling_attachment",
        "embed_att",
        {
            "autoscaling_group_name": ref("aws_autoscaling_group", "g2", "name"),
            "lb_target_group_arn": ref("aws_lb_target_group", "beta", "arn"),
        },
    )
    return b.build()
