"""Typed environment config: the single source of truth for what a stack builds.

One YAML file per environment (``config/<env>.yaml``) is parsed by :func:`load_config`
into an :class:`EnvironmentConfig`. Keys mirror the Terraform attribute they drive
(``deregistration_delay``, ``health_check_grace_period``, ``on_demand_base_capacity``...),
so the hashicorp/aws provider documentation describes each of them.

Validation happens in two layers, both before anything is synthesized:

1. pydantic checks types, unknown keys, ranges and patterns per field;
2. :func:`cross_checks` checks rules that span fields (min <= desired <= max, health
   check timeout below the interval, slow start with least outstanding requests...).

Every problem becomes one :class:`Problem` naming the file and the field; the command
line prints them all and exits with code 2 (see ``stacks.synth``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .parts import terraform_safe
from .secrets import SECRET_WORDS, find_tokens, is_reference, redact, scan_text, shown
from .user_data import fleet_variables
from .user_data import render as render_user_data

# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


_LINE_BREAKS = {ord(c): c.encode("unicode_escape").decode() for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one config file.

    ``file`` is the path as the user gave it, ``field`` a dotted path into the document
    (``fleets.chat.autoscaling_group.min_size``; empty for the whole document) and
    ``message`` says what is allowed.
    """

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        # One problem, one line: keys and values from the YAML may hold line breaks.
        text = f"{where}: {self.message}"
        # Every character str.splitlines() breaks on (\n, \r, \x0b, \x0c, \x1c-\x1e,
        # \x85, \u2028, \u2029) is shown escaped.
        return text.translate(_LINE_BREAKS)


class ConfigError(Exception):
    """Raised by :func:`load_config` when a config file is unusable.

    ``problems`` holds one :class:`Problem` per defect found; ``str()`` joins them one
    per line.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------------------
# Reusable field types
# --------------------------------------------------------------------------------------


def _cidr(value: str) -> str:
    """An IPv4 CIDR block written as AWS and Terraform take it: ``a.b.c.d/NN`` with zero
    host bits (Python's ``ipaddress`` also accepts a bare address and netmask forms
    such as ``/255.0.0.0``, which Terraform's validation rejects)."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{shown(value)} is not a valid CIDR block such as 10.0.0.0/16 "
            f"(host bits must be zero): {exc}"
        ) from None
    if net.version != 4:
        raise ValueError("only IPv4 CIDR blocks are supported here")
    if value != net.with_prefixlen:
        raise ValueError(f"{shown(value)} must be written as a.b.c.d/NN, here {net.with_prefixlen}")
    return value


def _distinct_cidrs(values: list[str]) -> list[str]:
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
ManagedPolicyArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/(?:[!-.0-~]+/)*[A-Za-z0-9_+=,.@-]{1,128}$"),
    Field(
        description="IAM managed policy ARN: arn:<partition>:iam::<aws or account>:policy/"
        "[<path>/]<name>, the name 1-128 letters, digits and _+=,.@- (IAM's limits)."
    ),
]

#: Attachment keys of the policies every instance role may get (Terraform names
#: ``fleet-<name>_policy-<key>``, stacks/fleet.py); a managed policy cannot use them.
BUILTIN_POLICY_KEYS = ("ssm-core", "cloudwatch-agent")


def managed_policy_key(arn: str) -> str:
    """Attachment key of a managed policy (Terraform name ``fleet-<name>_policy-<key>``):
    its policy name, the ARN's last path segment."""
    return arn.rsplit("/", 1)[-1]


def _is_absolute(value: str) -> bool:
    """A path that does not depend on where the config is: leading '/', '\\' or '~', or
    a Windows drive letter."""
    return value.startswith(("/", "\\", "~")) or (len(value) > 1 and value[1] == ":")


def _relative_path(value: str) -> str:
    parts = value.replace("\\", "/").split("/")
    if _is_absolute(value) or ".." in parts:
        raise ValueError(
            f"{value!r} must be a relative path inside the stack folder (no leading '/', "
            "'~', drive letter or '..'), so the synthesized JSON is portable"
        )
    return value


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


#: User tags per environment: AWS allows 50 per resource; the stacks add
#: ``environment``, ``managed-by`` and up to three of their own (``Name``, ``fleet``,
#: ``tier``).
MAX_USER_TAGS = 45


CertificateArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:(acm:[a-z0-9-]+:[0-9]{12}:certificate/|iam::[0-9]{12}:server-certificate/).+$"),
    Field(description="ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or IAM server certificate ARN"),
]
RelativePath = Annotated[
    str,
    StringConstraints(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_.\-/]+$"),
    AfterValidator(_relative_path),
]
TagMap = Annotated[
    dict[
        Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_tag_key)],
        Annotated[str, StringConstraints(max_length=256), AfterValidator(lambda v: _tag_text(v, "tag value"))],
    ],
    Field(
        max_length=MAX_USER_TAGS,
        description="Tags: at most 45 (AWS allows 50 per resource; the stacks add up to five), "
        "keys 1-128 characters not starting with 'aws:', values up to 256; letters, digits, "
        "spaces and _ . : / = + - @.",
    ),
]


#: Retention periods CloudWatch Logs accepts (``retention_in_days``); 0 keeps logs forever.
LogRetentionDays = Literal[
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]


def _types_in(annotation: Any) -> set[type]:
    """The plain types an annotation admits (through Optional, unions, Annotated, lists)."""
    if isinstance(annotation, type):
        return {annotation}
    found: set[type] = set()
    for arg in get_args(annotation):
        found |= _types_in(arg)
    return found


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are immutable."""

    # allow_inf_nan: YAML's .inf and .nan are floats, but no AWS number is infinite
    # (and JSON has no Infinity).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML reads unquoted yes/no/on/off as booleans, and pydantic would take True as
        the number 1 (``port: yes`` -> port 1): a number field refuses booleans."""
        if isinstance(value, bool) and info.field_name:
            types = _types_in(cls.model_fields[info.field_name].annotation)
            if bool not in types and types & {int, float}:
                raise PydanticCustomError(
                    "bool_for_number",
                    "must be a number; YAML read {word} as a boolean (unquoted yes/no/on/off/true/false)",
                    {"word": str(value).lower()},
                )
        return value


# --------------------------------------------------------------------------------------
# Serving presets
# --------------------------------------------------------------------------------------

Preset = Literal["vllm", "tgi", "triton", "torchserve", "ray-serve", "custom"]

#: Per inference server, from each server's docs: application port and readiness path
#: (vLLM OpenAI server: 8000, GET /health; Hugging Face TGI: container port 80, commonly
#: published as 8080, GET /health; NVIDIA Triton: HTTP 8000 GET /v2/health/ready, gRPC
#: 8001 with the standard grpc.health.v1 service; TorchServe: inference 8080, GET /ping;
#: Ray Serve: 8000, GET /-/healthz), and the timing defaults that drive grace periods,
#: warm-up, draining and idle timeouts: ``model_load_seconds`` (boot to ready: model
#: download plus load; LLM weights take minutes) and ``max_request_seconds`` (the longest
#: request, streamed generations included). ``custom`` assumes port 8080 and GET /health.
#: Every value can be overridden per fleet.
PRESETS: dict[str, dict[str, Any]] = {
    "vllm": {"port": 8000, "path": "/health", "model_load_seconds": 600, "max_request_seconds": 600},
    "tgi": {"port": 8080, "path": "/health", "model_load_seconds": 600, "max_request_seconds": 600},
    "triton": {
        "port": 8000,
        "path": "/v2/health/ready",
        "grpc_port": 8001,
        "grpc_path": "/grpc.health.v1.Health/Check",
        "model_load_seconds": 300,
        "max_request_seconds": 120,
    },
    "torchserve": {"port": 8080, "path": "/ping", "model_load_seconds": 300, "max_request_seconds": 120},
    "ray-serve": {"port": 8000, "path": "/-/healthz", "model_load_seconds": 300, "max_request_seconds": 300},
    "custom": {"port": 8080, "path": "/health", "model_load_seconds": 300, "max_request_seconds": 300},
}

#: ALB's own gRPC health-check path; an unimplemented method answers gRPC status 12,
#: which proves the server is up when it has no standard health service.
ALB_GRPC_DEFAULT_PATH = "/AWS.ALB/healthcheck"


# --------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------


class CreateVpc(StrictModel):
    """A new VPC with one public and one private subnet per Availability Zone.

    Subnet CIDRs are carved from ``cidr_block`` in order (public first, then private),
    so the same config always yields the same subnets.
    """

    cidr_block: Cidr = Field("10.0.0.0/16", description="VPC CIDR block, /16 to /24.")
    availability_zones: list[AvailabilityZone] = Field(
        ...,
        min_length=2,
        max_length=3,
        description="2-3 distinct Availability Zones of the region; the ALB needs two or more.",
    )
    subnet_newbits: int = Field(
        4,
        ge=1,
        le=8,
        description="Bits added to the VPC prefix for each subnet (/16 + 4 = /20 subnets).",
    )
    nat_gateway: Literal["one_per_az", "single"] = Field(
        "one_per_az",
        description="one_per_az keeps private subnets online when one AZ fails; "
        "single is cheaper and a single point of failure.",
    )
    enable_flow_logs: bool = Field(
        True, description="VPC flow logs to a CloudWatch log group the stack creates."
    )
    flow_logs_retention_in_days: LogRetentionDays = Field(
        365, description="Retention of the flow-log group, days."
    )


class Network(StrictModel):
    """Where the fleet runs: either an existing VPC and subnets, or ``create_vpc``.

    With existing subnets, the ALB goes in ``public_subnet_ids`` (or private ones for an
    internal ALB) and instances in ``private_subnet_ids``; both lists need two or more
    subnets, and Terraform checks at plan time that they span two or more AZs.
    """

    vpc_id: VpcId | None = Field(None, description="Existing VPC ID (with the subnet lists).")
    public_subnet_ids: list[SubnetId] | None = Field(
        None, description="Existing subnets for the load balancer, in two or more AZs."
    )
    private_subnet_ids: list[SubnetId] | None = Field(
        None, description="Existing private subnets for the instances, in two or more AZs."
    )
    create_vpc: CreateVpc | None = Field(None, description="Create a new VPC instead.")

    @property
    def creates_vpc(self) -> bool:
        """True when the stack creates its own VPC."""
        return self.create_vpc is not None


