"""Property-based tests (hypothesis) over the config model.

The property: ANY config document either synthesizes to Terraform JSON that
``terraform validate`` accepts, or is rejected with the documented clear error (exit 2,
``error: <file>: <field>: <message>`` lines, no traceback). Never an unhandled exception.

Strategies generate documents that are mostly plausible (so many are accepted and reach
synthesis) with values drawn across and beyond the allowed ranges, plus a "mangle" step
that replaces any value of the document with an arbitrary YAML value (wrong types,
nulls, nested junk). Loading the AWS provider costs seconds per process, so:

1. validation runs in-process over hundreds of documents (``parse_config``);
2. a fixed batch of accepted documents is synthesized in ONE ``main.py`` run and every
   resulting stack goes through ``terraform validate``;
3. a batch of rejected documents goes through ONE run of the real command line (it exits
   before loading the provider).

Hypothesis is derandomized (fixed seed, no example database), so CI is reproducible.
Two hand-written documents (``RICH``, ``LEAN``) are explicit examples: they guarantee
the synthesized batch covers the rarer combinations whatever hypothesis generates.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from helpers import ROOT, copy_project, load_stacks, run_main, terraform, terraform_env
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stacks.config import ConfigError, file_problems, load_config, parse_config
from stacks.config.types import partition_of

AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

SETTINGS = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
}
#: Accepted documents synthesized in one batch, and rejected ones run through the CLI.
SYNTH_BATCH = 20
REJECT_BATCH = 40

REGIONS = ["us-east-1", "eu-west-1", "ap-south-2", "eu-central-2", "us-gov-west-1", "cn-north-1"]
PRESETS = ["vllm", "tgi", "triton", "torchserve", "ray-serve", "custom"]
INSTANCE_TYPES = ["g5.xlarge", "g5.2xlarge", "g6.2xlarge", "g6e.xlarge", "p4d.24xlarge", "t3.medium", "inf2.xlarge"]
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def pick(valid, invalid, p: int = 92):
    """``valid`` about ``p`` percent of the time, else ``invalid`` (shrinks to valid)."""
    return st.integers(0, 99).flatmap(lambda r: valid if r < p else invalid)


def maybe(strategy):
    """Either a value from ``strategy`` or the key left out (None -> omitted)."""
    return st.one_of(st.none(), strategy)


def drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def ints(low: int, high: int, margin: int = 1):
    """Integers in [low, high], sometimes just outside."""
    return pick(st.integers(low, high), st.sampled_from([low - margin, high + margin]))


names = pick(
    st.from_regex(r"\A[a-z][a-z0-9-]{0,18}[a-z0-9]\Z"),
    st.sampled_from(["", "A", "x" * 25, "-x", "ok-"]) | st.text(max_size=30),
)
hexid = st.text(alphabet="0123456789abcdef", min_size=8, max_size=17)
cidrs = pick(
    st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24", "192.168.1.0/24"]),
    st.sampled_from(["10.0.0.1/16", "300.1.1.1/32", "", "::/0"]),
)


@st.composite
def networks(draw, region: str):
    if draw(st.booleans()):
        azs = pick(
            st.lists(st.sampled_from("abcdef"), min_size=2, max_size=3, unique=True),
            st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4),
        )
        prefix = draw(ints(16, 24, margin=2))
        return {
            "create_vpc": drop_none(
                {
                    "cidr_block": f"10.{draw(st.integers(0, 255))}.0.0/16" if prefix == 16 else f"10.0.0.0/{prefix}",
                    "availability_zones": [f"{region}{c}" for c in draw(azs)],
                    "subnet_newbits": draw(maybe(ints(1, 4))),
                    "nat_gateway": draw(maybe(pick(st.sampled_from(["one_per_az", "single"]), st.just("none")))),
                    "enable_flow_logs": draw(maybe(st.booleans())),
                    "flow_logs_retention_in_days": draw(maybe(st.sampled_from([1, 2, 7, 30, 365, 400, 3653, 5000]))),
                }
            )
        }
    subnets = pick(
        st.lists(hexid.map(lambda h: f"subnet-{h}"), min_size=2, max_size=3, unique=True),
        st.lists(hexid.map(lambda h: f"subnet-{h}"), max_size=1),
    )
    return {
        "vpc_id": draw(pick(hexid.map(lambda h: f"vpc-{h}"), st.just("vpc-XYZ"))),
        "public_subnet_ids": draw(subnets),
        "private_subnet_ids": draw(subnets),
    }


waf_groups = st.lists(
    st.builds(
        lambda name, overrides: drop_none({"name": name, "rule_action_overrides": overrides or None}),
        pick(
            st.sampled_from(
                [
                    "AWSManagedRulesCommonRuleSet",
                    "AWSManagedRulesKnownBadInputsRuleSet",
                    "AWSManagedRulesAmazonIpReputationList",
                    "AWSManagedRulesAnonymousIpList",
                    "AWSManagedRulesLinuxRuleSet",
                ]
            ),
            st.just("bad name!"),
        ),
        st.dictionaries(
            st.sampled_from(["SizeRestrictions_BODY", "NoUserAgent_HEADER", "HostingProviderIPList"]),
            pick(st.sampled_from(["count", "allow", "block"]), st.just("deny")),
            max_size=2,
        ),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda g: g["name"],
)


@st.composite
def load_balancers(draw):
    return drop_none(
        {
            "internal": draw(maybe(st.booleans())),
            "ingress_cidr_blocks": draw(pick(st.lists(cidrs, min_size=1, max_size=3, unique=True), st.just([]))),
            "idle_timeout": draw(maybe(ints(1, 4000))),
            "drop_invalid_header_fields": draw(maybe(st.booleans())),
            "enable_deletion_protection": draw(maybe(st.booleans())),
            "certificate_arn": draw(maybe(st.just(CERT))),
            "ssl_policy": draw(
                maybe(
                    pick(
                        st.sampled_from(
                            [
                                "ELBSecurityPolicy-TLS13-1-2-2021-06",
                                "ELBSecurityPolicy-TLS13-1-3-2021-06",
                                "ELBSecurityPolicy-FS-1-2-Res-2020-10",
                            ]
                        ),
                        st.just("ELBSecurityPolicy-2016-08"),
                    )
                )
            ),
            "access_logs": draw(
                maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "enabled": st.booleans(),
                            "bucket": pick(
                                st.just("central-alb-logs"), st.sampled_from(["a..b", "10.0.0.1", "Bad_Bucket"]), p=40
                            ),
                            "bucket_prefix": pick(
                                st.sampled_from(["logs-", "x", "a" * 37]), st.sampled_from(["a" * 38, "UPPER-"]), p=70
                            ),
                            "prefix": pick(
                                st.sampled_from(["alb", "a/b/c"]), st.sampled_from(["/lead", "x/AWSLogs", "trail/"])
                            ),
                            "expiration_days": ints(1, 36500),
                            "noncurrent_version_expiration_days": ints(1, 36500),
                        },
                    )
                )
            ),
            "waf": draw(
                maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "enabled": st.one_of(st.none(), st.booleans()),
                            "managed_rule_groups": pick(waf_groups, st.just([]), p=95),
                            "rate_limit": ints(10, 2_000_000_000),
                            "logging": st.fixed_dictionaries(
                                {},
                                optional={
                                    "enabled": st.booleans(),
                                    "retention_in_days": pick(st.sampled_from([1, 30, 365, 3653]), st.just(2)),
                                    "redacted_headers": st.lists(
                                        pick(
                                            st.sampled_from(["authorization", "x-api-key", "cookie"]),
                                            st.sampled_from(["Authorization", "bad header"]),
                                        ),
                                        max_size=3,
                                        unique=True,
                                    ),
                                },
                            ),
                        },
                    )
                )
            ),
        }
    )


@st.composite
def fleets(draw, n: int):
    out = {}
    fleet_names = draw(
        st.lists(
            pick(st.from_regex(r"\A[a-z][a-z0-9]{0,15}\Z"), st.just("Bad"), p=97), min_size=n, max_size=n, unique=True
        )
    )
    for i, name in enumerate(fleet_names):
        max_size = draw(ints(1, 8))
        min_size = draw(pick(st.integers(0, max_size), st.integers(max_size + 1, max_size + 3)))
        mip = draw(
            maybe(
                st.fixed_dictionaries(
                    {
                        "instance_types": pick(
                            st.lists(st.sampled_from(INSTANCE_TYPES), min_size=1, max_size=4, unique=True),
                            st.lists(st.sampled_from(INSTANCE_TYPES), max_size=3),
                        )
                    },
                    optional={
                        "on_demand_base_capacity": st.integers(0, max_size + 1),
                        "on_demand_percentage_above_base_capacity": ints(0, 100),
                        "spot_allocation_strategy": pick(
                            st.sampled_from(["price-capacity-optimized", "lowest-price"]), st.just("cheapest")
                        ),
                    },
                )
            )
        )
        image = draw(
            pick(
                st.sampled_from(
                    [
                        {"image_ssm_parameter": AL2023_PARAMETER},
                        {"image_id": "ami-0123456789abcdef0"},
                    ]
                ),
                st.sampled_from([{}, {"image_id": "ami-0123456789abcdef0", "image_ssm_parameter": "/x/y"}]),
            )
        )
        protocol_version = draw(st.sampled_from(["HTTP1", "HTTP1", "HTTP2", "GRPC"]))
        algorithm = draw(st.sampled_from(["round_robin", "least_outstanding_requests", "weighted_random"]))
        interval = draw(ints(5, 300))
        out[name] = drop_none(
            {
                "preset": draw(maybe(pick(st.sampled_from(PRESETS), st.just("django")))),
                "default": (i == 0) if n > 1 else None,
                "listener_rule": (
                    {
                        "priority": draw(pick(st.just(10 * i), st.sampled_from([0, 50001, 10]))),
                        "path_patterns": [f"/v{i}/*"],
                    }
                    if i > 0
                    else None
                ),
                "target_group": draw(
                    maybe(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "port": ints(1, 65535),
                                "protocol": pick(st.sampled_from(["HTTP", "HTTPS"]), st.just("TCP")),
                                "protocol_version": st.just(protocol_version),
                                "deregistration_delay": ints(0, 3600),
                                "slow_start": st.sampled_from(
                                    [0, 0, 30, 900] if algorithm != "least_outstanding_requests" else [0]
                                )
                                | st.sampled_from([10, 901, 60])
                                if draw(st.integers(0, 9)) == 0
                                else st.just(0),
                                "load_balancing_algorithm_type": st.just(algorithm),
                                "health_check": st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "path": pick(
                                            st.sampled_from(["/health", "/v2/health/ready", "/-/healthz"]),
                                            st.sampled_from(["health", "/a b"]),
                                        ),
                                        "matcher": pick(
                                            st.sampled_from(
                                                ["0", "0-12"] if protocol_version == "GRPC" else ["200", "200-299"]
                                            ),
                                            st.sampled_from(
                                                ["600", "299-200", "200" if protocol_version == "GRPC" else "0"]
                                            ),
                                        ),
                                        "interval": st.just(interval),
                                        "timeout": pick(st.integers(2, min(interval - 1, 120)), st.just(interval)),
                                        "healthy_threshold": ints(2, 10),
                                    },
                                ),
                            },
                        )
                    )
                ),
                "launch_template": drop_none(
                    {
                        **image,
                        "instance_type": draw(maybe(pick(st.sampled_from(INSTANCE_TYPES), st.just("G5 XL")))),
                        "root_volume_size": draw(maybe(ints(8, 16384))),
                        "root_volume_type": draw(maybe(pick(st.sampled_from(["gp3", "gp2", "io2"]), st.just("st1")))),
                        "root_volume_kms_key_id": draw(maybe(st.just(KMS))),
                        "http_put_response_hop_limit": draw(maybe(ints(1, 64))),
                        "user_data_file": draw(
                            maybe(pick(st.just("../user_data/vllm.sh"), st.just("../user_data/missing.sh")))
                        ),
                        "managed_policy_arns": draw(
                            maybe(
                                st.lists(
                                    st.sampled_from(
                                        [
                                            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                                            "arn:aws:iam::123456789012:policy/models-read",
                                        ]
                                    ),
                                    max_size=2,
                                    unique=True,
                                )
                            )
                        ),
                        "secret_references": draw(
                            maybe(
                                st.lists(
                                    pick(
                                        st.sampled_from(
                                            [
                                                "/ai-fleet/hf-token",
                                                "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-token-AbCdEf",
                                                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/hf",
                                                "arn:aws:ssm:us-east-1:123456789012:parameter/x/y",
                                            ]
                                        ),
                                        st.just("hunter2hunter2"),
                                    ),
                                    max_size=3,
                                    unique=True,
                                )
                            )
                        ),
                    }
                ),
                "autoscaling_group": drop_none(
                    {
                        "min_size": min_size,
                        "max_size": max_size,
                        "desired_capacity": draw(
                            maybe(pick(st.integers(min(min_size, max_size), max_size), st.just(max_size + 1)))
                        ),
                        "health_check_type": draw(maybe(st.sampled_from(["ELB", "EC2"]))),
                        "health_check_grace_period": draw(maybe(ints(0, 7200))),
                        "max_instance_lifetime": draw(
                            maybe(pick(st.sampled_from([0, 86400, 31536000]), st.sampled_from([3600, 31536001])))
                        ),
                        "mixed_instances_policy": mip,
                        "instance_refresh": draw(
                            pick(
                                st.sampled_from(
                                    [
                                        None,
                                        {},
                                        {"min_healthy_percentage": 50},
                                        {
                                            "checkpoint_percentages": [50, 100],
                                            "checkpoint_delay": 60,
                                            "max_healthy_percentage": 150,
                                        },
                                    ]
                                ),
                                st.sampled_from(
                                    [{"checkpoint_percentages": [60, 40]}, {"max_healthy_percentage": 250}]
                                ),
                            )
                        ),
                    }
                ),
                "scaling": draw(
                    maybe(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "request_count_per_target": pick(st.floats(1, 5000, allow_nan=False), st.just(-1.0)),
                                "cpu_utilization": pick(st.floats(1, 100, allow_nan=False), st.just(120.0)),
                                "disable_scale_in": st.booleans(),
                            },
                        )
                    )
                ),
            }
        )
    return out


def in_region(node, region: str):
    """``node`` with the example ARNs (certificate, KMS key: us-east-1) moved to
    ``region``: regional ARNs must be in the environment's region."""
    if isinstance(node, dict):
        return {k: in_region(v, region) for k, v in node.items()}
    if isinstance(node, list):
        return [in_region(v, region) for v in node]
    if isinstance(node, str) and node in (CERT, KMS):
        return node.replace("arn:aws:", f"arn:{partition_of(region)}:").replace(":us-east-1:", f":{region}:")
    return node


