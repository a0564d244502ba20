"""stacks/backend.py: the state backend block of a stack (local, s3 or cloud)."""

from __future__ import annotations

from construct_testing import build
from pydantic import TypeAdapter

from stacks.backend import add_backend, backend_block, describe_change
from stacks.config import BackendConfig


def block(section):
    backend = TypeAdapter(BackendConfig).validate_python(section)
    built, _ = build(lambda s: add_backend(s, backend, name="prod", region="us-east-1"))
    return built.doc["terraform"]


def test_local_state_stays_in_the_stack_folder():
    assert block({})["backend"] == {"local": {"path": "terraform.tfstate"}}


def test_s3_state_is_encrypted_locked_and_keyed_by_the_stack_name():
    tf = block({"type": "s3", "bucket": "acme-state", "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/tf"}})
    assert tf["backend"] == {
        "s3": {
            "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/tf"},
            "bucket": "acme-state",
            "encrypt": True,
            "key": "ai-fleet/prod/terraform.tfstate",
            "region": "us-east-1",
            "use_lockfile": True,
        }
    }
    locked = block({"type": "s3", "bucket": "acme-state", "dynamodb_table": "locks", "region": "eu-west-1"})
    assert locked["backend"]["s3"]["dynamodb_table"] == "locks" and "use_lockfile" not in locked["backend"]["s3"]
    assert locked["backend"]["s3"]["region"] == "eu-west-1"


def test_cloud_block_names_one_workspace_or_tags():
    named = block({"type": "cloud", "organization": "acme", "workspaces": {"name": "ai-prod", "project": "AI Fleet"}})
    assert named["cloud"] == {"organization": "acme", "workspaces": {"name": "ai-prod", "project": "AI Fleet"}}
    tagged = block(
        {"type": "cloud", "organization": "acme", "hostname": "tfe.example.com", "workspaces": {"tags": ["ai"]}}
    )
    assert tagged["cloud"] == {"hostname": "tfe.example.com", "organization": "acme", "workspaces": {"tags": ["ai"]}}


def test_a_moved_state_is_described():
    old = {"terraform": block({})}
    new = {"terraform": block({"type": "s3", "bucket": "acme-state"})}
    assert backend_block(old) == {"backend": {"local": {"path": "terraform.tfstate"}}}
    assert describe_change(old, old) is None
    change = describe_change(old, new)
    assert change is not None and change.startswith(
        "state moves from local (terraform.tfstate) to s3 (s3://acme-state/"
    )
    assert "terraform init -migrate-state" in change
