"""A customer managed KMS key for the CloudWatch log groups the stack creates.

VPC flow logs and WAF logs record who talked to the fleet; encrypting their log groups
with a customer managed key (``aws_cloudwatch_log_group.kms_key_id``) puts reading them
behind the key policy as well as IAM. Follows "Encrypt log data in CloudWatch Logs
using AWS KMS" (CloudWatch Logs user guide): the key policy lets the account administer
the key and lets only the CloudWatch Logs service of this region use it, for log groups
of this account and region (``kms:EncryptionContext:aws:logs:arn``). Key rotation is on.

Not created when ``cloudwatch_logs.kms_key_id`` names an existing key, or when the stack
creates no log group.
"""

from __future__ import annotations

from cdktf import Fn, TerraformStack

from .aws import aws
from .parts import Part


class LogsKey(Part):
    """Creates ``aws_kms_key`` for the CloudWatch Logs of environment ``name`` in
    ``region``.

    Takes the partition and DNS suffix tokens (``data.aws_partition``) and the account
    ID token (``data.aws_caller_identity``). Attribute ``kms_key_arn``: the key ARN token.
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        name: str,
        region: str,
        partition: str,
        dns_suffix: str,
        account_id: str,
    ):
        super().__init__(scope, id_)
        log_groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersTheKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsOfThisAccountAndRegion",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.{dns_suffix}"},
                    "Action": [
                        "kms:Decrypt*",
                        "kms:Describe*",
                        "kms:Encrypt*",
                        "kms:GenerateDataKey*",
                        "kms:ReEncrypt*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups},
                    },
                },
            ],
        }
        key = aws.kms_key.KmsKey(
            self.stack,
            self.element_id("key"),
            description=f"CloudWatch Logs of {name} (VPC flow logs, WAF logs)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=Fn.jsonencode(policy),
            tags={"Name": f"{name}-logs"},
        )
        self.kms_key_arn: str = key.arn