def consistent(fleet: dict) -> dict:
    """``fleet`` made consistent where a rule spans its sections, so that the other rules
    get exercised: a gRPC server's preset for gRPC, a health check path its preset's
    server serves (when one of the usual paths was drawn), IOPS for io2 volumes. Fleets
    that break these are still drawn (one document in ten is left as drawn)."""
    tg = fleet.get("target_group")
    tg = tg if isinstance(tg, dict) else {}
    hc = tg.get("health_check")
    hc = hc if isinstance(hc, dict) else {}
    preset = fleet.get("preset", "custom")
    grpc = tg.get("protocol_version") == "GRPC"
    if grpc and preset not in ("triton", "custom"):
        preset = "triton"
    if hc.get("path") in ("/health", "/v2/health/ready", "/-/healthz"):
        if grpc:
            hc = {k: v for k, v in hc.items() if k != "path"}
        elif preset in PRESET_PATHS:
            hc = {**hc, "path": PRESET_PATHS[preset]}
    out = {**fleet, "preset": preset}
    if tg:
        out["target_group"] = {**tg, **({"health_check": hc} if hc else {})}
    lt = fleet.get("launch_template")
    if isinstance(lt, dict) and lt.get("root_volume_type") == "io2":
        out["launch_template"] = {**lt, "root_volume_iops": 3000}
    return out


