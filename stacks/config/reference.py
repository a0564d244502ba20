"""The config format as documents generated from the model: ``config/schema.json`` (JSON
Schema, for editors) and ``docs/configuration.md`` (every key with its type, default,
allowed values and description).

Both come from :class:`EnvironmentConfig` alone, so they cannot drift from what
validation accepts; ``make schema`` writes them and a test fails when either is stale.
The markdown walks the JSON Schema: every section (a model) gets a table, in document
order, named by its path (``fleets.<name>.target_group``).
"""

from __future__ import annotations

import json
from typing import Any

from .environment import EnvironmentConfig

SCHEMA_FILE = "config/schema.json"
REFERENCE_FILE = "docs/configuration.md"

JsonSchema = dict[str, Any]


def json_schema() -> JsonSchema:
    """JSON Schema (draft 2020-12) of :class:`EnvironmentConfig`, for editors."""
    return EnvironmentConfig.model_json_schema(mode="validation")


def schema_text() -> str:
    """:func:`json_schema` as deterministic, indented JSON text ending with a newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


_HEADER = """\
# Configuration reference

Generated from the config model (`stacks/config/`) by `make schema`; do not edit: a test
fails when this file is stale. One YAML file per environment under `config/`; keys mirror
the Terraform attribute they drive, so the hashicorp/aws provider documentation explains
each of them further. `config/schema.json` is the same format as JSON Schema, which
editors use through the `# yaml-language-server: $schema=schema.json` first line.

Besides what each key allows, rules across keys are checked at synth
([validation.md](validation.md)); derived defaults ("default: the preset's") are explained
in [serving-defaults.md](serving-defaults.md). `<name>` stands for a key you choose
(a fleet or scheduled action name); `[]` for an item of a list.
"""


class _Reference:
    """Builds the markdown from the schema's ``$defs``."""

    def __init__(self, schema: JsonSchema):
        self.defs: dict[str, JsonSchema] = schema.get("$defs", {})
        self.sections: list[str] = []

    def model(self, node: JsonSchema) -> JsonSchema | None:
        """The model schema ``node`` refers to (directly), or None."""
        ref = node.get("$ref")
        return self.defs[ref.rsplit("/", 1)[-1]] if isinstance(ref, str) else None

    def children(self, node: JsonSchema, path: str) -> list[tuple[str, JsonSchema, str]]:
        """``(path, model schema, variant note)`` of the sections inside a property."""
        model = self.model(node)
        if model is not None:
            return [(path, model, "")]
        found: list[tuple[str, JsonSchema, str]] = []
        for option in node.get("anyOf", []):
            found += self.children(option, path)
        for option in node.get("oneOf", []):
            variant = self.model(option)
            if variant is not None and self.shape_union(node):
                found.append((path, variant, ""))
            elif variant is not None:
                kind = variant["properties"].get("type", {}).get("const") or variant["properties"]["type"].get(
                    "default"
                )
                found.append((path, variant, f"with `type: {kind}`"))
        if "items" in node:
            found += self.children(node["items"], f"{path}[]")
        for value in [node.get("additionalProperties"), *node.get("patternProperties", {}).values()]:
            if isinstance(value, dict):
                found += self.children(value, f"{path}.<name>")
        return found

    def shape_union(self, node: JsonSchema) -> bool:
        """True for a ``oneOf`` chosen by the value's shape (a name or a section), not by a
        ``type`` key: it reads like an ``anyOf``."""
        return any("type" not in (self.model(o) or {"properties": {}})["properties"] for o in node.get("oneOf", []))

    def type_text(self, node: JsonSchema) -> str:
        """A short type for a property: ``integer``, ``list of string``, ``section``..."""
        if self.model(node) is not None:
            return "section"
        if "anyOf" in node or self.shape_union(node):
            every = node.get("anyOf") or node["oneOf"]
            options = [o for o in every if o.get("type") != "null"]
            text = " or ".join(dict.fromkeys(self.type_text(o) for o in options))
            return f"{text} or null" if len(options) < len(every) else text
        if "oneOf" in node:
            return "section (one of its kinds)"
        if "const" in node:
            return json.dumps(node["const"])
        if "enum" in node:
            return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in node["enum"])
        kind = node.get("type")
        if kind == "array":
            return f"list of {self.type_text(node.get('items', {}))}"
        if kind == "object":
            values: Any = node.get("additionalProperties") or next(iter(node.get("patternProperties", {}).values()), {})
            return f"map of name to {self.type_text(values)}" if isinstance(values, dict) and values else "map"
        return str(kind or "any")

    def allowed(self, node: JsonSchema) -> str:
        """Ranges, lengths, counts and patterns of a property (and of its items)."""
        parts: list[str] = []
        for option in node.get("anyOf", []) or (node["oneOf"] if self.shape_union(node) else []):
            text = self.allowed(option)
            if text:
                parts.append(text)
        low = node.get("minimum", node.get("exclusiveMinimum"))
        high = node.get("maximum", node.get("exclusiveMaximum"))
        if low is not None or high is not None:
            left = "" if low is None else (f"> {low}" if "exclusiveMinimum" in node else f">= {low}")
            right = "" if high is None else (f"< {high}" if "exclusiveMaximum" in node else f"<= {high}")
            parts.append(
                f"{low}-{high}"
                if left.startswith(">=") and right.startswith("<=")
                else " and ".join(p for p in (left, right) if p)
            )
        for short, long_, what in (
            ("minLength", "maxLength", "characters"),
            ("minItems", "maxItems", "items"),
            ("minProperties", "maxProperties", "keys"),
        ):
            if short in node or long_ in node:
                parts.append(
                    f"{node.get(short, 0)}-{node[long_]} {what}" if long_ in node else f"{node[short]} or more {what}"
                )
        if "pattern" in node:
            parts.append(f"pattern `{node['pattern']}`")
        if "items" in node:
            inner = self.allowed(node["items"])
            if inner:
                parts.append(f"each: {inner}")
        if "propertyNames" in node:
            inner = self.allowed(node["propertyNames"])
            if inner:
                parts.append(f"keys: {inner}")
        for pattern in node.get("patternProperties", {}):
            parts.append(f"keys: pattern `{pattern}`")
        return "; ".join(parts)

    def default(self, node: JsonSchema, required: bool) -> str:
        """The default as YAML would write it, ``required``, or a section's own defaults."""
        if required:
            return "required"
        if "default" not in node:
            return ""
        value = node["default"]
        if isinstance(value, dict) and value:
            return "its defaults"
        return f"`{json.dumps(value, sort_keys=True)}`"

    def section(self, path: str, model: JsonSchema, note: str = "") -> None:
        """Append the table of one section, then the sections nested in it."""
        title = f"`{path}`" if path else "Top level"
        intro = (model.get("description") or "").split("\n\n")[0].replace("\n", " ").replace("``", "`")
        rows = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
        nested: list[tuple[str, JsonSchema, str]] = []
        required = set(model.get("required", []))
        for key, node in model.get("properties", {}).items():
            description = str(node.get("description", "")).replace("\n", " ").replace("``", "`")
            cells = [
                f"`{key}`",
                self.type_text(node),
                self.default(node, key in required),
                self.allowed(node),
                description,
            ]
            rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
            nested += self.children(node, f"{path}.{key}" if path else key)
        self.sections.append("\n".join([f"## {title}{' ' + note if note else ''}", "", intro, "", *rows, ""]))
        for child_path, child, child_note in nested:
            self.section(child_path, child, child_note)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def configuration_markdown() -> str:
    """``docs/configuration.md``: a table per config section, every key with its type,
    default, allowed values and description, from :func:`json_schema`."""
    schema = json_schema()
    reference = _Reference(schema)
    reference.section("", schema)
    return _HEADER + "\n" + "\n".join(reference.sections)


