"""stacks/network.py: a created VPC across 2-3 AZs, or existing subnets checked at plan
time."""

from __future__ import annotations

from construct_testing import VPC, aws, build, expose, ref

from stacks.config import NetworkConfig
from stacks.network import Network

KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"


def created(**create_vpc):
    network = NetworkConfig.model_validate(
        {"create_vpc": {"availability_zones": ["us-east-1a", "us-east-1b"], **create_vpc}}
    )
    return build(lambda s: Network(s, "network", name="dev", network=network, logs_kms_key_arn=KEY))


def test_created_vpc_has_public_and_private_subnets_per_az_carved_in_order():
    built, net = created()
    vpc = built.only("aws_vpc")
    assert (vpc["cidr_block"], vpc["enable_dns_hostnames"], vpc["enable_dns_support"]) == ("10.0.0.0/16", True, True)
    subnets = built.resources("aws_subnet")
    cidrs = {name: (s["availability_zone"], s["cidr_block"], s["tags"]["tier"]) for name, s in subnets.items()}
    assert cidrs == {
        "network_public-us-east-1a": ("us-east-1a", "10.0.0.0/20", "public"),
        "network_public-us-east-1b": ("us-east-1b", "10.0.16.0/20", "public"),
        "network_private-us-east-1a": ("us-east-1a", "10.0.32.0/20", "private"),
        "network_private-us-east-1b": ("us-east-1b", "10.0.48.0/20", "private"),
    }
    assert not any(s["map_public_ip_on_launch"] for s in subnets.values())
    assert len(net.public_subnet_ids) == len(net.private_subnet_ids) == 2
    assert net.public_subnet_checks == net.private_subnet_checks == []  # AZs known at synth


def test_one_nat_gateway_per_az_keeps_each_az_online_alone():
    built, _ = created()
    nats = built.resources("aws_nat_gateway")
    assert sorted(nats) == ["network_nat-us-east-1a", "network_nat-us-east-1b"]
    routes = built.resources("aws_route")
    for az in ("us-east-1a", "us-east-1b"):
        route = routes[f"network_private-{az}-default-route"]
        assert route["nat_gateway_id"] == ref("aws_nat_gateway", f"network_nat-{az}", "id")
        assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert routes["network_public_default_route"]["gateway_id"] == ref(
        "aws_internet_gateway", "network_internet_gateway", "id"
    )


def test_single_nat_gateway_serves_every_private_subnet():
    built, _ = created(nat_gateway="single")
    assert list(built.resources("aws_nat_gateway")) == ["network_nat-us-east-1a"]
    targets = {r["nat_gateway_id"] for n, r in built.resources("aws_route").items() if "private" in n}
    assert targets == {ref("aws_nat_gateway", "network_nat-us-east-1a", "id")}


def test_default_security_group_locked_and_flow_logs_encrypted():
    built, _ = created()
    locked = built.only("aws_default_security_group")
    assert "ingress" not in locked and "egress" not in locked
    group = built.only("aws_cloudwatch_log_group")
    assert (group["name_prefix"], group["kms_key_id"], group["retention_in_days"]) == ("/vpc/dev/flow-logs-", KEY, 365)
    flow_log = built.only("aws_flow_log")
    assert flow_log["traffic_type"] == "ALL" and flow_log["log_destination_type"] == "cloud-watch-logs"
    # The role's policy exists before the flow log tries to write.
    assert flow_log["depends_on"] == ["aws_iam_role_policy.network_flow_logs_role_policy"]
    role = built.only("aws_iam_role")
    assert '"Service":"vpc-flow-logs.amazonaws.com"' in role["assume_role_policy"].replace(" ", "")


def test_flow_logs_can_be_turned_off():
    built, _ = created(enable_flow_logs=False)
    assert not built.resources("aws_flow_log") and not built.resources("aws_cloudwatch_log_group")


def test_existing_subnets_are_checked_at_plan_time():
    network = NetworkConfig(
        vpc_id=VPC,
        public_subnet_ids=["subnet-0a000000000000001", "subnet-0a000000000000002"],
        private_subnet_ids=["subnet-0b000000000000001", "subnet-0b000000000000002"],
    )

    def make(stack):
        net = Network(stack, "network", name="prod", network=network)
        # Resources placed in the subnets carry the checks.
        aws.sns_topic.SnsTopic(stack, "public_probe", lifecycle={"precondition": net.public_subnet_checks})
        aws.sns_topic.SnsTopic(stack, "private_probe", lifecycle={"precondition": net.private_subnet_checks})
        expose(stack, vpc=net.vpc_id)
        return net

    built, net = build(make)
    assert not built.resources("aws_vpc") and not built.resources("aws_subnet")
    subnets = built.data("aws_subnet")
    assert sorted(subnets) == [
        "network_private-subnet-0b000000000000001",
        "network_private-subnet-0b000000000000002",
        "network_public-subnet-0a000000000000001",
        "network_public-subnet-0a000000000000002",
    ]
    check = subnets["network_public-subnet-0a000000000000001"]["lifecycle"]["postcondition"][0]
    assert check["condition"] == f'${{(self.vpc_id == "{VPC}")}}'
    assert "is not in VPC" in check["error_message"] and "network.public_subnet_ids" in check["error_message"]
    for kind in ("public", "private"):
        [pre] = built.resources("aws_sns_topic")[f"{kind}_probe"]["lifecycle"]["precondition"]
        ids = network.public_subnet_ids if kind == "public" else network.private_subnet_ids
        azs = ", ".join(f"data.aws_subnet.network_{kind}-{i}.availability_zone" for i in ids)
        assert pre["condition"] == f"${{(length(distinct([{azs}])) >= 2)}}"
        assert pre["error_message"] == f"network.{kind}_subnet_ids must span two or more Availability Zones."
    assert built.outputs() == {"vpc": VPC}
    assert net.private_subnet_ids == ["subnet-0b000000000000001", "subnet-0b000000000000002"]
