"""``network``: an existing VPC and subnets, or a new VPC (``create_vpc``)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field

from .base import FieldProblem, StrictModel
from .types import AvailabilityZone, Cidr, LogRetentionDays, SubnetId, VpcId


class CreateVpc(StrictModel):
    """A new VPC with one public and one private subnet per Availability Zone.

    Subnet CIDRs are carved from ``cidr_block`` in order (public first, then private),
    so the same config always yields the same subnets.
    """

    cidr_block: Cidr = Field("10.0.0.0/16", description="VPC CIDR block, /16 to /24.")
    availability_zones: list[AvailabilityZone] = Field(
        ...,
        min_length=2,
        max_length=3,
        description="2-3 distinct Availability Zones of the region; the ALB needs two or more.",
    )
    subnet_newbits: int = Field(
        4,
        ge=1,
        le=8,
        description="Bits added to the VPC prefix for each subnet (/16 + 4 = /20 subnets).",
    )
    nat_gateway: Literal["one_per_az", "single"] = Field(
        "one_per_az",
        description="one_per_az keeps private subnets online when one AZ fails; "
        "single is cheaper and a single point of failure.",
    )
    enable_flow_logs: bool = Field(True, description="VPC flow logs to a CloudWatch log group the stack creates.")
    flow_logs_retention_in_days: LogRetentionDays = Field(365, description="Retention of the flow-log group, days.")

    def own_problems(self) -> list[FieldProblem]:
        """Distinct AZs; a /16-/24 VPC (AWS VPC limits) whose subnets are /28 or larger
        and enough for a public and a private subnet per AZ."""
        out: list[FieldProblem] = []
        if len(set(self.availability_zones)) != len(self.availability_zones):
            out.append(("availability_zones", "must be distinct Availability Zones"))
        prefix = ipaddress.ip_network(self.cidr_block).prefixlen
        if not 16 <= prefix <= 24:
            out.append(("cidr_block", "prefix must be /16 to /24 (AWS VPC limits)"))
        elif prefix + self.subnet_newbits > 28:
            out.append(
                (
                    "subnet_newbits",
                    f"/{prefix} + {self.subnet_newbits} gives subnets smaller than /28, the smallest AWS allows",
                )
            )
        elif 2**self.subnet_newbits < 2 * len(self.availability_zones):
            out.append(
                (
                    "subnet_newbits",
                    f"{self.subnet_newbits} bits give {2**self.subnet_newbits} subnets, fewer "
                    f"than the {2 * len(self.availability_zones)} needed (public + private per AZ)",
                )
            )
        return out


class NetworkConfig(StrictModel):
    """Where the fleet runs: either an existing VPC and subnets, or ``create_vpc``.

    With existing subnets, the ALB goes in ``public_subnet_ids`` (or private ones for an
    internal ALB) and instances in ``private_subnet_ids``; both lists need two or more
    subnets, and Terraform checks at plan time that they span two or more AZs.
    """

    vpc_id: VpcId | None = Field(None, description="Existing VPC ID (with the subnet lists).")
    public_subnet_ids: list[SubnetId] | None = Field(
        None, description="Existing subnets for the load balancer, in two or more AZs."
    )
    private_subnet_ids: list[SubnetId] | None = Field(
        None, description="Existing private subnets for the instances, in two or more AZs."
    )
    create_vpc: CreateVpc | None = Field(None, description="Create a new VPC instead.")

    @property
    def creates_vpc(self) -> bool:
        """True when the stack creates its own VPC."""
        return self.create_vpc is not None

    def own_problems(self) -> list[FieldProblem]:
        """``create_vpc`` or the three existing IDs, not both; two or more distinct
        subnets per list."""
        out: list[FieldProblem] = []
        existing = {
            "vpc_id": self.vpc_id,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
        }
        if self.create_vpc is not None:
            out += [(key, "cannot be combined with network.create_vpc") for key, v in existing.items() if v is not None]
            return out
        if self.vpc_id is None:
            out.append(("vpc_id", "required unless network.create_vpc is set"))
        for key in ("public_subnet_ids", "private_subnet_ids"):
            ids = existing[key]
            if not isinstance(ids, list):
                out.append((key, "required unless network.create_vpc is set"))
                continue
            if len(ids) < 2:
                out.append((key, f"needs two or more subnets in distinct Availability Zones, got {len(ids)}"))
            if len(set(ids)) != len(ids):
                out.append((key, "lists the same subnet more than once"))
        return out
