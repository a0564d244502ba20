"""The Application Load Balancer, its listeners and the listener rules.

- ``aws_lb``: internet-facing or internal, ``idle_timeout`` sized for long inference
  requests, invalid header fields dropped, deletion protection on in production,
  access logs to S3 (``stacks/access_logs.py``) when enabled.
- Without a certificate: an HTTP listener on 80 forwarding to the default fleet.
- With ``certificate_arn``: HTTP on 80 redirects (301) to HTTPS on 443, which uses the
  certificate and a TLS 1.2+ ``ssl_policy`` and forwards to the default fleet.
- One ``aws_lb_listener_rule`` per non-default fleet on the serving listener, routing by
  path and/or host with the configured priority. Rule construct IDs are the fleet names,
  so reordering fleets in the config does not churn the plan.
"""

from __future__ import annotations

from functools import cached_property

from cdktf import TerraformStack

from .aws import aws
from .config import EnvironmentConfig
from .parts import Part


class LoadBalancer(Part):
    """Creates the ALB, listeners and rules.

    ``target_groups`` maps fleet name to its ``TargetGroup``. Attributes: ``alb``,
    ``serving_listener`` (the listener that forwards: HTTPS when a certificate is set,
    else HTTP) and ``http_listener``. ``access_logs_bucket`` (bucket name, or None for no
    access logs) and ``depends_on`` (resources the ALB waits for, such as the log
    bucket's policy) are optional. ``alb_arn``, ``alb_arn_suffix``, ``alb_dns_name`` and
    ``alb_zone_id`` are the ALB's attributes (str tokens, each read once).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        cfg: EnvironmentConfig,
        subnet_ids: list,
        security_group_id: str,
        target_groups: dict,
        preconditions: list,
        access_logs_bucket: str | None = None,
        depends_on: list | None = None,
    ):
        super().__init__(scope, id_)
        lb = cfg.load_balancer
        lifecycle = {"precondition": preconditions} if preconditions else None
        self.alb = aws.lb.Lb(
            self.stack,
            self.element_id("alb"),
            name=f"{cfg.name}-alb",
            internal=lb.internal,
            load_balancer_type="application",
            security_groups=[security_group_id],
            subnets=subnet_ids,
            idle_timeout=cfg.effective_idle_timeout,
            drop_invalid_header_fields=lb.drop_invalid_header_fields,
            enable_deletion_protection=cfg.deletion_protection,
            enable_http2=lb.enable_http2,
            desync_mitigation_mode="defensive",
            access_logs=(
                {"bucket": access_logs_bucket, "enabled": True, "prefix": lb.access_logs.prefix}
                if access_logs_bucket is not None
                else None
            ),
            tags={"Name": f"{cfg.name}-alb"},
            lifecycle=lifecycle,
            depends_on=depends_on or None,
        )
        self.alb_arn = alb_arn = self.alb.arn
        default_tg = target_groups[cfg.default_fleet]
        forward = [aws.lb_listener.LbListenerDefaultAction(type="forward", target_group_arn=default_tg.arn)]
        if lb.certificate_arn:
            self.http_listener = aws.lb_listener.LbListener(
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
            self.serving_listener = aws.lb_listener.LbListener(
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
            self.http_listener = aws.lb_listener.LbListener(
                self.stack,
                self.element_id("http"),
                load_balancer_arn=alb_arn,
                port=80,
                protocol="HTTP",
                default_action=forward,
            )
            self.serving_listener = self.http_listener

        listener_arn = None
        for fleet_name, fleet in cfg.fleets.items():
            rule = fleet.listener_rule
            if rule is None:
                continue
            listener_arn = listener_arn or self.serving_listener.arn
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
                self.element_id(f"rule-{fleet_name}"),
                listener_arn=listener_arn,
                priority=rule.priority,
                action=[mod.LbListenerRuleAction(type="forward", target_group_arn=target_groups[fleet_name].arn)],
                condition=conditions,
                tags={"fleet": fleet_name},
            )

    @cached_property
    def alb_arn_suffix(self) -> str:
        return self.alb.arn_suffix

    @cached_property
    def alb_dns_name(self) -> str:
        return self.alb.dns_name

    @cached_property
    def alb_zone_id(self) -> str:
        return self.alb.zone_id
