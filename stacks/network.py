"""Network: an existing VPC and subnets, or a new VPC across 2-3 Availability Zones.

New VPCs follow the AWS "VPC with public and private subnets" layout: one public subnet
per AZ (ALB, NAT gateways) and one private subnet per AZ (instances), an internet
gateway, NAT gateway(s) and one private route table per AZ. The default security group
is locked down (no rules) and VPC flow logs go to CloudWatch Logs when enabled.

Existing subnets are read with ``aws_subnet`` data sources so Terraform can check at plan
time that each list spans two or more AZs (AWS requires it for an ALB).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping

from cdktf import Fn, Op, Postcondition, Precondition, TerraformResourceLifecycle, TerraformSelf, TerraformStack

from .aws import aws
from .config import CreateVpc, NetworkConfig
from .deployed import DeployedNetwork
from .parts import Part


class Network(Part):
    """Creates (``network.create_vpc``) or looks up the VPC and subnets of environment
    ``name``. ``logs_kms_key_arn`` is the KMS key that encrypts the flow-log group (None:
    the CloudWatch Logs default encryption); ``tags``, default tags the stack puts on
    everything (its environment and managed-by tags), find a created network already
    deployed (:class:`stacks.deployed.DeployedNetwork`).

    Attributes after construction: ``vpc_id`` (str token), ``public_subnet_ids`` and
    ``private_subnet_ids`` (lists of str tokens), and ``public_subnet_checks`` and
    ``private_subnet_checks``: Terraform preconditions that each list spans two or more
    AZs, for the resources placed in those subnets to attach (empty for a created VPC,
    whose AZs are known at synth).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        name: str,
        network: NetworkConfig,
        logs_kms_key_arn: str | None = None,
        tags: Mapping[str, str] | None = None,
    ):
        super().__init__(scope, id_)
        self.logs_kms_key_arn = logs_kms_key_arn
        self.tags = dict(tags or {})
        self.public_subnet_checks: list[Precondition] = []
        self.private_subnet_checks: list[Precondition] = []
        self.vpc_id: str
        self.public_subnet_ids: list[str]
        self.private_subnet_ids: list[str]
        self.private_availability_zones: list[str] = []
        if network.create_vpc is not None:
            self._create(name, network.create_vpc)
        else:
            self._existing(network)

    # Existing VPC ---------------------------------------------------------------------
    def _existing(self, net: NetworkConfig) -> None:
        assert net.vpc_id and net.public_subnet_ids and net.private_subnet_ids  # validated
        self.vpc_id = net.vpc_id
        self.public_subnet_ids = list(net.public_subnet_ids)
        self.private_subnet_ids = list(net.private_subnet_ids)
        for kind, ids, target in (
            ("public", net.public_subnet_ids, self.public_subnet_checks),
            ("private", net.private_subnet_ids, self.private_subnet_checks),
        ):
            azs = []
            for subnet_id in ids:
                subnet = aws.data_aws_subnet.DataAwsSubnet(
                    self.stack,
                    self.element_id(f"{kind}-{subnet_id}"),
                    id=subnet_id,
                    lifecycle=TerraformResourceLifecycle(
                        postcondition=[
                            Postcondition(
                                condition=Op.eq(TerraformSelf.get_string("vpc_id"), net.vpc_id),
                                error_message=f"Subnet {subnet_id} is not in VPC {net.vpc_id} "
                                f"(network.{kind}_subnet_ids).",
                            )
                        ]
                    ),
                )
                azs.append(subnet.availability_zone)
            if kind == "private":
                self.private_availability_zones = list(azs)
            target.append(
                Precondition(
                    condition=Op.gte(Fn.length_of(Fn.distinct(azs)), 2),
                    error_message=f"network.{kind}_subnet_ids must span two or more Availability Zones.",
                )
            )

    # New VPC ----------------------------------------------------------------------------
    def _create(self, name: str, cv: CreateVpc) -> None:
        self.private_availability_zones = list(cv.availability_zones)
        # Only the configured AZs (an allowlist, so the result cannot grow when AWS adds a
        # zone): an AZ missing from the answer does not exist or is not available here.
        zones = aws.data_aws_availability_zones.DataAwsAvailabilityZones(
            self.stack,
            self.element_id("availability_zones"),
            state="available",
            filter=[
                aws.data_aws_availability_zones.DataAwsAvailabilityZonesFilter(
                    name="zone-name", values=list(cv.availability_zones)
                )
            ],
        ).names
        subnets = list(
            ipaddress.ip_network(cv.cidr_block).subnets(
                new_prefix=ipaddress.ip_network(cv.cidr_block).prefixlen + cv.subnet_newbits
            )
        )
        n = len(cv.availability_zones)
        planned = {f"{name}-public-{az}": str(subnets[i]) for i, az in enumerate(cv.availability_zones)}
        planned |= {f"{name}-private-{az}": str(subnets[n + i]) for i, az in enumerate(cv.availability_zones)}
        deployed = DeployedNetwork(
            self, "deployed", vpc_name=name, cidr_block=cv.cidr_block, subnets=planned, tags=self.tags
        )
        vpc = aws.vpc.Vpc(
            self.stack,
            self.element_id("vpc"),
            cidr_block=cv.cidr_block,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
            lifecycle=TerraformResourceLifecycle(
                # aws-rule: availability-zones-exist
                precondition=[
                    *(
                        Precondition(
                            condition=Fn.contains(zones, az),
                            error_message=f"network.create_vpc.availability_zones: {az} is not an available "
                            "Availability Zone of this region for this account (aws ec2 "
                            "describe-availability-zones lists them).",
                        )
                        for az in cv.availability_zones
                    ),
                    *deployed.checks,
                ]
            ),
        )
        self.vpc_id = vpc_id = vpc.id
        # Lock down the default security group: no ingress, no egress.
        aws.default_security_group.DefaultSecurityGroup(
            self.stack,
            self.element_id("default_security_group"),
            vpc_id=vpc_id,
            tags={"Name": f"{name}-default-locked"},
        )
        if cv.enable_flow_logs:
            self._flow_logs(name, vpc_id, cv.flow_logs_retention_in_days)

        igw = aws.internet_gateway.InternetGateway(
            self.stack, self.element_id("internet_gateway"), vpc_id=vpc_id, tags={"Name": name}
        )
        public_rt = aws.route_table.RouteTable(
            self.stack, self.element_id("public_route_table"), vpc_id=vpc_id, tags={"Name": f"{name}-public"}
        )
        public_rt_id = public_rt.id
        aws.route.Route(
            self.stack,
            self.element_id("public_default_route"),
            route_table_id=public_rt_id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
        )
        self.public_subnet_ids, self.private_subnet_ids = [], []
        nat_ids = []
        for i, az in enumerate(cv.availability_zones):
            public = aws.subnet.Subnet(
                self.stack,
                self.element_id(f"public-{az}"),
                vpc_id=vpc_id,
                availability_zone=az,
                cidr_block=str(subnets[i]),
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{az}", "tier": "public"},
            )
            public_id = public.id
            aws.route_table_association.RouteTableAssociation(
                self.stack, self.element_id(f"public-{az}-route"), subnet_id=public_id, route_table_id=public_rt_id
            )
            self.public_subnet_ids.append(public_id)
            if cv.nat_gateway == "one_per_az" or i == 0:
                eip = aws.eip.Eip(
                    self.stack, self.element_id(f"nat-{az}-eip"), domain="vpc", tags={"Name": f"{name}-nat-{az}"}
                )
                nat = aws.nat_gateway.NatGateway(
                    self.stack,
                    self.element_id(f"nat-{az}"),
                    allocation_id=eip.id,
                    subnet_id=public_id,
                    tags={"Name": f"{name}-nat-{az}"},
                    depends_on=[igw],
                )
                nat_ids.append(nat.id)
        for i, az in enumerate(cv.availability_zones):
            private = aws.subnet.Subnet(
                self.stack,
                self.element_id(f"private-{az}"),
                vpc_id=vpc_id,
                availability_zone=az,
                cidr_block=str(subnets[n + i]),
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{az}", "tier": "private"},
            )
            private_id = private.id
            rt = aws.route_table.RouteTable(
                self.stack,
                self.element_id(f"private-{az}-route-table"),
                vpc_id=vpc_id,
                tags={"Name": f"{name}-private-{az}"},
            )
            rt_id = rt.id
            aws.route.Route(
                self.stack,
                self.element_id(f"private-{az}-default-route"),
                route_table_id=rt_id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat_ids[i] if cv.nat_gateway == "one_per_az" else nat_ids[0],
            )
            aws.route_table_association.RouteTableAssociation(
                self.stack, self.element_id(f"private-{az}-route"), subnet_id=private_id, route_table_id=rt_id
            )
            self.private_subnet_ids.append(private_id)

    def _flow_logs(self, name: str, vpc_id: str, retention: int) -> None:
        group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self.stack,
            self.element_id("flow_logs_group"),
            name_prefix=f"/vpc/{name}/flow-logs-",
            retention_in_days=retention,
            kms_key_id=self.logs_kms_key_arn,
        )
        group_arn = group.arn
        role = aws.iam_role.IamRole(
            self.stack,
            self.element_id("flow_logs_role"),
            name_prefix=f"{name}-flow-logs-"[:38],
            description=f"Lets VPC Flow Logs write to CloudWatch Logs for {name}.",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                sort_keys=True,
            ),
        )
        # A standalone policy resource: the role's inline_policy argument is deprecated
        # in the AWS provider 5.x.
        policy = aws.iam_role_policy.IamRolePolicy(
            self.stack,
            self.element_id("flow_logs_role_policy"),
            name="write-flow-logs",
            role=role.id,
            policy=Fn.jsonencode(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogGroups",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": f"{group_arn}:*",
                        }
                    ],
                }
            ),
        )
        aws.flow_log.FlowLog(
            self.stack,
            self.element_id("flow_log"),
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group_arn,
            iam_role_arn=role.arn,
            depends_on=[policy],
        )
