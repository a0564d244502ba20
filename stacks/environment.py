"""One environment's topology, added to a stack: the per-concern constructs wired from
one environment config (used by :class:`stacks.fleet_stack.FleetStack` and the library
API, :mod:`ai_fleet`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import TerraformStack

from .access_logs import AccessLogsBucket, ExistingLogBucket
from .alarms import Alarms, FleetAlarms
from .aws import aws
from .config import EnvironmentConfig
from .deployed import DeployedGroup, DeployedLoadBalancer
from .fleet import FleetGroup, rollback_alarms
from .launch_checks import LaunchChecks
from .load_balancer import ListenerRoute, LoadBalancer, WeightedTargets
from .log_encryption import LogsKey
from .network import Network
from .outputs import FleetOutputs, Outputs
from .scaling import Scaling
from .secret_access import SecretAccess
from .security_groups import SecurityGroups
from .target_group import TargetGroup
from .user_data import fleet_user_data
from .waf import WebAcl


@dataclass(frozen=True)
class EnvironmentRefs:
    """What an environment exposes to other resources (Terraform tokens): the load
    balancer's ARN, DNS name, hosted zone ID and security group ID, the alarm topic ARN
    (None without alarms), and per fleet its target group ARN, group names and instance
    security group ID."""

    alb_arn: str
    alb_dns_name: str
    alb_zone_id: str
    alb_security_group_id: str
    alarm_topic_arn: str | None
    fleets: dict[str, FleetOutputs]


def add_provider(stack: TerraformStack, cfg: EnvironmentConfig) -> None:
    """The AWS provider for ``cfg.region``, with the environment's default tags."""
    aws.provider.AwsProvider(
        stack, "aws", region=cfg.region, default_tags=[aws.provider.AwsProviderDefaultTags(tags=cfg.default_tags)]
    )


def route_weights(
    cfg: EnvironmentConfig, fleet_name: str, target_groups: dict[str, TargetGroup]
) -> WeightedTargets | None:
    """The weights of the route of ``fleet_name`` when canary fleets share it (None: it
    forwards to that fleet alone), docs/canary.md."""
    canaries = cfg.canaries(fleet_name)
    if not canaries:
        return None
    forward = cfg.fleets[fleet_name].forward
    stickiness = forward.stickiness if forward is not None else None
    return WeightedTargets(
        weight=cfg.route_weight(fleet_name),
        canaries=tuple((target_groups[name].target_group_arn, weight) for name, weight in canaries.items()),
        stickiness_duration=stickiness.duration if stickiness is not None else None,
        stickiness_enabled=stickiness.enabled if stickiness is not None else True,
    )


