"""AI-serving features (issue 5): presets, timing derivations, warm pools, lifecycle
hooks, spot groups, multi-fleet routing, scaling and alarms; config rules and the
synthesized JSON of config/prod-multi.yaml."""

from __future__ import annotations

import copy

import pytest
import yaml
from helpers import ROOT, run_main

from stacks.config import ALB_GRPC_DEFAULT_PATH, PRESETS, ConfigError, advisories, parse_config


def example(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())


def errors(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "x.yaml")
    return [str(p) for p in exc.value.problems]


def warnings(data: dict) -> list[str]:
    return [f"{f}: {m}" for f, m in advisories(parse_config(data, "x.yaml"))]


def bare_dev() -> dict:
    """dev.yaml's chat fleet with every timing left to its default."""
    data = example("dev")
    data["fleets"]["chat"] = {
        "preset": "vllm",
        "launch_template": {"image_id": "ami-0123456789abcdef0"},
    }
    data["load_balancer"].pop("idle_timeout", None)
    return data


# Presets and derivations ---------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_drives_timings(preset):
    data = bare_dev()
    data["fleets"]["chat"]["preset"] = preset
    cfg = parse_config(data, "x")
    f = cfg.fleets["chat"]
    load, req = PRESETS[preset]["model_load_seconds"], PRESETS[preset]["max_request_seconds"]
    hc = f.target_group.health_check
    assert f.effective_model_load_seconds == load
    assert f.effective_health_check_grace_period == load + hc.healthy_threshold * hc.interval
    assert f.effective_default_instance_warmup == max(60, load)
    assert f.effective_deregistration_delay == req
    assert cfg.effective_idle_timeout == req
    assert f.effective_slow_start == 0  # least_outstanding_requests by default
    # Container servers warn about the IMDS hop limit (rule: container-imds-hop-limit).
    expected = ["fleets.chat.launch_template.http_put_response_hop_limit"] if PRESETS[preset].get("container") else []
    assert [w.split(": ", 1)[0] for w in warnings(data)] == expected


def test_explicit_model_times_override_preset_and_slow_start_needs_round_robin():
    data = bare_dev()
    chat = data["fleets"]["chat"]
    chat.update(model_load_seconds=1000, max_request_seconds=1800)
    chat["target_group"] = {"load_balancing_algorithm_type": "round_robin"}
    cfg = parse_config(data, "x")
    f = cfg.fleets["chat"]
    assert f.effective_slow_start == 200  # a fifth of the load time, within 30-900
    assert f.effective_deregistration_delay == 1800
    assert cfg.effective_idle_timeout == 1800
    assert f.effective_default_instance_warmup == 1200


def test_launch_hook_shortens_grace_period_and_sets_heartbeats():
    data = bare_dev()
    chat = data["fleets"]["chat"]
    chat["lifecycle_hooks"] = {"launch": {}, "termination": {}}
    f = parse_config(data, "x").fleets["chat"]
    hc = f.target_group.health_check
    assert f.effective_health_check_grace_period == hc.healthy_threshold * hc.interval + 60
    assert f.effective_launch_heartbeat == 600 + hc.healthy_threshold * hc.interval
    assert f.effective_termination_heartbeat == 600


def test_grpc_presets_get_grpc_port_path_and_matcher():
    data = bare_dev()
    chat = data["fleets"]["chat"]
    data["load_balancer"]["certificate_arn"] = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    chat["target_group"] = {"protocol_version": "GRPC"}
    chat["preset"] = "triton"
    f = parse_config(copy.deepcopy(data), "x").fleets["chat"]
    assert (f.port, f.health_check_path, f.health_check_matcher) == (8001, "/grpc.health.v1.Health/Check", "0")
    chat["preset"] = "custom"  # a gRPC server of one's own: the ALB's default health method
    f = parse_config(data, "x").fleets["chat"]
    assert (f.health_check_path, f.health_check_matcher) == (ALB_GRPC_DEFAULT_PATH, "12")


def test_warnings_for_explicit_values_shorter_than_what_they_cover():
    data = bare_dev()
    chat = data["fleets"]["chat"]
    chat["target_group"] = {"deregistration_delay": 30}
    chat["autoscaling_group"] = {
        "health_check_grace_period": 60,
        "default_instance_warmup": 30,
        "mixed_instances_policy": {"instance_types": ["g5.xlarge"]},
    }
    data["load_balancer"]["idle_timeout"] = 60
    found = "\n".join(warnings(data))
    for fragment in (
        "load_balancer.idle_timeout: 60 s is shorter than the longest max_request_seconds (600 s)",
        "health_check_grace_period: 60 s is shorter than model_load_seconds (600 s)",
        "default_instance_warmup: 30 s is shorter than model_load_seconds",
        "deregistration_delay: 30 s is shorter than max_request_seconds (600 s)",
        "mixed_instances_policy.instance_types: spot with a single instance type",
    ):
        assert fragment in found


