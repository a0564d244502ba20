"""``fleets.<name>.target_group``: the fleet's ALB target group and its health check."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from .base import FieldProblem, StrictModel
from .types import Port


def codes_within(matcher: str, low: int, high: int) -> bool:
    """True when every code and range of a matcher (``200``, ``200-299``, ``0,12``) lies
    within ``low``-``high`` and each range ascends."""
    for part in matcher.split(","):
        bounds = [int(x) for x in part.split("-")]
        if any(not low <= b <= high for b in bounds) or bounds != sorted(bounds):
            return False
    return True


class HealthCheck(StrictModel):
    """Target group health check (``aws_lb_target_group.health_check``).

    Unset values come from the fleet's serving preset (path) or the defaults here.
    """

    path: str | None = Field(
        None,
        pattern=r"^/[\x21-\x7e]{0,1023}$",
        description="Readiness path; default from the preset.",
    )
    matcher: str | None = Field(
        None,
        pattern=r"^[0-9]{1,3}(-[0-9]{1,3})?(,[0-9]{1,3}(-[0-9]{1,3})?)*$",
        description="HTTP codes 200-499 (for example 200 or 200-299), or gRPC codes "
        "0-99 for gRPC target groups. Default: 200 (HTTP), 12 (gRPC).",
    )
    interval: int = Field(10, ge=5, le=300, description="Seconds between checks (5-300).")
    timeout: int = Field(5, ge=2, le=120, description="Seconds before a check fails (2-120).")
    healthy_threshold: int = Field(
        2, ge=2, le=10, description="Consecutive passed checks before a target receives traffic (2-10)."
    )
    unhealthy_threshold: int = Field(
        3, ge=2, le=10, description="Consecutive failed checks before a target stops receiving traffic (2-10)."
    )

    def own_problems(self) -> list[FieldProblem]:
        """The timeout is shorter than the interval (ELB rejects it otherwise)."""
        # aws-rule: health-check-timeout-below-interval
        if self.timeout >= self.interval:
            return [("timeout", f"must be less than interval ({self.timeout} >= {self.interval})")]
        return []


#: A target-group-health threshold: a count or percentage, or ``off``.
Off = Literal["off"]


class DnsFailover(StrictModel):
    """When too few targets are healthy, ALB marks the target group's zone (its IP
    addresses in that AZ) unhealthy in DNS, so Route 53 sends clients to the other AZs
    (``target_group_health.dns_failover``; ELB user guide, "Target group health")."""

    minimum_healthy_targets_count: Annotated[int, Field(ge=1)] | Off = Field(
        1, description="Healthy targets needed per AZ (1 or more, or off). AWS default: 1."
    )
    minimum_healthy_targets_percentage: Annotated[int, Field(ge=1, le=100)] | Off = Field(
        "off", description="Healthy percent of targets needed per AZ (1-100, or off). AWS default: off."
    )


class UnhealthyStateRouting(StrictModel):
    """Below this many healthy targets the ALB fails open: it sends requests to all
    targets, healthy or not (``target_group_health.unhealthy_state_routing``)."""

    minimum_healthy_targets_count: int = Field(
        1, ge=1, description="Healthy targets needed (1 or more). AWS default: 1."
    )
    minimum_healthy_targets_percentage: Annotated[int, Field(ge=1, le=100)] | Off = Field(
        "off", description="Healthy percent of targets needed (1-100, or off). AWS default: off."
    )


class TargetGroupHealth(StrictModel):
    """Target group health thresholds (``aws_lb_target_group.target_group_health``).
    Unset: AWS's defaults (1 healthy target, percentage off) and nothing written; with
    one part set, the other is written with AWS's defaults (AWS reports both, so a
    block left out would re-plan)."""

    dns_failover: DnsFailover | None = Field(None, description="DNS failover of the AZ; default: AWS's.")
    unhealthy_state_routing: UnhealthyStateRouting | None = Field(
        None, description="When to fail open to all targets; default: AWS's."
    )

    def written(self) -> tuple[DnsFailover, UnhealthyStateRouting] | None:
        """Both parts as the generated block writes them (an unset part with AWS's
        defaults), or None when neither is set."""
        if self.dns_failover is None and self.unhealthy_state_routing is None:
            return None
        return self.dns_failover or DnsFailover(), self.unhealthy_state_routing or UnhealthyStateRouting()


class TargetGroupConfig(StrictModel):
    """One ALB target group per fleet (``aws_lb_target_group``).

    The group is named with ``name_prefix`` and ``create_before_destroy``, so a change
    of port or protocol replaces it while the listener still points at it.
    """

    port: Port | None = Field(None, description="Application port; default from the preset.")
    protocol: Literal["HTTP", "HTTPS"] = Field("HTTP", description="Protocol from the ALB to the targets.")
    protocol_version: Literal["HTTP1", "HTTP2", "GRPC"] = Field(
        "HTTP1", description="HTTP version the ALB speaks to the targets; GRPC for gRPC servers."
    )
    deregistration_delay: int | None = Field(
        None,
        ge=0,
        le=3600,
        description="Seconds in-flight requests get to finish before a target leaves "
        "(0-3600). Default: the fleet's max_request_seconds.",
    )
    slow_start: int | None = Field(
        None,
        description="Seconds of linear ramp-up for a new target: 0 (off) or 30-900. AWS "
        "rejects it with least_outstanding_requests and weighted_random. Default: with "
        "round_robin a fifth of model_load_seconds (30-900), else 0.",
    )
    load_balancing_algorithm_type: Literal["round_robin", "least_outstanding_requests", "weighted_random"] = Field(
        "least_outstanding_requests",
        description="Inference requests vary widely in cost; least outstanding requests "
        "spreads them better than round robin.",
    )
    load_balancing_anomaly_mitigation: Literal["on", "off"] | None = Field(
        None,
        description="Automatic target weights: with weighted_random, the ALB sends less traffic "
        "to targets that answer with errors or connection failures while passing health checks "
        "(gray failures). AWS allows it only with weighted_random. Default: on with "
        "weighted_random, else unset.",
    )
    target_group_health: TargetGroupHealth = Field(
        TargetGroupHealth(), description="DNS failover and fail-open thresholds; default: AWS's."
    )
    health_check: HealthCheck = Field(HealthCheck(), description="Health check of the targets.")

    @property
    def effective_anomaly_mitigation(self) -> str | None:
        """``on`` or ``off`` with ``weighted_random`` (default on), else None (not
        written: AWS rejects the attribute with the other algorithms)."""
        if self.load_balancing_algorithm_type != "weighted_random":
            return None
        return self.load_balancing_anomaly_mitigation or "on"

    @property
    def grpc(self) -> bool:
        """True for a gRPC target group."""
        return self.protocol_version == "GRPC"

    def own_problems(self) -> list[FieldProblem]:
        """Slow start 0 or 30-900 s and only with round robin; anomaly mitigation only
        with weighted random; a matcher in the codes of the protocol (gRPC 0-99, HTTP
        200-499)."""
        out: list[FieldProblem] = []
        # aws-rule: slow-start-algorithm
        if self.slow_start and not 30 <= self.slow_start <= 900:
            out.append(("slow_start", "must be 0 (off) or 30-900 seconds"))
        elif self.slow_start and self.load_balancing_algorithm_type != "round_robin":
            out.append(
                (
                    "slow_start",
                    "AWS rejects slow_start with load_balancing_algorithm_type "
                    f"{self.load_balancing_algorithm_type}: set slow_start to 0 or use round_robin",
                )
            )
        # aws-rule: anomaly-mitigation-weighted-random
        if self.load_balancing_anomaly_mitigation == "on" and self.load_balancing_algorithm_type != "weighted_random":
            out.append(
                (
                    "load_balancing_anomaly_mitigation",
                    "AWS supports anomaly mitigation only with load_balancing_algorithm_type weighted_random "
                    f"(not {self.load_balancing_algorithm_type})",
                )
            )
        # aws-rule: grpc-health-check-path
        path = self.health_check.path
        if self.grpc and path is not None and not re.fullmatch(r"/[A-Za-z_][\w.]*/[A-Za-z_]\w*", path):
            out.append(
                (
                    "health_check.path",
                    f"{path} is not a gRPC method: gRPC health checks take /package.service/method (for "
                    "example /grpc.health.v1.Health/Check); leave it unset for the preset's or the ALB's default",
                )
            )
        # aws-rule: health-check-matcher-codes
        matcher = self.health_check.matcher
        if matcher is not None and self.grpc and not codes_within(matcher, 0, 99):
            out.append(
                ("health_check.matcher", "gRPC target groups take gRPC status codes 0-99 (for example 0 or 0-12)")
            )
        elif matcher is not None and not self.grpc and not codes_within(matcher, 200, 499):
            out.append(("health_check.matcher", "HTTP matchers take codes 200-499 (for example 200 or 200-299)"))
        return out
