"""The library API (ai_fleet, stacks/library.py), the example app that uses it
(examples/route53-alias) and the installed package (`pip install .`, `ai-fleet`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import ROOT, env, read_tree, terraform, terraform_env

EXAMPLE = ROOT / "examples" / "route53-alias"


def run(cmd: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env(**extra), capture_output=True, text=True, timeout=900)


def test_example_app_synthesizes_its_own_stack_and_validates(tmp_path):
    """Run from its folder, as the docs say: its stack holds the fleet and the user's
    own alias record to the fleet's load balancer, with the user's backend; Terraform
    validates it."""
    app = shutil.copytree(EXAMPLE, tmp_path / "route53-alias", ignore=shutil.ignore_patterns("cdktf.out"))
    result = run([sys.executable, "main.py"], app)
    assert result.returncode == 0, result.stderr
    stack_dir = app / "cdktf.out" / "stacks" / "serving"
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    alias = stack["resource"]["aws_route53_record"]["inference_record"]["alias"]
    assert alias["name"] == "${aws_lb.load_balancer_alb.dns_name}"
    assert alias["zone_id"] == "${aws_lb.load_balancer_alb.zone_id}"
    assert stack["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
    assert "aws_autoscaling_group" in stack["resource"] and "aws_lb_listener" in stack["resource"]
    assert set(stack["output"]) == {"chat_target_group_arn", "inference_url"}
    tf_env = terraform_env(tmp_path)
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, tf_env)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = terraform(["validate", "-no-color"], stack_dir, tf_env)
    assert validate.returncode == 0, validate.stdout + validate.stderr


DRIVER = r"""
import sys
import ai_fleet
from cdktf import App, LocalBackend, TerraformStack

mode, outdir = sys.argv[1], sys.argv[2]
app = App(outdir=outdir)
stack = TerraformStack(app, "dev")
LocalBackend(stack, path="terraform.tfstate")
if mode == "same":
    ai_fleet.AiFleet(stack, "fleet", "config/dev.yaml", outputs=True)
    app.synth()
elif mode == "twice":
    ai_fleet.AiFleet(stack, "fleet", "config/dev.yaml")
    try:
        ai_fleet.AiFleet(stack, "again", "config/dev.yaml")
    except ValueError as exc:
        print(exc)
elif mode == "provider":
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    AwsProvider(stack, "mine", region="us-east-1")
    try:
        ai_fleet.AiFleet(stack, "fleet", "config/dev.yaml")
    except ValueError as exc:
        print(exc)
elif mode == "copied":
    import yaml
    cfg = ai_fleet.parse_config(yaml.safe_load(open("config/dev.yaml")), "app.py")
    try:
        ai_fleet.AiFleet(stack, "fleet", cfg.model_copy(update={"name": "has space"}), base_dir="config")
    except ai_fleet.ConfigError as exc:
        print(exc)
elif mode == "dict":
    try:
        ai_fleet.AiFleet(stack, "fleet", {"name": "dev"})
    except TypeError as exc:
        print(exc)
elif mode == "missing-user-data":
    import yaml
    data = yaml.safe_load(open("config/dev.yaml"))
    data["fleets"]["chat"]["launch_template"]["user_data_file"] = "../user_data/nope.sh"
    cfg = ai_fleet.parse_config(data, "app.py")
    try:
        ai_fleet.AiFleet(stack, "fleet", cfg, base_dir="config")
    except ai_fleet.ConfigError as exc:
        print(exc)
"""


def test_library_stack_has_exactly_the_synthesized_resources(synth_dir, tmp_path):
    """AiFleet from config/dev.yaml in the user's stack gives the resources, data
    sources and outputs ``python main.py`` writes for dev."""
    out = tmp_path / "out"
    result = run([sys.executable, "-c", DRIVER, "same", str(out)], ROOT)
    assert result.returncode == 0, result.stderr
    mine = json.loads((out / "stacks" / "dev" / "cdk.tf.json").read_text())
    shipped = json.loads((synth_dir / "stacks" / "dev" / "cdk.tf.json").read_text())
    for block in ("resource", "data", "output", "provider"):
        assert mine[block] == shipped[block], block


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("twice", "stack 'dev' already holds an environment (AiFleet 'fleet'): one AiFleet per stack"),
        ("provider", "stack 'dev' already has an AWS provider ('mine'): pass aws_provider=False"),
        ("copied", "<config built in code>: name:"),
        ("dict", "AiFleet config must be an EnvironmentConfig or the path of a YAML file, not dict"),
        (
            "missing-user-data",
            "<config built in code>: fleets.chat.launch_template.user_data_file: '../user_data/nope.sh' does not exist",
        ),
    ],
)
def test_library_refuses_with_a_clear_error(mode, message, tmp_path):
    result = run([sys.executable, "-c", DRIVER, mode, str(tmp_path / "out")], ROOT)
    assert result.returncode == 0, result.stderr
    assert message in result.stdout, result.stdout


def test_pip_install_gives_a_working_ai_fleet(synth_dir, tmp_path):
    """`pip install` of the project into a new virtual environment (its dependencies
    taken from the project's .venv, no index) installs ``ai-fleet``, which checks and
    synthesizes a folder of configs exactly as ``python main.py`` does."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("ai_fleet", "stacks"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    # The wheel pip builds for `pip install .` (with the project's setuptools: no index).
    wheels = tmp_path / "wheels"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), "."], source
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = wheels.glob("ai_fleet_terraform-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (purelib / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], source)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    deps = run([str(venv / "bin" / "python"), "-m", "pip", "check"], source)
    assert deps.returncode == 0, deps.stdout  # the declared dependencies are all there

    work = tmp_path / "work"
    for name in ("config", "user_data"):
        shutil.copytree(ROOT / name, work / name)
    ai_fleet = str(venv / "bin" / "ai-fleet")
    version = run([ai_fleet, "--version"], work)
    assert version.returncode == 0 and version.stdout.startswith("ai-fleet "), version.stderr
    check = run([ai_fleet, "check"], work)
    assert check.returncode == 0, check.stderr
    synth = run([ai_fleet, "synth", "--outdir", "out"], work)
    assert synth.returncode == 0, synth.stderr
    assert "lazy provider index not used" not in synth.stderr  # the .js preloads were installed
    assert read_tree(work / "out") == read_tree(synth_dir)
    unknown = run([ai_fleet, "deploy"], work)
    assert unknown.returncode == 2 and "unknown command 'deploy'" in unknown.stderr


@pytest.mark.parametrize("command", ["synth", "check", "report", "try"])
def test_ai_fleet_subcommands_name_themselves_in_their_help(command):
    result = run([sys.executable, "-m", "stacks.cli.main", command, "--help"], ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: ai-fleet {command} "), result.stdout
