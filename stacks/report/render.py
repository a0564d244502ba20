"""Human-readable forms of the report: a plain-text table for the terminal and a
Markdown table for ``topology.md``."""

from __future__ import annotations

COLUMNS = (
    "fleet",
    "unhealthy detection",
    "drain",
    "time to serve (cold)",
    "from warm pool",
    "after AZ loss",
    "spot now (at max)",
    "spot pools",
    "fleet SPOFs",
)


def _s(value) -> str:
    return "-" if value is None else f"{value} s"


def fleet_row(name: str, fleet: dict) -> list[str]:
    """The table cells of one fleet, in :data:`COLUMNS` order."""
    serve = fleet["time_to_serve_new_instance_seconds"]
    loss = fleet["capacity_after_az_loss"]
    return [
        name,
        _s(fleet["unhealthy_detection_seconds"]),
        _s(fleet["drain_seconds"]),
        _s(serve["cold"]),
        _s(serve["warm_pool"]),
        f"{loss['instances']} of {fleet['desired_capacity']} ({loss['percent_of_desired']}%)",
        f"{fleet['spot_share_percent']}% ({fleet['spot_share_percent_at_max_size']}%)",
        f"~{fleet['spot_pools']} (estimate)" if fleet.get("spot_pools_estimated") else str(fleet["spot_pools"]),
        str(len(fleet["single_points_of_failure"])),
    ]


def mechanisms(fleet: dict) -> str:
    """One line on the fleet's fault mechanisms: capacity while an instance is replaced
    and during an instance refresh, what a bad rollout does, AZ impairment, gray failures."""
    repl, az, gray = fleet["replacement"], fleet["az_impairment"], fleet["gray_failure"]
    desired = fleet["desired_capacity"]
    parts = [
        f"replacing keeps {repl['serving_instances']} of {desired} serving"
        + (" (launch before terminate)" if repl["launch_before_terminate"] else " (terminate first)")
    ]
    refresh = repl["instance_refresh"]
    if refresh is not None:
        parts.append(f"refresh keeps {refresh['serving_instances']} of {desired}, bad rollout {refresh['bad_rollout']}")
        if refresh["rollback_alarms"]:
            parts.append("rollback alarms " + ", ".join(refresh["rollback_alarms"]))
    parts.append(
        "AZ impairment: "
        + (
            f"zonal shift keeps {az['serving_instances_during_zonal_shift']} of {desired}"
            if az["zonal_shift"]
            else "no zonal shift"
        )
        + f", {az['capacity_distribution_strategy']}"
    )
    parts.append("gray failures " + ("mitigated (automatic target weights)" if gray["mitigated"] else "not mitigated"))
    return "; ".join(parts)


def text_table(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns separated by two spaces (header first)."""
    table = [list(COLUMNS), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]


def _findings(stack: dict) -> list[dict]:
    out = list(stack["single_points_of_failure"])
    for fleet in stack["fleets"].values():
        out.extend(fleet["single_points_of_failure"])
    return out


def _warnings(stack: dict) -> list[dict]:
    out = list(stack["warnings"])
    for fleet in stack["fleets"].values():
        out.extend(fleet["warnings"])
    return out


def render_text(stacks: dict[str, dict], sources: dict[str, str | None]) -> str:
    """The terminal report of every stack.

    ``stacks`` maps stack name to its entry in ``resilience.json`` (the report plus
    ``objective_results``); ``sources`` maps stack name to the config file the
    objectives came from (None: no config with that name).
    """
    out: list[str] = []
    for name, stack in stacks.items():
        src = sources.get(name)
        if src is None:
            origin = "no config file names this stack: no objectives"
        elif stack.get("objectives") is None:
            origin = f"{src}: no resilience_objectives"
        else:
            origin = f"objectives from {src}"
        out.append(f"== stack {name} ({origin})")
        out.extend(text_table([fleet_row(f, fleet) for f, fleet in stack["fleets"].items()]))
        out.extend(f"{f}: {mechanisms(fleet)}" for f, fleet in stack["fleets"].items())
        spof = _findings(stack)
        out.append(f"single points of failure: {len(spof) or 'none'}")
        out.extend(f"  - [{f['id']}] {f['message']}" for f in spof)
        warn = _warnings(stack)
        if warn:
            out.append("warnings:")
            out.extend(f"  - [{w['id']}] {w['message']}" for w in warn)
        if stack["assumptions"]:
            out.append("assumptions:")
            out.extend(f"  - {a}" for a in stack["assumptions"])
        if stack["objective_results"]:
            out.append("objectives:")
            out.extend(f"  {'ok  ' if r['met'] else 'MISS'}  {r['message']}" for r in stack["objective_results"])
        out.append("")
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown_summary(name: str, stack: dict) -> str:
    """Markdown figures table and findings of one stack, for ``topology.md``."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for fname, fleet in stack["fleets"].items():
        lines.append("| " + " | ".join(_md_cell(c) for c in fleet_row(fname, fleet)) + " |")
    lines.append("")
    lines.extend(f"- {_md_cell(fname)}: {_md_cell(mechanisms(fleet))}" for fname, fleet in stack["fleets"].items())
    lines.append("")
    spof = _findings(stack)
    lines.append(f"Single points of failure: {len(spof) or 'none'}")
    if spof:
        lines.append("")
        lines.extend(f"- `{f['id']}`: {f['message']}" for f in spof)
    warn = _warnings(stack)
    if warn:
        lines.append("")
        lines.append("Warnings:")
        lines.append("")
        lines.extend(f"- `{w['id']}`: {w['message']}" for w in warn)
    return "\n".join(lines) + "\n"
