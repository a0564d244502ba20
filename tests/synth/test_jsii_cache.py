"""The jsii package cache in the Python environment, primed with its runtime index
(stacks/jsii_cache.py): a synth in a fresh HOME reads the index, not the whole 120 MB
provider assembly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, env

from benchmarks.proctree import measure
from stacks import jsii_cache

#: Whole-tree peak that separates a synth reading the runtime index (about 300 MiB
#: measured) from one parsing the whole assembly (about 1,200 MiB): not a budget.
INDEXED_PEAK_MIB = 700


def test_configure_keeps_what_the_user_chose(monkeypatch, tmp_path):
    monkeypatch.setenv("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(tmp_path))
    monkeypatch.delenv("JSII_RUNTIME_PACKAGE_CACHE_TTL", raising=False)
    assert jsii_cache.configure() == tmp_path
    assert "JSII_RUNTIME_PACKAGE_CACHE_TTL" not in os.environ
    monkeypatch.setenv("JSII_RUNTIME_PACKAGE_CACHE", "disabled")
    assert jsii_cache.configure() is None


def test_configure_points_the_cache_into_the_environment(monkeypatch):
    monkeypatch.delenv("JSII_RUNTIME_PACKAGE_CACHE_ROOT", raising=False)
    monkeypatch.delenv("JSII_RUNTIME_PACKAGE_CACHE", raising=False)
    monkeypatch.delenv("JSII_RUNTIME_PACKAGE_CACHE_TTL", raising=False)
    assert jsii_cache.configure() == Path(sys.prefix) / "jsii-package-cache"
    assert os.environ["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] == str(Path(sys.prefix) / "jsii-package-cache")
    assert os.environ["JSII_RUNTIME_PACKAGE_CACHE_TTL"] == jsii_cache.TTL_DAYS


def test_primed_cache_serves_a_fresh_home_from_the_index(tmp_path):
    """Priming an empty cache indexes every entry (provider, cdktf, constructs); a synth
    in an empty HOME then stays far below the whole-assembly load."""
    root = tmp_path / "cache"
    cache_env = env(JSII_RUNTIME_PACKAGE_CACHE_ROOT=str(root))
    primed = subprocess.run(
        [sys.executable, "-m", "stacks.jsii_cache"],
        cwd=ROOT,
        env=cache_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert primed.returncode == 0, primed.stderr
    entries = sorted(str(m.parent.relative_to(root).parent) for m in root.rglob(jsii_cache.ENTRY_MARKER))
    assert entries == ["@cdktf/provider-aws/20.1.0", "cdktf/0.21.0", "constructs/10.8.1"]
    assert jsii_cache.unindexed(root) == []

    home = tmp_path / "home"
    home.mkdir()
    run = measure(
        [sys.executable, "main.py", "--outdir", str(tmp_path / "out")], cwd=ROOT, env={**cache_env, "HOME": str(home)}
    )
    assert run.returncode == 0, run.stderr
    assert run.peak_tree_mib < INDEXED_PEAK_MIB, f"{run.peak_tree_mib:.0f} MiB: the synth parsed a whole assembly"
    assert not list(home.rglob("*.jsii")), "the synth extracted packages into HOME"


def test_an_unprimed_cache_is_indexed_by_the_first_synth(tmp_path):
    """A cache `make install` did not prime (deleted, or another root): the first synth
    waits for jsii to write the index, so the next one reads it."""
    root = tmp_path / "cache"
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(out)],
        cwd=ROOT,
        env=env(JSII_RUNTIME_PACKAGE_CACHE_ROOT=str(root)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "note: indexing the jsii package cache once" in run.stderr
    assert len(list(root.rglob(jsii_cache.ENTRY_MARKER))) == 3
    assert jsii_cache.unindexed(root) == []
