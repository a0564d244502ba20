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
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from .secrets import SECRET_WORDS, find_tokens, is_reference, redact, scan_text, shown

# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


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
        return f"{where}: {self.message}"


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
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{shown(value)} is not a valid CIDR block such as 10.0.0.0/16 "
            f"(host bits must be zero): {exc}"
        ) from None
    if net.version != 4:
        raise ValueError("only IPv4 CIDR blocks are supported here")
    return value


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
def _relative_path(value: str) -> str:
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\", "~")) or (len(value) > 1 and value[1] == ":") or ".." in parts:
        raise ValueError(
            f"{value!r} must be a relative path inside the stack folder (no leading '/', "
            "'~', drive letter or '..'), so the synthesized JSON is portable"
        )
    return value


def _tag_key(value: str) -> str:
    if value.lower().startswith("aws:"):
        raise ValueError(f"tag key {value!r} may not start with 'aws:' (reserved by AWS)")
    return value


RelativePath = Annotated[
    str,
    StringConstraints(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_.\-/]+$"),
    AfterValidator(_relative_path),
]
TagMap = Annotated[
    dict[
        Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_tag_key)],
        Annotated[str, StringConstraints(max_length=256)],
    ],
    Field(description="Tags: keys 1-128 characters not starting with 'aws:', values up to 256."),
]


