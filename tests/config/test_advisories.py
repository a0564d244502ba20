"""Warnings about choices AWS accepts that break at run time (synth goes on): each
through the real advisories of the config model."""

from __future__ import annotations

import copy

import yaml
from helpers import ROOT

from stacks.config import advisories, parse_config


def dev() -> dict:
    return yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def warnings(data: dict) -> list[tuple[str, str]]:
    return advisories(parse_config(data, "x.yaml"))


def test_container_servers_need_an_imds_hop_limit_of_two():
    """rule: container-imds-hop-limit"""
    data = dev()
    data["fleets"]["chat"]["preset"] = "tgi"
    data["fleets"]["chat"]["target_group"]["health_check"]["path"] = "/health"
    assert (
        "fleets.chat.launch_template.http_put_response_hop_limit",
        "the tgi server normally runs in a container, and with a hop limit of 1 IMDSv2 answers do not reach "
        "containers (no role credentials, no region): set it to 2",
    ) in warnings(copy.deepcopy(data))
    data["fleets"]["chat"]["launch_template"]["http_put_response_hop_limit"] = 2
    assert not [w for w in warnings(data) if "hop_limit" in w[0]]


def test_https_to_a_plain_http_server_is_a_warning():
    """rule: target-protocol-https-needs-tls-server"""
    data = dev()
    data["fleets"]["chat"]["target_group"]["protocol"] = "HTTPS"
    assert (
        "fleets.chat.target_group.protocol",
        "the vllm server serves plain HTTP unless it is started with a TLS certificate; without one every "
        "HTTPS health check fails",
    ) in warnings(data)


def test_more_targets_than_an_alb_takes_is_a_warning():
    """rule: alb-targets-quota"""
    data = dev()
    data["fleets"]["chat"]["autoscaling_group"]["max_size"] = 1001
    assert (
        "fleets",
        "the groups' max_size add up to 1001 instances, and an ALB takes 1000 registered targets by default "
        "(Elastic Load Balancing quotas): scale-out beyond that fails to register; ask AWS to raise the quota first",
    ) in warnings(data)
    assert not [w for w in warnings(dev()) if w[0] == "fleets"]