def undocumented_keys() -> list[str]:
    """Paths of keys without a description (the reference must describe every key)."""
    schema = json_schema()
    reference = _Reference(schema)
    missing: list[str] = []

    def walk(path: str, model: JsonSchema) -> None:
        for key, node in model.get("properties", {}).items():
            where = f"{path}.{key}" if path else key
            if not node.get("description"):
                missing.append(where)
            for child_path, child, _ in reference.children(node, where):
                walk(child_path, child)

    walk("", schema)
    return missing


def config_keys() -> list[tuple[str, JsonSchema, bool]]:
    """Every key of the config format, as ``(path, schema node, whether the node is or
    may be a section)``, in the order of :func:`configuration_markdown` (one entry per
    row of its tables). Paths use ``<name>`` for keys you choose and ``[]`` for list
    items (``fleets.<name>.autoscaling_group.min_size``); a key of a section with
    kinds (``backend``) appears once per kind."""
    schema = json_schema()
    reference = _Reference(schema)
    keys: list[tuple[str, JsonSchema, bool]] = []

    def walk(path: str, model: JsonSchema) -> None:
        nested: list[tuple[str, JsonSchema]] = []
        for key, node in model.get("properties", {}).items():
            where = f"{path}.{key}" if path else key
            children = reference.children(node, where)
            keys.append((where, node, bool(children)))
            nested += [(child_path, child) for child_path, child, _ in children]
        for child_path, child in nested:
            walk(child_path, child)

    walk("", schema)
    return keys
