"""Resilience report: each figure on hand-made Terraform JSON with known answers,
single points of failure, objectives, the command line and the Mermaid diagram.

Pure Python except the example tests, which read the session's synthesized examples
(a copy: the report writes into the folder it reads)."""

from __future__ import annotations

import pytest
import yaml
from helpers import ROOT
from tf_builders import SEED_HEALTH_CHECK, StackBuilder, mixed_policy, multi_fleet_doc, ref, seed

from stacks.config import ConfigError, ResilienceObjectives, parse_config
from stacks.report import analyze_stack, check_objectives
from stacks.report.figures import is_production_name, on_demand_units


def fleet_of(report: dict, name: str | None = None) -> dict:
    fleets = report["fleets"]
    if name is None:
        assert len(fleets) == 1, list(fleets)
        return next(iter(fleets.values()))
    return fleets[name]


def ids(findings: list[dict]) -> list[str]:
    return [f["id"] for f in findings]


# --------------------------------------------------------------------------------------
# Figures on the seed topology (the design card's Pulumi program)
# --------------------------------------------------------------------------------------


def test_seed_topology_known_answers():
    report = analyze_stack("seed", seed().build())
    f = fleet_of(report)
    # 30 s interval x 2 failed checks + the 3 s timeout of the last one.
    assert f["unhealthy_detection_seconds"] == 63
    # No deregistration_delay in the JSON: the ELB default, 300 s.
    assert f["drain_seconds"] == 300
    # Grace period 300 s + 2 passing checks x 30 s, no slow start, no warm pool.
    assert f["time_to_serve_new_instance_seconds"] == {"cold": 360, "warm_pool": None}
    assert f["time_to_serve_breakdown"] == {
        "model_load_seconds": 300,
        "model_load_bound": "health_check_grace_period",
        "healthy_checks_seconds": 60,
        "slow_start_seconds": 0,
    }
    # Desired 2 over 2 AZs: one per AZ, one left after losing either.
    assert f["instances_per_availability_zone"] == {"us-east-1a": 1, "us-east-1b": 1}
    assert f["capacity_after_az_loss"] == {
        "instances": 1,
        "percent_of_desired": 50.0,
        "lost_with_largest_az": 1,
        "at_min_size": 0,
    }
    assert f["spot_share_percent"] == 0.0 and f["spot_pools"] == 0
    assert f["instance_types"] == ["t2.micro"]
    # min_size 1 is the one single point of failure of the seed.
    assert ids(f["single_points_of_failure"]) == ["min-size-below-2"]
    assert report["single_points_of_failure"] == []
    assert report["single_points_of_failure_count"] == 1
    assert f["routes"] == ["HTTP :80 default"]


def test_health_check_defaults_are_the_aws_ones_and_are_stated():
    b = seed()
    b.target_group("web", None)  # no health_check block at all
    report = analyze_stack("seed", b.build())
    f = fleet_of(report)
    # interval 30 x unhealthy 3 (provider default) + HTTP timeout 6 (ELB default).
    assert f["unhealthy_detection_seconds"] == 96
    assert f["time_to_serve_breakdown"]["healthy_checks_seconds"] == 90
    assert any("health_check.timeout not set; AWS default 6 s" in a for a in report["assumptions"])


def test_figures_read_numbers_written_as_strings():
    b = seed()
    b.target_group("web", {k: str(v) for k, v in SEED_HEALTH_CHECK.items()}, deregistration_delay="45", slow_start="60")
    f = fleet_of(analyze_stack("seed", b.build()))
    assert f["unhealthy_detection_seconds"] == 63
    assert f["drain_seconds"] == 45
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 300 + 60 + 60


