"""``fleets.<name>.listener_rule``: how requests reach a fleet that is not the default;
``fleets.<name>.canary`` and ``fleets.<name>.forward``: a candidate fleet sharing another
fleet's route with weights (a weighted ``forward`` action)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from .base import FieldProblem, StrictModel
from .types import FleetName

#: ALB rule quotas: condition values and wildcards (``*``, ``?``) per rule, over all
#: its conditions ("Quotas for your Application Load Balancers").
RULE_CONDITION_VALUES = 5
RULE_WILDCARDS = 5

#: Weighted forward actions (ELB user guide, "Listener rules", forward actions:
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html;
#: "Quotas for your Application Load Balancers"; hashicorp/aws ``forward`` block): each
#: target group weight is 0-999, an action takes at most 5 target groups (not adjustable),
#: target group stickiness lasts 1-604800 s (API ``TargetGroupStickinessConfig``).
MAX_TARGET_GROUP_WEIGHT = 999
FORWARD_TARGET_GROUPS = 5
MAX_STICKINESS_SECONDS = 604800
#: The route's own weight when it is not set: 100 minus its canaries' weights, so that
#: weights read as percentages of the route's requests.
WEIGHT_TOTAL = 100


class ListenerRule(StrictModel):
    """Listener rule that routes requests to a non-default fleet (``aws_lb_listener_rule``).

    AWS allows 5 condition values and 5 wildcards per rule in total; path patterns may
    use letters, digits and ``_ - . $ / ~ " ' @ : + & * ?``, host headers letters,
    digits and ``- . * ?``."""

    priority: int = Field(..., ge=1, le=50000, description="Rule priority on the listener, 1-50000; unique per ALB.")
    path_patterns: list[
        Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[/*][A-Za-z0-9_\-.$/~\"'@:+&*?]*$")]
    ] = Field(default_factory=list, max_length=5, description="Paths starting with '/' (or '*').")
    host_headers: list[
        Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9\-.*?]+$")]
    ] = Field(
        default_factory=list, max_length=5, description="Host names the rule matches, for example embed.example.com."
    )

    def own_problems(self) -> list[FieldProblem]:
        """At least one condition; within the per-rule quotas of values and wildcards."""
        out: list[FieldProblem] = []
        # aws-rule: listener-rule-quotas
        values = [*self.path_patterns, *self.host_headers]
        if not values:
            out.append(("", "needs path_patterns and/or host_headers"))
        if len(values) > RULE_CONDITION_VALUES:
            out.append(
                (
                    "",
                    f"{len(values)} condition values (path_patterns + host_headers); AWS allows "
                    f"{RULE_CONDITION_VALUES} per rule",
                )
            )
        wildcards = sum(v.count("*") + v.count("?") for v in values)
        if wildcards > RULE_WILDCARDS:
            out.append(("", f"{wildcards} wildcards (* and ?) in its conditions; AWS allows {RULE_WILDCARDS} per rule"))
        return out


class Canary(StrictModel):
    """``fleets.<name>.canary``: this fleet is a candidate version of fleet ``of`` and
    takes ``weight`` of that fleet's route (its listener rule, or the listeners' default
    action): one more ``target_group`` block, ``{arn, weight}``, in the route's weighted
    ``forward`` action. A canary has no route of its own (no ``listener_rule``, not
    ``default``). Weights are relative; with the default ``forward.weight`` of the
    current fleet they are percentages of the route's requests."""

    of: FleetName = Field(..., description="The fleet whose route this candidate shares (the current version).")
    # aws-rule: forward-weights
    weight: int = Field(
        0,
        ge=0,
        le=MAX_TARGET_GROUP_WEIGHT,
        description="This fleet's target group weight in the route's forward action, 0-999; 0 (the "
        "default) sends it nothing, so a new candidate is deployed and warmed before it serves.",
    )


class ForwardStickiness(StrictModel):
    """``stickiness`` of a weighted forward action: a client keeps reaching the target
    group it was first sent to (load balancer cookie ``AWSALBTG``) for ``duration``
    seconds; API ``TargetGroupStickinessConfig``."""

    enabled: bool = Field(
        True, description="Whether target group stickiness is on (default true: the section is there to turn it on)."
    )
    # aws-rule: forward-stickiness-duration
    duration: int = Field(
        3600,
        ge=1,
        le=MAX_STICKINESS_SECONDS,
        description="Seconds a client stays with its target group, 1-604800 (7 days); default 3600.",
    )


class Forward(StrictModel):
    """``fleets.<name>.forward``: the weighted ``forward`` action of this fleet's route
    when canary fleets share it (``canary.of: <this fleet>``): this fleet's own
    ``target_group`` weight and the action's ``stickiness``. Without canaries the route
    forwards to this fleet's target group alone and the section is refused."""

    # aws-rule: forward-weights
    weight: int | None = Field(
        None,
        ge=0,
        le=MAX_TARGET_GROUP_WEIGHT,
        description="This fleet's target group weight in its route, 0-999. Default: 100 minus its canaries' "
        "weights (0 when they add up to 100 or more), so weights read as percentages.",
    )
    stickiness: ForwardStickiness | None = Field(
        None,
        description="Target group stickiness of the route (cookie AWSALBTG); default: none, each request is "
        "weighted on its own.",
    )
