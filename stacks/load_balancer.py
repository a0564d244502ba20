"""The Application Load Balancer, its listeners and the listener rules.

- ``aws_lb``: internet-facing or internal, ``idle_timeout`` sized for long inference
  requests, invalid header fields dropped, deletion protection on in production,
  access logs to S3 (``stacks/access_logs.py``) when enabled, ARC zonal shift
  integration on unless turned off (ELB user guide, "Enable zonal shift for your
  Application Load Balancer": off by default in AWS, no prerequisites for an ALB).
- Without a certificate: an HTTP listener on 80 forwarding to the default fleet.
- With ``certificate_arn``: HTTP on 80 redirects (301) to HTTPS on 443, which uses the
  certificate and a TLS 1.2+ ``ssl_policy`` and forwards to the default fleet.
- One ``aws_lb_listener_rule`` per non-default fleet on the serving listener, routing by
  path and/or host with the configured priority. Rule construct IDs are the fleet names,
  so reordering fleets in the config does not churn the plan.
- A route (default action or rule) that canary fleets share forwards with a weighted
  ``forward`` block (one ``target_group {arn, weight}`` per fleet, optional
  ``stickiness``; ELB user guide, "Listener rules", forward actions:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html);
  a route to one fleet keeps the plain ``target_group_arn``. A weight change updates the
  listener or rule in place (ModifyListener / ModifyRule), docs/canary.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cdktf import Precondition, TerraformResourceLifecycle, TerraformStack

from .aws import aws
from .config import ListenerRule, LoadBalancerConfig
from .parts import Part


@dataclass(frozen=True)
class WeightedTargets:
    """What a route shares with its canaries: the route's own fleet's target group
    ``weight`` (0-999), the canaries' target group ARNs with their weights, and the
    stickiness duration in seconds (None: no stickiness block; ``stickiness_enabled``
    False writes the block turned off)."""

    weight: int
    canaries: tuple[tuple[str, int], ...]
    stickiness_duration: int | None = None
    stickiness_enabled: bool = True


@dataclass(frozen=True)
class ListenerRoute:
    """A non-default fleet's way in: its ``listener_rule``, its target group's ARN and,
    when canaries share the rule, their weights."""

    fleet_name: str
    rule: ListenerRule
    target_group_arn: str
    weights: WeightedTargets | None = None


def forward_action(target_group_arn: str, weights: WeightedTargets | None) -> dict[str, Any]:
    """The arguments of a ``forward`` action (listener default action or rule action,
    which share their shape): ``target_group_arn`` alone, or with ``weights`` a
    ``forward`` block of ``target_group {arn, weight}`` (the route's own first) and
    ``stickiness {duration, enabled}``."""
    if weights is None or not weights.canaries:
        return {"type": "forward", "target_group_arn": target_group_arn}
    forward: dict[str, Any] = {
        "target_group": [
            {"arn": target_group_arn, "weight": weights.weight},
            *({"arn": arn, "weight": weight} for arn, weight in weights.canaries),
        ]
    }
    if weights.stickiness_duration is not None:
        forward["stickiness"] = {"duration": weights.stickiness_duration, "enabled": weights.stickiness_enabled}
    return {"type": "forward", "forward": forward}


class LoadBalancer(Part):
    """Creates the ALB of environment ``name``, its listeners and listener rules.

    Takes the ``load_balancer`` section, the effective ``idle_timeout`` (seconds) and
    ``deletion_protection``, the subnets and security group, the target group ARN of
    the default fleet (with ``default_weights`` when canaries share the default
    action) and one :class:`ListenerRoute` per other fleet, plan-time
    ``preconditions`` on the subnets, the access log bucket name (None: no access logs)
    and ``depends_on`` (resources the ALB waits for, such as the log bucket's policy).
    Attributes: ``alb_arn``, ``alb_arn_suffix``, ``alb_dns_name`` and ``alb_zone_id``
    (str tokens, each read once).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        name: str,
        load_balancer: LoadBalancerConfig,
        idle_timeout: int,
        deletion_protection: bool,
        subnet_ids: Sequence[str],
        security_group_id: str,
        default_target_group_arn: str,
        default_weights: WeightedTargets | None = None,
        routes: Sequence[ListenerRoute] = (),
        preconditions: Sequence[Precondition] = (),
        access_logs_bucket: str | None = None,
        depends_on: Sequence[Any] = (),
    ):
        super().__init__(scope, id_)
        lb = load_balancer
        # With deletion protection AWS refuses to delete the ALB, but only after Terraform
        # has deleted its listeners, rules and WAF association (a replacement, or
        # `terraform destroy`): prevent_destroy refuses such a plan before anything changes.
        lifecycle: dict[str, Any] = {"prevent_destroy": True} if deletion_protection else {}
        if preconditions:
            lifecycle["precondition"] = list(preconditions)
        self._alb = aws.lb.Lb(
            self.stack,
            self.element_id("alb"),
            name=f"{name}-alb",
            internal=lb.internal,
            load_balancer_type="application",
            security_groups=[security_group_id],
            subnets=list(subnet_ids),
            idle_timeout=idle_timeout,
            drop_invalid_header_fields=lb.drop_invalid_header_fields,
            enable_deletion_protection=deletion_protection,
            enable_http2=lb.enable_http2,
            enable_zonal_shift=lb.enable_zonal_shift,
            desync_mitigation_mode="defensive",
            access_logs=(
                {"bucket": access_logs_bucket, "enabled": True, "prefix": lb.access_logs.prefix}
                if access_logs_bucket is not None
                else None
            ),
            tags={"Name": f"{name}-alb"},
            lifecycle=lifecycle or None,
            depends_on=list(depends_on) or None,
        )
        self.alb_arn = alb_arn = self._alb.arn
        forward = [aws.lb_listener.LbListenerDefaultAction(**forward_action(default_target_group_arn, default_weights))]
        if lb.certificate_arn:
            aws.lb_listener.LbListener(
                self.stack,
                self.element_id("http"),
                load_balancer_arn=alb_arn,
                port=80,
                protocol="HTTP",
                default_action=[
                    aws.lb_listener.LbListenerDefaultAction(
                        type="redirect",
                        redirect=aws.lb_listener.LbListenerDefaultActionRedirect(
                            port="443", protocol="HTTPS", status_code="HTTP_301"
                        ),
                    )
                ],
            )
            serving_listener = aws.lb_listener.LbListener(
                self.stack,
                self.element_id("https"),
                load_balancer_arn=alb_arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=lb.ssl_policy,
                certificate_arn=lb.certificate_arn,
                default_action=forward,
            )
        else:
            serving_listener = aws.lb_listener.LbListener(
                self.stack,
                self.element_id("http"),
                load_balancer_arn=alb_arn,
                port=80,
                protocol="HTTP",
                default_action=forward,
            )

        listener_arn = None
        for route in routes:
            rule = route.rule
            listener_arn = listener_arn or serving_listener.arn
            mod = aws.lb_listener_rule
            conditions = []
            if rule.path_patterns:
                conditions.append(
                    mod.LbListenerRuleCondition(
                        path_pattern=mod.LbListenerRuleConditionPathPattern(values=list(rule.path_patterns))
                    )
                )
            if rule.host_headers:
                conditions.append(
                    mod.LbListenerRuleCondition(
                        host_header=mod.LbListenerRuleConditionHostHeader(values=list(rule.host_headers))
                    )
                )
            aws.lb_listener_rule.LbListenerRule(
                self.stack,
                self.element_id(f"rule-{route.fleet_name}"),
                listener_arn=listener_arn,
                priority=rule.priority,
                action=[mod.LbListenerRuleAction(**forward_action(route.target_group_arn, route.weights))],
                condition=conditions,
                tags={"fleet": route.fleet_name},
                # Moving to another listener (a certificate added) replaces a rule: the new
                # one first, so the path never falls through to the default fleet.
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            )

    @cached_property
    def alb_arn_suffix(self) -> str:
        """ARN suffix (``app/<name>/<id>``) for CloudWatch dimensions (token)."""
        suffix: str = self._alb.arn_suffix
        return suffix

    @cached_property
    def alb_dns_name(self) -> str:
        """DNS name of the ALB (token)."""
        dns_name: str = self._alb.dns_name
        return dns_name

    @cached_property
    def alb_zone_id(self) -> str:
        """Route 53 hosted zone ID of the ALB, for alias records (token)."""
        zone_id: str = self._alb.zone_id
        return zone_id