@pytest.mark.parametrize(
    "azs, desired, after, pct, largest",
    [
        (["a", "b"], 2, 1, 50.0, 1),
        (["a", "b"], 1, 0, 0.0, 1),
        (["a", "b", "c"], 3, 2, 66.7, 1),
        (["a", "b", "c"], 5, 3, 60.0, 2),
        (["a", "b", "c"], 10, 6, 60.0, 4),
        (["a", "a", "b"], 4, 2, 50.0, 2),  # two subnets in one AZ count once
    ],
)
def test_capacity_after_az_loss(azs, desired, after, pct, largest):
    b = StackBuilder()
    private = b.subnets("priv", [f"eu-west-1{az}" for az in azs])
    b.launch_template("tmpl").group("g", subnets=private, desired=desired, min_size=1, max_size=10)
    loss = fleet_of(analyze_stack("x", b.build()))["capacity_after_az_loss"]
    assert (loss["instances"], loss["percent_of_desired"], loss["lost_with_largest_az"]) == (after, pct, largest)


def test_desired_capacity_defaults_to_min_size():
    report = analyze_stack("seed", seed(desired=None, min_size=2).build())
    f = fleet_of(report)
    assert f["desired_capacity"] == 2
    assert any("desired_capacity not set" in a for a in report["assumptions"])


# --------------------------------------------------------------------------------------
# Spot share and pools
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, on_demand", [(10, 10), (20, 15), (30, 20), (40, 25), (25, 18)])
def test_on_demand_units_follow_the_aws_example(size, on_demand):
    # EC2 Auto Scaling guide: base 10, then 50 % on-demand, rounded up for on-demand.
    assert on_demand_units(size, 10, 50) == on_demand


def test_spot_share_rounds_in_favour_of_on_demand_and_counts_pools():
    b = StackBuilder()
    private = b.subnets("priv", ["us-east-1a", "us-east-1b", "us-east-1c"])
    b.launch_template("tmpl", instance_type=None)
    b.group(
        "gpu",
        subnets=private,
        min_size=3,
        desired=3,
        max_size=12,
        capacity_rebalance=True,
        mixed_instances_policy=mixed_policy(["g5.2xlarge", "g6.2xlarge", "g6e.2xlarge", "g5.4xlarge"], 2, 25),
    )
    f = fleet_of(analyze_stack("x", b.build()))
    # desired 3: base 2 + ceil(25 % of 1) = 3 on-demand, no spot yet.
    assert f["spot_share_percent"] == 0.0
    # max 12: base 2 + ceil(25 % of 10) = 5 on-demand, 7 spot.
    assert f["spot_share_percent_at_max_size"] == 58.3
    assert f["spot_pools"] == 4 * 3
    assert f["instance_types"] == ["g5.2xlarge", "g6.2xlarge", "g6e.2xlarge", "g5.4xlarge"]
    assert f["single_points_of_failure"] == []


def test_all_spot_with_one_type_is_a_single_point_of_failure():
    b = StackBuilder()
    private = b.subnets("priv", ["us-east-1a", "us-east-1b"])
    b.launch_template("tmpl", instance_type=None)
    b.group(
        "gpu",
        subnets=private,
        min_size=2,
        desired=4,
        max_size=4,
        mixed_instances_policy=mixed_policy(["g5.xlarge"], 0, 0),
    )
    f = fleet_of(analyze_stack("x", b.build()))
    assert f["spot_share_percent"] == 100.0 and f["spot_pools"] == 2
    assert ids(f["single_points_of_failure"]) == ["single-instance-type-with-spot"]
    assert {"no-on-demand-capacity", "spot-without-capacity-rebalance"} <= set(ids(f["warnings"]))


def test_spot_from_launch_template_market_options():
    b = StackBuilder()
    private = b.subnets("priv", ["us-east-1a", "us-east-1b"])
    b.launch_template("tmpl", "g5.xlarge", instance_market_options={"market_type": "spot"})
    b.group("gpu", subnets=private, min_size=2, desired=2, max_size=2)
    f = fleet_of(analyze_stack("x", b.build()))
    assert f["spot_share_percent"] == 100.0 and f["spot_pools"] == 2
    assert "single-instance-type-with-spot" in ids(f["single_points_of_failure"])


