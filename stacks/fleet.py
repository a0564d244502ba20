"""Launch template, instance role and Auto Scaling group for one fleet.

Follows the EC2 Auto Scaling user guide for launch templates (launch configurations
cannot be created in new accounts) and mixed instances groups:

- ``aws_launch_template``: AMI by ID or from an SSM parameter read at plan time, IMDSv2
  required, encrypted root volume, no public IP address (explicit network interface), instance profile with AmazonSSMManagedInstanceCore,
  user data, tag specifications for instances and volumes. No spot options: spot is
  chosen by the group's mixed instances policy.
- ``aws_autoscaling_group``: ELB health checks, grace period and default warm-up,
  attached to the target group with ``target_group_arns``, the template referenced by
  its ``latest_version`` (not ``$Latest``) so template changes show in the plan and start
  an instance refresh; the template goes inside ``mixed_instances_policy`` when one is
  set. ``desired_capacity`` is ignored by later applies when a scaling policy owns it.
"""

from __future__ import annotations

import base64
import json

from cdktf import Token
from constructs import Construct

from .aws import aws
from .config import EnvironmentConfig, Fleet

_ASSUME_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    },
    sort_keys=True,
)

#: Group metrics published when ``enabled_metrics`` is on (used by the resilience report
#: and alarms).
GROUP_METRICS = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupMaxSize",
    "GroupMinSize",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
]