#: A health check path each known preset's server serves.
PRESET_PATHS = {
    "vllm": "/health",
    "tgi": "/health",
    "triton": "/v2/health/ready",
    "torchserve": "/ping",
    "ray-serve": "/-/healthz",
}


@st.composite
def documents(draw):
    """A config document: plausible structure, values across and beyond valid ranges.
    Mostly consistent across sections (regional ARNs in the region, health paths the
    preset serves, HTTPS and HTTP/2 for gRPC), so the rules within sections are reached."""
    region = draw(st.sampled_from(REGIONS))
    doc = draw(documents_anywhere(region))
    if draw(st.integers(0, 9)) > 0:
        doc = in_region(doc, region)
        doc["fleets"] = {n: consistent(f) if isinstance(f, dict) else f for n, f in doc["fleets"].items()}
        versions = {(f.get("target_group") or {}).get("protocol_version") for f in doc["fleets"].values()}
        if versions & {"GRPC", "HTTP2"} and isinstance(doc.get("load_balancer"), dict):
            doc["load_balancer"] = {**doc["load_balancer"], "certificate_arn": in_region(CERT, region)}
            doc["load_balancer"].pop("enable_http2", None)
    return doc


@st.composite
def documents_anywhere(draw, region: str):
    """A config document in ``region``, each section drawn on its own."""
    return drop_none(
        {
            "name": draw(names),
            "region": region,
            "production": draw(maybe(st.booleans())),
            "tags": draw(
                maybe(
                    st.dictionaries(
                        pick(st.sampled_from(["team", "cost-center", "owner"]), st.just("aws:x")),
                        pick(st.sampled_from(["ml", "ai-prod", ""]), st.just("x" * 257)),
                        max_size=3,
                    )
                )
            ),
            "network": draw(networks(region)),
            "load_balancer": draw(load_balancers()),
            "fleets": draw(fleets(draw(st.integers(1, 3)))),
            "backend": draw(
                maybe(
                    pick(
                        st.just({"type": "local", "path": "state/terraform.tfstate"}),
                        st.just({"type": "local", "path": "../x.tfstate"}),
                    )
                )
            ),
            "cloudwatch_logs": draw(maybe(pick(st.just({"kms_key_id": KMS}), st.just({"kms_key_id": "not-an-arn"})))),
        }
    )


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@st.composite
def mangled(draw):
    """A document with one value anywhere replaced by arbitrary YAML data."""
    doc = draw(documents())
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                paths.append((*path, k))
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                paths.append((*path, i))
                walk(v, (*path, i))

    walk(doc, ())
    path = draw(st.sampled_from(paths))
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = draw(junk)
    return doc