def test_weighted_capacity_is_reported_in_units():
    b = StackBuilder()
    private = b.subnets("priv", ["us-east-1a", "us-east-1b"])
    b.launch_template("tmpl", instance_type=None)
    b.group(
        "gpu",
        subnets=private,
        min_size=4,
        desired=4,
        max_size=8,
        mixed_instances_policy=mixed_policy([("g5.xlarge", 1), ("g5.2xlarge", 2)], 2, 0),
    )
    report = analyze_stack("x", b.build())
    assert fleet_of(report)["spot_share_percent"] == 50.0
    assert any("capacity units" in a for a in report["assumptions"])


def test_drain_longer_than_spot_notice_is_a_warning():
    b = StackBuilder()
    private = b.subnets("priv", ["us-east-1a", "us-east-1b"])
    b.target_group("tg", dict(SEED_HEALTH_CHECK), deregistration_delay="900")
    b.launch_template("tmpl", instance_type=None)
    b.group(
        "gpu",
        subnets=private,
        tgs=["tg"],
        min_size=2,
        desired=2,
        max_size=6,
        capacity_rebalance=True,
        mixed_instances_policy=mixed_policy(["g5.xlarge", "g6.xlarge"], 2, 0),
    )
    f = fleet_of(analyze_stack("x", b.build()))
    assert f["drain_seconds"] == 900
    assert ids(f["warnings"]) == ["not-routed", "drain-longer-than-spot-notice", "replacement-below-desired"]


# --------------------------------------------------------------------------------------
# Time to serve: lifecycle hooks, warm pools, slow start
# --------------------------------------------------------------------------------------


def _hook(group: str, transition: str, timeout: int | None) -> dict:
    body = {
        "name": "h",
        "autoscaling_group_name": ref("aws_autoscaling_group", group, "name"),
        "lifecycle_transition": f"autoscaling:EC2_INSTANCE_{transition}",
        "default_result": "ABANDON",
    }
    if timeout is not None:
        body["heartbeat_timeout"] = timeout
    return body


def test_launch_hook_heartbeat_bounds_model_load():
    b = seed()
    b.add("aws_autoscaling_lifecycle_hook", "model_ready", _hook("pool", "LAUNCHING", 1200))
    f = fleet_of(analyze_stack("seed", b.build()))
    assert f["time_to_serve_new_instance_seconds"] == {"cold": 1200 + 60, "warm_pool": None}
    assert f["time_to_serve_breakdown"]["model_load_bound"] == "launch_lifecycle_hook_heartbeat_timeout"


def test_launch_hook_without_timeout_uses_the_one_hour_default():
    b = seed()
    b.add("aws_autoscaling_lifecycle_hook", "model_ready", _hook("pool", "LAUNCHING", None))
    assert fleet_of(analyze_stack("seed", b.build()))["time_to_serve_new_instance_seconds"]["cold"] == 3600 + 60


def test_initial_lifecycle_hook_block_and_termination_hook():
    b = seed(
        initial_lifecycle_hook=[
            {"name": "ready", "lifecycle_transition": "autoscaling:EC2_INSTANCE_LAUNCHING", "heartbeat_timeout": 600},
            {"name": "drain", "lifecycle_transition": "autoscaling:EC2_INSTANCE_TERMINATING", "heartbeat_timeout": 180},
        ]
    )
    f = fleet_of(analyze_stack("seed", b.build()))
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 600 + 60
    assert f["termination_hook_seconds"] == 180
    assert f["drain_seconds"] == 300  # the hook runs after deregistration; it adds no drain time


def test_hook_of_another_group_is_ignored():
    b = seed()
    b.add("aws_autoscaling_lifecycle_hook", "other", _hook("someone_else", "LAUNCHING", 1200))
    assert fleet_of(analyze_stack("seed", b.build()))["time_to_serve_new_instance_seconds"]["cold"] == 360


