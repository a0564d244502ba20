"""The config model: example files, defaults, presets and cross-field rules.

Pure Python: these tests never load the AWS provider.
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from helpers import EXAMPLES, ROOT

from stacks.cli.schema import generated
from stacks.config import PRESETS, ConfigError, load_config, parse_config
from stacks.config.reference import undocumented_keys


def dev() -> dict:
    return yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "x.yaml")
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid(path):
    cfg = load_config(path)
    assert cfg.name == path.stem


def test_at_least_two_examples_with_both_network_modes():
    cfgs = {p.stem: load_config(p) for p in EXAMPLES}
    assert cfgs["dev"].network.creates_vpc
    assert not cfgs["prod"].network.creates_vpc
    assert cfgs["prod"].load_balancer.certificate_arn
    assert cfgs["prod"].fleets["chat"].autoscaling_group.mixed_instances_policy is not None


def test_defaults_are_production_safe():
    data = dev()
    data["production"] = True
    data["fleets"]["chat"] = {"launch_template": {"image_id": "ami-0123456789abcdef0"}}
    cfg = parse_config(data, "x.yaml")
    fleet = cfg.fleets["chat"]
    assert cfg.deletion_protection is True
    assert cfg.load_balancer.drop_invalid_header_fields is True
    assert cfg.effective_idle_timeout >= 300
    assert fleet.target_group.load_balancing_algorithm_type == "least_outstanding_requests"
    assert fleet.effective_slow_start == 0
    assert fleet.effective_deregistration_delay >= 300
    assert fleet.effective_health_check_grace_period >= fleet.effective_model_load_seconds
    assert fleet.autoscaling_group.min_size >= 2
    assert fleet.autoscaling_group.health_check_type == "ELB"
    assert fleet.launch_template.root_volume_type == "gp3"


def test_deletion_protection_follows_production_unless_explicit():
    data = dev()
    assert parse_config(data, "x").deletion_protection is False
    data["load_balancer"]["enable_deletion_protection"] = True
    assert parse_config(data, "x").deletion_protection is True


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_set_port_and_path_and_can_be_overridden(preset):
    data = dev()
    fleet = data["fleets"]["chat"]
    fleet["preset"] = preset
    fleet["target_group"] = {}
    cfg = parse_config(copy.deepcopy(data), "x")
    assert cfg.fleets["chat"].port == PRESETS[preset]["port"]
    assert cfg.fleets["chat"].health_check_path == PRESETS[preset]["path"]
    # Another path the server serves (the custom preset takes any).
    path = PRESETS[preset].get("paths", ("/ready",))[-1]
    fleet["target_group"] = {"port": 9999, "health_check": {"path": path}}
    cfg = parse_config(data, "x")
    assert cfg.fleets["chat"].port == 9999
    assert cfg.fleets["chat"].health_check_path == path


def test_grpc_gets_grpc_matcher_and_http_matcher_is_rejected():
    data = dev()
    data["load_balancer"]["certificate_arn"] = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    data["fleets"]["chat"]["preset"] = "custom"
    data["fleets"]["chat"]["target_group"] = {"protocol_version": "GRPC"}
    assert parse_config(copy.deepcopy(data), "x").fleets["chat"].health_check_matcher == "12"
    data["fleets"]["chat"]["target_group"]["health_check"] = {"matcher": "200-299"}
    assert any("gRPC status codes 0-99" in m for m in problems(data))


def test_every_problem_is_reported_not_just_the_first():
    data = dev()
    asg = data["fleets"]["chat"]["autoscaling_group"]
    asg["min_size"], asg["max_size"], asg["desired_capacity"] = 1, 2, 5
    data["fleets"]["chat"]["target_group"]["health_check"]["timeout"] = 20
    data["network"]["create_vpc"]["availability_zones"] = ["us-east-1a", "us-east-1a"]
    msgs = problems(data)
    assert any("availability_zones: must be distinct" in m for m in msgs)
    assert any("desired_capacity: must be within" in m for m in msgs)
    assert any("health_check.timeout: must be less than interval" in m for m in msgs)


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text((ROOT / "config" / "dev.yaml").read_text() + "\nregion: us-west-2\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert "duplicate key 'region'" in str(exc.value)


def test_multi_fleet_routing_rules():
    data = dev()
    chat = data["fleets"]["chat"]
    data["fleets"]["embed"] = copy.deepcopy(chat)
    msgs = problems(copy.deepcopy(data))
    assert any("exactly one fleet must set 'default: true'" in m for m in msgs)
    chat["default"] = True
    assert any("embed.listener_rule: required" in m for m in problems(copy.deepcopy(data)))
    data["fleets"]["embed"]["listener_rule"] = {"priority": 10, "path_patterns": ["/v1/embeddings"]}
    cfg = parse_config(copy.deepcopy(data), "x")
    assert cfg.default_fleet == "chat"
    data["fleets"]["third"] = copy.deepcopy(data["fleets"]["embed"])
    msgs = problems(data)
    assert any("priority: 10 is already used by fleet 'embed'" in m for m in msgs)
    assert any("same path_patterns and host_headers" in m for m in msgs)


def test_generated_documents_are_current():
    """config/schema.json and docs/configuration.md must match the model: run `make
    schema` after changing it."""
    for name, text in generated().items():
        assert (ROOT / name).read_text() == text, f"{name} is stale: run `make schema`"
    schema = json.loads(generated()["config/schema.json"])
    assert "fleets" in schema["required"]
    assert schema["additionalProperties"] is False


def test_every_key_is_described_once_in_the_model():
    """docs/configuration.md describes every key from the model's descriptions."""
    assert undocumented_keys() == []
    reference = generated()["docs/configuration.md"]
    for key in (
        "`fleets.<name>.target_group.health_check`",
        "`backend` with `type: s3`",
        "`load_balancer.waf.managed_rule_groups[]`",
        "`fleets.<name>.scaling.scheduled_actions.<name>`",
    ):
        assert f"## {key}" in reference, key
    assert "| `deregistration_delay` | integer or null | `null` | 0-3600 |" in reference


def test_yaml_merge_keys_work_and_explicit_keys_still_must_be_unique(tmp_path):
    """`<<: *anchor` brings in defaults that explicit keys override (YAML merge keys);
    a key written twice is still an error."""
    text = """\
name: merge-test
region: us-east-1
network:
  create_vpc: {availability_zones: [us-east-1a, us-east-1b]}
load_balancer: {ingress_cidr_blocks: [203.0.113.0/24]}
fleets:
  chat:
    preset: vllm
    default: true
    launch_template: {image_ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}
    autoscaling_group: &asg {min_size: 2, max_size: 4}
  embed:
    preset: custom
    listener_rule: {priority: 10, path_patterns: [/v1/embeddings]}
    launch_template: {image_ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}
    autoscaling_group:
      <<: *asg
      max_size: 6
"""
    path = tmp_path / "merge.yaml"
    path.write_text(text)
    cfg = load_config(path)
    assert (cfg.fleets["embed"].autoscaling_group.min_size, cfg.fleets["embed"].autoscaling_group.max_size) == (2, 6)
    path.write_text(text + "      max_size: 8\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    [problem] = exc.value.problems
    assert problem.message.startswith("invalid YAML: line 19, column 7: duplicate key 'max_size'")