# --------------------------------------------------------------------------------------
# Load balancer
# --------------------------------------------------------------------------------------


S3BucketName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    Field(description="S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens."),
]


class AccessLogs(StrictModel):
    """ALB access logs (``aws_lb.access_logs``) to an S3 bucket.

    By default the stack creates the bucket (``aws_s3_bucket`` with ``bucket_prefix``):
    SSE-S3 encryption (the only server-side encryption ALB log delivery supports),
    versioning, all public access blocked, ACLs disabled, TLS-only access, a lifecycle
    rule, and the bucket policy that lets Elastic Load Balancing of the region write
    (the regional ELB account for regions launched before August 2022, the
    ``logdelivery.elasticloadbalancing.amazonaws.com`` service principal for newer
    ones). Set ``bucket`` to deliver to an existing bucket instead (a central log
    archive); its policy must already allow delivery.
    """

    enabled: bool = Field(True, description="Write ALB access logs to S3.")
    bucket: S3BucketName | None = Field(
        None,
        description="Existing bucket to deliver to; default: the stack creates one.",
    )
    bucket_prefix: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{0,36}$")
    ] | None = Field(
        None,
        description="Name prefix of the bucket the stack creates (1-37 characters; "
        "Terraform appends a unique suffix). Default: '<name>-alb-logs-'.",
    )
    prefix: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", max_length=200),
    ] | None = Field(
        None,
        description="S3 key prefix of the log objects, without leading or trailing '/'; "
        "may not contain 'AWSLogs'. Default: none.",
    )
    expiration_days: int = Field(
        365, ge=1, le=36500, description="Days after which log objects are deleted."
    )
    noncurrent_version_expiration_days: int = Field(
        30, ge=1, le=36500, description="Days after which overwritten or deleted versions are removed."
    )


#: AWS managed rule groups in the default web ACL, in evaluation order (975 of the
#: 1,500 WCUs a web ACL gets without extra charge). Two rules only count by default
#: because they would block normal inference traffic: the common rule set's
#: SizeRestrictions_BODY blocks request bodies over 8 KB (prompts are often larger) and
#: the anonymous IP list's HostingProviderIPList blocks cloud hosts (where most API
#: clients run). Known bad inputs covers Log4j (CVE-2021-44228).
DEFAULT_MANAGED_RULE_GROUPS: tuple[dict[str, Any], ...] = (
    {"name": "AWSManagedRulesAmazonIpReputationList"},
    {"name": "AWSManagedRulesAnonymousIpList", "rule_action_overrides": {"HostingProviderIPList": "count"}},
    {"name": "AWSManagedRulesCommonRuleSet", "rule_action_overrides": {"SizeRestrictions_BODY": "count"}},
    {"name": "AWSManagedRulesKnownBadInputsRuleSet"},
)

WafName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]


class ManagedRuleGroup(StrictModel):
    """One managed rule group statement of the web ACL
    (``aws_wafv2_web_acl.rule.statement.managed_rule_group_statement``)."""

    name: WafName = Field(..., description="Rule group name, for example AWSManagedRulesCommonRuleSet.")
    vendor_name: WafName = Field("AWS", description="Vendor of the rule group.")
    version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] | None = Field(
        None, description="Pinned version such as Version_1.20; default: the vendor's default."
    )
    rule_action_overrides: dict[WafName, Literal["count", "allow", "block", "captcha", "challenge"]] = Field(
        default_factory=dict,
        description="Rule name -> action that replaces the rule's own, for example "
        "{SizeRestrictions_BODY: count}.",
    )


class WafLogging(StrictModel):
    """Web ACL logging (``aws_wafv2_web_acl_logging_configuration``) to a CloudWatch log
    group named ``aws-waf-logs-<name>-...``, encrypted with the stack's logs KMS key."""

    enabled: bool = Field(True, description="Log requests the web ACL evaluates.")
    retention_in_days: LogRetentionDays = Field(365, description="Retention of the WAF log group, days.")
    redacted_headers: list[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")]
    ] = Field(
        default_factory=lambda: ["authorization", "cookie", "x-api-key"],
        max_length=100,
        description="Request headers never written to the logs (credentials).",
    )


class Waf(StrictModel):
    """AWS WAFv2 web ACL associated with the ALB (``aws_wafv2_web_acl`` with scope
    REGIONAL, ``aws_wafv2_web_acl_association``): AWS managed rule groups, an optional
    per-IP rate limit, CloudWatch metrics, sampled requests and logging."""

    enabled: bool | None = Field(None, description="Default: the environment's 'production' flag.")
    managed_rule_groups: list[ManagedRuleGroup] = Field(
        default_factory=lambda: [ManagedRuleGroup(**g) for g in DEFAULT_MANAGED_RULE_GROUPS],
        max_length=20,
        description="Managed rule groups, evaluated in this order after the rate limit.",
    )
    rate_limit: int | None = Field(
        None,
        ge=10,
        le=2_000_000_000,
        description="Block a client IP above this many requests per 5 minutes; default: no limit.",
    )
    logging: WafLogging = WafLogging()


class CloudwatchLogs(StrictModel):
    """Encryption of the CloudWatch log groups the stack creates (VPC flow logs, WAF
    logs): ``aws_cloudwatch_log_group.kms_key_id``."""

    kms_key_id: Arn | None = Field(
        None,
        description="KMS key ARN for the log groups; default: the stack creates a key "
        "(rotation on) that only CloudWatch Logs of this account and region may use.",
    )


class LoadBalancer(StrictModel):
    """The Application Load Balancer and its listeners (``aws_lb``, ``aws_lb_listener``)."""

    internal: bool = Field(False, description="Internal ALB instead of internet-facing.")
    ingress_cidr_blocks: Annotated[list[Cidr], AfterValidator(_distinct_cidrs)] = Field(
        ...,
        min_length=1,
        max_length=30,
        description="Client CIDR blocks allowed on ports 80/443. Required: there is no "
        "open-to-the-world default. At most 30, distinct: each becomes a rule per port, and "
        "a security group holds 60 inbound rules by default.",
    )
    idle_timeout: int | None = Field(
        None,
        ge=1,
        le=4000,
        description="Seconds a connection may stay idle (AWS range 1-4000, AWS default 60). "
        "Default: the longest max_request_seconds of the fleets, so no generation is cut.",
    )
    drop_invalid_header_fields: bool = True
    enable_deletion_protection: bool | None = Field(
        None, description="Defaults to the environment's 'production' flag."
    )
    enable_http2: bool = True
    certificate_arn: CertificateArn | None = Field(
        None,
        description="ACM certificate ARN (or an IAM server certificate ARN). When set, port 443 "
        "serves HTTPS and port 80 redirects to it.",
    )
    ssl_policy: str = Field(
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        pattern=r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)[A-Za-z0-9-]*$",
        description="TLS 1.2+ listener policy.",
    )
    access_logs: AccessLogs = AccessLogs()
    waf: Waf = Waf()


# --------------------------------------------------------------------------------------
# Per-fleet sections
# --------------------------------------------------------------------------------------


class HealthCheck(StrictModel):
    """Target group health check (``aws_lb_target_group.health_check``).

    Unset values come from the fleet's serving preset (path) or the defaults here.
    """

    path: str | None = Field(
        None,
        pattern=r"^/[\x21-\x7e]{0,1023}$",
        description="Readiness path; default from the preset.",
    )
    matcher: str | None = Field(
        None,
        pattern=r"^[0-9]{1,3}(-[0-9]{1,3})?(,[0-9]{1,3}(-[0-9]{1,3})?)*$",
        description="HTTP codes 200-499 (for example 200 or 200-299), or gRPC codes "
        "0-99 for gRPC target groups. Default: 200 (HTTP), 12 (gRPC).",
    )
    interval: int = Field(10, ge=5, le=300, description="Seconds between checks (5-300).")
    timeout: int = Field(5, ge=2, le=120, description="Seconds before a check fails (2-120).")
    healthy_threshold: int = Field(2, ge=2, le=10)
    unhealthy_threshold: int = Field(3, ge=2, le=10)


class TargetGroup(StrictModel):
    """One ALB target group per fleet (``aws_lb_target_group``).

    The group is named with ``name_prefix`` and ``create_before_destroy``, so a change
    of port or protocol replaces it while the listener still points at it.
    """

    port: Port | None = Field(None, description="Application port; default from the preset.")
    protocol: Literal["HTTP", "HTTPS"] = "HTTP"
    protocol_version: Literal["HTTP1", "HTTP2", "GRPC"] = "HTTP1"
    deregistration_delay: int | None = Field(
        None,
        ge=0,
        le=3600,
        description="Seconds in-flight requests get to finish before a target leaves "
        "(0-3600). Default: the fleet's max_request_seconds.",
    )
    slow_start: int | None = Field(
        None,
        description="Seconds of linear ramp-up for a new target: 0 (off) or 30-900. AWS "
        "rejects it with least_outstanding_requests and weighted_random. Default: with "
        "round_robin a fifth of model_load_seconds (30-900), else 0.",
    )
    load_balancing_algorithm_type: Literal[
        "round_robin", "least_outstanding_requests", "weighted_random"
    ] = Field(
        "least_outstanding_requests",
        description="Inference requests vary widely in cost; least outstanding requests "
        "spreads them better than round robin.",
    )
    health_check: HealthCheck = HealthCheck()


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


