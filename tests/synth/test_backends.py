"""State backends: the block each kind synthesizes, strict validation through the real
command line, the S3 backend round-tripping state against the local S3 emulator (moto),
and synthesis keeping Terraform's files and warning when a backend changes.

The moto server here is this module's own (a free 127.0.0.1 port, stopped at the end);
it is independent of any other emulator fixture.
"""

from __future__ import annotations

import base64
import copy
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import EXAMPLES, ROOT, load_stacks, read_tree, run_main, terraform, terraform_env

from stacks.config import load_config

REGION = "us-east-1"


def dev() -> dict:
    return yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def backend_of(stack: dict) -> dict:
    tf = stack["terraform"]
    return {k: tf[k] for k in ("backend", "cloud") if k in tf}


# --------------------------------------------------------------------------------------
# The examples: one per backend kind, each with the exact block expected
# --------------------------------------------------------------------------------------


def test_every_backend_kind_has_an_example():
    kinds = {p.stem: load_config(p).backend.type for p in EXAMPLES}
    assert {"local", "s3", "cloud"} <= set(kinds.values()), kinds
    assert kinds["dev"] == "local", "dev must stay local: other tests apply it against moto"


def test_dev_local_backend_block(stacks):
    assert backend_of(stacks["dev"]) == {"backend": {"local": {"path": "terraform.tfstate"}}}


def test_prod_s3_backend_block(stacks):
    assert backend_of(stacks["prod"]) == {
        "backend": {
            "s3": {
                "bucket": "acme-ml-platform-terraform-state",
                "key": "ai-fleet/prod/terraform.tfstate",  # default, from the stack name only
                "region": "us-east-1",  # default, the environment's region
                "encrypt": True,
                "use_lockfile": True,
                "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
                "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/terraform-state"},
            }
        }
    }


def test_staging_cloud_block(stacks):
    cloud = backend_of(stacks["staging"])
    assert cloud == {
        "cloud": {
            "organization": "acme-ml-platform",
            # The workspace name is configured, not derived from the stack name.
            "workspaces": {"name": "ai-fleet-staging", "project": "AI Fleet"},
        }
    }
    # Exactly these keys: in particular no API token (it comes from TF_TOKEN_<host>).


