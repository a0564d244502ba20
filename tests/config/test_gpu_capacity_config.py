"""GPU capacity keys of the config: what a Capacity Block fleet may not have beside it,
attribute-based selection's defaults and what it does to the plan-time type checks and
advisories (the one-message cases are in tests/bad_configs/rule-capacity-*,
rule-attribute-based-* and rule-instance-requirements-*)."""

from __future__ import annotations

import copy

import pytest
import yaml
from helpers import ROOT

from stacks.config import ConfigError, parse_config

BLOCK = {
    "instance_type": "p5.48xlarge",
    "instance_market_options": {"market_type": "capacity-block"},
    "capacity_reservation_specification": {
        "capacity_reservation_target": {"capacity_reservation_id": "cr-0123456789abcdef0"}
    },
}
REQUIREMENTS = {"vcpu_count": {"min": 4}, "memory_mib": {"min": 16384}, "accelerator_manufacturers": ["nvidia"]}


def dev() -> dict:
    return yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def with_chat(**sections) -> dict:
    data = dev()
    chat = data["fleets"]["chat"]
    for key, value in sections.items():
        chat[key] = {**chat.get(key, {}), **copy.deepcopy(value)}
    return data


def problems(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "x.yaml")
    return [(p.field, p.message) for p in exc.value.problems]


def test_a_capacity_block_fleet_is_a_plain_group():
    plain = parse_config(with_chat(launch_template=BLOCK), "x.yaml")
    assert plain.fleets["chat"].launch_template.capacity_block
    found = problems(
        with_chat(
            launch_template=BLOCK,
            autoscaling_group={
                "mixed_instances_policy": {"instance_types": ["p5.48xlarge", "p4d.24xlarge"]},
                "warm_pool": {"min_size": 1},
            },
        )
    )
    fields = [f for f, _ in found]
    # Each one named, the rule about warm pools and mixed instances as well.
    assert "fleets.chat.autoscaling_group.mixed_instances_policy" in fields
    assert "fleets.chat.autoscaling_group.warm_pool" in fields
    [mixed] = [m for f, m in found if f == "fleets.chat.autoscaling_group.mixed_instances_policy"]
    assert "Capacity Block" in mixed and "a mixed instances policy" in mixed


def test_a_resource_group_target_is_not_a_capacity_block_target():
    block = copy.deepcopy(BLOCK)
    block["capacity_reservation_specification"] = {
        "capacity_reservation_target": {
            "capacity_reservation_resource_group_arn": "arn:aws:resource-groups:us-east-1:123456789012:group/gpus"
        }
    }
    [(field, message)] = problems(with_chat(launch_template=block))
    assert field == "fleets.chat.launch_template.instance_market_options"
    assert "reservation ID" in message


def test_attribute_based_selection_defaults_and_plan_checks():
    cfg = parse_config(
        with_chat(
            autoscaling_group={
                "mixed_instances_policy": {
                    "instance_types": [{"instance_requirements": REQUIREMENTS}],
                    "on_demand_percentage_above_base_capacity": 0,
                }
            }
        ),
        "x.yaml",
    )
    fleet = cfg.fleets["chat"]
    mip = fleet.autoscaling_group.mixed_instances_policy
    assert mip.attribute_based and mip.explicit_types == []
    assert mip.on_demand_allocation_strategy is None
    assert mip.effective_on_demand_allocation_strategy == "lowest-price"
    # No named type: nothing for the plan-time type checks, and no "single type" advisory.
    assert fleet.instance_type_fields("fleets.chat") == {}
    assert not [f for f, _ in fleet.advisories() if f.endswith("instance_types")]
    # Explicit lowest-price is accepted; named types keep prioritized.
    named = parse_config(
        with_chat(autoscaling_group={"mixed_instances_policy": {"instance_types": ["g5.xlarge", "g6.xlarge"]}}),
        "x.yaml",
    )
    assert named.fleets["chat"].autoscaling_group.mixed_instances_policy.effective_on_demand_allocation_strategy == (
        "prioritized"
    )


def test_vcpu_and_memory_minimums_are_required():
    found = problems(
        with_chat(
            spot_autoscaling_group={
                "max_size": 2,
                "instance_types": [{"instance_requirements": {"vcpu_count": {"max": 8}, "memory_mib": {"min": 1}}}],
            }
        )
    )
    assert [f for f, _ in found] == [
        "fleets.chat.spot_autoscaling_group.instance_types.0.instance_requirements.vcpu_count.min"
    ]


def test_accelerator_names_are_auto_scalings():
    found = problems(
        with_chat(
            spot_autoscaling_group={
                "max_size": 2,
                "instance_types": [{"instance_requirements": {**REQUIREMENTS, "accelerator_names": ["l40s"]}}],
            }
        )
    )
    [(field, message)] = found
    assert field == "fleets.chat.spot_autoscaling_group.instance_types.0.instance_requirements.accelerator_names.0"
    assert "a100" in message
