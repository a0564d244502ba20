"""A Capacity Block fleet and attribute-based selection by accelerator name, synthesized
from YAML through the real command line and passed through the real ``terraform
validate`` with hashicorp/aws 5.100.0, in the combinations the shipped examples do not
have: a reservation resource group target, a spot group beside a reserved one, and
``accelerator_names`` (no shipped example selects by name: the provider's list has no
GPU of the current g5/g6/g6e/p5 families). Staging's ``burst`` fleet is the shipped
Capacity Block (validated with the examples, applied on the emulator at desired 0)."""

from __future__ import annotations

import json
import re
from typing import get_args

from helpers import run_main, validate

from stacks.config.autoscaling import AcceleratorName

CONFIG = """\
name: blocks
region: us-east-2
network:
  create_vpc:
    availability_zones: [us-east-2a, us-east-2b]
load_balancer:
  ingress_cidr_blocks: [10.0.0.0/8]
  internal: true
fleets:
  train:
    preset: vllm
    default: true
    launch_template:
      image_ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
      instance_type: p5.48xlarge
      instance_market_options: {market_type: capacity-block}
      capacity_reservation_specification:
        capacity_reservation_target: {capacity_reservation_id: cr-02168da1478b509e0}
    autoscaling_group: {min_size: 0, max_size: 2}
  chat:
    preset: vllm
    listener_rule: {priority: 10, path_patterns: [/chat/*]}
    launch_template:
      image_ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
      instance_type: p4d.24xlarge
      capacity_reservation_specification:
        capacity_reservation_target:
          capacity_reservation_resource_group_arn: arn:aws:resource-groups:us-east-2:123456789012:group/gpus
    spot_autoscaling_group:
      max_size: 4
      spot_allocation_strategy: capacity-optimized
      instance_types:
      - instance_requirements:
          vcpu_count: {min: 8}
          memory_mib: {min: 32768, max: 1048576}
          accelerator_names: [a100, v100]
          accelerator_types: [gpu]
          instance_generations: [current]
          burstable_performance: excluded
          allowed_instance_types: [p4d.*, p3*]
backend: {type: local}
"""


def test_capacity_block_and_accelerator_names_pass_terraform_validate(tmp_path):
    config = tmp_path / "blocks.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "cdktf.out"
    result = run_main("--config", str(config), "--outdir", str(out))
    assert result.returncode == 0, result.stderr
    stack_dir = out / "stacks" / "blocks"
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    templates = stack["resource"]["aws_launch_template"]
    block = templates["fleet-train_launch_template"]
    assert block["instance_market_options"] == {"market_type": "capacity-block"}
    assert block["capacity_reservation_specification"] == {
        "capacity_reservation_target": {"capacity_reservation_id": "cr-02168da1478b509e0"}
    }
    assert "mixed_instances_policy" not in stack["resource"]["aws_autoscaling_group"]["fleet-train_autoscaling_group"]
    spot = stack["resource"]["aws_autoscaling_group"]["fleet-chat_spot_autoscaling_group"]["mixed_instances_policy"]
    [override] = spot["launch_template"]["override"]
    assert override["instance_requirements"]["accelerator_names"] == ["a100", "v100"]

    report = validate(stack_dir, tmp_path)
    assert report["valid"] is True, json.dumps(report["diagnostics"], indent=1)


def test_accelerator_names_are_the_providers(tmp_path):
    """The config's accelerator names are exactly those hashicorp/aws 5.100.0 accepts
    (Auto Scaling's list, which lacks a10g, l4, l40s, h100). The provider checks them only
    when the whole policy is known, which a generated group's is not (it references its
    launch template), so a name it refuses would pass ``terraform validate`` and fail at
    apply: synth is where they are checked. Here a group with literal values only shows
    the provider's list."""
    names = ["a100", "l40s"]
    group = {
        "min_size": 0,
        "max_size": 1,
        "availability_zones": ["us-east-1a"],
        "mixed_instances_policy": {
            "launch_template": {
                "launch_template_specification": {"launch_template_id": "lt-0123456789abcdef0"},
                "override": [
                    {
                        "instance_requirements": {
                            "vcpu_count": {"min": 1},
                            "memory_mib": {"min": 1},
                            "accelerator_names": names,
                        }
                    }
                ],
            }
        },
    }
    (tmp_path / "main.tf.json").write_text(
        json.dumps({"provider": {"aws": {"region": "us-east-1"}}, "resource": {"aws_autoscaling_group": {"g": group}}})
    )
    report = validate(tmp_path, tmp_path)
    [diagnostic] = report["diagnostics"]
    allowed = re.search(r"one of \[(.*)\], got l40s", diagnostic["summary"])
    assert allowed, diagnostic
    assert re.findall(r'"([^"]+)"', allowed.group(1)) == list(get_args(AcceleratorName))
