"""Assertions on the synthesized Terraform JSON of each example config."""

from __future__ import annotations

import base64
import json
import re

import pytest
from helpers import EXAMPLES, ROOT, only, read_tree, resources


def test_one_stack_per_example(stacks):
    assert sorted(stacks) == sorted(p.stem for p in (ROOT / "config").glob("*.yaml"))


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_topology_resource_types(stacks, name):
    s = stacks[name]
    for rtype in (
        "aws_security_group",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
        "aws_lb",
        "aws_lb_listener",
        "aws_lb_target_group",
        "aws_launch_template",
        "aws_autoscaling_group",
        "aws_autoscaling_policy",
        "aws_iam_role",
        "aws_iam_instance_profile",
    ):
        assert resources(s, rtype), f"{name} lacks {rtype}"
    assert "aws_launch_configuration" not in s.get("resource", {})
    for sg in resources(s, "aws_security_group").values():
        assert "ingress" not in sg and "egress" not in sg, "rules must be standalone resources"
        assert sg["description"]


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_no_absolute_paths_or_machine_values(stacks, name):
    text = json.dumps(stacks[name])
    assert not re.search(r'"(/tmp|/work|/root|/home|/Users|[A-Z]:\\\\)', text)
    assert str(ROOT) not in text


def test_no_absolute_path_in_any_output_file(synth_dir):
    """Every synthesized file (stacks and manifest), not only cdk.tf.json, is free of
    this checkout's and the output folder's absolute paths. (Independence from the
    machine, user and Terraform version is tested in test_cli_paths.py.)"""
    files = read_tree(synth_dir)
    assert "manifest.json" in files and len(files) > len(EXAMPLES)
    for path, data in files.items():
        text = data.decode()
        assert str(ROOT) not in text and str(synth_dir) not in text, path
        assert not re.search(r'"(/tmp|/work|/root|/home|/Users|[A-Z]:\\\\)', text), path


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_security_group_rules(stacks, name):
    s = stacks[name]
    ingress = resources(s, "aws_vpc_security_group_ingress_rule")
    egress = resources(s, "aws_vpc_security_group_egress_rule")
    for rule in [*ingress.values(), *egress.values()]:
        assert rule["description"]
        assert rule.get("cidr_ipv4") != ""
    alb_rules = [r for r in ingress.values() if "security_groups_alb" in r["security_group_id"]]
    assert {r["from_port"] for r in alb_rules} == ({80, 443} if name == "prod" else {80})
    instance_rules = [r for r in ingress.values() if "security_groups_alb" not in r["security_group_id"]]
    assert instance_rules and all(
        r["referenced_security_group_id"] == "${aws_security_group.security_groups_alb.id}"
        and r["from_port"] == r["to_port"] == 8000
        for r in instance_rules
    )


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_target_group(stacks, name):
    tg = only(stacks[name], "aws_lb_target_group")
    assert tg["name_prefix"] == "chat-" and "name" not in tg
    assert tg["lifecycle"]["create_before_destroy"] is True
    assert tg["load_balancing_algorithm_type"] == "least_outstanding_requests"
    assert tg["slow_start"] == 0
    hc = tg["health_check"]
    assert hc["path"] == "/health" and hc["matcher"] == "200"
    assert hc["timeout"] < hc["interval"]
    assert tg["deregistration_delay"] == {"dev": "120", "prod": "900"}[name]


def test_listeners_dev_http_forward(stacks):
    listeners = resources(stacks["dev"], "aws_lb_listener")
    assert list(listeners) == ["load_balancer_http"]
    action = listeners["load_balancer_http"]["default_action"][0]
    assert action["type"] == "forward"
    assert "aws_lb_target_group.fleet-chat-tg_target_group.arn" in action["target_group_arn"]


def test_listeners_prod_https_redirect(stacks):
    listeners = resources(stacks["prod"], "aws_lb_listener")
    http, https = listeners["load_balancer_http"], listeners["load_balancer_https"]
    assert http["default_action"][0]["type"] == "redirect"
    assert http["default_action"][0]["redirect"]["protocol"] == "HTTPS"
    assert https["protocol"] == "HTTPS" and https["certificate_arn"].startswith("arn:aws:acm:")
    assert re.match(r"ELBSecurityPolicy-(TLS13-1-2|TLS-1-2|FS-1-2)", https["ssl_policy"])
    assert https["default_action"][0]["type"] == "forward"


