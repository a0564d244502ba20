"""stacks/access_logs.py: the bucket that receives the ALB's access logs."""

from __future__ import annotations

from construct_testing import aws, build, expose, ref

from stacks.access_logs import AccessLogsBucket, ExistingLogBucket
from stacks.config import AccessLogsConfig


def bucket(region="us-east-1", force_destroy=False, **section):
    def make(stack):
        made = AccessLogsBucket(
            stack,
            "access_logs",
            name="prod",
            region=region,
            access_logs=AccessLogsConfig.model_validate(section),
            force_destroy=force_destroy,
            partition="aws",
            account_id="123456789012",
        )
        expose(stack, bucket=made.bucket_name)
        return made

    return build(make)


def test_bucket_is_private_versioned_encrypted_and_expires_logs():
    built, made = bucket(expiration_days=90)
    b = built.only("aws_s3_bucket")
    assert (b["bucket_prefix"], b["force_destroy"]) == ("prod-alb-logs-", False)
    assert built.only("aws_s3_bucket_public_access_block") == {
        "block_public_acls": True,
        "block_public_policy": True,
        "bucket": ref("aws_s3_bucket", "access_logs_bucket", "id"),
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    assert built.only("aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    # ALB log delivery supports only SSE-S3.
    [rule] = built.only("aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    assert built.only("aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    [lifecycle] = built.only("aws_s3_bucket_lifecycle_configuration")["rule"]
    assert lifecycle["expiration"] == [{"days": 90}] and lifecycle["status"] == "Enabled"
    assert built.outputs() == {"bucket": ref("aws_s3_bucket", "access_logs_bucket", "bucket")}
    # The ALB waits for the policy and encryption, so ELB's test object can be written.
    assert len(made.alb_depends_on) == 2


def test_policy_lets_the_regions_elb_write_and_denies_plain_http():
    built, _ = bucket(prefix="alb")
    # The policy is a jsonencode() expression: it holds the bucket's ARN (a reference).
    text = built.only("aws_s3_bucket_policy")["policy"]
    assert '"Principal" = {"AWS" = "arn:aws:iam::127311923021:root"}' in text  # us-east-1's ELB account
    assert '"Action" = "s3:PutObject"' in text
    assert '"${aws_s3_bucket.access_logs_bucket.arn}/alb/AWSLogs/123456789012/*"' in text
    assert '"Effect" = "Deny"' in text and '{"Bool" = {"aws:SecureTransport" = "false"}}' in text
    assert built.only("aws_s3_bucket_policy")["depends_on"] == [
        "aws_s3_bucket_public_access_block.access_logs_public_access_block",
        "aws_s3_bucket_ownership_controls.access_logs_ownership",
    ]
    newer, _ = bucket(region="eu-south-2")  # launched after August 2022
    assert (
        '"Principal" = {"Service" = "logdelivery.elasticloadbalancing.amazonaws.com"}'
        in newer.only("aws_s3_bucket_policy")["policy"]
    )


def test_force_destroy_and_prefix_follow_the_inputs():
    built, _ = bucket(force_destroy=True, bucket_prefix="logs-")
    b = built.only("aws_s3_bucket")
    assert (b["bucket_prefix"], b["force_destroy"]) == ("logs-", True)


def test_an_existing_bucket_is_checked_to_be_in_the_albs_region():
    def make(stack):
        made = ExistingLogBucket(stack, "access_logs", bucket="central-logs", region="eu-west-1")
        aws.sns_topic.SnsTopic(stack, "alb_stand_in", lifecycle={"precondition": made.checks})

    built, _ = build(make)
    assert built.data("aws_s3_bucket")["access_logs_bucket"]["bucket"] == "central-logs"
    assert not built.resources("aws_s3_bucket")  # read, never created
    [check] = built.resources("aws_sns_topic")["alb_stand_in"]["lifecycle"]["precondition"]
    assert check["condition"] == '${(data.aws_s3_bucket.access_logs_bucket.region == "eu-west-1")}'
    assert check["error_message"].startswith(
        "load_balancer.access_logs.bucket: central-logs is in ${data.aws_s3_bucket.access_logs_bucket.region}"
    )
