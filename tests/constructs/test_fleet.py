"""stacks/fleet.py: instance role, launch template and Auto Scaling group(s) of a fleet."""

from __future__ import annotations

import base64
import json

from construct_testing import AMI, build, expose, fleet, ref

from stacks.fleet import GROUP_METRICS, FleetGroup, rollback_alarms

SUBNETS = ["subnet-0b000000000000001", "subnet-0b000000000000002"]
SG = "sg-0123456789abcdef0"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/chat/1"
TAGS = {"environment": "dev", "managed-by": "ai-fleet-terraform", "team": "ml"}


def fleet_group(user_data=None, rollback_alarm_names=(), **sections):
    def make(stack):
        fg = FleetGroup(
            stack,
            "fleet-chat",
            environment="dev",
            region="us-east-1",
            tags=TAGS,
            fleet_name="chat",
            fleet=fleet(**sections),
            subnet_ids=SUBNETS,
            security_group_id=SG,
            target_group_arn=TG,
            user_data=user_data,
            partition="aws",
            image_id=AMI,
            root_device_name="/dev/sda1",
            rollback_alarm_names=rollback_alarm_names,
        )
        outputs = {"role": fg.role_name, "group": fg.autoscaling_group_name, "template": fg.launch_template_id}
        if fg.spot_autoscaling_group_name is not None:
            outputs["spot"] = fg.spot_autoscaling_group_name
        expose(stack, **outputs)
        return fg

    return build(make)


def test_launch_template_requires_imdsv2_encrypts_the_root_and_has_no_public_ip():
    built, _ = fleet_group(user_data="#!/bin/bash\necho hi\n", launch_template={"http_put_response_hop_limit": 2})
    lt = built.only("aws_launch_template")
    assert lt["metadata_options"] == {
        "http_endpoint": "enabled",
        "http_put_response_hop_limit": 2,
        "http_tokens": "required",
        "instance_metadata_tags": "disabled",
    }
    [device] = lt["block_device_mappings"]
    assert device["device_name"] == "/dev/sda1"  # the AMI's root (LaunchChecks reads it)
    assert device["ebs"] == {
        "delete_on_termination": "true",
        "encrypted": "true",
        "volume_size": 100,
        "volume_type": "gp3",
    }
    [nic] = lt["network_interfaces"]
    assert nic["associate_public_ip_address"] == "false" and nic["security_groups"] == [SG]
    assert (lt["image_id"], lt["instance_type"], lt["update_default_version"]) == (AMI, "t3.medium", True)
    assert base64.b64decode(lt["user_data"]).decode() == "#!/bin/bash\necho hi\n"
    assert lt["iam_instance_profile"] == {"arn": ref("aws_iam_instance_profile", "fleet-chat_instance_profile", "arn")}
    # Cost tags reach the instances and volumes (provider default_tags do not).
    specs = {s["resource_type"]: s["tags"] for s in lt["tag_specifications"]}
    assert specs == {kind: {"Name": "dev-chat", "fleet": "chat", **TAGS} for kind in ("instance", "volume")}


def test_group_follows_the_template_version_and_the_model_load_time():
    built, _ = fleet_group(preset="vllm")
    asg = built.only("aws_autoscaling_group")
    assert asg["name"] == "dev-chat"
    # latest_version, not $Latest: a new template version shows in the plan.
    assert asg["launch_template"] == {
        "id": ref("aws_launch_template", "fleet-chat_launch_template", "id"),
        "version": ref("aws_launch_template", "fleet-chat_launch_template", "latest_version"),
    }
    assert (asg["min_size"], asg["max_size"], asg["desired_capacity"]) == (2, 4, 2)
    assert asg["health_check_type"] == "ELB"
    assert asg["health_check_grace_period"] == 620  # 600 s load + 2 x 10 s checks
    assert asg["default_instance_warmup"] == 600
    assert (asg["target_group_arns"], asg["vpc_zone_identifier"]) == ([TG], SUBNETS)
    assert asg["enabled_metrics"] == GROUP_METRICS and asg["metrics_granularity"] == "1Minute"
    assert asg["instance_refresh"] == {
        "preferences": {
            "auto_rollback": True,
            "max_healthy_percentage": 110,
            "min_healthy_percentage": 100,
            "skip_matching": True,
        },
        "strategy": "Rolling",
    }
    # Launch before terminate outside refreshes too, and other AZs when one has no capacity.
    assert asg["instance_maintenance_policy"] == {"min_healthy_percentage": 100, "max_healthy_percentage": 110}
    assert asg["availability_zone_distribution"] == {"capacity_distribution_strategy": "balanced-best-effort"}
    assert all(t["propagate_at_launch"] is False for t in asg["tag"])
    assert {t["key"]: t["value"] for t in asg["tag"]} == {"Name": "dev-chat", "fleet": "chat", **TAGS}
    # Without scaling the configured sizes are applied as written; a replacement would
    # create the new group first (and fail on the fixed name before deleting anything).
    assert asg["lifecycle"] == {"create_before_destroy": True, "ignore_changes": ["initial_lifecycle_hook"]}
    # Applies wait for the instances within the fleet's load budget (no launch hook: the
    # 600 s allowance) and ride out failed scaling activities (capacity errors).
    assert (asg["wait_for_capacity_timeout"], asg["ignore_failed_scaling_activities"]) == ("600s", True)


