"""Classifying a measured change (tests/change_effects.py) and saying it in words:
:class:`Effect`, :func:`classify` (from a plan's resource changes) and :func:`render`
(docs/change-effects.md from the entries of docs/change-effects.json)."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC_JSON = ROOT / "docs" / "change-effects.json"
DOC_MD = ROOT / "docs" / "change-effects.md"

#: What serves requests: replacing one of these by deleting it first is an outage.
SERVING_TYPES = ("aws_autoscaling_group", "aws_lb", "aws_lb_listener", "aws_lb_target_group")

#: Effect classes, worst first.
CLASSES = (
    "not measured",
    "refused at synth",
    "refused at plan",
    "replace (destroy first)",
    "replace (create first)",
    "removes",
    "rolls instances",
    "in place",
    "state location",
    "new deployment",
    "no change",
)

NAMES = {
    "aws_lb": "load balancer",
    "aws_lb_listener": "listener",
    "aws_lb_listener_rule": "listener rule",
    "aws_lb_target_group": "target group",
    "aws_autoscaling_group": "Auto Scaling group",
    "aws_autoscaling_policy": "scaling policy",
    "aws_autoscaling_schedule": "scheduled action",
    "aws_autoscaling_lifecycle_hook": "lifecycle hook",
    "aws_launch_template": "launch template",
    "aws_cloudwatch_metric_alarm": "alarm",
    "aws_cloudwatch_log_group": "log group",
    "aws_security_group": "security group",
    "aws_vpc_security_group_ingress_rule": "security group rule",
    "aws_vpc_security_group_egress_rule": "security group rule",
    "aws_iam_role": "IAM role",
    "aws_iam_role_policy": "IAM role policy",
    "aws_iam_role_policy_attachment": "role policy attachment",
    "aws_iam_instance_profile": "instance profile",
    "terraform_data": "user data text",
    "aws_wafv2_web_acl": "web ACL",
    "aws_wafv2_web_acl_association": "web ACL association",
    "aws_wafv2_web_acl_logging_configuration": "web ACL logging",
    "aws_sns_topic": "alarm topic",
    "aws_sns_topic_policy": "alarm topic policy",
    "aws_kms_key": "KMS key",
    "aws_vpc": "VPC",
    "aws_subnet": "subnet",
    "aws_route_table": "route table",
    "aws_route": "route",
    "aws_route_table_association": "route table association",
    "aws_internet_gateway": "internet gateway",
    "aws_nat_gateway": "NAT gateway",
    "aws_eip": "Elastic IP",
    "aws_flow_log": "flow log",
    "aws_default_security_group": "default security group",
    "aws_s3_bucket": "log bucket",
    "aws_s3_bucket_policy": "log bucket policy",
    "aws_s3_bucket_lifecycle_configuration": "log bucket lifecycle",
    "aws_s3_bucket_ownership_controls": "log bucket ownership",
    "aws_s3_bucket_public_access_block": "log bucket public access block",
    "aws_s3_bucket_server_side_encryption_configuration": "log bucket encryption",
    "aws_s3_bucket_versioning": "log bucket versioning",
}

#: The order resource kinds are named in, what serves first.
_ORDER = list(dict.fromkeys(NAMES.values()))


@dataclass
class Effect:
    """What changing ``key`` on ``example`` (fleet ``fleet``) did: the ``change`` tried,
    its class (``effect``, one of :data:`CLASSES`), a sentence (``summary``) and each
    resource's planned action (``resources``, address -> action)."""

    key: str
    example: str
    fleet: str | None
    change: str
    effect: str
    summary: str
    resources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.change, self.summary = stable(self.change), stable(self.summary)

    def entry(self) -> dict[str, Any]:
        """The JSON form written to docs/change-effects.json."""
        return {
            "key": self.key,
            "example": self.example,
            "fleet": self.fleet,
            "change": self.change,
            "effect": self.effect,
            "summary": self.summary,
            "resources": dict(sorted(self.resources.items())),
        }

    def destroys_serving_first(self) -> bool:
        """The gate: a serving resource replaced by deleting it first."""
        return any(
            action == "replace (destroy first)" and address.split(".")[0] in SERVING_TYPES
            for address, action in self.resources.items()
        )


