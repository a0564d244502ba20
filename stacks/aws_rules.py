"""The catalogue of AWS rules the generator enforces that ``terraform validate``, the
emulator and checkov do not: what AWS rejects, or accepts and then silently breaks.

Each :class:`AwsRule` says what the rule is, where it is checked, and the AWS (or
public issue) source. ``docs/aws-rules.md`` is generated from :data:`RULES` (``make
schema``), and tests tie every entry to the code and to a test:

- the code that checks a rule carries the comment ``# aws-rule: <id>``;
- a ``synth`` rule has a bad-config case with ``# rule: <id>`` in tests/bad_configs/;
- a ``plan`` rule has an emulator test mentioning ``rule: <id>`` in tests/e2e/
  (test_plan_checks.py for facts about what a fleet launches, test_lifecycle.py for
  changes to a deployed stack);
- a ``synth warning`` or ``built in`` rule has a test mentioning ``rule: <id>``.

Where: ``synth`` (an error at synth, exit 2), ``synth warning`` (a ``warning:`` line,
synth goes on), ``plan`` (a precondition on a data source's facts stops ``terraform
plan`` before anything changes) or ``built in`` (the generated Terraform follows the
rule by construction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Where = Literal["synth", "synth warning", "plan", "built in"]

ELB_TG = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html"
ELB_HC = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"
ELB_QUOTAS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html"
ASG_QUOTAS = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html"
EBS_TYPES = "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html"
ASG_DISTRIBUTION = "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstancesDistribution.html"
CAPACITY_BLOCKS = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/launch-template-capacity-blocks.html"


@dataclass(frozen=True)
class AwsRule:
    """One rule: ``id`` (kebab-case, unique), ``what`` (one line), ``where`` it is
    checked (:data:`Where`) and the ``source`` it follows."""

    id: str
    what: str
    where: Where
    source: str


RULES: tuple[AwsRule, ...] = (
    # Load balancer, listeners, target groups -------------------------------------------
    AwsRule(
        "grpc-http2-needs-https-listener",
        "gRPC and HTTP/2 target groups take requests only from an HTTPS listener: they need "
        "load_balancer.certificate_arn",
        "synth",
        f"{ELB_TG}#target-group-protocol-version",
    ),
    AwsRule(
        "grpc-http2-needs-client-http2",
        "gRPC and HTTP/2 target groups serve only HTTP/2 and gRPC requests: load_balancer.enable_http2 must stay on",
        "synth",
        f"{ELB_TG}#target-group-protocol-version",
    ),
    AwsRule(
        "grpc-health-check-path",
        "a gRPC health check path is a gRPC method, /package.service/method",
        "synth",
        ELB_HC,
    ),
    AwsRule(
        "health-check-matcher-codes",
        "health check matchers take HTTP codes 200-499, or gRPC codes 0-99 for gRPC target groups",
        "synth",
        ELB_HC,
    ),
    AwsRule(
        "health-check-timeout-below-interval",
        "the health check timeout is shorter than its interval",
        "synth",
        ELB_HC,
    ),
    AwsRule(
        "slow-start-algorithm",
        "slow start (30-900 s) works only with round robin, not least outstanding requests or weighted random",
        "synth",
        f"{ELB_TG}#slow-start-mode",
    ),
    AwsRule(
        "anomaly-mitigation-weighted-random",
        "target anomaly mitigation (automatic target weights) works only with load_balancing_algorithm_type "
        "weighted_random",
        "synth",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html"
        "#automatic-target-weights",
    ),
    AwsRule(
        "listener-rule-quotas",
        "a listener rule takes at most 5 condition values and 5 wildcards",
        "synth",
        ELB_QUOTAS,
    ),
    AwsRule(
        "forward-weights",
        "a weighted forward action (a fleet and its canaries) gives each target group a weight of 0-999, "
        "one or more of them non-zero",
        "synth",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html",
    ),
    AwsRule(
        "forward-target-groups-quota",
        "a forward action takes at most 5 target groups (not adjustable): a route has at most 4 canaries",
        "synth",
        ELB_QUOTAS,
    ),
    AwsRule(
        "forward-stickiness-duration",
        "target group stickiness of a forward action lasts 1-604800 seconds (7 days)",
        "synth",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupStickinessConfig.html",
    ),
    AwsRule(
        "alb-name-internal-prefix",
        "load balancer names (<name>-alb) may not begin with internal-",
        "synth",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
    ),
    AwsRule(
        "alb-targets-quota",
        "an ALB takes 1,000 registered targets by default: the groups' max_size beyond that cannot register",
        "synth warning",
        ELB_QUOTAS,
    ),
    AwsRule(
        "access-logs-bucket-region",
        "ELB delivers access logs only to a bucket in the load balancer's region",
        "plan",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html",
    ),
    AwsRule(
        "s3-bucket-prefix",
        "the access log bucket's name prefix (by default <name>-alb-logs-) follows S3 naming: no xn--, sthree-, "
        "amzn-s3-demo- prefix, no '..', '.-' or '-.'",
        "synth",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
    ),
    # Serving presets: what the server implies -------------------------------------------
    AwsRule(
        "health-check-path-served",
        "the health check path is one the preset's server answers (vLLM /health, Triton /v2/health/ready...): "
        "any other fails on every target, which is replaced in a loop",
        "synth",
        "https://docs.vllm.ai/en/stable/serving/openai_compatible_server.html",
    ),
    AwsRule(
        "grpc-server-preset",
        "gRPC target groups only for servers that speak gRPC (Triton, or a custom server)",
        "synth",
        "https://github.com/triton-inference-server/server/blob/main/docs/customization_guide/inference_protocols.md",
    ),
    AwsRule(
        "container-imds-hop-limit",
        "servers run in containers (TGI, Triton) need an IMDSv2 hop limit of 2 to reach instance metadata",
        "synth warning",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
    ),
    AwsRule(
        "target-protocol-https-needs-tls-server",
        "an HTTPS target group needs a server started with TLS; the presets' servers serve plain HTTP",
        "synth warning",
        ELB_TG,
    ),
    # What instances launch ----------------------------------------------------------------
    AwsRule(
        "root-device-is-the-amis",
        "the encrypted root volume goes on the AMI's own root device (read from the AMI); an explicit "
        "root_device_name must be it, else the instance boots from the AMI's unencrypted root",
        "plan",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-device-mapping-concepts.html",
    ),
    AwsRule(
        "instance-type-exists",
        "every instance type exists in the region",
        "plan",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypes.html",
    ),
    AwsRule(
        "instance-type-architecture",
        "every instance type runs the AMI's architecture (no arm64 type with an x86_64 AMI)",
        "plan",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AMIs.html",
    ),
    AwsRule(
        "instance-type-offered-in-azs",
        "every instance type is offered in one or more of the group's AZs, and every AZ offers one or more types",
        "plan",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html",
    ),
    AwsRule(
        "instance-type-ebs-optimized",
        "every instance type supports EBS optimization, which the launch template turns on",
        "plan",
        "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-optimized.html",
    ),
    AwsRule(
        "warm-pool-hibernation-support",
        "a hibernated warm pool needs instance types that support hibernation",
        "plan",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/hibernating-prerequisites.html",
    ),
    AwsRule(
        "availability-zones-exist",
        "a created VPC's Availability Zones exist and are available to the account",
        "plan",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html",
    ),
    AwsRule(
        "ebs-volume-performance",
        "root volume IOPS and throughput as the volume type allows (io1/io2 need IOPS; gp3 3,000-16,000 IOPS, "
        "throughput at most IOPS/4; gp2 neither)",
        "synth",
        EBS_TYPES,
    ),
    AwsRule(
        "kms-key-arn",
        "KMS key fields take KMS key ARNs",
        "synth",
        "https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id-key-ARN",
    ),
    AwsRule(
        "user-data-size",
        "user data is at most 16 KB, counted with the FLEET_* lines the generator adds",
        "synth",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
    ),
    # Auto Scaling ---------------------------------------------------------------------------
    AwsRule(
        "warm-pool-no-mixed-instances",
        "a warm pool cannot be added to a group with a mixed instances policy",
        "synth",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-warm-pools.html",
    ),
    AwsRule(
        "maintenance-policy-range",
        "an instance maintenance policy's max_healthy_percentage (100-200) exceeds min_healthy_percentage "
        "(0-100) by at most 100, and by more than 0 when min is 100 (else no instance can ever be replaced)",
        "synth",
        "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceMaintenancePolicy.html",
    ),
    AwsRule(
        "weights-all-or-none",
        "weighted_capacity is given for every instance type of a group or for none (spot group included)",
        "synth",
        "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LaunchTemplateOverrides.html",
    ),
    AwsRule(
        "override-type-or-requirements",
        "an override names an instance_type or gives instance_requirements, exactly one",
        "synth",
        "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LaunchTemplateOverrides.html",
    ),
    AwsRule(
        "attribute-based-not-mixed",
        "a group's overrides are all attribute-based (instance_requirements) or all named types: its "
        "allocation strategies depend on which",
        "synth",
        ASG_DISTRIBUTION,
    ),
    AwsRule(
        "attribute-based-allocation-strategy",
        "attribute-based selection takes neither on-demand prioritized nor spot capacity-optimized-prioritized "
        "(both follow an order of named types)",
        "synth",
        ASG_DISTRIBUTION,
    ),
    AwsRule(
        "instance-requirements-min-max",
        "each {min, max} of instance_requirements has min <= max",
        "synth",
        "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRequirements.html",
    ),
    AwsRule(
        "instance-requirements-allowed-or-excluded",
        "instance_requirements take allowed_instance_types or excluded_instance_types, not both",
        "synth",
        "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRequirements.html",
    ),
    AwsRule(
        "capacity-reservation-preference-or-target",
        "a launch template's capacity_reservation_specification gives a preference or a target, exactly one",
        "synth",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchTemplateCapacityReservationSpecificationRequest.html",
    ),
    AwsRule(
        "capacity-reservation-one-target",
        "a capacity reservation target is one reservation ID or one resource group ARN",
        "synth",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CapacityReservationTarget.html",
    ),
    AwsRule(
        "capacity-block-reservation-id",
        "market_type capacity-block needs the Capacity Block's reservation ID as capacity_reservation_target",
        "synth",
        CAPACITY_BLOCKS,
    ),
    AwsRule(
        "capacity-block-plain-group",
        "a fleet launching into a Capacity Block has no mixed instances policy, warm pool or spot group "
        "(Auto Scaling supports Capacity Blocks only without them)",
        "synth",
        f"{CAPACITY_BLOCKS}#capacity-blocks-limitations",
    ),
    AwsRule(
        "scheduled-actions-quota",
        "a group takes at most 125 scheduled actions",
        "synth",
        ASG_QUOTAS,
    ),
    AwsRule(
        "termination-hook-completed",
        "a termination hook runs after the instance left the target group and drained: unless user data "
        "completes it after a clean shutdown, it only delays the termination (the shipped GPU script does)",
        "synth warning",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html",
    ),
    AwsRule(
        "target-tracking-distinct-metrics",
        "a group's target tracking policies each track a different metric (custom_metric not the one "
        "queue_depth tracks)",
        "synth",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html",
    ),
    AwsRule(
        "queue-depth-preset-metric",
        "queue_depth scaling only for servers that publish a queue metric on their Prometheus endpoint "
        "(vLLM vllm:num_requests_waiting, TGI tgi_queue_size)",
        "synth",
        "https://huggingface.co/docs/text-generation-inference/reference/metrics",
    ),
    AwsRule(
        "queue-metric-published",
        "a target tracking policy whose metric has no data never scales: with queue_depth, user data must "
        "publish the queue metric (the shipped GPU script configures the CloudWatch agent for it)",
        "synth warning",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-PrometheusEC2.html",
    ),
    # Changes to a deployed stack (read from AWS at plan time, stacks/deployed.py) -----------
    AwsRule(
        "load-balancer-scheme-fixed",
        "a load balancer's scheme (load_balancer.internal) cannot change: Terraform would delete the "
        "deployed one, listeners and DNS name included, before creating the new one",
        "plan",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
    ),
    AwsRule(
        "vpc-cidr-fixed",
        "a created VPC's cidr_block cannot change: Terraform would replace the VPC with everything in it",
        "plan",
        "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html",
    ),
    AwsRule(
        "subnet-cidr-fixed",
        "a deployed subnet's CIDR cannot change (availability_zones and subnet_newbits set them): Terraform "
        "would replace subnets the instances and the load balancer use",
        "plan",
        "https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html",
    ),
    AwsRule(
        "warm-pool-to-mixed-instances-two-steps",
        "a group's warm pool must be gone before a mixed instances policy is added: in one apply the "
        "provider sends the policy first, which AWS refuses",
        "plan",
        "https://github.com/hashicorp/terraform-provider-aws/issues/42437",
    ),
    AwsRule(
        "warm-pool-min-size-zero-two-steps",
        "a deployed warm pool's min_size cannot be lowered to 0 in place: the provider never sends 0",
        "plan",
        "https://github.com/hashicorp/terraform-provider-aws/issues/44732",
    ),
    # Alarms, keys, ARNs ---------------------------------------------------------------------
    AwsRule(
        "alarm-topic-key-cloudwatch",
        "the alarm topic is encrypted with a key CloudWatch may use (not alias/aws/sns, which it cannot), "
        "and its policy lets this account's alarms publish",
        "built in",
        "https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns",
    ),
    AwsRule(
        "alarm-evaluation-window",
        "an alarm's period x evaluation periods spans at most one day (seven for periods of an hour or more)",
        "synth",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
    ),
    AwsRule(
        "arn-partition",
        "every configured ARN is in the environment's partition (aws, aws-cn, aws-us-gov...)",
        "synth",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html",
    ),
    AwsRule(
        "arn-region",
        "regional ARNs (ACM certificate, KMS keys, SNS topic) are in the environment's region",
        "synth",
        "https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html",
    ),
)


def catalogue_markdown() -> str:
    """``docs/aws-rules.md``: one table row per rule of :data:`RULES`."""
    rows = [f"| `{r.id}` | {r.what} | {r.where} | {r.source} |" for r in RULES]
    counts = {w: sum(r.where == w for r in RULES) for w in ("synth", "synth warning", "plan", "built in")}
    summary = ", ".join(f"{n} {w}" for w, n in counts.items())
    return "\n".join(
        [
            "# AWS rules the generator enforces",
            "",
            "Generated from `stacks/aws_rules.py` by `make schema`; do not edit. Each rule is one AWS",
            "behaviour that `terraform validate`, the emulator and checkov accept while AWS rejects it",
            "or silently breaks on it. Where: `synth` an error before anything is written (exit 2),",
            "`synth warning` a `warning:` line, `plan` a precondition that stops `terraform plan`",
            "before anything changes (facts only AWS knows, read with data sources), `built in` the",
            "generated Terraform follows it by construction. Tests tie each rule to its check in the",
            "code (`# aws-rule: <id>`) and to a bad-config case or an emulator test.",
            "",
            f"{len(RULES)} rules: {summary}.",
            "",
            "| rule | what | where | source |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
