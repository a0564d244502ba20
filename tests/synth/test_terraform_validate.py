"""`terraform init` (offline mirror when present) and `terraform validate` on every
synthesized example stack, with the real binary."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import EXAMPLES, terraform, terraform_env, validate


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_terraform_validate(synth_dir, name, tmp_path):
    assert shutil.which("terraform"), "terraform must be on the PATH"
    stack = tmp_path / name
    shutil.copytree(synth_dir / "stacks" / name, stack)
    report = validate(stack, tmp_path)
    assert report["valid"] is True, json.dumps(report["diagnostics"], indent=1)
    assert report["error_count"] == 0


def test_user_data_text_in_the_plan_is_the_script(synth_dir, tmp_path):
    """The ``terraform_data`` copies of the user data (shown in plans as text) read back,
    through Terraform's own template parsing, as exactly the script the launch template
    sends (base64): ``${`` and ``%{`` in shell scripts are escaped, not interpolated."""
    import base64

    seen, templated = 0, 0
    for path in EXAMPLES:
        stack = json.loads((synth_dir / "stacks" / path.stem / "cdk.tf.json").read_text())
        templates = stack["resource"]["aws_launch_template"]
        for name, shown in stack["resource"].get("terraform_data", {}).items():
            fleet = name.removesuffix("_user_data")
            sent = base64.b64decode(templates[f"{fleet}_launch_template"]["user_data"]).decode()
            folder = tmp_path / f"{path.stem}-{fleet}"
            folder.mkdir()
            (folder / "main.tf.json").write_text(json.dumps({"output": {"text": {"value": shown["input"]}}}))
            tf_env = terraform_env(folder)
            assert terraform(["init", "-input=false", "-no-color"], folder, tf_env).returncode == 0
            plan = terraform(["plan", "-input=false", "-no-color", "-out=p"], folder, tf_env)
            assert plan.returncode == 0, plan.stdout + plan.stderr
            planned = json.loads(terraform(["show", "-json", "p"], folder, tf_env).stdout)
            assert planned["planned_values"]["outputs"]["text"]["value"] == sent
            seen += 1
            templated += "${" in sent
    assert seen >= 4 and templated >= 4  # the shipped scripts use ${...}
