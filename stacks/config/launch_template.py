"""``fleets.<name>.launch_template``: the fleet's launch template and instance role."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from ..parts import terraform_safe
from .base import FieldProblem, StrictModel
from .types import AmiId, InstanceType, KmsKeyArn, ManagedPolicyArn, SecretReference

#: Attachment keys of the policies every instance role may get (Terraform names
#: ``fleet-<name>_policy-<key>``, stacks/fleet.py); a managed policy cannot use them.
BUILTIN_POLICY_KEYS = ("ssm-core", "cloudwatch-agent")


def managed_policy_key(arn: str) -> str:
    """Attachment key of a managed policy (Terraform name ``fleet-<name>_policy-<key>``):
    its policy name, the ARN's last path segment."""
    return arn.rsplit("/", 1)[-1]


class CapacityReservationTarget(StrictModel):
    """One reservation, or one resource group of reservations, to launch into
    (``capacity_reservation_specification.capacity_reservation_target``)."""

    capacity_reservation_id: str | None = Field(
        None, pattern=r"^cr-[0-9a-f]{8,17}$", description="ID of an On-Demand Capacity Reservation or Capacity Block."
    )
    capacity_reservation_resource_group_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:resource-groups:[a-z0-9-]+:[0-9]{12}:group/[A-Za-z0-9_.-]{1,128}$",
        description="ARN of a resource group of Capacity Reservations.",
    )

    def own_problems(self) -> list[FieldProblem]:
        """Exactly one target (EC2 API reference, CapacityReservationTarget)."""
        # aws-rule: capacity-reservation-one-target
        if (self.capacity_reservation_id is None) == (self.capacity_reservation_resource_group_arn is None):
            return [("", "give exactly one of capacity_reservation_id and capacity_reservation_resource_group_arn")]
        return []


class CapacityReservationSpecification(StrictModel):
    """Whether instances launch into On-Demand Capacity Reservations
    (``aws_launch_template.capacity_reservation_specification``; EC2 API reference,
    LaunchTemplateCapacityReservationSpecificationRequest: "You can specify only one
    option at a time")."""

    capacity_reservation_preference: Literal["open", "none"] | None = Field(
        None,
        description="open: use any open reservation matching type, platform and AZ, else "
        "On-Demand capacity; none: never use a reservation.",
    )
    capacity_reservation_target: CapacityReservationTarget | None = Field(
        None, description="Launch into this reservation (or resource group) only."
    )

    def own_problems(self) -> list[FieldProblem]:
        """A preference or a target, exactly one."""
        # aws-rule: capacity-reservation-preference-or-target
        if (self.capacity_reservation_preference is None) == (self.capacity_reservation_target is None):
            return [("", "give exactly one of capacity_reservation_preference and capacity_reservation_target")]
        return []


class InstanceMarketOptions(StrictModel):
    """Purchase option of the template (``aws_launch_template.instance_market_options``).
    Only Capacity Blocks for ML: spot comes from the groups' mixed instances policies."""

    market_type: Literal["capacity-block"] = Field(
        ..., description="capacity-block: launch into the Capacity Block named by capacity_reservation_target."
    )


