"""stacks/alarms.py: three CloudWatch alarms per fleet and the SNS topic they notify."""

from __future__ import annotations

from construct_testing import build, expose, fleet, ref

from stacks.alarms import Alarms, FleetAlarms

ALB_SUFFIX = "app/dev-alb/50dc6c495c0c9188"
TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"


def alarms(sns_topic_arn=None, **fleets):
    def make(stack):
        made = Alarms(
            stack,
            "alarms",
            name="dev",
            sns_topic_arn=sns_topic_arn,
            fleets={
                n: FleetAlarms(f.alarms, f.effective_p99_target_response_time, f"targetgroup/{n}/1")
                for n, f in fleets.items()
            },
            alb_arn_suffix=ALB_SUFFIX,
            region="us-east-1",
            partition="aws",
            account_id="123456789012",
        )
        expose(stack, topic=made.topic_arn)
        return made

    return build(make)


def test_three_alarms_per_fleet_on_its_target_group():
    built, _ = alarms(chat=fleet(preset="vllm"), embed=fleet(preset="torchserve", alarms={"target_5xx_count": 3}))
    found = built.resources("aws_cloudwatch_metric_alarm")
    assert len(found) == 6
    unhealthy = found["alarms_chat-unhealthy-hosts"]
    assert unhealthy["alarm_name"] == "dev-chat-unhealthy-hosts"
    assert (unhealthy["metric_name"], unhealthy["statistic"]) == ("UnHealthyHostCount", "Maximum")
    assert unhealthy["dimensions"] == {"LoadBalancer": ALB_SUFFIX, "TargetGroup": "targetgroup/chat/1"}
    assert (unhealthy["threshold"], unhealthy["comparison_operator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert found["alarms_embed-target-5xx"]["threshold"] == 3
    # p99 defaults to the fleet's longest request.
    assert found["alarms_chat-p99-response-time"]["threshold"] == 600
    assert found["alarms_embed-p99-response-time"]["extended_statistic"] == "p99"
    assert found["alarms_embed-p99-response-time"]["threshold"] == 120
    topic = ref("aws_sns_topic", "alarms_topic", "arn")
    for alarm in found.values():
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [topic]
        assert (alarm["namespace"], alarm["treat_missing_data"]) == ("AWS/ApplicationELB", "notBreaching")
        assert (alarm["period"], alarm["evaluation_periods"]) == (60, 3)
    assert built.outputs() == {"topic": topic}


def test_created_topic_is_encrypted_with_a_key_cloudwatch_may_use():
    """rule: alarm-topic-key-cloudwatch. CloudWatch cannot use the AWS managed key
    alias/aws/sns: alarm actions on a topic encrypted with it fail and no notification
    arrives. The stack's own key lets the
    CloudWatch service encrypt the notifications; the topic policy lets alarms of this
    account and region publish."""
    built, _ = alarms(chat=fleet())
    topic = built.only("aws_sns_topic")
    assert topic["name"] == "dev-fleet-alarms"
    assert topic["kms_master_key_id"] == ref("aws_kms_key", "alarms_key", "arn")
    key = built.only("aws_kms_key")
    assert key["enable_key_rotation"] is True
    key_policy = key["policy"]
    assert (
        '{"Sid" = "CloudWatchAlarmsEncryptNotifications", "Effect" = "Allow", '
        '"Principal" = {"Service" = "cloudwatch.amazonaws.com"}, '
        '"Action" = ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource" = "*"}'
    ) in key_policy
    assert '"Principal" = {"AWS" = "arn:aws:iam::123456789012:root"}, "Action" = "kms:*"' in key_policy
    policy = built.only("aws_sns_topic_policy")
    assert policy["arn"] == ref("aws_sns_topic", "alarms_topic", "arn")
    text = policy["policy"]
    assert '"Principal" = {"Service" = "cloudwatch.amazonaws.com"}, "Action" = "sns:Publish"' in text
    assert '"aws:SourceArn" = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"' in text
    assert '"aws:SourceAccount" = "123456789012"' in text
    assert '"SNS:Subscribe"' in text  # the account keeps managing its topic


def test_a_given_topic_is_used_as_is():
    given, _ = alarms(sns_topic_arn=TOPIC, chat=fleet())
    assert not given.resources("aws_sns_topic") and not given.resources("aws_kms_key")
    assert {a["alarm_actions"][0] for a in given.resources("aws_cloudwatch_metric_alarm").values()} == {TOPIC}
    assert given.outputs() == {"topic": TOPIC}
