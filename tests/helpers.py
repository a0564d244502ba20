"""Shared test helpers: run the product's command line and Terraform for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "config").glob("*.yaml"))
MIRROR = Path("/opt/tf-plugins")


def env(**extra: str) -> dict[str, str]:
    """Process environment for product and tool runs."""
    e = dict(os.environ)
    e["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    e["CHECKPOINT_DISABLE"] = "1"
    e.update(extra)
    return e


def run_main(*args: str, cwd: Path = ROOT, **kw) -> subprocess.CompletedProcess:
    """Run ``python main.py ARGS`` in ``cwd`` and capture its output (never raises)."""
    return subprocess.run(
        [sys.executable, str(cwd / "main.py"), *args],
        cwd=cwd,
        env=env(**kw.pop("extra_env", {})),
        capture_output=True,
        text=True,
        timeout=kw.pop("timeout", 600),
    )


def run_try(*args: str, cwd: Path = ROOT, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Run ``python -m stacks.cli.try_stack ARGS`` (``make try``) in ``cwd`` and capture
    its output (never raises but on timeout)."""
    return subprocess.run(
        [sys.executable, "-m", "stacks.cli.try_stack", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def load_stacks(outdir: Path) -> dict[str, dict]:
    """Parse every ``stacks/<name>/cdk.tf.json`` under ``outdir``."""
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, for byte-for-byte comparison."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def terraform_env(tmp: Path) -> dict[str, str]:
    """Environment for the real ``terraform`` binary.

    When the offline provider mirror exists, writes a CLI config that installs
    hashicorp/aws from it (this machine has no registry access); elsewhere Terraform
    uses its normal registry install.
    """
    extra = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    if MIRROR.is_dir():
        rc = tmp / "terraformrc"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{MIRROR}"\n'
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
        )
        extra["TF_CLI_CONFIG_FILE"] = str(rc)
    else:
        extra["TF_CLI_CONFIG_FILE"] = ""
    return env(**extra)


def terraform(args: list[str], cwd: Path, tf_env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``terraform ARGS`` in ``cwd``; returns the completed process (never raises)."""
    return subprocess.run(
        [shutil.which("terraform") or "terraform", *args],
        cwd=cwd,
        env=tf_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def validate(folder: Path, tmp: Path) -> dict:
    """``terraform init -backend=false`` (asserted to succeed) and ``terraform validate
    -json`` in ``folder``, with the CLI config of :func:`terraform_env` under ``tmp``;
    returns validate's JSON report."""
    tf_env = terraform_env(tmp)
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], folder, tf_env)
    assert init.returncode == 0, init.stdout + init.stderr
    return json.loads(terraform(["validate", "-json", "-no-color"], folder, tf_env).stdout)


def copy_project(dest: Path) -> Path:
    """Copy what synthesis needs (code, configs, user data) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("main.py", "cdktf.json"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("stacks", "config", "user_data"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def resources(stack: dict, rtype: str) -> dict:
    """The resources of type ``rtype`` in a parsed ``cdk.tf.json``, by name ({} if none)."""
    return stack.get("resource", {}).get(rtype, {})


def only(stack: dict, rtype: str) -> dict:
    """The one resource of type ``rtype`` in ``stack``; fails the test if there are
    none or several."""
    found = resources(stack, rtype)
    assert len(found) == 1, f"expected one {rtype}, got {list(found)}"
    return next(iter(found.values()))