class LaunchTemplateConfig(StrictModel):
    """Launch template per fleet (``aws_launch_template``); never a launch configuration.

    IMDSv2 is always required and the root volume always encrypted.
    """

    image_id: AmiId | None = Field(None, description="AMI ID. Give this or image_ssm_parameter.")
    image_ssm_parameter: str | None = Field(
        None,
        pattern=r"^/[A-Za-z0-9_.\-/]{1,2047}$",
        description="SSM parameter holding the AMI ID, read at plan time so AMI changes show in the plan.",
    )
    instance_type: InstanceType = Field(
        "t3.medium",
        description="Instance type when no mixed_instances_policy is set; otherwise the "
        "policy's instance_types are used.",
    )
    root_device_name: str | None = Field(
        None,
        pattern=r"^/dev/[a-z0-9]+$",
        description="Device name of the root volume. Default: the AMI's own root device, read at "
        "plan time, so the encrypted volume is always the root. When set, the plan fails unless it "
        "is the AMI's root device.",
    )
    root_volume_size: int = Field(100, ge=8, le=16384, description="Root volume size, GiB.")
    root_volume_type: Literal["gp3", "gp2", "io1", "io2"] = Field(
        "gp3", description="EBS volume type of the root volume."
    )
    root_volume_iops: int | None = Field(
        None,
        ge=100,
        le=256000,
        description="Provisioned IOPS of the root volume: required for io1 and io2, optional for gp3 "
        "(3000-16000, default 3000), not for gp2. Faster volumes load model weights sooner.",
    )
    root_volume_throughput: int | None = Field(
        None,
        ge=125,
        le=1000,
        description="Throughput of a gp3 root volume, MiB/s (125-1000, default 125); at most a quarter of its IOPS.",
    )
    root_volume_kms_key_id: KmsKeyArn | None = Field(
        None, description="KMS key ARN for the root volume; default: the AWS managed key."
    )
    http_put_response_hop_limit: int = Field(
        1,
        ge=1,
        le=64,
        description="IMDSv2 hop limit; 2 lets containers on the host reach IMDS.",
    )
    user_data_file: Annotated[str, StringConstraints(min_length=1)] | None = Field(
        None,
        description="Path of a user data script, relative to the config file's folder.",
    )
    key_name: str | None = Field(None, min_length=1, max_length=255, description="EC2 key pair name; default: none.")
    managed_policy_arns: list[ManagedPolicyArn] = Field(
        default_factory=list,
        max_length=18,
        description="Extra IAM managed policies for the instance role, on top of "
        "AmazonSSMManagedInstanceCore (and CloudWatchAgentServerPolicy with a custom metric). "
        "IAM allows 20 per role at most, 10 unless the account's quota was raised. Each "
        "attachment is named after the policy name, so the names must differ.",
    )
    enable_monitoring: bool = Field(True, description="Detailed (1-minute) EC2 monitoring.")
    capacity_reservation_specification: CapacityReservationSpecification | None = Field(
        None,
        description="Launch into On-Demand Capacity Reservations: a preference (open, none) or one "
        "reservation to target. Default: none given, which AWS treats as open.",
    )
    instance_market_options: InstanceMarketOptions | None = Field(
        None,
        description="{market_type: capacity-block} launches into a Capacity Block for ML, which "
        "capacity_reservation_specification.capacity_reservation_target.capacity_reservation_id "
        "names. Default: On-Demand (spot comes from the groups).",
    )
    secret_references: list[SecretReference] = Field(
        default_factory=list,
        max_length=50,
        description="Secrets the instances may read at boot, by reference only: Secrets "
        "Manager secret ARNs, SSM parameter ARNs or SSM parameter names starting with '/'. "
        "The instance role gets read access to exactly these; the config never holds "
        "secret values.",
    )

    @field_validator("managed_policy_arns")
    @classmethod
    def _distinct_policy_names(cls, arns: list[str]) -> list[str]:
        """Each attachment's Terraform name comes from the policy name: two policies whose
        names are equal, or differ only in characters a Terraform name cannot hold
        (``team.read``, ``team_read``), or a name taken by a built-in attachment, would
        share one name and one would be lost."""
        seen: dict[str, str] = {key: f"the built-in {key} attachment" for key in BUILTIN_POLICY_KEYS}
        for arn in arns:
            key = terraform_safe(managed_policy_key(arn))
            if seen.get(key) == arn:
                raise ValueError(f"{arn} is listed twice")
            if key in seen:
                raise ValueError(
                    f"{arn} and {seen[key]} would both be attached as policy-{key}; the "
                    "policy names must differ in letters, digits, '_' or '-' (and not be "
                    f"{' or '.join(BUILTIN_POLICY_KEYS)})"
                )
            seen[key] = arn
        return arns

    def own_problems(self) -> list[FieldProblem]:
        """Exactly one AMI source; each secret reference once; IOPS and throughput as the
        root volume's type allows them."""
        out: list[FieldProblem] = []
        if (self.image_id is None) == (self.image_ssm_parameter is None):
            out.append(("", "set exactly one of image_id and image_ssm_parameter"))
        if len(set(self.secret_references)) != len(self.secret_references):
            out.append(("secret_references", "lists a reference twice"))
        return out + self._capacity_block_problems() + self._volume_problems()

    @property
    def capacity_block(self) -> bool:
        """True when the instances launch into a Capacity Block for ML."""
        return self.instance_market_options is not None

    def _capacity_block_problems(self) -> list[FieldProblem]:
        """A Capacity Block is a targeted reservation: the template names its ID
        (Auto Scaling user guide, "Use Capacity Blocks for machine learning workloads":
        "specify the Capacity Block's reservation ID and instance type",
        https://docs.aws.amazon.com/autoscaling/ec2/userguide/launch-template-capacity-blocks.html)."""
        crs = self.capacity_reservation_specification
        target = crs.capacity_reservation_target if crs is not None else None
        # aws-rule: capacity-block-reservation-id
        if self.capacity_block and (target is None or target.capacity_reservation_id is None):
            return [
                (
                    "instance_market_options",
                    "capacity-block needs the Capacity Block's reservation ID in "
                    "capacity_reservation_specification.capacity_reservation_target.capacity_reservation_id",
                )
            ]
        return []

    def _volume_problems(self) -> list[FieldProblem]:
        """EBS volume performance per type (EC2 API reference, EbsBlockDevice: Iops and
        Throughput; EBS user guide, "Amazon EBS volume types"): io1 and io2 need IOPS
        (io1 100-64,000 and at most 50 per GiB, io2 100-256,000 and at most 1,000 per GiB);
        gp3 takes 3,000-16,000 IOPS, at most 500 per GiB, and a throughput of at most a
        quarter of its IOPS in MiB/s; gp2 takes neither, and only gp3 takes throughput.
        EC2 rejects other values when Auto Scaling launches an instance."""
        out: list[FieldProblem] = []
        kind, size = self.root_volume_type, self.root_volume_size
        iops, throughput = self.root_volume_iops, self.root_volume_throughput
        limits = {"gp3": (3000, 16000, 500), "io1": (100, 64000, 50), "io2": (100, 256000, 1000)}
        # aws-rule: ebs-volume-performance
        if kind in ("io1", "io2") and iops is None:
            out.append(("root_volume_iops", f"required for {kind} volumes (provisioned IOPS)"))
        if kind == "gp2" and iops is not None:
            out.append(
                ("root_volume_iops", "gp2 volumes take no provisioned IOPS (their IOPS follow the size): use gp3")
            )
        if iops is not None and kind in limits:
            low, high, per_gib = limits[kind]
            if not low <= iops <= min(high, per_gib * size):
                out.append(
                    (
                        "root_volume_iops",
                        f"{kind} volumes take {low}-{high} IOPS and at most {per_gib} per GiB "
                        f"({per_gib * size} for {size} GiB), got {iops}",
                    )
                )
        if throughput is not None and kind != "gp3":
            out.append(("root_volume_throughput", f"only gp3 volumes take a throughput, not {kind}"))
        elif throughput is not None and throughput * 4 > (iops or 3000):
            out.append(
                (
                    "root_volume_throughput",
                    f"{throughput} MiB/s needs at least {throughput * 4} IOPS (0.25 MiB/s per IOPS), the volume "
                    f"has {iops or 3000}: raise root_volume_iops",
                )
            )
        return out
