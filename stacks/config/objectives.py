"""``resilience_objectives``: targets ``make report`` checks the synthesized stack against."""

from __future__ import annotations

from pydantic import Field

from .base import StrictModel
from .types import Percent


class ResilienceObjectives(StrictModel):
    """Optional targets for the resilience report (``python -m stacks.report``).

    Every key is optional; a key left out is not checked. ``make report`` computes each
    figure from the synthesized ``cdk.tf.json`` and exits 1, naming the objective, when
    any fleet of the stack misses one. Units: seconds and percent.
    """

    max_unhealthy_detection_seconds: int | None = Field(
        None,
        ge=12,
        le=3120,
        description="Upper bound, seconds, on health check interval x unhealthy threshold + "
        "timeout for every fleet (12 s is the fastest an ALB can do: 5 x 2 + 2).",
    )
    max_drain_seconds: int | None = Field(
        None, ge=0, le=3600, description="Upper bound on deregistration_delay, seconds."
    )
    max_time_to_serve_new_instance_seconds: int | None = Field(
        None,
        ge=10,
        le=86400,
        description="Upper bound, seconds, from launch to full traffic for a new instance "
        "launched cold (not from a warm pool).",
    )
    min_capacity_after_az_loss_percent: Percent | None = Field(
        None,
        description="Lower bound on the capacity left in service right after the AZ holding "
        "the most instances fails, percent of desired capacity.",
    )
    min_capacity_while_replacing_percent: Percent | None = Field(
        None,
        description="Lower bound on the capacity kept in service while instances are replaced, percent "
        "of desired capacity: the lower of the instance maintenance policy's and the instance "
        "refresh's (100 needs launch before terminate in both).",
    )
    max_spot_share_percent: Percent | None = Field(
        None, description="Upper bound on the spot share of desired capacity, percent."
    )
    min_spot_pools: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Lower bound on spot capacity pools (instance types x AZs) for fleets that use spot.",
    )
    fail_plan: bool = Field(
        False,
        description="In Atlantis, a missed objective fails this stack's plan (the report step of the "
        "generated workflow exits 1); off, the plan comment shows the miss and the plan stands.",
    )
    max_single_points_of_failure: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="Upper bound on single points of failure found in the stack (0: none).",
    )