#: IDs the emulator makes up afresh in every run, and name_prefix suffixes.
_VOLATILE = (
    (re.compile(r"\b(ami|vpc|subnet|sg|lt|igw|nat|eipalloc|rtb)-[0-9a-f]{8,17}\b"), r"\1-..."),
    (re.compile(r"certificate/[0-9a-f-]{36}"), "certificate/..."),
    (re.compile(r"\d{20,}"), "..."),
)


def stable(text: str) -> str:
    """``text`` without what differs between runs (emulator IDs), so the document only
    changes when an effect does."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def action_of(actions: list[str]) -> str | None:
    """Terraform's action list as a word (None for no-op and reads)."""
    return {
        ("update",): "update",
        ("create",): "create",
        ("delete",): "delete",
        ("create", "delete"): "replace (create first)",
        ("delete", "create"): "replace (destroy first)",
    }.get(tuple(actions))


#: Launch template arguments whose change makes no new template version.
_NO_VERSION = {"tags", "tags_all", "description", "update_default_version"}


def _ignored_changes(stack: dict, base_stack: dict | None) -> list[str]:
    """The attributes the variant changed in resources that ignore changes to them
    (``lifecycle.ignore_changes``); empty when it changed anything else."""
    if base_stack is None:
        return []
    found: list[str] = []
    base_resources = base_stack.get("resource", {})
    for rtype, items in stack.get("resource", {}).items():
        for name, body in items.items():
            old = base_resources.get(rtype, {}).get(name)
            if old is None or old == body:
                continue
            ignored = set((body.get("lifecycle") or {}).get("ignore_changes") or [])
            changed = {k for k in set(body) | set(old) if body.get(k) != old.get(k)}
            if not changed <= ignored:
                return []
            found += sorted(changed - set(found))
    return found


def _groups_of(template: str, stack: dict) -> list[str]:
    """Addresses of the groups in ``stack`` that launch from the template at address
    ``template`` (directly or in their mixed instances policy)."""
    ref = "${" + template + ".id}"
    return [
        f"aws_autoscaling_group.{name}"
        for name, group in stack.get("resource", {}).get("aws_autoscaling_group", {}).items()
        if ref in json.dumps(group)
    ]


def _plural(name: str) -> str:
    return name[:-1] + "ies" if name.endswith("y") and not name.endswith("ey") else name + "s"


def _rank(name: str) -> int:
    return _ORDER.index(name) if name in _ORDER else len(_ORDER)


def _refresh_words(change: dict, template: bool) -> tuple[bool, str]:
    """Whether the group's update replaces instances, and how, in words: ``template``
    when its launch template gets a new version, else its mixed instances policy
    changed (the provider starts an instance refresh for either, when the group has
    one)."""
    after = change.get("after") or {}
    refresh = (after.get("instance_refresh") or [None])[0]
    if not refresh:
        if template:
            return False, "new instances use the new launch template version; running ones keep theirs until replaced"
        return False, "new launches follow the new policy; running instances stay"
    prefs = (refresh.get("preferences") or [{}])[0]
    low, high = prefs.get("min_healthy_percentage", 90), prefs.get("max_healthy_percentage", 100)
    how = f"launching up to {high - 100} % extra first" if high > 100 else "terminating then replacing in batches"
    if template:
        return (
            True,
            f"rolls every instance onto a new launch template version (instance refresh, {how}, {low} % kept healthy)",
        )
    if prefs.get("skip_matching"):
        return True, (
            "starts an instance refresh: instances on the current template version and a listed instance type are "
            f"skipped, the others replaced ({how}, {low} % kept healthy)"
        )
    return True, f"replaces every instance (instance refresh, {how}, {low} % kept healthy)"


def plan_changes(shown: dict) -> dict[str, dict]:
    """Every managed resource change of ``terraform show -json <plan>`` output, by
    address: ``type``, ``actions``, ``after``, ``after_unknown`` and ``reason``."""
    return {
        rc["address"]: {
            "type": rc["type"],
            "actions": rc["change"]["actions"],
            "after": rc["change"].get("after"),
            "after_unknown": rc["change"].get("after_unknown"),
            "reason": rc.get("action_reason"),
        }
        for rc in shown.get("resource_changes", [])
        if rc.get("mode") == "managed"
    }


