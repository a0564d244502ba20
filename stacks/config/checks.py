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


def cross_section_problems(cfg: EnvironmentConfig) -> list[FieldProblem]:
    """Rules spanning sections of ``cfg`` (a config whose every section is valid on its
    own); empty when consistent."""
    return [*_region_problems(cfg), *_routing_problems(cfg), *_waf_problems(cfg), *_backend_problems(cfg)]


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
    each other one, distinct priorities and conditions, no path routed twice."""
    out: list[FieldProblem] = []
    defaults = [name for name, f in cfg.fleets.items() if f.default]
    if len(cfg.fleets) > 1 and len(defaults) != 1:
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
            if not (fleet.default or len(cfg.fleets) == 1):
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
    for name, fleet in cfg.fleets.items():
        out += under(f"fleets.{name}", fleet.advisories())
    return out
