"""The Terraform state backend of a stack, from the environment's ``backend`` section.

:func:`add_backend` adds the block to a stack: ``backend "local"``, ``backend "s3"``
or a ``cloud`` block (HCP Terraform / Terraform Enterprise). :func:`backend_block` and
:func:`describe_change` read the block back from synthesized JSON, so the command line
can warn when a re-synthesis points an existing stack at different state.

Terraform docs followed: https://developer.hashicorp.com/terraform/language/backend/local,
.../language/backend/s3 and .../terraform/cli/cloud/settings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from typing import Any

from .config import Backend, CloudBackend, EnvironmentConfig, LocalBackend, S3Backend


def add_backend(stack, cfg: EnvironmentConfig):
    """Add ``cfg.backend`` to ``stack`` (a ``cdktf.TerraformStack``); return the construct.

    Only values from the config end up in the block: no credentials, tokens or
    machine-specific paths (the local path is relative to the stack folder; AWS
    credentials and the HCP Terraform token come from the environment at run time).
    The ``cloud`` block needs Terraform >= 1.1: ``python main.py`` checks the CLI on
    the PATH once before synthesizing such a stack (:func:`terraform_cli_problem`).
    """
    import cdktf  # deferred: loading cdktf starts the jsii runtime

    b = cfg.backend
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
        backend = cdktf.S3Backend(
            stack,
            bucket=b.bucket,
            key=b.state_key(cfg.name),
            region=b.region or cfg.region,
            encrypt=True,
            kms_key_id=b.kms_key_id,
            dynamodb_table=b.dynamodb_table,
            assume_role=assume_role,
        )
        if b.lockfile:
            # cdktf 0.21's S3BackendConfig predates Terraform 1.10's use_lockfile.
            backend.add_override("use_lockfile", True)
        return backend
    if isinstance(b, CloudBackend):
        ws = b.workspaces
        if ws.name is not None:
            workspaces = cdktf.NamedCloudWorkspace(ws.name, ws.project)
        else:
            workspaces = cdktf.TaggedCloudWorkspaces(list(ws.tags or []), ws.project)
        return cdktf.CloudBackend(
            stack, organization=b.organization, hostname=b.hostname, workspaces=workspaces
        )
    raise TypeError(f"unknown backend {b!r}")  # pragma: no cover - the model forbids it


def needs_terraform_cli(configs: list[tuple[Any, EnvironmentConfig]]) -> list[str]:
    """Names of the stacks whose synthesis checks the Terraform CLI (``cloud`` backends:
    the ``cloud`` block needs Terraform >= 1.1)."""
    return [cfg.name for _, cfg in configs if isinstance(cfg.backend, CloudBackend)]


#: Oldest Terraform that understands the ``cloud`` block (Terraform 1.1).
CLOUD_BLOCK_MIN_TERRAFORM = (1, 1)


def terraform_cli_problem(cloud_stacks: list[str]) -> str | None:
    """Why the Terraform CLI on the PATH cannot run ``cloud_stacks`` (stacks with a
    ``cloud`` block), or None when it can (or there are none).

    cdktf's own check (``ValidateTerraformVersion`` on the ``CloudBackend``) runs
    ``terraform version`` twice per cloud stack during synthesis; the synth turns cdktf's
    validations off and runs this once instead: ``terraform version -json``, at least
    :data:`CLOUD_BLOCK_MIN_TERRAFORM`.
    """
    if not cloud_stacks:
        return None
    stacks = f"stack(s) {', '.join(cloud_stacks)} use the cloud backend, which needs Terraform >= 1.1"
    exe = shutil.which("terraform")
    if exe is None:
        return f"{stacks}: `terraform` must be on the PATH"
    try:
        result = subprocess.run(
            [exe, "version", "-json"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return f"{stacks}: `terraform version -json` did not run"
    # JSON since Terraform 0.13; older releases and wrappers print "Terraform v1.2.3".
    try:
        version = str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        m = re.search(r"Terraform v?(\d+\.\d+[^\s]*)", result.stdout)
        version = m.group(1) if m else ""
    m = re.match(r"(\d+)\.(\d+)", version)
    if not m:
        return f"{stacks}: `terraform version -json` did not report a version"
    found = (int(m.group(1)), int(m.group(2)))
    if found < CLOUD_BLOCK_MIN_TERRAFORM:
        return f"{stacks}: `terraform` on the PATH is {version}"
    return None


#: Region name prefixes of the AWS partitions other than ``aws``.
PARTITION_PREFIXES = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-iso-", "aws-iso"),
                      ("us-isob-", "aws-iso-b"), ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"))


def _partition(region: str) -> str:
    """The AWS partition of a region: S3 bucket names are unique within one."""
    for prefix, partition in PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


def state_location(name: str, region: str, backend: Backend) -> str | None:
    """Where the Terraform state of environment ``name`` (in ``region``) lives, when
    another environment could name the same place: ``s3://<bucket>/<key>`` (with the
    partition in front outside the ``aws`` partition: bucket names are unique per
    partition, so the bucket's region does not matter otherwise) or
    ``cloud://<hostname>/<organization>/<workspace>`` (hostname defaulting to
    app.terraform.io, without a ``:443`` port; organization and workspace lower-cased,
    as HCP Terraform matches those names without regard to case). Returns None for
    local state, which lives in the stack's own folder, and for a ``cloud`` backend that
    selects workspaces by tags (the workspace is chosen at run time)."""
    if isinstance(backend, S3Backend):
        partition = _partition(backend.region or region)
        prefix = "" if partition == "aws" else f"{partition}:"
        return f"{prefix}s3://{backend.bucket}/{backend.state_key(name)}"
    if isinstance(backend, CloudBackend) and backend.workspaces.name is not None:
        host = (backend.hostname or "app.terraform.io").removesuffix(":443")
        return f"cloud://{host}/{backend.organization.lower()}/{backend.workspaces.name.lower()}"
    return None


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
        "stack folder before any plan (README: Changing the backend of a deployed environment)"
    )
