"""What is deployed now, read when Terraform plans, and the changes it refuses.

Some config changes plan cleanly but cannot be applied safely, because of what AWS or
the AWS provider does with the resource that is already there. Synthesis cannot tell a
change from a first deployment (it sees only the new config), so these checks read the
deployed resource by name with data sources and stop the plan with a precondition,
before anything changes, with the config field and the safe way to make the change:

- ``load_balancer.internal`` on a deployed load balancer: AWS cannot change a load
  balancer's scheme (ELBv2 API: ``Scheme`` is set only by CreateLoadBalancer), so
  Terraform replaces it, deleting first because the name is fixed: the listeners, rules
  and the DNS name clients use go with it.
- a ``mixed_instances_policy`` on a group whose deployed warm pool the same apply would
  remove: the provider updates the group before it deletes the pool, and AWS refuses a
  mixed instances policy on a group with a warm pool (PutWarmPool/UpdateAutoScalingGroup;
  hashicorp/terraform-provider-aws#42437).
- ``warm_pool.min_size`` lowered to 0: the provider does not send a minimum of 0
  (hashicorp/terraform-provider-aws#44732), so the pool keeps its old minimum and every
  later plan shows the change again.
- a created network's ``cidr_block``, or subnet CIDRs moved by a change of
  ``availability_zones`` or ``subnet_newbits``: AWS cannot change a VPC's primary CIDR
  or a subnet's (EC2 API: ``CidrBlock`` is set by CreateVpc/CreateSubnet only), so
  Terraform replaces them, and everything in them with them.

Data sources: ``aws_lbs`` (every load balancer of the region, matched by name in the
ARN: no tag is trusted) and ``aws_lb``; ``aws_autoscaling_groups`` filtered by name and
``aws_autoscaling_group``; ``aws_vpcs``/``aws_vpc`` and ``aws_subnets``/``aws_subnet``
found by their tags (a created network's names and the stack's default tags). The
detailed ones have no instances before the first apply, so a first deployment passes
every check. Conditions use ``alltrue`` over those instances: Terraform's ``||`` does
not short-circuit before v1.12, so ``x[0]`` would fail on none.
"""

from __future__ import annotations

from cdktf import Fn, Precondition, TerraformIterator, TerraformLocal, TerraformStack, Token

from .aws import aws
from .config import AutoscalingGroupConfig
from .parts import Part

#: Where docs/change-effects.md explains each refused change and its safe steps.
DOC = "docs/change-effects.md"


class DeployedLoadBalancer(Part):
    """Reads the deployed ALB named ``alb_name`` (if any) and checks that its scheme
    matches ``internal``. Attribute ``checks``: preconditions for the ``aws_lb``."""

    def __init__(self, scope: TerraformStack | Part, id_: str, *, alb_name: str, internal: bool):
        super().__init__(scope, id_)
        every = aws.data_aws_lbs.DataAwsLbs(self.stack, self.element_id("load_balancers"))
        named = TerraformLocal(
            self.stack,
            self.element_id("load_balancer_arns"),
            f'${{[for arn in {every.fqn}.arns : arn if strcontains(arn, ":loadbalancer/app/{alb_name}/")]}}',
        )
        deployed = aws.data_aws_lb.DataAwsLb(
            self.stack,
            self.element_id("load_balancer"),
            count=Token.as_number(Fn.length_of(named.as_list)),
            arn=Fn.element(named.as_list, 0),
        )
        scheme, other = ("internal", "internet-facing") if internal else ("internet-facing", "internal")
        # aws-rule: load-balancer-scheme-fixed
        self.checks = [
            Precondition(
                condition=f"${{alltrue([for lb in {deployed.fqn} : lb.internal == {str(internal).lower()}])}}",
                error_message=f"load_balancer.internal: the deployed load balancer {alb_name} is {other}, and AWS "
                "cannot change a load balancer's scheme: Terraform would delete it, with its listeners, rules and "
                "the DNS name clients use, before creating the new one, and nothing would be served in between. "
                f"To move to {scheme}: deploy a second environment (another name) with internal: "
                f"{str(internal).lower()}, move clients to its DNS name, then destroy this one ({DOC}).",
            )
        ]