def test_a_scaling_policy_owns_the_desired_capacity():
    built, _ = fleet_group(scaling={"request_count_per_target": 100})
    assert built.only("aws_autoscaling_group")["lifecycle"]["ignore_changes"] == [
        "desired_capacity",
        "initial_lifecycle_hook",
    ]


def test_scheduled_actions_own_the_sizes_they_set():
    """A schedule without target tracking still owns desired_capacity (moving min or max
    moves it), and min_size/max_size when it sets them; the spot group, which schedules
    do not touch, keeps only what target tracking owns."""
    schedules = {
        "morning": {"recurrence": "0 7 * * MON-FRI", "min_size": 3},
        "night": {"recurrence": "0 22 * * *", "max_size": 3},
    }
    built, _ = fleet_group(scaling={"scheduled_actions": schedules})
    assert built.only("aws_autoscaling_group")["lifecycle"]["ignore_changes"] == [
        "desired_capacity",
        "min_size",
        "max_size",
        "initial_lifecycle_hook",
    ]
    built, _ = fleet_group(
        scaling={
            "scheduled_actions": {"peak": {"recurrence": "0 7 * * *", "desired_capacity": 3}},
            "cpu_utilization": 50,
        },
        spot_autoscaling_group={"max_size": 6, "instance_types": ["g5.xlarge", "g6.xlarge"]},
    )
    groups = built.resources("aws_autoscaling_group")
    assert groups["fleet-chat_autoscaling_group"]["lifecycle"]["ignore_changes"] == [
        "desired_capacity",
        "initial_lifecycle_hook",
    ]
    assert groups["fleet-chat_spot_autoscaling_group"]["lifecycle"]["ignore_changes"] == [
        "desired_capacity",
        "initial_lifecycle_hook",
    ]


def test_mixed_instances_policy_puts_the_template_inside_and_leaves_the_type_out():
    built, _ = fleet_group(
        autoscaling_group={
            "mixed_instances_policy": {
                "instance_types": ["g5.xlarge", "g6.xlarge"],
                "on_demand_base_capacity": 1,
                "on_demand_percentage_above_base_capacity": 25,
            }
        }
    )
    assert "instance_type" not in built.only("aws_launch_template")
    asg = built.only("aws_autoscaling_group")
    assert "launch_template" not in asg and asg["capacity_rebalance"] is True
    mip = asg["mixed_instances_policy"]
    assert mip["instances_distribution"] == {
        "on_demand_allocation_strategy": "prioritized",
        "on_demand_base_capacity": 1,
        "on_demand_percentage_above_base_capacity": 25,
        "spot_allocation_strategy": "price-capacity-optimized",
    }
    assert [o["instance_type"] for o in mip["launch_template"]["override"]] == ["g5.xlarge", "g6.xlarge"]
    spec = mip["launch_template"]["launch_template_specification"]
    assert spec["version"] == ref("aws_launch_template", "fleet-chat_launch_template", "latest_version")


