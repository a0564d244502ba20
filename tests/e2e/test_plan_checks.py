"""Plan-time checks against the local AWS emulator: facts only AWS knows (the AMI's root
device and architecture, which instance types exist, what they support, where they are
offered, which Availability Zones exist) stop ``terraform plan`` with a message naming
the config field, before anything changes.

Each case is the dev example with one change, synthesized (all in one ``main.py`` run)
and planned against one moto server (which knows AMIs, instance types and their AZ
offerings; nothing is applied). The plans run concurrently; the provider is unpacked
once (a plugin cache).
"""

from __future__ import annotations

import copy
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from emulator import Aws, write_override
from helpers import ROOT, copy_project, run_main, terraform, terraform_env

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def dev() -> dict:
    return yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def change(name: str, edit) -> dict:
    doc = copy.deepcopy(dev())
    doc["name"] = name
    edit(doc, doc["fleets"]["chat"])
    return doc


def _mip(types: list[str]):
    def edit(doc, chat):
        chat["autoscaling_group"]["mixed_instances_policy"] = {"instance_types": types}

    return edit


def _set(section: str, **values):
    def edit(doc, chat):
        chat.setdefault(section, {}).update(values)

    return edit


def _azs(azs: list[str]):
    def edit(doc, chat):
        doc["network"]["create_vpc"]["availability_zones"] = azs

    return edit


def _sda1_ami(aws: Aws) -> str:
    """An x86_64 AMI of the emulator whose root device is /dev/sda1 (as many Ubuntu and
    GPU AMIs)."""
    images = aws.ec2.describe_images(Owners=["amazon"])["Images"]
    return next(
        i["ImageId"]
        for i in sorted(images, key=lambda i: i["ImageId"])
        if i.get("RootDeviceName") == "/dev/sda1" and i.get("Architecture") == "x86_64"
    )


@pytest.fixture(scope="module")
def planned(emulators, tmp_path_factory):
    """``{case: (terraform plan result, stack folder)}`` for every case below."""
    server = emulators("plan-checks")
    aws = Aws(server.endpoint, REGION)
    sda1 = _sda1_ami(aws)
    Aws(server.endpoint, "us-west-2").s3.create_bucket(
        Bucket="pc-logs-west", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    cases = {
        "baseline": change("pc-baseline", lambda doc, chat: None),
        "arm-type-x86-ami": change("pc-arch", _mip(["g5.xlarge", "g5g.xlarge"])),
        "type-not-in-az": change("pc-offering", _set("launch_template", instance_type="p4de.24xlarge")),
        "misspelt-type": change("pc-typo", _set("launch_template", instance_type="t3.mediun")),
        "no-ebs-optimization": change("pc-ebs", _set("launch_template", instance_type="t2.micro")),
        "hibernation": change(
            "pc-hibernate",
            lambda doc, chat: (
                chat["launch_template"].update(instance_type="g5.xlarge"),
                chat["autoscaling_group"].update(warm_pool={"pool_state": "Hibernated"}),
            ),
        ),
        "no-such-az": change("pc-az", _azs(["us-east-1a", "us-east-1z"])),
        "log-bucket-other-region": change(
            "pc-logs", lambda doc, chat: doc["load_balancer"].update(access_logs={"bucket": "pc-logs-west"})
        ),
        "root-not-the-amis": change("pc-root", _set("launch_template", root_device_name="/dev/sda1")),
        "sda1-ami": change(
            "pc-sda1",
            lambda doc, chat: chat["launch_template"].update(image_ssm_parameter=None, image_id=sda1),
        ),
    }
    project = copy_project(tmp_path_factory.mktemp("plan-checks") / "project")
    for path in (project / "config").glob("*.yaml"):
        path.unlink()
    for doc in cases.values():
        if doc["fleets"]["chat"]["launch_template"].get("image_ssm_parameter") is None:
            doc["fleets"]["chat"]["launch_template"].pop("image_ssm_parameter", None)
        (project / "config" / f"{doc['name']}.yaml").write_text(yaml.safe_dump(doc))
    result = run_main(cwd=project)
    assert result.returncode == 0, result.stderr
    tmp = tmp_path_factory.mktemp("tf")
    env = terraform_env(tmp)
    env["TF_PLUGIN_CACHE_DIR"] = str(tmp / "plugins")
    (tmp / "plugins").mkdir()

    stacks = {case: project / "cdktf.out" / "stacks" / doc["name"] for case, doc in cases.items()}
    # One init after the other: Terraform's plugin cache is not safe for concurrent
    # installs ("provider binary not found"), and the cache makes each init quick.
    for stack in stacks.values():
        write_override(stack, server.endpoint)
        init = terraform(["init", "-input=false", "-no-color"], stack, env)
        assert init.returncode == 0, init.stdout + init.stderr

    def plan(stack: Path):
        return terraform(["plan", "-input=false", "-no-color", "-out", "plan.tfplan"], stack, env), stack

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case: pool.submit(plan, stack) for case, stack in stacks.items()}
        results = {case: f.result() for case, f in futures.items()}
    return results, {"sda1": sda1}