class LaunchTemplate(StrictModel):
    """Launch template per fleet (``aws_launch_template``); never a launch configuration.

    IMDSv2 is always required and the root volume always encrypted.
    """

    image_id: AmiId | None = Field(None, description="AMI ID. Give this or image_ssm_parameter.")
    image_ssm_parameter: str | None = Field(
        None,
        pattern=r"^/[A-Za-z0-9_.\-/]{1,2047}$",
        description="SSM parameter holding the AMI ID, read at plan time so AMI changes "
        "show in the plan.",
    )
    instance_type: InstanceType = Field(
        "t3.medium",
        description="Instance type when no mixed_instances_policy is set; otherwise the "
        "policy's instance_types are used.",
    )
    root_device_name: str = Field("/dev/xvda", pattern=r"^/dev/[a-z0-9]+$")
    root_volume_size: int = Field(100, ge=8, le=16384, description="Root volume size, GiB.")
    root_volume_type: Literal["gp3", "gp2", "io1", "io2"] = "gp3"
    root_volume_kms_key_id: Arn | None = Field(
        None, description="KMS key ARN for the root volume; default: the AWS managed key."
    )
    http_put_response_hop_limit: int = Field(
        1,
        ge=1,
        le=64,
        description="IMDSv2 hop limit; 2 lets containers on the host reach IMDS.",
    )
    user_data_file: Annotated[str, StringConstraints(min_length=1)] | None = Field(
        None,
        description="Path of a user data script, relative to the config file's folder.",
    )
    key_name: str | None = Field(None, min_length=1, max_length=255)
    managed_policy_arns: list[ManagedPolicyArn] = Field(
        default_factory=list,
        max_length=18,
        description="Extra IAM managed policies for the instance role, on top of "
        "AmazonSSMManagedInstanceCore (and CloudWatchAgentServerPolicy with a custom metric). "
        "IAM allows 20 per role at most, 10 unless the account's quota was raised. Each "
        "attachment is named after the policy name, so the names must differ.",
    )
    enable_monitoring: bool = Field(True, description="Detailed (1-minute) EC2 monitoring.")
    secret_references: list[SecretReference] = Field(
        default_factory=list,
        max_length=50,
        description="Secrets the instances may read at boot, by reference only: Secrets "
        "Manager secret ARNs, SSM parameter ARNs or SSM parameter names starting with '/'. "
        "The instance role gets read access to exactly these; the config never holds "
        "secret values.",
    )

    @field_validator("managed_policy_arns")
    @classmethod
    def _distinct_policy_names(cls, arns: list[str]) -> list[str]:
        """Each attachment's Terraform name comes from the policy name: two policies whose
        names are equal, or differ only in characters a Terraform name cannot hold
        (``team.read``, ``team_read``), or a name taken by a built-in attachment, would
        share one name and one would be lost."""
        seen: dict[str, str] = {key: f"the built-in {key} attachment" for key in BUILTIN_POLICY_KEYS}
        for arn in arns:
            key = terraform_safe(managed_policy_key(arn))
            if seen.get(key) == arn:
                raise ValueError(f"{arn} is listed twice")
            if key in seen:
                raise ValueError(
                    f"{arn} and {seen[key]} would both be attached as policy-{key}; the "
                    "policy names must differ in letters, digits, '_' or '-' (and not be "
                    f"{' or '.join(BUILTIN_POLICY_KEYS)})"
                )
            seen[key] = arn
        return arns


class InstanceOverride(StrictModel):
    """One instance type of a mixed instances policy, with an optional weight."""

    instance_type: InstanceType
    weighted_capacity: int | None = Field(None, ge=1, le=999)


#: ``spot_allocation_strategy`` values AWS accepts (``instances_distribution``).
SpotAllocationStrategy = Literal[
    "price-capacity-optimized",
    "capacity-optimized",
    "capacity-optimized-prioritized",
    "lowest-price",
]


class InstanceTypeChoice(StrictModel):
    """The instance types a group with a mixed instances policy launches (the
    policy's ``launch_template.override`` blocks)."""

    instance_types: list[InstanceType | InstanceOverride] = Field(
        ...,
        min_length=1,
        max_length=40,
        description="Instance types to diversify over, for example [g5.xlarge, g6.xlarge]; "
        "an entry may be {instance_type, weighted_capacity}.",
    )

    def overrides(self) -> list[InstanceOverride]:
        """The instance types as overrides, in the order given."""
        return [
            t if isinstance(t, InstanceOverride) else InstanceOverride(instance_type=t)
            for t in self.instance_types
        ]


class MixedInstancesPolicy(InstanceTypeChoice):
    """Spot/on-demand mix (``aws_autoscaling_group.mixed_instances_policy``)."""

    on_demand_base_capacity: int = Field(1, ge=0, description="On-demand instances kept first.")
    on_demand_percentage_above_base_capacity: Percent = Field(
        0, description="Percent of capacity above the base that is on-demand (rest spot)."
    )
    spot_allocation_strategy: SpotAllocationStrategy = "price-capacity-optimized"
    on_demand_allocation_strategy: Literal["prioritized", "lowest-price"] = "prioritized"


class InstanceRefresh(StrictModel):
    """Rolling replacement when the launch template changes
    (``aws_autoscaling_group.instance_refresh``, StartInstanceRefresh)."""

    min_healthy_percentage: Percent = Field(
        90, description="Capacity kept in service during the refresh, percent."
    )
    max_healthy_percentage: int = Field(
        100, ge=100, le=200, description="Capacity allowed above desired during the refresh."
    )
    instance_warmup: int | None = Field(
        None, ge=0, le=3600, description="Seconds; default: the group's default_instance_warmup."
    )
    checkpoint_percentages: list[Annotated[int, Field(ge=1, le=100)]] = Field(
        default_factory=list, description="Pause points, ascending percentages."
    )
    checkpoint_delay: int | None = Field(None, ge=0, le=172800, description="Seconds per pause.")
    auto_rollback: bool = Field(True, description="Roll back when the refresh fails.")
    skip_matching: bool = Field(True, description="Skip instances already on the new template.")


class WarmPool(StrictModel):
    """Warm pool of the fleet's Auto Scaling group (``aws_autoscaling_group.warm_pool``)."""

    pool_state: Literal["Stopped", "Hibernated", "Running"] = Field(
        "Stopped", description="State of instances in the pool; Stopped costs only EBS."
    )
    min_size: int = Field(0, ge=0, le=10000, description="Instances kept in the pool.")
    max_group_prepared_capacity: int | None = Field(
        None,
        ge=0,
        le=10000,
        description="Cap on instances in the group plus the pool; default: the group's max_size.",
    )
    reuse_on_scale_in: bool = Field(
        True, description="Return instances to the pool on scale-in instead of terminating."
    )


class LaunchHook(StrictModel):
    """Launch lifecycle hook ``model-ready``: holds a new instance in Pending:Wait until it
    reports the model loaded (``aws autoscaling complete-lifecycle-action``)."""

    heartbeat_timeout: int | None = Field(
        None,
        ge=30,
        le=7200,
        description="Seconds to wait (30-7200). Default: model_load_seconds + "
        "healthy_threshold x interval.",
    )
    default_result: Literal["ABANDON", "CONTINUE"] = Field(
        "ABANDON", description="On timeout: ABANDON terminates and replaces the instance."
    )


class TerminationHook(StrictModel):
    """Termination lifecycle hook ``drain``: keeps a terminating instance up while its
    in-flight requests finish."""

    heartbeat_timeout: int | None = Field(
        None, ge=30, le=7200, description="Seconds (30-7200). Default: max_request_seconds."
    )
    default_result: Literal["ABANDON", "CONTINUE"] = "CONTINUE"


class LifecycleHooks(StrictModel):
    """Lifecycle hooks created with the group (``initial_lifecycle_hook``), so even the
    first instances pass through them. Both are off unless configured."""

    launch: LaunchHook | None = None
    termination: TerminationHook | None = None


class SpotAutoscalingGroup(InstanceTypeChoice):
    """A second, spot-only Auto Scaling group of the same fleet, registered in the same
    target group with the same launch template. Lets the main group stay on-demand with
    a warm pool (AWS forbids warm pools on groups with spot) while spot capacity scales
    beside it."""

    min_size: int = Field(0, ge=0, le=10000)
    max_size: int = Field(..., ge=1, le=10000)
    desired_capacity: int | None = Field(None, ge=0, le=10000, description="Default: min_size.")
    spot_allocation_strategy: SpotAllocationStrategy = "price-capacity-optimized"
    capacity_rebalance: bool = True

    @property
    def effective_desired_capacity(self) -> int:
        """Desired capacity, defaulting to ``min_size``."""
        return self.min_size if self.desired_capacity is None else self.desired_capacity


class AutoscalingGroup(StrictModel):
    """Auto Scaling group per fleet (``aws_autoscaling_group``)."""

    min_size: int = Field(2, ge=0, le=10000)
    max_size: int = Field(4, ge=1, le=10000)
    desired_capacity: int | None = Field(
        None, ge=0, le=10000, description="Default: min_size. Ignored by later applies "
        "when a scaling policy manages it."
    )
    health_check_type: Literal["ELB", "EC2"] = "ELB"
    health_check_grace_period: int | None = Field(
        None,
        ge=0,
        le=7200,
        description="Seconds after InService before failed health checks count (0-7200). "
        "Default: model_load_seconds + healthy_threshold x interval; with a launch "
        "lifecycle hook (which holds the instance until the model is ready) only "
        "healthy_threshold x interval + 60.",
    )
    default_instance_warmup: int | None = Field(
        None,
        ge=0,
        le=3600,
        description="Seconds before a new instance's metrics count (0-3600). Default: "
        "model_load_seconds (without launch hook) + the slow-start ramp, at least 60.",
    )
    capacity_rebalance: bool | None = Field(
        None, description="Replace spot instances at elevated interruption risk; "
        "default: on when a mixed_instances_policy is set."
    )
    max_instance_lifetime: int | None = Field(
        None, description="Seconds; 0 or 86400-31536000 (1-365 days)."
    )
    mixed_instances_policy: MixedInstancesPolicy | None = None
    warm_pool: WarmPool | None = Field(
        None,
        description="Pre-initialized stopped/hibernated instances so scale-out skips the model "
        "download. AWS does not allow it with a mixed_instances_policy: use "
        "spot_autoscaling_group for spot capacity next to a warm on-demand group.",
    )
    instance_refresh: InstanceRefresh | None = Field(
        InstanceRefresh(), description="Rolling refresh on template change; null turns it off."
    )
    enabled_metrics: bool = Field(True, description="Publish group metrics at 1-minute granularity.")

    @property
    def effective_desired_capacity(self) -> int:
        """Desired capacity, defaulting to ``min_size``."""
        return self.min_size if self.desired_capacity is None else self.desired_capacity


