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
from .config import EnvironmentConfig
from .parts import Part


def needs_log_groups(cfg: EnvironmentConfig) -> bool:
    """True when the stack creates a CloudWatch log group (flow logs or WAF logs)."""
    cv = cfg.network.create_vpc
    flow_logs = cv is not None and cv.enable_flow_logs
    waf_logs = cfg.waf_enabled and cfg.load_balancer.waf.logging.enabled
    return flow_logs or waf_logs


class LogsKey(Part):
    """Creates ``aws_kms_key`` for CloudWatch Logs.

    Takes the config, the partition and DNS suffix tokens (``data.aws_partition``) and the
    account ID token (``data.aws_caller_identity``). Attribute ``arn``: the key ARN token.
    """

    def __init__(self, scope: TerraformStack | Part, id_: str, *, cfg: EnvironmentConfig, partition: str, dns_suffix: str, account_id: str):
        super().__init__(scope, id_)
        region = cfg.region
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
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                        }
                    },
                },
            ],
        }
        self.key = aws.kms_key.KmsKey(
            self.stack,
            self.element_id("key"),
            description=f"CloudWatch Logs of {cfg.name} (VPC flow logs, WAF logs)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=Fn.jsonencode(policy),
            tags={"Name": f"{cfg.name}-logs"},
        )
        self.arn = self.key.arn