#: Retention periods CloudWatch Logs accepts (``retention_in_days``); 0 keeps logs forever.
LogRetentionDays = Literal[
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------
# Serving presets
# --------------------------------------------------------------------------------------

Preset = Literal["vllm", "tgi", "triton", "torchserve", "ray-serve", "custom"]

#: Application port and readiness path per inference server, from each server's docs:
#: vLLM OpenAI server (port 8000, GET /health), Hugging Face TGI (container port 80,
#: commonly published as 8080, GET /health), NVIDIA Triton (HTTP 8000,
#: GET /v2/health/ready), TorchServe (inference 8080, GET /ping), Ray Serve (8000,
#: GET /-/healthz). ``custom`` assumes nothing beyond port 8080 and GET /health.
PRESETS: dict[str, dict[str, Any]] = {
    "vllm": {"port": 8000, "path": "/health"},
    "tgi": {"port": 8080, "path": "/health"},
    "triton": {"port": 8000, "path": "/v2/health/ready"},
    "torchserve": {"port": 8080, "path": "/ping"},
    "ray-serve": {"port": 8000, "path": "/-/healthz"},
    "custom": {"port": 8080, "path": "/health"},
}


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
    ingress_cidr_blocks: list[Cidr] = Field(
        ...,
        min_length=1,
        description="Client CIDR blocks allowed on ports 80/443. Required: there is no "
        "open-to-the-world default.",
    )
    idle_timeout: int = Field(
        600,
        ge=1,
        le=4000,
        description="Seconds a connection may stay idle; long enough for the slowest "
        "generation request (AWS range 1-4000, AWS default 60).",
    )
    drop_invalid_header_fields: bool = True
    enable_deletion_protection: bool | None = Field(
        None, description="Defaults to the environment's 'production' flag."
    )
    enable_http2: bool = True
    certificate_arn: Arn | None = Field(
        None,
        description="ACM certificate ARN. When set, port 443 serves HTTPS and port 80 "
        "redirects to it.",
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
    deregistration_delay: int = Field(
        300,
        ge=0,
        le=3600,
        description="Seconds in-flight requests get to finish before a target leaves.",
    )
    slow_start: int = Field(
        0,
        description="Seconds of linear ramp-up for a new target: 0 (off) or 30-900. "
        "AWS rejects it with least_outstanding_requests.",
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
    managed_policy_arns: list[Arn] = Field(
        default_factory=list,
        description="Extra IAM managed policies for the instance role, on top of "
        "AmazonSSMManagedInstanceCore.",
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


class InstanceOverride(StrictModel):
    """One instance type of a mixed instances policy, with an optional weight."""

    instance_type: InstanceType
    weighted_capacity: int | None = Field(None, ge=1, le=999)


class MixedInstancesPolicy(StrictModel):
    """Spot/on-demand mix (``aws_autoscaling_group.mixed_instances_policy``)."""

    instance_types: list[InstanceType | InstanceOverride] = Field(
        ...,
        min_length=1,
        max_length=40,
        description="Instance types to diversify over, for example [g5.xlarge, g6.xlarge]; "
        "an entry may be {instance_type, weighted_capacity}.",
    )
    on_demand_base_capacity: int = Field(1, ge=0, description="On-demand instances kept first.")
    on_demand_percentage_above_base_capacity: Percent = Field(
        0, description="Percent of capacity above the base that is on-demand (rest spot)."
    )
    spot_allocation_strategy: Literal[
        "price-capacity-optimized",
        "capacity-optimized",
        "capacity-optimized-prioritized",
        "lowest-price",
    ] = "price-capacity-optimized"
    on_demand_allocation_strategy: Literal["prioritized", "lowest-price"] = "prioritized"

    def overrides(self) -> list[InstanceOverride]:
        """The instance types as overrides, in the order given."""
        return [
            t if isinstance(t, InstanceOverride) else InstanceOverride(instance_type=t)
            for t in self.instance_types
        ]


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


class AutoscalingGroup(StrictModel):
    """Auto Scaling group per fleet (``aws_autoscaling_group``)."""

    min_size: int = Field(2, ge=0, le=10000)
    max_size: int = Field(4, ge=1, le=10000)
    desired_capacity: int | None = Field(
        None, ge=0, le=10000, description="Default: min_size. Ignored by later applies "
        "when a scaling policy manages it."
    )
    health_check_type: Literal["ELB", "EC2"] = "ELB"
    health_check_grace_period: int = Field(
        600,
        ge=0,
        le=7200,
        description="Seconds after launch before failed health checks count; cover the "
        "model load time.",
    )
    default_instance_warmup: int = Field(
        300, ge=0, le=3600, description="Seconds before a new instance's metrics count."
    )
    capacity_rebalance: bool | None = Field(
        None, description="Replace spot instances at elevated interruption risk; "
        "default: on when a mixed_instances_policy is set."
    )
    max_instance_lifetime: int | None = Field(
        None, description="Seconds; 0 or 86400-31536000 (1-365 days)."
    )
    mixed_instances_policy: MixedInstancesPolicy | None = None
    instance_refresh: InstanceRefresh | None = Field(
        InstanceRefresh(), description="Rolling refresh on template change; null turns it off."
    )
    enabled_metrics: bool = Field(True, description="Publish group metrics at 1-minute granularity.")

    @property
    def effective_desired_capacity(self) -> int:
        """Desired capacity, defaulting to ``min_size``."""
        return self.min_size if self.desired_capacity is None else self.desired_capacity


class Scaling(StrictModel):
    """Target-tracking scaling policies (``aws_autoscaling_policy``)."""

    request_count_per_target: float | None = Field(
        None,
        gt=0,
        description="Target ALBRequestCountPerTarget (requests per target per minute).",
    )
    cpu_utilization: float | None = Field(
        None, gt=0, le=100, description="Target average CPU utilization, percent."
    )
    disable_scale_in: bool = False


class ListenerRule(StrictModel):
    """Listener rule that routes requests to a non-default fleet (``aws_lb_listener_rule``)."""

    priority: int = Field(..., ge=1, le=50000)
    path_patterns: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=5
    )
    host_headers: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=5
    )


class Fleet(StrictModel):
    """One model server fleet: target group, launch template and Auto Scaling group."""

    preset: Preset = Field("custom", description="Inference server; sets port and health path.")
    default: bool = Field(
        False, description="Receives requests no listener rule matches; exactly one fleet."
    )
    listener_rule: ListenerRule | None = None
    target_group: TargetGroup = TargetGroup()
    launch_template: LaunchTemplate
    autoscaling_group: AutoscalingGroup = AutoscalingGroup()
    scaling: Scaling = Scaling()

    # Values resolved from the preset -------------------------------------------------
    @property
    def port(self) -> int:
        """Application port: explicit ``target_group.port`` or the preset's."""
        return self.target_group.port or PRESETS[self.preset]["port"]

    @property
    def health_check_path(self) -> str:
        """Health-check path: explicit or the preset's."""
        return self.target_group.health_check.path or PRESETS[self.preset]["path"]

    @property
    def health_check_matcher(self) -> str:
        """Matcher: explicit, else 200 for HTTP and 12 (UNIMPLEMENTED) for gRPC."""
        explicit = self.target_group.health_check.matcher
        if explicit:
            return explicit
        return "12" if self.target_group.protocol_version == "GRPC" else "200"


# --------------------------------------------------------------------------------------
# Backend
# --------------------------------------------------------------------------------------


class LocalBackend(StrictModel):
    """Terraform ``local`` backend; ``path`` is relative to the stack's folder."""

    type: Literal["local"] = "local"
    path: RelativePath = Field(
        "terraform.tfstate",
        description="Relative state file path; absolute paths and '..' are rejected.",
    )


# --------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------


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
    backend: LocalBackend = LocalBackend()
    cloudwatch_logs: CloudwatchLogs = CloudwatchLogs()

    @property
    def deletion_protection(self) -> bool:
        """ALB deletion protection: explicit, else on in production."""
        explicit = self.load_balancer.enable_deletion_protection
        return self.production if explicit is None else explicit

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
    out.extend(_security_checks(cfg))
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
    if tg.slow_start != 0 and not 30 <= tg.slow_start <= 900:
        out.append((f"{where}.target_group.slow_start", "must be 0 (off) or 30-900 seconds"))
    if tg.slow_start and tg.load_balancing_algorithm_type == "least_outstanding_requests":
        out.append(
            (
                f"{where}.target_group.slow_start",
                "AWS rejects slow_start with load_balancing_algorithm_type "
                "least_outstanding_requests: set slow_start to 0 or use round_robin",
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
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
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
    when ``user_data_file`` does not exist.
    """
    file = str(path)
    p = Path(path)
    try:
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
    problems = []
    for name, fleet in cfg.fleets.items():
        ud = fleet.launch_template.user_data_file
        if ud is not None:
            field = f"fleets.{name}.launch_template.user_data_file"
            problems.extend(Problem(file, field, m) for m in _user_data_problems(p.parent / ud, ud))
    if problems:
        raise ConfigError(problems)
    return cfg


#: EC2 limit on user data, bytes before base64 encoding.
USER_DATA_MAX_BYTES = 16384


def _user_data_problems(path: Path, shown_as: str) -> list[str]:
    """Problems with one user data script: missing, unreadable, not UTF-8, over the EC2
    16 KB limit, or containing secret-looking text (reported by line, never echoed)."""
    if not path.is_file():
        return [f"{shown(shown_as)} does not exist (paths are relative to the config file's folder)"]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [f"{shown(shown_as)} cannot be read: {exc.strerror}"]
    problems = []
    if len(raw) > USER_DATA_MAX_BYTES:
        problems.append(
            f"{shown(shown_as)} is {len(raw)} bytes; EC2 accepts at most {USER_DATA_MAX_BYTES} "
            "bytes of user data (fetch larger scripts from S3 at boot)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [*problems, f"{shown(shown_as)} is not UTF-8 text"]
    for finding in scan_text(text):
        problems.append(
            f"{shown(shown_as)} line {finding.line} looks like it holds a secret ({finding.kind}); "
            "user data is readable by anyone with ec2:DescribeInstanceAttribute and ends up "
            "in the Terraform plan and state: read secrets at boot from Secrets Manager or "
            "SSM (launch_template.secret_references) instead"
        )
    return problems


def user_data(cfg_path: str | Path, fleet: Fleet) -> str | None:
    """Return the fleet's user data script text, or None when none is configured."""
    ud = fleet.launch_template.user_data_file
    if ud is None:
        return None
    return (Path(cfg_path).parent / ud).read_text(encoding="utf-8")


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of :class:`EnvironmentConfig`, for editors."""
    return EnvironmentConfig.model_json_schema(mode="validation")

