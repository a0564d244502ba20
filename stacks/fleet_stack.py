"""The stack class: wires the per-concern constructs from one environment config."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformStack
from constructs import Construct

from .access_logs import AccessLogsBucket
from .aws import aws
from .backend import add_backend
from .config import EnvironmentConfig
from .alarms import Alarms
from .fleet import FleetGroup
from .load_balancer import LoadBalancer
from .log_encryption import LogsKey, needs_log_groups
from .network import Network
from .outputs import Outputs
from .scaling import Scaling, has_policies
from .secret_access import SecretAccess
from .security_groups import SecurityGroups
from .target_group import TargetGroup
from .user_data import fleet_user_data
from .waf import WebAcl

class FleetStack(TerraformStack):
    """One Terraform stack for one environment.

    ``cfg`` is the validated config and ``config_path`` the YAML file it came from (user
    data paths are relative to it). Every Terraform element is a direct child of the stack
    (see :mod:`stacks.parts`), so its Terraform name is its construct ID: the group and
    element names joined with an underscore (``fleet-chat_autoscaling_group``), with no
    hash suffix; readable, and stable as long as those names are.
    """

    def __init__(self, scope: Construct, cfg: EnvironmentConfig, config_path: str | Path):
        super().__init__(scope, cfg.name)
        self.cfg = cfg
        aws.provider.AwsProvider(
            self, "aws", region=cfg.region, default_tags=[aws.provider.AwsProviderDefaultTags(tags=cfg.default_tags)]
        )
        add_backend(self, cfg)
        partition_data = aws.data_aws_partition.DataAwsPartition(self, "partition")
        partition = partition_data.partition
        account_id = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "caller").account_id

        # Security: KMS key for the stack's log groups, ALB access log bucket.
        logs_kms_key_id = cfg.cloudwatch_logs.kms_key_id
        if logs_kms_key_id is None and needs_log_groups(cfg):
            logs_kms_key_id = LogsKey(
                self, "logs_key", cfg=cfg, partition=partition, dns_suffix=partition_data.dns_suffix, account_id=account_id
            ).arn
        access_logs = cfg.load_balancer.access_logs
        log_bucket, alb_depends_on = None, []
        if access_logs.enabled and access_logs.bucket is not None:
            log_bucket = access_logs.bucket
        elif access_logs.enabled:
            bucket = AccessLogsBucket(self, "access_logs", cfg=cfg, partition=partition, account_id=account_id)
            log_bucket, alb_depends_on = bucket.bucket_name, bucket.ready

        network = Network(self, "network", cfg, logs_kms_key_id=logs_kms_key_id)
        sgs = SecurityGroups(self, "security_groups", cfg, network.vpc_id)
        target_groups = {
            name: TargetGroup(self, f"fleet-{name}-tg", fleet_name=name, fleet=fleet, vpc_id=network.vpc_id)
            for name, fleet in cfg.fleets.items()
        }
        lb = LoadBalancer(
            self,
            "load_balancer",
            cfg=cfg,
            subnet_ids=network.private_subnet_ids if cfg.load_balancer.internal else network.public_subnet_ids,
            security_group_id=sgs.alb_id,
            target_groups=target_groups,
            preconditions=network.asg_subnet_az_checks if cfg.load_balancer.internal else network.subnet_az_checks,
            access_logs_bucket=log_bucket,
            depends_on=alb_depends_on,
        )
        if cfg.waf_enabled:
            WebAcl(self, "waf", cfg=cfg, alb_arn=lb.alb_arn, logs_kms_key_id=logs_kms_key_id)
        groups = {}
        for name, fleet in cfg.fleets.items():
            fg = FleetGroup(
                self,
                f"fleet-{name}",
                cfg=cfg,
                fleet_name=name,
                fleet=fleet,
                subnet_ids=network.private_subnet_ids,
                security_group_id=sgs.instance_ids[name],
                target_group_arn=target_groups[name].arn,
                user_data=fleet_user_data(cfg, config_path, name, fleet),
                partition=partition,
                scaled=has_policies(fleet),
                preconditions=network.asg_subnet_az_checks,
            )
            groups[name] = fg
            if fleet.launch_template.secret_references:
                SecretAccess(
                    self,
                    f"fleet-{name}-secrets",
                    role_name=fg.role_name,
                    refs=list(fleet.launch_template.secret_references),
                    region=cfg.region,
                    partition=partition,
                    account_id=account_id,
                )
            Scaling(
                self,
                f"fleet-{name}-scaling",
                fleet_name=name,
                fleet=fleet,
                groups={"": fg.group_name, **({"spot-": fg.spot_group_name} if fg.spot_group else {})},
                alb_arn_suffix=lb.alb_arn_suffix,
                target_group_arn_suffix=target_groups[name].arn_suffix,
            )
        alarms = None
        if cfg.alarms.enabled:
            alarms = Alarms(self, "alarms", cfg=cfg, target_groups=target_groups, alb_arn_suffix=lb.alb_arn_suffix)
        Outputs(
            self,
            "outputs",
            lb=lb,
            security_groups=sgs,
            target_groups=target_groups,
            fleets=groups,
            alarm_topic_arn=alarms.topic_arn if alarms else None,
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
