"""What AWS knows about what a fleet launches, read at plan time, and the checks on it.

The AMI's root device and architecture, which instance types exist, what they support
and in which Availability Zones they are offered: only AWS knows these, and getting them
wrong plans cleanly and fails (or silently misbehaves) at run time. The data sources here
read them when Terraform plans, and preconditions on the launch template and the Auto
Scaling group stop the plan, before anything changes, with a message naming the config
field:

- the root volume goes on the AMI's own root device (``aws_ami.root_device_name``); an
  explicit ``root_device_name`` must be that device, else the instance boots from the
  AMI's unencrypted root and gets the encrypted volume as an extra disk (EC2 user guide,
  "Root device volume" and "Block device mappings");
- every instance type exists in the region, runs the AMI's architecture (EC2 rejects an
  arm64 type with an x86_64 AMI at launch), supports EBS optimization (the launch
  template turns it on; EC2 refuses to launch types without it), and supports
  hibernation when the warm pool hibernates (EC2 user guide, "Hibernation
  prerequisites");
- every type is offered in one or more of the group's AZs, and every AZ offers one or
  more of the types: Auto Scaling never launches where no type is offered (EC2
  ``DescribeInstanceTypeOfferings``; Auto Scaling user guide, "Instance type
  availability").

Types selected by attributes (``instance_requirements``) are chosen by AWS at launch
and are not checked here; named types beside them (the main group's, a spot group's)
still are. A Capacity Block's or reservation's instance type and AZ are not checked at
plan time: hashicorp/aws 5.100 has no ``aws_ec2_capacity_reservation`` data source.

Data sources: ``aws_ami``, ``aws_ec2_instance_types`` (filtered per property) and
``aws_ec2_instance_type_offerings``, all read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import Fn, Op, Precondition, TerraformStack

from .aws import aws
from .config import LaunchTemplateConfig
from .parts import Part


class LaunchChecks(Part):
    """Reads the facts about fleet ``fleet_name``'s AMI (``launch_template.image_id`` or
    the value of ``image_ssm_parameter``) and its ``instance_types`` (type -> the config
    field that lists it) in ``availability_zones`` (names or tokens; ``az_field`` is the
    config field they come from) of ``region``, and builds the checks.

    ``hibernation``: the warm pool hibernates instances. Attributes: ``image_id`` (the
    AMI ID, literal or token), ``root_device_name`` (token, or the explicit name),
    ``template_checks`` (preconditions for the launch template) and ``group_checks``
    (for the Auto Scaling group).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        fleet_name: str,
        region: str,
        launch_template: LaunchTemplateConfig,
        instance_types: Mapping[str, str],
        availability_zones: Sequence[str],
        az_field: str,
        hibernation: bool = False,
    ):
        super().__init__(scope, id_)
        lt = launch_template
        field = f"fleets.{fleet_name}.launch_template"
        if lt.image_ssm_parameter:
            self.image_id: str = aws.data_aws_ssm_parameter.DataAwsSsmParameter(
                self.stack, self.element_id("image"), name=lt.image_ssm_parameter
            ).insecure_value
        else:
            assert lt.image_id is not None  # validated: exactly one of the two
            self.image_id = lt.image_id
        ami = aws.data_aws_ami.DataAwsAmi(
            self.stack,
            self.element_id("ami"),
            filter=[aws.data_aws_ami.DataAwsAmiFilter(name="image-id", values=[self.image_id])],
        )
        architecture, ami_root = ami.architecture, ami.root_device_name
        self.template_checks: list[Precondition] = []
        if lt.root_device_name is None:
            self.root_device_name: str = ami_root
        else:
            # aws-rule: root-device-is-the-amis
            self.root_device_name = lt.root_device_name
            self.template_checks.append(
                Precondition(
                    condition=Op.eq(ami_root, lt.root_device_name),
                    error_message=f"{field}.root_device_name: {lt.root_device_name} is not the root device of "
                    f"the AMI {self.image_id} (its root is {ami_root}): the encrypted root volume would be an "
                    "extra disk and the instance would boot from the AMI's own root volume; remove "
                    "root_device_name to use the AMI's.",
                )
            )

        self.group_checks: list[Precondition] = []
        types = list(instance_types)
        if not types:
            # Every type is selected by attributes (instance_requirements): which types
            # those are, AWS decides at launch; no type to check here.
            return
        mod = aws.data_aws_ec2_instance_types

        def types_with(key: str, *filters: tuple[str, list[str]]) -> list[str]:
            """The subset of ``types`` that AWS lists with every filter (name, values)."""
            data = mod.DataAwsEc2InstanceTypes(
                self.stack,
                self.element_id(key),
                filter=[
                    mod.DataAwsEc2InstanceTypesFilter(name=name, values=values)
                    for name, values in (("instance-type", types), *filters)
                ],
            )
            found: list[str] = data.instance_types
            return found

        existing = types_with("instance_types")
        for_ami = types_with("instance_types_for_ami", ("processor-info.supported-architecture", [architecture]))
        ebs_optimized = types_with(
            "instance_types_ebs_optimized", ("ebs-info.ebs-optimized-support", ["default", "supported"])
        )
        hibernating = (
            types_with("instance_types_hibernation", ("hibernation-supported", ["true"])) if hibernation else None
        )
        offerings = aws.data_aws_ec2_instance_type_offerings.DataAwsEc2InstanceTypeOfferings(
            self.stack,
            self.element_id("instance_type_offerings"),
            location_type="availability-zone",
            filter=[
                aws.data_aws_ec2_instance_type_offerings.DataAwsEc2InstanceTypeOfferingsFilter(name=name, values=values)
                for name, values in (("instance-type", types), ("location", list(availability_zones)))
            ],
        )
        offered_types, offered_azs = offerings.instance_types, offerings.locations

        def check(condition: object, message: str) -> None:
            self.group_checks.append(Precondition(condition=condition, error_message=message))

        for t, where in instance_types.items():
            known = Fn.contains(existing, t)

            # Each property is checked only for a type that exists: a misspelt type gets
            # one message, not one per property.
            def unless_unknown(condition: object, known: object = known) -> object:
                return Op.or_(Op.not_(known), condition)

            # aws-rule: instance-type-exists
            check(known, f"{where}: {t} is not an EC2 instance type in {region}; check the spelling.")
            # aws-rule: instance-type-architecture
            check(
                unless_unknown(Fn.contains(for_ami, t)),
                f"{where}: {t} cannot run the AMI {self.image_id}, which is built for {architecture}: "
                f"list only {architecture} instance types, or use an AMI built for {t}'s architecture.",
            )
            # aws-rule: instance-type-ebs-optimized
            check(
                unless_unknown(Fn.contains(ebs_optimized, t)),
                f"{where}: {t} does not support EBS optimization, which the launch template turns on "
                "(EC2 refuses to launch it): choose a current-generation instance type.",
            )
            if hibernating is not None:
                # aws-rule: warm-pool-hibernation-support
                check(
                    unless_unknown(Fn.contains(hibernating, t)),
                    f"{where}: {t} does not support hibernation, which warm_pool.pool_state Hibernated needs: "
                    "use pool_state Stopped, or instance types that support hibernation.",
                )
            # aws-rule: instance-type-offered-in-azs
            check(
                unless_unknown(Fn.contains(offered_types, t)),
                f"{where}: {t} is not offered in any Availability Zone of the fleet's subnets "
                f"({az_field}), so the group never launches it: choose types offered there "
                "(aws ec2 describe-instance-type-offerings --location-type availability-zone).",
            )
        for az in availability_zones:
            check(
                Fn.contains(offered_azs, az),
                f"{az_field}: none of the instance types of fleet {fleet_name} ({', '.join(types)}) is offered in "
                f"{az}, so the group never launches there and loses that AZ's redundancy: add a type offered "
                f"in {az}, or move the fleet's subnet out of it.",
            )
