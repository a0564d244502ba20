"""The ways users synthesize: `cdktf synth` through the real CLI, `python main.py` from
any folder, with the fast or the normal provider import. All must write the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from helpers import ROOT, copy_project, env, read_tree, run_main


def test_cdktf_cli_synth_matches_python_main(synth_dir, tmp_path):
    cli = ROOT / "node_modules" / ".bin" / "cdktf"
    assert cli.exists(), "run `make install` (npm ci) first"
    assert shutil.which("pipenv"), "cdktf.json runs the app through pipenv"
    out = tmp_path / "cli.out"
    stats = tmp_path / "lazy-index.txt"
    result = subprocess.run(
        [str(cli), "synth", "--output", str(out)],
        cwd=ROOT,
        env=env(CI="1", FORCE_COLOR="0", AI_FLEET_LAZY_INDEX_STATS=str(stats)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert read_tree(out) == read_tree(synth_dir)
    # The CLI path gets the same fast import: the jsii runtime it starts uses the lazy
    # provider index and runs cdktf without token stack traces (stacks/aws.py).
    lines = stats.read_text().splitlines()
    assert any(line.startswith("index @cdktf/provider-aws ") for line in lines)
    assert any(line.startswith("traces ") for line in lines)


def test_synth_is_byte_identical_across_folders(synth_dir, tmp_path):
    """Two runs in two different folders give the same bytes (no paths, no timestamps),
    also as another user with another Terraform version on the PATH (a cloud backend
    makes cdktf run `terraform version` while synthesizing); so do the generated
    atlantis.yaml and the committed HCP Terraform export."""
    other = copy_project(tmp_path / "elsewhere" / "clone")
    shim, home, calls = tmp_path / "bin", tmp_path / "home", tmp_path / "terraform-calls"
    shim.mkdir()
    home.mkdir()
    (shim / "terraform").write_text(
        f'#!/bin/sh\necho "$*" >> "{calls}"\necho "Terraform v1.99.7"\necho "on linux_arm64"\n'
    )
    (shim / "terraform").chmod(0o755)
    other_env = {
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "USER": "someone-else",
        "LOGNAME": "someone-else",
    }
    result = run_main(cwd=other, extra_env=other_env)
    assert result.returncode == 0, result.stderr
    assert "version" in calls.read_text().split(), "the shimmed Terraform was asked for its version"
    assert read_tree(other / "cdktf.out") == read_tree(synth_dir)

    for args in (["-m", "stacks.cli.atlantis"], ["-m", "stacks.cli.tfc", "--synthesized", "cdktf.out"]):
        result = subprocess.run(
            [sys.executable, *args], cwd=other, env=env(**other_env), capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr
    assert (other / "atlantis.yaml").read_bytes() == (ROOT / "atlantis.yaml").read_bytes()
    assert read_tree(other / "terraform") == read_tree(ROOT / "terraform")


def test_normal_provider_import_gives_identical_json(synth_dir, tmp_path):
    """The fast import layer (stacks/aws.py) must not change a byte of output."""
    out = tmp_path / "full.out"
    stats = tmp_path / "lazy-index.txt"
    result = run_main(
        "--outdir", str(out), extra_env={"AI_FLEET_PROVIDER_IMPORT": "full", "AI_FLEET_LAZY_INDEX_STATS": str(stats)}
    )
    assert result.returncode == 0, result.stderr
    assert not stats.exists()  # normal import on the Node side too: the eager index
    assert read_tree(out) == read_tree(synth_dir)


def test_partial_synth_keeps_other_stacks_and_terraform_working_files(synth_dir, tmp_path):
    """Re-synthesizing one stack keeps the others, and keeps the Terraform files in the
    re-synthesized stack's folder: README's workflow runs ``terraform apply`` there with
    the local backend's ``terraform.tfstate``, so losing it would orphan real resources."""
    out = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir, out)
    working = {
        "dev/terraform.tfstate": '{"version": 4, "serial": 7}',
        "dev/terraform.tfstate.backup": '{"version": 4, "serial": 6}',
        "dev/.terraform.lock.hcl": "# lock",
        "dev/.terraform/terraform.tfstate": "{}",
        "dev/.terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/x": "bin",
        "dev/ops_override.tf.json": "{}",
        "prod/terraform.tfstate": '{"version": 4, "serial": 3}',
    }
    for rel, text in working.items():
        (out / "stacks" / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / "stacks" / rel).write_text(text)
    old_inode = (out / "stacks/dev/cdk.tf.json").stat().st_ino
    before = read_tree(out)
    result = run_main("--config", "config/dev.yaml", "--outdir", str(out))
    assert result.returncode == 0, result.stderr
    # dev was really written again (a new file), prod was not touched.
    assert (out / "stacks/dev/cdk.tf.json").stat().st_ino != old_inode
    after = read_tree(out)
    # The merged manifest is rewritten (same content, standard JSON layout).
    assert json.loads(after.pop("manifest.json")) == json.loads(before.pop("manifest.json"))
    assert after == before
    assert not list(tmp_path.glob(".cdktf.out.*")), "staging or old output left behind"
