"""Rules that span sections of one environment file, and warnings about risky choices.

Rules within one section live with that section (``own_problems`` of its model, see
:mod:`stacks.config.base`); here are only those that need two or more sections: AZs of
the region, routing across fleets, the WAF of a production environment, state keys
derived from the name. Paths in the results are absolute (from the document's root).
"""

from __future__ import annotations

from .backend import S3Backend
from .base import FieldProblem, under
from .environment import EnvironmentConfig
from .listener_rule import FORWARD_TARGET_GROUPS
from .load_balancer import s3_bucket_prefix_problems
from .types import arn_partition, arn_region, partition_of


def cross_section_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """Rules spanning sections of ``cfg`` (a config whose every section is valid on its
    own); empty when consistent."""
    return [
        *_region_problems(cfg),
        *_routing_problems(cfg),
        *_listener_problems(cfg),
        *_waf_problems(cfg),
        *_backend_problems(cfg),
        *_arn_problems(cfg),
        *_log_bucket_problems(cfg),
        *_capacity_block_problems(cfg),
    ]


def _capacity_block_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """A fleet launching into a Capacity Block (``launch_template.instance_market_options``)
    has one plain group: Auto Scaling supports Capacity Blocks only without a mixed
    instances policy or warm pool (user guide, "Use Capacity Blocks for machine learning
    workloads", Limitations), and a spot group beside it would launch from the same
    capacity-block template (https://docs.aws.amazon.com/autoscaling/ec2/userguide/launch-template-capacity-blocks.html)."""
    out: list[FieldProblem] = []
    for name, fleet in cfg.fleets.items():
        if not fleet.launch_template.capacity_block:
            continue
        asg = fleet.autoscaling_group
        found = [
            (field, what)
            for field, what, present in (
                ("autoscaling_group.mixed_instances_policy", "a mixed instances policy", asg.mixed_instances_policy),
                ("autoscaling_group.warm_pool", "a warm pool", asg.warm_pool),
                ("spot_autoscaling_group", "a spot group (spot is not a Capacity Block)", fleet.spot_autoscaling_group),
            )
            if present is not None
        ]
        # aws-rule: capacity-block-plain-group
        for field, what in found:
            out.append(
                (
                    f"fleets.{name}.{field}",
                    f"the fleet launches into a Capacity Block (launch_template.instance_market_options), "
                    f"which Auto Scaling does not support with {what}: remove one of the two",
                )
            )
    return out


def _region_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """A created VPC's AZs are in the environment's region."""
    cv = cfg.network.create_vpc
    if cv is None:
        return []
    return [
        (f"network.create_vpc.availability_zones.{i}", f"{az!r} is not in region {cfg.region!r}")
        for i, az in enumerate(cv.availability_zones)
        if not az.startswith(cfg.region)
    ]


def _routing_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """Several fleets behind one ALB: exactly one default fleet, a listener rule for
    each other one (canaries share a route instead, :func:`_canary_problems`), distinct
    priorities and conditions, no path routed twice."""
    out: list[FieldProblem] = _canary_problems(cfg)
    defaults = [name for name, f in cfg.fleets.items() if f.default]
    routed = [name for name, f in cfg.fleets.items() if f.canary is None]
    if len(routed) > 1 and len(defaults) != 1:
        out.append(
            (
                "fleets",
                "exactly one fleet must set 'default: true' when there are several "
                f"(found {len(defaults)}: {', '.join(defaults) or 'none'})",
            )
        )
    priorities: dict[int, str] = {}
    conditions: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
    for name, fleet in cfg.fleets.items():
        rule = fleet.listener_rule
        if rule is None:
            if not (fleet.default or fleet.canary is not None or len(routed) == 1):
                out.append((f"fleets.{name}.listener_rule", "required for a fleet that is not the default"))
            continue
        if rule.priority in priorities:
            out.append(
                (
                    f"fleets.{name}.listener_rule.priority",
                    f"{rule.priority} is already used by fleet {priorities[rule.priority]!r}",
                )
            )
        priorities.setdefault(rule.priority, name)
        key = (tuple(sorted(rule.path_patterns)), tuple(sorted(rule.host_headers)))
        if key in conditions:
            out.append(
                (f"fleets.{name}.listener_rule", f"same path_patterns and host_headers as fleet {conditions[key]!r}")
            )
        conditions.setdefault(key, name)
    # The same path pattern in two host-less rules: only the lower priority would match.
    seen_paths: dict[str, str] = {}
    for name, fleet in cfg.fleets.items():
        rule = fleet.listener_rule
        if rule is None or rule.host_headers:
            continue
        for i, path in enumerate(rule.path_patterns):
            if path in seen_paths and seen_paths[path] != name:
                out.append(
                    (
                        f"fleets.{name}.listener_rule.path_patterns.{i}",
                        f"{path!r} is already routed to fleet {seen_paths[path]!r}",
                    )
                )
            seen_paths.setdefault(path, name)
    return out


