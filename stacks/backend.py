"""The Terraform state backend of a stack, from the environment's ``backend`` section.

:func:`add_backend` adds the block to a stack: ``backend "local"``, ``backend "s3"``
or a ``cloud`` block (HCP Terraform / Terraform Enterprise). :func:`backend_block` and
:func:`describe_change` read the block back from synthesized JSON, so synthesis can
warn when a re-synthesis points an existing stack at different state.

Terraform docs followed: https://developer.hashicorp.com/terraform/language/backend/local,
.../language/backend/s3 and .../terraform/cli/cloud/settings.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .config import BackendConfig, CloudBackend, LocalBackend, S3Backend

if TYPE_CHECKING:
    import cdktf


def add_backend(
    stack: cdktf.TerraformStack, backend: BackendConfig, *, name: str, region: str
) -> cdktf.TerraformBackend | cdktf.CloudBackend:
    """Add ``backend`` to ``stack``, the stack of environment ``name`` in ``region`` (the
    S3 key and region defaults); return the construct.

    Only values from the config end up in the block: no credentials, tokens or
    machine-specific paths (the local path is relative to the stack folder; AWS
    credentials and the HCP Terraform token come from the environment at run time).
    The ``cloud`` block needs Terraform >= 1.1: ``python main.py`` checks the CLI on
    the PATH once before synthesizing such a stack
    (:func:`stacks.cli.common.terraform_cli_problem`).
    """
    import cdktf  # deferred: loading cdktf starts the jsii runtime

    b = backend
    if isinstance(b, LocalBackend):
        return cdktf.LocalBackend(stack, path=b.path)
    if isinstance(b, S3Backend):
        assume_role = None
        if b.assume_role is not None:
            assume_role = cdktf.S3BackendAssumeRoleConfig(
                role_arn=b.assume_role.role_arn,
                session_name=b.assume_role.session_name,
                external_id=b.assume_role.external_id,
            )
        s3 = cdktf.S3Backend(
            stack,
            bucket=b.bucket,
            key=b.state_key(name),
            region=b.region or region,
            encrypt=True,
            kms_key_id=b.kms_key_id,
            dynamodb_table=b.dynamodb_table,
            assume_role=assume_role,
        )
        if b.lockfile:
            # cdktf 0.21's S3BackendConfig predates Terraform 1.10's use_lockfile.
            s3.add_override("use_lockfile", True)
        return s3
    if isinstance(b, CloudBackend):
        ws = b.workspaces
        workspaces: cdktf.NamedCloudWorkspace | cdktf.TaggedCloudWorkspaces
        if ws.name is not None:
            workspaces = cdktf.NamedCloudWorkspace(ws.name, ws.project)
        else:
            workspaces = cdktf.TaggedCloudWorkspaces(list(ws.tags or []), ws.project)
        return cdktf.CloudBackend(stack, organization=b.organization, hostname=b.hostname, workspaces=workspaces)
    raise TypeError(f"unknown backend {b!r}")  # pragma: no cover - the model forbids it


def backend_block(stack_json: dict) -> dict:
    """The state settings of a synthesized stack: ``{"backend": {...}}``, ``{"cloud": {...}}``
    or ``{}`` (Terraform's implicit local backend)."""
    tf = stack_json.get("terraform", {})
    return {k: tf[k] for k in ("backend", "cloud") if k in tf}


def _summary(block: dict) -> str:
    if "cloud" in block:
        c = block["cloud"]
        ws = c.get("workspaces", {})
        target = f"workspace {ws['name']}" if "name" in ws else f"workspaces tagged {ws.get('tags')}"
        return f"cloud ({c.get('hostname', 'app.terraform.io')}, organization {c.get('organization')}, {target})"
    if "backend" in block:
        ((kind, args),) = block["backend"].items()
        if kind == "s3":
            return f"s3 (s3://{args.get('bucket')}/{args.get('key')} in {args.get('region')})"
        if kind == "local":
            return f"local ({args.get('path')})"
        return f"{kind} {json.dumps(args, sort_keys=True)}"
    return "local (terraform.tfstate)"


def describe_change(old_stack_json: dict, new_stack_json: dict) -> str | None:
    """One line describing how the state location changed between two syntheses of a
    stack, or None when it did not (settings that do not move the state, like
    ``use_lockfile`` or the role to assume, count as changes too: they need
    ``terraform init -reconfigure``)."""
    old, new = backend_block(old_stack_json), backend_block(new_stack_json)
    if old == new:
        return None
    before, after = _summary(old), _summary(new)
    if before == after:
        return f"backend settings changed ({after}); run `terraform init -reconfigure`"
    return (
        f"state moves from {before} to {after}; run `terraform init -migrate-state` in the "
        "stack folder before any plan (docs/state-backends.md: Changing the backend of a "
        "deployed environment)"
    )
