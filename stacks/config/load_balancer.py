"""``load_balancer``: the Application Load Balancer, its listeners, access logs and WAF."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from .base import FieldProblem, StrictModel
from .types import CertificateArn, Cidr, LogRetentionDays, S3BucketName, distinct_cidrs

#: Bucket name prefixes S3 reserves (Amazon S3 user guide, "General purpose bucket naming
#: rules").
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")


def s3_bucket_prefix_problems(prefix: str) -> list[str]:
    """Why ``prefix`` cannot begin an S3 bucket name that Terraform completes with a
    unique suffix (digits), or nothing: a reserved prefix, or '..', '.-' or '-.' in it."""
    out = [f"{prefix!r} starts with {p!r}, which S3 reserves" for p in S3_RESERVED_PREFIXES if prefix.startswith(p)]
    if ".." in prefix or ".-" in prefix or "-." in prefix:
        out.append(f"{prefix!r} contains '..', '.-' or '-.', which S3 bucket names may not")
    return out


class AccessLogsConfig(StrictModel):
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
        description="Existing bucket to deliver to (S3 bucket naming rules); default: the stack creates one.",
    )
    bucket_prefix: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{0,36}$")] | None = Field(
        None,
        description="Name prefix of the bucket the stack creates (1-37 characters; "
        "Terraform appends a unique suffix). Default: '<name>-alb-logs-'.",
    )
    prefix: (
        Annotated[
            str,
            StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", max_length=200),
        ]
        | None
    ) = Field(
        None,
        description="S3 key prefix of the log objects, without leading or trailing '/'; "
        "may not contain 'AWSLogs'. Default: none.",
    )
    expiration_days: int = Field(365, ge=1, le=36500, description="Days after which log objects are deleted.")
    noncurrent_version_expiration_days: int = Field(
        30, ge=1, le=36500, description="Days after which overwritten or deleted versions are removed."
    )

    def own_problems(self) -> list[FieldProblem]:
        """``bucket`` or ``bucket_prefix``, not both; no ``AWSLogs`` in ``prefix``."""
        out: list[FieldProblem] = []
        if self.bucket is not None and self.bucket_prefix is not None:
            out.append(("bucket_prefix", "cannot be combined with bucket (an existing bucket)"))
        if self.prefix is not None and "AWSLogs" in self.prefix:
            out.append(("prefix", "may not contain 'AWSLogs' (Elastic Load Balancing adds it)"))
        # aws-rule: s3-bucket-prefix
        if self.bucket_prefix is not None:
            out += [("bucket_prefix", m) for m in s3_bucket_prefix_problems(self.bucket_prefix)]
        return out


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
        description="Rule name -> action that replaces the rule's own, for example {SizeRestrictions_BODY: count}.",
    )


class WafLogging(StrictModel):
    """Web ACL logging (``aws_wafv2_web_acl_logging_configuration``) to a CloudWatch log
    group named ``aws-waf-logs-<name>-...``, encrypted with the stack's logs KMS key."""

    enabled: bool = Field(True, description="Log requests the web ACL evaluates.")
    retention_in_days: LogRetentionDays = Field(365, description="Retention of the WAF log group, days.")
    redacted_headers: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")]] = Field(
        default_factory=lambda: ["authorization", "cookie", "x-api-key"],
        max_length=100,
        description="Request headers never written to the logs (credentials).",
    )

    def own_problems(self) -> list[FieldProblem]:
        """Each header once (names compared without case)."""
        headers = [h.lower() for h in self.redacted_headers]
        if len(set(headers)) != len(headers):
            return [("redacted_headers", "lists a header twice (names are case-insensitive)")]
        return []


class WafConfig(StrictModel):
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
    logging: WafLogging = Field(WafLogging(), description="Logging of the requests the web ACL evaluates.")

    def own_problems(self) -> list[FieldProblem]:
        """Each managed rule group once (by vendor and name)."""
        out: list[FieldProblem] = []
        seen: dict[tuple[str, str], int] = {}
        for i, group in enumerate(self.managed_rule_groups):
            key = (group.vendor_name, group.name)
            if key in seen:
                out.append((f"managed_rule_groups.{i}.name", f"{group.name} is already listed at index {seen[key]}"))
            seen.setdefault(key, i)
        return out


class LoadBalancerConfig(StrictModel):
    """The Application Load Balancer and its listeners (``aws_lb``, ``aws_lb_listener``)."""

    internal: bool = Field(False, description="Internal ALB instead of internet-facing.")
    ingress_cidr_blocks: Annotated[list[Cidr], AfterValidator(distinct_cidrs)] = Field(
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
    drop_invalid_header_fields: bool = Field(
        True, description="Drop HTTP headers with invalid names instead of passing them to the targets."
    )
    enable_deletion_protection: bool | None = Field(
        None, description="Defaults to the environment's 'production' flag."
    )
    enable_http2: bool = Field(True, description="HTTP/2 between clients and the ALB.")
    enable_zonal_shift: bool = Field(
        True,
        description="ARC zonal shift integration (aws_lb.enable_zonal_shift): lets you (or zonal "
        "autoshift) move traffic away from an impaired AZ; the targets in the other AZs then take "
        "all requests. Off by default in AWS; on here, since an ALB always spans at least two AZs.",
    )
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
    access_logs: AccessLogsConfig = Field(AccessLogsConfig(), description="ALB access logs to S3.")
    waf: WafConfig = Field(WafConfig(), description="AWS WAF web ACL on the ALB.")