def classify(
    key: str,
    example: str,
    fleet: str | None,
    change: str,
    status: str,
    changes: dict[str, dict],
    baseline: dict[str, dict],
    stack: dict,
    base_stack: dict | None = None,
) -> Effect:
    """The :class:`Effect` of a variant's plan: ``status`` ``refused`` (``changes``
    holds the message) or ``planned``; ``changes`` and ``baseline`` map addresses to
    ``{type, actions, after, after_unknown}`` for the variant and for the unchanged
    example against the same state, whose changes are not the variant's; ``stack`` and
    ``base_stack`` are the variant's and the example's synthesized stacks."""
    if status == "refused":
        return Effect(key, example, fleet, change, "refused at plan", changes["message"], {})
    caused: dict[str, str] = {}
    new_versions: list[str] = []
    for address, ch in sorted(changes.items()):
        base = baseline.get(address)
        same = base is not None and all(ch.get(k) == base.get(k) for k in ("actions", "after", "after_unknown"))
        action = action_of(ch["actions"])
        if same or action is None:
            continue
        caused[address] = action
        if ch["type"] == "aws_launch_template" and action == "update":
            before = (base or {}).get("after") or {}
            after = ch.get("after") or {}
            if {k for k in set(before) | set(after) if before.get(k) != after.get(k)} - _NO_VERSION:
                new_versions.append(address)
    # A new template version reaches a group through its version argument, which the
    # emulator's own drift may already have made unknown in the baseline: the groups
    # that launch from a template the variant changes are the variant's.
    refreshed: dict[str, bool] = {g: True for t in new_versions for g in _groups_of(t, stack) if g in changes}
    for address, action in caused.items():
        ch, base = changes[address], baseline.get(address) or {}
        if ch["type"] == "aws_autoscaling_group" and action == "update" and address not in refreshed:
            policy = (ch.get("after") or {}).get("mixed_instances_policy")
            if policy and policy != (base.get("after") or {}).get("mixed_instances_policy"):
                refreshed[address] = False
    rolls, words = False, []
    for group, template in refreshed.items():
        caused.setdefault(group, "update")
        replaces, text = _refresh_words(changes[group], template)
        rolls |= replaces
        words.append(text)
    if not caused:
        ignored = _ignored_changes(stack, base_stack)
        if ignored:
            return Effect(
                key,
                example,
                fleet,
                change,
                "no change",
                f"the running group keeps its {' and '.join(ignored)}: scaling owns it (ignore_changes), so the value "
                "counts when the group is created",
                {},
            )
        return Effect(key, example, fleet, change, "no change", "the plan changes nothing on the running stack", {})
    by_action: dict[str, Counter[str]] = {}
    for address, action in caused.items():
        by_action.setdefault(action, Counter())[NAMES.get(address.split(".")[0], address.split(".")[0])] += 1
    order = ["replace (destroy first)", "replace (create first)", "delete", "create", "update"]
    verbs = {
        "replace (destroy first)": "replaces, deleting first,",
        "replace (create first)": "replaces, creating the new one first,",
        "delete": "removes",
        "create": "adds",
        "update": "updates in place",
    }
    parts = list(dict.fromkeys(words))
    for action in order:
        if action in by_action:
            kinds = sorted(by_action[action].items(), key=lambda kv: (_rank(kv[0]), kv[0]))
            named = [f"{n} {_plural(name)}" if n > 1 else name for name, n in kinds[:6]]
            rest = sum(n for _, n in kinds[6:])
            parts.append(f"{verbs[action]} {', '.join(named)}" + (f" and {rest} more" if rest else ""))
    summary = "; ".join(parts)
    actions = set(caused.values())
    if "replace (destroy first)" in actions:
        effect = "replace (destroy first)"
    elif "replace (create first)" in actions:
        effect = "replace (create first)"
    elif "delete" in actions:
        effect = "removes"
    elif rolls:
        effect = "rolls instances"
    else:
        effect = "in place"
    return Effect(key, example, fleet, change, effect, summary, caused)


