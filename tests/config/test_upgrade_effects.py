"""tests/upgrade_effects.py (run on the emulator before a release, docs/upgrading.md):
what counts as the upgrade's own change, and what fails it."""

from __future__ import annotations

from upgrade_effects import own_changes, serving_deleted


def change(rtype, actions, after=None):
    return {"type": rtype, "actions": actions, "after": after or {}, "after_unknown": {}}


def test_drift_both_plans_show_is_not_the_upgrades():
    drift = change("aws_launch_template", ["update"], {"x": 1})
    baseline = {"aws_launch_template.t": drift}
    changes = {
        "aws_launch_template.t": drift,
        "aws_lb.alb": change("aws_lb", ["update"], {"enable_zonal_shift": True}),
        "aws_iam_role.r": change("aws_iam_role", ["no-op"]),
    }
    assert list(own_changes(changes, baseline)) == ["aws_lb.alb"]
    # The same address with other values is the upgrade's change.
    changes["aws_launch_template.t"] = change("aws_launch_template", ["update"], {"x": 2})
    assert sorted(own_changes(changes, baseline)) == ["aws_launch_template.t", "aws_lb.alb"]


def test_only_deleting_what_serves_fails_the_upgrade():
    changes = {
        "aws_autoscaling_group.a": change("aws_autoscaling_group", ["create", "delete"]),  # create first
        "aws_lb_target_group.b": change("aws_lb_target_group", ["delete", "create"]),
        "aws_lb_listener.c": change("aws_lb_listener", ["delete"]),
        "aws_iam_role.d": change("aws_iam_role", ["delete", "create"]),
        "aws_lb.e": change("aws_lb", ["update"]),
    }
    assert serving_deleted(changes) == ["aws_lb_target_group.b", "aws_lb_listener.c"]