def _canary_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """Weighted routes (docs/canary.md): a canary names another fleet that is not a
    canary itself; ``forward`` only on a fleet that canaries share; per route at most 5
    target groups and one or more non-zero weights (ELB user guide, "Listener rules",
    forward actions, and "Quotas for your Application Load Balancers")."""
    out: list[FieldProblem] = []
    for name, fleet in cfg.fleets.items():
        canary = fleet.canary
        if canary is None:
            continue
        target = cfg.fleets.get(canary.of)
        if canary.of == name:
            out.append((f"fleets.{name}.canary.of", "a fleet cannot be its own canary: name the current fleet"))
        elif target is None:
            out.append(
                (f"fleets.{name}.canary.of", f"no fleet {canary.of!r} (fleets: {', '.join(sorted(cfg.fleets))})")
            )
        elif target.canary is not None:
            out.append(
                (
                    f"fleets.{name}.canary.of",
                    f"fleet {canary.of!r} is itself a canary: name the current fleet, one with a route of its own",
                )
            )
    for name, fleet in cfg.fleets.items():
        if fleet.canary is not None:
            continue
        canaries = cfg.canaries(name)
        if not canaries:
            if fleet.forward is not None:
                out.append(
                    (
                        f"fleets.{name}.forward",
                        f"no canary shares this fleet's route (canary.of: {name}): remove forward, or add a canary",
                    )
                )
            continue
        # aws-rule: forward-target-groups-quota
        if 1 + len(canaries) > FORWARD_TARGET_GROUPS:
            out.append(
                (
                    f"fleets.{name}",
                    f"{len(canaries)} canaries share its route ({', '.join(canaries)}): a forward action takes at "
                    f"most {FORWARD_TARGET_GROUPS} target groups, so at most {FORWARD_TARGET_GROUPS - 1} canaries",
                )
            )
        # aws-rule: forward-weights
        if cfg.route_weight(name) == 0 and not any(canaries.values()):
            out.append(
                (
                    f"fleets.{name}.forward.weight",
                    f"0, and every canary of this route has weight 0 ({', '.join(canaries)}): one or more target "
                    "groups of a weighted forward action need a non-zero weight",
                )
            )
    return out


def _listener_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """gRPC and HTTP/2 target groups need an HTTPS listener (ELB user guide, "Target
    groups for your Application Load Balancers", protocol version: "The only supported
    listener protocol is HTTPS") and HTTP/2 between clients and the ALB (the gRPC and
    HTTP/2 protocol versions serve only HTTP/2 and gRPC requests)."""
    out: list[FieldProblem] = []
    lb = cfg.load_balancer
    for name, fleet in cfg.fleets.items():
        version = fleet.target_group.protocol_version
        if version == "HTTP1":
            continue
        field = f"fleets.{name}.target_group.protocol_version"
        # aws-rule: grpc-http2-needs-https-listener
        if lb.certificate_arn is None:
            out.append(
                (
                    field,
                    f"{version} target groups take requests only from an HTTPS listener, and without "
                    "load_balancer.certificate_arn the ALB listens on plain HTTP: set the certificate, or use HTTP1",
                )
            )
        # aws-rule: grpc-http2-needs-client-http2
        if not lb.enable_http2:
            out.append(
                (
                    field,
                    f"{version} target groups serve only HTTP/2 and gRPC requests, and load_balancer.enable_http2 "
                    "is false: set it to true, or use HTTP1",
                )
            )
    return out


