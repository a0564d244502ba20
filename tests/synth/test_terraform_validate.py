"""`terraform init` (offline mirror when present) and `terraform validate` on every
synthesized example stack, with the real binary."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import EXAMPLES, terraform, terraform_env


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_terraform_validate(synth_dir, name, tmp_path):
    assert shutil.which("terraform"), "terraform must be on the PATH"
    stack = tmp_path / name
    shutil.copytree(synth_dir / "stacks" / name, stack)
    tf_env = terraform_env(tmp_path)
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], stack, tf_env)
    assert init.returncode == 0, init.stdout + init.stderr
    result = terraform(["validate", "-json", "-no-color"], stack, tf_env)
    report = json.loads(result.stdout)
    assert report["valid"] is True, json.dumps(report["diagnostics"], indent=1)
    assert report["error_count"] == 0