# --------------------------------------------------------------------------------------
# Variants, synthesized together in one process (with the round-trip stack below)
# --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A moto server on a free 127.0.0.1 port with a state bucket (versioning on), a KMS
    key and the role the backend assumes. Yields (endpoint URL, KMS key ARN, S3 client)."""
    import boto3

    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        kw = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "test", "aws_secret_access_key": "test"}
        s3 = boto3.client("s3", **kw)
        s3.create_bucket(Bucket="ai-fleet-rt-state")
        s3.put_bucket_versioning(Bucket="ai-fleet-rt-state", VersioningConfiguration={"Status": "Enabled"})
        key_arn = boto3.client("kms", **kw).create_key(Description="terraform state")["KeyMetadata"]["Arn"]
        boto3.client("iam", **kw).create_role(
            RoleName="terraform-state",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        yield url, key_arn, s3
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


VARIANTS = {
    "bk-local-path": {"type": "local", "path": "state/dev.tfstate"},
    "bk-s3-dynamodb": {"type": "s3", "bucket": "acme-tf-state", "dynamodb_table": "terraform-locks"},
    "bk-s3-migrating": {
        "type": "s3",
        "bucket": "acme-tf-state",
        "dynamodb_table": "terraform-locks",
        "use_lockfile": True,
    },
    "bk-s3-explicit": {
        "type": "s3",
        "bucket": "acme.tf-state.eu",
        "key": "teams/ml/serving=chat/terraform.tfstate",
        "region": "eu-west-1",
        "kms_key_id": "mrk-1234abcd12ab34cd56ef1234567890ab",
        "assume_role": {
            "role_arn": "arn:aws:iam::210987654321:role/platform/terraform-state",
            "session_name": "ai-fleet",
            "external_id": "ai-fleet-ci",
        },
    },
    "bk-cloud-tags": {
        "type": "cloud",
        "organization": "acme",
        "hostname": "tfe.example.com",
        "workspaces": {"tags": ["ai-fleet", "env:test"], "project": "AI Fleet"},
    },
}


@pytest.fixture(scope="module")
def variants(moto, tmp_path_factory):
    """Synthesize the variants and the round-trip stack in one process; return the
    parsed stacks by name."""
    _, key_arn, _ = moto
    root = tmp_path_factory.mktemp("variants")
    (root / "user_data").mkdir()
    shutil.copy2(ROOT / "user_data" / "vllm.sh", root / "user_data" / "vllm.sh")
    (root / "config").mkdir()
    backends = dict(VARIANTS)
    backends["bk-rt"] = {
        "type": "s3",
        "bucket": "ai-fleet-rt-state",
        "kms_key_id": key_arn,
        "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/terraform-state"},
    }
    args = []
    for name, backend in backends.items():
        data = dev()
        data["name"], data["backend"] = name, backend
        path = root / "config" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        args += ["--config", str(path)]
    out = root / "cdktf.out"
    result = run_main(*args, "--outdir", str(out))
    assert result.returncode == 0, result.stderr
    return load_stacks(out)


def test_local_path_variant(variants):
    assert backend_of(variants["bk-local-path"]) == {"backend": {"local": {"path": "state/dev.tfstate"}}}


def test_dynamodb_locking_replaces_the_lock_file(variants):
    s3 = backend_of(variants["bk-s3-dynamodb"])["backend"]["s3"]
    assert s3["dynamodb_table"] == "terraform-locks"
    assert "use_lockfile" not in s3
    assert s3["encrypt"] is True and s3["key"] == "ai-fleet/bk-s3-dynamodb/terraform.tfstate"


def test_both_locks_while_migrating_from_dynamodb(variants):
    s3 = backend_of(variants["bk-s3-migrating"])["backend"]["s3"]
    assert s3["dynamodb_table"] == "terraform-locks" and s3["use_lockfile"] is True


def test_explicit_s3_settings(variants):
    assert backend_of(variants["bk-s3-explicit"]) == {
        "backend": {
            "s3": {
                "bucket": "acme.tf-state.eu",
                "key": "teams/ml/serving=chat/terraform.tfstate",
                "region": "eu-west-1",
                "encrypt": True,
                "use_lockfile": True,
                "kms_key_id": "mrk-1234abcd12ab34cd56ef1234567890ab",
                "assume_role": {
                    "role_arn": "arn:aws:iam::210987654321:role/platform/terraform-state",
                    "session_name": "ai-fleet",
                    "external_id": "ai-fleet-ci",
                },
            }
        }
    }


def test_cloud_tags_and_hostname(variants):
    assert backend_of(variants["bk-cloud-tags"]) == {
        "cloud": {
            "organization": "acme",
            "hostname": "tfe.example.com",
            "workspaces": {"tags": ["ai-fleet", "env:test"], "project": "AI Fleet"},
        }
    }


def test_backend_choice_changes_nothing_else(variants):
    """Only the state settings differ between backends: same resources, same names."""
    stacks = {n: copy.deepcopy(s) for n, s in variants.items()}
    shapes = set()
    for name, s in stacks.items():
        s["terraform"].pop("backend", None)
        s["terraform"].pop("cloud", None)
        s.pop("//")
        for lt in s["resource"].get("aws_launch_template", {}).values():
            if "user_data" in lt:  # names the environment (FLEET_ENVIRONMENT), base64-encoded
                lt["user_data"] = base64.b64decode(lt["user_data"]).decode()
        text = json.dumps(s, sort_keys=True).replace(name, "NAME")
        shapes.add(text)
    assert len(shapes) == 1


# --------------------------------------------------------------------------------------
# The S3 backend for real: terraform init/apply against moto, then a second init
# --------------------------------------------------------------------------------------


def _tiny_stack(stack: dict) -> dict:
    """The synthesized terraform settings (backend, required providers) and provider of
    ``stack``, with one small resource instead of the fleet (an ALB takes a minute in
    moto; the backend is what is under test)."""
    return {
        "terraform": stack["terraform"],
        "provider": stack["provider"],
        "resource": {"aws_cloudwatch_log_group": {"marker": {"name": "/ai-fleet/backend-round-trip"}}},
        "output": {"marker_arn": {"value": "${aws_cloudwatch_log_group.marker.arn}"}},
    }


def _provider_override(url: str) -> dict:
    # Test-only: point the AWS provider at moto with dummy credentials.
    return {
        "provider": {
            "aws": [
                {
                    "region": REGION,
                    "access_key": "test",
                    "secret_key": "test",
                    "skip_credentials_validation": True,
                    "skip_metadata_api_check": True,
                    "endpoints": [{"logs": url, "sts": url, "iam": url}],
                }
            ]
        }
    }


def _backend_override(url: str) -> str:
    # Test-only partial backend configuration (terraform init -backend-config=FILE): it is
    # merged into the synthesized s3 block, which keeps bucket, key, region, encrypt,
    # use_lockfile, kms_key_id and assume_role.
    return (
        f'endpoints = {{\n  s3  = "{url}"\n  sts = "{url}"\n  iam = "{url}"\n}}\n'
        "use_path_style              = true\n"
        "skip_credentials_validation = true\n"
        "skip_region_validation      = true\n"
        "skip_requesting_account_id  = true\n"
        "skip_metadata_api_check     = true\n"
        'access_key                  = "test"\n'
        'secret_key                  = "test"\n'
    )


def _workdir(path: Path, stack: dict, url: str) -> Path:
    path.mkdir()
    (path / "cdk.tf.json").write_text(json.dumps(_tiny_stack(stack), indent=2))
    (path / "moto_override.tf.json").write_text(json.dumps(_provider_override(url), indent=2))
    (path / "moto.s3.tfbackend").write_text(_backend_override(url))
    return path


def test_s3_backend_round_trips_state_through_moto(variants, moto, tmp_path):
    assert shutil.which("terraform"), "terraform must be on the PATH"
    url, key_arn, s3 = moto
    stack = variants["bk-rt"]
    block = stack["terraform"]["backend"]["s3"]
    bucket, key = block["bucket"], block["key"]
    assert key == "ai-fleet/bk-rt/terraform.tfstate" and block["use_lockfile"] is True
    tf_env = terraform_env(tmp_path)
    init = ["init", "-input=false", "-no-color", "-backend-config=moto.s3.tfbackend"]

    first = _workdir(tmp_path / "first", stack, url)
    result = terraform(init, first, tf_env)
    assert result.returncode == 0, result.stdout + result.stderr
    result = terraform(["apply", "-auto-approve", "-input=false", "-no-color"], first, tf_env)
    assert result.returncode == 0, result.stdout + result.stderr

    # The state object is in the bucket, at the synthesized key, encrypted with the key.
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn
    state = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert [(r["type"], r["name"]) for r in state["resources"]] == [("aws_cloudwatch_log_group", "marker")]
    assert not (first / "terraform.tfstate").exists(), "no local state next to an s3 backend"
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {key}, "the lock file is released after apply"

    # A fresh working folder (another machine, another CI run) reads the state back.
    second = _workdir(tmp_path / "second", stack, url)
    result = terraform(init, second, tf_env)
    assert result.returncode == 0, result.stdout + result.stderr
    result = terraform(["state", "list", "-no-color"], second, tf_env)
    assert result.stdout.split() == ["aws_cloudwatch_log_group.marker"], result.stdout + result.stderr
    result = terraform(["plan", "-refresh=false", "-detailed-exitcode", "-input=false", "-no-color"], second, tf_env)
    assert result.returncode == 0, "no changes expected: " + result.stdout + result.stderr

    # use_lockfile really locks: with another run's lock file present, a state change is refused.
    s3.put_object(Bucket=bucket, Key=f"{key}.tflock", Body=b'{"ID":"other-run","Who":"ci@elsewhere"}')
    try:
        result = terraform(
            ["state", "rm", "-lock-timeout=0s", "-no-color", "aws_cloudwatch_log_group.marker"], second, tf_env
        )
        assert result.returncode != 0 and "Error acquiring the state lock" in result.stderr, (
            result.stdout + result.stderr
        )
    finally:
        s3.delete_object(Bucket=bucket, Key=f"{key}.tflock")
    result = terraform(["state", "list", "-no-color"], second, tf_env)
    assert result.stdout.split() == ["aws_cloudwatch_log_group.marker"]


# --------------------------------------------------------------------------------------
# Strict validation through the command line
# --------------------------------------------------------------------------------------

BAD_BACKENDS = [
    (
        "unknown-type",
        {"type": "gcs", "bucket": "x"},
        "backend",
        "'gcs' is not allowed: backend type must be one of local, s3, cloud",
    ),
    ("not-a-mapping", "s3", "backend", "must be a mapping with a 'type' key"),
    (
        "local-absolute",
        {"type": "local", "path": "/var/lib/terraform.tfstate"},
        "backend.path",
        "must be a relative path",
    ),
    ("local-dotdot", {"type": "local", "path": "../../state.tfstate"}, "backend.path", "must be a relative path"),
    ("s3-no-bucket", {"type": "s3"}, "backend.bucket", "required field is missing"),
    ("s3-bucket-case", {"type": "s3", "bucket": "Acme_State"}, "backend.bucket", "is not a valid S3 bucket name"),
    ("s3-bucket-ip", {"type": "s3", "bucket": "192.168.1.10"}, "backend.bucket", "not be formatted as an IP address"),
    ("s3-bucket-reserved", {"type": "s3", "bucket": "state--x-s3"}, "backend.bucket", "reserved suffix '--x-s3'"),
    (
        "s3-key-absolute",
        {"type": "s3", "bucket": "acme-state", "key": "/prod/terraform.tfstate"},
        "backend.key",
        "is not allowed",
    ),
    (
        "s3-key-dotdot",
        {"type": "s3", "bucket": "acme-state", "key": "a/../b.tfstate"},
        "backend.key",
        "'..' are not allowed",
    ),
    (
        "s3-key-double-slash",
        {"type": "s3", "bucket": "acme-state", "key": "a//b.tfstate"},
        "backend.key",
        "contain '//'",
    ),
    (
        "s3-no-encrypt",
        {"type": "s3", "bucket": "acme-state", "encrypt": False},
        "backend.encrypt",
        "Input should be True",
    ),
    (
        "s3-no-lock",
        {"type": "s3", "bucket": "acme-state", "use_lockfile": False},
        "backend.use_lockfile",
        "state locking is required",
    ),
    (
        "s3-kms-alias",
        {"type": "s3", "bucket": "acme-state", "kms_key_id": "alias/terraform"},
        "backend.kms_key_id",
        "not an alias",
    ),
    ("s3-bad-region", {"type": "s3", "bucket": "acme-state", "region": "Europe"}, "backend.region", "is not allowed"),
    (
        "s3-role-not-iam",
        {"type": "s3", "bucket": "acme-state", "assume_role": {"role_arn": "arn:aws:s3:::acme-state"}},
        "backend.assume_role.role_arn",
        "IAM role ARN",
    ),
    (
        "s3-credentials",
        {"type": "s3", "bucket": "acme-state", "access_key": "AKIA0000"},
        "backend.access_key",
        "unknown key",
    ),
    (
        "cloud-no-workspace",
        {"type": "cloud", "organization": "acme", "workspaces": {}},
        "backend.workspaces",
        "exactly one of name",
    ),
    (
        "cloud-name-and-tags",
        {"type": "cloud", "organization": "acme", "workspaces": {"name": "a", "tags": ["b"]}},
        "backend.workspaces",
        "exactly one of name",
    ),
    (
        "cloud-bad-workspace",
        {"type": "cloud", "organization": "acme", "workspaces": {"name": "ai fleet/prod"}},
        "backend.workspaces.name",
        "1-90 letters",
    ),
    (
        "cloud-long-workspace",
        {"type": "cloud", "organization": "acme", "workspaces": {"name": "w" * 91}},
        "backend.workspaces.name",
        "1-90 letters",
    ),
    (
        "cloud-bad-org",
        {"type": "cloud", "organization": "acme corp", "workspaces": {"name": "a"}},
        "backend.organization",
        "is not allowed",
    ),
    (
        "cloud-url-hostname",
        {"type": "cloud", "organization": "acme", "hostname": "https://tfe.example.com", "workspaces": {"name": "a"}},
        "backend.hostname",
        "without scheme",
    ),
    (
        "cloud-token",
        {"type": "cloud", "organization": "acme", "token": "secret", "workspaces": {"name": "a"}},
        "backend.token",
        "unknown key",
    ),
    (
        "cloud-short-project",
        {"type": "cloud", "organization": "acme", "workspaces": {"name": "a", "project": "x"}},
        "backend.workspaces.project",
        "3-40",
    ),
]


@pytest.mark.parametrize("case", BAD_BACKENDS, ids=[c[0] for c in BAD_BACKENDS])
def test_bad_backend_exits_2_and_names_the_field(case, tmp_path):
    _, backend, field, fragment = case
    data = dev()
    data["fleets"]["chat"]["launch_template"].pop("user_data_file")
    data["backend"] = backend
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_main("--config", str(path), "--check")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert any(
        line.startswith(f"error: {path}: {field}: ") and fragment in line for line in result.stderr.splitlines()
    ), result.stderr


def test_cloud_stack_without_terraform_cli_fails_clearly(tmp_path):
    """cdktf checks the Terraform version while synthesizing a cloud block: without the
    CLI the command says so, and writes nothing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "node").symlink_to(shutil.which("node"))
    out = tmp_path / "out"
    result = run_main("--config", "config/staging.yaml", "--outdir", str(out), extra_env={"PATH": str(bin_dir)})
    assert result.returncode == 1
    assert "use the cloud backend" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


