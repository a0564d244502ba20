"""stacks/launch_checks.py: the AMI and instance type facts read at plan time, and the
preconditions on them. (What the plan does with them on the emulator is in
tests/e2e/test_plan_checks.py.)"""

from __future__ import annotations

from construct_testing import AMI, aws, build, expose, ref

from stacks.config import LaunchTemplateConfig
from stacks.launch_checks import LaunchChecks

MIP = "fleets.chat.autoscaling_group.mixed_instances_policy.instance_types"
TYPES = {"g5.xlarge": MIP, "g6.xlarge": MIP}


def checks(hibernation=False, types=None, **launch_template):
    """LaunchChecks alone, its template and group checks attached to probe resources
    (so the preconditions show in the Terraform), its attributes exposed as outputs."""
    lt = LaunchTemplateConfig.model_validate({"image_id": AMI, **launch_template})

    def make(stack):
        made = LaunchChecks(
            stack,
            "fleet-chat",
            fleet_name="chat",
            region="us-east-1",
            launch_template=lt,
            instance_types=types or TYPES,
            availability_zones=["us-east-1a", "us-east-1b"],
            az_field="network.create_vpc.availability_zones",
            hibernation=hibernation,
        )
        aws.sns_topic.SnsTopic(stack, "template_probe", lifecycle={"precondition": made.template_checks})
        aws.sns_topic.SnsTopic(stack, "group_probe", lifecycle={"precondition": made.group_checks})
        expose(stack, image=made.image_id, root=made.root_device_name)
        return made

    built, _ = build(make)
    probes = built.resources("aws_sns_topic")
    template = probes["template_probe"].get("lifecycle", {}).get("precondition", [])
    return built, template, probes["group_probe"]["lifecycle"]["precondition"]


def test_the_root_device_is_the_amis_own():
    built, template, _ = checks()
    assert built.data("aws_ami")["fleet-chat_ami"]["filter"] == [{"name": "image-id", "values": [AMI]}]
    assert built.outputs() == {"image": AMI, "root": ref("data.aws_ami", "fleet-chat_ami", "root_device_name")}
    assert template == []


def test_an_explicit_root_device_must_be_the_amis():
    built, [check], _ = checks(root_device_name="/dev/xvda")
    assert built.outputs()["root"] == "/dev/xvda"
    assert check["condition"] == '${(data.aws_ami.fleet-chat_ami.root_device_name == "/dev/xvda")}'
    assert check["error_message"].startswith(
        f"fleets.chat.launch_template.root_device_name: /dev/xvda is not the root device of the AMI {AMI} "
        "(its root is ${data.aws_ami.fleet-chat_ami.root_device_name})"
    )


def test_an_ami_from_ssm_is_read_at_plan_time():
    built, _, _ = checks(image_id=None, image_ssm_parameter="/ami/gpu")
    assert built.data("aws_ssm_parameter")["fleet-chat_image"]["name"] == "/ami/gpu"
    image = ref("data.aws_ssm_parameter", "fleet-chat_image", "insecure_value")
    assert built.outputs()["image"] == image
    assert built.data("aws_ami")["fleet-chat_ami"]["filter"] == [{"name": "image-id", "values": [image]}]


def test_each_type_is_checked_once_known_and_each_az_offers_a_type():
    built, _, group = checks()
    types = built.data("aws_ec2_instance_types")
    assert sorted(types) == [
        "fleet-chat_instance_types",
        "fleet-chat_instance_types_ebs_optimized",
        "fleet-chat_instance_types_for_ami",
    ]
    arch = {f["name"]: f["values"] for f in types["fleet-chat_instance_types_for_ami"]["filter"]}
    assert arch == {
        "instance-type": ["g5.xlarge", "g6.xlarge"],
        "processor-info.supported-architecture": [ref("data.aws_ami", "fleet-chat_ami", "architecture")],
    }
    offerings = built.data("aws_ec2_instance_type_offerings")["fleet-chat_instance_type_offerings"]
    assert offerings["location_type"] == "availability-zone"
    assert {f["name"]: f["values"] for f in offerings["filter"]} == {
        "instance-type": ["g5.xlarge", "g6.xlarge"],
        "location": ["us-east-1a", "us-east-1b"],
    }
    # Per type: exists, architecture, EBS optimization, offered; per AZ: offered there.
    assert len(group) == 2 * 4 + 2
    exists, arch_check = group[0], group[1]
    known = 'contains(data.aws_ec2_instance_types.fleet-chat_instance_types.instance_types, "g5.xlarge")'
    assert exists["condition"] == f"${{{known}}}"
    assert exists["error_message"] == f"{MIP}: g5.xlarge is not an EC2 instance type in us-east-1; check the spelling."
    # A misspelt type gets one message: the other checks pass when it does not exist.
    assert arch_check["condition"].startswith(
        '${(!contains(data.aws_ec2_instance_types.fleet-chat_instance_types.instance_types, "g5.xlarge") || '
    )
    az = group[-1]
    assert az["condition"] == (
        '${contains(data.aws_ec2_instance_type_offerings.fleet-chat_instance_type_offerings.locations, "us-east-1b")}'
    )
    assert az["error_message"].startswith(
        "network.create_vpc.availability_zones: none of the instance types of fleet chat (g5.xlarge, g6.xlarge) "
        "is offered in us-east-1b"
    )


def test_hibernating_warm_pools_check_hibernation_support():
    built, _, group = checks(hibernation=True)
    assert "fleet-chat_instance_types_hibernation" in built.data("aws_ec2_instance_types")
    assert len(group) == 2 * 5 + 2
    assert any("does not support hibernation" in c["error_message"] for c in group)
