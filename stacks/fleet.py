"""Launch template, instance role and Auto Scaling group(s) for one fleet.

Follows the EC2 Auto Scaling user guide for launch templates (launch configurations
cannot be created in new accounts), mixed instances groups, warm pools and lifecycle
hooks:

- ``aws_launch_template``: AMI by ID or from an SSM parameter read at plan time, IMDSv2
  required, encrypted root volume, no public IP address (explicit network interface),
  instance profile with AmazonSSMManagedInstanceCore, user data, tag specifications for
  instances and volumes. No spot options: spot is
  chosen by the group's mixed instances policy. Optional Capacity Reservation
  preference or target and Capacity Block market type (EC2 Auto Scaling user guide,
  "Use Capacity Blocks for machine learning workloads").
- ``aws_autoscaling_group``: ELB health checks, grace period and default warm-up (both
  sized from the model load time unless set), attached to the target group with
  ``target_group_arns``, the template referenced by its ``latest_version`` (not
  ``$Latest``) so template changes show in the plan and start an instance refresh; the
  template goes inside ``mixed_instances_policy`` when one is set, whose overrides
  name instance types or give ``instance_requirements`` (attribute-based selection). Later applies leave
  the sizes that scaling owns (``ScalingConfig.owned_group_sizes``: target tracking,
  scheduled actions) as they are. Optional warm pool.
- Lifecycle hooks (``model-ready`` on launch, ``drain`` on termination) twice: as
  ``initial_lifecycle_hook`` blocks, so a new group's first instances pass through them,
  and as ``aws_autoscaling_lifecycle_hook`` resources, which add, change and remove
  hooks of a running group in place. The group ignores later changes of its blocks:
  the provider replaces a group whose ``initial_lifecycle_hook`` changes, and with its
  fixed name that terminates every instance before the new group launches any.
- Replacing and AZ trouble: an ``instance_maintenance_policy`` (default min 100 %,
  max 110 %) makes Auto Scaling launch a replacement and wait for it before it
  terminates an unhealthy or expired instance (EC2 Auto Scaling user guide, "Instance
  maintenance policies"); ``availability_zone_distribution`` ``balanced-best-effort``
  (default) launches in the other AZs when one has no capacity or is impaired
  ("Availability Zone distribution"). An instance refresh fails, and with
  ``auto_rollback`` rolls back, when one of the fleet's 5XX or unhealthy-hosts alarms
  goes to ALARM (``alarm_specification``; "Undo changes with a manual or auto
  rollback": needs a numbered template version and an AMI ID, both given here).
- Capacity: an apply waits for the group's instances up to the fleet's load budget
  (``FleetConfig.wait_for_capacity_seconds``) and does not give up at the first failed
  scaling activity (``ignore_failed_scaling_activities``: an
  ``InsufficientInstanceCapacity`` for one GPU type or AZ is retried in others). A
  group is ``create_before_destroy``: with its fixed name, any replacement (a group
  tainted by a failed create, for instance) fails at its create step with AWS's
  ``AlreadyExists`` before the serving group is deleted.
- The user data as plain text in a ``terraform_data`` resource, so that a plan shows
  what changed in it line by line rather than as two base64 strings.
- Optional second, spot-only group (``spot_autoscaling_group``) in the same target group
  with the same launch template: AWS forbids warm pools on groups that launch spot, so a
  warm on-demand group plus a spot group is how a fleet gets both.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import Precondition, TerraformResource, TerraformStack, Token

from .aws import aws
from .config import FleetConfig, InstanceOverride, LaunchTemplateConfig, managed_policy_key
from .parts import Part
from .user_data import LAUNCH_HOOK, TERMINATION_HOOK

_ASSUME_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
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


def rollback_alarms(fleet: FleetConfig, alarm_names: Mapping[str, str]) -> list[str]:
    """Names (tokens) of the fleet's alarms its instance refresh rolls back on: those of
    ``instance_refresh.alarm_specification.alarms`` found in ``alarm_names`` (alarm key
    -> name; empty when the environment's alarms are off). Empty without a refresh."""
    refresh = fleet.autoscaling_group.instance_refresh
    if refresh is None:
        return []
    return [alarm_names[key] for key in refresh.alarm_specification.alarms if key in alarm_names]


def _instance_requirements(override: InstanceOverride) -> dict[str, Any] | None:
    """The override's ``instance_requirements`` block: the attributes given, lists and
    ``{min, max}`` ranges with unset bounds left out (no limit); None for a named type."""
    req = override.instance_requirements
    if req is None:
        return None
    out: dict[str, Any] = {}
    for key, value in req.model_dump(exclude_none=True).items():
        if isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if v is not None}
        elif value or value is False:
            out[key] = value
    return out