@pytest.mark.parametrize("name,protection", [("dev", False), ("prod", True)])
def test_load_balancer(stacks, name, protection):
    lb = only(stacks[name], "aws_lb")
    assert lb["load_balancer_type"] == "application"
    assert lb["drop_invalid_header_fields"] is True
    assert lb["enable_deletion_protection"] is protection
    assert lb["idle_timeout"] == {"dev": 300, "prod": 900}[name]
    assert len(lb["subnets"]) >= 2


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_launch_template(stacks, name):
    lt = only(stacks[name], "aws_launch_template")
    assert lt["metadata_options"]["http_tokens"] == "required"
    ebs = lt["block_device_mappings"][0]["ebs"]
    assert ebs["encrypted"] == "true" and ebs["volume_type"] == "gp3"
    assert {t["resource_type"] for t in lt["tag_specifications"]} == {"instance", "volume"}
    # Provider default_tags do not reach what Auto Scaling launches: the cost allocation
    # tags are on the instances and volumes, and on the group.
    for spec in lt["tag_specifications"]:
        assert spec["tags"]["environment"] == name and spec["tags"]["managed-by"] == "ai-fleet-terraform"
        assert spec["tags"]["fleet"] == "chat"
    asg_tags = {t["key"]: t["value"] for t in only(stacks[name], "aws_autoscaling_group")["tag"]}
    assert asg_tags["environment"] == name and asg_tags["managed-by"] == "ai-fleet-terraform"
    assert "instance_market_options" not in lt, "spot belongs in the mixed instances policy"
    assert lt["image_id"].startswith("${data.aws_ssm_parameter.")
    script = (ROOT / "user_data" / "vllm.sh").read_text()
    first, rest = script.split("\n", 1)
    user_data = base64.b64decode(lt["user_data"]).decode()
    # The script, with the fleet's values exported right after its #! line.
    assert user_data.startswith(first + "\n") and user_data.endswith("\n" + rest)
    assert "\nexport FLEET_PORT=8000\n" in user_data
    # Only what the script names: vllm.sh reads the port, not the health check path.
    assert "FLEET_HEALTH_CHECK_PATH" not in user_data and "FLEET_ENVIRONMENT" not in user_data
    assert lt["iam_instance_profile"]["arn"].startswith("${aws_iam_instance_profile.")
    attach = resources(stacks[name], "aws_iam_role_policy_attachment")
    assert any("AmazonSSMManagedInstanceCore" in a["policy_arn"] for a in attach.values())


def test_dev_asg_uses_launch_template_latest_version(stacks):
    asg = only(stacks["dev"], "aws_autoscaling_group")
    assert asg["launch_template"]["version"] == "${aws_launch_template.fleet-chat_launch_template.latest_version}"
    assert "mixed_instances_policy" not in asg
    assert (asg["min_size"], asg["desired_capacity"], asg["max_size"]) == (1, 1, 2)
    assert asg["health_check_type"] == "ELB"
    assert asg["target_group_arns"] == ["${aws_lb_target_group.fleet-chat-tg_target_group.arn}"]
    assert all("aws_subnet.network_private-" in s for s in asg["vpc_zone_identifier"])
    assert asg["lifecycle"]["ignore_changes"] == ["desired_capacity", "initial_lifecycle_hook"]


def test_prod_asg_mixed_instances(stacks):
    asg = only(stacks["prod"], "aws_autoscaling_group")
    assert "launch_template" not in asg, "the template goes only inside the mixed policy"
    mip = asg["mixed_instances_policy"]
    spec = mip["launch_template"]["launch_template_specification"]
    assert spec["version"].endswith(".latest_version}")
    assert [o["instance_type"] for o in mip["launch_template"]["override"]] == [
        "g5.2xlarge",
        "g6.2xlarge",
        "g6e.2xlarge",
        "g5.4xlarge",
    ]
    dist = mip["instances_distribution"]
    assert dist["spot_allocation_strategy"] == "price-capacity-optimized"
    assert dist["on_demand_base_capacity"] == 2
    assert dist["on_demand_percentage_above_base_capacity"] == 25
    assert asg["capacity_rebalance"] is True
    assert asg["health_check_grace_period"] == 900 and asg["default_instance_warmup"] == 600
    assert asg["instance_refresh"]["strategy"] == "Rolling"
    assert asg["instance_refresh"]["preferences"]["auto_rollback"] is True


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_request_count_scaling_label(stacks, name):
    policy = only(stacks[name], "aws_autoscaling_policy")
    spec = policy["target_tracking_configuration"]["predefined_metric_specification"]
    assert spec["predefined_metric_type"] == "ALBRequestCountPerTarget"
    assert spec["resource_label"] == (
        "${aws_lb.load_balancer_alb.arn_suffix}/${aws_lb_target_group.fleet-chat-tg_target_group.arn_suffix}"
    )


