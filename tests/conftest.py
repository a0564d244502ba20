"""Session fixtures. The examples are synthesized once per test session, in one
process, because loading the AWS provider bindings is the expensive part."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import load_stacks, run_main


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """Output folder of ``python main.py`` over every example config."""
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    result = run_main("--outdir", str(out))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def stacks(synth_dir) -> dict[str, dict]:
    """Parsed ``cdk.tf.json`` per example stack name."""
    return load_stacks(synth_dir)
