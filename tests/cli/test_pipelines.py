"""Pipelines: the generated atlantis.yaml (current, one project per stack, every dir
present after synthesis, a workflow that refuses stale output) and the committed
Terraform JSON for VCS-driven HCP Terraform workspaces (current, and a check that
fails when it is not)."""

from __future__ import annotations

import glob
import json
import posixpath
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, copy_project, env, terraform, terraform_env

from stacks.config import CloudBackend, load_config

ATLANTIS = ROOT / "atlantis.yaml"
EXAMPLE_CONFIGS = sorted((ROOT / "config").glob("*.yaml"))

# Keys Atlantis accepts in a repo-level atlantis.yaml (version 3), and its built-in steps
# (runatlantis/atlantis server/core/config/raw: repo_cfg.go, project.go, step.go).
REPO_KEYS = {
    "version",
    "projects",
    "workflows",
    "policies",
    "automerge",
    "parallel_apply",
    "parallel_plan",
    "delete_source_branch_on_merge",
    "allowed_regexp_prefixes",
    "abort_on_execution_order_fail",
}
PROJECT_KEYS = {
    "name",
    "branch",
    "dir",
    "workspace",
    "workflow",
    "terraform_version",
    "autoplan",
    "plan_requirements",
    "apply_requirements",
    "import_requirements",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "execution_order_group",
    "depends_on",
    "silence_pr_comments",
}
BUILTIN_STEPS = {"init", "plan", "apply", "show", "policy_check", "import", "state_rm"}


def python(*args: str, cwd: Path = ROOT, **extra_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env(**extra_env), capture_output=True, text=True, timeout=600
    )


def atlantis_doc() -> dict:
    return yaml.safe_load(ATLANTIS.read_text())


def stack_names() -> list[str]:
    return sorted(load_config(p).name for p in EXAMPLE_CONFIGS)


# --------------------------------------------------------------------------------------
# atlantis.yaml
# --------------------------------------------------------------------------------------


def test_atlantis_yaml_is_current():
    """Fails when config/*.yaml changed without `make atlantis`."""
    result = python("-m", "stacks.cli.atlantis", "--check")
    assert result.returncode == 0, result.stderr


def test_atlantis_check_fails_when_stale(tmp_path):
    stale = tmp_path / "atlantis.yaml"
    stale.write_text(ATLANTIS.read_text().replace("name: dev\n", "name: development\n"))
    result = python("-m", "stacks.cli.atlantis", "--check", "--output", str(stale))
    assert result.returncode == 1
    assert "is stale: run `make atlantis`" in result.stderr


def test_atlantis_yaml_shape():
    doc = atlantis_doc()
    assert doc["version"] == 3
    assert set(doc) <= REPO_KEYS
    assert [p["name"] for p in doc["projects"]] == stack_names()
    for project in doc["projects"]:
        assert set(project) <= PROJECT_KEYS
        assert project["dir"] == f"cdktf.out/stacks/{project['name']}"
        assert project["workspace"] == "default", "the pre_workflow_hook synthesizes in the default clone"
        assert project["workflow"] in doc["workflows"]
    for name, workflow in doc["workflows"].items():
        assert set(workflow) == {"plan", "apply"}, name
        for stage in workflow.values():
            for step in stage["steps"]:
                if isinstance(step, str):
                    assert step in BUILTIN_STEPS, step
                else:
                    assert set(step) == {"run"} and isinstance(step["run"], str), step
    text = ATLANTIS.read_text()
    assert str(ROOT) not in text and "/home/" not in text and "/tmp/" not in text


def test_atlantis_autoplan_covers_code_configs_and_lock_files():
    doc = atlantis_doc()
    for project in doc["projects"]:
        assert project["autoplan"]["enabled"] is True
        resolved = [posixpath.normpath(posixpath.join(project["dir"], p)) for p in project["autoplan"]["when_modified"]]
        for pattern in resolved:
            assert not pattern.startswith(".."), pattern
            assert glob.glob(pattern, root_dir=ROOT, recursive=True), f"{pattern} matches no file"
        cfg_file = next(p for p in EXAMPLE_CONFIGS if load_config(p).name == project["name"])
        assert f"config/{cfg_file.name}" in resolved
        assert {"main.py", "stacks/**/*.py", "Pipfile.lock", "package-lock.json"} <= set(resolved)
        cfg = load_config(cfg_file)
        for fleet in cfg.fleets.values():
            ud = fleet.launch_template.user_data_file
            if ud:
                expected = posixpath.normpath(posixpath.join("config", ud))
                assert expected in resolved, "the launch template embeds the user data script"
        # A change to another environment's file does not plan (and lock) this one.
        others = {f"config/{p.name}" for p in EXAMPLE_CONFIGS} - {f"config/{cfg_file.name}"}
        assert not others & set(resolved)


