"""``backend``: where Terraform keeps the stack's state.

One of three kinds, chosen by ``type``; keys mirror the arguments of the Terraform
backend they configure (https://developer.hashicorp.com/terraform/language/backend/s3,
.../terraform/cli/cloud/settings). Changing any of them for a deployed environment
points Terraform at a different (usually empty) state: see "Changing the backend of a
deployed environment" in docs/state-backends.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, StringConstraints, Tag

from ..secrets import shown
from .base import FieldProblem, StrictModel
from .types import AwsRegion, RelativePath, S3BucketName, partition_of

BACKEND_TYPES = ("local", "s3", "cloud")


def _s3_key(value: str) -> str:
    """State object key: what the Terraform s3 backend accepts, and portable."""
    parts = value.split("/")
    if value.startswith("/") or value.endswith("/") or "//" in value:
        raise ValueError(
            f"{value!r}: the key is a relative object path inside the bucket: it must not "
            "start or end with '/' or contain '//'"
        )
    if any(part in (".", "..") for part in parts):
        raise ValueError(f"{value!r}: '.' and '..' are not allowed as key segments")
    if value.endswith(".tflock"):
        raise ValueError(
            f"{value!r}: keys ending in .tflock are Terraform's S3 lock files (<key>.tflock); "
            "another environment's lock would overwrite or delete this state"
        )
    return value


S3Key = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9!_.*'()=+,@-][A-Za-z0-9!_.*'()=+,@/-]*$"),
    AfterValidator(_s3_key),
]
# KMS key: key ID (UUID or multi-Region mrk-...) or key ARN, as the s3 backend accepts.
KmsKeyId = Annotated[
    str,
    StringConstraints(
        pattern=r"^((arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/)?"
        r"([a-f0-9]{8}-[a-f0-9]{4}-[1-5][a-f0-9]{3}-[ab89][a-f0-9]{3}-[a-f0-9]{12}|mrk-[a-f0-9]{32}))$"
    ),
    Field(description="KMS key ID or key ARN (not an alias) to encrypt the state object with."),
]
IamRoleArn = Annotated[
    str,
    StringConstraints(max_length=2048, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$"),
    Field(description="ARN of the IAM role Terraform assumes to reach the state bucket."),
]
DynamoDbTable = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,255}$"),
    Field(description="DynamoDB table for state locking (partition key LockID, type String)."),
]
# HCP Terraform / Terraform Enterprise names (HCP Terraform docs: organizations and
# workspaces take letters, digits, '-' and '_'; workspaces at most 90 characters;
# projects 3-40 characters and may contain inner spaces).
TfcOrganization = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,255}$"),
    Field(description="HCP Terraform / Terraform Enterprise organization name."),
]
TfcWorkspaceName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,90}$"),
    Field(description="Workspace name: 1-90 letters, digits, '-' and '_'. May differ from the stack name."),
]
TfcTag = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9:_-]{0,254}$"),
    Field(description="Workspace tag: letters, digits, ':', '-' and '_', starting with a letter or digit."),
]
TfcProject = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9 _-]{1,38}[A-Za-z0-9_-]$"),
    Field(description="Project the workspace belongs to: 3-40 letters, digits, inner spaces, '-' and '_'."),
]
Hostname = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+(:[0-9]{1,5})?$"
    ),
    Field(description="Host name only (no scheme or path), for example app.terraform.io or tfe.example.com."),
]


def _state_file_path(value: str) -> str:
    """A local state path must name a file Terraform may own: not a folder, not inside
    ``.terraform/``, not a file synthesis or the report rewrites, not Terraform config."""
    parts = [p for p in value.split("/") if p]
    name = parts[-1] if parts else ""
    if value.endswith("/") or name in ("", ".") or parts[0] == ".terraform":
        raise ValueError(f"{shown(value)} must name a state file (for example terraform.tfstate), not a folder")
    if name in ("cdk.tf.json", "topology.md", "manifest.json") or name.endswith((".tf", ".tf.json")):
        raise ValueError(
            f"{shown(value)} would overwrite a generated file or be read as Terraform configuration; "
            "use a name like terraform.tfstate"
        )
    return value


class LocalBackend(StrictModel):
    """Terraform ``local`` backend; ``path`` is relative to the stack's folder.

    The state then lives in ``cdktf.out/stacks/<name>/``; synthesis keeps it (and
    ``.terraform/``) when it rewrites the folder. Fine for a laptop or a throw-away
    environment; shared environments want ``s3`` or ``cloud``.
    """

    type: Literal["local"] = Field("local", description="local: state in the stack's folder.")
    path: Annotated[RelativePath, AfterValidator(_state_file_path)] = Field(
        "terraform.tfstate",
        description="Relative state file path; absolute paths, '..', folders and the "
        "generated files' names are rejected.",
    )

    def state_location(self, name: str, region: str) -> str | None:
        """None: local state lives in the stack's own folder, which no other
        environment can name."""
        return None


class S3AssumeRole(StrictModel):
    """Role Terraform assumes for the state bucket (``backend "s3"`` ``assume_role`` block)."""

    role_arn: IamRoleArn = Field(
        ..., description="IAM role ARN, for example arn:aws:iam::123456789012:role/terraform-state."
    )
    session_name: str | None = Field(
        None,
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+=,.@-]+$",
        description="Session name, 2-64 characters.",
    )
    external_id: str | None = Field(
        None,
        min_length=2,
        max_length=1224,
        pattern=r"^[A-Za-z0-9_+=,.@:/-]+$",
        description="External ID the role's trust policy requires.",
    )


class S3Backend(StrictModel):
    """Terraform ``s3`` backend: state in an existing S3 bucket, always encrypted and locked.

    ``key`` defaults to ``ai-fleet/<name>/terraform.tfstate`` (from the stack name only,
    so it never changes between runs or machines) and ``region`` to the environment's
    region. Locking uses an S3 lock file (``use_lockfile``, Terraform 1.10+) unless a
    DynamoDB table is given; give both while migrating from DynamoDB to lock files.
    """

    type: Literal["s3"] = Field(..., description="s3: state in an existing S3 bucket.")
    bucket: S3BucketName = Field(
        ..., description="Existing S3 bucket holding the state (create it with versioning on)."
    )
    key: S3Key | None = Field(
        None,
        description="State object key: a relative path in the bucket (letters, digits, "
        "!_.*'()=+,@- and '/'; no leading or trailing '/'); default "
        "ai-fleet/<name>/terraform.tfstate. Changing it for a deployed environment needs a "
        "state migration.",
    )
    region: AwsRegion | None = Field(None, description="Bucket region; default: the environment's region.")
    encrypt: Literal[True] = Field(
        True, description="Server-side encryption of the state object; always on (false is rejected)."
    )
    kms_key_id: KmsKeyId | None = Field(
        None,
        description="KMS key ID or key ARN (not an alias) to encrypt the state object with; default: SSE-S3.",
    )
    use_lockfile: bool | None = Field(
        None,
        description="S3 lock file next to the state (Terraform 1.10+). Default: true, or false "
        "when dynamodb_table is set.",
    )
    dynamodb_table: DynamoDbTable | None = Field(
        None,
        description="DynamoDB table (3-255 letters, digits, '_', '.', '-') for state locking, "
        "partition key LockID of type String. Deprecated by Terraform in favour of use_lockfile.",
    )
    assume_role: S3AssumeRole | None = Field(
        None, description="IAM role Terraform assumes to read and write the state."
    )

    @staticmethod
    def default_key(stack_name: str) -> str:
        """The state object key when ``key`` is not set: ``ai-fleet/<stack_name>/terraform.tfstate``."""
        return f"ai-fleet/{stack_name}/terraform.tfstate"

    def state_key(self, stack_name: str) -> str:
        """The state object key: explicit ``key`` or :meth:`default_key`."""
        return self.key or self.default_key(stack_name)

    @property
    def lockfile(self) -> bool:
        """Effective ``use_lockfile``: explicit, else on unless a DynamoDB table locks."""
        if self.use_lockfile is not None:
            return self.use_lockfile
        return self.dynamodb_table is None

    def state_location(self, name: str, region: str) -> str | None:
        """``s3://<bucket>/<key>`` of environment ``name``, with the partition in front
        outside the ``aws`` partition (bucket names are unique per partition, so the
        bucket's region does not matter otherwise)."""
        partition = partition_of(self.region or region)
        prefix = "" if partition == "aws" else f"{partition}:"
        return f"{prefix}s3://{self.bucket}/{self.state_key(name)}"

    def own_problems(self) -> list[FieldProblem]:
        """State locking on: a lock file or a DynamoDB table."""
        if not self.lockfile and self.dynamodb_table is None:
            return [
                (
                    "use_lockfile",
                    "state locking is required: keep use_lockfile true or set dynamodb_table "
                    "(two concurrent applies on one unlocked state corrupt it)",
                )
            ]
        return []


class CloudWorkspaces(StrictModel):
    """The ``workspaces`` block of a ``cloud`` block: one ``name`` or a set of ``tags``."""

    name: TfcWorkspaceName | None = Field(
        None,
        description="One workspace: 1-90 letters, digits, '-' and '_'. May differ from the stack name.",
    )
    tags: list[TfcTag] | None = Field(
        None,
        min_length=1,
        description="Use every workspace carrying all these tags (terraform workspace select switches between them).",
    )
    project: TfcProject | None = Field(
        None,
        description="Project (3-40 letters, digits, inner spaces, '-' and '_') new workspaces are "
        "created in; default: the organization's default project.",
    )

    def own_problems(self) -> list[FieldProblem]:
        """Exactly one of ``name`` and ``tags``."""
        if (self.name is None) == (self.tags is None):
            return [("", "set exactly one of name (one workspace) and tags (every workspace with these tags)")]
        return []


class CloudBackend(StrictModel):
    """HCP Terraform (Terraform Cloud) or Terraform Enterprise: Terraform's ``cloud`` block.

    The API token never goes in the config: set ``TF_TOKEN_<hostname>`` (dots as
    underscores, e.g. ``TF_TOKEN_app_terraform_io``) or run ``terraform login``.
    """

    type: Literal["cloud"] = Field(..., description="cloud: HCP Terraform or Terraform Enterprise.")
    organization: TfcOrganization
    hostname: Hostname | None = Field(
        None,
        description="Host name only, without scheme or path (for example tfe.example.com); "
        "default (unset): app.terraform.io.",
    )
    workspaces: CloudWorkspaces = Field(..., description="The workspace(s) holding the state.")

    def state_location(self, name: str, region: str) -> str | None:
        """``cloud://<hostname>/<organization>/<workspace>`` (hostname defaulting to
        app.terraform.io, without a ``:443`` port; organization and workspace lower-cased,
        as HCP Terraform matches those names without regard to case); None for
        workspaces selected by tags (the workspace is chosen at run time)."""
        if self.workspaces.name is None:
            return None
        host = (self.hostname or "app.terraform.io").removesuffix(":443")
        return f"cloud://{host}/{self.organization.lower()}/{self.workspaces.name.lower()}"


def _backend_type(value: Any) -> str | None:
    # ``type`` may be omitted for the local backend (the only kind before s3/cloud).
    if isinstance(value, dict):
        kind: str = value.get("type", "local")
        return kind
    return getattr(value, "type", None)


BackendConfig = Annotated[
    Annotated[LocalBackend, Tag("local")] | Annotated[S3Backend, Tag("s3")] | Annotated[CloudBackend, Tag("cloud")],
    Discriminator(
        _backend_type,
        custom_error_type="backend_type",
        custom_error_message="backend type must be one of local, s3, cloud",
    ),
]