def test_warm_pool_hooks_and_a_spot_group_beside_it():
    built, _ = fleet_group(
        preset="vllm",
        autoscaling_group={"warm_pool": {"min_size": 1}},
        lifecycle_hooks={"launch": {}, "termination": {}},
        spot_autoscaling_group={"max_size": 6, "instance_types": ["g5.xlarge", "g6.xlarge"]},
    )
    groups = built.resources("aws_autoscaling_group")
    main, spot = groups["fleet-chat_autoscaling_group"], groups["fleet-chat_spot_autoscaling_group"]
    assert main["warm_pool"] == {
        "instance_reuse_policy": {"reuse_on_scale_in": True},
        "min_size": 1,
        "pool_state": "Stopped",
    }
    assert "warm_pool" not in spot  # AWS forbids warm pools on groups that launch spot
    hooks = {h["name"]: h for h in main["initial_lifecycle_hook"]}
    assert hooks["model-ready"]["lifecycle_transition"] == "autoscaling:EC2_INSTANCE_LAUNCHING"
    assert (hooks["model-ready"]["heartbeat_timeout"], hooks["model-ready"]["default_result"]) == (620, "ABANDON")
    assert (hooks["drain"]["heartbeat_timeout"], hooks["drain"]["default_result"]) == (600, "CONTINUE")
    # The same hooks as resources of their own, for each group: a hook added to or changed
    # on a running group is put in place, and the group ignores its blocks after creation
    # (a change there would replace it).
    standalone = built.resources("aws_autoscaling_lifecycle_hook")
    assert sorted(standalone) == [
        "fleet-chat_launch_hook",
        "fleet-chat_spot_launch_hook",
        "fleet-chat_spot_termination_hook",
        "fleet-chat_termination_hook",
    ]
    for key, group in (
        ("fleet-chat_", "fleet-chat_autoscaling_group"),
        ("fleet-chat_spot_", "fleet-chat_spot_autoscaling_group"),
    ):
        launch, drain = standalone[f"{key}launch_hook"], standalone[f"{key}termination_hook"]
        assert launch["autoscaling_group_name"] == ref("aws_autoscaling_group", group, "name")
        assert {k: v for k, v in launch.items() if k in hooks["model-ready"]} == hooks["model-ready"]
        assert {k: v for k, v in drain.items() if k in hooks["drain"]} == hooks["drain"]
        assert "initial_lifecycle_hook" in groups[group]["lifecycle"]["ignore_changes"]
    assert main["health_check_grace_period"] == 80  # the hook already waited for the model
    # The load budget of a hooked fleet: the hook's 620 s on top of the 600 s allowance.
    assert main["wait_for_capacity_timeout"] == "1220s"
    assert spot["name"] == "dev-chat-spot" and (spot["min_size"], spot["max_size"]) == (0, 6)
    assert spot["mixed_instances_policy"]["instances_distribution"]["on_demand_percentage_above_base_capacity"] == 0
    assert spot["target_group_arns"] == [TG]
    # The instances may complete the hooks of their own two groups, nothing else.
    policy = json.loads(built.resources("aws_iam_role_policy")["fleet-chat_lifecycle-hooks-policy"]["policy"])
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:autoscaling:us-east-1:*:autoScalingGroup:*:autoScalingGroupName/dev-chat",
        "arn:aws:autoscaling:us-east-1:*:autoScalingGroup:*:autoScalingGroupName/dev-chat-spot",
    ]
    assert built.outputs()["spot"] == ref("aws_autoscaling_group", "fleet-chat_spot_autoscaling_group", "name")


def test_role_gets_ssm_and_the_extra_policies():
    extra = "arn:aws:iam::123456789012:policy/models-read"
    built, _ = fleet_group(
        launch_template={"managed_policy_arns": [extra]},
        scaling={"custom_metric": {"target_value": 70}},
    )
    attachments = {n: a["policy_arn"] for n, a in built.resources("aws_iam_role_policy_attachment").items()}
    assert attachments == {
        "fleet-chat_policy-ssm-core": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "fleet-chat_policy-cloudwatch-agent": "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
        "fleet-chat_policy-models-read": extra,
    }
    assert built.outputs() == {
        "role": ref("aws_iam_role", "fleet-chat_role", "name"),
        "group": ref("aws_autoscaling_group", "fleet-chat_autoscaling_group", "name"),
        "template": ref("aws_launch_template", "fleet-chat_launch_template", "id"),
    }


def test_user_data_shows_in_plans_as_text():
    """A terraform_data resource carries the user data as text, with Terraform's template
    sequences escaped, so a plan shows a changed line rather than two base64 strings."""
    script = "#!/bin/bash\nPORT=${FLEET_PORT:-8000}\necho %{x}\n"
    built, _ = fleet_group(user_data=script)
    shown = built.resources("terraform_data")["fleet-chat_user_data"]
    assert shown["input"] == "#!/bin/bash\nPORT=$${FLEET_PORT:-8000}\necho %%{x}\n"
    built, _ = fleet_group()
    assert built.resources("terraform_data") == {}


def test_refresh_rolls_back_on_the_alarms_it_is_given_and_policy_can_be_turned_off():
    built, _ = fleet_group(
        rollback_alarm_names=["dev-chat-target-5xx"],
        preset="vllm",
        autoscaling_group={
            "instance_maintenance_policy": None,
            "availability_zone_distribution": {"capacity_distribution_strategy": "balanced-only"},
        },
    )
    asg = built.only("aws_autoscaling_group")
    assert asg["instance_refresh"]["preferences"]["alarm_specification"] == {"alarms": ["dev-chat-target-5xx"]}
    assert "instance_maintenance_policy" not in asg
    assert asg["availability_zone_distribution"] == {"capacity_distribution_strategy": "balanced-only"}


def test_rollback_alarms_follow_the_alarm_specification():
    names = {"target-5xx": "a5", "unhealthy-hosts": "au", "p99-response-time": "ap"}
    assert rollback_alarms(fleet(preset="vllm"), names) == ["a5", "au"]
    chosen = fleet(
        preset="vllm",
        autoscaling_group={"instance_refresh": {"alarm_specification": {"alarms": ["p99-response-time"]}}},
    )
    assert rollback_alarms(chosen, names) == ["ap"]
    # Alarms off in the environment: nothing to watch.
    assert rollback_alarms(chosen, {}) == []
    assert rollback_alarms(fleet(preset="vllm", autoscaling_group={"instance_refresh": None}), names) == []
