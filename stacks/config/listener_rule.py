"""``fleets.<name>.listener_rule``: how requests reach a fleet that is not the default."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from .base import FieldProblem, StrictModel

#: ALB rule quotas: condition values and wildcards (``*``, ``?``) per rule, over all
#: its conditions ("Quotas for your Application Load Balancers").
RULE_CONDITION_VALUES = 5
RULE_WILDCARDS = 5


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
