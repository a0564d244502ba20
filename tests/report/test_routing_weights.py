"""The resilience report's routes of a weighted forward (docs/canary.md), on hand-made
Terraform JSON (tests/tf_builders.py): each fleet sharing the route lists it with every
target group's weight and the stickiness."""

from __future__ import annotations

from tf_builders import multi_fleet_doc, ref, seed

from stacks.report import analyze_stack
from stacks.report.routing import listeners_and_routes
from stacks.report.terraform import TerraformDoc


def weighted(*groups: tuple[str, int | None], stickiness: dict | None = None) -> dict:
    """A forward action over ``groups`` (name, weight; None: no weight given)."""
    target_groups = [
        {"arn": ref("aws_lb_target_group", name, "arn"), **({"weight": w} if w is not None else {})}
        for name, w in groups
    ]
    forward: dict = {"target_group": target_groups}
    if stickiness is not None:
        forward["stickiness"] = stickiness
    return {"type": "forward", "forward": forward}


def test_a_canary_on_the_default_action_shows_the_weights_on_both_fleets():
    b = seed(fleet="chat")
    b.target_group("next")
    b.group("cand", subnets=["${aws_subnet.priv0.id}", "${aws_subnet.priv1.id}"], tgs=["next"], fleet="chatnext")
    doc = b.build()
    doc["resource"]["aws_lb_listener"]["plain"]["default_action"] = [
        weighted(("web", 90), ("next", 10), stickiness={"duration": 3600, "enabled": True})
    ]
    report = analyze_stack("ai", doc)
    label = "HTTP :80 default, weights next 10 / web 90, sticky 3600 s"
    assert report["fleets"]["chat"]["routes"] == [label]
    assert report["fleets"]["chatnext"]["routes"] == [label]
    # A candidate at weight 0 is routed (its share is 0), not "not-routed".
    doc["resource"]["aws_lb_listener"]["plain"]["default_action"] = [weighted(("web", 100), ("next", 0))]
    report = analyze_stack("ai", doc)
    assert report["fleets"]["chatnext"]["routes"] == ["HTTP :80 default, weights next 0 / web 100"]
    assert "not-routed" not in [w["id"] for w in report["fleets"]["chatnext"]["warnings"]]


def test_a_weighted_rule_keeps_its_conditions_and_defaults_a_missing_weight_to_1():
    doc = multi_fleet_doc()
    doc["resource"]["aws_lb_target_group"]["gamma"] = dict(doc["resource"]["aws_lb_target_group"]["beta"])
    rule = doc["resource"]["aws_lb_listener_rule"]["embed_route"]
    rule["action"] = [weighted(("beta", None), ("gamma", 3), stickiness={"duration": 60, "enabled": False})]
    _, routes = listeners_and_routes(TerraformDoc(doc))
    [route] = [r for r in routes if r["kind"] == "rule"]
    assert route["target_groups"] == ["beta", "gamma"]
    assert route["weights"] == {"beta": 1, "gamma": 3}  # ELB API default weight 1
    assert route["stickiness_seconds"] is None  # turned off
    report = analyze_stack("ai", doc)
    assert report["fleets"]["embed"]["routes"] == [
        "HTTPS :443 rule 10 (path /v1/embeddings*), weights beta 1 / gamma 3"
    ]
    # A plain forward to one target group is labelled as before.
    assert report["fleets"]["chat"]["routes"] == ["HTTPS :443 default"]