def test_warm_pool_with_launch_hook_skips_model_load():
    b = seed(
        max_size=6,
        warm_pool={
            "pool_state": "Stopped",
            "min_size": 1,
            "max_group_prepared_capacity": 4,
            "instance_reuse_policy": {"reuse_on_scale_in": True},
        },
    )
    b.add("aws_autoscaling_lifecycle_hook", "model_ready", _hook("pool", "LAUNCHING", 900))
    report = analyze_stack("seed", b.build())
    f = fleet_of(report)
    assert f["time_to_serve_new_instance_seconds"] == {"cold": 900 + 60, "warm_pool": 60}
    assert f["warm_pool"] == {"pool_state": "Stopped", "instances_at_desired_capacity": 2, "reuse_on_scale_in": True}
    assert "warm-pool-without-launch-hook" not in ids(f["warnings"])
    assert any("warm-pool time to serve assumes" in a for a in report["assumptions"])


def test_warm_pool_without_launch_hook_gains_nothing_and_says_why():
    b = seed(warm_pool={"pool_state": "Stopped"})
    f = fleet_of(analyze_stack("seed", b.build()))
    assert f["time_to_serve_new_instance_seconds"] == {"cold": 360, "warm_pool": 360}
    # max_group_prepared_capacity unset: max_size 3 - desired 2 = 1 instance in the pool.
    assert f["warm_pool"]["instances_at_desired_capacity"] == 1
    assert "warm-pool-without-launch-hook" in ids(f["warnings"])


def test_slow_start_adds_its_ramp():
    b = seed()
    b.target_group("web", dict(SEED_HEALTH_CHECK), slow_start=120, load_balancing_algorithm_type="round_robin")
    f = fleet_of(analyze_stack("seed", b.build()))
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 300 + 60 + 120


def fleet_name(doc: dict) -> str:
    """The name the report gives the one fleet of ``doc``."""
    return next(iter(analyze_stack("seed", doc)["fleets"]))


def test_no_grace_period_falls_back_to_warmup_then_none():
    f = fleet_of(analyze_stack("seed", seed(health_check_grace_period=0, default_instance_warmup=240).build()))
    assert f["time_to_serve_breakdown"]["model_load_bound"] == "default_instance_warmup"
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 240 + 60
    f = fleet_of(analyze_stack("seed", seed(health_check_grace_period=0).build()))
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 60
    assert "no-model-load-budget" in ids(f["warnings"])


def test_grace_shorter_than_health_checks_and_ec2_health_type_are_warnings():
    f = fleet_of(analyze_stack("seed", seed(health_check_grace_period=30).build()))
    assert "grace-shorter-than-health-checks" in ids(f["warnings"])
    f = fleet_of(analyze_stack("seed", seed(health_check_type="EC2").build()))
    assert "ec2-health-check-type" in ids(f["warnings"])


def test_a_grace_period_shorter_than_the_model_load_means_no_instance_ever_serves():
    """Case 7: synth warns that instances may be replaced before the model loads; the
    report, given the fleet's model_load_seconds (from its config), says the same: with
    ELB health checks and no launch hook, the group replaces each new instance before it
    serves, so there is no cold start time, and the objective on it is missed."""
    doc = seed(health_check_grace_period=120, health_check_type="ELB").build()
    name = fleet_name(doc)
    f = fleet_of(analyze_stack("seed", doc, {name: 600}))
    assert f["time_to_serve_new_instance_seconds"]["cold"] is None
    assert "grace-shorter-than-model-load" in ids(f["warnings"])
    [result] = check_objectives(
        {"fleets": {name: f}, "single_points_of_failure_count": 0},
        ResilienceObjectives(max_time_to_serve_new_instance_seconds=900),
    )
    assert result["met"] is False and "cannot be computed" in result["message"]
    # Without the model load time, or with a grace period that covers it, the figure is
    # the grace period plus the health checks, as before.
    assert fleet_of(analyze_stack("seed", doc))["time_to_serve_new_instance_seconds"]["cold"] == 120 + 60
    covered = seed(health_check_grace_period=700, health_check_type="ELB").build()
    f = fleet_of(analyze_stack("seed", covered, {name: 600}))
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 700 + 60
    assert "grace-shorter-than-model-load" not in ids(f["warnings"])
    # EC2 health checks never replace a loading instance: it serves once the model loads.
    ec2 = seed(health_check_grace_period=120, health_check_type="EC2").build()
    f = fleet_of(analyze_stack("seed", ec2, {name: 600}))
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 600 + 60
    assert f["time_to_serve_breakdown"]["model_load_bound"] == "model_load_seconds"