def outcome(doc: dict) -> list[str] | None:
    """None when ``parse_config`` accepts the document, else the problems as text."""
    try:
        cfg = parse_config(copy.deepcopy(doc), "generated.yaml")
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    # Files are checked by load_config too; the configs are written to config/.
    return [str(p) for p in file_problems(cfg, "generated.yaml", ROOT / "config")] or None


def check_rejection(problems: list[str]) -> None:
    assert problems, "a rejection names at least one problem"
    for text in problems:
        assert text.startswith("generated.yaml: ")
        rest = text[len("generated.yaml: ") :]
        assert rest.strip() and "Traceback" not in rest


SCHEMA = json.loads((ROOT / "config" / "schema.json").read_text())

#: Documents the property tests saw, by outcome; the batch tests below pick from them.
SEEN: dict[str, dict[str, dict]] = {"accepted": {}, "rejected": {}}


def record(doc: dict, accepted: bool) -> None:
    SEEN["accepted" if accepted else "rejected"].setdefault(
        json.dumps(doc, sort_keys=True, default=str), copy.deepcopy(doc)
    )


#: A hand-written document with the rarer options at once (hypothesis seldom combines
#: them all in an accepted document); the synthesized batch picks it for coverage.
RICH = in_region(
    {
        "name": "rich",
        "region": "eu-west-1",
        "production": True,
        "network": {
            "vpc_id": "vpc-0123456789abcdef0",
            "public_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            "private_subnet_ids": ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
        },
        "load_balancer": {
            "ingress_cidr_blocks": ["10.0.0.0/8"],
            "internal": True,
            "certificate_arn": CERT,
            "access_logs": {"bucket": "central-alb-logs", "prefix": "ai/rich"},
            "waf": {
                "rate_limit": 2000,
                "logging": {"enabled": False},
                "managed_rule_groups": [{"name": "AWSManagedRulesKnownBadInputsRuleSet", "version": "Version_1.20"}],
            },
        },
        "cloudwatch_logs": {"kms_key_id": KMS},
        "fleets": {
            "chat": {
                "default": True,
                "preset": "vllm",
                "launch_template": {"image_id": "ami-0123456789abcdef0"},
                "scaling": {"request_count_per_target": 30, "cpu_utilization": 70},
            },
            "embed": {
                "preset": "tgi",
                "listener_rule": {"priority": 10, "path_patterns": ["/v1/embeddings*"]},
                "launch_template": {"image_id": "ami-0123456789abcdef0"},
            },
            "rank": {
                "preset": "triton",
                "listener_rule": {"priority": 20, "host_headers": ["rank.example.com"]},
                "target_group": {"protocol_version": "GRPC"},
                "launch_template": {"image_id": "ami-0123456789abcdef0"},
            },
        },
    },
    "eu-west-1",
)