def _arn_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """Every ARN the config gives is in the environment's partition (an ARN of another
    partition names nothing here), and the regional ones (certificate, KMS keys, SNS
    topic) in its region: an ACM certificate serves only load balancers of its region
    (ACM user guide, "Supported Regions"), a KMS key encrypts only volumes and log groups
    of its region (EBS user guide, "Amazon EBS encryption"; CloudWatch Logs user guide,
    "Encrypt log data in CloudWatch Logs using AWS KMS")."""
    partition = partition_of(cfg.region)
    arns: list[tuple[str, str, bool]] = []  # (field, ARN, regional)
    cert = cfg.load_balancer.certificate_arn
    if cert is not None:
        arns.append(("load_balancer.certificate_arn", cert, ":acm:" in cert))
    if cfg.alarms.sns_topic_arn is not None:
        arns.append(("alarms.sns_topic_arn", cfg.alarms.sns_topic_arn, True))
    if cfg.cloudwatch_logs.kms_key_id is not None:
        arns.append(("cloudwatch_logs.kms_key_id", cfg.cloudwatch_logs.kms_key_id, True))
    for name, fleet in cfg.fleets.items():
        lt = fleet.launch_template
        where = f"fleets.{name}.launch_template"
        if lt.root_volume_kms_key_id is not None:
            arns.append((f"{where}.root_volume_kms_key_id", lt.root_volume_kms_key_id, True))
        arns += [(f"{where}.managed_policy_arns.{i}", arn, False) for i, arn in enumerate(lt.managed_policy_arns)]
        arns += [
            (f"{where}.secret_references.{i}", ref, False)
            for i, ref in enumerate(lt.secret_references)
            if ref.startswith("arn:")
        ]
    out: list[FieldProblem] = []
    for field, arn, regional in arns:
        # aws-rule: arn-partition
        if arn_partition(arn) != partition:
            out.append((field, f"is in partition {arn_partition(arn)}, but region {cfg.region} is in {partition}"))
        # aws-rule: arn-region
        elif regional and arn_region(arn) != cfg.region:
            out.append(
                (
                    field,
                    f"is in region {arn_region(arn)}; AWS uses it only in its own region, and this environment "
                    f"is in {cfg.region}: create or copy it there",
                )
            )
    return out


def _log_bucket_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """The access log bucket the stack creates is named from the environment's name by
    default (``<name>-alb-logs-``): that prefix must follow the S3 naming rules too."""
    logs = cfg.load_balancer.access_logs
    if not logs.enabled or logs.bucket is not None or logs.bucket_prefix is not None:
        return []
    return [
        (
            "name",
            f"{message} (the access log bucket is named {cfg.name}-alb-logs-...; set "
            "load_balancer.access_logs.bucket_prefix to name it otherwise)",
        )
        for message in s3_bucket_prefix_problems(f"{cfg.name}-alb-logs-")
    ]


def _waf_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """A web ACL that is on (explicitly or through ``production``) has rules."""
    waf = cfg.load_balancer.waf
    if cfg.waf_enabled and not waf.managed_rule_groups and waf.rate_limit is None:
        return [
            ("load_balancer.waf.managed_rule_groups", "an enabled web ACL needs managed_rule_groups or a rate_limit")
        ]
    return []


def _backend_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """With a DynamoDB lock table, the state key (derived from the name by default)
    does not end in ``-md5``."""
    b = cfg.backend
    if isinstance(b, S3Backend) and b.dynamodb_table is not None and b.state_key(cfg.name).endswith("-md5"):
        return [
            (
                "backend.key",
                "with dynamodb_table, keys ending in -md5 are taken: the table holds the state "
                "checksum of key K under the lock ID <bucket>/K-md5",
            )
        ]
    return []


def advisories(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """Risky but valid choices, as warnings (synth goes on): an ALB idle timeout shorter
    than the longest request, then each fleet's own (:meth:`FleetConfig.advisories`)."""
    out: list[FieldProblem] = []
    longest = max(f.effective_max_request_seconds for f in cfg.fleets.values())
    idle = cfg.load_balancer.idle_timeout
    if idle is not None and idle < longest:
        out.append(
            (
                "load_balancer.idle_timeout",
                f"{idle} s is shorter than the longest max_request_seconds ({longest} s): "
                "the ALB may cut long requests",
            )
        )
    # aws-rule: alb-targets-quota
    targets = sum(
        f.autoscaling_group.max_size + (f.spot_autoscaling_group.max_size if f.spot_autoscaling_group else 0)
        for f in cfg.fleets.values()
    )
    if targets > ALB_TARGETS_QUOTA:
        out.append(
            (
                "fleets",
                f"the groups' max_size add up to {targets} instances, and an ALB takes {ALB_TARGETS_QUOTA} "
                "registered targets by default (Elastic Load Balancing quotas): scale-out beyond that fails "
                "to register; ask AWS to raise the quota first",
            )
        )
    for name, fleet in cfg.fleets.items():
        out += under(f"fleets.{name}", fleet.advisories())
    return out


#: Default quota "Targets per Application Load Balancer" (ELB user guide, "Quotas for
#: your Application Load Balancers"); it can be raised on request.
ALB_TARGETS_QUOTA = 1000
