"""Canary fleets (docs/canary.md): the weights of a shared route, its default weight,
and the routing rules around canaries. Pure Python: no AWS provider."""

from __future__ import annotations

import copy

import pytest
import yaml
from helpers import ROOT

from stacks.config import ConfigError, parse_config


def dev_with_canary(**canary) -> dict:
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    candidate = copy.deepcopy(data["fleets"]["chat"])
    candidate["canary"] = {"of": "chat", **canary}
    data["fleets"]["chatnext"] = candidate
    return data


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "x.yaml")
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize(("canary", "current"), [(0, 100), (10, 90), (100, 0), (250, 0)])
def test_the_current_fleet_weight_defaults_to_the_rest_of_100(canary, current):
    cfg = parse_config(dev_with_canary(weight=canary), "x.yaml")
    assert cfg.canaries("chat") == {"chatnext": canary}
    assert cfg.route_weight("chat") == current
    # A canary is no route of its own: the default fleet stays the current one, with
    # no `default: true` needed beside a canary.
    assert cfg.default_fleet == "chat"
    assert cfg.canaries("chatnext") == {}


def test_a_new_canary_takes_no_traffic_by_default_and_an_explicit_weight_wins():
    data = dev_with_canary()
    cfg = parse_config(data, "x.yaml")
    assert cfg.fleets["chatnext"].canary.weight == 0 and cfg.route_weight("chat") == 100
    data["fleets"]["chat"]["forward"] = {"weight": 7, "stickiness": {"duration": 900}}
    cfg = parse_config(data, "x.yaml")
    assert cfg.route_weight("chat") == 7
    stickiness = cfg.fleets["chat"].forward.stickiness
    assert (stickiness.enabled, stickiness.duration) == (True, 900)


def test_a_canary_beside_two_routed_fleets_needs_the_default_as_before():
    data = dev_with_canary(weight=5)
    embed = copy.deepcopy(data["fleets"]["chat"])
    embed["listener_rule"] = {"priority": 10, "path_patterns": ["/v1/embeddings"]}
    data["fleets"]["embed"] = embed
    assert problems(data) == [
        "x.yaml: fleets: exactly one fleet must set 'default: true' when there are several (found 0: none)",
        "x.yaml: fleets.chat.listener_rule: required for a fleet that is not the default",
    ]
    data["fleets"]["chat"]["default"] = True
    # A canary of the rule's fleet shares the rule.
    data["fleets"]["chatnext"]["canary"]["of"] = "embed"
    cfg = parse_config(data, "x.yaml")
    assert cfg.default_fleet == "chat" and cfg.canaries("embed") == {"chatnext": 5}
    assert cfg.canaries("chat") == {} and cfg.route_weight("embed") == 95
