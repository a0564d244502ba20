"""Mermaid diagram of one stack: load balancers, listeners, rules, target groups,
fleets and how their instances spread over Availability Zones.

The diagram is a ``flowchart LR`` in a fenced ``mermaid`` block, which GitHub and
GitLab render in Markdown files and pull-request comments. Node IDs are built from
resource names reduced to ``[A-Za-z0-9_]`` with a kind prefix (never a Mermaid keyword),
labels are quoted with ``"``, ``<``, ``>``, ``#`` and backticks escaped as Mermaid
entity codes, and every list is sorted, so the same stack always gives the same bytes.
"""

from __future__ import annotations

import re

from .figures import nat_egress
from .routing import listener_label, listeners_and_routes
from .terraform import TerraformDoc, block, boolean, is_literal

_ESCAPES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;"}


def escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return "".join(_ESCAPES.get(c, c) for c in str(text))


def label(*lines: str) -> str:
    """A quoted Mermaid label of one or more lines (escaped, joined by ``<br/>``)."""
    return '"' + "<br/>".join(escape(line) for line in lines if line) + '"'


class _Ids:
    """Sanitized, unique, deterministic node IDs."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._used: set[str] = set()

    def __call__(self, kind: str, name: str) -> str:
        key = (kind, name)
        if key not in self._by_key:
            base = f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"
            candidate, n = base, 2
            while candidate in self._used:
                candidate, n = f"{base}_{n}", n + 1
            self._used.add(candidate)
            self._by_key[key] = candidate
        return self._by_key[key]


def mermaid(doc: dict, report: dict) -> str:
    """Mermaid ``flowchart`` source (without the fence) for one stack.

    ``doc`` is the parsed ``cdk.tf.json`` and ``report`` its
    :func:`stacks.report.analyze_stack` result (fleets, AZ spread). Returns text ending
    with a newline.
    """
    tf = TerraformDoc(doc)
    ids = _Ids()
    listeners, routes = listeners_and_routes(tf)
    lines = ["flowchart LR"]
    edges: list[str] = []

    lbs = tf.resources("aws_lb")
    if lbs:
        lines.append('  clients(["clients"])')
    for name, lb in lbs.items():
        internal = boolean(lb.get("internal")) is True
        kind = {"network": "NLB", "gateway": "GWLB"}.get(str(lb.get("load_balancer_type")), "ALB")
        shown = lb.get("name") if is_literal(lb.get("name")) else name
        protected = (
            "deletion protection on" if boolean(lb.get("enable_deletion_protection")) else "deletion protection off"
        )
        text = label(f"{kind} {shown}", "internal" if internal else "internet-facing", protected)
        lines.append(f"  {ids('lb', name)}{{{{{text}}}}}")
        edges.append(f"  clients --> {ids('lb', name)}")

    for name, lst in listeners.items():
        lines.append(f"  {ids('listener', name)}[{label('listener ' + listener_label(lst))}]")
        if lst["load_balancer"] in lbs:
            edges.append(f"  {ids('lb', lst['load_balancer'])} --> {ids('listener', name)}")

    tgs = tf.resources("aws_lb_target_group")
    for name, tg in tgs.items():
        hc = block(tg.get("health_check"))
        shown = next((str(tg[k]) for k in ("name", "name_prefix") if is_literal(tg.get(k)) and tg.get(k)), name)
        tag = (tg.get("tags") or {}).get("fleet") if isinstance(tg.get("tags"), dict) else None
        port = tg.get("port")
        protocol = tg.get("protocol", "HTTP")
        text = label(
            f"target group {tag or shown}",
            f"{protocol} :{port}" if port else "",
            f"health check {hc['path']}" if hc.get("path") else "",
        )
        lines.append(f"  {ids('tg', name)}[{text}]")

    for route in routes:
        if route["listener"] not in listeners:
            continue
        src = ids("listener", route["listener"])
        if route["kind"] == "rule":
            rid = ids("rule", route["rule"])
            text = label(f"rule {route['priority']}", *route["conditions"])
            lines.append(f"  {rid}[{text}]")
            edges.append(f"  {src} --> {rid}")
            src = rid
            edge_text = route["action"] if route["action"] != "forward" else ""
        else:
            edge_text = "default" if route["action"] == "forward" else f"default: {route['action']}"
        arrow = f"-->|{label(edge_text)}|" if edge_text else "-->"
        if route["target_groups"]:
            for tg in route["target_groups"]:
                edges.append(f"  {src} {arrow} {ids('tg', tg)}")
        elif route["action"].startswith("redirect"):
            # Point a redirect at the listener it reaches, when the stack has one.
            lb = listeners[route["listener"]]["load_balancer"]
            target = next(
                (
                    n
                    for n, other in listeners.items()
                    if n != route["listener"] and other["load_balancer"] == lb and str(other["port"]) in route["action"]
                ),
                None,
            )
            if target:
                edges.append(f"  {src} {arrow} {ids('listener', target)}")

    # Fleets and their spread over AZs ---------------------------------------------------
    nat_az, served = nat_egress(tf)
    az_members: dict[str, list[str]] = {}
    az_known: dict[str, bool] = {}
    groups = [
        (fname, g)
        for fname, fleet in report["fleets"].items()
        for g in (fleet.get("groups") or {fleet["autoscaling_group"]: fleet}).values()
    ]
    for fname, fleet in groups:
        key = fleet["autoscaling_group"]
        asg = tf.resources("aws_autoscaling_group").get(key, {})
        shown = asg.get("name") if is_literal(asg.get("name")) else key
        types = fleet["instance_types"]
        type_line = ", ".join(types[:4]) + (f" +{len(types) - 4} more" if len(types) > 4 else "")
        if fleet.get("spot_pools_estimated"):
            found = len(fleet["spot_pool_instance_types"]) - len(types)
            type_line = ", ".join(filter(None, [type_line, f"attribute-based (~{found} types)"]))
        spot = ""
        if fleet["spot_pools"]:
            spot = (
                f"on-demand base {fleet['on_demand_base_capacity']}, "
                f"{fleet['on_demand_percentage_above_base_capacity']}% on-demand above, rest spot"
            )
        warm = fleet["warm_pool"]
        text = label(
            f"fleet {fname}: ASG {shown}",
            f"min {fleet['min_size']} / desired {fleet['desired_capacity']} / max {fleet['max_size']}",
            type_line,
            spot,
            f"warm pool {warm['pool_state']}" if warm else "",
        )
        lines.append(f"  {ids('asg', key)}[{text}]")
        for tg in fleet["target_groups"]:
            edges.append(f"  {ids('tg', tg)} --> {ids('asg', key)}")
        # A fleet with a spot group next to its main group: name the group.
        who = shown if len(report["fleets"][fname].get("groups") or {}) > 1 else fname
        for az, count in fleet["instances_per_availability_zone"].items():
            slice_id = ids("slice", f"{key}__{az}")
            text = label(f"{who}: {count} instance" + ("s" if count != 1 else ""))
            az_members.setdefault(az, []).append(f"    {slice_id}[{text}]")
            edges.append(f"  {ids('asg', key)} --> {slice_id}")
            for nat, azs in served.items():
                if az in azs:
                    edges.append(f"  {slice_id} -.->|{label('egress')}| {ids('nat', nat)}")
    for fleet in report["fleets"].values():
        for az in fleet["availability_zones"]:
            az_known.setdefault(az, not az.startswith(("subnet-", "aws_subnet.", "data.aws_subnet.")))
    for nat, az in nat_az.items():
        text = label(f"NAT gateway {nat}")
        az_members.setdefault(az, []).append(f"    {ids('nat', nat)}[({text})]")
        az_known.setdefault(az, True)
    for az in sorted(az_members):
        title = az if az_known.get(az, True) else f"{az} (AZ known at plan time)"
        lines.append(f"  subgraph {ids('az', az)}[{label(title)}]")
        lines.extend(sorted(az_members[az]))
        lines.append("  end")
    return "\n".join(lines + edges) + "\n"


_NODE = re.compile(r"^\s*([A-Za-z0-9_]+)(\(\[|\{\{|\[)(.*?)(\]\)|\}\}|\])\s*$")
_EDGE = re.compile(r"^\s*([A-Za-z0-9_]+) -->(?:\|(.*?)\|)? ([A-Za-z0-9_]+)\s*$")
_SUBGRAPH = re.compile(r'^\s*subgraph ([A-Za-z0-9_]+)\["(.*)"\]\s*$')


def _plain(text: str) -> str:
    text = text.strip()
    if text.startswith('("') and text.endswith('")'):  # a node shape's parentheses
        text = text[1:-1]
    text = text.strip('"').replace("<br/>", ", ")
    for char, code in reversed(_ESCAPES.items()):  # back from the entity codes, "#" last
        text = text.replace(code, char)
    return text


def text_topology(source: str) -> str:
    """The diagram of :func:`mermaid` source ``source`` as text, for places that show
    text only (an Atlantis plan comment): each node once with its whole label, the edges
    between them by short label (``from --label--> to``), then each subgraph (AZ) with
    the instances it holds. Returns text ending with a newline."""
    labels: dict[str, str] = {}
    order: list[str] = []
    edges: list[tuple[str, str | None, str]] = []
    groups: list[tuple[str, list[str]]] = []
    members: set[str] = set()
    for line in source.splitlines():
        if m := _SUBGRAPH.match(line):
            labels[m.group(1)] = _plain(m.group(2))
            groups.append((m.group(1), []))
        elif m := _NODE.match(line):
            labels[m.group(1)] = _plain(m.group(3))
            if groups and line.startswith("    "):
                groups[-1][1].append(m.group(1))
                members.add(m.group(1))
            else:
                order.append(m.group(1))
        elif m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3)))

    def short(node: str) -> str:
        return labels.get(node, node).split(", ")[0]

    out = [f"  {labels[n]}" for n in order]
    out += [
        "  " + short(a) + (f" --{_plain(t)}--> " if t else " --> ") + short(b) for a, t, b in edges if b not in members
    ]
    out += [f"  [{labels[g]}] " + "; ".join(labels[m] for m in ms) for g, ms in groups]
    return "\n".join(out) + "\n"
