"""Reusable field types: AWS names, IDs and ARNs, CIDRs, tags, paths.

Each is an ``Annotated`` type with the pattern or validator of the AWS (or Terraform)
rule it follows and a description; the description is what an error message shows when
a value does not match (:func:`stacks.config.loading.parse_config`), and what
``config/schema.json`` and ``docs/configuration.md`` say about the field.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from ..secrets import shown


def _cidr(value: str) -> str:
    """An IPv4 CIDR block written as AWS and Terraform take it: ``a.b.c.d/NN`` with zero
    host bits (Python's ``ipaddress`` also accepts a bare address and netmask forms
    such as ``/255.0.0.0``, which Terraform's validation rejects)."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{shown(value)} is not a valid CIDR block such as 10.0.0.0/16 (host bits must be zero): {exc}"
        ) from None
    if net.version != 4:
        raise ValueError("only IPv4 CIDR blocks are supported here")
    if value != net.with_prefixlen:
        raise ValueError(f"{shown(value)} must be written as a.b.c.d/NN, here {net.with_prefixlen}")
    return value


def distinct_cidrs(values: list[str]) -> list[str]:
    """``values`` when no CIDR block is listed twice; raises ValueError otherwise."""
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"{shown(seen[0])} is listed twice (each CIDR block becomes one security group rule)")
    return values


Cidr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_cidr)]
Port = Annotated[int, Field(ge=1, le=65535, description="TCP port, 1-65535.")]
Percent = Annotated[int, Field(ge=0, le=100, description="Percentage, 0-100.")]
# Environment names end up in ALB, ASG, IAM and launch template names: the ALB name
# "<name>-alb" must stay within AWS's 32 characters, so the name is at most 24.
EnvName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"),
    Field(
        description="Environment and stack name: 2-24 characters, lower-case letters, "
        "digits and hyphens, starting with a letter and not ending with a hyphen."
    ),
]
FleetName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9]{0,15}$"),
    Field(description="Fleet name: 1-16 lower-case letters and digits, starting with a letter."),
]
AwsRegion = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"),
    Field(description="AWS region code, for example us-east-1."),
]
AvailabilityZone = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9][a-z]$"),
    Field(description="Availability Zone name, for example us-east-1a."),
]
VpcId = Annotated[str, StringConstraints(pattern=r"^vpc-[0-9a-f]{8,17}$")]
SubnetId = Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]
AmiId = Annotated[str, StringConstraints(pattern=r"^ami-[0-9a-f]{8,17}$")]
InstanceType = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$"),
    Field(description="EC2 instance type, for example g5.xlarge."),
]
Arn = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(aws|[0-9]{12})?:.+$")]
KmsKeyArn = Annotated[  # aws-rule: kms-key-arn
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$"),
    Field(description="KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key id>."),
]


def arn_partition(arn: str) -> str:
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov``...)."""
    return arn.split(":", 2)[1]


def arn_region(arn: str) -> str:
    """The region of an ARN; empty for global resources (IAM)."""
    return arn.split(":", 4)[3]


ManagedPolicyArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/(?:[!-.0-~]+/)*[A-Za-z0-9_+=,.@-]{1,128}$"),
    Field(
        description="IAM managed policy ARN: arn:<partition>:iam::<aws or account>:policy/"
        "[<path>/]<name>, the name 1-128 letters, digits and _+=,.@- (IAM's limits)."
    ),
]
CertificateArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:(acm:[a-z0-9-]+:[0-9]{12}:certificate/|iam::[0-9]{12}:server-certificate/).+$"
    ),
    Field(
        description="ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) "
        "or IAM server certificate ARN"
    ),
]
SecretReference = Annotated[
    str,
    StringConstraints(
        pattern=r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"
        r"|arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9_.\-/]+"
        r"|/[A-Za-z0-9_.\-/]{1,2047})$"
    ),
    Field(
        description="Secrets Manager secret ARN, SSM parameter ARN, or SSM parameter name "
        "starting with '/' (for example /ai-fleet/prod/hf-token)."
    ),
]


def is_absolute(value: str) -> bool:
    """A path that does not depend on where the config is: leading '/', '\\' or '~', or
    a Windows drive letter."""
    return value.startswith(("/", "\\", "~")) or (len(value) > 1 and value[1] == ":")


def _relative_path(value: str) -> str:
    parts = value.replace("\\", "/").split("/")
    if is_absolute(value) or ".." in parts:
        raise ValueError(
            f"{value!r} must be a relative path inside the stack folder (no leading '/', "
            "'~', drive letter or '..'), so the synthesized JSON is portable"
        )
    return value


RelativePath = Annotated[
    str,
    StringConstraints(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_.\-/]+$"),
    AfterValidator(_relative_path),
]


#: Characters AWS allows in tag keys and values besides letters, digits and spaces
#: (Elastic Load Balancing enforces it; "Tagging your AWS resources").
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def _tag_text(value: str, what: str) -> str:
    bad = sorted({c for c in value if not (c.isalnum() or c == " " or c in _TAG_PUNCTUATION)})
    if bad:
        raise ValueError(
            f"{what} {shown(value)} has {', '.join(repr(c) for c in bad[:5])}: AWS allows letters, "
            "digits, spaces and _ . : / = + - @"
        )
    return value


def _tag_key(value: str) -> str:
    if value.lower().startswith("aws:"):
        raise ValueError(f"tag key {value!r} may not start with 'aws:' (reserved by AWS)")
    return _tag_text(value, "tag key")


def _tag_value(value: str) -> str:
    return _tag_text(value, "tag value")


#: User tags per environment: AWS allows 50 per resource; the stacks add
#: ``environment``, ``managed-by`` and up to three of their own (``Name``, ``fleet``,
#: ``tier``).
MAX_USER_TAGS = 45

TagMap = Annotated[
    dict[
        Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_tag_key)],
        Annotated[str, StringConstraints(max_length=256), AfterValidator(_tag_value)],
    ],
    Field(max_length=MAX_USER_TAGS),
]

#: Retention periods CloudWatch Logs accepts (``retention_in_days``); 0 keeps logs forever.
LogRetentionDays = Literal[
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]


def _s3_bucket(value: str) -> str:
    """General purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming rules")."""
    problems = []
    if not 3 <= len(value) <= 63:
        problems.append("be 3-63 characters long")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", value):
        problems.append("use only lower-case letters, digits, '.' and '-', and begin and end with a letter or digit")
    if ".." in value or ".-" in value or "-." in value:
        problems.append("not contain '..', '.-' or '-.'")
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", value):
        problems.append("not be formatted as an IP address")
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if value.startswith(prefix):
            problems.append(f"not start with the reserved prefix {prefix!r}")
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if value.endswith(suffix):
            problems.append(f"not end with the reserved suffix {suffix!r}")
    if problems:
        raise ValueError(f"{value!r} is not a valid S3 bucket name: it must " + "; ".join(problems))
    return value


#: S3 general purpose bucket name. ``_s3_bucket`` checks every naming rule (with a message
#: per rule); the schema gets the character pattern, for editors and the reference doc.
S3BucketName = Annotated[
    str,
    AfterValidator(_s3_bucket),
    Field(json_schema_extra={"pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"}),
]


#: Region name prefixes of the AWS partitions other than ``aws``.
PARTITION_PREFIXES = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-iso-", "aws-iso"),
    ("us-isob-", "aws-iso-b"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
)


def partition_of(region: str) -> str:
    """The AWS partition of a region (``aws``, ``aws-cn``, ``aws-us-gov``, ...): S3 bucket
    names are unique within one."""
    for prefix, partition in PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"
