"""stacks/log_encryption.py: the KMS key only CloudWatch Logs of this account and region
may use."""

from __future__ import annotations

from construct_testing import build, expose, ref

from stacks.log_encryption import LogsKey


def test_key_rotates_and_only_cloudwatch_logs_of_the_region_may_use_it():
    def make(stack):
        key = LogsKey(
            stack,
            "logs_key",
            name="dev",
            region="eu-west-1",
            partition="aws",
            dns_suffix="amazonaws.com",
            account_id="123456789012",
        )
        expose(stack, key=key.kms_key_arn)

    built, _ = build(make)
    key = built.only("aws_kms_key")
    assert (key["enable_key_rotation"], key["deletion_window_in_days"]) == (True, 30)
    policy = key["policy"]
    assert '"Principal" = {"AWS" = "arn:aws:iam::123456789012:root"}' in policy
    assert '"Principal" = {"Service" = "logs.eu-west-1.amazonaws.com"}' in policy
    condition = '"kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:eu-west-1:123456789012:log-group:*"'
    assert condition in policy
    assert built.outputs() == {"key": ref("aws_kms_key", "logs_key_key", "arn")}