def _capacity_reservation(lt_cfg: LaunchTemplateConfig) -> dict[str, Any] | None:
    """The template's ``capacity_reservation_specification`` block (None when not set):
    a preference, or a target with its one ID or resource group ARN."""
    crs = lt_cfg.capacity_reservation_specification
    if crs is None:
        return None
    if crs.capacity_reservation_target is not None:
        return {"capacity_reservation_target": crs.capacity_reservation_target.model_dump(exclude_none=True)}
    return {"capacity_reservation_preference": crs.capacity_reservation_preference}


class FleetGroup(Part):
    """Creates role, instance profile, launch template and Auto Scaling group(s) for
    fleet ``fleet_name`` of environment ``environment`` in ``region``.

    Takes the fleet's config section, the cost allocation ``tags`` for the group and what
    it launches (the environment's default tags), the private subnet IDs, the fleet's
    instance security group ID, its target group ARN, the user data text (or None), the
    partition name token, the AMI ID and its root device name (tokens from
    :class:`stacks.launch_checks.LaunchChecks`), and plan-time preconditions for the
    launch template, the groups and the main group only (``main_group_preconditions``,
    from :class:`stacks.deployed.DeployedGroup`). Attributes (str
    tokens, each read once): ``role_name``, ``launch_template_id``,
    ``autoscaling_group_name`` and ``spot_autoscaling_group_name`` (None without a spot
    group).
    """

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        environment: str,
        region: str,
        tags: dict[str, str],
        fleet_name: str,
        fleet: FleetConfig,
        subnet_ids: Sequence[str],
        security_group_id: str,
        target_group_arn: str,
        user_data: str | None,
        rollback_alarm_names: Sequence[str] = (),
        partition: str,
        image_id: str,
        root_device_name: str,
        template_preconditions: Sequence[Precondition] = (),
        preconditions: Sequence[Precondition] = (),
        main_group_preconditions: Sequence[Precondition] = (),
    ):
        super().__init__(scope, id_)
        self._environment, self._region, self._tags = environment, region, tags
        self._fleet, self._fleet_name = fleet, fleet_name
        self._rollback_alarms = list(rollback_alarm_names)
        self._prefix = f"{environment}-{fleet_name}"
        profile = self._role(partition)
        launch_template = self._launch_template(
            profile, security_group_id, user_data, image_id, root_device_name, list(template_preconditions)
        )
        # latest_version, not "$Latest": a template change shows in the plan as an
        # in-place update of the group, which starts the instance refresh.
        self.launch_template_id = launch_template.id
        self._lt_version = Token.as_string(launch_template.latest_version)
        if user_data:
            self._show_user_data(user_data)
        common: dict[str, Any] = {
            "subnet_ids": list(subnet_ids),
            "target_group_arn": target_group_arn,
        }
        group = self._group(
            "autoscaling_group",
            self._prefix,
            spot=False,
            owned_sizes=fleet.scaling.owned_group_sizes,
            preconditions=[*preconditions, *main_group_preconditions],
            **common,
        )
        self.autoscaling_group_name: str = group.name
        self._hooks("", group.name)
        self.spot_autoscaling_group_name: str | None = None
        if fleet.spot_autoscaling_group is not None:
            # Scheduled actions act on the main group only (stacks/scaling.py).
            spot = self._group(
                "spot_autoscaling_group",
                f"{self._prefix}-spot",
                spot=True,
                owned_sizes=("desired_capacity",) if fleet.scaling.has_target_tracking else (),
                preconditions=list(preconditions),
                **common,
            )
            self.spot_autoscaling_group_name = spot.name
            self._hooks("spot_", spot.name)

    # IAM -------------------------------------------------------------------------------
    def _role(self, partition: str) -> Any:
        fleet, prefix = self._fleet, self._prefix
        role = aws.iam_role.IamRole(
            self.stack,
            self.element_id("role"),
            name_prefix=f"{prefix}-"[:38],
            description=f"Instances of the {self._fleet_name} fleet in {self._environment}",
            assume_role_policy=_ASSUME_EC2,
        )
        self.role_name = role_name = role.name
        policies = {"ssm-core": f"arn:{partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}
        if fleet.scaling.uses_cloudwatch_agent:
            # The CloudWatch agent publishes the scaling metric (GPU use, the server's queue).
            policies["cloudwatch-agent"] = f"arn:{partition}:iam::aws:policy/CloudWatchAgentServerPolicy"
        for arn in fleet.launch_template.managed_policy_arns:  # keys distinct (config.py)
            policies.setdefault(managed_policy_key(arn), arn)
        for key, arn in policies.items():
            aws.iam_role_policy_attachment.IamRolePolicyAttachment(
                self.stack, self.element_id(f"policy-{key}"), role=role_name, policy_arn=arn
            )
        if fleet.lifecycle_hooks.launch is not None or fleet.lifecycle_hooks.termination is not None:
            names = [prefix] + ([f"{prefix}-spot"] if fleet.spot_autoscaling_group else [])
            aws.iam_role_policy.IamRolePolicy(
                self.stack,
                self.element_id("lifecycle-hooks-policy"),
                name="complete-lifecycle-actions",
                role=role.id,
                policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CompleteOwnGroupsHooks",
                                "Effect": "Allow",
                                "Action": [
                                    "autoscaling:CompleteLifecycleAction",
                                    "autoscaling:RecordLifecycleActionHeartbeat",
                                ],
                                "Resource": [
                                    f"arn:{partition}:autoscaling:{self._region}:*:autoScalingGroup:*:"
                                    f"autoScalingGroupName/{n}"
                                    for n in names
                                ],
                            },
                            {
                                "Sid": "FindOwnGroup",
                                "Effect": "Allow",
                                "Action": "autoscaling:DescribeAutoScalingInstances",
                                "Resource": "*",
                            },
                        ],
                    },
                    sort_keys=True,
                ),
            )
        return aws.iam_instance_profile.IamInstanceProfile(
            self.stack, self.element_id("instance_profile"), name_prefix=f"{prefix}-"[:38], role=role_name
        )

    # Launch template -------------------------------------------------------------------
    def _launch_template(
        self,
        profile: Any,
        security_group_id: str,
        user_data: str | None,
        image_id: str,
        root_device_name: str,
        preconditions: list[Precondition],
    ) -> Any:
        fleet, prefix = self._fleet, self._prefix
        lt_cfg = fleet.launch_template
        mip = fleet.autoscaling_group.mixed_instances_policy
        # Provider default_tags do not reach what Auto Scaling launches: the cost
        # allocation tags go on the instances and volumes here.
        instance_tags = {"Name": prefix, "fleet": self._fleet_name, **self._tags}
        ebs: dict[str, Any] = {
            "volume_size": lt_cfg.root_volume_size,
            "volume_type": lt_cfg.root_volume_type,
            "encrypted": "true",
            "delete_on_termination": "true",
        }
        if lt_cfg.root_volume_iops is not None:
            ebs["iops"] = lt_cfg.root_volume_iops
        if lt_cfg.root_volume_throughput is not None:
            ebs["throughput"] = lt_cfg.root_volume_throughput
        if lt_cfg.root_volume_kms_key_id:
            ebs["kms_key_id"] = lt_cfg.root_volume_kms_key_id
        wp = fleet.autoscaling_group.warm_pool
        lt = aws.launch_template
        return lt.LaunchTemplate(
            self.stack,
            self.element_id("launch_template"),
            name_prefix=f"{prefix}-",
            description=f"{self._fleet_name} fleet of {self._environment}",
            image_id=image_id,
            # With a mixed instances policy its overrides choose the type. A spot group's
            # overrides replace this type for its own instances.
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
            capacity_reservation_specification=_capacity_reservation(lt_cfg),
            instance_market_options=(
                {"market_type": lt_cfg.instance_market_options.market_type} if lt_cfg.instance_market_options else None
            ),
            hibernation_options=({"configured": True} if wp is not None and wp.pool_state == "Hibernated" else None),
            monitoring={"enabled": lt_cfg.enable_monitoring},
            block_device_mappings=[
                lt.LaunchTemplateBlockDeviceMappings(
                    device_name=root_device_name, ebs=lt.LaunchTemplateBlockDeviceMappingsEbs(**ebs)
                )
            ],
            user_data=base64.b64encode(user_data.encode()).decode() if user_data else None,
            tag_specifications=[
                lt.LaunchTemplateTagSpecifications(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume")
            ],
            tags={"fleet": self._fleet_name},
            lifecycle={"precondition": preconditions} if preconditions else None,
        )

    # Auto Scaling groups ---------------------------------------------------------------
    def _group(
        self,
        id_: str,
        name: str,
        *,
        spot: bool,
        subnet_ids: list[str],
        target_group_arn: str,
        owned_sizes: Sequence[str],
        preconditions: list[Precondition],
    ) -> Any:
        fleet = self._fleet
        asg_cfg = fleet.autoscaling_group
        mod = aws.autoscaling_group
        # The hooks' blocks count at creation only (see the module docstring).
        lifecycle: dict[str, Any] = {
            "create_before_destroy": True,
            "ignore_changes": [*owned_sizes, "initial_lifecycle_hook"],
        }
        if preconditions:
            lifecycle["precondition"] = preconditions

        if spot:
            sg = fleet.spot_autoscaling_group
            assert sg is not None
            sizes = (sg.min_size, sg.max_size, sg.effective_desired_capacity)
            az_distribution = sg.availability_zone_distribution
            # No on-demand capacity; AWS allows only lowest-price with instance requirements.
            on_demand = "lowest-price" if sg.attribute_based else "prioritized"
            mixed = self._mixed(sg.overrides(), 0, 0, on_demand, sg.spot_allocation_strategy)
            capacity_rebalance = sg.capacity_rebalance
        else:
            sizes = (asg_cfg.min_size, asg_cfg.max_size, asg_cfg.effective_desired_capacity)
            az_distribution = asg_cfg.availability_zone_distribution
            mip = asg_cfg.mixed_instances_policy
            mixed = None
            if mip is not None:
                mixed = self._mixed(
                    mip.overrides(),
                    mip.on_demand_base_capacity,
                    mip.on_demand_percentage_above_base_capacity,
                    mip.effective_on_demand_allocation_strategy,
                    mip.spot_allocation_strategy,
                )
            explicit = asg_cfg.capacity_rebalance
            capacity_rebalance = mip is not None if explicit is None else explicit

        refresh: dict[str, Any] | None = None
        if asg_cfg.instance_refresh is not None:
            ir = asg_cfg.instance_refresh
            prefs: dict[str, Any] = {
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
            if self._rollback_alarms:
                prefs["alarm_specification"] = {"alarms": self._rollback_alarms}
            refresh = {"strategy": "Rolling", "preferences": prefs}

        hooks = [mod.AutoscalingGroupInitialLifecycleHook(**hook) for hook in self._hook_specs().values()]

        warm_pool: dict[str, Any] | None = None
        if not spot and asg_cfg.warm_pool is not None:
            wp = asg_cfg.warm_pool
            warm_pool = {
                "pool_state": wp.pool_state,
                "min_size": wp.min_size,
                "instance_reuse_policy": {"reuse_on_scale_in": wp.reuse_on_scale_in},
            }
            if wp.max_group_prepared_capacity is not None:
                warm_pool["max_group_prepared_capacity"] = wp.max_group_prepared_capacity

        maintenance = asg_cfg.instance_maintenance_policy
        group_tags = {"Name": name, "fleet": self._fleet_name, **self._tags}
        return mod.AutoscalingGroup(
            self.stack,
            self.element_id(id_),
            name=name,
            min_size=sizes[0],
            max_size=sizes[1],
            desired_capacity=sizes[2],
            vpc_zone_identifier=subnet_ids,
            health_check_type=asg_cfg.health_check_type,
            health_check_grace_period=fleet.effective_health_check_grace_period,
            default_instance_warmup=fleet.effective_default_instance_warmup,
            target_group_arns=[target_group_arn],
            capacity_rebalance=capacity_rebalance,
            max_instance_lifetime=asg_cfg.max_instance_lifetime,
            launch_template=None if mixed else {"id": self.launch_template_id, "version": self._lt_version},
            mixed_instances_policy=mixed,
            instance_refresh=refresh,
            instance_maintenance_policy=(
                None
                if maintenance is None
                else {
                    "min_healthy_percentage": maintenance.min_healthy_percentage,
                    "max_healthy_percentage": maintenance.max_healthy_percentage,
                }
            ),
            availability_zone_distribution={
                "capacity_distribution_strategy": az_distribution.capacity_distribution_strategy
            },
            warm_pool=warm_pool,
            initial_lifecycle_hook=hooks or None,
            wait_for_capacity_timeout=f"{fleet.wait_for_capacity_seconds}s",
            ignore_failed_scaling_activities=True,
            enabled_metrics=GROUP_METRICS if asg_cfg.enabled_metrics else None,
            metrics_granularity="1Minute" if asg_cfg.enabled_metrics else None,
            tag=[
                mod.AutoscalingGroupTag(key=k, value=v, propagate_at_launch=False)
                for k, v in sorted(group_tags.items())
            ],
            lifecycle=lifecycle or None,
        )

    def _hook_specs(self) -> dict[str, dict[str, Any]]:
        """The fleet's lifecycle hooks by element name (``launch_hook``,
        ``termination_hook``), as arguments of a hook block or resource."""
        hooks = self._fleet.lifecycle_hooks
        specs: dict[str, dict[str, Any]] = {}
        if hooks.launch is not None:
            specs["launch_hook"] = {
                "name": LAUNCH_HOOK,
                "lifecycle_transition": "autoscaling:EC2_INSTANCE_LAUNCHING",
                "heartbeat_timeout": self._fleet.effective_launch_heartbeat,
                "default_result": hooks.launch.default_result,
            }
        if hooks.termination is not None:
            specs["termination_hook"] = {
                "name": TERMINATION_HOOK,
                "lifecycle_transition": "autoscaling:EC2_INSTANCE_TERMINATING",
                "heartbeat_timeout": self._fleet.effective_termination_heartbeat,
                "default_result": hooks.termination.default_result,
            }
        return specs

    def _hooks(self, id_prefix: str, group_name: str) -> None:
        """The lifecycle hooks of group ``group_name`` as their own resources
        (``<id_prefix>launch_hook``, ...), which PutLifecycleHook creates and updates in
        place on a running group (Auto Scaling API, PutLifecycleHook)."""
        for key, spec in self._hook_specs().items():
            aws.autoscaling_lifecycle_hook.AutoscalingLifecycleHook(
                self.stack, self.element_id(f"{id_prefix}{key}"), autoscaling_group_name=group_name, **spec
            )

    def _show_user_data(self, user_data: str) -> None:
        """A ``terraform_data`` resource holding ``user_data`` as text (``${`` and ``%{``
        escaped, Terraform JSON strings being templates), so that plans show changes to
        it line by line; nothing reads it."""
        text = user_data.replace("${", "$${").replace("%{", "%%{")
        # terraform_data is built into Terraform: no provider binding, so a generic resource.
        shown = TerraformResource(self.stack, self.element_id("user_data"), terraform_resource_type="terraform_data")
        shown.add_override("input", text)

    def _mixed(
        self, overrides: list[InstanceOverride], base: int, above: int, on_demand_strategy: str, spot_strategy: str
    ) -> dict[str, Any]:
        mod = aws.autoscaling_group
        return {
            "launch_template": {
                "launch_template_specification": {
                    "launch_template_id": self.launch_template_id,
                    "version": self._lt_version,
                },
                "override": [
                    mod.AutoscalingGroupMixedInstancesPolicyLaunchTemplateOverride(
                        instance_type=o.instance_type,
                        instance_requirements=_instance_requirements(o),
                        weighted_capacity=None if o.weighted_capacity is None else str(o.weighted_capacity),
                    )
                    for o in overrides
                ],
            },
            "instances_distribution": {
                "on_demand_base_capacity": base,
                "on_demand_percentage_above_base_capacity": above,
                "on_demand_allocation_strategy": on_demand_strategy,
                "spot_allocation_strategy": spot_strategy,
            },
        }
