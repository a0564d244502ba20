"""AWS WAF web ACL in front of the ALB.

Follows the AWS WAF developer guide (web ACLs, managed rule groups, rate-based rules,
logging to CloudWatch Logs):

- ``aws_wafv2_web_acl`` (scope ``REGIONAL``), default action allow. Rules, in
  evaluation order: an optional per-IP rate limit (``rate_limit`` requests per 5 minutes,
  blocks above it), then each managed rule group of ``managed_rule_groups`` with its own
  actions (``override_action none``) except the rules named in
  ``rule_action_overrides``. Every rule publishes CloudWatch metrics and keeps sampled
  requests.
- ``aws_wafv2_web_acl_association`` with the ALB.
- ``aws_wafv2_web_acl_logging_configuration`` to a CloudWatch log group named
  ``aws-waf-logs-<name>-...`` (WAF requires the prefix), encrypted with the stack's logs
  key, with credential headers (``authorization``, ``cookie``, ``x-api-key`` by default)
  redacted. WAF adds the log group resource policy it needs when logging is enabled.

Rule names and priorities derive from the config only, so plans are stable.
"""

from __future__ import annotations

from typing import Any

from cdktf import TerraformStack

from .aws import aws
from .config import WafConfig
from .parts import Part


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric[:255], "sampled_requests_enabled": True}


class WebAcl(Part):
    """Creates the web ACL of environment ``name`` from the ``load_balancer.waf``
    section, its association with the ALB ``alb_arn`` and its logging to a log group
    encrypted with ``logs_kms_key_arn`` (None: CloudWatch Logs' default encryption).
    Attribute ``web_acl_arn`` (str token).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        name: str,
        waf: WafConfig,
        alb_arn: str,
        logs_kms_key_arn: str | None,
    ):
        super().__init__(scope, id_)
        mod = aws.wafv2_web_acl
        rules = []
        if waf.rate_limit is not None:
            rules.append(
                mod.Wafv2WebAclRule(
                    name="rate-limit-per-ip",
                    priority=1,
                    action=mod.Wafv2WebAclRuleAction(block=mod.Wafv2WebAclRuleActionBlock()),
                    statement={
                        "rate_based_statement": {
                            "limit": waf.rate_limit,
                            "aggregate_key_type": "IP",
                            "evaluation_window_sec": 300,
                        }
                    },
                    visibility_config=_visibility(f"{name}-rate-limit-per-ip"),
                )
            )
        for i, group in enumerate(waf.managed_rule_groups):
            statement: dict[str, Any] = {"name": group.name, "vendor_name": group.vendor_name}
            if group.version is not None:
                statement["version"] = group.version
            if group.rule_action_overrides:
                statement["rule_action_override"] = [
                    {"name": rule, "action_to_use": {action: {}}}
                    for rule, action in sorted(group.rule_action_overrides.items())
                ]
            rules.append(
                mod.Wafv2WebAclRule(
                    name=f"{group.vendor_name}-{group.name}",
                    priority=10 * (i + 1),
                    override_action=mod.Wafv2WebAclRuleOverrideAction(none=mod.Wafv2WebAclRuleOverrideActionNone()),
                    statement={"managed_rule_group_statement": statement},
                    visibility_config=_visibility(f"{name}-{group.name}"),
                )
            )
        acl = mod.Wafv2WebAcl(
            self.stack,
            self.element_id("web_acl"),
            name=f"{name}-alb",
            description=f"Protects the {name} inference ALB",
            scope="REGIONAL",
            default_action=mod.Wafv2WebAclDefaultAction(allow=mod.Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=_visibility(f"{name}-web-acl"),
            tags={"Name": f"{name}-alb"},
        )
        self.web_acl_arn: str = acl.arn
        acl_arn = self.web_acl_arn
        aws.wafv2_web_acl_association.Wafv2WebAclAssociation(
            self.stack, self.element_id("association"), resource_arn=alb_arn, web_acl_arn=acl_arn
        )
        if waf.logging.enabled:
            group = aws.cloudwatch_log_group.CloudwatchLogGroup(
                self.stack,
                self.element_id("log_group"),
                name_prefix=f"aws-waf-logs-{name}-",
                retention_in_days=waf.logging.retention_in_days,
                kms_key_id=logs_kms_key_arn,
            )
            lc = aws.wafv2_web_acl_logging_configuration
            aws.wafv2_web_acl_logging_configuration.Wafv2WebAclLoggingConfiguration(
                self.stack,
                self.element_id("logging"),
                resource_arn=acl_arn,
                log_destination_configs=[group.arn],
                redacted_fields=[
                    lc.Wafv2WebAclLoggingConfigurationRedactedFields(
                        single_header=lc.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header.lower())
                    )
                    for header in waf.logging.redacted_headers
                ],
            )
