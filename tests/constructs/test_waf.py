"""stacks/waf.py: the WAF web ACL on the ALB, its association and its logging."""

from __future__ import annotations

from construct_testing import build, expose, ref

from stacks.config import WafConfig
from stacks.waf import WebAcl

ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prod-alb/1"
KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"


def web_acl(**section):
    def make(stack):
        made = WebAcl(
            stack, "waf", name="prod", waf=WafConfig.model_validate(section), alb_arn=ALB, logs_kms_key_arn=KEY
        )
        expose(stack, acl=made.web_acl_arn)
        return made

    return build(make)


def test_managed_rule_groups_in_order_with_the_inference_friendly_overrides():
    built, _ = web_acl()
    acl = built.only("aws_wafv2_web_acl")
    assert (acl["name"], acl["scope"], acl["default_action"]) == ("prod-alb", "REGIONAL", {"allow": {}})
    rules = acl["rule"]
    assert [(r["name"], r["priority"]) for r in rules] == [
        ("AWS-AWSManagedRulesAmazonIpReputationList", 10),
        ("AWS-AWSManagedRulesAnonymousIpList", 20),
        ("AWS-AWSManagedRulesCommonRuleSet", 30),
        ("AWS-AWSManagedRulesKnownBadInputsRuleSet", 40),
    ]
    common = rules[2]["statement"]["managed_rule_group_statement"]
    # Prompts exceed 8 KB: the body size rule only counts.
    assert common["rule_action_override"] == [{"action_to_use": {"count": {}}, "name": "SizeRestrictions_BODY"}]
    assert all(r["override_action"] == {"none": {}} for r in rules)
    assert all(r["visibility_config"]["cloudwatch_metrics_enabled"] for r in rules)
    assert built.outputs() == {"acl": ref("aws_wafv2_web_acl", "waf_web_acl", "arn")}


def test_rate_limit_comes_first_and_blocks():
    built, _ = web_acl(rate_limit=2000, managed_rule_groups=[])
    [rule] = built.only("aws_wafv2_web_acl")["rule"]
    assert (rule["name"], rule["priority"], rule["action"]) == ("rate-limit-per-ip", 1, {"block": {}})
    assert rule["statement"]["rate_based_statement"] == {
        "aggregate_key_type": "IP",
        "evaluation_window_sec": 300,
        "limit": 2000,
    }


def test_associated_with_the_alb_and_logged_without_credentials():
    built, _ = web_acl(logging={"redacted_headers": ["Authorization", "x-api-key"], "retention_in_days": 30})
    association = built.only("aws_wafv2_web_acl_association")
    assert association == {"resource_arn": ALB, "web_acl_arn": ref("aws_wafv2_web_acl", "waf_web_acl", "arn")}
    group = built.only("aws_cloudwatch_log_group")
    # WAF accepts only log groups whose name starts with aws-waf-logs-.
    assert (group["name_prefix"], group["kms_key_id"], group["retention_in_days"]) == ("aws-waf-logs-prod-", KEY, 30)
    logging = built.only("aws_wafv2_web_acl_logging_configuration")
    assert logging["log_destination_configs"] == [ref("aws_cloudwatch_log_group", "waf_log_group", "arn")]
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "authorization"}},
        {"single_header": {"name": "x-api-key"}},
    ]


def test_logging_can_be_turned_off():
    built, _ = web_acl(logging={"enabled": False})
    assert not built.resources("aws_cloudwatch_log_group")
    assert not built.resources("aws_wafv2_web_acl_logging_configuration")
