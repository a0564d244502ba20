"""Bad configs through the real command line: exit code 2, one message per problem
naming the file and the field, no traceback, no secret echoed, and earlier output left
untouched.

The cases are a corpus of hand-written files under ``tests/bad_configs/`` (broken YAML,
wrong types, unknown keys, boundary values, cross-field rules, secrets). Each file
starts with comment lines:

- ``# <what is wrong>``
- ``# expect: <field>: <message>``, one per problem, in the order the tool reports them:
  exactly the text after ``error: <file>: ``. Every problem must be expected, so a file
  tests one defect and nothing else.
- ``# never-printed: <text>`` (optional): secret-looking text in the file that must not
  appear anywhere in the output.

Add a case by adding a file. All files go through ONE run of ``main.py`` (every problem
of every file is reported), which keeps the corpus cheap however large it grows.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, env, read_tree, run_main

from stacks.secrets import find_tokens

CORPUS = Path(__file__).resolve().parent
FILES = sorted(CORPUS.glob("*.yaml"))
CATEGORIES = ("yaml-", "type-", "unknown-", "bound-", "rule-", "secret-")


def header(path: Path, key: str) -> list[str]:
    """Values of the ``# key: value`` comment lines of a corpus file."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    prefix = f"# {key}: "
    return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    """One CLI run over the whole corpus, against a folder standing in for an earlier,
    good cdktf.out. Returns (result, tree before, tree after)."""
    out = tmp_path_factory.mktemp("earlier") / "cdktf.out"
    (out / "stacks" / "dev").mkdir(parents=True)
    (out / "stacks" / "dev" / "cdk.tf.json").write_text('{"earlier": true}\n')
    (out / "manifest.json").write_text('{"stacks": {}}\n')
    before = read_tree(out)
    args = [arg for f in FILES for arg in ("--config", rel(f))]
    result = run_main(*args, "--outdir", str(out))
    return result, before, read_tree(out)


def test_corpus_is_well_formed():
    assert len(FILES) >= 60
    for prefix in CATEGORIES:
        assert any(f.name.startswith(prefix) for f in FILES), f"no {prefix}* case"
    for f in FILES:
        assert f.name.startswith(CATEGORIES), f"{f.name}: name it by category {CATEGORIES}"
        assert header(f, "expect"), f"{f.name} has no '# expect:' line"
        first = f.read_bytes().split(b"\n", 1)[0]
        assert first.startswith(b"# ") and not first.startswith(b"# expect"), f"{f.name}: first line says what is wrong"


