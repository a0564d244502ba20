"""stacks/load_balancer.py: the ALB, its listeners and the rules to non-default fleets."""

from __future__ import annotations

from cdktf import Fn, Op, Precondition
from construct_testing import aws, build, expose, ref

from stacks.config import ListenerRule, LoadBalancerConfig
from stacks.load_balancer import ListenerRoute, LoadBalancer, WeightedTargets, forward_action

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
SUBNETS = ["subnet-0a000000000000001", "subnet-0a000000000000002"]
SG = "sg-0123456789abcdef0"
DEFAULT_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/chat/1"
EMBED_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/embed/2"


def alb(routes=(), default_weights=None, **section):
    lb = LoadBalancerConfig.model_validate({"ingress_cidr_blocks": ["10.0.0.0/8"], **section})

    def make(stack):
        made = LoadBalancer(
            stack,
            "load_balancer",
            name="dev",
            load_balancer=lb,
            idle_timeout=600,
            deletion_protection=True,
            subnet_ids=SUBNETS,
            security_group_id=SG,
            default_target_group_arn=DEFAULT_TG,
            default_weights=default_weights,
            routes=list(routes),
        )
        expose(stack, arn=made.alb_arn, suffix=made.alb_arn_suffix, dns=made.alb_dns_name, zone=made.alb_zone_id)
        return made

    return build(make)


def test_alb_settings_for_long_inference_requests():
    built, _ = alb()
    lb = built.only("aws_lb")
    assert lb["name"] == "dev-alb" and lb["load_balancer_type"] == "application" and lb["internal"] is False
    assert (lb["idle_timeout"], lb["enable_deletion_protection"]) == (600, True)
    # Deletion protection: a plan that would delete the ALB (a replacement, or `terraform
    # destroy`) fails before anything changes, not after its listeners went.
    assert lb["lifecycle"] == {"prevent_destroy": True}
    assert lb["drop_invalid_header_fields"] is True and lb["desync_mitigation_mode"] == "defensive"
    # Zonal shift integration on: traffic can be moved off an impaired AZ.
    assert lb["enable_zonal_shift"] is True
    assert (lb["subnets"], lb["security_groups"]) == (SUBNETS, [SG])
    assert "access_logs" not in lb and "depends_on" not in lb
    assert built.outputs() == {
        "arn": ref("aws_lb", "load_balancer_alb", "arn"),
        "suffix": ref("aws_lb", "load_balancer_alb", "arn_suffix"),
        "dns": ref("aws_lb", "load_balancer_alb", "dns_name"),
        "zone": ref("aws_lb", "load_balancer_alb", "zone_id"),
    }


def test_without_a_certificate_port_80_forwards_to_the_default_fleet():
    built, _ = alb()
    [listener] = built.resources("aws_lb_listener").values()
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert listener["default_action"] == [{"target_group_arn": DEFAULT_TG, "type": "forward"}]