def failed_with(planned, case: str) -> str:
    """The plan's error output (one line per message, box drawing removed); fails the
    test when the plan succeeded."""
    result, _ = planned[0][case]
    assert result.returncode != 0, f"{case}: the plan succeeded:\n{result.stdout[-2000:]}"
    text = re.sub(r"[│╷╵]", "", result.stderr)
    return " ".join(text.split())


def planned_launch_template(planned, case: str) -> dict:
    result, stack = planned[0][case]
    assert result.returncode == 0, result.stderr[-3000:]
    env = terraform_env(stack)
    shown = terraform(["show", "-json", "plan.tfplan"], stack, env)
    assert shown.returncode == 0, shown.stderr
    plan = json.loads(shown.stdout)
    [lt] = [r for r in plan["resource_changes"] if r["type"] == "aws_launch_template"]
    return lt["change"]["after"]


def test_the_unchanged_example_plans(planned):
    lt = planned_launch_template(planned, "baseline")
    # The root volume goes on the AMI's own root device (AL2023: /dev/xvda).
    assert lt["block_device_mappings"][0]["device_name"] == "/dev/xvda"


def test_an_ami_rooted_on_sda1_gets_its_encrypted_root_there(planned):
    """Case 3 (rule: root-device-is-the-amis): the encrypted volume is always the root,
    whatever the AMI calls it."""
    lt = planned_launch_template(planned, "sda1-ami")
    [device] = lt["block_device_mappings"]
    assert device["device_name"] == "/dev/sda1"
    assert device["ebs"][0]["encrypted"] == "true"


def test_an_explicit_root_device_that_is_not_the_amis_stops_the_plan(planned):
    """rule: root-device-is-the-amis"""
    text = failed_with(planned, "root-not-the-amis")
    assert "fleets.chat.launch_template.root_device_name: /dev/sda1 is not the root device of the AMI" in text
    assert "(its root is /dev/xvda)" in text


def test_an_arm64_type_with_an_x86_64_ami_stops_the_plan(planned):
    """Case 4 (rule: instance-type-architecture)."""
    text = failed_with(planned, "arm-type-x86-ami")
    assert (
        "fleets.chat.autoscaling_group.mixed_instances_policy.instance_types: g5g.xlarge cannot run the AMI"
    ) in text
    assert "which is built for x86_64" in text
    assert "g5.xlarge cannot run" not in text


def test_a_type_not_offered_in_the_groups_azs_stops_the_plan(planned):
    """Case 5 (rule: instance-type-offered-in-azs): p4de.24xlarge is offered in us-east-1b
    and 1c only (as the emulator knows)."""
    text = failed_with(planned, "type-not-in-az")
    assert (
        "network.create_vpc.availability_zones: none of the instance types of fleet chat (p4de.24xlarge) "
        "is offered in us-east-1a"
    ) in text
    assert "offered in us-east-1b" not in text


def test_a_misspelt_instance_type_stops_the_plan_with_one_message(planned):
    """rule: instance-type-exists"""
    text = failed_with(planned, "misspelt-type")
    assert "fleets.chat.launch_template.instance_type: t3.mediun is not an EC2 instance type in us-east-1" in text
    assert "t3.mediun cannot run" not in text and "t3.mediun does not support" not in text


def test_a_type_without_ebs_optimization_stops_the_plan(planned):
    """rule: instance-type-ebs-optimized"""
    text = failed_with(planned, "no-ebs-optimization")
    assert "fleets.chat.launch_template.instance_type: t2.micro does not support EBS optimization" in text


def test_hibernation_needs_types_that_support_it(planned):
    """rule: warm-pool-hibernation-support"""
    text = failed_with(planned, "hibernation")
    assert "fleets.chat.launch_template.instance_type: g5.xlarge does not support hibernation" in text


def test_an_availability_zone_that_does_not_exist_stops_the_plan(planned):
    """rule: availability-zones-exist"""
    text = failed_with(planned, "no-such-az")
    assert "network.create_vpc.availability_zones: us-east-1z is not an available Availability Zone" in text
    assert "us-east-1a is not" not in text


def test_an_access_log_bucket_in_another_region_stops_the_plan(planned):
    """rule: access-logs-bucket-region"""
    text = failed_with(planned, "log-bucket-other-region")
    assert "load_balancer.access_logs.bucket: pc-logs-west is in us-west-2, and ELB delivers access logs only" in text


def test_a_stopped_plan_cannot_be_applied(planned):
    """A failed precondition stops the plan itself: Terraform saves it marked errored,
    and such a plan cannot be applied. Nothing is ever created here."""
    for case, (result, stack) in planned[0].items():
        assert not (stack / "terraform.tfstate").exists(), case
        shown = terraform(["show", "-json", "plan.tfplan"], stack, terraform_env(stack))
        assert json.loads(shown.stdout).get("errored", False) == (result.returncode != 0), case
