"""stacks/deployed.py: the deployed load balancer and groups, read at plan time, and the
preconditions that refuse changes AWS or the provider cannot make in place. What the
checks do against a deployed stack is proven on the emulator
(tests/e2e/test_lifecycle.py); here, what they read and when they exist."""

from __future__ import annotations

from construct_testing import aws, build

from stacks.config import AutoscalingGroupConfig
from stacks.deployed import DeployedGroup, DeployedLoadBalancer


def probe(stack, checks):
    """A stand-in resource carrying ``checks``, so the test can read them."""
    aws.sns_topic.SnsTopic(stack, "probe", lifecycle={"precondition": checks} if checks else None)


def test_load_balancer_scheme_is_read_by_name_and_checked():
    def make(stack):
        made = DeployedLoadBalancer(stack, "deployed", alb_name="dev-alb", internal=True)
        probe(stack, made.checks)
        return made

    built, _ = build(make)
    # Every load balancer of the region, matched by the name in its ARN (no tag trusted);
    # the detailed read exists only when one matched (none before the first apply).
    assert built.data("aws_lbs") == {"deployed_load_balancers": built.data("aws_lbs")["deployed_load_balancers"]}
    assert "tags" not in built.data("aws_lbs")["deployed_load_balancers"]
    local = built.doc["locals"]["deployed_load_balancer_arns"]
    assert '":loadbalancer/app/dev-alb/"' in local and "data.aws_lbs.deployed_load_balancers.arns" in local
    lb = built.data("aws_lb")["deployed_load_balancer"]
    assert lb["count"] == "${length(local.deployed_load_balancer_arns)}"
    [check] = built.resources("aws_sns_topic")["probe"]["lifecycle"]["precondition"]
    # alltrue over the instances: `x[0] ... || ...` would fail with none (no short-circuit).
    assert check["condition"] == "${alltrue([for lb in data.aws_lb.deployed_load_balancer : lb.internal == true])}"
    assert check["error_message"].startswith(
        "load_balancer.internal: the deployed load balancer dev-alb is internet-facing, and AWS cannot change"
    )
    assert "docs/change-effects.md" in check["error_message"]


def group_checks(**section):
    def make(stack):
        made = DeployedGroup(
            stack,
            "fleet-chat-deployed",
            fleet_name="chat",
            group_name="dev-chat",
            autoscaling_group=AutoscalingGroupConfig.model_validate(section),
        )
        probe(stack, made.checks)
        return made

    built, made = build(make)
    return built, made.checks


def test_groups_are_read_only_when_a_check_needs_them():
    built, checks = group_checks(min_size=1, max_size=2)
    assert checks == [] and built.data("aws_autoscaling_groups") == {}
    built, checks = group_checks(warm_pool={"min_size": 1})
    assert checks == [] and built.data("aws_autoscaling_group") == {}


def test_mixed_instances_policy_is_refused_while_a_warm_pool_is_deployed():
    built, _ = group_checks(mixed_instances_policy={"instance_types": ["g5.xlarge", "g6.xlarge"]})
    found = built.data("aws_autoscaling_groups")["fleet-chat-deployed_autoscaling_groups"]
    assert found["names"] == ["dev-chat"]
    group = built.data("aws_autoscaling_group")["fleet-chat-deployed_autoscaling_group"]
    assert group["count"] == "${length(data.aws_autoscaling_groups.fleet-chat-deployed_autoscaling_groups.names)}"
    [check] = built.resources("aws_sns_topic")["probe"]["lifecycle"]["precondition"]
    assert "length(g.warm_pool) == 0" in check["condition"]
    assert check["error_message"].startswith("fleets.chat.autoscaling_group.mixed_instances_policy: the deployed group")
    assert "#42437" in check["error_message"] and "two applies" in check["error_message"]


def test_a_warm_pool_minimum_of_zero_is_refused_while_a_larger_one_is_deployed():
    built, _ = group_checks(warm_pool={"min_size": 0})
    [check] = built.resources("aws_sns_topic")["probe"]["lifecycle"]["precondition"]
    assert "p.min_size == 0" in check["condition"]
    assert check["error_message"].startswith("fleets.chat.autoscaling_group.warm_pool.min_size:")
    assert "#44732" in check["error_message"]


def test_a_created_network_is_read_by_its_tags_and_its_cidrs_checked():
    from stacks.deployed import DeployedNetwork

    tags = {"environment": "dev", "managed-by": "ai-fleet-terraform"}

    def make(stack):
        made = DeployedNetwork(
            stack,
            "network_deployed",
            vpc_name="dev",
            cidr_block="10.20.0.0/16",
            subnets={"dev-public-us-east-1a": "10.20.0.0/20", "dev-private-us-east-1a": "10.20.32.0/20"},
            tags=tags,
        )
        probe(stack, made.checks)
        return made

    built, _ = build(make)
    assert built.data("aws_vpcs")["network_deployed_vpcs"]["tags"] == {**tags, "Name": "dev"}
    found = built.data("aws_subnets")["network_deployed_subnets"]
    assert found["tags"] == tags
    assert found["filter"] == [{"name": "tag:Name", "values": ["dev-private-us-east-1a", "dev-public-us-east-1a"]}]
    assert built.data("aws_subnet")["network_deployed_subnet"]["for_each"] == (
        "${toset(data.aws_subnets.network_deployed_subnets.ids)}"
    )
    vpc_check, subnet_check = built.resources("aws_sns_topic")["probe"]["lifecycle"]["precondition"]
    assert vpc_check["condition"] == (
        '${alltrue([for v in data.aws_vpc.network_deployed_vpc : v.cidr_block == "10.20.0.0/16"])}'
    )
    assert '"dev-public-us-east-1a" = "10.20.0.0/20"' in subnet_check["condition"]
    assert vpc_check["error_message"].startswith("network.create_vpc.cidr_block: the deployed VPC dev")
    assert subnet_check["error_message"].startswith("network.create_vpc: a deployed subnet of dev")
