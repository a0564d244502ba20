"""GPU capacity: attribute-based instance selection in a fleet's groups, Capacity
Reservations and Capacity Blocks in its launch template (stacks/fleet.py), and what the
plan-time launch checks make of types chosen by attributes (stacks/launch_checks.py)."""

from __future__ import annotations

from construct_testing import AMI, build, fleet
from test_fleet import fleet_group

from stacks.config import LaunchTemplateConfig
from stacks.launch_checks import LaunchChecks

GPU = {
    "vcpu_count": {"min": 4, "max": 16},
    "memory_mib": {"min": 16384},
    "accelerator_manufacturers": ["nvidia"],
    "accelerator_count": {"min": 1},
    "accelerator_total_memory_mib": {"min": 22000, "max": 49152},
    "excluded_instance_types": ["g4dn.*"],
}


def test_attribute_based_overrides_carry_the_requirements_and_lowest_price():
    built, _ = fleet_group(
        autoscaling_group={"mixed_instances_policy": {"instance_types": [{"instance_requirements": GPU}]}}
    )
    mip = built.only("aws_autoscaling_group")["mixed_instances_policy"]
    [override] = mip["launch_template"]["override"]
    assert "instance_type" not in override
    # Unset bounds and empty lists are left out: AWS reads them as "no limit".
    assert override["instance_requirements"] == {
        "accelerator_count": {"min": 1},
        "accelerator_manufacturers": ["nvidia"],
        "accelerator_total_memory_mib": {"max": 49152, "min": 22000},
        "excluded_instance_types": ["g4dn.*"],
        "memory_mib": {"min": 16384},
        "vcpu_count": {"max": 16, "min": 4},
    }
    # AWS refuses prioritized with instance requirements; lowest-price is its default there.
    assert mip["instances_distribution"]["on_demand_allocation_strategy"] == "lowest-price"
    assert "instance_type" not in built.only("aws_launch_template")


def test_a_spot_group_may_select_by_attributes_beside_a_named_main_type():
    built, _ = fleet_group(
        launch_template={"instance_type": "g6e.xlarge"},
        spot_autoscaling_group={"max_size": 6, "instance_types": [{"instance_requirements": GPU}]},
    )
    assert built.only("aws_launch_template")["instance_type"] == "g6e.xlarge"
    spot = built.resources("aws_autoscaling_group")["fleet-chat_spot_autoscaling_group"]["mixed_instances_policy"]
    assert spot["instances_distribution"]["on_demand_allocation_strategy"] == "lowest-price"
    assert spot["launch_template"]["override"][0]["instance_requirements"]["accelerator_manufacturers"] == ["nvidia"]
    # Only the named type is checked at plan time; the spot group's types are AWS's choice.
    f = fleet(
        launch_template={"instance_type": "g6e.xlarge"},
        spot_autoscaling_group={"max_size": 6, "instance_types": [{"instance_requirements": GPU}]},
    )
    assert f.instance_type_fields("fleets.chat") == {"g6e.xlarge": "fleets.chat.launch_template.instance_type"}
    # Attribute-based selection is not "spot with a single instance type".
    assert not [field for field, _ in f.advisories() if field.startswith("spot_autoscaling_group")]


def test_named_types_keep_prioritized_on_demand_allocation():
    built, _ = fleet_group(autoscaling_group={"mixed_instances_policy": {"instance_types": ["g5.xlarge", "g6.xlarge"]}})
    mip = built.only("aws_autoscaling_group")["mixed_instances_policy"]
    assert mip["instances_distribution"]["on_demand_allocation_strategy"] == "prioritized"
    assert all("instance_requirements" not in o for o in mip["launch_template"]["override"])


def test_capacity_block_template_targets_the_reservation_by_id():
    built, _ = fleet_group(
        launch_template={
            "instance_type": "p5.48xlarge",
            "instance_market_options": {"market_type": "capacity-block"},
            "capacity_reservation_specification": {
                "capacity_reservation_target": {"capacity_reservation_id": "cr-02168da1478b509e0"}
            },
        }
    )
    lt = built.only("aws_launch_template")
    assert lt["instance_type"] == "p5.48xlarge"
    assert lt["instance_market_options"] == {"market_type": "capacity-block"}
    assert lt["capacity_reservation_specification"] == {
        "capacity_reservation_target": {"capacity_reservation_id": "cr-02168da1478b509e0"}
    }
    assert "mixed_instances_policy" not in built.only("aws_autoscaling_group")


def test_capacity_reservation_preference_and_the_default():
    built, _ = fleet_group(
        launch_template={"capacity_reservation_specification": {"capacity_reservation_preference": "none"}}
    )
    lt = built.only("aws_launch_template")
    assert lt["capacity_reservation_specification"] == {"capacity_reservation_preference": "none"}
    assert "instance_market_options" not in lt
    plain, _ = fleet_group()
    # Unset: no block, AWS's own default (open) applies; no capacity block.
    assert not {"capacity_reservation_specification", "instance_market_options"} & set(
        plain.only("aws_launch_template")
    )


def test_launch_checks_skip_types_chosen_by_attributes():
    """A fleet whose every type is chosen by attributes names no type: no instance type
    data source and no type check (AWS picks the types at launch); the AMI is still read."""
    lt = LaunchTemplateConfig.model_validate({"image_id": AMI})

    def make(stack):
        return LaunchChecks(
            stack,
            "fleet-chat",
            fleet_name="chat",
            region="us-east-1",
            launch_template=lt,
            instance_types={},
            availability_zones=["us-east-1a", "us-east-1b"],
            az_field="network.create_vpc.availability_zones",
        )

    built, made = build(make)
    assert made.group_checks == [] and made.template_checks == []
    assert set(built.data("aws_ami")) == {"fleet-chat_ami"}
    assert not built.data("aws_ec2_instance_types") and not built.data("aws_ec2_instance_type_offerings")
