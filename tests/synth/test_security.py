"""The security features in the synthesized JSON of the examples (access logs, WAF, log
encryption, no public IPs, secret references) and secrets never reaching the output.

checkov (test_checkov.py) says whether the stacks pass a standard scan; these tests pin
down how: which principal may write the logs, which rules the web ACL has, and so on.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from detect_secrets import SecretsCollection
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.settings import transient_settings
from helpers import ROOT, only, resources

from stacks.config import DEFAULT_MANAGED_RULE_GROUPS, ConfigError, parse_config
from stacks.principals import ELB_ACCOUNT_IDS, ELB_LOG_DELIVERY_SERVICE, elb_log_principal, secret_resources
from stacks.secrets import find_assignments, find_tokens, scan_text

# Access logs ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_alb_writes_access_logs_to_a_locked_down_bucket(stacks, name):
    s = stacks[name]
    lb = only(s, "aws_lb")
    assert lb["access_logs"] == {"bucket": "${aws_s3_bucket.access_logs_bucket.bucket}", "enabled": True}
    assert "aws_s3_bucket_policy.access_logs_policy" in lb["depends_on"]
    bucket = only(s, "aws_s3_bucket")
    assert bucket["bucket_prefix"] == f"{name}-alb-logs-" and len(bucket["bucket_prefix"]) <= 37
    assert bucket["force_destroy"] is (name == "dev"), "production logs survive a destroy"
    pab = only(s, "aws_s3_bucket_public_access_block")
    assert all(
        pab[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    sse = only(s, "aws_s3_bucket_server_side_encryption_configuration")
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    assert only(s, "aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    assert only(s, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    rule = only(s, "aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert rule["status"] == "Enabled" and rule["expiration"] == [{"days": 365}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    policy = only(s, "aws_s3_bucket_policy")["policy"]
    # us-east-1 predates August 2022: its regional ELB account writes the logs.
    assert '"AWS" = "arn:${data.aws_partition.partition.partition}:iam::127311923021:root"' in policy
    assert '"Action" = "s3:PutObject"' in policy
    assert "/AWSLogs/${data.aws_caller_identity.caller.account_id}/*" in policy
    assert '"aws:SecureTransport" = "false"' in policy and '"Effect" = "Deny"' in policy


def test_elb_log_principal_by_region():
    assert elb_log_principal("eu-west-1", "aws") == {"AWS": "arn:aws:iam::156460612806:root"}
    assert elb_log_principal("us-gov-west-1", "aws-us-gov") == {"AWS": "arn:aws-us-gov:iam::048591011584:root"}
    # Regions launched in August 2022 or later use the log delivery service principal.
    for region in ("ap-south-2", "eu-central-2", "il-central-1", "ca-west-1", "mx-central-1"):
        assert elb_log_principal(region, "aws") == {"Service": ELB_LOG_DELIVERY_SERVICE}
    assert len(ELB_ACCOUNT_IDS) == 26 and all(re.fullmatch(r"\d{12}", v) for v in ELB_ACCOUNT_IDS.values())


# WAF ----------------------------------------------------------------------------------


def test_prod_web_acl_with_managed_rules_logging_and_redaction(stacks):
    s = stacks["prod"]
    acl = only(s, "aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    groups = [r["statement"]["managed_rule_group_statement"] for r in acl["rule"]]
    assert [g["name"] for g in groups] == [g["name"] for g in DEFAULT_MANAGED_RULE_GROUPS]
    assert "AWSManagedRulesKnownBadInputsRuleSet" in [g["name"] for g in groups]  # Log4j
    overrides = {g["name"]: g.get("rule_action_override") for g in groups}
    assert overrides["AWSManagedRulesCommonRuleSet"] == [
        {"action_to_use": {"count": {}}, "name": "SizeRestrictions_BODY"}
    ]
    assert all(r["override_action"] == {"none": {}} for r in acl["rule"])
    assert [r["priority"] for r in acl["rule"]] == sorted({r["priority"] for r in acl["rule"]})
    assert only(s, "aws_wafv2_web_acl_association") == {
        **only(s, "aws_wafv2_web_acl_association"),
        "resource_arn": "${aws_lb.load_balancer_alb.arn}",
        "web_acl_arn": "${aws_wafv2_web_acl.waf_web_acl.arn}",
    }
    logging = only(s, "aws_wafv2_web_acl_logging_configuration")
    assert logging["log_destination_configs"] == ["${aws_cloudwatch_log_group.waf_log_group.arn}"]
    assert [f["single_header"]["name"] for f in logging["redacted_fields"]] == ["authorization", "cookie", "x-api-key"]
    group = resources(s, "aws_cloudwatch_log_group")["waf_log_group"]
    assert group["name_prefix"].startswith("aws-waf-logs-"), "WAF requires the prefix"
    assert group["retention_in_days"] == 365
    assert group["kms_key_id"] == "${aws_kms_key.logs_key_key.arn}"


def test_dev_has_no_web_acl(stacks):
    assert not resources(stacks["dev"], "aws_wafv2_web_acl")


# Log encryption, instances ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_log_groups_are_encrypted_with_a_rotating_key(stacks, name):
    s = stacks[name]
    key = resources(s, "aws_kms_key")["logs_key_key"]
    assert key["enable_key_rotation"] is True and key["deletion_window_in_days"] == 30
    assert '"Service" = "logs.' in key["policy"] and "kms:EncryptionContext:aws:logs:arn" in key["policy"]
    for group in resources(s, "aws_cloudwatch_log_group").values():
        assert group["kms_key_id"] == "${aws_kms_key.logs_key_key.arn}"
        assert group["retention_in_days"] >= 365


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_instances_get_no_public_ip(stacks, name):
    lt = only(stacks[name], "aws_launch_template")
    assert lt["network_interfaces"] == [
        {
            "associate_public_ip_address": "false",
            "delete_on_termination": "true",
            "device_index": 0,
            "security_groups": ["${aws_security_group.security_groups_chat-instances.id}"],
        }
    ]
    assert "vpc_security_group_ids" not in lt, "security groups go on the network interface"


# Secrets ------------------------------------------------------------------------------


def test_prod_instances_may_read_exactly_their_secret_references(stacks):
    policy = only(stacks["prod"], "aws_iam_role_policy")
    assert policy["role"] == "${aws_iam_role.fleet-chat_role.name}"
    assert '"ssm:GetParameter"' in policy["policy"]
    assert ":parameter/ai-fleet/prod/hf-token" in policy["policy"]
    assert "secretsmanager" not in policy["policy"]
    # dev has no secret references: no policy of its (the flow-log role's is the only one)
    # reads SSM parameters or Secrets Manager secrets.
    dev = resources(stacks["dev"], "aws_iam_role_policy")
    assert list(dev) == ["network_flow_logs_role_policy"]
    assert not [p for p in dev.values() if "ssm:" in p["policy"] or "secretsmanager:" in p["policy"]]


def test_secret_reference_resources():
    ssm, secrets = secret_resources(
        [
            "/a/b",
            "arn:aws:ssm:us-east-1:123456789012:parameter/x",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbC123",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/hf",
        ],
        partition="aws",
        region="eu-west-1",
        account_id="111122223333",
    )
    assert ssm == ["arn:aws:ssm:eu-west-1:111122223333:parameter/a/b", "arn:aws:ssm:us-east-1:123456789012:parameter/x"]
    assert secrets == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbC123",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/hf-??????",
    ]


def test_aws_managed_policy_arns_are_references_too():
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["fleets"]["chat"]["launch_template"]["managed_policy_arns"] = [
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    ]
    parse_config(data, "x.yaml")


@pytest.mark.parametrize(
    "line",
    [
        'TOKEN=$(curl -X PUT "http://169.254.169.254/latest/api/token" '
        '-H "X-aws-ec2-metadata-token-ttl-seconds: 21600")',
        'curl -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/',
        "aws secretsmanager get-secret-value --secret-id prod/hf --query SecretString --output text",
        'HF_TOKEN="$(aws ssm get-parameter --with-decryption --name /ai/hf-token '
        '--query Parameter.Value --output text)"',
        "export DB_PASSWORD=${DB_PASSWORD:?}",
        "password_file=/run/secrets/db",
        "# password: hunter2hunter2 (comments are documentation)",
        '"http_tokens": "required"',
    ],
)
def test_references_in_user_data_are_not_secrets(line):
    assert scan_text(line) == []


@pytest.mark.parametrize(
    "line,kind",
    [
        ("export HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "Hugging Face token"),
        ("OPENAI_API_KEY='sk-proj-abcdefghijklmnopqrstuvwx'", "OpenAI API key"),
        ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "AWS access key ID"),
        ("git clone https://bot:s3cr3tpass@git.example.com/models.git", "password in a URL"),
        ('DB_PASSWORD="correct-horse-battery"', "literal value for DB_PASSWORD"),
        ("vllm serve m --api-key 0123456789abcdef", "literal value for api-key"),
    ],
)
def test_secrets_in_user_data_are_found(line, kind):
    assert [f.kind for f in scan_text(line)] == [kind]


def test_secret_values_never_reach_the_config_model():
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["tags"]["owner"] = "ghp_" + "a1B2" * 9
    with pytest.raises(ConfigError) as exc:
        parse_config(copy.deepcopy(data), "x.yaml")
    assert "ghp_" not in str(exc.value) and "looks like a secret (GitHub token)" in str(exc.value)


#: detect-secrets findings in synthesized stacks that are not secrets, with the reason.
BENIGN = {
    '"http_tokens": "required"': "IMDSv2 setting of the launch template (keyword 'token')",
}


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_detect_secrets_finds_nothing_in_the_output(synth_dir, name):
    """The synthesized stack holds no secret, by detect-secrets (bundled with checkov).

    Its two entropy detectors are left out: they flag every resource ID, hash and the
    base64 user data. Every other plugin (AWS, private keys, tokens of many vendors,
    keywords, basic auth...) runs.
    """
    path = synth_dir / "stacks" / name / "cdk.tf.json"
    plugins = [
        {"name": cls.__name__}
        for cls in get_mapping_from_secret_type_to_class().values()
        if "HighEntropy" not in cls.__name__
    ]
    assert len(plugins) >= 20
    with transient_settings({"plugins_used": plugins}):
        found = SecretsCollection()
        found.scan_file(str(path))
    lines = path.read_text().splitlines()
    flagged = [lines[s.line_number - 1].strip().rstrip(",") for _, s in found]
    assert [line for line in flagged if line not in BENIGN] == []
    text = path.read_text()
    assert find_tokens(text) == [] and find_assignments(text) == []
    assert json.loads(text)  # still the real file