class DeployedGroup(Part):
    """Reads the deployed Auto Scaling group ``group_name`` (if any) and checks the
    warm pool changes of fleet ``fleet_name``'s ``autoscaling_group`` section against
    it. Attribute ``checks``: preconditions for that group (empty when the config has
    neither a mixed instances policy nor a warm pool with ``min_size`` 0)."""

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        fleet_name: str,
        group_name: str,
        autoscaling_group: AutoscalingGroupConfig,
    ):
        super().__init__(scope, id_)
        self.checks: list[Precondition] = []
        asg = autoscaling_group
        wp = asg.warm_pool
        lowers_to_zero = wp is not None and wp.min_size == 0
        if asg.mixed_instances_policy is None and not lowers_to_zero:
            return
        found = aws.data_aws_autoscaling_groups.DataAwsAutoscalingGroups(
            self.stack, self.element_id("autoscaling_groups"), names=[group_name]
        )
        deployed = aws.data_aws_autoscaling_group.DataAwsAutoscalingGroup(
            self.stack,
            self.element_id("autoscaling_group"),
            count=Token.as_number(Fn.length_of(found.names)),
            name=Fn.element(found.names, 0),
        ).fqn
        field = f"fleets.{fleet_name}.autoscaling_group"
        if asg.mixed_instances_policy is not None:
            # aws-rule: warm-pool-to-mixed-instances-two-steps
            self.checks.append(
                Precondition(
                    condition=f"${{alltrue([for g in {deployed} : length(g.warm_pool) == 0])}}",
                    error_message=f"{field}.mixed_instances_policy: the deployed group {group_name} has a warm pool, "
                    "and the provider would send the mixed instances policy before deleting the pool, which AWS "
                    "refuses (hashicorp/terraform-provider-aws#42437). Make the change in two applies: remove "
                    f"warm_pool and apply, then add mixed_instances_policy and apply ({DOC}).",
                )
            )
        if lowers_to_zero:
            # aws-rule: warm-pool-min-size-zero-two-steps
            self.checks.append(
                Precondition(
                    condition=f"${{alltrue([for g in {deployed} : alltrue([for p in g.warm_pool : p.min_size == 0])])}}",  # noqa: E501
                    error_message=f"{field}.warm_pool.min_size: the deployed warm pool of {group_name} keeps a "
                    "minimum of instances, and the provider never sends a min_size of 0 "
                    "(hashicorp/terraform-provider-aws#44732): the pool would keep its minimum and every plan would "
                    "show the change again. Make the change in two applies: remove warm_pool and apply (only the "
                    f"pool's stopped instances go), then add it back with min_size 0 and apply ({DOC}).",
                )
            )


class DeployedNetwork(Part):
    """Reads the VPC and subnets a created network (``network.create_vpc``) deployed,
    by their tags (``Name`` and the stack's ``tags``: its environment and managed-by
    default tags), and checks that this config gives them the same CIDR blocks: AWS
    cannot change either, so Terraform would replace the VPC or the subnets that the
    instances and the load balancer use (and a load balancer cannot move to another
    VPC). ``subnets`` maps each planned subnet's ``Name`` to its CIDR block. Attribute
    ``checks``: preconditions for the ``aws_vpc``."""

    def __init__(
        self,
        scope: TerraformStack | Part,
        id_: str,
        *,
        vpc_name: str,
        cidr_block: str,
        subnets: dict[str, str],
        tags: dict[str, str],
    ):
        super().__init__(scope, id_)
        vpcs = aws.data_aws_vpcs.DataAwsVpcs(self.stack, self.element_id("vpcs"), tags={**tags, "Name": vpc_name})
        vpc = aws.data_aws_vpc.DataAwsVpc(
            self.stack,
            self.element_id("vpc"),
            count=Token.as_number(Fn.length_of(vpcs.ids)),
            id=Fn.element(vpcs.ids, 0),
        )
        found = aws.data_aws_subnets.DataAwsSubnets(
            self.stack,
            self.element_id("subnets"),
            tags=tags,
            filter=[aws.data_aws_subnets.DataAwsSubnetsFilter(name="tag:Name", values=sorted(subnets))],
        )
        each = TerraformIterator.from_list(found.ids)
        subnet = aws.data_aws_subnet.DataAwsSubnet(
            self.stack, self.element_id("subnet"), for_each=each, id=Token.as_string(each.value)
        )
        planned = ", ".join(f'"{n}" = "{c}"' for n, c in sorted(subnets.items()))
        field = "network.create_vpc"
        self.checks = [
            # aws-rule: vpc-cidr-fixed
            Precondition(
                condition=f'${{alltrue([for v in {vpc.fqn} : v.cidr_block == "{cidr_block}"])}}',
                error_message=f"{field}.cidr_block: the deployed VPC {vpc_name} has another CIDR block, and AWS "
                "cannot change a VPC's primary CIDR: Terraform would replace the VPC with every subnet, gateway "
                "and route in it, and the load balancer cannot move to a new VPC. Keep the deployed cidr_block, "
                f"or deploy a second environment with the new network, move clients, then destroy this one ({DOC}).",
            ),
            # aws-rule: subnet-cidr-fixed
            Precondition(
                condition=f"${{alltrue([for s in {subnet.fqn} : "
                f'lookup({{{planned}}}, s.tags["Name"], s.cidr_block) == s.cidr_block])}}',
                error_message=f"{field}: a deployed subnet of {vpc_name} would get another CIDR block (the number "
                "and order of availability_zones and subnet_newbits give each subnet its CIDR), and AWS cannot "
                "change a subnet's CIDR: Terraform would replace subnets the instances, NAT gateways and load "
                "balancer use. Keep availability_zones and subnet_newbits as deployed, or deploy a second "
                f"environment with the new layout, move clients, then destroy this one ({DOC}).",
            ),
        ]
