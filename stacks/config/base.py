"""Base of every config section, and the one mechanism for rules across fields.

Validation has three passes (:func:`stacks.config.parse_config`):

1. pydantic, field by field: types, unknown keys, ranges, patterns and single-field
   validators;
2. once every field is valid, rules across fields: each section's :meth:`own_problems`
   (next to the fields it checks), collected by :meth:`StrictModel.problems` over the
   whole document, then the rules that span sections (:mod:`stacks.config.checks`);
3. the files a config points to (user data scripts, :mod:`stacks.config.loading`).

A rule returns :data:`FieldProblem` pairs whose field path is relative to the section that
found it; the caller prefixes it (:func:`under`), so a section never needs to know
where it sits in the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

#: One broken rule: the field path relative to the section that found it ("" for the
#: section itself) and the message.
FieldProblem = tuple[str, str]


def under(prefix: str, findings: Iterable[FieldProblem]) -> list[FieldProblem]:
    """``findings`` with their paths moved under ``prefix`` (a field name, dict key or
    list index of the enclosing section)."""
    return [(f"{prefix}.{path}" if path else prefix, message) for path, message in findings]


def _types_in(annotation: Any) -> set[type]:
    """The plain types an annotation admits (through Optional, unions, Annotated, lists)."""
    if isinstance(annotation, type):
        return {annotation}
    found: set[type] = set()
    for arg in get_args(annotation):
        found |= _types_in(arg)
    return found


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are immutable."""

    # allow_inf_nan: YAML's .inf and .nan are floats, but no AWS number is infinite
    # (and JSON has no Infinity).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML reads unquoted yes/no/on/off as booleans, and pydantic would take True as
        the number 1 (``port: yes`` -> port 1): a number field refuses booleans."""
        if isinstance(value, bool) and info.field_name:
            types = _types_in(cls.model_fields[info.field_name].annotation)
            if bool not in types and types & {int, float}:
                raise PydanticCustomError(
                    "bool_for_number",
                    "must be a number; YAML read {word} as a boolean (unquoted yes/no/on/off/true/false)",
                    {"word": str(value).lower()},
                )
        return value

    def own_problems(self) -> list[FieldProblem]:
        """The rules across this section's own fields that the values break, as
        :data:`FieldProblem` pairs relative to this section. Sections with such rules
        override it; the default finds nothing."""
        return []

    def problems(self) -> list[FieldProblem]:
        """Every rule across fields broken in this section and the sections nested in
        it: :meth:`own_problems` first, then each nested section's (in field order,
        through dicts and lists), paths relative to this section. Empty when consistent.
        Meaningful only for a section pydantic validated (the rules read the values)."""
        found = self.own_problems()
        for name in type(self).model_fields:
            found += under(name, _nested_problems(getattr(self, name)))
        return found


def _nested_problems(value: object) -> list[FieldProblem]:
    if isinstance(value, StrictModel):
        return value.problems()
    if isinstance(value, dict):
        return [f for key, item in value.items() for f in under(str(key), _nested_problems(item))]
    if isinstance(value, (list, tuple)):
        return [f for i, item in enumerate(value) for f in under(str(i), _nested_problems(item))]
    return []
