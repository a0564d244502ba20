"""Target groups, listeners and listener rules of a synthesized stack, read from its
Terraform JSON: each target group's health check, drain and slow start settings (AWS
defaults filled in), and which listener or rule forwards to which target groups, with
their weights when a weighted ``forward`` block shares the route (docs/canary.md)."""

from __future__ import annotations

from typing import Any

from .terraform import TerraformDoc, block, blocks, boolean, is_literal, number, ref_to

#: AWS / hashicorp/aws defaults used when the JSON leaves a value out.
TARGET_GROUP_DEFAULTS = {
    "interval": 30,  # ELB API default for instance targets
    "healthy_threshold": 3,  # hashicorp/aws provider default
    "unhealthy_threshold": 3,  # hashicorp/aws provider default
    "deregistration_delay": 300,  # ELB default
    "slow_start": 0,  # ELB default (off)
}
#: ELB API default health check timeout by target group protocol.
HEALTH_CHECK_TIMEOUT_DEFAULTS = {"HTTP": 6, "HTTPS": 10}


def target_group_settings(name: str, tg: dict, notes: list[str]) -> dict:
    """Health check, drain and slow start settings of one ``aws_lb_target_group``,
    with AWS defaults filled in (each default used is appended to ``notes``)."""
    hc = block(tg.get("health_check"))
    protocol = tg.get("protocol") if is_literal(tg.get("protocol")) else "HTTP"
    out: dict[str, Any] = {
        "protocol": protocol,
        "port": number(tg.get("port")),
        "health_check_path": hc.get("path") if is_literal(hc.get("path")) else None,
        "health_check_enabled": boolean(hc.get("enabled")) is not False,
    }
    for key in ("interval", "healthy_threshold", "unhealthy_threshold"):
        value = number(hc.get(key))
        if value is None:
            value = TARGET_GROUP_DEFAULTS[key]
            notes.append(f"aws_lb_target_group.{name}: health_check.{key} not set; AWS default {value} assumed")
        out[key] = value
    timeout = number(hc.get("timeout"))
    if timeout is None:
        timeout = HEALTH_CHECK_TIMEOUT_DEFAULTS.get(str(protocol), 6)
        notes.append(f"aws_lb_target_group.{name}: health_check.timeout not set; AWS default {timeout} s assumed")
    out["timeout"] = timeout
    for key in ("deregistration_delay", "slow_start"):
        value = number(tg.get(key))
        if value is None:
            value = TARGET_GROUP_DEFAULTS[key]
            if key in tg:
                notes.append(f"aws_lb_target_group.{name}: {key} only known at plan time; AWS default {value} assumed")
        out[key] = value
    return out


def _action_target_groups(action: dict) -> list[str]:
    names = []
    direct = ref_to(action.get("target_group_arn"), "aws_lb_target_group")
    if direct:
        names.append(direct)
    for fwd in blocks(action.get("forward")):
        for tg in blocks(fwd.get("target_group")):
            name = ref_to(tg.get("arn"), "aws_lb_target_group")
            if name:
                names.append(name)
    return sorted(set(names))


#: Weight of a target group in a ``forward`` block that gives none (ELB API
#: ``TargetGroupTuple.Weight``: "The default value is 1").
DEFAULT_TARGET_GROUP_WEIGHT = 1


def _action_weights(action: dict) -> dict[str, int | None]:
    """Target group name -> weight of a weighted ``forward`` block (None: the weight is
    an expression known at plan time only); empty for a plain forward to one group."""
    weights: dict[str, int | None] = {}
    for fwd in blocks(action.get("forward")):
        for tg in blocks(fwd.get("target_group")):
            name = ref_to(tg.get("arn"), "aws_lb_target_group")
            if name:
                weight = number(tg.get("weight")) if "weight" in tg else DEFAULT_TARGET_GROUP_WEIGHT
                weights[name] = int(weight) if weight is not None else None
    return dict(sorted(weights.items()))


def _action_stickiness(action: dict) -> int | None:
    """Seconds a weighted ``forward`` block keeps a client on its target group (None:
    no stickiness, or turned off)."""
    for fwd in blocks(action.get("forward")):
        sticky = block(fwd.get("stickiness"))
        if sticky and boolean(sticky.get("enabled")) is True:
            duration = number(sticky.get("duration"))
            return int(duration) if duration is not None else None
    return None


