"""Bad configs through the real command line: exit code 2, one message per problem
naming the file and the field, no traceback, and earlier output left untouched."""

from __future__ import annotations

import copy

import pytest
import yaml
from helpers import ROOT, read_tree, run_main


def dev() -> dict:
    return yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def prod() -> dict:
    return yaml.safe_load((ROOT / "config" / "prod.yaml").read_text())


def chat(d: dict) -> dict:
    return d["fleets"]["chat"]


def mutate(base, fn):
    data = copy.deepcopy(base())
    fn(data)
    return data


def _set(path: str, value):
    def fn(d):
        keys = path.split(".")
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return fn


def _del(path: str):
    def fn(d):
        keys = path.split(".")
        for k in keys[:-1]:
            d = d[k]
        del d[keys[-1]]

    return fn


# (id, config data or raw text, expected field, expected message fragment)
CASES = [
    ("yaml-syntax", "name: dev\nregion: [us-east-1\n", "", "invalid YAML: line 3"),
    ("not-a-mapping", "- just\n- a list\n", "", "must be a YAML mapping"),
    ("unknown-key", mutate(dev, _set("fleets.chat.target_group.dereg_delay", 10)),
     "fleets.chat.target_group.dereg_delay", "unknown key"),
    ("wrong-type", mutate(dev, _set("fleets.chat.autoscaling_group.max_size", "lots")),
     "fleets.chat.autoscaling_group.max_size", "valid integer"),
    ("min-above-max", mutate(dev, _set("fleets.chat.autoscaling_group.min_size", 5)),
     "fleets.chat.autoscaling_group.min_size", "must not exceed max_size (5 > 2)"),
    ("desired-outside", mutate(dev, _set("fleets.chat.autoscaling_group.desired_capacity", 9)),
     "fleets.chat.autoscaling_group.desired_capacity", "must be within [min_size, max_size] = [1, 2]"),
    ("one-alb-subnet", mutate(prod, _set("network.public_subnet_ids", ["subnet-0a1b2c3d4e5f60001"])),
     "network.public_subnet_ids", "two or more subnets in distinct Availability Zones, got 1"),
    ("one-az", mutate(dev, _set("network.create_vpc.availability_zones", ["us-east-1a"])),
     "network.create_vpc.availability_zones", "at least 2 items"),
    ("same-az-twice", mutate(dev, _set("network.create_vpc.availability_zones", ["us-east-1a", "us-east-1a"])),
     "network.create_vpc.availability_zones", "must be distinct Availability Zones"),
    ("az-other-region", mutate(dev, _set("network.create_vpc.availability_zones", ["us-east-1a", "eu-west-1b"])),
     "network.create_vpc.availability_zones.1", "is not in region 'us-east-1'"),
    ("hc-timeout-not-below-interval", mutate(dev, _set("fleets.chat.target_group.health_check.timeout", 15)),
     "fleets.chat.target_group.health_check.timeout", "must be less than interval (15 >= 15)"),
    ("name-too-long", mutate(dev, _set("name", "a-very-long-environment-name-x")),
     "name", "is not allowed"),
    ("invalid-cidr", mutate(dev, _set("load_balancer.ingress_cidr_blocks", ["10.0.0.1/16"])),
     "load_balancer.ingress_cidr_blocks.0", "is not a valid CIDR block"),
    ("empty-cidr-list", mutate(dev, _set("load_balancer.ingress_cidr_blocks", [])),
     "load_balancer.ingress_cidr_blocks", "at least 1 item"),
    ("empty-cidr", mutate(dev, _set("load_balancer.ingress_cidr_blocks", [""])),
     "load_balancer.ingress_cidr_blocks.0", "at least 1 character"),
    ("port-out-of-range", mutate(dev, _set("fleets.chat.target_group.port", 70000)),
     "fleets.chat.target_group.port", "less than or equal to 65535"),
    ("percent-out-of-range", mutate(prod, _set(
        "fleets.chat.autoscaling_group.mixed_instances_policy.on_demand_percentage_above_base_capacity", 120)),
     "fleets.chat.autoscaling_group.mixed_instances_policy.on_demand_percentage_above_base_capacity",
     "less than or equal to 100"),
    ("missing-required", mutate(dev, _del("region")), "region", "required field is missing"),
    ("missing-ingress", mutate(dev, _del("load_balancer.ingress_cidr_blocks")),
     "load_balancer.ingress_cidr_blocks", "required field is missing"),
    ("slow-start-with-lor", mutate(dev, _set("fleets.chat.target_group.slow_start", 60)),
     "fleets.chat.target_group.slow_start", "AWS rejects slow_start with load_balancing_algorithm_type"),
    ("slow-start-range", mutate(dev, lambda d: chat(d)["target_group"].update(
        slow_start=10, load_balancing_algorithm_type="round_robin")),
     "fleets.chat.target_group.slow_start", "must be 0 (off) or 30-900 seconds"),
    ("both-network-modes", mutate(dev, _set("network.vpc_id", "vpc-0123456789abcdef0")),
     "network.vpc_id", "cannot be combined with network.create_vpc"),
    ("no-image", mutate(dev, _del("fleets.chat.launch_template.image_ssm_parameter")),
     "fleets.chat.launch_template", "set exactly one of image_id and image_ssm_parameter"),
    ("absolute-state-path", mutate(dev, _set("backend.path", "/var/state/terraform.tfstate")),
     "backend.path", "must be a relative path inside the stack folder"),
    ("missing-user-data", mutate(dev, _set("fleets.chat.launch_template.user_data_file", "nope.sh")),
     "fleets.chat.launch_template.user_data_file", "'nope.sh' does not exist"),
    ("on-demand-base-above-max", mutate(prod, _set(
        "fleets.chat.autoscaling_group.mixed_instances_policy.on_demand_base_capacity", 13)),
     "fleets.chat.autoscaling_group.mixed_instances_policy.on_demand_base_capacity", "must not exceed max_size"),
    ("bad-instance-type", mutate(dev, _set("fleets.chat.launch_template.instance_type", "G5 XL")),
     "fleets.chat.launch_template.instance_type", "is not allowed"),
    ("grace-out-of-range", mutate(dev, _set("fleets.chat.autoscaling_group.health_check_grace_period", -1)),
     "fleets.chat.autoscaling_group.health_check_grace_period", "greater than or equal to 0"),
]