def test_with_a_certificate_port_80_redirects_to_https():
    built, _ = alb(certificate_arn=CERT)
    listeners = built.resources("aws_lb_listener")
    http, https = listeners["load_balancer_http"], listeners["load_balancer_https"]
    assert http["default_action"] == [
        {"redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}, "type": "redirect"}
    ]
    assert (https["port"], https["protocol"], https["certificate_arn"]) == (443, "HTTPS", CERT)
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["default_action"] == [{"target_group_arn": DEFAULT_TG, "type": "forward"}]


def test_rules_route_other_fleets_on_the_serving_listener():
    rule = ListenerRule(priority=10, path_patterns=["/v1/embeddings*"], host_headers=["api.example.com"])
    built, _ = alb(routes=[ListenerRoute("embed", rule, EMBED_TG)], certificate_arn=CERT)
    [(name, listener_rule)] = built.resources("aws_lb_listener_rule").items()
    assert name == "load_balancer_rule-embed"  # keyed by fleet: reordering fleets changes nothing
    assert listener_rule["listener_arn"] == ref("aws_lb_listener", "load_balancer_https", "arn")
    assert listener_rule["priority"] == 10
    # A rule moving to another listener (a certificate added) is created there first.
    assert listener_rule["lifecycle"] == {"create_before_destroy": True}
    assert listener_rule["action"] == [{"target_group_arn": EMBED_TG, "type": "forward"}]
    assert listener_rule["condition"] == [
        {"path_pattern": {"values": ["/v1/embeddings*"]}},
        {"host_header": {"values": ["api.example.com"]}},
    ]


def test_access_logs_preconditions_and_dependencies():
    def make(stack):
        policy = aws.sns_topic.SnsTopic(stack, "bucket_policy_stand_in")
        pre = Precondition(condition=Op.gte(Fn.length_of(["a", "b"]), 2), error_message="two AZs")
        return LoadBalancer(
            stack,
            "load_balancer",
            name="dev",
            load_balancer=LoadBalancerConfig(ingress_cidr_blocks=["10.0.0.0/8"], access_logs={"prefix": "alb"}),
            idle_timeout=60,
            deletion_protection=False,
            subnet_ids=SUBNETS,
            security_group_id=SG,
            default_target_group_arn=DEFAULT_TG,
            preconditions=[pre],
            access_logs_bucket="central-logs",
            depends_on=[policy],
        )

    built, _ = build(make)
    lb = built.only("aws_lb")
    assert lb["access_logs"] == {"bucket": "central-logs", "enabled": True, "prefix": "alb"}
    assert lb["depends_on"] == ["aws_sns_topic.bucket_policy_stand_in"]
    assert lb["lifecycle"]["precondition"][0]["error_message"] == "two AZs"
    assert lb["enable_deletion_protection"] is False and "prevent_destroy" not in lb["lifecycle"]


CANARY_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/chatnext/3"


def test_canaries_make_the_default_action_a_weighted_forward():
    weights = WeightedTargets(weight=90, canaries=((CANARY_TG, 10),), stickiness_duration=600)
    built, _ = alb(default_weights=weights, certificate_arn=CERT)
    listeners = built.resources("aws_lb_listener")
    # The redirect stays as it is; the serving listener forwards with weights.
    assert listeners["load_balancer_http"]["default_action"][0]["type"] == "redirect"
    assert listeners["load_balancer_https"]["default_action"] == [
        {
            "type": "forward",
            "forward": {
                "target_group": [{"arn": DEFAULT_TG, "weight": 90}, {"arn": CANARY_TG, "weight": 10}],
                "stickiness": {"duration": 600, "enabled": True},
            },
        }
    ]


def test_canaries_make_a_rule_a_weighted_forward_without_stickiness_by_default():
    rule = ListenerRule(priority=10, path_patterns=["/v1/embeddings*"])
    weights = WeightedTargets(weight=100, canaries=((CANARY_TG, 0),))
    built, _ = alb(routes=[ListenerRoute("embed", rule, EMBED_TG, weights)])
    [listener_rule] = built.resources("aws_lb_listener_rule").values()
    assert listener_rule["action"] == [
        {
            "type": "forward",
            "forward": {"target_group": [{"arn": EMBED_TG, "weight": 100}, {"arn": CANARY_TG, "weight": 0}]},
        }
    ]
    # The default action without canaries keeps its plain form (no change for existing stacks).
    [listener] = built.resources("aws_lb_listener").values()
    assert listener["default_action"] == [{"target_group_arn": DEFAULT_TG, "type": "forward"}]


def test_forward_action_without_canaries_is_the_plain_target_group():
    assert forward_action(DEFAULT_TG, None) == forward_action(DEFAULT_TG, WeightedTargets(weight=5, canaries=()))
    assert forward_action(DEFAULT_TG, None) == {"type": "forward", "target_group_arn": DEFAULT_TG}
    off = forward_action(
        DEFAULT_TG, WeightedTargets(1, ((CANARY_TG, 1),), stickiness_duration=60, stickiness_enabled=False)
    )
    assert off["forward"]["stickiness"] == {"duration": 60, "enabled": False}
