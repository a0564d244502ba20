"""Read access for a fleet's instances to the secrets its config references.

The config never holds secret values (``stacks/secrets.py`` rejects them); it names them
in ``launch_template.secret_references``: Secrets Manager secret ARNs, SSM parameter ARNs
or SSM parameter names. This group adds one inline ``aws_iam_role_policy`` to the
fleet's instance role that allows reading exactly those (least privilege, no wildcards
beyond the random suffix Secrets Manager appends to secret ARNs). User data then reads
them at boot, for example ``aws ssm get-parameter --with-decryption --name /x/hf-token``.

SecureString parameters and secrets encrypted with the AWS managed keys need no KMS
permission here; for a customer managed key, grant ``kms:Decrypt`` through
``launch_template.managed_policy_arns`` or the key policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import Fn, TerraformStack

from .aws import aws
from .parts import Part
from .principals import secret_resources


class SecretAccess(Part):
    """Inline policy ``secret-references`` on ``role_name`` (token) reading
    ``secret_references`` (a fleet's ``launch_template.secret_references``), resolved in
    ``region`` with the partition and account ID tokens.
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        role_name: str,
        secret_references: Sequence[str],
        region: str,
        partition: str,
        account_id: str,
    ):
        super().__init__(scope, id_)
        ssm, secrets = secret_resources(
            list(secret_references), partition=partition, region=region, account_id=account_id
        )
        statements: list[dict[str, Any]] = []
        if ssm:
            statements.append(
                {
                    "Sid": "ReadReferencedParameters",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                    "Resource": ssm,
                }
            )
        if secrets:
            statements.append(
                {
                    "Sid": "ReadReferencedSecrets",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                    "Resource": secrets,
                }
            )
        aws.iam_role_policy.IamRolePolicy(
            self.stack,
            self.element_id("policy"),
            name="secret-references",
            role=role_name,
            policy=Fn.jsonencode({"Version": "2012-10-17", "Statement": statements}),
        )