def test_dev_creates_vpc_across_two_azs(stacks):
    s = stacks["dev"]
    subnets = resources(s, "aws_subnet")
    assert len(subnets) == 4
    assert {x["availability_zone"] for x in subnets.values()} == {"us-east-1a", "us-east-1b"}
    assert all(x["map_public_ip_on_launch"] is False for x in subnets.values())
    assert len(resources(s, "aws_nat_gateway")) == 1  # nat_gateway: single
    assert resources(s, "aws_default_security_group"), "default security group must be locked down"
    flow_log = only(s, "aws_flow_log")
    # The flow-log role's permissions are a standalone policy (the role's inline_policy
    # argument is deprecated), scoped to the flow-log group, and exist before the flow log.
    role = resources(s, "aws_iam_role")["network_flow_logs_role"]
    assert "inline_policy" not in role
    policy = only(s, "aws_iam_role_policy")
    assert policy["role"] == "${aws_iam_role.network_flow_logs_role.id}"
    assert "${aws_cloudwatch_log_group.network_flow_logs_group.arn}:*" in policy["policy"]
    assert flow_log["iam_role_arn"] == "${aws_iam_role.network_flow_logs_role.arn}"
    assert flow_log["depends_on"] == ["aws_iam_role_policy.network_flow_logs_role_policy"]


def test_prod_checks_existing_subnets_at_plan_time(stacks):
    s = stacks["prod"]
    data = s["data"]["aws_subnet"]
    assert len(data) == 6
    lb = only(s, "aws_lb")
    condition = lb["lifecycle"]["precondition"][0]["condition"]
    assert "length(distinct([" in condition and ">= 2" in condition


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_backend_and_outputs(stacks, name):
    s = stacks[name]
    # The backend block of each example is asserted in tests/synth/test_backends.py.
    assert list(s["terraform"]["backend"]) == [{"dev": "local", "prod": "s3"}[name]]
    assert s["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"
    for out in (
        "alb_dns_name",
        "alb_arn",
        "chat_target_group_arn",
        "chat_autoscaling_group_name",
        "alb_security_group_id",
        "chat_instance_security_group_id",
    ):
        assert out in s["output"], out


def _addresses(stack: dict) -> set[str]:
    found = {f"{t}.{n}" for t, rs in stack.get("resource", {}).items() for n in rs}
    found |= {f"data.{t}.{n}" for t, rs in stack.get("data", {}).items() for n in rs}
    return found | {f"output.{n}" for n in stack.get("output", {})}


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_terraform_addresses_stay_stable(stacks, name):
    """Every address the example had when ``tests/stable_addresses.json`` was recorded
    is still there: renaming one would make Terraform destroy and re-create it (an ALB,
    an Auto Scaling group) on the next apply. New elements may be added; to remove
    one on purpose, remove it from that file in the same change."""
    recorded = set(json.loads((ROOT / "tests" / "stable_addresses.json").read_text())[name])
    assert recorded - _addresses(stacks[name]) == set()


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_every_element_is_a_direct_child_of_its_stack(stacks, name):
    """stacks/parts.py: every element's construct path is ``<stack>/<terraform name>``, so
    cdktf's default naming gives the readable name with no hash suffix and needs no
    per-element callback into Python."""
    s = stacks[name]
    elements = [(n, r) for block in ("resource", "data") for rs in s.get(block, {}).values() for n, r in rs.items()]
    assert elements
    for tf_name, body in elements:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", tf_name)
        assert body["//"]["metadata"] == {"path": f"{name}/{tf_name}", "uniqueId": tf_name}
