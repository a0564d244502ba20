"""Spot pools of attribute-based instance selection: an estimate from the attributes
(stacks/report/gpu_types.py) x the group's AZs, on hand-made Terraform JSON."""

from __future__ import annotations

from tf_builders import StackBuilder, mixed_policy

from stacks.report import analyze_stack
from stacks.report.gpu_types import GPU_TYPES, estimate_types
from stacks.report.render import fleet_row

#: One NVIDIA GPU of 22+ GiB, 4-16 vCPUs (config/staging.yaml's requirements).
SINGLE_GPU = {
    "vcpu_count": {"min": 4, "max": 16},
    "memory_mib": {"min": 16384},
    "accelerator_types": ["gpu"],
    "accelerator_manufacturers": ["nvidia"],
    "accelerator_count": {"min": 1, "max": 1},
    "accelerator_total_memory_mib": {"min": 22000},
}


def attribute_policy(requirements: list[dict], base: int, pct: int) -> dict:
    policy = mixed_policy([], base, pct, on_demand_allocation_strategy="lowest-price")
    policy["launch_template"]["override"] = [{"instance_requirements": r} for r in requirements]
    return policy


def one_fleet(requirements: list[dict], azs: list[str], base: int = 1, pct: int = 0, desired: int = 2) -> dict:
    b = StackBuilder()
    private = b.subnets("priv", azs)
    b.launch_template("tmpl", instance_type=None)
    b.group(
        "gpu",
        subnets=private,
        min_size=desired,
        desired=desired,
        max_size=6,
        capacity_rebalance=True,
        mixed_instances_policy=attribute_policy(requirements, base, pct),
    )
    report = analyze_stack("x", b.build())
    [fleet] = report["fleets"].values()
    return fleet | {"assumptions": report["assumptions"]}


def test_single_gpu_requirements_match_nine_types_in_each_az():
    f = one_fleet([SINGLE_GPU], ["us-west-2a", "us-west-2b"])
    # g5, g6, g6e in xlarge, 2xlarge, 4xlarge (8xlarge has 32 vCPUs; g4dn's T4 has 16 GiB).
    assert f["spot_pool_instance_types"] == [
        f"{family}.{size}" for family in ("g5", "g6", "g6e") for size in ("2xlarge", "4xlarge", "xlarge")
    ]
    assert f["spot_pools"] == 9 * 2 and f["spot_pools_estimated"] is True
    assert f["instance_types"] == []  # nothing named
    assert f["single_points_of_failure"] == []
    [note] = [n for n in f["assumptions"] if "estimate" in n]
    assert "9 GPU type(s)" in note and "x 2 AZ(s)" in note and "2026-12-02" in note
    assert fleet_row("gpu", f)[7] == "~18 (estimate)"


def test_allowed_types_and_accelerator_count_narrow_the_estimate():
    multi = {
        "vcpu_count": {"min": 1},
        "memory_mib": {"min": 1},
        "accelerator_count": {"min": 4},
        "allowed_instance_types": ["g6e.*"],
    }
    f = one_fleet([multi], ["us-east-1a", "us-east-1b", "us-east-1c"])
    assert f["spot_pool_instance_types"] == ["g6e.12xlarge", "g6e.24xlarge", "g6e.48xlarge"]
    assert f["spot_pools"] == 3 * 3


def test_one_matching_type_is_a_single_point_of_failure():
    a100 = {"vcpu_count": {"min": 8}, "memory_mib": {"min": 32768}, "accelerator_names": ["a100"]}
    f = one_fleet([a100], ["us-east-1a", "us-east-1b"], base=0, pct=0)
    assert f["spot_pool_instance_types"] == ["p4d.24xlarge"] and f["spot_pools"] == 2
    assert [s["id"] for s in f["single_points_of_failure"]] == ["single-instance-type-with-spot"]


def test_requirements_without_accelerators_are_a_lower_bound():
    types, gpu_only = estimate_types({"vcpu_count": {"min": 4, "max": 4}, "memory_mib": {"min": 16384}})
    assert gpu_only is False and types == ["g4dn.xlarge", "g5.xlarge", "g6.xlarge", "g6e.xlarge"]
    f = one_fleet([{"vcpu_count": {"min": 4, "max": 4}, "memory_mib": {"min": 16384}}], ["us-east-1a", "us-east-1b"])
    assert any("lower bound" in n for n in f["assumptions"])


def test_no_spot_no_pools_and_no_estimate():
    f = one_fleet([SINGLE_GPU], ["us-east-1a", "us-east-1b"], base=2, pct=100)
    assert f["spot_pools"] == 0 and f["spot_pools_estimated"] is False
    assert not any("estimate" in n for n in f["assumptions"])


def test_a_spot_group_by_attributes_beside_a_named_on_demand_group():
    """prod-multi's shape: a warm on-demand group and a spot group in one target group.
    The fleet's pools are the spot group's estimated types x AZs."""
    b = StackBuilder()
    private = b.subnets("priv", ["us-west-2a", "us-west-2b", "us-west-2c"])
    b.target_group("tg")
    b.launch_template("tmpl", "g6e.2xlarge")
    b.group("main", subnets=private, min_size=2, desired=2, max_size=6, tgs=["tg"])
    b.group(
        "spot",
        subnets=private,
        min_size=0,
        desired=0,
        max_size=10,
        capacity_rebalance=True,
        tgs=["tg"],
        mixed_instances_policy=attribute_policy([SINGLE_GPU], 0, 0),
    )
    [f] = analyze_stack("x", b.build())["fleets"].values()
    assert f["spot_pools"] == 9 * 3 and f["spot_pools_estimated"] is True
    assert "g6e.2xlarge" in f["spot_pool_instance_types"] and len(f["spot_pool_instance_types"]) == 9


def test_the_table_is_what_its_sources_say():
    """Spot checks of stacks/report/gpu_types.py against the cited pages."""
    assert GPU_TYPES["g5.xlarge"][1:] == (4, 16 * 1024, 1, "a10g", 24 * 1024)
    assert GPU_TYPES["g6.12xlarge"][1:] == (48, 192 * 1024, 4, "l4", 96 * 1024)
    assert GPU_TYPES["g6e.xlarge"][1:] == (4, 32 * 1024, 1, "l40s", 48 * 1024)
    assert GPU_TYPES["p5.48xlarge"][1:] == (192, 2048 * 1024, 8, "h100", 640 * 1024)
    assert GPU_TYPES["g4dn.12xlarge"][1:] == (48, 192 * 1024, 4, "t4", 64 * 1024)