_INTRO = """\
# What each config key does to a running fleet

Generated by `make change-effects` (tests/change_effects.py) from measurements on the
local AWS emulator; do not edit: `make test` re-measures a subset and fails when this
document is stale for it. For each key, one example that sets it (or could) was
deployed, the key alone changed to another valid value (or its section added or
removed), synthesized and planned against the deployed state (`terraform plan
-refresh=false`); only what the plan changes beyond the unchanged example's own plan
counts. Read the entry for a key before approving a plan that changes it.

Effects, worst first: **refused at synth** (no valid value differs in this key alone),
**refused at plan** (a precondition stops the plan before anything changes, see the
safe steps below), **replace (destroy first)** (an outage for what serves; the gate
forbids it for Auto Scaling groups, load balancers, listeners and target groups),
**replace (create first)**, **removes** (resources go because the change removes what
needs them), **rolls instances** (a new launch template version and an instance refresh),
**in place**, **state location** (only the backend block: `terraform init
-migrate-state`), **new deployment** (where the environment lives), **no change**.
"""

_SAFE_STEPS = """\
## Refused changes and their safe steps

- **`load_balancer.internal` on a deployed stack.** AWS cannot change a load balancer's
  scheme, and the name is fixed, so Terraform would delete the load balancer (its
  listeners, rules and the DNS name clients use) before creating the new one. Deploy a
  second environment with another `name` and the new scheme, move clients to its DNS
  name, then destroy the old environment.
- **`warm_pool` replaced by `mixed_instances_policy` in one apply.** The provider sends
  the policy before it deletes the pool, which AWS refuses
  (hashicorp/terraform-provider-aws#42437). First remove `warm_pool` and apply (the pool's
  stopped instances go, the group serves on), then add `mixed_instances_policy` and apply.
- **`warm_pool.min_size` lowered to 0.** The provider never sends 0
  (hashicorp/terraform-provider-aws#44732): the pool would keep its minimum and every plan
  would show the change again. Remove `warm_pool` and apply, then add it back with
  `min_size: 0` and apply.
- **`terraform destroy` (or any replacement of the load balancer) with deletion
  protection on.** `prevent_destroy` stops the plan: AWS would refuse to delete the load
  balancer only after its listeners and rules were gone. Set
  `load_balancer.enable_deletion_protection: false`, apply, then destroy.
- **A group that is tainted** (its create failed, for example while waiting for GPU
  capacity). Groups are `create_before_destroy` with fixed names, so the replacement
  fails at its create step (AWS: `AlreadyExists`) before the serving group is deleted.
  Check the group in the console, then `terraform untaint
  aws_autoscaling_group.fleet-<name>_autoscaling_group` to keep it.
"""


def render(entries: list[dict[str, Any]], seconds: float | None = None) -> str:
    """``docs/change-effects.md`` from the entries of docs/change-effects.json: counts
    by effect, the safe steps of refused changes, one table row per measurement."""
    keys: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        keys.setdefault(e["key"], []).append(e)
    worst = Counter(min((e["effect"] for e in es), key=CLASSES.index) for es in keys.values())
    counts = ", ".join(f"{worst[c]} {c}" for c in CLASSES if worst[c])
    lines = [_INTRO, f"{len(keys)} keys, by the worst effect measured for each: {counts}."]
    if seconds is not None:
        lines.append(
            f"The full run (`make change-effects`) took {seconds / 60:.0f} minutes on the development machine."
        )
    lines += ["", _SAFE_STEPS]
    section = None
    for key, es in keys.items():
        top = key.split(".")[0] if "." in key else "top level"
        if key.startswith("fleets.<name>."):
            top = "fleets.<name>." + key.split(".")[2]
        if top != section:
            section = top
            lines += ["", f"## `{section}`" if section != "top level" else "## Top level", ""]
            lines += ["| key | example | change | effect | what happens |", "|---|---|---|---|---|"]
        for e in es:
            where = e["example"] + (f" ({e['fleet']})" if e["fleet"] else "")
            cells = [f"`{key}`", where, e["change"], f"**{e['effect']}**", e["summary"]]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines).rstrip("\n") + "\n"


def load() -> list[dict[str, Any]]:
    """The committed entries (docs/change-effects.json)."""
    return list(json.loads(DOC_JSON.read_text())["effects"])