def test_warnings_reach_stderr_and_do_not_fail(tmp_path):
    data = bare_dev()
    data["load_balancer"]["idle_timeout"] = 60
    path = tmp_path / "warn.yaml"
    path.write_text(yaml.safe_dump(data))
    result = run_main("--config", str(path), "--check")
    assert result.returncode == 0, result.stderr
    assert f"warning: {path}: load_balancer.idle_timeout: 60 s is shorter" in result.stderr


# Rules rejected at synth ---------------------------------------------------------------


def test_warm_pool_rejected_with_spot_mix_and_when_larger_than_max():
    data = example("prod")
    asg = data["fleets"]["chat"]["autoscaling_group"]
    asg["warm_pool"] = {"min_size": 20}
    msgs = "\n".join(errors(data))
    assert (
        "autoscaling_group.warm_pool: AWS does not allow a warm pool on a group with a mixed_instances_policy" in msgs
    )
    assert "warm_pool.min_size: must not exceed max_size (20 > 12)" in msgs


@pytest.mark.parametrize("algorithm", ["least_outstanding_requests", "weighted_random"])
def test_slow_start_only_with_round_robin(algorithm):
    data = bare_dev()
    data["fleets"]["chat"]["target_group"] = {"slow_start": 60, "load_balancing_algorithm_type": algorithm}
    assert any(f"AWS rejects slow_start with load_balancing_algorithm_type {algorithm}" in m for m in errors(data))


def test_routing_rules_duplicates_and_default_fleet():
    data = example("prod-multi")
    fleets = data["fleets"]
    fleets["rerank"] = copy.deepcopy(fleets["embeddings"])
    fleets["rerank"]["listener_rule"]["path_patterns"] = ["/v1/embeddings", "/v1/rerank"]
    msgs = "\n".join(errors(copy.deepcopy(data)))
    assert "fleets.rerank.listener_rule.priority: 10 is already used by fleet 'embeddings'" in msgs
    assert (
        "fleets.rerank.listener_rule.path_patterns.0: '/v1/embeddings' is already routed to fleet 'embeddings'" in msgs
    )
    fleets["embeddings"]["default"] = True
    assert any("exactly one fleet must set 'default: true'" in m for m in errors(data))


def test_spot_group_and_schedule_bounds():
    data = example("prod-multi")
    chat = data["fleets"]["chat"]
    chat["spot_autoscaling_group"].update(min_size=5, max_size=2)
    chat["scaling"]["scheduled_actions"]["broken"] = {"recurrence": "0 1 * * *", "min_size": 5, "max_size": 3}
    chat["scaling"]["scheduled_actions"]["empty"] = {"recurrence": "0 2 * * *"}
    msgs = "\n".join(errors(data))
    assert "spot_autoscaling_group.min_size: must not exceed max_size (5 > 2)" in msgs
    assert "scheduled_actions.broken: needs min_size <= desired_capacity <= max_size" in msgs
    assert "scheduled_actions.empty: set at least one of min_size, max_size and desired_capacity" in msgs


@pytest.mark.parametrize(
    "path,value,fragment",
    [
        ("target_group.deregistration_delay", 3601, "less than or equal to 3600"),
        ("autoscaling_group.health_check_grace_period", 7201, "less than or equal to 7200"),
        (
            "autoscaling_group.mixed_instances_policy.on_demand_percentage_above_base_capacity",
            -1,
            "greater than or equal to 0",
        ),
    ],
)
def test_aws_ranges(path, value, fragment):
    data = example("prod")
    node = data["fleets"]["chat"]
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    assert any(f"fleets.chat.{path}: " in m and fragment in m for m in errors(data))


# Synthesized JSON of the multi-fleet example ---------------------------------------------


@pytest.fixture(scope="module")
def multi(stacks):
    return stacks["prod-multi"]["resource"]