#: Two fleets behind one HTTPS listener, a path rule to the second: the shape most
#: multi-fleet stacks have, drawn rarely by the strategies because each fleet is one
#: more chance of an invalid value.
PAIR = {
    "name": "pair",
    "region": "us-west-2",
    "network": {"create_vpc": {"availability_zones": ["us-west-2a", "us-west-2b"]}},
    "load_balancer": {
        "ingress_cidr_blocks": ["203.0.113.0/24"],
        "certificate_arn": in_region(CERT, "us-west-2"),
    },
    "fleets": {
        "chat": {"default": True, "preset": "vllm", "launch_template": {"image_id": "ami-0123456789abcdef0"}},
        "embed": {
            "preset": "tgi",
            "listener_rule": {"priority": 10, "path_patterns": ["/v1/embeddings*"]},
            "launch_template": {"image_id": "ami-0123456789abcdef0", "http_put_response_hop_limit": 2},
        },
    },
}


#: The opposite corner: a new region (ELB log delivery service principal), a created VPC
#: with one NAT gateway, no access logs, no WAF, plain HTTP.
LEAN = {
    "name": "lean",
    "region": "ap-south-2",
    "network": {"create_vpc": {"availability_zones": ["ap-south-2a", "ap-south-2b"], "nat_gateway": "single"}},
    "load_balancer": {"ingress_cidr_blocks": ["203.0.113.0/24"], "access_logs": {"enabled": False}},
    "fleets": {
        "chat": {
            "launch_template": {"image_id": "ami-0123456789abcdef0"},
            "autoscaling_group": {"min_size": 1, "max_size": 2},
        }
    },
}


