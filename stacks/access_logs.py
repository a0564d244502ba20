"""The S3 bucket that receives the ALB's access logs.

Follows "Access logs for your Application Load Balancer" (Elastic Load Balancing user
guide) and the S3 security best practices:

- ``aws_s3_bucket`` named from ``bucket_prefix`` (Terraform appends a unique suffix, so
  names stay within S3's 63 characters and never collide); ``force_destroy`` only when
  the environment has no deletion protection, so production logs survive a destroy.
- SSE-S3 (``AES256``) default encryption: ALB log delivery supports no other server-side
  encryption (SSE-KMS is rejected).
- Versioning, all four public access blocks, ACLs disabled (``BucketOwnerEnforced``), a
  policy that denies any request not made over TLS. No event notifications: a bucket has
  one notification configuration, and owning it here would undo the one a log pipeline
  (SIEM ingestion) adds.
- A lifecycle rule: current objects expire after ``expiration_days``, overwritten or
  deleted versions after ``noncurrent_version_expiration_days``, incomplete multipart
  uploads after 7 days.
- The bucket policy that lets Elastic Load Balancing write ``<prefix>/AWSLogs/<account>/*``:
  regions launched before August 2022 use their regional ELB account as principal,
  newer regions the ``logdelivery.elasticloadbalancing.amazonaws.com`` service principal.
  The table (``stacks/principals.py``) is the one the ELB guide publishes; it is fixed
  per region, so the synthesized JSON is deterministic.
"""

from __future__ import annotations

from typing import Any

from cdktf import Fn, Op, Precondition, TerraformStack

from .aws import aws
from .config import AccessLogsConfig
from .parts import Part
from .principals import elb_log_principal


class AccessLogsBucket(Part):
    """Creates the access log bucket of environment ``name`` in ``region`` from the
    ``load_balancer.access_logs`` section, emptied on destroy when ``force_destroy``.

    Takes the partition token and the account ID token. Attributes: ``bucket_name``
    (token) for ``aws_lb.access_logs.bucket`` and ``alb_depends_on``, the resources the
    ALB must depend on (bucket policy and encryption) so ELB can write its test object
    when the ALB enables logging.
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        name: str,
        region: str,
        access_logs: AccessLogsConfig,
        force_destroy: bool,
        partition: str,
        account_id: str,
    ):
        super().__init__(scope, id_)
        logs = access_logs
        bucket = aws.s3_bucket.S3Bucket(
            self.stack,
            self.element_id("bucket"),
            bucket_prefix=logs.bucket_prefix or f"{name}-alb-logs-",
            force_destroy=force_destroy,
            tags={"Name": f"{name}-alb-logs"},
        )
        bucket_id = bucket.id
        self.bucket_name: str = bucket.bucket
        ownership = aws.s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self.stack,
            self.element_id("ownership"),
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
        )
        public_access = aws.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self.stack,
            self.element_id("public_access_block"),
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        sse = aws.s3_bucket_server_side_encryption_configuration
        encryption = sse.S3BucketServerSideEncryptionConfigurationA(
            self.stack,
            self.element_id("encryption"),
            bucket=bucket_id,
            rule=[
                sse.S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="AES256"
                    )
                )
            ],
        )
        aws.s3_bucket_versioning.S3BucketVersioningA(
            self.stack,
            self.element_id("versioning"),
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
        )
        lc = aws.s3_bucket_lifecycle_configuration
        aws.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfiguration(
            self.stack,
            self.element_id("lifecycle"),
            bucket=bucket_id,
            rule=[
                lc.S3BucketLifecycleConfigurationRule(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=[lc.S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[lc.S3BucketLifecycleConfigurationRuleExpiration(days=logs.expiration_days)],
                    noncurrent_version_expiration=[
                        lc.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=logs.noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        lc.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )

        key_prefix = f"{logs.prefix}/" if logs.prefix else ""
        bucket_arn = bucket.arn
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ElasticLoadBalancingWritesAccessLogs",
                    "Effect": "Allow",
                    "Principal": elb_log_principal(region, partition),
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{key_prefix}AWSLogs/{account_id}/*",
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
        bucket_policy = aws.s3_bucket_policy.S3BucketPolicy(
            self.stack,
            self.element_id("policy"),
            bucket=bucket_id,
            policy=Fn.jsonencode(policy),
            # S3 rejects a policy while the public access block is being changed.
            depends_on=[public_access, ownership],
        )
        self.alb_depends_on: list[Any] = [bucket_policy, encryption]


class ExistingLogBucket(Part):
    """An existing access log bucket (``load_balancer.access_logs.bucket``), read at plan
    time: ELB delivers access logs only to a bucket in the load balancer's region (ELB
    user guide, "Access logs for your Application Load Balancer": "The bucket must be
    located in the same Region as the load balancer"), else logging fails when the ALB is
    created or changed. Attribute ``checks``: preconditions for the ALB."""

    def __init__(self, scope: TerraformStack | Part, id_: str, *, bucket: str, region: str):
        super().__init__(scope, id_)
        found = aws.data_aws_s3_bucket.DataAwsS3Bucket(self.stack, self.element_id("bucket"), bucket=bucket)
        # aws-rule: access-logs-bucket-region
        self.checks = [
            Precondition(
                condition=Op.eq(found.region, region),
                error_message=f"load_balancer.access_logs.bucket: {bucket} is in {found.region}, and ELB delivers "
                f"access logs only to a bucket in the load balancer's region ({region}): use a bucket there, or "
                "leave bucket unset and the stack creates one",
            )
        ]