def add_environment(
    stack: TerraformStack, cfg: EnvironmentConfig, config_path: str | Path, *, outputs: bool = True
) -> EnvironmentRefs:
    """Add the whole topology of ``cfg`` (validated) to ``stack``; user data paths are
    relative to the folder of ``config_path``. Every element is a direct child of
    ``stack`` (:mod:`stacks.parts`), with a fixed Terraform name, so one stack holds one
    environment. ``outputs`` adds the stack outputs (:class:`stacks.outputs.Outputs`).
    The stack needs an AWS provider for ``cfg.region`` (:func:`add_provider`). Returns
    the references other resources can use."""
    name, region = cfg.name, cfg.region
    partition_data = aws.data_aws_partition.DataAwsPartition(stack, "partition")
    partition = partition_data.partition
    account_id = aws.data_aws_caller_identity.DataAwsCallerIdentity(stack, "caller").account_id

    # Security: KMS key for the stack's log groups, ALB access log bucket.
    logs_kms_key_arn = cfg.cloudwatch_logs.kms_key_id
    if logs_kms_key_arn is None and cfg.creates_log_groups:
        logs_kms_key_arn = LogsKey(
            stack,
            "logs_key",
            name=name,
            region=region,
            partition=partition,
            dns_suffix=partition_data.dns_suffix,
            account_id=account_id,
        ).kms_key_arn
    access_logs = cfg.load_balancer.access_logs
    log_bucket, alb_depends_on, alb_checks = None, [], []
    if access_logs.enabled and access_logs.bucket is not None:
        log_bucket = access_logs.bucket
        alb_checks = ExistingLogBucket(stack, "access_logs", bucket=access_logs.bucket, region=region).checks
    elif access_logs.enabled:
        bucket = AccessLogsBucket(
            stack,
            "access_logs",
            name=name,
            region=region,
            access_logs=access_logs,
            force_destroy=not cfg.deletion_protection,
            partition=partition,
            account_id=account_id,
        )
        log_bucket, alb_depends_on = bucket.bucket_name, bucket.alb_depends_on

    network = Network(
        stack,
        "network",
        name=name,
        network=cfg.network,
        logs_kms_key_arn=logs_kms_key_arn,
        tags={k: cfg.default_tags[k] for k in ("environment", "managed-by")},
    )
    sgs = SecurityGroups(
        stack,
        "security_groups",
        name=name,
        load_balancer=cfg.load_balancer,
        fleet_ports={fleet_name: fleet.port for fleet_name, fleet in cfg.fleets.items()},
        vpc_id=network.vpc_id,
    )
    target_groups = {
        fleet_name: TargetGroup(
            stack, f"fleet-{fleet_name}-tg", fleet_name=fleet_name, fleet=fleet, vpc_id=network.vpc_id
        )
        for fleet_name, fleet in cfg.fleets.items()
    }
    internal = cfg.load_balancer.internal
    deployed_lb = DeployedLoadBalancer(stack, "deployed", alb_name=f"{name}-alb", internal=internal)
    lb = LoadBalancer(
        stack,
        "load_balancer",
        name=name,
        load_balancer=cfg.load_balancer,
        idle_timeout=cfg.effective_idle_timeout,
        deletion_protection=cfg.deletion_protection,
        subnet_ids=network.private_subnet_ids if internal else network.public_subnet_ids,
        security_group_id=sgs.alb_security_group_id,
        default_target_group_arn=target_groups[cfg.default_fleet].target_group_arn,
        default_weights=route_weights(cfg, cfg.default_fleet, target_groups),
        routes=[
            ListenerRoute(
                fleet_name,
                fleet.listener_rule,
                target_groups[fleet_name].target_group_arn,
                route_weights(cfg, fleet_name, target_groups),
            )
            for fleet_name, fleet in cfg.fleets.items()
            if fleet.listener_rule is not None
        ],
        preconditions=[
            *(network.private_subnet_checks if internal else network.public_subnet_checks),
            *alb_checks,
            *deployed_lb.checks,
        ],
        access_logs_bucket=log_bucket,
        depends_on=alb_depends_on,
    )
    if cfg.waf_enabled:
        WebAcl(
            stack, "waf", name=name, waf=cfg.load_balancer.waf, alb_arn=lb.alb_arn, logs_kms_key_arn=logs_kms_key_arn
        )
    alarm_topic_arn = None
    alarm_names: dict[str, dict[str, str]] = {}
    if cfg.alarms.enabled:
        alarms = Alarms(
            stack,
            "alarms",
            name=name,
            sns_topic_arn=cfg.alarms.sns_topic_arn,
            fleets={
                fleet_name: FleetAlarms(
                    alarms=fleet.alarms,
                    p99_threshold=fleet.effective_p99_target_response_time,
                    target_group_arn_suffix=target_groups[fleet_name].target_group_arn_suffix,
                )
                for fleet_name, fleet in cfg.fleets.items()
            },
            alb_arn_suffix=lb.alb_arn_suffix,
            region=region,
            partition=partition,
            account_id=account_id,
        )
        alarm_topic_arn, alarm_names = alarms.topic_arn, alarms.alarm_names
    fleet_outputs = {}
    az_field = "network.create_vpc.availability_zones" if cfg.network.creates_vpc else "network.private_subnet_ids"
    for fleet_name, fleet in cfg.fleets.items():
        asg = fleet.autoscaling_group
        checks = LaunchChecks(
            stack,
            f"fleet-{fleet_name}",
            fleet_name=fleet_name,
            region=region,
            launch_template=fleet.launch_template,
            instance_types=fleet.instance_type_fields(f"fleets.{fleet_name}"),
            availability_zones=network.private_availability_zones,
            az_field=az_field,
            hibernation=asg.warm_pool is not None and asg.warm_pool.pool_state == "Hibernated",
        )
        fg = FleetGroup(
            stack,
            f"fleet-{fleet_name}",
            environment=name,
            region=region,
            tags=cfg.default_tags,
            fleet_name=fleet_name,
            fleet=fleet,
            subnet_ids=network.private_subnet_ids,
            security_group_id=sgs.instance_security_group_ids[fleet_name],
            target_group_arn=target_groups[fleet_name].target_group_arn,
            rollback_alarm_names=rollback_alarms(fleet, alarm_names.get(fleet_name, {})),
            user_data=fleet_user_data(cfg, config_path, fleet_name, fleet),
            partition=partition,
            image_id=checks.image_id,
            root_device_name=checks.root_device_name,
            template_preconditions=checks.template_checks,
            preconditions=[*network.private_subnet_checks, *checks.group_checks],
            main_group_preconditions=DeployedGroup(
                stack,
                f"fleet-{fleet_name}-deployed",
                fleet_name=fleet_name,
                group_name=f"{name}-{fleet_name}",
                autoscaling_group=asg,
            ).checks,
        )
        if fleet.launch_template.secret_references:
            SecretAccess(
                stack,
                f"fleet-{fleet_name}-secrets",
                role_name=fg.role_name,
                secret_references=fleet.launch_template.secret_references,
                region=region,
                partition=partition,
                account_id=account_id,
            )
        group_names = {"": fg.autoscaling_group_name}
        if fg.spot_autoscaling_group_name is not None:
            group_names["spot-"] = fg.spot_autoscaling_group_name
        Scaling(
            stack,
            f"fleet-{fleet_name}-scaling",
            fleet_name=fleet_name,
            scaling=fleet.scaling,
            group_names=group_names,
            alb_arn_suffix=lb.alb_arn_suffix,
            target_group_arn_suffix=target_groups[fleet_name].target_group_arn_suffix,
            queue_metric=fleet.queue_metric,
        )
        fleet_outputs[fleet_name] = FleetOutputs(
            target_group_arn=target_groups[fleet_name].target_group_arn,
            autoscaling_group_name=fg.autoscaling_group_name,
            spot_autoscaling_group_name=fg.spot_autoscaling_group_name,
            instance_security_group_id=sgs.instance_security_group_ids[fleet_name],
        )
    refs = EnvironmentRefs(
        alb_arn=lb.alb_arn,
        alb_dns_name=lb.alb_dns_name,
        alb_zone_id=lb.alb_zone_id,
        alb_security_group_id=sgs.alb_security_group_id,
        alarm_topic_arn=alarm_topic_arn,
        fleets=fleet_outputs,
    )
    if outputs:
        Outputs(
            stack,
            "outputs",
            alb_dns_name=refs.alb_dns_name,
            alb_arn=refs.alb_arn,
            alb_zone_id=refs.alb_zone_id,
            alb_security_group_id=refs.alb_security_group_id,
            alarm_topic_arn=refs.alarm_topic_arn,
            fleets=refs.fleets,
        )
    return refs
