"""Read a synthesized Terraform JSON stack (``cdk.tf.json``) without Terraform.

Resources are found by TYPE and linked by the references Terraform itself follows
(``"${aws_lb_target_group.X.arn}"``), never by their names, so stacks with several
fleets, renamed constructs or hand-written JSON are read the same way.

Values that Terraform only knows at plan time (``"${data.aws_subnet.x.availability_zone}"``,
``"${var.n}"``) are reported as unknown rather than guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: ``${data.aws_subnet.x.id}`` / ``${aws_lb_target_group.chat.arn}``: mode, type, name, attribute.
_REF = re.compile(r"\$\{(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_]+))?")


@dataclass(frozen=True, order=True)
class Ref:
    """One reference found in a value: ``data`` is True for a data source."""

    data: bool
    type: str
    name: str
    attr: str


def refs(value: Any) -> Iterator[Ref]:
    """Yield every resource or data-source reference inside ``value`` (any nesting)."""
    if isinstance(value, str):
        for m in _REF.finditer(value):
            yield Ref(bool(m.group(1)), m.group(2), m.group(3), m.group(4) or "")
    elif isinstance(value, dict):
        for v in value.values():
            yield from refs(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from refs(v)


def ref_to(value: Any, rtype: str, *, data: bool = False) -> str | None:
    """Name of the first ``rtype`` resource (or data source) ``value`` refers to, or None."""
    for r in refs(value):
        if r.type == rtype and r.data == data:
            return r.name
    return None


def is_literal(value: Any) -> bool:
    """True when ``value`` is known at synth (not an interpolation)."""
    return value is not None and not (isinstance(value, str) and "${" in value)


def blocks(value: Any) -> list[dict]:
    """A nested block as a list of dicts: Terraform JSON allows one object or a list."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)]


def block(value: Any) -> dict:
    """The first (only) nested block, or an empty dict."""
    found = blocks(value)
    return found[0] if found else {}


def number(value: Any) -> float | None:
    """A literal number (Terraform JSON may write numbers as strings), or None when the
    value is absent or only known at plan time."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and is_literal(value):
        try:
            f = float(value)
        except ValueError:
            return None
        return int(f) if f.is_integer() else f
    return None


def boolean(value: Any) -> bool | None:
    """A literal boolean (``true``, ``"true"``), or None when absent or unknown."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def ceil_div(a: float, b: float) -> int:
    """Ceiling of a / b for non-negative numbers (b > 0)."""
    return math.ceil(a / b - 1e-9)


class TerraformDoc:
    """One parsed ``cdk.tf.json``: typed access to resources and data sources.

    ``doc`` is the parsed JSON object. Iteration orders are sorted by name, so every
    result built from it is deterministic.
    """

    def __init__(self, doc: dict):
        if not isinstance(doc, dict):
            raise ValueError("a Terraform JSON document must be an object")
        self.doc = doc

    def resources(self, rtype: str) -> dict[str, dict]:
        """Resources of ``rtype`` by name, sorted by name."""
        found = (self.doc.get("resource") or {}).get(rtype) or {}
        return {k: found[k] for k in sorted(found) if isinstance(found[k], dict)}

    def data(self, dtype: str) -> dict[str, dict]:
        """Data sources of ``dtype`` by name, sorted by name."""
        found = (self.doc.get("data") or {}).get(dtype) or {}
        return {k: found[k] for k in sorted(found) if isinstance(found[k], dict)}

    def resource(self, rtype: str, name: str | None) -> dict | None:
        """One resource by type and name, or None."""
        if name is None:
            return None
        return self.resources(rtype).get(name)

    # Subnets and Availability Zones -----------------------------------------------------
    def subnet_az(self, value: Any) -> tuple[str, bool]:
        """Availability Zone of one subnet entry (a reference or a literal subnet ID).

        Returns ``(key, known)``: the AZ name and True when the stack states it; else a
        key naming the subnet (one AZ per distinct subnet is then assumed) and False.
        """
        name = ref_to(value, "aws_subnet")
        if name is not None:
            subnet = self.resource("aws_subnet", name) or {}
            az = subnet.get("availability_zone")
            if is_literal(az) and isinstance(az, str):
                return az, True
            az_id = subnet.get("availability_zone_id")
            if is_literal(az_id) and isinstance(az_id, str):
                return az_id, True
            return f"aws_subnet.{name}", False
        name = ref_to(value, "aws_subnet", data=True)
        if name is not None:
            ds = self.data("aws_subnet").get(name) or {}
            for key in ("availability_zone", "availability_zone_id"):
                if is_literal(ds.get(key)) and isinstance(ds.get(key), str):
                    return ds[key], True
            sid = ds.get("id")
            return (sid if is_literal(sid) and isinstance(sid, str) else f"data.aws_subnet.{name}"), False
        return str(value), False

    def subnets_azs(self, values: Any) -> list[tuple[str, bool]]:
        """Distinct ``(key, known)`` AZ slots of a list of subnet entries, in first-seen
        order (see :meth:`subnet_az`)."""
        if isinstance(values, str):
            values = [values]
        seen: dict[str, bool] = {}
        for v in values or []:
            key, known = self.subnet_az(v)
            seen.setdefault(key, known)
        return list(seen.items())