def test_each_fleet_has_its_own_target_group_template_and_groups(multi):
    fleets = ("chat", "chatnext", "embeddings")
    assert set(multi["aws_lb_target_group"]) == {f"fleet-{f}-tg_target_group" for f in fleets}
    assert set(multi["aws_launch_template"]) == {f"fleet-{f}_launch_template" for f in fleets}
    assert set(multi["aws_autoscaling_group"]) == {
        "fleet-chat_autoscaling_group",
        "fleet-chat_spot_autoscaling_group",
        "fleet-chatnext_autoscaling_group",
        "fleet-chatnext_spot_autoscaling_group",
        "fleet-embeddings_autoscaling_group",
    }
    # chatnext's spot group chooses its types by attributes: no type list.
    [override] = multi["aws_autoscaling_group"]["fleet-chatnext_spot_autoscaling_group"]["mixed_instances_policy"][
        "launch_template"
    ]["override"]
    assert "instance_type" not in override
    assert override["instance_requirements"]["accelerator_manufacturers"] == ["nvidia"]


def test_listener_rule_routes_embeddings_and_chat_is_default(multi):
    rule = multi["aws_lb_listener_rule"]["load_balancer_rule-embeddings"]
    assert rule["priority"] == 10
    assert rule["listener_arn"] == "${aws_lb_listener.load_balancer_https.arn}"
    assert rule["condition"] == [{"path_pattern": {"values": ["/v1/embeddings", "/v1/embeddings/*"]}}]
    assert "fleet-embeddings-tg_target_group" in rule["action"][0]["target_group_arn"]
    https = multi["aws_lb_listener"]["load_balancer_https"]
    # chat's route is shared with its canary chatnext (docs/canary.md): weights 90/10
    # (chat's default: 100 minus the canary's), one-hour stickiness.
    assert https["default_action"] == [
        {
            "type": "forward",
            "forward": {
                "target_group": [
                    {"arn": "${aws_lb_target_group.fleet-chat-tg_target_group.arn}", "weight": 90},
                    {"arn": "${aws_lb_target_group.fleet-chatnext-tg_target_group.arn}", "weight": 10},
                ],
                "stickiness": {"duration": 3600, "enabled": True},
            },
        }
    ]


