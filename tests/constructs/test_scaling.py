"""stacks/scaling.py: target tracking policies and scheduled actions of a fleet."""

from __future__ import annotations

from construct_testing import build

from stacks.config import ScalingConfig
from stacks.scaling import Scaling

ALB_SUFFIX = "app/dev-alb/50dc6c495c0c9188"
TG_SUFFIX = "targetgroup/chat-/73e2d6bc24d8a067"


def scaling(groups=None, queue_metric=None, **section):
    config = ScalingConfig.model_validate(section)
    assert config.problems() == []
    return build(
        lambda s: Scaling(
            s,
            "fleet-chat-scaling",
            fleet_name="chat",
            scaling=config,
            group_names=groups or {"": "dev-chat"},
            alb_arn_suffix=ALB_SUFFIX,
            target_group_arn_suffix=TG_SUFFIX,
            queue_metric=queue_metric,
        )
    )


def test_request_count_tracking_uses_the_alb_and_target_group_label():
    built, _ = scaling(request_count_per_target=60, disable_scale_in=True)
    policy = built.only("aws_autoscaling_policy")
    assert (policy["name"], policy["autoscaling_group_name"]) == ("chat-request-count-per-target", "dev-chat")
    assert policy["policy_type"] == "TargetTrackingScaling"
    assert policy["target_tracking_configuration"] == {
        "disable_scale_in": True,
        "predefined_metric_specification": {
            "predefined_metric_type": "ALBRequestCountPerTarget",
            "resource_label": f"{ALB_SUFFIX}/{TG_SUFFIX}",
        },
        "target_value": 60,
    }


def test_every_group_gets_the_policies_and_its_own_gpu_metric_dimension():
    built, _ = scaling(
        groups={"": "dev-chat", "spot-": "dev-chat-spot"},
        cpu_utilization=50,
        custom_metric={"target_value": 70, "dimensions": {"gpu": "0"}},
    )
    policies = built.resources("aws_autoscaling_policy")
    assert sorted(policies) == [
        "fleet-chat-scaling_cpu",
        "fleet-chat-scaling_custom_metric",
        "fleet-chat-scaling_spot-cpu",
        "fleet-chat-scaling_spot-custom_metric",
    ]
    spot = policies["fleet-chat-scaling_spot-custom_metric"]
    assert spot["name"] == "chat-spot-nvidia-smi-utilization-gpu"
    metric = spot["target_tracking_configuration"]["customized_metric_specification"]
    assert metric["metric_dimension"] == [
        {"name": "AutoScalingGroupName", "value": "dev-chat-spot"},
        {"name": "gpu", "value": "0"},
    ]
    assert (metric["namespace"], metric["metric_name"], metric["statistic"]) == (
        "CWAgent",
        "nvidia_smi_utilization_gpu",
        "Average",
    )
    main_metric = policies["fleet-chat-scaling_custom_metric"]["target_tracking_configuration"]
    assert {"name": "AutoScalingGroupName", "value": "dev-chat"} in main_metric["customized_metric_specification"][
        "metric_dimension"
    ]


def test_scheduled_actions_apply_to_the_main_group_with_unset_sizes_left_alone():
    built, _ = scaling(
        groups={"": "dev-chat", "spot-": "dev-chat-spot"},
        scheduled_actions={"weekday-morning": {"recurrence": "0 7 * * MON-FRI", "min_size": 4}},
    )
    [(name, action)] = built.resources("aws_autoscaling_schedule").items()
    assert name == "fleet-chat-scaling_schedule-weekday-morning"
    assert action["scheduled_action_name"] == "chat-weekday-morning"
    assert action["autoscaling_group_name"] == "dev-chat"
    assert (action["recurrence"], action["time_zone"]) == ("0 7 * * MON-FRI", "Etc/UTC")
    assert (action["min_size"], action["max_size"], action["desired_capacity"]) == (4, -1, -1)
    assert not built.resources("aws_autoscaling_policy")


def test_no_policies_without_a_target():
    built, _ = scaling()
    assert built.types() == set()


def test_queue_depth_tracks_the_average_queue_per_instance_of_each_group():
    built, _ = scaling(
        groups={"": "dev-chat", "spot-": "dev-chat-spot"},
        queue_metric=("CWAgent-Prometheus", "vllm:num_requests_waiting"),
        request_count_per_target=30,
        queue_depth={"target_value": 2},
    )
    policies = built.resources("aws_autoscaling_policy")
    assert sorted(policies) == [
        "fleet-chat-scaling_queue_depth",
        "fleet-chat-scaling_request_count",
        "fleet-chat-scaling_spot-queue_depth",
        "fleet-chat-scaling_spot-request_count",
    ]
    for cid, group, name in (
        ("queue_depth", "dev-chat", "chat-queue-depth"),
        ("spot-queue_depth", "dev-chat-spot", "chat-spot-queue-depth"),
    ):
        policy = policies[f"fleet-chat-scaling_{cid}"]
        assert (policy["name"], policy["autoscaling_group_name"]) == (name, group)
        assert policy["policy_type"] == "TargetTrackingScaling"
        assert policy["target_tracking_configuration"] == {
            "customized_metric_specification": {
                "namespace": "CWAgent-Prometheus",
                "metric_name": "vllm:num_requests_waiting",
                "statistic": "Average",
                "metric_dimension": [{"name": "AutoScalingGroupName", "value": group}],
            },
            "target_value": 2,
            "disable_scale_in": False,
        }


def test_queue_depth_without_a_queue_metric_makes_no_policy():
    """The config rule (queue-depth-preset-metric) rejects such a fleet; the construct
    makes nothing rather than a policy on an unnamed metric."""
    built, _ = scaling(queue_depth={"target_value": 2})
    assert built.types() == set()
