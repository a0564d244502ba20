"""The stack class: wires the per-concern constructs from one environment config."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformStack
from constructs import Construct

from .access_logs import AccessLogsBucket, ExistingLogBucket
from .alarms import Alarms, FleetAlarms
from .aws import aws
from .backend import add_backend
from .config import EnvironmentConfig
from .deployed import DeployedGroup, DeployedLoadBalancer
from .fleet import FleetGroup
from .launch_checks import LaunchChecks
from .load_balancer import ListenerRoute, LoadBalancer
from .log_encryption import LogsKey
from .network import Network
from .outputs import FleetOutputs, Outputs
from .scaling import Scaling
from .secret_access import SecretAccess
from .security_groups import SecurityGroups
from .target_group import TargetGroup
from .user_data import fleet_user_data
from .waf import WebAcl


class FleetStack(TerraformStack):
    """One Terraform stack for one environment.

    ``cfg`` is the validated config and ``config_path`` the YAML file it came from (user
    data paths are relative to it). The only place that reads the whole config: each
    construct gets its own section and the IDs it needs. Every Terraform element is a
    direct child of the stack (see :mod:`stacks.parts`), so its Terraform name is its
    construct ID: the group and element names joined with an underscore
    (``fleet-chat_autoscaling_group``), with no hash suffix; readable, and stable as long
    as those names are.
    """

    def __init__(self, scope: Construct, cfg: EnvironmentConfig, config_path: str | Path):
        super().__init__(scope, cfg.name)
        self.cfg = cfg
        name, region = cfg.name, cfg.region
        aws.provider.AwsProvider(
            self, "aws", region=region, default_tags=[aws.provider.AwsProviderDefaultTags(tags=cfg.default_tags)]
        )
        add_backend(self, cfg.backend, name=name, region=region)
        partition_data = aws.data_aws_partition.DataAwsPartition(self, "partition")
        partition = partition_data.partition
        account_id = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "caller").account_id

        # Security: KMS key for the stack's log groups, ALB access log bucket.
        logs_kms_key_arn = cfg.cloudwatch_logs.kms_key_id
        if logs_kms_key_arn is None and cfg.creates_log_groups:
            logs_kms_key_arn = LogsKey(
                self,
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
            alb_checks = ExistingLogBucket(self, "access_logs", bucket=access_logs.bucket, region=region).checks
        elif access_logs.enabled:
            bucket = AccessLogsBucket(
                self,
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
            self,
            "network",
            name=name,
            network=cfg.network,
            logs_kms_key_arn=logs_kms_key_arn,
            tags={k: cfg.default_tags[k] for k in ("environment", "managed-by")},
        )
        sgs = SecurityGroups(
            self,
            "security_groups",
            name=name,
            load_balancer=cfg.load_balancer,
            fleet_ports={fleet_name: fleet.port for fleet_name, fleet in cfg.fleets.items()},
            vpc_id=network.vpc_id,
        )
        target_groups = {
            fleet_name: TargetGroup(
                self, f"fleet-{fleet_name}-tg", fleet_name=fleet_name, fleet=fleet, vpc_id=network.vpc_id
            )
            for fleet_name, fleet in cfg.fleets.items()
        }
        internal = cfg.load_balancer.internal
        deployed_lb = DeployedLoadBalancer(self, "deployed", alb_name=f"{name}-alb", internal=internal)
        lb = LoadBalancer(
            self,
            "load_balancer",
            name=name,
            load_balancer=cfg.load_balancer,
            idle_timeout=cfg.effective_idle_timeout,
            deletion_protection=cfg.deletion_protection,
            subnet_ids=network.private_subnet_ids if internal else network.public_subnet_ids,
            security_group_id=sgs.alb_security_group_id,
            default_target_group_arn=target_groups[cfg.default_fleet].target_group_arn,
            routes=[
                ListenerRoute(fleet_name, fleet.listener_rule, target_groups[fleet_name].target_group_arn)
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
                self, "waf", name=name, waf=cfg.load_balancer.waf, alb_arn=lb.alb_arn, logs_kms_key_arn=logs_kms_key_arn
            )
        fleet_outputs = {}
        az_field = "network.create_vpc.availability_zones" if cfg.network.creates_vpc else "network.private_subnet_ids"
        for fleet_name, fleet in cfg.fleets.items():
            asg = fleet.autoscaling_group
            checks = LaunchChecks(
                self,
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
                self,
                f"fleet-{fleet_name}",
                environment=name,
                region=region,
                tags=cfg.default_tags,
                fleet_name=fleet_name,
                fleet=fleet,
                subnet_ids=network.private_subnet_ids,
                security_group_id=sgs.instance_security_group_ids[fleet_name],
                target_group_arn=target_groups[fleet_name].target_group_arn,
                user_data=fleet_user_data(cfg, config_path, fleet_name, fleet),
                partition=partition,
                image_id=checks.image_id,
                root_device_name=checks.root_device_name,
                template_preconditions=checks.template_checks,
                preconditions=[*network.private_subnet_checks, *checks.group_checks],
                main_group_preconditions=DeployedGroup(
                    self,
                    f"fleet-{fleet_name}-deployed",
                    fleet_name=fleet_name,
                    group_name=f"{name}-{fleet_name}",
                    autoscaling_group=asg,
                ).checks,
            )
            if fleet.launch_template.secret_references:
                SecretAccess(
                    self,
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
                self,
                f"fleet-{fleet_name}-scaling",
                fleet_name=fleet_name,
                scaling=fleet.scaling,
                group_names=group_names,
                alb_arn_suffix=lb.alb_arn_suffix,
                target_group_arn_suffix=target_groups[fleet_name].target_group_arn_suffix,
            )
            fleet_outputs[fleet_name] = FleetOutputs(
                target_group_arn=target_groups[fleet_name].target_group_arn,
                autoscaling_group_name=fg.autoscaling_group_name,
                spot_autoscaling_group_name=fg.spot_autoscaling_group_name,
                instance_security_group_id=sgs.instance_security_group_ids[fleet_name],
            )
        alarm_topic_arn = None
        if cfg.alarms.enabled:
            alarm_topic_arn = Alarms(
                self,
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
            ).topic_arn
        Outputs(
            self,
            "outputs",
            alb_dns_name=lb.alb_dns_name,
            alb_arn=lb.alb_arn,
            alb_zone_id=lb.alb_zone_id,
            alb_security_group_id=sgs.alb_security_group_id,
            alarm_topic_arn=alarm_topic_arn,
            fleets=fleet_outputs,
        )

    def prepare_stack(self) -> None:  # jsii override of TerraformStack.prepareStack
        """cdktf's preparation step, without its resolve pass.

        ``App.synth()`` calls this once per stack before writing it. cdktf's version
        makes sure the stack has a backend and then resolves every element once, only so
        that references to another stack's resources can register the outputs and
        remote state they need; the stack is resolved again when it is written. Each
        environment's stack only refers to its own elements (the groups in
        :mod:`stacks.parts` create everything in the one stack they are given), so that
        pass, about a seventh of the synthesis time per environment, is skipped. A
        reference to another stack would still be caught: it would name an element this
        stack does not have, which ``terraform validate`` rejects.
        """
        self.ensure_backend_exists()