def test_warm_pool_and_lifecycle_hooks_on_the_on_demand_group(multi):
    chat = multi["aws_autoscaling_group"]["fleet-chat_autoscaling_group"]
    assert chat["warm_pool"] == {
        "pool_state": "Stopped",
        "min_size": 2,
        "instance_reuse_policy": {"reuse_on_scale_in": True},
    }
    assert "mixed_instances_policy" not in chat, "AWS forbids warm pools with mixed instances"
    hooks = {h["name"]: h for h in chat["initial_lifecycle_hook"]}
    assert hooks["model-ready"]["lifecycle_transition"] == "autoscaling:EC2_INSTANCE_LAUNCHING"
    assert hooks["model-ready"]["heartbeat_timeout"] == 920 and hooks["model-ready"]["default_result"] == "ABANDON"
    assert hooks["drain"]["lifecycle_transition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert hooks["drain"]["heartbeat_timeout"] == 900 and hooks["drain"]["default_result"] == "CONTINUE"
    assert chat["health_check_grace_period"] == 80  # the hook already waited for the model
    policy = multi["aws_iam_role_policy"]["fleet-chat_lifecycle-hooks-policy"]["policy"]
    assert "autoscaling:CompleteLifecycleAction" in policy and "autoScalingGroupName/prod-multi-chat" in policy


def test_spot_group_shares_template_and_target_group(multi):
    spot = multi["aws_autoscaling_group"]["fleet-chat_spot_autoscaling_group"]
    chat = multi["aws_autoscaling_group"]["fleet-chat_autoscaling_group"]
    assert spot["name"] == "prod-multi-chat-spot"
    assert spot["target_group_arns"] == chat["target_group_arns"]
    dist = spot["mixed_instances_policy"]["instances_distribution"]
    assert dist["on_demand_base_capacity"] == 0 and dist["on_demand_percentage_above_base_capacity"] == 0
    spec = spot["mixed_instances_policy"]["launch_template"]["launch_template_specification"]
    assert spec["launch_template_id"] == chat["launch_template"]["id"]
    assert len(spot["mixed_instances_policy"]["launch_template"]["override"]) == 4
    assert spot["capacity_rebalance"] is True and "warm_pool" not in spot
    lt = multi["aws_launch_template"]["fleet-chat_launch_template"]
    assert lt["instance_type"] == "g6e.2xlarge" and "instance_market_options" not in lt


def test_scaling_policies_and_schedules(multi):
    policies = multi["aws_autoscaling_policy"]
    custom = policies["fleet-chat-scaling_custom_metric"]["target_tracking_configuration"]
    spec = custom["customized_metric_specification"]
    assert (spec["namespace"], spec["metric_name"], custom["target_value"]) == (
        "CWAgent",
        "nvidia_smi_utilization_gpu",
        70,
    )
    assert spec["metric_dimension"] == [
        {"name": "AutoScalingGroupName", "value": "${aws_autoscaling_group.fleet-chat_autoscaling_group.name}"}
    ]
    spot_custom = policies["fleet-chat-scaling_spot-custom_metric"]
    assert spot_custom["autoscaling_group_name"] == "${aws_autoscaling_group.fleet-chat_spot_autoscaling_group.name}"
    assert policies["fleet-chat-scaling_spot-request_count"]["name"] == "chat-spot-request-count-per-target"
    for cid, group in (
        ("queue_depth", "fleet-chat_autoscaling_group"),
        ("spot-queue_depth", "fleet-chat_spot_autoscaling_group"),
    ):
        queue = policies[f"fleet-chat-scaling_{cid}"]["target_tracking_configuration"]
        assert queue["customized_metric_specification"] == {
            "namespace": "CWAgent-Prometheus",
            "metric_name": "vllm:num_requests_waiting",
            "statistic": "Average",
            "metric_dimension": [{"name": "AutoScalingGroupName", "value": f"${{aws_autoscaling_group.{group}.name}}"}],
        }
        assert queue["target_value"] == 2
    assert not any(k.startswith("fleet-embeddings-scaling_queue") for k in policies)  # preset custom: no queue
    cpu = policies["fleet-embeddings-scaling_cpu"]["target_tracking_configuration"]
    assert cpu["predefined_metric_specification"]["predefined_metric_type"] == "ASGAverageCPUUtilization"
    schedules = multi["aws_autoscaling_schedule"]
    morning = schedules["fleet-chat-scaling_schedule-weekday-morning"]
    assert (morning["recurrence"], morning["time_zone"], morning["min_size"]) == (
        "0 7 * * MON-FRI",
        "America/Los_Angeles",
        4,
    )
    assert morning["max_size"] == -1 and morning["desired_capacity"] == -1  # -1 = leave unchanged
    attachments = multi["aws_iam_role_policy_attachment"]
    assert any("CloudWatchAgentServerPolicy" in a["policy_arn"] for a in attachments.values())


def test_alarms_per_fleet_to_created_encrypted_topic(multi):
    # Not alias/aws/sns: CloudWatch cannot use the AWS managed key, so no alarm would
    # ever notify. The stack's own key lets the CloudWatch service use it.
    topic = multi["aws_sns_topic"]["alarms_topic"]
    assert topic["kms_master_key_id"] == "${aws_kms_key.alarms_key.arn}"
    key_policy = multi["aws_kms_key"]["alarms_key"]["policy"]
    assert '"Principal" = {"Service" = "cloudwatch.amazonaws.com"}' in key_policy
    assert '"Action" = ["kms:Decrypt", "kms:GenerateDataKey*"]' in key_policy
    assert "cloudwatch.amazonaws.com" in multi["aws_sns_topic_policy"]["alarms_topic_policy"]["policy"]
    alarms = multi["aws_cloudwatch_metric_alarm"]
    assert len(alarms) == 9  # three per fleet, the canary chatnext included
    chat_5xx = alarms["alarms_chat-target-5xx"]
    assert chat_5xx["metric_name"] == "HTTPCode_Target_5XX_Count" and chat_5xx["threshold"] == 20
    assert chat_5xx["dimensions"]["TargetGroup"] == "${aws_lb_target_group.fleet-chat-tg_target_group.arn_suffix}"
    p99 = alarms["alarms_embeddings-p99-response-time"]
    assert p99["extended_statistic"] == "p99" and p99["threshold"] == 60
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == ["${aws_sns_topic.alarms_topic.arn}"]
        assert alarm["treat_missing_data"] == "notBreaching"


def test_derived_timings_in_json(multi, stacks):
    lb = stacks["prod-multi"]["resource"]["aws_lb"]["load_balancer_alb"]
    assert lb["idle_timeout"] == 900
    emb_tg = multi["aws_lb_target_group"]["fleet-embeddings-tg_target_group"]
    assert (emb_tg["deregistration_delay"], emb_tg["slow_start"]) == ("60", 30)
    emb = multi["aws_autoscaling_group"]["fleet-embeddings_autoscaling_group"]
    assert (emb["health_check_grace_period"], emb["default_instance_warmup"]) == (140, 150)
