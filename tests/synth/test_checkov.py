"""Security gate: checkov (``--framework terraform_json``) on every synthesized example
stack must report zero failed checks.

Skips live only in the checked-in checkov config files at the repository root, one
line each with its reason: ``.checkov.yaml`` for production stacks and
``.checkov.non-production.yaml`` for the others (the same lines plus what a
non-production environment leaves out by design). The tests also prove that every
skip is still needed (the unskipped scan of the examples fails exactly those checks)
and that docs/security.md reports the counts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import EXAMPLES, ROOT, env

from stacks.config import load_config

PRODUCTION = ROOT / ".checkov.yaml"
NON_PRODUCTION = ROOT / ".checkov.non-production.yaml"
CHECKOV = Path(sys.executable).parent / "checkov"
SKIP_LINE = re.compile(r"^  - (?P<id>CKV2?_AWS_\d+) +# (?P<reason>\S.{30,})$")


def config_for(name: str) -> Path:
    """The checkov config a stack is scanned with: by its environment's `production`."""
    return PRODUCTION if load_config(ROOT / "config" / f"{name}.yaml").production else NON_PRODUCTION


def skips(path: Path) -> list[str]:
    return list(yaml.safe_load(path.read_text())["skip-check"])


def checkov(stack: Path, cwd: Path, config: Path | None) -> dict:
    """Run the real checkov on one stack folder; return its JSON report.

    Runs in ``cwd`` so checkov does not pick up the repository's ``.checkov.yaml`` by
    itself when ``config`` is None.
    """
    assert CHECKOV.exists(), "checkov is a dev dependency: run `make install`"
    args = [str(CHECKOV), "-d", str(stack), "--framework", "terraform_json", "-o", "json"]
    if config is not None:
        args += ["--config-file", str(config)]
    result = subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert isinstance(report, dict), "expected one report for the terraform_json framework"
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    return report


def failed(report: dict) -> list[str]:
    return sorted(f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"])


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_example_stack_passes_checkov(synth_dir, name, tmp_path):
    config = config_for(name)
    report = checkov(synth_dir / "stacks" / name, tmp_path, config)
    assert failed(report) == [], f"{name} scanned with {config.name}"
    assert report["summary"]["passed"] >= 60, "the scan must actually evaluate the stack"


@pytest.fixture(scope="module")
def unskipped(synth_dir, tmp_path_factory) -> dict[str, set[str]]:
    """Check IDs each example fails when nothing is skipped."""
    cwd = tmp_path_factory.mktemp("noskip")
    return {
        p.stem: {c["check_id"] for c in checkov(synth_dir / "stacks" / p.stem, cwd, None)["results"]["failed_checks"]}
        for p in EXAMPLES
    }


def test_every_skip_is_still_needed(unskipped):
    production = set(skips(PRODUCTION))
    extra = set(skips(NON_PRODUCTION)) - production
    prod_examples = [n for n in unskipped if config_for(n) == PRODUCTION]
    nonprod_examples = [n for n in unskipped if config_for(n) == NON_PRODUCTION]
    assert prod_examples and nonprod_examples
    # Production stacks fail only production skips, and every production skip is needed
    # by some production example (CKV_AWS_378 only by the one with a rule-routed fleet).
    for name in prod_examples:
        assert unskipped[name] <= production, name
    assert set().union(*(unskipped[n] for n in prod_examples)) == production
    # Each non-production allowance is needed by some non-production example.
    needed = set().union(*(unskipped[n] for n in nonprod_examples))
    assert extra <= needed, f"stale non-production skips: {sorted(extra - needed)}"


def test_skip_lists_have_reasons_and_stay_in_sync():
    for path in (PRODUCTION, NON_PRODUCTION):
        ids = skips(path)
        assert len(ids) == len(set(ids)), f"{path.name} lists a check twice"
        lines = [x for x in path.read_text().splitlines() if x.startswith("  - CKV")]
        assert len(lines) == len(ids)
        for line in lines:
            assert SKIP_LINE.match(line), f"{path.name}: one skip per line with '# <reason>': {line!r}"
        assert yaml.safe_load(path.read_text())["framework"] == ["terraform_json"]
    prod_lines = [x for x in PRODUCTION.read_text().splitlines() if x.startswith("  - CKV")]
    nonprod_lines = [x for x in NON_PRODUCTION.read_text().splitlines() if x.startswith("  - CKV")]
    assert nonprod_lines[: len(prod_lines)] == prod_lines, "non-production repeats the production skips first"


def test_security_doc_reports_the_skip_counts():
    text = " ".join((ROOT / "docs" / "security.md").read_text().split())
    production = len(skips(PRODUCTION))
    nonprod = len(skips(NON_PRODUCTION))
    assert f"**{production} skipped checks** for production stacks" in text
    assert f"**{nonprod} skipped checks** for non-production stacks" in text
    for check in skips(NON_PRODUCTION):
        assert f"`{check}`" in text, f"docs/security.md does not list {check}"
