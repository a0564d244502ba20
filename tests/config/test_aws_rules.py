"""The catalogue of AWS rules (stacks/aws_rules.py, docs/aws-rules.md) is tied to the
code and the tests: every rule is checked where the code says (``# aws-rule: <id>``)
and tested (a bad-config case, an emulator plan test, or a test naming it), and every
check in the code is in the catalogue. docs/aws-rules.md being current is checked with
the other generated documents (test_config.py)."""

from __future__ import annotations

import re

from helpers import ROOT

from stacks.aws_rules import RULES

MARKER = re.compile(r"# aws-rule: ([a-z0-9-]+)")
TESTED = re.compile(r"rule: ([a-z0-9-]+)")


def _texts(folder: str, pattern: str) -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(errors="replace") for p in sorted((ROOT / folder).rglob(pattern))}


def test_the_catalogue_lists_18_or_more_rules_each_once():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) and len(ids) >= 18
    assert all(r.source and r.what for r in RULES)


def test_every_rule_is_marked_where_the_code_checks_it_and_every_mark_is_catalogued():
    marked = {m for text in _texts("stacks", "*.py").values() for m in MARKER.findall(text)}
    assert marked == {r.id for r in RULES}


def test_every_rule_is_tested_where_it_is_checked():
    corpus = _texts("tests/bad_configs", "*.yaml")
    corpus_rules = {m for text in corpus.values() for m in re.findall(r"^# rule: ([a-z0-9-]+)$", text, re.M)}
    plan_tests = "\n".join(_texts("tests/e2e", "*.py").values())
    tests = "\n".join(_texts("tests", "test_*.py").values())
    for rule in RULES:
        if rule.where == "synth":
            assert rule.id in corpus_rules, f"{rule.id}: no tests/bad_configs case says '# rule: {rule.id}'"
        elif rule.where == "plan":
            assert f"rule: {rule.id}" in plan_tests, f"{rule.id}: no emulator test in tests/e2e names it"
        else:
            assert f"rule: {rule.id}" in tests, f"{rule.id}: no test names it"