class CustomMetric(StrictModel):
    """Target tracking on a CloudWatch metric published per Auto Scaling group
    (``customized_metric_specification``). The default is the GPU utilization that the
    CloudWatch agent's ``nvidia_gpu`` plugin publishes (see user_data/vllm-gpu.sh), with
    the ``AutoScalingGroupName`` dimension added for each group."""

    namespace: str = Field("CWAgent", min_length=1, max_length=255)
    metric_name: str = Field("nvidia_smi_utilization_gpu", min_length=1, max_length=255)
    statistic: Literal["Average", "Minimum", "Maximum", "Sum", "SampleCount"] = "Average"
    unit: str | None = Field(None, description="CloudWatch unit, e.g. Percent.")
    target_value: float = Field(..., gt=0, description="Target value of the metric.")
    dimensions: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=255)],
        Annotated[str, StringConstraints(min_length=1, max_length=1024)],
    ] = Field(
        default_factory=dict,
        max_length=29,
        description="Extra dimensions besides AutoScalingGroupName (CloudWatch allows 30 in all).",
    )


#: Ranges of the five fields of a Unix cron expression, and the names allowed in them.
_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)


def _recurrence(value: str) -> str:
    """A Unix cron expression as Auto Scaling takes it: five fields of numbers in range
    (or names for months and weekdays), ``*``, lists, ranges and steps."""
    for text, (what, low, high, names) in zip(value.split(" "), _CRON_FIELDS):
        for item in text.split(","):
            base, _, step = item.partition("/")
            if step and not (step.isdigit() and int(step) >= 1):
                raise ValueError(f"{shown(value)}: step {shown(step)} in the {what} field must be a positive number")
            for end in ([] if base == "*" else base.split("-", 1)):
                if end.upper() in names:
                    continue
                if not end.isdigit() or not low <= int(end) <= high:
                    raise ValueError(
                        f"{shown(value)}: {shown(end)} in the {what} field is not {low}-{high}"
                        + (f" or a name ({names[0]}...)" if names else "")
                    )
    return value


class ScheduledAction(StrictModel):
    """A scheduled size change (``aws_autoscaling_schedule``); give at least one size."""

    recurrence: Annotated[str, AfterValidator(_recurrence)] = Field(
        ...,
        pattern=r"^\S+ \S+ \S+ \S+ \S+$",
        description="Cron expression in five fields, e.g. '0 8 * * MON-FRI'.",
    )
    time_zone: str = Field("Etc/UTC", pattern=r"^[A-Za-z_+\-]+(/[A-Za-z0-9_+\-]+)*$")
    min_size: int | None = Field(None, ge=0, le=10000)
    max_size: int | None = Field(None, ge=0, le=10000)
    desired_capacity: int | None = Field(None, ge=0, le=10000)


class Scaling(StrictModel):
    """Scaling of the fleet's group(s): target-tracking policies
    (``aws_autoscaling_policy``) and scheduled actions (``aws_autoscaling_schedule``)."""

    request_count_per_target: float | None = Field(
        None,
        gt=0,
        description="Target ALBRequestCountPerTarget (requests per target per minute).",
    )
    cpu_utilization: float | None = Field(
        None, gt=0, le=100, description="Target average CPU utilization, percent."
    )
    custom_metric: CustomMetric | None = Field(
        None, description="Target tracking on a CloudWatch metric, e.g. GPU utilization."
    )
    disable_scale_in: bool = False
    scheduled_actions: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")],
        ScheduledAction,
    ] = Field(default_factory=dict, description="Scheduled size changes keyed by name.")


#: ALB rule quotas: condition values and wildcards (``*``, ``?``) per rule, over all
#: its conditions ("Quotas for your Application Load Balancers").
RULE_CONDITION_VALUES = 5
RULE_WILDCARDS = 5