# --------------------------------------------------------------------------------------
# Re-synthesis keeps Terraform's files and warns when the backend changes
# --------------------------------------------------------------------------------------


def test_resynthesis_keeps_state_and_warns_about_backend_changes(synth_dir, tmp_path):
    out = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir, out)
    dev_dir = out / "stacks" / "dev"
    (dev_dir / "terraform.tfstate").write_text('{"serial": 7}')
    (dev_dir / ".terraform").mkdir()
    (dev_dir / ".terraform" / "terraform.tfstate").write_text('{"backend": {"type": "local"}}')
    (dev_dir / ".terraform.lock.hcl").write_text("# lock\n")
    (dev_dir / "dev-default.tfplan").write_bytes(b"plan")
    (dev_dir / "topology.md").write_text("# stale diagram from the last make report\n")
    # A stack whose config is gone but whose state is still here.
    gone = out / "stacks" / "retired"
    gone.mkdir()
    (gone / "cdk.tf.json").write_text("{}")
    (gone / "terraform.tfstate").write_text('{"serial": 3}')
    # prod was synthesized with a local backend before it moved to S3.
    prod_json = json.loads((out / "stacks" / "prod" / "cdk.tf.json").read_text())
    prod_json["terraform"]["backend"] = {"local": {"path": "terraform.tfstate"}}
    (out / "stacks" / "prod" / "cdk.tf.json").write_text(json.dumps(prod_json))

    result = run_main("--outdir", str(out))
    assert result.returncode == 0, result.stderr
    assert (dev_dir / "terraform.tfstate").read_text() == '{"serial": 7}'
    assert (dev_dir / ".terraform" / "terraform.tfstate").is_file()
    assert (dev_dir / ".terraform.lock.hcl").is_file() and (dev_dir / "dev-default.tfplan").is_file()
    assert not (dev_dir / "topology.md").exists(), "the report's diagram described the old stack"
    assert (dev_dir / "cdk.tf.json").read_bytes() == (synth_dir / "stacks" / "dev" / "cdk.tf.json").read_bytes()
    assert (gone / "terraform.tfstate").read_text() == '{"serial": 3}'
    assert "warning: stack retired is no longer configured" in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: stack prod:")]
    assert len(warnings) == 1 and "terraform init -migrate-state" in warnings[0], result.stderr
    assert "s3://acme-ml-platform-terraform-state/ai-fleet/prod/terraform.tfstate" in warnings[0]
    assert "stack dev:" not in result.stderr and "stack staging:" not in result.stderr
    # The manifest lists only configured stacks; the generated files are unchanged.
    assert json.loads((out / "manifest.json").read_text())["stacks"].keys() == {p.stem for p in EXAMPLES}
    fresh = read_tree(synth_dir)
    now = read_tree(out)
    assert {k: v for k, v in now.items() if k in fresh} == fresh

    # A partial synthesis keeps the other stacks' Terraform files as well.
    (out / "stacks" / "prod" / "terraform.tfstate").write_text('{"serial": 1}')
    result = run_main("--config", "config/dev.yaml", "--outdir", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "stacks" / "prod" / "terraform.tfstate").read_text() == '{"serial": 1}'
    assert (dev_dir / "terraform.tfstate").read_text() == '{"serial": 7}'


