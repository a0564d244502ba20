"""Resilience report figures of issue #15's mechanisms on hand-made Terraform JSON:
capacity while instances are replaced (maintenance policy, instance refresh), what a
bad rollout does, AZ impairment (zonal shift, capacity distribution) and gray failures
(automatic target weights)."""

from __future__ import annotations

import pytest
from tf_builders import ref, seed

from stacks.report import analyze_stack, check_objectives
from stacks.report.figures import serving_while_replacing
from stacks.report.render import mechanisms


def only_fleet(doc: dict) -> dict:
    (fleet,) = analyze_stack("s", doc)["fleets"].values()
    return fleet


@pytest.mark.parametrize(
    ("desired", "min_h", "max_h", "serving"),
    [
        (3, None, None, 2),  # no policy: AWS terminates, then launches
        (1, None, None, 0),
        (3, 100, 110, 3),  # launch before terminate: 110 % of 3 rounds up to 4
        (1, 100, 110, 1),
        (10, 100, 110, 10),
        (3, 90, 100, 2),  # no room above desired: one terminated first
        (1, 90, 100, 0),
        (10, 90, 100, 9),
        (4, 50, 150, 2),  # half kept, launches first
        (3, 90, 120, 3),  # ceil(2.7) = 3 kept, room for one more
        (0, 100, 110, 0),
    ],
)
def test_serving_while_replacing(desired, min_h, max_h, serving):
    assert serving_while_replacing(desired, min_h, max_h) == serving


def test_group_without_policy_loses_an_instance_while_replacing():
    f = only_fleet(seed().build())
    repl = f["replacement"]
    assert (repl["serving_instances"], repl["percent_of_desired"], repl["launch_before_terminate"]) == (1, 50.0, False)
    # Below desired for the time a cold instance takes to serve.
    assert repl["seconds_below_desired"] == f["time_to_serve_new_instance_seconds"]["cold"]
    assert "replacement-below-desired" in [w["id"] for w in f["warnings"]]


def test_launch_before_terminate_keeps_desired():
    f = only_fleet(
        seed(instance_maintenance_policy={"min_healthy_percentage": 100, "max_healthy_percentage": 110}).build()
    )
    repl = f["replacement"]
    assert (repl["serving_instances"], repl["seconds_below_desired"], repl["launch_before_terminate"]) == (2, 0, True)
    assert "replacement-below-desired" not in [w["id"] for w in f["warnings"]]


def test_refresh_rollback_on_alarms_and_without():
    b = seed(
        instance_refresh={
            "strategy": "Rolling",
            "preferences": {
                "min_healthy_percentage": 100,
                "max_healthy_percentage": 110,
                "auto_rollback": True,
                "alarm_specification": {"alarms": [ref("aws_cloudwatch_metric_alarm", "errors", "alarm_name")]},
            },
        }
    )
    b.add(
        "aws_cloudwatch_metric_alarm", "errors", {"alarm_name": "s-web-5xx", "metric_name": "HTTPCode_Target_5XX_Count"}
    )
    refresh = only_fleet(b.build())["replacement"]["instance_refresh"]
    assert refresh["rollback_alarms"] == ["HTTPCode_Target_5XX_Count (s-web-5xx)"]
    assert refresh["bad_rollout"] == "rolled back when an alarm fires or the refresh fails"
    assert (refresh["serving_instances"], refresh["percent_of_desired"]) == (2, 100.0)

    plain = only_fleet(seed(instance_refresh={"strategy": "Rolling"}).build())
    refresh = plain["replacement"]["instance_refresh"]
    # Provider/API defaults: 90 % min, 100 % max, no rollback.
    assert (refresh["min_healthy_percentage"], refresh["serving_instances"], refresh["auto_rollback"]) == (90, 1, False)
    assert refresh["bad_rollout"] == "rolled out to every instance: no alarm stops it, no rollback"
    assert "refresh-without-rollback-alarms" in [w["id"] for w in plain["warnings"]]


def test_az_impairment_with_and_without_zonal_shift():
    b = seed(availability_zone_distribution={"capacity_distribution_strategy": "balanced-best-effort"})
    b.doc["resource"]["aws_lb"]["front"]["enable_zonal_shift"] = True
    az = only_fleet(b.build())["az_impairment"]
    # Two instances over two AZs: shifting one AZ away leaves one serving.
    assert az == {
        "zonal_shift": True,
        "capacity_distribution_strategy": "balanced-best-effort",
        "serving_instances_during_zonal_shift": 1,
        "percent_of_desired_during_zonal_shift": 50.0,
        "launches_in_other_azs": True,
    }
    # No block: AWS's default is balanced-best-effort (API reference).
    az = only_fleet(seed().build())["az_impairment"]
    assert (az["zonal_shift"], az["capacity_distribution_strategy"], az["launches_in_other_azs"]) == (
        False,
        "balanced-best-effort",
        True,
    )
    assert az["serving_instances_during_zonal_shift"] is None
    b = seed(availability_zone_distribution={"capacity_distribution_strategy": "balanced-only"})
    az = only_fleet(b.build())["az_impairment"]
    assert (az["capacity_distribution_strategy"], az["launches_in_other_azs"]) == ("balanced-only", False)


@pytest.mark.parametrize(
    ("attrs", "mitigated"),
    [
        ({}, False),
        ({"load_balancing_algorithm_type": "least_outstanding_requests"}, False),
        ({"load_balancing_algorithm_type": "weighted_random"}, False),  # AWS default: anomaly mitigation off
        ({"load_balancing_algorithm_type": "weighted_random", "load_balancing_anomaly_mitigation": "on"}, True),
    ],
)
def test_gray_failure_mitigation(attrs, mitigated):
    b = seed()
    b.doc["resource"]["aws_lb_target_group"]["web"].update(attrs)
    assert only_fleet(b.build())["gray_failure"]["mitigated"] is mitigated


def test_capacity_while_replacing_objective_takes_the_lower_of_policy_and_refresh():
    doc = seed(
        instance_maintenance_policy={"min_healthy_percentage": 100, "max_healthy_percentage": 110},
        instance_refresh={"strategy": "Rolling", "preferences": {"min_healthy_percentage": 50}},
    ).build()
    report = analyze_stack("s", doc)
    (result,) = check_objectives(report, {"min_capacity_while_replacing_percent": 100})
    assert (result["actual"], result["met"]) == (50.0, False)
    line = mechanisms(next(iter(report["fleets"].values())))
    assert "replacing keeps 2 of 2 serving (launch before terminate)" in line
    assert "refresh keeps 1 of 2" in line