def test_cli_exits_2_without_traceback_and_keeps_earlier_output(corpus_run):
    result, before, after = corpus_run
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    total = sum(len(header(f, "expect")) for f in FILES)
    assert result.stderr.splitlines()[-1] == (
        f"{total} problem(s) found; nothing was synthesized and any earlier output is unchanged."
    )
    assert after == before


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_bad_config_has_its_expected_messages(corpus_run, path):
    result, _, _ = corpus_run
    prefix = f"error: {rel(path)}: "
    got = [line[len(prefix) :] for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert got == header(path, "expect")


@pytest.mark.parametrize("path", [f for f in FILES if header(f, "never-printed")], ids=lambda p: p.stem)
def test_secrets_are_never_printed(corpus_run, path):
    result, _, _ = corpus_run
    output = result.stdout + result.stderr
    for secret in header(path, "never-printed"):
        assert secret not in output
    assert find_tokens(output) == []


def test_secret_cases_cover_config_values_keys_and_user_data():
    names = {f.stem for f in FILES if f.name.startswith("secret-")}
    assert {"secret-aws-key-in-tag", "secret-in-user-data", "secret-value-in-secret-references"} <= names
    assert header(CORPUS / "unknown-secret-key.yaml", "never-printed")


def dev() -> dict:
    return yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def test_two_files_with_one_name(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    data = copy.deepcopy(dev())
    data["fleets"]["chat"]["launch_template"].pop("user_data_file")
    for p in (a, b):
        p.write_text(yaml.safe_dump(data))
    result = run_main("--config", str(a), "--config", str(b), "--check")
    assert result.returncode == 2
    assert f"error: {b}: name: 'dev' is already the name of {a}" in result.stderr


def staging() -> dict:
    data = yaml.safe_load((ROOT / "config" / "staging.yaml").read_text())
    for fleet in data["fleets"].values():
        fleet["launch_template"].pop("user_data_file", None)
    return data


def test_two_environments_on_one_workspace_or_state_key(tmp_path):
    """Copies of an example with new names but the same HCP Terraform workspace, or the
    same written-out S3 key: each stack's plan would destroy what the other created.
    Neither location derives from a name, so the tool cannot tell which environment is
    deployed there: every one in the run is refused, naming the others."""
    docs = {}
    for i in (1, 2):
        cloud = staging()
        cloud["name"] = f"staging-{i}"
        docs[f"cloud{i}"] = cloud
        s3 = copy.deepcopy(dev())
        s3["fleets"]["chat"]["launch_template"].pop("user_data_file")
        s3["name"] = f"dev-{i}"
        s3["backend"] = {"type": "s3", "bucket": "acme-state", "key": "fleet/terraform.tfstate"}
        docs[f"s3{i}"] = s3
    paths = {}
    for key, doc in docs.items():
        paths[key] = tmp_path / f"{key}.yaml"
        paths[key].write_text(yaml.safe_dump(doc))
    args = [a for key in ("cloud1", "s31", "cloud2", "s32") for a in ("--config", str(paths[key]))]
    result = run_main(*args, "--check", "--outdir", str(tmp_path / "out"))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    workspace = "cloud://app.terraform.io/acme-ml-platform/ai-fleet-staging"
    then = "each environment needs its own state: give the one not deployed there yet its own"
    assert errors == [
        f"error: {paths['cloud1']}: backend.workspaces.name: {workspace} is also the state of 'staging' "
        f"(config/staging.yaml), 'staging-2' ({paths['cloud2']}); {then} backend.workspaces.name",
        f"error: {paths['s31']}: backend.key: s3://acme-state/fleet/terraform.tfstate is also the state of "
        f"'dev-2' ({paths['s32']}); {then} backend.key",
        f"error: {paths['cloud2']}: backend.workspaces.name: {workspace} is also the state of 'staging' "
        f"(config/staging.yaml), 'staging-1' ({paths['cloud1']}); {then} backend.workspaces.name",
        f"error: {paths['s32']}: backend.key: s3://acme-state/fleet/terraform.tfstate is also the state of "
        f"'dev-1' ({paths['s31']}); {then} backend.key",
    ], result.stderr
    assert "Traceback" not in result.stderr

    # Distinct workspaces and the default S3 keys (derived from the name) are fine.
    for i in (1, 2):
        docs[f"cloud{i}"]["backend"]["workspaces"]["name"] = f"ai-fleet-staging-{i}"
        docs[f"s3{i}"]["backend"].pop("key")
    for key, doc in docs.items():
        paths[key].write_text(yaml.safe_dump(doc))
    result = run_main(*args, "--check")
    assert result.returncode == 0, result.stderr
    assert "4 environment config(s) valid" in result.stdout


def test_same_environment_elsewhere_and_same_file_twice(tmp_path):
    """A copy that keeps the name keeps the state too (the same environment, written to
    another folder), and a file given twice is read once."""
    copy_path = tmp_path / "staging.yaml"
    copy_path.write_text(yaml.safe_dump(staging()))
    result = run_main("--config", str(copy_path), "--config", str(copy_path), "--check")
    assert result.returncode == 0, result.stderr
    assert "1 environment config(s) valid: staging" in result.stdout


def check_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    """``main.py --check ARGS`` of this repository, run in ``project`` (whose
    ``config/*.yaml`` are then the other environments)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--check", *args],
        cwd=project,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_env(path: Path, name: str, backend: dict, region: str = "us-east-1") -> Path:
    data = copy.deepcopy(dev())
    data["fleets"]["chat"]["launch_template"].pop("user_data_file")
    data.update(name=name, backend=backend)
    if region != data["region"]:
        data["region"] = region
        data["network"]["create_vpc"]["availability_zones"] = [f"{region}a", f"{region}b"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("owner_key", [None, "ai-fleet/prod/terraform.tfstate"], ids=["default", "written-out"])
def test_shared_state_blames_the_environment_that_took_another_ones_key(tmp_path, owner_key):
    """A key equal to another environment's default key (derived from its name, left
    out or written as it is): the other one is refused, whatever the order of the
    files, and the owner alone still synthesizes."""
    s3 = {"type": "s3", "bucket": "acme-state"}
    write_env(tmp_path / "config" / "prod.yaml", "prod", {**s3, "key": owner_key} if owner_key else s3)
    write_env(tmp_path / "config" / "aaa.yaml", "aaa", {**s3, "key": "ai-fleet/prod/terraform.tfstate"})
    for args in ([], ["--config", "config/prod.yaml", "--config", "config/aaa.yaml"], ["--config", "config/aaa.yaml"]):
        result = check_in(tmp_path, *args)
        assert result.returncode == 2
        assert [line for line in result.stderr.splitlines() if line.startswith("error: ")] == [
            "error: config/aaa.yaml: backend.key: s3://acme-state/ai-fleet/prod/terraform.tfstate is the state of "
            "'prod' (config/prod.yaml, from its name); each environment needs its own state: give this one its "
            "own backend.key"
        ], result.stderr
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", "config/prod.yaml", "--outdir", str(out)],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    backend = json.loads((out / "stacks" / "prod" / "cdk.tf.json").read_text())["terraform"]["backend"]["s3"]
    assert (backend["bucket"], backend["key"]) == ("acme-state", "ai-fleet/prod/terraform.tfstate")


def test_a_copied_config_on_the_same_workspace_blocks_both(tmp_path):
    """A workspace name derives from nothing: with a copy of staging on staging's
    workspace in config/, staging alone is refused too (the tool cannot know which one
    is deployed), and the message does not tell it to move."""
    cloud = {"type": "cloud", "organization": "acme", "workspaces": {"name": "ai-fleet-staging"}}
    write_env(tmp_path / "config" / "staging.yaml", "staging", cloud)
    write_env(tmp_path / "config" / "a-staging-eu.yaml", "a-staging-eu", cloud)
    result = check_in(tmp_path, "--config", "config/staging.yaml")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "error: config/staging.yaml: backend.workspaces.name: cloud://app.terraform.io/acme/ai-fleet-staging is also "
        "the state of 'a-staging-eu' (config/a-staging-eu.yaml); each environment needs its own state: give the one "
        "not deployed there yet its own backend.workspaces.name"
    ), result.stderr


def test_shared_state_matches_names_as_hcp_terraform_does(tmp_path):
    """Organization and workspace names without regard to case, the default host written
    out or with its :443 port; S3 buckets per partition (one name may exist in aws, in
    aws-cn and in aws-iso)."""
    cloud = {"type": "cloud", "organization": "acme", "workspaces": {"name": "fleet-a"}}
    write_env(tmp_path / "config" / "fleet-a.yaml", "fleet-a", cloud)
    variant = {
        "type": "cloud",
        "organization": "ACME",
        "hostname": "app.terraform.io:443",
        "workspaces": {"name": "Fleet-A"},
    }
    b = write_env(tmp_path / "fleet-b.yaml", "fleet-b", variant)
    result = check_in(tmp_path, "--config", str(b))
    assert result.returncode == 2
    assert (
        f"error: {b}: backend.workspaces.name: cloud://app.terraform.io/acme/fleet-a is also the state "
        "of 'fleet-a' (config/fleet-a.yaml)"
    ) in result.stderr

    s3 = {"type": "s3", "bucket": "acme-state", "key": "fleet/terraform.tfstate"}
    us = write_env(tmp_path / "us.yaml", "us", s3)
    cn = write_env(tmp_path / "cn.yaml", "cn", s3, region="cn-north-1")
    iso = write_env(tmp_path / "iso.yaml", "iso", s3, region="us-iso-east-1")
    result = check_in(tmp_path, "--config", str(us), "--config", str(cn), "--config", str(iso))
    assert result.returncode == 0, result.stderr
    cn2 = write_env(tmp_path / "cn2.yaml", "cn2", {**s3, "region": "cn-northwest-1"})
    result = check_in(tmp_path, "--config", str(cn), "--config", str(cn2))
    assert result.returncode == 2
    assert f"error: {cn2}: backend.key: aws-cn:s3://acme-state/fleet/terraform.tfstate is also" in result.stderr


def test_shared_state_with_invalid_environment_files(tmp_path):
    """An environment file with an unrelated mistake still counts with its state, in the
    run or not, so fixing it reveals nothing new and a full run and a run of some files
    agree; a file whose backend is broken, or one that is not a regular file (a FIFO
    would block the read), is passed over."""
    s3 = {"type": "s3", "bucket": "acme-state", "key": "shared/terraform.tfstate"}
    broken = write_env(tmp_path / "config" / "broken.yaml", "broken", s3)
    data = yaml.safe_load(broken.read_text())
    data["fleets"]["chat"]["autoscaling_group"]["min_size"] = 99
    broken.write_text(yaml.safe_dump(data))
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "config" / "pipe.yaml").symlink_to(tmp_path / "pipe.yaml")
    write_env(tmp_path / "config" / "new.yaml", "new", s3)
    shared = (
        "error: config/new.yaml: backend.key: s3://acme-state/shared/terraform.tfstate is also the state of "
        "'broken' (config/broken.yaml)"
    )
    for args in (["--config", "config/new.yaml"], ["--config", "config/broken.yaml", "--config", "config/new.yaml"]):
        result = check_in(tmp_path, *args)
        assert result.returncode == 2
        assert shared in result.stderr, result.stderr
    result = check_in(tmp_path, "--config", "config/broken.yaml", "--config", "config/new.yaml")
    assert (
        "error: config/broken.yaml: backend.key: s3://acme-state/shared/terraform.tfstate is also the state of "
        "'new' (config/new.yaml)" in result.stderr
    )
    assert "error: config/broken.yaml: fleets.chat.autoscaling_group" in result.stderr
    data["backend"]["bucket"] = "Not_A_Bucket"
    broken.write_text(yaml.safe_dump(data))
    result = check_in(tmp_path, "--config", "config/new.yaml")
    assert result.returncode == 0, result.stderr


def test_environment_files_that_are_not_regular_files(tmp_path):
    """A FIFO (reading it would block), a device (endless) or a folder named like an
    environment file: a clear problem each, no hang."""
    (tmp_path / "config").mkdir()
    os.mkfifo(tmp_path / "config" / "pipe.yaml")
    (tmp_path / "config" / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "config" / "folder.yaml").mkdir()
    result = check_in(tmp_path)
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("error: ")] == [
        f"error: config/{name}.yaml: is not a regular file" for name in ("folder", "pipe", "zero")
    ], result.stderr


def test_an_alias_of_an_environment_file_is_another_environment_file(tmp_path):
    """A symlink in config/ to another environment file is not silently merged with it
    (generated Atlantis projects would watch the alias): two files, one name."""
    write_env(tmp_path / "config" / "prod.yaml", "prod", {"type": "local"})
    (tmp_path / "config" / "a-prod.yaml").symlink_to("prod.yaml")
    result = check_in(tmp_path)
    assert result.returncode == 2
    assert "error: config/prod.yaml: name: 'prod' is already the name of config/a-prod.yaml" in result.stderr


def test_missing_file():
    result = run_main("--config", "config/nope.yaml", "--check")
    assert result.returncode == 2
    assert "error: config/nope.yaml: cannot read the file" in result.stderr


def test_interpreter_without_the_packages_gets_a_clear_error():
    """`python main.py` outside the project's .venv (here: without site-packages at all)
    says which package is missing and how to install it: exit 1, no traceback."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-S", "main.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.match(r"error: Python package '(yaml|pydantic)' is not installed for ", result.stderr), result.stderr
    assert "make synth" in result.stderr and ".venv/bin/python main.py" in result.stderr


def test_config_taking_the_name_of_another_environment_file(tmp_path):
    """`--config other.yaml` whose name is also config/dev.yaml's would replace dev's stack
    folder in cdktf.out (next to its local state): refused there, fine elsewhere."""
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["fleets"]["chat"]["launch_template"].pop("user_data_file")
    other = tmp_path / "my-dev.yaml"
    other.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_main("--config", str(other))  # refused before anything is loaded or written
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"error: {other}: name: 'dev' is also the name of config/dev.yaml: its stack folder "
        "(and local state) would be replaced; stack names must be unique"
    )
    # Validation only, or another output folder: no clash.
    assert run_main("--config", str(other), "--check").returncode == 0
    assert run_main("--config", str(other), "--check", "--outdir", str(tmp_path / "out")).returncode == 0
