"""stacks/security_groups.py: the ALB group and one group per fleet, standalone rules."""

from __future__ import annotations

from construct_testing import VPC, build, expose, ref

from stacks.config import LoadBalancerConfig
from stacks.security_groups import SecurityGroups

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def groups(cidrs=("10.0.0.0/8", "192.168.0.0/16"), certificate=None, ports=None):
    lb = LoadBalancerConfig(ingress_cidr_blocks=list(cidrs), certificate_arn=certificate)

    def make(stack):
        sgs = SecurityGroups(
            stack, "security_groups", name="dev", load_balancer=lb, fleet_ports=ports or {"chat": 8000}, vpc_id=VPC
        )
        expose(
            stack, alb=sgs.alb_security_group_id, **{f"{k}_sg": v for k, v in sgs.instance_security_group_ids.items()}
        )
        return sgs

    return build(make)


def test_clients_reach_only_port_80_without_a_certificate():
    built, _ = groups()
    ingress = built.resources("aws_vpc_security_group_ingress_rule")
    alb_rules = {n: r for n, r in ingress.items() if n.startswith("security_groups_alb-ingress")}
    assert {(r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in alb_rules.values()} == {
        (80, 80, "10.0.0.0/8"),
        (80, 80, "192.168.0.0/16"),
    }
    assert all(r["ip_protocol"] == "tcp" and r["description"] for r in ingress.values())


def test_https_adds_port_443_and_rule_names_follow_the_cidr_not_its_position():
    built, _ = groups(certificate=CERT)
    names = sorted(n for n in built.resources("aws_vpc_security_group_ingress_rule") if "alb-ingress" in n)
    assert names == [
        "security_groups_alb-ingress-443-10_0_0_0_8",
        "security_groups_alb-ingress-443-192_168_0_0_16",
        "security_groups_alb-ingress-80-10_0_0_0_8",
        "security_groups_alb-ingress-80-192_168_0_0_16",
    ]
    reordered, _ = groups(cidrs=("192.168.0.0/16", "10.0.0.0/8"), certificate=CERT)
    assert reordered.resources("aws_vpc_security_group_ingress_rule") == built.resources(
        "aws_vpc_security_group_ingress_rule"
    )


def test_instances_accept_only_their_port_from_the_alb_and_send_only_https_out():
    built, _ = groups(ports={"chat": 8000, "embed": 8080})
    alb = ref("aws_security_group", "security_groups_alb", "id")
    ingress = built.resources("aws_vpc_security_group_ingress_rule")
    egress = built.resources("aws_vpc_security_group_egress_rule")
    for fleet, port in (("chat", 8000), ("embed", 8080)):
        sg = ref("aws_security_group", f"security_groups_{fleet}-instances", "id")
        rule = ingress[f"security_groups_{fleet}-ingress-from-alb"]
        assert (rule["security_group_id"], rule["referenced_security_group_id"]) == (sg, alb)
        assert (rule["from_port"], rule["to_port"]) == (port, port)
        to_fleet = egress[f"security_groups_alb-egress-to-{fleet}"]
        assert (to_fleet["security_group_id"], to_fleet["referenced_security_group_id"]) == (alb, sg)
        assert (to_fleet["from_port"], to_fleet["to_port"]) == (port, port)
        out = egress[f"security_groups_{fleet}-egress-https"]
        assert (out["from_port"], out["to_port"], out["cidr_ipv4"]) == (443, 443, "0.0.0.0/0")
    # No inline rules: each group's rules are separate resources.
    for group in built.resources("aws_security_group").values():
        assert "ingress" not in group and "egress" not in group
        assert group["lifecycle"] == {"create_before_destroy": True}
        assert group["vpc_id"] == VPC
    assert built.outputs() == {
        "alb": alb,
        "chat_sg": ref("aws_security_group", "security_groups_chat-instances", "id"),
        "embed_sg": ref("aws_security_group", "security_groups_embed-instances", "id"),
    }
