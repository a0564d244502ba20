"""stacks/secret_access.py: read access to exactly the secrets a fleet references."""

from __future__ import annotations

from construct_testing import build

from stacks.secret_access import SecretAccess


def test_parameters_and_secrets_by_reference_only():
    refs = [
        "/ai-fleet/prod/hf-token",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-AbCdEf",
    ]
    built, _ = build(
        lambda s: SecretAccess(
            s,
            "fleet-chat-secrets",
            role_name="dev-chat-role",
            secret_references=refs,
            region="us-east-1",
            partition="aws",
            account_id="123456789012",
        )
    )
    policy = built.only("aws_iam_role_policy")
    assert (policy["name"], policy["role"]) == ("secret-references", "dev-chat-role")
    text = policy["policy"]
    assert '"Action" = ["ssm:GetParameter", "ssm:GetParameters"]' in text
    assert '"Resource" = ["arn:aws:ssm:us-east-1:123456789012:parameter/ai-fleet/prod/hf-token"]' in text
    # A secret ARN without its random suffix gets -?????? (Secrets Manager's advice).
    assert (
        '"Resource" = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????", '
        '"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-AbCdEf"]'
    ) in text
    assert "*" not in text.replace("-??????", "")