@pytest.fixture(scope="module")
def earlier_output(tmp_path_factory):
    """A folder standing in for an earlier, good cdktf.out."""
    out = tmp_path_factory.mktemp("earlier") / "cdktf.out"
    (out / "stacks" / "dev").mkdir(parents=True)
    (out / "stacks" / "dev" / "cdk.tf.json").write_text('{"earlier": true}\n')
    (out / "manifest.json").write_text('{"stacks": {}}\n')
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_config_exits_2_with_clear_message(case, tmp_path, earlier_output):
    name, data, field, fragment = case
    # user_data_file paths are relative to the config's folder: mirror the repo layout.
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir()
    (tmp_path / "user_data").mkdir()
    (tmp_path / "user_data" / "vllm.sh").write_text("#!/bin/bash\n")
    path = cfg_dir / "bad.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    before = read_tree(earlier_output)

    result = run_main("--config", str(path), "--outdir", str(earlier_output))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [l for l in result.stderr.splitlines() if l.startswith("error: ")]
    where = f"{path}: {field}: " if field else f"{path}: "
    assert any(l.startswith(f"error: {where}") and fragment in l for l in lines), result.stderr
    assert read_tree(earlier_output) == before


def test_two_files_with_one_name(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    data = dev()
    data["fleets"]["chat"]["launch_template"].pop("user_data_file")
    for p in (a, b):
        p.write_text(yaml.safe_dump(data))
    result = run_main("--config", str(a), "--config", str(b), "--check")
    assert result.returncode == 2
    assert f"error: {b}: name: 'dev' is already the name of {a}" in result.stderr


def test_missing_file():
    result = run_main("--config", "config/nope.yaml", "--check")
    assert result.returncode == 2
    assert "error: config/nope.yaml: cannot read the file" in result.stderr
