"""Check a stack's resilience figures against the objectives of its environment config.

Objectives live in the optional ``resilience_objectives`` section of
``config/<env>.yaml`` (:class:`stacks.config.ResilienceObjectives`). Each one applies to
every fleet of the stack, except ``max_single_points_of_failure`` which counts the
findings of the whole stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: objective key -> (figure name shown, "max" or "min", getter on a fleet dict, unit)
FLEET_OBJECTIVES: dict[str, tuple[str, str, Callable[[dict], Any], str]] = {
    "max_unhealthy_detection_seconds": (
        "unhealthy_detection_seconds",
        "max",
        lambda f: f["unhealthy_detection_seconds"],
        "s",
    ),
    "max_drain_seconds": ("drain_seconds", "max", lambda f: f["drain_seconds"], "s"),
    "max_time_to_serve_new_instance_seconds": (
        "time_to_serve_new_instance_seconds.cold",
        "max",
        lambda f: f["time_to_serve_new_instance_seconds"]["cold"],
        "s",
    ),
    "min_capacity_after_az_loss_percent": (
        "capacity_after_az_loss.percent_of_desired",
        "min",
        lambda f: f["capacity_after_az_loss"]["percent_of_desired"],
        "%",
    ),
    "min_capacity_while_replacing_percent": (
        "replacement.percent_of_desired",
        "min",
        lambda f: min(
            [f["replacement"]["percent_of_desired"]]
            + (
                [f["replacement"]["instance_refresh"]["percent_of_desired"]]
                if f["replacement"]["instance_refresh"]
                else []
            )
        ),
        "%",
    ),
    "max_spot_share_percent": ("spot_share_percent", "max", lambda f: f["spot_share_percent"], "%"),
    "min_spot_pools": ("spot_pools", "min", lambda f: f["spot_pools"], ""),
}


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{value}%"
    return f"{value} {unit}".strip()


def check_objectives(report: dict, objectives: Any) -> list[dict]:
    """Compare one stack report (:func:`stacks.report.analyze_stack`) with objectives.

    ``objectives`` is a :class:`stacks.config.ResilienceObjectives`, a dict of the same
    keys, or None. Returns one result per objective and fleet (stack-wide objectives
    have ``fleet`` None): ``{"objective", "fleet", "limit", "actual", "met", "message"}``,
    in a fixed order. A figure that cannot be computed (a fleet without a target group
    has no health check) does not meet its objective. ``min_spot_pools`` applies only to
    fleets that use spot.
    """
    if objectives is None:
        return []
    values = objectives if isinstance(objectives, dict) else objectives.model_dump()
    results: list[dict] = []
    for key, (figure, kind, get, unit) in FLEET_OBJECTIVES.items():
        limit = values.get(key)
        if limit is None:
            continue
        for fname, fleet in report["fleets"].items():
            if key == "min_spot_pools" and fleet["spot_pools"] == 0:
                continue
            actual = get(fleet)
            met = actual is not None and (actual <= limit if kind == "max" else actual >= limit)
            bound = f"{key} {'<=' if kind == 'max' else '>='} {_fmt(limit, unit)}"
            if actual is None:
                message = f"fleet {fname}: {figure} cannot be computed (see the fleet's warnings), objective {bound}"
            else:
                message = f"fleet {fname}: {figure} {_fmt(actual, unit)} {'meets' if met else 'misses'} {bound}"
            results.append(
                {"objective": key, "fleet": fname, "limit": limit, "actual": actual, "met": met, "message": message}
            )
    limit = values.get("max_single_points_of_failure")
    if limit is not None:
        actual = report["single_points_of_failure_count"]
        met = actual <= limit
        results.append(
            {
                "objective": "max_single_points_of_failure",
                "fleet": None,
                "limit": limit,
                "actual": actual,
                "met": met,
                "message": f"stack: {actual} single point(s) of failure {'meets' if met else 'misses'} "
                f"max_single_points_of_failure <= {limit}",
            }
        )
    return results
