"""The ways users synthesize: `cdktf synth` through the real CLI, `python main.py` from
any folder, with the fast or the normal provider import. All must write the same bytes.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from helpers import ROOT, copy_project, env, read_tree, run_main


def test_cdktf_cli_synth_matches_python_main(synth_dir, tmp_path):
    cli = ROOT / "node_modules" / ".bin" / "cdktf"
    assert cli.exists(), "run `make install` (npm ci) first"
    assert shutil.which("pipenv"), "cdktf.json runs the app through pipenv"
    out = tmp_path / "cli.out"
    result = subprocess.run(
        [str(cli), "synth", "--output", str(out)],
        cwd=ROOT,
        env=env(CI="1", FORCE_COLOR="0"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert read_tree(out) == read_tree(synth_dir)


def test_synth_is_byte_identical_across_folders(synth_dir, tmp_path):
    """Two runs in two different folders give the same bytes (no paths, no timestamps)."""
    other = copy_project(tmp_path / "elsewhere" / "clone")
    result = run_main(cwd=other)
    assert result.returncode == 0, result.stderr
    assert read_tree(other / "cdktf.out") == read_tree(synth_dir)


def test_normal_provider_import_gives_identical_json(synth_dir, tmp_path):
    """The fast import layer (stacks/aws.py) must not change a byte of output."""
    out = tmp_path / "full.out"
    result = run_main("--outdir", str(out), extra_env={"AI_FLEET_PROVIDER_IMPORT": "full"})
    assert result.returncode == 0, result.stderr
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