@settings(max_examples=250, **SETTINGS)
@given(documents())
@example(RICH)
@example(LEAN)
@example(PAIR)
def test_documents_are_accepted_or_cleanly_rejected(doc):
    problems = outcome(doc)
    record(doc, problems is None)
    if problems is None:
        # The published JSON Schema never rejects what the tool accepts.
        jsonschema.validate(json.loads(json.dumps(doc)), SCHEMA)
    else:
        check_rejection(problems)


@settings(max_examples=150, **SETTINGS)
@given(mangled())
def test_mangled_documents_never_crash_the_validator(doc):
    problems = outcome(doc)
    if problems is not None:
        record(doc, False)
        check_rejection(problems)


@pytest.fixture(scope="module")
def seen() -> dict[str, dict[str, dict]]:
    """The documents of the property tests above (run here if they were deselected)."""
    if not SEEN["accepted"]:
        test_documents_are_accepted_or_cleanly_rejected()
        test_mangled_documents_never_crash_the_validator()
    return SEEN


def features(doc: dict) -> set[str]:
    """What a document exercises, to pick a small batch that covers a lot."""
    lb, net = doc["load_balancer"], doc["network"]
    cv = net.get("create_vpc")
    logs, waf = lb.get("access_logs", {}), lb.get("waf", {})
    out = {
        f"region={doc['region']}",
        f"fleets={len(doc['fleets'])}",
        f"production={doc.get('production', False)}",
        f"waf={waf.get('enabled', doc.get('production', False))}",
        f"rate_limit={'rate_limit' in waf}",
        f"waf_logging={waf.get('logging', {}).get('enabled', True)}",
        "access_logs=" + ("off" if not logs.get("enabled", True) else "existing" if "bucket" in logs else "created"),
        f"access_logs_prefix={'prefix' in logs}",
        f"https={'certificate_arn' in lb}",
        f"internal={lb.get('internal', False)}",
        f"kms={'cloudwatch_logs' in doc}",
        f"waf_version={any('version' in g for g in waf.get('managed_rule_groups', []))}",
        "network="
        + (
            f"vpc:{cv.get('nat_gateway', 'one_per_az')}:{len(cv['availability_zones'])}:"
            f"{cv.get('enable_flow_logs', True)}"
            if cv
            else "existing"
        ),
    }
    if cv and "flow_logs_retention_in_days" in cv:
        out.add(f"flow_logs_retention={cv['flow_logs_retention_in_days']}")
    for fleet in doc["fleets"].values():
        asg, lt, tg = fleet.get("autoscaling_group", {}), fleet["launch_template"], fleet.get("target_group", {})
        ir = asg.get("instance_refresh")
        refresh = json.dumps(asg.get("instance_refresh", {}), sort_keys=True) if ir is not None else "off"
        out |= {
            f"preset={fleet.get('preset', 'custom')}",
            f"mixed={'mixed_instances_policy' in asg}",
            f"refresh={refresh}",
            f"image={'image_id' in lt}",
            f"user_data={'user_data_file' in lt}",
            f"protocol_version={tg.get('protocol_version', 'HTTP1')}",
            f"scaling={sorted(fleet.get('scaling', {}))}",
        }
        out |= {
            f"secret_ref={r.split(':')[2] if r.startswith('arn:') else 'ssm-name'}"
            for r in lt.get("secret_references", [])
        }
    return out


