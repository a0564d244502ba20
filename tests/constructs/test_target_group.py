"""stacks/target_group.py: one ALB target group per fleet, from its preset and section."""

from __future__ import annotations

from construct_testing import VPC, build, expose, fleet, ref

from stacks.target_group import TargetGroup


def target_group(**sections):
    built, tg = build(lambda s: TargetGroup(s, "fleet-chat-tg", fleet_name="chat", fleet=fleet(**sections), vpc_id=VPC))
    return built, built.only("aws_lb_target_group"), tg


def test_replaceable_without_downtime_and_named_after_the_fleet():
    """name_prefix (not a fixed name) and create_before_destroy: a port change creates
    the new group and repoints the listener before the old one is deleted."""
    built, tg, construct = target_group(preset="vllm")
    assert tg["name_prefix"] == "chat-"
    assert "name" not in tg
    assert tg["lifecycle"] == {"create_before_destroy": True}
    assert tg["vpc_id"] == VPC and tg["target_type"] == "instance"
    assert construct.target_group_arn is construct.target_group_arn  # read once
    assert list(built.resources("aws_lb_target_group")) == ["fleet-chat-tg_target_group"]


def test_preset_sets_port_health_check_and_timings():
    _, tg, _ = target_group(preset="vllm")
    assert tg["port"] == 8000
    assert tg["health_check"] == {
        "enabled": True,
        "healthy_threshold": 2,
        "interval": 10,
        "matcher": "200",
        "path": "/health",
        "port": "traffic-port",
        "protocol": "HTTP",
        "timeout": 5,
        "unhealthy_threshold": 3,
    }
    assert tg["deregistration_delay"] == "600"  # vllm's max_request_seconds
    assert tg["load_balancing_algorithm_type"] == "least_outstanding_requests"
    assert tg["slow_start"] == 0  # AWS allows slow start only with round robin


def test_round_robin_gets_a_slow_start_from_the_model_load_time():
    _, tg, _ = target_group(
        preset="torchserve", model_load_seconds=1000, target_group={"load_balancing_algorithm_type": "round_robin"}
    )
    assert tg["slow_start"] == 200  # a fifth of model_load_seconds
    assert tg["port"] == 8080 and tg["health_check"]["path"] == "/ping"


def test_grpc_uses_the_presets_grpc_port_and_health_method():
    _, tg, _ = target_group(preset="triton", target_group={"protocol_version": "GRPC"})
    assert (tg["port"], tg["protocol_version"]) == (8001, "GRPC")
    assert tg["health_check"]["path"] == "/grpc.health.v1.Health/Check"
    assert tg["health_check"]["matcher"] == "0"


def test_explicit_values_win():
    built, tg, _ = target_group(
        target_group={
            "port": 9000,
            "deregistration_delay": 30,
            "health_check": {"path": "/ready", "matcher": "200-299"},
        }
    )
    assert (tg["port"], tg["deregistration_delay"]) == (9000, "30")
    assert tg["health_check"]["path"] == "/ready" and tg["health_check"]["matcher"] == "200-299"
    assert built.has("aws_lb_target_group", {"port": 9000, "protocol": "HTTP"})


def test_attributes_resolve_to_the_target_group():
    def make(stack):
        tg = TargetGroup(stack, "fleet-chat-tg", fleet_name="chat", fleet=fleet(), vpc_id=VPC)
        expose(stack, arn=tg.target_group_arn, suffix=tg.target_group_arn_suffix)

    built, _ = build(make)
    assert built.outputs() == {
        "arn": ref("aws_lb_target_group", "fleet-chat-tg_target_group", "arn"),
        "suffix": ref("aws_lb_target_group", "fleet-chat-tg_target_group", "arn_suffix"),
    }


def test_anomaly_mitigation_only_with_weighted_random_and_health_thresholds_only_when_set():
    _, tg, _ = target_group(preset="vllm")
    # least_outstanding_requests: the attribute is not written (AWS rejects it there).
    assert "load_balancing_anomaly_mitigation" not in tg and "target_group_health" not in tg
    _, tg, _ = target_group(preset="vllm", target_group={"load_balancing_algorithm_type": "weighted_random"})
    assert tg["load_balancing_anomaly_mitigation"] == "on"
    _, tg, _ = target_group(
        preset="vllm",
        target_group={
            "load_balancing_algorithm_type": "weighted_random",
            "load_balancing_anomaly_mitigation": "off",
            "target_group_health": {
                "dns_failover": {"minimum_healthy_targets_count": "off", "minimum_healthy_targets_percentage": 50},
                "unhealthy_state_routing": {"minimum_healthy_targets_count": 2},
            },
        },
    )
    assert tg["load_balancing_anomaly_mitigation"] == "off"
    assert tg["target_group_health"] == {
        "dns_failover": {"minimum_healthy_targets_count": "off", "minimum_healthy_targets_percentage": "50"},
        "unhealthy_state_routing": {"minimum_healthy_targets_count": 2, "minimum_healthy_targets_percentage": "off"},
    }
