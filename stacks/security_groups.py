"""Security groups: the ALB's and one per fleet for its instances.

Every rule is a standalone ``aws_vpc_security_group_ingress_rule`` /
``aws_vpc_security_group_egress_rule`` with a description (no inline rules, so no
dependency cycles between the groups). Rule construct IDs are keyed by port and CIDR,
not list position, so reordering ``ingress_cidr_blocks`` does not churn the plan.

- ALB group: ingress on 80 (and 443 with a certificate) from ``ingress_cidr_blocks``;
  egress only to each fleet's instance group on that fleet's port.
- Instance group per fleet: ingress only on the application port from the ALB group;
  egress to the internet (model downloads, SSM, CloudWatch) through the NAT gateways.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle, TerraformStack

from .aws import aws
from .config import LoadBalancerConfig
from .parts import Part


def _key(cidr: str) -> str:
    return cidr.replace(".", "_").replace("/", "_")


class SecurityGroups(Part):
    """Creates the ALB group of environment ``name`` in ``vpc_id`` (its client rules from
    ``load_balancer``) and one instance group per fleet of ``fleet_ports`` (fleet name ->
    application port).

    Attributes (str tokens, each read once): ``alb_security_group_id`` and
    ``instance_security_group_ids`` (fleet name -> group ID).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        name: str,
        load_balancer: LoadBalancerConfig,
        fleet_ports: dict[str, int],
        vpc_id: str,
    ):
        super().__init__(scope, id_)
        lb = load_balancer
        cbd = TerraformResourceLifecycle(create_before_destroy=True)
        alb = aws.security_group.SecurityGroup(
            self.stack,
            self.element_id("alb"),
            name_prefix=f"{name}-alb-",
            description=f"ALB for {name}: HTTP/HTTPS from allowed client CIDRs",
            vpc_id=vpc_id,
            tags={"Name": f"{name}-alb"},
            lifecycle=cbd,
        )
        self.alb_security_group_id = alb_id = alb.id
        ports = [80] + ([443] if lb.certificate_arn else [])
        for port in ports:
            for cidr in lb.ingress_cidr_blocks:
                aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                    self.stack,
                    self.element_id(f"alb-ingress-{port}-{_key(cidr)}"),
                    security_group_id=alb_id,
                    description=f"{'HTTPS' if port == 443 else 'HTTP'} from {cidr}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                )
        self.instance_security_group_ids: dict[str, str] = {}
        for fleet_name, port in fleet_ports.items():
            sg = aws.security_group.SecurityGroup(
                self.stack,
                self.element_id(f"{fleet_name}-instances"),
                name_prefix=f"{name}-{fleet_name}-",
                description=f"{fleet_name} fleet instances of {name}: app port from the ALB only",
                vpc_id=vpc_id,
                tags={"Name": f"{name}-{fleet_name}"},
                lifecycle=cbd,
            )
            self.instance_security_group_ids[fleet_name] = sg_id = sg.id
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self.stack,
                self.element_id(f"{fleet_name}-ingress-from-alb"),
                security_group_id=sg_id,
                description=f"Port {port} from the ALB",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=alb_id,
            )
            aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                self.stack,
                self.element_id(f"alb-egress-to-{fleet_name}"),
                security_group_id=alb_id,
                description=f"Port {port} to the {fleet_name} fleet",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=sg_id,
            )
            aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                self.stack,
                self.element_id(f"{fleet_name}-egress-https"),
                security_group_id=sg_id,
                description="HTTPS to AWS APIs and model registries",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4="0.0.0.0/0",
            )
