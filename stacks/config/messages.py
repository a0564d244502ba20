"""Turning what is wrong with a document into :class:`Problem` lines a person can act on.

- :func:`pydantic_problems`: pydantic's validation errors, one message per field, with
  the field's description as the hint for a value that does not match its pattern,
  never echoing a value typed into a field meant for secret references;
- :func:`secret_values`: secret-looking strings anywhere in the document (keys too),
  and tags named like secrets with literal values; :func:`redacted` removes them from
  every message.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..secrets import SECRET_WORDS, find_tokens, is_reference, redact, shown
from .backend import BACKEND_TYPES
from .environment import EnvironmentConfig
from .errors import Problem

SECRET_HELP = (
    "the config accepts no secret values, only references (a Secrets Manager ARN or an SSM "
    "parameter name in launch_template.secret_references); remove it, and rotate the "
    "credential if this file was ever shared"
)


def _loc(parts: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in parts)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _description(loc: tuple[Any, ...]) -> str:
    """Description of the field at ``loc`` (skipping list indices and dict keys)."""
    models: list[type[BaseModel]] = [EnvironmentConfig]
    description = ""
    for part in loc:
        field = next((m.model_fields[part] for m in models if isinstance(part, str) and part in m.model_fields), None)
        if field is None:
            continue
        description = field.description or ""
        if not description:
            for meta in get_args(field.annotation)[1:] if get_origin(field.annotation) is Annotated else []:
                description = getattr(meta, "description", None) or description
        models = _models_in(field.annotation) or models
    return description


def _yaml_kind(value: Any) -> str:
    """How YAML typed ``value``, for messages: 'a list', 'a boolean', 'nothing (null)'..."""
    if value is None:
        return "nothing (null or an empty value)"
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return kinds.get(type(value), "a date" if hasattr(value, "isoformat") else type(value).__name__)


def _pydantic_message(err: Any) -> str:
    msg: str = err["msg"]
    if err["type"] == "extra_forbidden":
        last = err["loc"][-1] if err["loc"] else ""
        if isinstance(last, str) and SECRET_WORDS.search(last):
            return f"unknown key; {SECRET_HELP}"
        return "unknown key (check the spelling; see config/schema.json for allowed keys)"
    if err["type"] == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    # Never echo what was typed into a field meant for secret references: a value that
    # is not a reference may well be the secret itself.
    secretish = any(isinstance(p, str) and SECRET_WORDS.search(p) for p in err["loc"])
    value = "the value (not shown)" if secretish else shown(err["input"])
    if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of keys to values (a section), got {_yaml_kind(err['input'])}"
    if err["type"] == "list_type":
        return f"must be a list (- item lines or [a, b]), got {_yaml_kind(err['input'])}"
    if err["input"] is None and err["type"].endswith("_type"):
        return f"{msg}, got nothing (null or an empty value in YAML)"
    if err["type"] == "string_pattern_mismatch":
        hint = _description(err["loc"])
        pattern = err.get("ctx", {}).get("pattern", "")
        return f"{value} is not allowed: {hint or 'must match'} (pattern {pattern})"
    if err["type"] == "backend_type":
        given = err["input"].get("type") if isinstance(err["input"], dict) else err["input"]
        if not isinstance(err["input"], dict):
            return f"must be a mapping with a 'type' key ({', '.join(BACKEND_TYPES)}), got {given!r}"
        return f"{given!r} is not allowed: {msg}"
    if err["type"] == "string_type" and isinstance(err["input"], (dict, list)):
        return f"{msg}, got {_yaml_kind(err['input'])}"
    if err["type"] == "string_type" and err["input"] is not None:
        kind = {bool: "a boolean", int: "a number", float: "a number"}.get(type(err["input"]), "a date")
        raw = err["input"]
        as_yaml = str(raw).lower() if isinstance(raw, bool) else getattr(raw, "isoformat", lambda: value)()
        return (
            f"{msg}; YAML read {as_yaml} as {kind} (unquoted yes/no/on/off, "
            "numbers and dates are not strings): put the value in quotes"
        )
    if err["type"] in ("literal_error", "enum"):
        return f"{value} is not allowed: {msg}"
    return msg


#: Union branch labels pydantic puts into error locations (``str``, ``InstanceOverride``,
#: ``function-after[...]``); they are not keys of the document.
_UNION_LABELS = ("str", "InstanceOverride", "function-after")


def pydantic_problems(exc: ValidationError, file: str) -> list[Problem]:
    """One :class:`Problem` per field pydantic rejected, in pydantic's order, without
    duplicates (union branches report one field several times)."""
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(_UNION_LABELS)))
        if loc[:1] == ("backend",) and len(loc) > 1 and loc[1] in BACKEND_TYPES:
            loc = loc[:1] + loc[2:]  # drop the union tag: backend.s3.bucket -> backend.bucket
        problems.append(Problem(file, _loc(loc), _pydantic_message(err)))
    return list(dict.fromkeys(problems))


def secret_values(data: Any, file: str) -> tuple[list[Problem], list[str]]:
    """Find secret-looking strings anywhere in a parsed YAML document.

    Returns one :class:`Problem` per value (or key) that matches a well-known credential
    format, plus one per tag whose key names a secret (``db_password``) while its value
    is a literal rather than a reference; and the offending strings, so messages can
    redact them.
    """
    problems: list[Problem] = []
    secrets: list[str] = []
    visited: set[int] = set()

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        # YAML aliases make one object appear many times; visiting it once keeps this
        # linear in the file size ("billion laughs" documents).
        if isinstance(node, (dict, list)):
            if id(node) in visited:
                return
            visited.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and find_tokens(key):
                    secrets.append(key)
                    problems.append(
                        Problem(
                            file, _loc(path), f"a key looks like a secret ({find_tokens(key)[0].kind}): {SECRET_HELP}"
                        )
                    )
                    key = "<redacted>"
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, (*path, i))
        elif isinstance(node, str):
            found = find_tokens(node)
            if found:
                secrets.append(node)
                secrets.extend(f.secret for f in found)
                problems.append(Problem(file, _loc(path), f"looks like a secret ({found[0].kind}): {SECRET_HELP}"))

    walk(data, ())
    tags = data.get("tags") if isinstance(data, dict) else None
    if isinstance(tags, dict):
        for key, value in tags.items():
            if (
                isinstance(key, str)
                and isinstance(value, str)
                and SECRET_WORDS.search(key)
                and value
                and not is_reference(value)
                and not find_tokens(value)
            ):
                secrets.append(value)
                problems.append(
                    Problem(
                        file,
                        f"tags.{key}",
                        "the tag name suggests a secret value; tags are readable by anyone who "
                        f"can describe the resources: {SECRET_HELP}",
                    )
                )
    return problems, secrets


def redacted(problems: list[Problem], secrets: list[str]) -> list[Problem]:
    """``problems`` with every secret string removed from fields and messages."""
    return [Problem(p.file, redact(p.field, secrets), redact(p.message, secrets)) for p in problems]
