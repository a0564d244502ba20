"""stacks/outputs.py: the stack outputs other stacks and tools read."""

from __future__ import annotations

from construct_testing import build

from stacks.outputs import FleetOutputs, Outputs


def outputs(alarm_topic_arn, fleets):
    built, _ = build(
        lambda s: Outputs(
            s,
            "outputs",
            alb_dns_name="dns",
            alb_arn="arn",
            alb_zone_id="zone",
            alb_security_group_id="sg-alb",
            alarm_topic_arn=alarm_topic_arn,
            fleets=fleets,
        )
    )
    return built


def test_outputs_are_named_without_a_prefix_and_spot_only_when_there_is_one():
    built = outputs(
        None,
        {
            "embed": FleetOutputs("tg-embed", "dev-embed", None, "sg-embed"),
            "chat": FleetOutputs("tg-chat", "dev-chat", "dev-chat-spot", "sg-chat"),
        },
    )
    assert built.outputs() == {
        "alb_dns_name": "dns",
        "alb_arn": "arn",
        "alb_zone_id": "zone",
        "alb_security_group_id": "sg-alb",
        "chat_target_group_arn": "tg-chat",
        "chat_autoscaling_group_name": "dev-chat",
        "chat_spot_autoscaling_group_name": "dev-chat-spot",
        "chat_instance_security_group_id": "sg-chat",
        "embed_target_group_arn": "tg-embed",
        "embed_autoscaling_group_name": "dev-embed",
        "embed_instance_security_group_id": "sg-embed",
    }
    assert all(out["description"] for out in built.doc["output"].values())


def test_alarm_topic_output_only_with_alarms():
    assert outputs("topic", {}).outputs()["alarm_topic_arn"] == "topic"