def test_cloud_backed_stacks_plan_without_switching_workspace():
    """Atlantis's built-in plan step would select Terraform workspace "default", which a
    cloud block naming one workspace does not have; cloud stacks plan with a run step."""
    doc = atlantis_doc()
    workflows = doc["workflows"]
    for project in doc["projects"]:
        cfg = load_config(ROOT / "config" / f"{project['name']}.yaml")
        steps = workflows[project["workflow"]]["plan"]["steps"]
        if isinstance(cfg.backend, CloudBackend):
            assert "plan" not in steps
            assert {"run": 'terraform plan -input=false -out "$PLANFILE"'} in steps
        else:
            assert steps[1:3] == ["init", "plan"]
        assert steps[-1] == {"run": REPORT_STEP}  # after the plan: the report in the comment


REPORT_STEP = 'cd ../../.. && .venv/bin/python -m stacks.report --outdir cdktf.out --stack "$PROJECT_NAME"'


def test_report_step_runs_where_atlantis_runs_it(synth_dir, tmp_path):
    """The generated report step, run as Atlantis runs a custom step (``sh -c`` in the
    project dir, ``$PROJECT_NAME`` set), prints that stack's report and topology."""
    root = copy_project(tmp_path / "clone")
    (root / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(synth_dir, root / "cdktf.out")
    for project in atlantis_doc()["projects"]:
        result = subprocess.run(
            ["sh", "-c", REPORT_STEP],
            cwd=root / project["dir"],
            env=env(PROJECT_NAME=project["name"]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"== stack {project['name']} ") and "\ntopology:\n" in result.stdout


def test_every_project_dir_exists_after_synth(synth_dir):
    # synth_dir is <tmp>/cdktf.out: the project dirs are relative to its parent.
    for project in atlantis_doc()["projects"]:
        stack_dir = synth_dir.parent / project["dir"]
        assert (stack_dir / "cdk.tf.json").is_file(), project["dir"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _guards(repo: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run each project's first plan step (the stamp check) the way Atlantis runs a
    run step: `sh -c` in the project dir."""
    doc = yaml.safe_load((repo / "atlantis.yaml").read_text())
    results = {}
    for project in doc["projects"]:
        step = doc["workflows"][project["workflow"]]["plan"]["steps"][0]
        stack_dir = repo / project["dir"]
        results[project["name"]] = subprocess.run(
            ["sh", "-c", step["run"]], cwd=stack_dir if stack_dir.is_dir() else repo, capture_output=True, text=True
        )
    return results


def test_atlantis_pre_workflow_hook_and_workflow(tmp_path):
    """What the Atlantis server does on a pull request: the pre_workflow_hook
    (`make atlantis-synth`) synthesizes once and stamps the commit; each project's
    workflow checks the stamp, then `terraform init` runs in the stack folder. Output
    from an older commit, a failed synthesis or a stale atlantis.yaml stop the plan."""
    repo = copy_project(tmp_path / "pr-clone")
    shutil.copy2(ATLANTIS, repo / "atlantis.yaml")
    (repo / ".gitignore").write_text("cdktf.out/\n.cdktf.out.*\n__pycache__/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "pull request head")

    hook = python("-m", "stacks.cli.atlantis", "--synth", cwd=repo)
    assert hook.returncode == 0, hook.stdout + hook.stderr
    assert all(r.returncode == 0 for r in _guards(repo).values()), _guards(repo)
    for name in stack_names():
        assert (repo / "cdktf.out" / "stacks" / name / "cdk.tf.json").is_file()

    # The built-in init step in the local-backend stack's folder (offline mirror here).
    tf_env = terraform_env(tmp_path)
    init = terraform(["init", "-input=false", "-no-color"], repo / "cdktf.out" / "stacks" / "dev", tf_env)
    assert init.returncode == 0, init.stdout + init.stderr

    # A new commit without a new synthesis: the workflow refuses the old output.
    (repo / "README.md").write_text("changed\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "next commit")
    guards = _guards(repo)
    assert all(r.returncode == 1 for r in guards.values())
    assert "pre_workflow_hook" in guards["dev"].stdout

    # A config added without regenerating atlantis.yaml: the hook fails before synthesizing.
    data = yaml.safe_load((repo / "config" / "dev.yaml").read_text())
    data["name"] = "dev2"
    (repo / "config" / "dev2.yaml").write_text(yaml.safe_dump(data))
    hook = python("-m", "stacks.cli.atlantis", "--synth", cwd=repo)
    assert hook.returncode == 1 and "atlantis.yaml is stale" in hook.stderr
    assert not (repo / "cdktf.out" / ".synth-commit").exists()

    # An invalid config: the hook fails (exit 2) and leaves no stamp; the plan stops.
    (repo / "config" / "dev2.yaml").unlink()
    (repo / "config" / "dev.yaml").write_text(
        (repo / "config" / "dev.yaml").read_text().replace("min_size: 1", "min_size: 5")
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "broken config")
    hook = python("-m", "stacks.cli.atlantis", "--synth", cwd=repo)
    assert hook.returncode == 2 and "min_size: must not exceed max_size" in hook.stderr
    assert all(r.returncode == 1 for r in _guards(repo).values())
    # Terraform's files in the stack folder survived the hook's runs.
    assert (repo / "cdktf.out" / "stacks" / "dev" / ".terraform").is_dir()


# --------------------------------------------------------------------------------------
# HCP Terraform, VCS-driven: committed terraform/<stack>/cdk.tf.json
# --------------------------------------------------------------------------------------


def cloud_stack_names() -> list[str]:
    return sorted(load_config(p).name for p in EXAMPLE_CONFIGS if isinstance(load_config(p).backend, CloudBackend))


def test_tfc_export_is_current(synth_dir):
    """Fails when the committed terraform/ folder does not match a fresh synthesis
    (run `make tfc-export`)."""
    names = cloud_stack_names()
    assert names, "an example uses the cloud backend"
    committed = sorted(p.parent.name for p in (ROOT / "terraform").glob("*/cdk.tf.json"))
    assert committed == names
    for name in names:
        assert (ROOT / "terraform" / name / "cdk.tf.json").read_bytes() == (
            synth_dir / "stacks" / name / "cdk.tf.json"
        ).read_bytes(), f"terraform/{name}/cdk.tf.json is stale: run `make tfc-export`"
    result = python("-m", "stacks.cli.tfc", "--check", "--synthesized", str(synth_dir))
    assert result.returncode == 0, result.stderr


def test_tfc_export_holds_the_cloud_block():
    for name in cloud_stack_names():
        stack = json.loads((ROOT / "terraform" / name / "cdk.tf.json").read_text())
        assert "backend" not in stack["terraform"]
        assert stack["terraform"]["cloud"]["workspaces"]["name"]
        assert stack["resource"]["aws_autoscaling_group"]


def test_tfc_check_fails_when_stale_and_export_repairs(synth_dir, tmp_path):
    root = tmp_path / "terraform"
    shutil.copytree(ROOT / "terraform", root)
    name = cloud_stack_names()[0]
    (root / name / "cdk.tf.json").write_text("{}\n")
    (root / "retired").mkdir()
    (root / "retired" / "cdk.tf.json").write_text("{}\n")
    (root / "notes").mkdir()
    (root / "notes" / "README.md").write_text("kept\n")
    args = ["-m", "stacks.cli.tfc", "--synthesized", str(synth_dir), "--root", str(root)]

    result = python(*args, "--check")
    assert result.returncode == 1
    assert f"{name}/cdk.tf.json: stale" in result.stderr
    assert "retired/cdk.tf.json: left over" in result.stderr

    result = python(*args)
    assert result.returncode == 0, result.stderr
    assert python(*args, "--check").returncode == 0
    assert not (root / "retired").exists()
    assert (root / "notes" / "README.md").read_text() == "kept\n", "only exported files are removed"
    assert (root / name / "cdk.tf.json").read_bytes() == (synth_dir / "stacks" / name / "cdk.tf.json").read_bytes()

    # With nothing given, the check synthesizes by itself; a missing export is reported.
    shutil.rmtree(root / name)
    result = python("-m", "stacks.cli.tfc", "--check", "--root", str(root))
    assert result.returncode == 1 and f"{name}/cdk.tf.json: missing" in result.stderr


@pytest.mark.parametrize("target", ["atlantis", "atlantis-synth", "tfc-export", "tfc-check"])
def test_make_targets_exist(target):
    result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert {
        "atlantis": "-m stacks.cli.atlantis",
        "atlantis-synth": "-m stacks.cli.atlantis --synth",
        "tfc-export": "-m stacks.cli.tfc",
        "tfc-check": "-m stacks.cli.tfc --check",
    }[target] in result.stdout