def _describe_action(action: dict) -> str:
    kind = action.get("type", "forward")
    if kind == "redirect":
        r = block(action.get("redirect"))
        target = ":".join(str(x) for x in (r.get("protocol"), r.get("port")) if x)
        return f"redirect to {target}" if target else "redirect"
    if kind == "fixed-response":
        r = block(action.get("fixed_response"))
        return f"fixed response {r.get('status_code', '')}".strip()
    return str(kind)


def _describe_conditions(rule: dict) -> list[str]:
    out = []
    for cond in blocks(rule.get("condition")):
        for key, label in (
            ("path_pattern", "path"),
            ("host_header", "host"),
            ("http_request_method", "method"),
            ("source_ip", "source"),
        ):
            for b in blocks(cond.get(key)):
                out.append(f"{label} {', '.join(str(v) for v in b.get('values', []))}")
        for b in blocks(cond.get("http_header")):
            out.append(f"header {b.get('http_header_name')}: {', '.join(str(v) for v in b.get('values', []))}")
        for b in blocks(cond.get("query_string")):
            pairs = [f"{p.get('key', '')}={p.get('value', '')}" for p in blocks(b.get("value"))]
            out.append(f"query {', '.join(pairs)}")
    return out


def listeners_and_routes(tf: TerraformDoc) -> tuple[dict[str, dict], list[dict]]:
    """Listeners (by resource name) and every route from a listener to an action.

    A route is ``{"listener", "kind": "default"|"rule", "rule", "priority",
    "conditions", "action", "target_groups", "weights", "stickiness_seconds"}``
    (``weights``: target group -> weight for a weighted forward, else empty), sorted by
    listener then priority.
    """
    listeners: dict[str, dict] = {}
    routes: list[dict] = []
    for name, lst in tf.resources("aws_lb_listener").items():
        listeners[name] = {
            "protocol": lst.get("protocol") or "HTTP",
            "port": number(lst.get("port")),
            "load_balancer": ref_to(lst.get("load_balancer_arn"), "aws_lb"),
        }
        for action in blocks(lst.get("default_action")):
            routes.append(
                {
                    "listener": name,
                    "kind": "default",
                    "rule": None,
                    "priority": None,
                    "conditions": [],
                    "action": _describe_action(action),
                    "target_groups": _action_target_groups(action),
                    "weights": _action_weights(action),
                    "stickiness_seconds": _action_stickiness(action),
                }
            )
    for name, rule in tf.resources("aws_lb_listener_rule").items():
        listener = ref_to(rule.get("listener_arn"), "aws_lb_listener")
        for action in blocks(rule.get("action")):
            routes.append(
                {
                    "listener": listener,
                    "kind": "rule",
                    "rule": name,
                    "priority": number(rule.get("priority")),
                    "conditions": _describe_conditions(rule),
                    "action": _describe_action(action),
                    "target_groups": _action_target_groups(action),
                    "weights": _action_weights(action),
                    "stickiness_seconds": _action_stickiness(action),
                }
            )
    routes.sort(key=lambda r: (str(r["listener"]), r["kind"] != "default", r["priority"] or 0, str(r["rule"])))
    return listeners, routes


def listener_label(listener: dict) -> str:
    """``HTTPS :443`` for a listener dict from :func:`listeners_and_routes`."""
    port = listener.get("port")
    return f"{listener.get('protocol')} :{port}" if port is not None else str(listener.get("protocol"))


def route_label(route: dict, listeners: dict[str, dict]) -> str:
    """``HTTPS :443 default`` / ``HTTPS :443 rule 10 (path /v1/*)``, with the weights
    of a weighted route: ``HTTPS :443 default, weights fleet-chat-tg 90 / fleet-chatnext-tg
    10, sticky 3600 s`` (target group names without ``_target_group``)."""
    where = listener_label(listeners.get(route["listener"], {})) if route["listener"] in listeners else "listener"
    if route["kind"] == "default":
        label = f"{where} default"
    else:
        conds = "; ".join(route["conditions"])
        label = f"{where} rule {route['priority']}" + (f" ({conds})" if conds else "")
    weights = route.get("weights") or {}
    if len(weights) > 1:
        shown = " / ".join(
            f"{name.removesuffix('_target_group')} {'?' if w is None else w}" for name, w in weights.items()
        )
        label += f", weights {shown}"
        if route.get("stickiness_seconds"):
            label += f", sticky {route['stickiness_seconds']} s"
    return label