# --------------------------------------------------------------------------------------
# Availability Zones, NAT gateways, deletion protection
# --------------------------------------------------------------------------------------


def test_literal_subnet_ids_assume_one_az_each_and_say_so():
    b = StackBuilder()
    b.launch_template("tmpl")
    b.group("g", subnets=["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"], min_size=3, desired=3, max_size=6)
    report = analyze_stack("x", b.build())
    f = fleet_of(report)
    assert f["availability_zones"] == ["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"]
    assert f["capacity_after_az_loss"]["instances"] == 2
    assert any("one AZ per subnet is assumed" in a for a in report["assumptions"])


def test_one_az_is_a_single_point_of_failure():
    b = StackBuilder()
    private = b.subnets("priv", ["us-east-1a", "us-east-1a"])
    b.launch_template("tmpl").group("g", subnets=private, min_size=2, desired=2, max_size=4)
    f = fleet_of(analyze_stack("x", b.build()))
    assert f["availability_zones"] == ["us-east-1a"]
    assert f["capacity_after_az_loss"] == {
        "instances": 0,
        "percent_of_desired": 0.0,
        "lost_with_largest_az": 2,
        "at_min_size": 0,
    }
    assert ids(f["single_points_of_failure"]) == ["single-az"]


def _vpc_with_nats(nat_azs: list[str]) -> StackBuilder:
    b = seed(min_size=2)
    azs = ["us-east-1a", "us-east-1b"]
    for i, az in enumerate(nat_azs):
        b.add("aws_nat_gateway", f"gw{i}", {"subnet_id": ref("aws_subnet", f"pub{azs.index(az)}")})
    for i in range(len(azs)):
        nat = f"gw{i if len(nat_azs) > 1 else 0}"
        b.add("aws_route_table", f"rt{i}", {"vpc_id": ref("aws_vpc", "main")})
        b.add(
            "aws_route",
            f"r{i}",
            {
                "route_table_id": ref("aws_route_table", f"rt{i}"),
                "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": ref("aws_nat_gateway", nat),
            },
        )
        b.add(
            "aws_route_table_association",
            f"a{i}",
            {"subnet_id": ref("aws_subnet", f"priv{i}"), "route_table_id": ref("aws_route_table", f"rt{i}")},
        )
    return b


def test_single_nat_gateway_is_a_single_point_of_failure():
    report = analyze_stack("x", _vpc_with_nats(["us-east-1a"]).build())
    assert ids(report["single_points_of_failure"]) == ["single-nat-gateway"]
    assert "us-east-1b lose egress" in report["single_points_of_failure"][0]["message"]
    assert report["single_points_of_failure_count"] == 1


def test_one_nat_gateway_per_az_is_not():
    report = analyze_stack("x", _vpc_with_nats(["us-east-1a", "us-east-1b"]).build())
    assert report["single_points_of_failure"] == []


