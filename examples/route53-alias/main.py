#!/usr/bin/env python
"""Your own CDKTF stack with an AI serving fleet in it, next to a resource of your own
that uses the fleet's outputs: a Route 53 alias record to its load balancer
(docs/library.md).

Run it from this folder with the project's Python, which has the package installed
(``make install``):

    cd examples/route53-alias && ../../.venv/bin/python main.py

It writes ``cdktf.out/stacks/serving/cdk.tf.json`` here; ``terraform init/plan/apply``
it like any other stack.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ai_fleet  # before cdktf: it starts the jsii runtime the fast way

from cdktf import App, LocalBackend, TerraformOutput, TerraformStack  # isort: skip
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone  # isort: skip
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias  # isort: skip

HERE = Path(__file__).resolve().parent

#: The environment, built in code: the same keys as a config/*.yaml file
#: (docs/configuration.md). ai_fleet.load_config("fleet.yaml") reads one from YAML.
FLEET = {
    "name": "serving",
    "region": "us-east-1",
    "tags": {"team": "ml-platform"},
    "network": {"create_vpc": {"cidr_block": "10.60.0.0/16", "availability_zones": ["us-east-1a", "us-east-1b"]}},
    "load_balancer": {"ingress_cidr_blocks": ["203.0.113.0/24"]},
    "fleets": {
        "chat": {
            "preset": "vllm",
            "model_load_seconds": 120,
            "max_request_seconds": 120,
            "launch_template": {
                "image_ssm_parameter": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                "instance_type": "t3.medium",
                "user_data_file": "user_data/serve.sh",
            },
            "autoscaling_group": {"min_size": 1, "max_size": 2},
        }
    },
}


def build(outdir: str | Path = "cdktf.out") -> None:
    """Synthesize the stack into ``outdir``. Raises ai_fleet.ConfigError for a bad
    config (each problem names its field)."""
    config = ai_fleet.parse_config(FLEET, "main.py")
    app = App(outdir=str(outdir))
    stack = TerraformStack(app, "serving")
    LocalBackend(stack, path="terraform.tfstate")  # your stack, your backend
    fleet = ai_fleet.AiFleet(stack, "fleet", config, base_dir=HERE)

    zone = DataAwsRoute53Zone(stack, "zone", name="example.com", private_zone=False)
    Route53Record(
        stack,
        "inference_record",
        zone_id=zone.zone_id,
        name="inference.example.com",
        type="A",
        alias=Route53RecordAlias(name=fleet.alb_dns_name, zone_id=fleet.alb_zone_id, evaluate_target_health=True),
    )
    TerraformOutput(stack, "inference_url", value="https://inference.example.com")
    TerraformOutput(stack, "chat_target_group_arn", value=fleet.fleets["chat"].target_group_arn)
    app.synth()


if __name__ == "__main__":
    try:
        build()
    except ai_fleet.ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
