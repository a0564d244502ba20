"""IAM principals and resource ARNs the security constructs need, as plain data.

Kept free of the AWS provider bindings so tests and tools can use them without loading
the provider (seconds and hundreds of MB per process).
"""

from __future__ import annotations

import re

#: Elastic Load Balancing account per region, for regions available before August 2022.
#: Every other region uses :data:`ELB_LOG_DELIVERY_SERVICE`.
ELB_ACCOUNT_IDS: dict[str, str] = {
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-gov-east-1": "190560391635",
    "us-gov-west-1": "048591011584",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
}

ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def elb_log_principal(region: str, partition: str) -> dict[str, str]:
    """IAM ``Principal`` that delivers ALB access logs in ``region``: the regional ELB
    account root (``{"AWS": "arn:<partition>:iam::<id>:root"}``) for regions launched
    before August 2022, else the log delivery service principal."""
    account = ELB_ACCOUNT_IDS.get(region)
    if account is None:
        return {"Service": ELB_LOG_DELIVERY_SERVICE}
    return {"AWS": f"arn:{partition}:iam::{account}:root"}


_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def secret_resources(refs: list[str], *, partition: str, region: str, account_id: str) -> tuple[list[str], list[str]]:
    """Split references into IAM resource ARNs: ``(ssm_parameter_arns, secret_arns)``.

    SSM names (``/a/b``) become ``arn:<partition>:ssm:<region>:<account>:parameter/a/b``;
    Secrets Manager ARNs without the 6-character random suffix get ``-??????`` appended,
    as the Secrets Manager user guide recommends for IAM policies.
    """
    ssm, secrets = [], []
    for ref in refs:
        if ref.startswith("/"):
            ssm.append(f"arn:{partition}:ssm:{region}:{account_id}:parameter{ref}")
        elif ":ssm:" in ref:
            ssm.append(ref)
        else:
            name = ref.split(":secret:", 1)[1]
            secrets.append(ref if _SECRET_SUFFIX.search(name) else f"{ref}-??????")
    return ssm, secrets