def diverse(docs: list[dict], want: int) -> list[dict]:
    """Greedy pick of up to ``want`` documents covering the most features (deterministic)."""
    chosen, covered, pool = [], set(), list(docs)
    while pool and len(chosen) < want:
        best = max(pool, key=lambda d: len(features(d) - covered))
        pool.remove(best)
        chosen.append(best)
        covered |= features(best)
    return chosen


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project whose config/ holds only generated files."""
    proj = copy_project(tmp_path_factory.mktemp("prop") / "project")
    for f in (proj / "config").glob("*.yaml"):
        f.unlink()
    return proj


def write_configs(folder: Path, docs: list[dict], stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, doc in enumerate(docs):
        path = folder / f"{stem}{i:02d}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        paths.append(path)
    return paths


def test_accepted_documents_synthesize_and_terraform_validates(seen, project, tmp_path):
    docs = diverse(list(seen["accepted"].values()), SYNTH_BATCH)
    assert len(docs) == SYNTH_BATCH, "the strategies must reach synthesis often enough"
    docs = [copy.deepcopy(d) for d in docs]
    for i, doc in enumerate(docs):  # stack names must be unique within one run
        doc["name"] = f"{doc['name'][:21]}{i:03d}"
    covered = set().union(*map(features, docs))
    for feature in (
        "network=existing",
        "fleets=2",
        "fleets=3",
        "waf=True",
        "waf=False",
        "rate_limit=True",
        "https=True",
        "access_logs=off",
        "access_logs=created",
        "access_logs=existing",
    ):
        assert feature in covered, f"the batch no longer covers {feature}"
    # Regions launched after August 2022 get the log-delivery service principal.
    assert covered & {"region=ap-south-2", "region=eu-central-2"}, "the batch covers no newer region"
    assert any(f.startswith("network=vpc") for f in covered)

    paths = write_configs(project / "config", docs, "accepted")
    out = tmp_path / "cdktf.out"
    args = [arg for p in paths for arg in ("--config", str(p.relative_to(project)))]
    result = run_main(*args, "--outdir", str(out), cwd=project)
    assert result.returncode == 0, result.stderr[-5000:]
    assert sorted(load_stacks(out)) == sorted(d["name"] for d in docs)

    # `terraform validate` of every stack in ONE run: a root module that uses each stack
    # folder as a child module, so the provider schema loads once instead of per stack.
    # (Terraform ignores the stacks' backend blocks there, with a warning.) The examples
    # are validated as root modules in test_terraform_validate.py.
    (out / "main.tf.json").write_text(
        json.dumps({"module": {d["name"]: {"source": f"./stacks/{d['name']}"} for d in docs}})
    )
    tf_env = terraform_env(tmp_path)
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], out, tf_env)
    assert init.returncode == 0, init.stdout + init.stderr
    report = json.loads(terraform(["validate", "-json", "-no-color"], out, tf_env).stdout)
    errors = [
        f"{d.get('range', {}).get('filename', '?')}: {d['summary']}: {d.get('detail', '')}"
        for d in report["diagnostics"]
        if d["severity"] == "error"
    ]
    assert report["valid"] and not errors, "\n".join(errors)
    warnings = {d["summary"] for d in report["diagnostics"]}
    assert warnings <= {"Backend configuration ignored"}, warnings


def test_rejected_documents_exit_2_with_clear_errors(seen, project):
    rejected = list(seen["rejected"].values())
    docs = rejected[:: max(1, len(rejected) // REJECT_BATCH)][:REJECT_BATCH]
    assert len(docs) == REJECT_BATCH
    paths = write_configs(project / "rejected", docs, "rejected")
    args = [arg for p in paths for arg in ("--config", str(p.relative_to(project)))]
    result = run_main(*args, "--check", cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert re.fullmatch(
        r"\d+ problem\(s\) found; nothing was synthesized and any earlier output is unchanged\.", lines[-1]
    )
    assert all(line.startswith("error: rejected/") for line in lines[:-1]), [
        x for x in lines[:-1] if not x.startswith("error: rejected/")
    ]
    for path in paths:
        name = str(path.relative_to(project))
        mine = [line for line in lines if line.startswith(f"error: {name}: ")]
        # The command line reports exactly what the loader finds, one line per problem.
        with pytest.raises(ConfigError) as exc:
            load_config(path)
        # Same text as str(Problem) (which escapes line breaks), with the path as given.
        assert mine == [f"error: {dataclasses.replace(p, file=name)}" for p in exc.value.problems]