class FleetGroup(Construct):
    """Creates role, instance profile, launch template and ASG for one fleet.

    Takes the environment config, the fleet name and config, the private subnet IDs, the
    fleet's instance security group ID, its target group ARN, the user data text (or
    None), the partition name token, whether a scaling policy manages desired capacity,
    and plan-time preconditions for the subnets. Attributes: ``launch_template`` and
    ``group`` (the ``AutoscalingGroup``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cfg: EnvironmentConfig,
        fleet_name: str,
        fleet: Fleet,
        subnet_ids: list,
        security_group_id: str,
        target_group_arn: str,
        user_data: str | None,
        partition: str,
        scaled: bool,
        preconditions: list,
    ):
        super().__init__(scope, id_)
        prefix = f"{cfg.name}-{fleet_name}"
        lt_cfg = fleet.launch_template
        asg_cfg = fleet.autoscaling_group

        role = aws.iam_role.IamRole(
            self,
            "role",
            name_prefix=f"{prefix}-"[:38],
            description=f"Instances of the {fleet_name} fleet in {cfg.name}",
            assume_role_policy=_ASSUME_EC2,
        )
        self.role = role
        policies = [f"arn:{partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"]
        for i, arn in enumerate([*policies, *lt_cfg.managed_policy_arns]):
            key = "ssm-core" if i == 0 else arn.rsplit("/", 1)[-1]
            aws.iam_role_policy_attachment.IamRolePolicyAttachment(
                self, f"policy-{key}", role=role.name, policy_arn=arn
            )
        profile = aws.iam_instance_profile.IamInstanceProfile(
            self, "instance_profile", name_prefix=f"{prefix}-"[:38], role=role.name
        )

        if lt_cfg.image_ssm_parameter:
            image_id = aws.data_aws_ssm_parameter.DataAwsSsmParameter(
                self, "image", name=lt_cfg.image_ssm_parameter
            ).insecure_value
        else:
            image_id = lt_cfg.image_id
        mip = asg_cfg.mixed_instances_policy
        instance_tags = {"Name": prefix, "fleet": fleet_name, **cfg.tags}
        ebs = {
            "volume_size": lt_cfg.root_volume_size,
            "volume_type": lt_cfg.root_volume_type,
            "encrypted": "true",
            "delete_on_termination": "true",
        }
        if lt_cfg.root_volume_kms_key_id:
            ebs["kms_key_id"] = lt_cfg.root_volume_kms_key_id
        lt = aws.launch_template
        self.launch_template = lt.LaunchTemplate(
            self,
            "launch_template",
            name_prefix=f"{prefix}-",
            description=f"{fleet_name} fleet of {cfg.name}",
            image_id=image_id,
            instance_type=None if mip else lt_cfg.instance_type,
            key_name=lt_cfg.key_name,
            update_default_version=True,
            ebs_optimized="true",
            iam_instance_profile={"arn": profile.arn},
            # Explicitly no public IPv4 address, whatever the subnet's auto-assign setting.
            network_interfaces=[
                lt.LaunchTemplateNetworkInterfaces(
                    device_index=0,
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=[security_group_id],
                )
            ],
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": lt_cfg.http_put_response_hop_limit,
                "instance_metadata_tags": "disabled",
            },
            monitoring={"enabled": lt_cfg.enable_monitoring},
            block_device_mappings=[
                lt.LaunchTemplateBlockDeviceMappings(
                    device_name=lt_cfg.root_device_name, ebs=lt.LaunchTemplateBlockDeviceMappingsEbs(**ebs)
                )
            ],
            user_data=base64.b64encode(user_data.encode()).decode() if user_data else None,
            tag_specifications=[
                lt.LaunchTemplateTagSpecifications(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume")
            ],
            tags={"fleet": fleet_name},
        )
        # latest_version, not "$Latest": a template change shows in the plan as an
        # in-place update of the group, which starts the instance refresh.
        lt_spec = {
            "id": self.launch_template.id,
            "version": Token.as_string(self.launch_template.latest_version),
        }

        lifecycle: dict = {}
        if scaled:
            lifecycle["ignore_changes"] = ["desired_capacity"]
        if preconditions:
            lifecycle["precondition"] = preconditions
        capacity_rebalance = asg_cfg.capacity_rebalance
        if capacity_rebalance is None:
            capacity_rebalance = mip is not None
        refresh = None
        if asg_cfg.instance_refresh is not None:
            ir = asg_cfg.instance_refresh
            prefs = {
                "min_healthy_percentage": ir.min_healthy_percentage,
                "max_healthy_percentage": ir.max_healthy_percentage,
                "auto_rollback": ir.auto_rollback,
                "skip_matching": ir.skip_matching,
            }
            if ir.instance_warmup is not None:
                prefs["instance_warmup"] = str(ir.instance_warmup)
            if ir.checkpoint_percentages:
                prefs["checkpoint_percentages"] = list(ir.checkpoint_percentages)
            if ir.checkpoint_delay is not None:
                prefs["checkpoint_delay"] = str(ir.checkpoint_delay)
            refresh = {"strategy": "Rolling", "preferences": prefs}

        asg = aws.autoscaling_group
        mixed = None
        if mip is not None:
            overrides = []
            for o in mip.overrides():
                overrides.append(
                    asg.AutoscalingGroupMixedInstancesPolicyLaunchTemplateOverride(
                        instance_type=o.instance_type,
                        weighted_capacity=None if o.weighted_capacity is None else str(o.weighted_capacity),
                    )
                )
            mixed = {
                "launch_template": {
                    "launch_template_specification": {
                        "launch_template_id": lt_spec["id"],
                        "version": lt_spec["version"],
                    },
                    "override": overrides,
                },
                "instances_distribution": {
                    "on_demand_base_capacity": mip.on_demand_base_capacity,
                    "on_demand_percentage_above_base_capacity": mip.on_demand_percentage_above_base_capacity,
                    "on_demand_allocation_strategy": mip.on_demand_allocation_strategy,
                    "spot_allocation_strategy": mip.spot_allocation_strategy,
                },
            }
        group_tags = {"Name": prefix, "fleet": fleet_name, **cfg.tags}
        self.group = asg.AutoscalingGroup(
            self,
            "autoscaling_group",
            name=prefix,
            min_size=asg_cfg.min_size,
            max_size=asg_cfg.max_size,
            desired_capacity=asg_cfg.effective_desired_capacity,
            vpc_zone_identifier=subnet_ids,
            health_check_type=asg_cfg.health_check_type,
            health_check_grace_period=asg_cfg.health_check_grace_period,
            default_instance_warmup=asg_cfg.default_instance_warmup,
            target_group_arns=[target_group_arn],
            capacity_rebalance=capacity_rebalance,
            max_instance_lifetime=asg_cfg.max_instance_lifetime,
            launch_template=None if mip else lt_spec,
            mixed_instances_policy=mixed,
            instance_refresh=refresh,
            enabled_metrics=GROUP_METRICS if asg_cfg.enabled_metrics else None,
            metrics_granularity="1Minute" if asg_cfg.enabled_metrics else None,
            tag=[
                asg.AutoscalingGroupTag(key=k, value=v, propagate_at_launch=False)
                for k, v in sorted(group_tags.items())
            ],
            lifecycle=lifecycle or None,
        )