class ListenerRule(StrictModel):
    """Listener rule that routes requests to a non-default fleet (``aws_lb_listener_rule``).

    AWS allows 5 condition values and 5 wildcards per rule in total; path patterns may
    use letters, digits and ``_ - . $ / ~ " ' @ : + & * ?``, host headers letters,
    digits and ``- . * ?``."""

    priority: int = Field(..., ge=1, le=50000)
    path_patterns: list[
        Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[/*][A-Za-z0-9_\-.$/~\"'@:+&*?]*$")]
    ] = Field(default_factory=list, max_length=5, description="Paths starting with '/' (or '*').")
    host_headers: list[
        Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9\-.*?]+$")]
    ] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _within_rule_quotas(self) -> "ListenerRule":
        values = [*self.path_patterns, *self.host_headers]
        if len(values) > RULE_CONDITION_VALUES:
            raise ValueError(
                f"{len(values)} condition values (path_patterns + host_headers); AWS allows "
                f"{RULE_CONDITION_VALUES} per rule"
            )
        wildcards = sum(v.count("*") + v.count("?") for v in values)
        if wildcards > RULE_WILDCARDS:
            raise ValueError(f"{wildcards} wildcards (* and ?) in its conditions; AWS allows {RULE_WILDCARDS} per rule")
        return self


class FleetAlarms(StrictModel):
    """CloudWatch alarms of one fleet on its target group's ALB metrics
    (``aws_cloudwatch_metric_alarm``), sent to the environment's SNS topic."""

    unhealthy_host_count: int = Field(
        1, ge=1, le=1_000_000_000, description="Alarm when this many targets are unhealthy (UnHealthyHostCount)."
    )
    target_5xx_count: int = Field(
        10, ge=1, le=1_000_000_000, description="Alarm when targets return this many 5XX per period."
    )
    p99_target_response_time: float | None = Field(
        None,
        gt=0,
        description="Alarm when p99 TargetResponseTime exceeds this many seconds. Default: "
        "the fleet's max_request_seconds.",
    )
    period: Literal[60, 300, 900, 3600] = Field(
        60, description="Seconds per datapoint (ALB metrics are per minute: no shorter periods)."
    )
    evaluation_periods: int = Field(
        3, ge=1, le=100, description="Datapoints; period x evaluation_periods at most one day (CloudWatch)."
    )

    @model_validator(mode="after")
    def _within_one_day(self) -> "FleetAlarms":
        # PutMetricAlarm: the evaluated window may span at most one day for periods below
        # one hour (seven days for longer periods).
        limit = 86400 if self.period < 3600 else 604800
        if self.period * self.evaluation_periods > limit:
            raise ValueError(
                f"period {self.period} s x evaluation_periods {self.evaluation_periods} = "
                f"{self.period * self.evaluation_periods} s; CloudWatch allows at most {limit} s"
            )
        return self


class Fleet(StrictModel):
    """One model server fleet: target group, launch template and Auto Scaling group(s)."""

    preset: Preset = Field(
        "custom",
        description="Inference server; sets port, health path and matcher, and the model "
        "load and request-time defaults.",
    )
    model_load_seconds: int | None = Field(
        None,
        ge=1,
        le=7200,
        description="Seconds from boot to serving (model download + load). Drives the grace "
        "period, instance warm-up, slow start and launch-hook timeout. Default: the preset's.",
    )
    max_request_seconds: int | None = Field(
        None,
        ge=1,
        le=4000,
        description="Longest request in seconds, streamed generations included. Drives "
        "ALB idle_timeout, deregistration_delay and the termination hook. Default: the preset's.",
    )
    default: bool = Field(
        False, description="Receives requests no listener rule matches; exactly one fleet."
    )
    listener_rule: ListenerRule | None = None
    target_group: TargetGroup = TargetGroup()
    launch_template: LaunchTemplate
    autoscaling_group: AutoscalingGroup = AutoscalingGroup()
    spot_autoscaling_group: SpotAutoscalingGroup | None = None
    lifecycle_hooks: LifecycleHooks = LifecycleHooks()
    scaling: Scaling = Scaling()
    alarms: FleetAlarms = FleetAlarms()

    # Values resolved from the preset and the timing inputs ----------------------------
    # Each property returns the explicit value when one is set, else the derived default;
    # README "AI serving defaults" explains each derivation.
    @property
    def _grpc(self) -> bool:
        return self.target_group.protocol_version == "GRPC"

    @property
    def port(self) -> int:
        """Application port: explicit, else the preset's (its gRPC port for gRPC)."""
        preset = PRESETS[self.preset]
        if self.target_group.port:
            return self.target_group.port
        return preset.get("grpc_port", preset["port"]) if self._grpc else preset["port"]

    @property
    def health_check_path(self) -> str:
        """Health-check path: explicit, else the preset's (for gRPC its health method, or
        the ALB default path)."""
        if self.target_group.health_check.path:
            return self.target_group.health_check.path
        preset = PRESETS[self.preset]
        if self._grpc:
            return preset.get("grpc_path", ALB_GRPC_DEFAULT_PATH)
        return preset["path"]

    @property
    def health_check_matcher(self) -> str:
        """Matcher: explicit, else 200 for HTTP; for gRPC 0 (OK) when the path is a real
        health method, 12 (UNIMPLEMENTED) for the ALB default path."""
        explicit = self.target_group.health_check.matcher
        if explicit:
            return explicit
        if self._grpc:
            return "12" if self.health_check_path == ALB_GRPC_DEFAULT_PATH else "0"
        return "200"

    @property
    def effective_model_load_seconds(self) -> int:
        """Model load time, seconds: explicit or the preset's."""
        return self.model_load_seconds or PRESETS[self.preset]["model_load_seconds"]

    @property
    def effective_max_request_seconds(self) -> int:
        """Longest request, seconds: explicit or the preset's."""
        return self.max_request_seconds or PRESETS[self.preset]["max_request_seconds"]

    @property
    def _ready_seconds(self) -> int:
        hc = self.target_group.health_check
        return hc.healthy_threshold * hc.interval

    @property
    def effective_deregistration_delay(self) -> int:
        """Deregistration delay, seconds: explicit or max_request_seconds (cap 3600)."""
        explicit = self.target_group.deregistration_delay
        return explicit if explicit is not None else min(3600, self.effective_max_request_seconds)

    @property
    def effective_slow_start(self) -> int:
        """Slow start, seconds: explicit, else with round_robin a fifth of the model load
        time within 30-900, else 0 (AWS allows slow start only with round_robin)."""
        explicit = self.target_group.slow_start
        if explicit is not None:
            return explicit
        if self.target_group.load_balancing_algorithm_type != "round_robin":
            return 0
        return min(900, max(30, self.effective_model_load_seconds // 5))

    @property
    def effective_health_check_grace_period(self) -> int:
        """Grace period, seconds: explicit, else covers model load (or only the health
        checks when a launch hook already waited for the model); cap 7200."""
        explicit = self.autoscaling_group.health_check_grace_period
        if explicit is not None:
            return explicit
        if self.lifecycle_hooks.launch is not None:
            return self._ready_seconds + 60
        return min(7200, self.effective_model_load_seconds + self._ready_seconds)

    @property
    def effective_default_instance_warmup(self) -> int:
        """Instance warm-up, seconds: explicit, else model load (without launch hook)
        plus the slow-start ramp, at least 60; cap 3600."""
        explicit = self.autoscaling_group.default_instance_warmup
        if explicit is not None:
            return explicit
        load = 0 if self.lifecycle_hooks.launch is not None else self.effective_model_load_seconds
        return min(3600, max(60, load + self.effective_slow_start))

    @property
    def effective_launch_heartbeat(self) -> int | None:
        """Launch hook timeout, seconds (None without a launch hook)."""
        hook = self.lifecycle_hooks.launch
        if hook is None:
            return None
        if hook.heartbeat_timeout is not None:
            return hook.heartbeat_timeout
        return min(7200, max(30, self.effective_model_load_seconds + self._ready_seconds))

    @property
    def effective_termination_heartbeat(self) -> int | None:
        """Termination hook timeout, seconds (None without a termination hook)."""
        hook = self.lifecycle_hooks.termination
        if hook is None:
            return None
        if hook.heartbeat_timeout is not None:
            return hook.heartbeat_timeout
        return min(7200, max(30, self.effective_max_request_seconds))

    @property
    def uses_spot(self) -> bool:
        """True when any group of the fleet may launch spot instances."""
        mip = self.autoscaling_group.mixed_instances_policy
        return self.spot_autoscaling_group is not None or (
            mip is not None and mip.on_demand_percentage_above_base_capacity < 100
        )


# --------------------------------------------------------------------------------------
# Backend (where Terraform keeps the stack's state)
# --------------------------------------------------------------------------------------
#
# One of three kinds, chosen by ``type``; keys mirror the arguments of the Terraform
# backend they configure (https://developer.hashicorp.com/terraform/language/backend/s3,
# .../terraform/cli/cloud/settings). Changing any of them for a deployed environment
# points Terraform at a different (usually empty) state: see "Changing the backend of
# a deployed environment" in README.md.

BACKEND_TYPES = ("local", "s3", "cloud")


def _s3_bucket(value: str) -> str:
    """General purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming rules")."""
    problems = []
    if not 3 <= len(value) <= 63:
        problems.append("be 3-63 characters long")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", value):
        problems.append(
            "use only lower-case letters, digits, '.' and '-', and begin and end with a letter or digit"
        )
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


S3BucketName = Annotated[
    str,
    AfterValidator(_s3_bucket),
    Field(description="Existing S3 bucket holding the state (create it with versioning on)."),
]
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

    type: Literal["local"] = "local"
    path: Annotated[RelativePath, AfterValidator(_state_file_path)] = Field(
        "terraform.tfstate",
        description="Relative state file path; absolute paths, '..', folders and the "
        "generated files' names are rejected.",
    )


class S3AssumeRole(StrictModel):
    """Role Terraform assumes for the state bucket (``backend "s3"`` ``assume_role`` block)."""

    role_arn: IamRoleArn = Field(
        ..., description="IAM role ARN, for example arn:aws:iam::123456789012:role/terraform-state."
    )
    session_name: str | None = Field(
        None, min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_+=,.@-]+$", description="Session name, 2-64 characters."
    )
    external_id: str | None = Field(
        None, min_length=2, max_length=1224, pattern=r"^[A-Za-z0-9_+=,.@:/-]+$", description="External ID the role's trust policy requires."
    )


class S3Backend(StrictModel):
    """Terraform ``s3`` backend: state in an existing S3 bucket, always encrypted and locked.

    ``key`` defaults to ``ai-fleet/<name>/terraform.tfstate`` (from the stack name only,
    so it never changes between runs or machines) and ``region`` to the environment's
    region. Locking uses an S3 lock file (``use_lockfile``, Terraform 1.10+) unless a
    DynamoDB table is given; give both while migrating from DynamoDB to lock files.
    """

    type: Literal["s3"]
    bucket: S3BucketName
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
        description="KMS key ID or key ARN (not an alias) to encrypt the state object with; "
        "default: SSE-S3.",
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


class CloudWorkspaces(StrictModel):
    """The ``workspaces`` block of a ``cloud`` block: one ``name`` or a set of ``tags``."""

    name: TfcWorkspaceName | None = Field(
        None,
        description="One workspace: 1-90 letters, digits, '-' and '_'. May differ from the stack name.",
    )
    tags: list[TfcTag] | None = Field(
        None,
        min_length=1,
        description="Use every workspace carrying all these tags (terraform workspace select "
        "switches between them).",
    )
    project: TfcProject | None = Field(
        None,
        description="Project (3-40 letters, digits, inner spaces, '-' and '_') new workspaces are "
        "created in; default: the organization's default project.",
    )


class CloudBackend(StrictModel):
    """HCP Terraform (Terraform Cloud) or Terraform Enterprise: Terraform's ``cloud`` block.

    The API token never goes in the config: set ``TF_TOKEN_<hostname>`` (dots as
    underscores, e.g. ``TF_TOKEN_app_terraform_io``) or run ``terraform login``.
    """

    type: Literal["cloud"]
    organization: TfcOrganization
    hostname: Hostname | None = Field(
        None,
        description="Host name only, without scheme or path (for example tfe.example.com); "
        "default (unset): app.terraform.io.",
    )
    workspaces: CloudWorkspaces


def _backend_type(value: Any) -> str | None:
    # ``type`` may be omitted for the local backend (the only kind before s3/cloud).
    if isinstance(value, dict):
        return value.get("type", "local")
    return getattr(value, "type", None)


Backend = Annotated[
    Annotated[LocalBackend, Tag("local")] | Annotated[S3Backend, Tag("s3")] | Annotated[CloudBackend, Tag("cloud")],
    Discriminator(
        _backend_type,
        custom_error_type="backend_type",
        custom_error_message="backend type must be one of local, s3, cloud",
    ),
]


# --------------------------------------------------------------------------------------
# Resilience objectives (checked by `make report`, not by synth)
# --------------------------------------------------------------------------------------


class ResilienceObjectives(StrictModel):
    """Optional targets for the resilience report (``python -m stacks.report``).

    Every key is optional; a key left out is not checked. ``make report`` computes each
    figure from the synthesized ``cdk.tf.json`` and exits 1, naming the objective, when
    any fleet of the stack misses one. Units: seconds and percent.
    """

    max_unhealthy_detection_seconds: int | None = Field(
        None,
        ge=12,
        le=3120,
        description="Upper bound, seconds, on health check interval x unhealthy threshold + "
        "timeout for every fleet (12 s is the fastest an ALB can do: 5 x 2 + 2).",
    )
    max_drain_seconds: int | None = Field(
        None, ge=0, le=3600, description="Upper bound on deregistration_delay, seconds."
    )
    max_time_to_serve_new_instance_seconds: int | None = Field(
        None,
        ge=10,
        le=86400,
        description="Upper bound, seconds, from launch to full traffic for a new instance "
        "launched cold (not from a warm pool).",
    )
    min_capacity_after_az_loss_percent: Percent | None = Field(
        None,
        description="Lower bound on the capacity left in service right after the AZ holding "
        "the most instances fails, percent of desired capacity.",
    )
    max_spot_share_percent: Percent | None = Field(
        None, description="Upper bound on the spot share of desired capacity, percent."
    )
    min_spot_pools: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Lower bound on spot capacity pools (instance types x AZs) for fleets "
        "that use spot.",
    )
    max_single_points_of_failure: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="Upper bound on single points of failure found in the stack (0: none).",
    )


# --------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------


class Alarms(StrictModel):
    """Where fleet alarms go: a given SNS topic, or one the stack creates (encrypted with
    the AWS managed SNS key)."""

    enabled: bool = Field(True, description="Create the fleets' CloudWatch alarms.")
    sns_topic_arn: Arn | None = Field(
        None, description="Existing SNS topic for alarm and OK notifications; default: create one."
    )


#: Value of the ``managed-by`` tag on every resource the stacks create.
MANAGED_BY = "ai-fleet-terraform"


class EnvironmentConfig(StrictModel):
    """One environment: becomes one Terraform stack named ``name``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "AI serving fleet environment",
        },
    )

    name: EnvName
    region: AwsRegion
    production: bool = Field(
        False,
        description="Production environment: turns on ALB deletion protection and the WAF "
        "web ACL by default.",
    )
    tags: TagMap = Field(default_factory=dict)
    network: Network
    load_balancer: LoadBalancer
    fleets: dict[FleetName, Fleet] = Field(..., min_length=1, max_length=20)
    alarms: Alarms = Alarms()
    backend: Backend = Field(
        LocalBackend(),
        description="Where Terraform keeps this stack's state: local (default), s3 or cloud.",
    )
    resilience_objectives: ResilienceObjectives | None = Field(
        None,
        description="Targets `make report` checks the synthesized stack against; none by default.",
    )
    cloudwatch_logs: CloudwatchLogs = CloudwatchLogs()

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags for everything the stack creates: ``environment`` (the name),
        ``managed-by`` (:data:`MANAGED_BY`) and the configured ``tags``, which win on a
        clash. The provider's ``default_tags``; also written explicitly where those do
        not reach: the instances and volumes an Auto Scaling group launches (launch
        template ``tag_specifications``) and the group itself."""
        return {"environment": self.name, "managed-by": MANAGED_BY, **self.tags}

    @property
    def deletion_protection(self) -> bool:
        """ALB deletion protection: explicit, else on in production."""
        explicit = self.load_balancer.enable_deletion_protection
        return self.production if explicit is None else explicit

    @property
    def effective_idle_timeout(self) -> int:
        """ALB idle timeout, seconds: explicit or the longest max_request_seconds (cap 4000)."""
        explicit = self.load_balancer.idle_timeout
        if explicit is not None:
            return explicit
        return min(4000, max(f.effective_max_request_seconds for f in self.fleets.values()))

    @property
    def waf_enabled(self) -> bool:
        """WAF web ACL on the ALB: explicit, else on in production."""
        explicit = self.load_balancer.waf.enabled
        return self.production if explicit is None else explicit

    @property
    def default_fleet(self) -> str:
        """Name of the fleet behind the listeners' default action."""
        if len(self.fleets) == 1:
            return next(iter(self.fleets))
        return next(name for name, fleet in self.fleets.items() if fleet.default)


# --------------------------------------------------------------------------------------
# Cross-field checks
# --------------------------------------------------------------------------------------

_ALB_NAME_MAX = 32


def cross_checks(cfg: EnvironmentConfig) -> list[tuple[str, str]]:
    """Check rules that span fields, after pydantic has validated each field.

    Returns a list of ``(field, message)`` pairs, empty when the config is consistent.
    Follows AWS limits documented for ELBv2 target groups and EC2 Auto Scaling.
    """
    out: list[tuple[str, str]] = []
    net = cfg.network

    # Network ---------------------------------------------------------------------
    existing = [net.vpc_id, net.public_subnet_ids, net.private_subnet_ids]
    if net.create_vpc is not None:
        for key, value in zip(("vpc_id", "public_subnet_ids", "private_subnet_ids"), existing):
            if value is not None:
                out.append((f"network.{key}", "cannot be combined with network.create_vpc"))
        cv = net.create_vpc
        if len(set(cv.availability_zones)) != len(cv.availability_zones):
            out.append(
                ("network.create_vpc.availability_zones", "must be distinct Availability Zones")
            )
        for i, az in enumerate(cv.availability_zones):
            if not az.startswith(cfg.region):
                out.append(
                    (
                        f"network.create_vpc.availability_zones.{i}",
                        f"{az!r} is not in region {cfg.region!r}",
                    )
                )
        prefix = ipaddress.ip_network(cv.cidr_block).prefixlen
        if not 16 <= prefix <= 24:
            out.append(("network.create_vpc.cidr_block", "prefix must be /16 to /24 (AWS VPC limits)"))
        elif prefix + cv.subnet_newbits > 28:
            out.append(
                (
                    "network.create_vpc.subnet_newbits",
                    f"/{prefix} + {cv.subnet_newbits} gives subnets smaller than /28, "
                    "the smallest AWS allows",
                )
            )
        elif 2 ** cv.subnet_newbits < 2 * len(cv.availability_zones):
            out.append(
                (
                    "network.create_vpc.subnet_newbits",
                    f"{cv.subnet_newbits} bits give {2 ** cv.subnet_newbits} subnets, fewer "
                    f"than the {2 * len(cv.availability_zones)} needed (public + private per AZ)",
                )
            )
    else:
        if net.vpc_id is None:
            out.append(("network.vpc_id", "required unless network.create_vpc is set"))
        for key in ("public_subnet_ids", "private_subnet_ids"):
            ids = getattr(net, key)
            if ids is None:
                out.append((f"network.{key}", "required unless network.create_vpc is set"))
                continue
            if len(ids) < 2:
                out.append(
                    (
                        f"network.{key}",
                        f"needs two or more subnets in distinct Availability Zones, got {len(ids)}",
                    )
                )
            if len(set(ids)) != len(ids):
                out.append((f"network.{key}", "lists the same subnet more than once"))

    # Names -----------------------------------------------------------------------
    if len(f"{cfg.name}-alb") > _ALB_NAME_MAX:
        out.append(("name", f"ALB name '{cfg.name}-alb' exceeds AWS's 32 characters"))

    # Fleets and routing ------------------------------------------------------------
    defaults = [name for name, f in cfg.fleets.items() if f.default]
    if len(cfg.fleets) > 1 and len(defaults) != 1:
        out.append(
            (
                "fleets",
                "exactly one fleet must set 'default: true' when there are several "
                f"(found {len(defaults)}: {', '.join(defaults) or 'none'})",
            )
        )
    priorities: dict[int, str] = {}
    conditions: dict[tuple, str] = {}
    for name, fleet in cfg.fleets.items():
        where = f"fleets.{name}"
        rule = fleet.listener_rule
        is_default = fleet.default or len(cfg.fleets) == 1
        if rule is None and not is_default:
            out.append((f"{where}.listener_rule", "required for a fleet that is not the default"))
        if rule is not None:
            if not rule.path_patterns and not rule.host_headers:
                out.append(
                    (f"{where}.listener_rule", "needs path_patterns and/or host_headers")
                )
            if rule.priority in priorities:
                out.append(
                    (
                        f"{where}.listener_rule.priority",
                        f"{rule.priority} is already used by fleet {priorities[rule.priority]!r}",
                    )
                )
            priorities.setdefault(rule.priority, name)
            key = (tuple(sorted(rule.path_patterns)), tuple(sorted(rule.host_headers)))
            if key in conditions:
                out.append(
                    (
                        f"{where}.listener_rule",
                        f"same path_patterns and host_headers as fleet {conditions[key]!r}",
                    )
                )
            conditions.setdefault(key, name)
        out.extend(_fleet_checks(where, fleet))
    # The same path pattern in two host-less rules: only the lower priority would match.
    seen_paths: dict[str, str] = {}
    for name, fleet in cfg.fleets.items():
        rule = fleet.listener_rule
        if rule is None or rule.host_headers:
            continue
        for i, path in enumerate(rule.path_patterns):
            if path in seen_paths and seen_paths[path] != name:
                out.append(
                    (
                        f"fleets.{name}.listener_rule.path_patterns.{i}",
                        f"{path!r} is already routed to fleet {seen_paths[path]!r}",
                    )
                )
            seen_paths.setdefault(path, name)
    out.extend(_security_checks(cfg))
    out.extend(_backend_checks(cfg))
    return out


def _backend_checks(cfg: EnvironmentConfig) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    b = cfg.backend
    if isinstance(b, S3Backend) and not b.lockfile and b.dynamodb_table is None:
        out.append(
            (
                "backend.use_lockfile",
                "state locking is required: keep use_lockfile true or set dynamodb_table "
                "(two concurrent applies on one unlocked state corrupt it)",
            )
        )
    if isinstance(b, S3Backend) and b.dynamodb_table is not None and b.state_key(cfg.name).endswith("-md5"):
        out.append(
            (
                "backend.key",
                "with dynamodb_table, keys ending in -md5 are taken: the table holds the state "
                "checksum of key K under the lock ID <bucket>/K-md5",
            )
        )
    if isinstance(b, CloudBackend) and (b.workspaces.name is None) == (b.workspaces.tags is None):
        out.append(
            (
                "backend.workspaces",
                "set exactly one of name (one workspace) and tags (every workspace with these tags)",
            )
        )
    return out


def _security_checks(cfg: EnvironmentConfig) -> list[tuple[str, str]]:
    """Rules for access logs, the WAF web ACL and secret references."""
    out: list[tuple[str, str]] = []
    logs = cfg.load_balancer.access_logs
    where = "load_balancer.access_logs"
    if logs.bucket is not None and logs.bucket_prefix is not None:
        out.append((f"{where}.bucket_prefix", "cannot be combined with bucket (an existing bucket)"))
    if logs.bucket is not None and (".." in logs.bucket or ipaddress_like(logs.bucket)):
        out.append((f"{where}.bucket", "is not a valid S3 bucket name (no '..', not an IP address)"))
    if logs.prefix is not None and "AWSLogs" in logs.prefix:
        out.append((f"{where}.prefix", "may not contain 'AWSLogs' (Elastic Load Balancing adds it)"))

    waf = cfg.load_balancer.waf
    where = "load_balancer.waf"
    seen: dict[tuple[str, str], int] = {}
    for i, group in enumerate(waf.managed_rule_groups):
        key = (group.vendor_name, group.name)
        if key in seen:
            out.append((f"{where}.managed_rule_groups.{i}.name", f"{group.name} is already listed at index {seen[key]}"))
        seen.setdefault(key, i)
    if cfg.waf_enabled and not waf.managed_rule_groups and waf.rate_limit is None:
        out.append((f"{where}.managed_rule_groups", "an enabled web ACL needs managed_rule_groups or a rate_limit"))
    headers = [h.lower() for h in waf.logging.redacted_headers]
    if len(set(headers)) != len(headers):
        out.append((f"{where}.logging.redacted_headers", "lists a header twice (names are case-insensitive)"))

    for name, fleet in cfg.fleets.items():
        refs = fleet.launch_template.secret_references
        if len(set(refs)) != len(refs):
            out.append((f"fleets.{name}.launch_template.secret_references", "lists a reference twice"))
    return out


def ipaddress_like(value: str) -> bool:
    """True when ``value`` is formatted like an IPv4 address (S3 rejects such bucket names)."""
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _fleet_checks(where: str, fleet: Fleet) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    tg = fleet.target_group
    hc = tg.health_check
    if hc.timeout >= hc.interval:
        out.append(
            (
                f"{where}.target_group.health_check.timeout",
                f"must be less than interval ({hc.timeout} >= {hc.interval})",
            )
        )
    if tg.slow_start and not 30 <= tg.slow_start <= 900:
        out.append((f"{where}.target_group.slow_start", "must be 0 (off) or 30-900 seconds"))
    elif tg.slow_start and tg.load_balancing_algorithm_type != "round_robin":
        out.append(
            (
                f"{where}.target_group.slow_start",
                "AWS rejects slow_start with load_balancing_algorithm_type "
                f"{tg.load_balancing_algorithm_type}: set slow_start to 0 or use round_robin",
            )
        )
    if tg.protocol_version == "GRPC":
        if not _codes_within(fleet.health_check_matcher, 0, 99):
            out.append(
                (
                    f"{where}.target_group.health_check.matcher",
                    "gRPC target groups take gRPC status codes 0-99 (for example 0 or 0-12)",
                )
            )
    elif not _codes_within(fleet.health_check_matcher, 200, 499):
        out.append(
            (
                f"{where}.target_group.health_check.matcher",
                "HTTP matchers take codes 200-499 (for example 200 or 200-299)",
            )
        )

    lt = fleet.launch_template
    if (lt.image_id is None) == (lt.image_ssm_parameter is None):
        out.append(
            (f"{where}.launch_template", "set exactly one of image_id and image_ssm_parameter")
        )

    asg = fleet.autoscaling_group
    a = f"{where}.autoscaling_group"
    if asg.min_size > asg.max_size:
        out.append((f"{a}.min_size", f"must not exceed max_size ({asg.min_size} > {asg.max_size})"))
    if (
        asg.desired_capacity is not None
        and asg.min_size <= asg.max_size
        and not asg.min_size <= asg.desired_capacity <= asg.max_size
    ):
        out.append(
            (
                f"{a}.desired_capacity",
                f"must be within [min_size, max_size] = [{asg.min_size}, {asg.max_size}], "
                f"got {asg.desired_capacity}",
            )
        )
    if asg.max_instance_lifetime not in (None, 0) and not (
        86400 <= asg.max_instance_lifetime <= 31536000
    ):
        out.append((f"{a}.max_instance_lifetime", "must be 0 or 86400-31536000 seconds"))
    ir = asg.instance_refresh
    if ir is not None:
        if ir.max_healthy_percentage - ir.min_healthy_percentage > 100:
            out.append(
                (
                    f"{a}.instance_refresh.max_healthy_percentage",
                    "may exceed min_healthy_percentage by at most 100",
                )
            )
        cps = ir.checkpoint_percentages
        if any(b <= x for x, b in zip(cps, cps[1:])):
            out.append((f"{a}.instance_refresh.checkpoint_percentages", "must be strictly ascending"))
        if ir.checkpoint_delay is not None and not cps:
            out.append((f"{a}.instance_refresh.checkpoint_delay", "needs checkpoint_percentages"))
    wp = asg.warm_pool
    if wp is not None:
        if asg.mixed_instances_policy is not None:
            out.append(
                (
                    f"{a}.warm_pool",
                    "AWS does not allow a warm pool on a group with a mixed_instances_policy "
                    "(PutWarmPool rejects it): keep this group on-demand and add spot capacity "
                    f"with {where}.spot_autoscaling_group",
                )
            )
        if wp.min_size > asg.max_size:
            out.append(
                (f"{a}.warm_pool.min_size", f"must not exceed max_size ({wp.min_size} > {asg.max_size})")
            )
        if wp.max_group_prepared_capacity is not None and wp.max_group_prepared_capacity < asg.min_size:
            out.append(
                (
                    f"{a}.warm_pool.max_group_prepared_capacity",
                    f"must be at least min_size ({wp.max_group_prepared_capacity} < {asg.min_size})",
                )
            )
    spot = fleet.spot_autoscaling_group
    if spot is not None:
        s = f"{where}.spot_autoscaling_group"
        if spot.min_size > spot.max_size:
            out.append((f"{s}.min_size", f"must not exceed max_size ({spot.min_size} > {spot.max_size})"))
        elif spot.desired_capacity is not None and not spot.min_size <= spot.desired_capacity <= spot.max_size:
            out.append(
                (
                    f"{s}.desired_capacity",
                    f"must be within [min_size, max_size] = [{spot.min_size}, {spot.max_size}], "
                    f"got {spot.desired_capacity}",
                )
            )
        types = [o.instance_type for o in spot.overrides()]
        if len(set(types)) != len(types):
            out.append((f"{s}.instance_types", "lists a type twice"))
        if asg.mixed_instances_policy is not None:
            out.append(
                (f"{s}", "use either autoscaling_group.mixed_instances_policy or a spot group, not both")
            )
    sc = fleet.scaling
    for name, action in sc.scheduled_actions.items():
        p = f"{where}.scaling.scheduled_actions.{name}"
        sizes = [action.min_size, action.desired_capacity, action.max_size]
        if all(v is None for v in sizes):
            out.append((p, "set at least one of min_size, max_size and desired_capacity"))
        given = [v for v in sizes if v is not None]
        if given != sorted(given):
            out.append((p, "needs min_size <= desired_capacity <= max_size"))
    mip = asg.mixed_instances_policy
    if mip is not None:
        types = [o.instance_type for o in mip.overrides()]
        if len(set(types)) != len(types):
            out.append((f"{a}.mixed_instances_policy.instance_types", "lists a type twice"))
        if mip.on_demand_base_capacity > asg.max_size:
            out.append(
                (
                    f"{a}.mixed_instances_policy.on_demand_base_capacity",
                    f"must not exceed max_size ({mip.on_demand_base_capacity} > {asg.max_size})",
                )
            )
        weights = [o.weighted_capacity is None for o in mip.overrides()]
        if any(weights) and not all(weights):
            out.append(
                (
                    f"{a}.mixed_instances_policy.instance_types",
                    "give weighted_capacity for every instance type or for none",
                )
            )
    return out


def advisories(cfg: EnvironmentConfig) -> list[tuple[str, str]]:
    """Risky but valid choices, as ``(field, message)`` warnings (synth goes on).

    Flags explicit timings shorter than the model load or request time they must cover,
    and spot capacity with fewer than two instance types (spot pools run dry one type at
    a time; the EC2 spot best practices ask for diversification).
    """
    out: list[tuple[str, str]] = []
    longest = max(f.effective_max_request_seconds for f in cfg.fleets.values())
    if cfg.load_balancer.idle_timeout is not None and cfg.load_balancer.idle_timeout < longest:
        out.append(
            (
                "load_balancer.idle_timeout",
                f"{cfg.load_balancer.idle_timeout} s is shorter than the longest "
                f"max_request_seconds ({longest} s): the ALB may cut long requests",
            )
        )
    for name, fleet in cfg.fleets.items():
        w = f"fleets.{name}"
        load = fleet.effective_model_load_seconds
        hooked = fleet.lifecycle_hooks.launch is not None
        asg = fleet.autoscaling_group
        if not hooked and asg.health_check_grace_period is not None and asg.health_check_grace_period < load:
            out.append(
                (
                    f"{w}.autoscaling_group.health_check_grace_period",
                    f"{asg.health_check_grace_period} s is shorter than model_load_seconds ({load} s): "
                    "instances may be replaced before the model is loaded",
                )
            )
        if not hooked and asg.default_instance_warmup is not None and asg.default_instance_warmup < load:
            out.append(
                (
                    f"{w}.autoscaling_group.default_instance_warmup",
                    f"{asg.default_instance_warmup} s is shorter than model_load_seconds ({load} s): "
                    "scaling may count instances that do not serve yet",
                )
            )
        hook = fleet.lifecycle_hooks.launch
        if hook is not None and hook.heartbeat_timeout is not None and hook.heartbeat_timeout < load:
            out.append(
                (
                    f"{w}.lifecycle_hooks.launch.heartbeat_timeout",
                    f"{hook.heartbeat_timeout} s is shorter than model_load_seconds ({load} s)",
                )
            )
        dd = fleet.target_group.deregistration_delay
        req = fleet.effective_max_request_seconds
        if dd is not None and dd < req:
            out.append(
                (
                    f"{w}.target_group.deregistration_delay",
                    f"{dd} s is shorter than max_request_seconds ({req} s): draining may cut requests",
                )
            )
        mip = asg.mixed_instances_policy
        if mip is not None and fleet.uses_spot and len(mip.instance_types) < 2:
            out.append(
                (
                    f"{w}.autoscaling_group.mixed_instances_policy.instance_types",
                    "spot with a single instance type: list two or more so one type's "
                    "interruptions or shortage do not take the spot capacity down",
                )
            )
        spot = fleet.spot_autoscaling_group
        if spot is not None and len(spot.instance_types) < 2:
            out.append(
                (
                    f"{w}.spot_autoscaling_group.instance_types",
                    "spot with a single instance type: list two or more",
                )
            )
        wp = asg.warm_pool
        if wp is not None and wp.pool_state == "Hibernated":
            out.append(
                (
                    f"{w}.autoscaling_group.warm_pool.pool_state",
                    "Hibernated needs instance types that support hibernation (most GPU types "
                    "do not) and a root volume larger than the instance memory",
                )
            )
    return out


def _codes_within(matcher: str, low: int, high: int) -> bool:
    for part in matcher.split(","):
        bounds = [int(x) for x in part.split("-")]
        if any(not low <= b <= high for b in bounds) or bounds != sorted(bounds):
            return False
    return True


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last one.

    The pure-Python parser, not libyaml's CSafeLoader: libyaml would save about 12 ms per
    file, but its error messages are vaguer ("found character that cannot start any
    token" instead of naming the tab) and differ between PyYAML builds."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    # Merge keys (<<: *anchor) bring in defaults that explicit keys may override: only
    # the explicit keys must be unique. SafeLoader's construct_mapping does the merge.
    for key_node, _ in (pair for pair in node.value if pair[0].tag != "tag:yaml.org,2002:merge"):
        key = loader.construct_object(key_node, deep=deep)
        marker = (type(key), key)  # 1 and true are different keys
        try:
            duplicate = marker in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain values, not lists or mappings", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {shown(key)}", key_node.start_mark
            )
        seen.add(marker)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _loc(parts: tuple) -> str:
    return ".".join(str(p) for p in parts)


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _description(loc: tuple) -> str:
    """Description of the field at ``loc`` (skipping list indices and dict keys)."""
    models: list[type[BaseModel]] = [EnvironmentConfig]
    description = ""
    for part in loc:
        field = next((m.model_fields[part] for m in models if isinstance(part, str) and part in m.model_fields), None)
        if field is None:
            continue
        description = field.description or ""
        if not description:
            for meta in get_args(field.annotation)[1:] if get_origin(field.annotation) is Annotated else []:
                description = getattr(meta, "description", None) or description
        models = _models_in(field.annotation) or models
    return description


def _pydantic_message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        last = err["loc"][-1] if err["loc"] else ""
        if isinstance(last, str) and SECRET_WORDS.search(last):
            return f"unknown key; {_SECRET_HELP}"
        return "unknown key (check the spelling; see config/schema.json for allowed keys)"
    if err["type"] == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    # Never echo what was typed into a field meant for secret references: a value that
    # is not a reference may well be the secret itself.
    secretish = any(isinstance(p, str) and SECRET_WORDS.search(p) for p in err["loc"])
    value = "the value (not shown)" if secretish else shown(err["input"])
    if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of keys to values (a section), got {_yaml_kind(err['input'])}"
    if err["type"] == "list_type":
        return f"must be a list (- item lines or [a, b]), got {_yaml_kind(err['input'])}"
    if err["input"] is None and err["type"].endswith("_type"):
        return f"{msg}, got nothing (null or an empty value in YAML)"
    if err["type"] == "string_pattern_mismatch":
        hint = _description(err["loc"])
        pattern = err.get("ctx", {}).get("pattern", "")
        return f"{value} is not allowed: {hint or 'must match'} (pattern {pattern})"
    if err["type"] == "backend_type":
        given = err["input"].get("type") if isinstance(err["input"], dict) else err["input"]
        if not isinstance(err["input"], dict):
            return f"must be a mapping with a 'type' key ({', '.join(BACKEND_TYPES)}), got {given!r}"
        return f"{given!r} is not allowed: {msg}"
    if err["type"] == "string_type" and isinstance(err["input"], (dict, list)):
        return f"{msg}, got {_yaml_kind(err['input'])}"
    if err["type"] == "string_type" and err["input"] is not None:
        kind = {bool: "a boolean", int: "a number", float: "a number"}.get(type(err["input"]), "a date")
        raw = err["input"]
        as_yaml = str(raw).lower() if isinstance(raw, bool) else getattr(raw, "isoformat", lambda: value)()
        return (
            f"{msg}; YAML read {as_yaml} as {kind} (unquoted yes/no/on/off, "
            "numbers and dates are not strings): put the value in quotes"
        )
    if err["type"] in ("literal_error", "enum"):
        return f"{value} is not allowed: {msg}"
    return msg


def _yaml_kind(value: Any) -> str:
    """How YAML typed ``value``, for messages: 'a list', 'a boolean', 'nothing (null)'..."""
    if value is None:
        return "nothing (null or an empty value)"
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return kinds.get(type(value), "a date" if hasattr(value, "isoformat") else type(value).__name__)


def parse_config(data: Any, file: str) -> EnvironmentConfig:
    """Validate an already-parsed YAML document.

    ``file`` names the source in error messages. Returns the config; raises
    :class:`ConfigError` listing every problem found.
    """
    if not isinstance(data, dict):
        raise ConfigError([Problem(file, "", "must be a YAML mapping of keys to values")])
    secret_problems, secrets = _secret_values(data, file)
    try:
        cfg = EnvironmentConfig.model_validate(data)
    except ValidationError as exc:
        problems = list(secret_problems)
        for err in exc.errors():
            # Union branches report the same field twice; keep one message per field.
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("str", "InstanceOverride", "function-after"))))
            if loc[:1] == ("backend",) and len(loc) > 1 and loc[1] in BACKEND_TYPES:
                loc = loc[:1] + loc[2:]  # drop the union tag: backend.s3.bucket -> backend.bucket
            problems.append(Problem(file, _loc(loc), _pydantic_message(err)))
        # De-duplicate while keeping order.
        raise ConfigError(_redacted(list(dict.fromkeys(problems)), secrets)) from None
    found = [Problem(file, field, message) for field, message in cross_checks(cfg)]
    if secret_problems or found:
        raise ConfigError(_redacted([*secret_problems, *found], secrets))
    return cfg


_SECRET_HELP = (
    "the config accepts no secret values, only references (a Secrets Manager ARN or an SSM "
    "parameter name in launch_template.secret_references); remove it, and rotate the "
    "credential if this file was ever shared"
)


def _secret_values(data: Any, file: str) -> tuple[list[Problem], list[str]]:
    """Find secret-looking strings anywhere in a parsed YAML document.

    Returns one :class:`Problem` per value (or key) that matches a well-known credential
    format, plus one per tag whose key names a secret (``db_password``) while its value
    is a literal rather than a reference; and the offending strings, so messages can
    redact them.
    """
    problems: list[Problem] = []
    secrets: list[str] = []
    visited: set[int] = set()

    def walk(node: Any, path: tuple) -> None:
        # YAML aliases make one object appear many times; visiting it once keeps this
        # linear in the file size ("billion laughs" documents).
        if isinstance(node, (dict, list)):
            if id(node) in visited:
                return
            visited.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and find_tokens(key):
                    secrets.append(key)
                    problems.append(Problem(file, _loc(path), f"a key looks like a secret ({find_tokens(key)[0].kind}): {_SECRET_HELP}"))
                    key = "<redacted>"
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, (*path, i))
        elif isinstance(node, str):
            found = find_tokens(node)
            if found:
                secrets.append(node)
                secrets.extend(f.secret for f in found)
                problems.append(Problem(file, _loc(path), f"looks like a secret ({found[0].kind}): {_SECRET_HELP}"))

    walk(data, ())
    tags = data.get("tags")
    if isinstance(tags, dict):
        for key, value in tags.items():
            if (
                isinstance(key, str)
                and isinstance(value, str)
                and SECRET_WORDS.search(key)
                and value
                and not is_reference(value)
                and not find_tokens(value)
            ):
                secrets.append(value)
                problems.append(
                    Problem(
                        file,
                        f"tags.{key}",
                        "the tag name suggests a secret value; tags are readable by anyone who "
                        f"can describe the resources: {_SECRET_HELP}",
                    )
                )
    return problems, secrets


def _redacted(problems: list[Problem], secrets: list[str]) -> list[Problem]:
    """``problems`` with every secret string removed from fields and messages."""
    return [Problem(p.file, redact(p.field, secrets), redact(p.message, secrets)) for p in problems]


def load_config(path: str | Path) -> EnvironmentConfig:
    """Read and validate one environment YAML file.

    ``path`` is shown in messages exactly as given. Returns the validated config.
    Raises :class:`ConfigError` (with every problem found) when the file is missing,
    is not valid YAML, does not match the schema, or breaks a cross-field rule, and
    when ``user_data_file`` does not exist; also when ``path`` is not a regular file
    (a folder, a FIFO, a device).
    """
    file = str(path)
    p = Path(path)
    try:
        if p.exists() and not p.is_file():
            # A folder, FIFO or device: reading it would fail, block or never end.
            raise ConfigError([Problem(file, "", "is not a regular file")])
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(file, "", f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(file, "", "is not UTF-8 text")]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(file, "", redact(f"invalid YAML: {where}{problem}"))]) from None
    except RecursionError:
        raise ConfigError([Problem(file, "", "invalid YAML: nested too deeply")]) from None
    except ValueError as exc:  # a scalar the YAML resolver types but cannot convert
        detail = "an integer is too long" if "integer string conversion" in str(exc) else str(exc)
        raise ConfigError([Problem(file, "", redact(f"invalid YAML: {detail}"))]) from None
    cfg = parse_config(data, file)
    problems = file_problems(cfg, file, p.parent)
    if problems:
        raise ConfigError(problems)
    return cfg


def file_problems(cfg: EnvironmentConfig, file: str, base: Path) -> list[Problem]:
    """Problems with the files a valid config refers to (user data scripts), resolved
    against ``base``, the config file's folder; they must lie inside the folder above it
    (the project, as ``config/../user_data/``). Empty when all is well."""
    root = base.resolve().parent
    problems = []
    for name, fleet in cfg.fleets.items():
        ud = fleet.launch_template.user_data_file
        if ud is not None:
            field = f"fleets.{name}.launch_template.user_data_file"
            variables = fleet_variables(cfg, name, fleet)
            problems.extend(Problem(file, field, m) for m in _user_data_problems(base / ud, ud, variables, root))
    return problems


#: EC2 limit on user data, bytes before base64 encoding.
USER_DATA_MAX_BYTES = 16384


def _user_data_problems(path: Path, shown_as: str, variables: dict[str, str], root: Path) -> list[str]:
    """Problems with one user data script: an absolute path, missing, resolving (after
    symlinks) outside ``root`` (the project: the folder above the config file's folder),
    not a regular file, unreadable, not UTF-8, over the EC2 16 KB limit once the
    ``FLEET_*`` lines (``variables``, see stacks/user_data.py) are added, or containing
    secret-looking text (reported by line, never echoed)."""
    if _is_absolute(shown_as):
        return [f"{shown(shown_as)} must be a path relative to the config file's folder (no leading '/', '~' or drive letter)"]
    try:
        exists = path.exists() or path.is_symlink()
        real = path.resolve()
    except (OSError, RuntimeError) as exc:
        return [f"{shown(shown_as)} cannot be read: {getattr(exc, 'strerror', None) or exc}"]
    if not exists:
        return [f"{shown(shown_as)} does not exist (paths are relative to the config file's folder)"]
    if not real.is_relative_to(root):
        return [
            f"{shown(shown_as)} resolves outside the project (the folder above the config file's "
            "folder): user data is copied into the Terraform plan and state, so it must come from "
            "the repository"
        ]
    if not real.is_file():
        return [f"{shown(shown_as)} is not a regular file"]
    try:
        raw = real.read_bytes()
    except OSError as exc:
        return [f"{shown(shown_as)} cannot be read: {exc.strerror}"]
    problems = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    size = len(raw) if text is None else len(render_user_data(text, variables).encode("utf-8"))
    if size > USER_DATA_MAX_BYTES:
        added = f" with the {size - len(raw)} bytes of FLEET_* lines added" if size > len(raw) else ""
        problems.append(
            f"{shown(shown_as)} is {size} bytes{added}; EC2 accepts at most {USER_DATA_MAX_BYTES} "
            "bytes of user data (fetch larger scripts from S3 at boot)"
        )
    if text is None:
        return [*problems, f"{shown(shown_as)} is not UTF-8 text"]
    for finding in scan_text(text):
        problems.append(
            f"{shown(shown_as)} line {finding.line} looks like it holds a secret ({finding.kind}); "
            "user data is readable by anyone with ec2:DescribeInstanceAttribute and ends up "
            "in the Terraform plan and state: read secrets at boot from Secrets Manager or "
            "SSM (launch_template.secret_references) instead"
        )
    return problems


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of :class:`EnvironmentConfig`, for editors."""
    return EnvironmentConfig.model_json_schema(mode="validation")