def test_describe_change():
    from stacks.backend import describe_change

    local = {"terraform": {"backend": {"local": {"path": "terraform.tfstate"}}}}
    s3 = {"terraform": {"backend": {"s3": {"bucket": "b", "key": "k", "region": "us-east-1", "encrypt": True}}}}
    s3_locked = copy.deepcopy(s3)
    s3_locked["terraform"]["backend"]["s3"]["use_lockfile"] = True
    cloud = {"terraform": {"cloud": {"organization": "acme", "workspaces": {"name": "w"}}}}
    assert describe_change(local, local) is None
    assert "from local (terraform.tfstate) to s3 (s3://b/k in us-east-1)" in describe_change(local, s3)
    assert "-migrate-state" in describe_change(s3, cloud)
    assert "workspace w" in describe_change(s3, cloud)
    assert "-reconfigure" in describe_change(s3, s3_locked)


def test_cloud_stack_with_old_terraform_cli_fails_clearly(tmp_path):
    """The cloud block needs Terraform >= 1.1: an older CLI on the PATH stops the synth
    before anything is written (checked once per run, stacks/backend.py)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "node").symlink_to(shutil.which("node"))
    fake = bin_dir / "terraform"
    fake.write_text('#!/bin/sh\necho \'{"terraform_version": "1.0.11", "platform": "linux_amd64"}\'\n')
    fake.chmod(0o755)
    out = tmp_path / "out"
    result = run_main(
        "--config", "config/staging.yaml", "--outdir", str(out), extra_env={"PATH": f"{bin_dir}:/usr/bin:/bin"}
    )
    assert result.returncode == 1, result.stderr
    assert (
        "stack(s) staging use the cloud backend, which needs Terraform >= 1.1: `terraform` on the PATH is 1.0.11"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not out.exists()