def test_inline_route_table_routes_are_followed():
    b = seed(min_size=2)
    b.add("aws_nat_gateway", "gw", {"subnet_id": ref("aws_subnet", "pub0")})
    b.add(
        "aws_route_table",
        "rt",
        {"route": [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": ref("aws_nat_gateway", "gw")}]},
    )
    for i in (0, 1):
        b.add(
            "aws_route_table_association",
            f"a{i}",
            {"subnet_id": ref("aws_subnet", f"priv{i}"), "route_table_id": ref("aws_route_table", "rt")},
        )
    assert ids(analyze_stack("x", b.build())["single_points_of_failure"]) == ["single-nat-gateway"]


@pytest.mark.parametrize(
    "name, production",
    [
        ("prod", True),
        ("prod-eu", True),
        ("ml-production", True),
        ("ai_prod", True),
        ("dev", False),
        ("product-search", False),
        ("preprod-x", False),
    ],
)
def test_production_names(name, production):
    assert is_production_name(name) is production


def test_deletion_protection_off_in_a_production_named_stack():
    doc = seed(min_size=2).build()
    assert ids(analyze_stack("prod-eu", doc)["single_points_of_failure"]) == ["deletion-protection-off"]
    assert analyze_stack("staging", doc)["single_points_of_failure"] == []
    doc["resource"]["aws_lb"]["front"]["enable_deletion_protection"] = True
    assert analyze_stack("prod-eu", doc)["single_points_of_failure"] == []


# --------------------------------------------------------------------------------------
# Several fleets behind one ALB, found by references, not names
# --------------------------------------------------------------------------------------


def test_multi_fleet_each_fleet_gets_its_own_target_group_figures():
    report = analyze_stack("ai", multi_fleet_doc())
    assert sorted(report["fleets"]) == ["chat", "embed"]
    chat, embed = report["fleets"]["chat"], report["fleets"]["embed"]
    assert chat["target_groups"] == ["alpha"] and embed["target_groups"] == ["beta"]
    assert chat["unhealthy_detection_seconds"] == 10 * 3 + 5
    assert embed["unhealthy_detection_seconds"] == 5 * 2 + 2
    assert (chat["drain_seconds"], embed["drain_seconds"]) == (600, 30)
    assert embed["time_to_serve_new_instance_seconds"]["cold"] == 300 + 10 + 60
    assert chat["routes"] == ["HTTPS :443 default"]
    assert embed["routes"] == ["HTTPS :443 rule 10 (path /v1/embeddings*)"]
    assert chat["spot_pools"] == 2 * 3 and embed["spot_pools"] == 0
    assert chat["capacity_after_az_loss"]["percent_of_desired"] == 66.7
    assert report["single_points_of_failure_count"] == 0


def test_warm_on_demand_group_and_spot_group_in_one_target_group_are_one_fleet():
    """The layout stacks/fleet.py builds when a fleet has a warm pool and a spot group."""
    b = seed(
        min_size=2,
        max_size=4,
        desired=2,
        fleet="chat",
        warm_pool={"pool_state": "Stopped", "min_size": 2},
        initial_lifecycle_hook=[
            {
                "name": "model-ready",
                "lifecycle_transition": "autoscaling:EC2_INSTANCE_LAUNCHING",
                "heartbeat_timeout": 600,
            }
        ],
    )
    private = [ref("aws_subnet", "priv0"), ref("aws_subnet", "priv1")]
    b.group(
        "spot",
        subnets=private,
        tgs=["web"],
        min_size=0,
        max_size=6,
        desired=2,
        fleet="chat",
        capacity_rebalance=True,
        mixed_instances_policy=mixed_policy(["g5.xlarge", "g6.xlarge"], 0, 0),
    )
    report = analyze_stack("ai", b.build())
    assert list(report["fleets"]) == ["chat"]
    chat = report["fleets"]["chat"]
    assert chat["autoscaling_groups"] == ["pool", "spot"]
    assert (chat["min_size"], chat["desired_capacity"], chat["max_size"]) == (2, 4, 10)
    assert chat["instances_per_availability_zone"] == {"us-east-1a": 2, "us-east-1b": 2}
    assert chat["capacity_after_az_loss"]["instances"] == 2
    assert chat["spot_share_percent"] == 50.0 and chat["spot_share_percent_at_max_size"] == 60.0
    assert chat["spot_pools"] == 2 * 2
    assert chat["time_to_serve_new_instance_seconds"] == {"cold": 600 + 60, "warm_pool": 60}
    # The spot group alone has min_size 0, but the fleet keeps two instances.
    assert not any(f["id"] == "min-size-below-2" for f in chat["single_points_of_failure"])
    assert sorted(chat["groups"]) == ["pool", "spot"]


# --------------------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------------------


def test_objectives_pass_and_fail_with_the_figure_named():
    report = analyze_stack("seed", seed().build())
    results = check_objectives(
        report,
        ResilienceObjectives(
            max_unhealthy_detection_seconds=60,
            max_drain_seconds=300,
            max_time_to_serve_new_instance_seconds=360,
            min_capacity_after_az_loss_percent=50,
            max_single_points_of_failure=0,
        ),
    )
    by_key = {r["objective"]: r for r in results}
    assert by_key["max_unhealthy_detection_seconds"]["met"] is False
    assert by_key["max_unhealthy_detection_seconds"]["actual"] == 63
    assert "63 s misses max_unhealthy_detection_seconds <= 60 s" in by_key["max_unhealthy_detection_seconds"]["message"]
    assert by_key["max_drain_seconds"]["met"] is True  # limits are inclusive
    assert by_key["max_time_to_serve_new_instance_seconds"]["met"] is True
    assert by_key["min_capacity_after_az_loss_percent"]["met"] is True
    assert by_key["max_single_points_of_failure"] == {
        "objective": "max_single_points_of_failure",
        "fleet": None,
        "limit": 0,
        "actual": 1,
        "met": False,
        "message": "stack: 1 single point(s) of failure misses max_single_points_of_failure <= 0",
    }
    assert check_objectives(report, None) == []
    assert check_objectives(report, ResilienceObjectives()) == []


def test_objectives_apply_to_every_fleet_and_spot_pools_only_to_spot_fleets():
    report = analyze_stack("ai", multi_fleet_doc())
    results = check_objectives(report, {"min_spot_pools": 8, "max_drain_seconds": 300, "max_spot_share_percent": 50})
    got = {(r["objective"], r["fleet"]): r["met"] for r in results}
    assert got == {
        ("min_spot_pools", "chat"): False,  # 2 types x 3 AZs = 6 pools
        ("max_drain_seconds", "chat"): False,  # 600 s
        ("max_drain_seconds", "embed"): True,  # 30 s
        ("max_spot_share_percent", "chat"): False,  # desired 3, base 1, rest spot: 66.7 %
        ("max_spot_share_percent", "embed"): True,  # on-demand only
    }


def test_objective_on_a_fleet_without_target_group_is_not_met():
    b = StackBuilder()
    private = b.subnets("priv", ["us-east-1a", "us-east-1b"])
    b.launch_template("tmpl").group("g", subnets=private, min_size=2)
    (result,) = check_objectives(analyze_stack("x", b.build()), {"max_unhealthy_detection_seconds": 30})
    assert result["met"] is False and result["actual"] is None and "cannot be computed" in result["message"]


def test_objectives_config_section_is_validated():
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["resilience_objectives"] = {
        "max_unhealthy_detection_seconds": 10,
        "min_capacity_after_az_loss_percent": 101,
        "max_unhealthy_detection": 30,
    }
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "dev.yaml")
    fields = sorted(p.field for p in exc.value.problems)
    assert fields == [
        "resilience_objectives.max_unhealthy_detection",
        "resilience_objectives.max_unhealthy_detection_seconds",
        "resilience_objectives.min_capacity_after_az_loss_percent",
    ]
    data["resilience_objectives"] = {"max_unhealthy_detection_seconds": 12}
    assert parse_config(data, "dev.yaml").resilience_objectives.max_unhealthy_detection_seconds == 12


def test_traffic_source_attachment_and_hook_by_literal_group_name():
    b = seed(target_group_arns=[])
    b.doc["resource"]["aws_autoscaling_group"]["pool"]["name"] = "seed-pool"
    b.add(
        "aws_autoscaling_traffic_source_attachment",
        "att",
        {
            "autoscaling_group_name": "seed-pool",
            "traffic_source": {"identifier": ref("aws_lb_target_group", "web", "arn"), "type": "elbv2"},
        },
    )
    b.add(
        "aws_autoscaling_lifecycle_hook",
        "ready",
        {
            "name": "ready",
            "autoscaling_group_name": "seed-pool",
            "lifecycle_transition": "autoscaling:EC2_INSTANCE_LAUNCHING",
            "heartbeat_timeout": 700,
        },
    )
    f = fleet_of(analyze_stack("seed", b.build()))
    assert f["target_groups"] == ["web"] and f["unhealthy_detection_seconds"] == 63
    assert f["time_to_serve_new_instance_seconds"]["cold"] == 700 + 60
