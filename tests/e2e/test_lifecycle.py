"""End to end: plan, apply, change and destroy each example stack against a local AWS
emulator (moto), asserting the real state through boto3 after every step.

Per example config, on a copy of the project, with the README's workflow (synthesize,
then ``terraform`` in ``cdktf.out/stacks/<name>``):

1. synth, ``terraform init`` (offline mirror when present), ``plan -detailed-exitcode``
   (creates only), ``apply`` of the saved plan;
2. the ALB and its listeners, the target group (health check, deregistration delay,
   slow start, algorithm), the ASG (sizes, launch template, instances registered in the
   target group), the launch template (IMDSv2 required, encrypted root volume) and the
   scaling policies are as configured;
3. a second plan reports no changes; 3a: flipping ``load_balancer.internal``, a created
   network's new CIDR or another AZ are refused at plan, and so is ``plan -destroy`` of
   a stack with deletion protection, with nothing changed in the emulator
   (tests/e2e/change_steps.py); 3b: on dev, the fast
   subset of the change-effects measurements matches docs/change-effects.json (on
   prod-multi: the sizes a schedule set survive a plan);
4. a target group port change replaces the target group and applies without
   ``ResourceInUse``; the listener, ASG and scaling policy use the new group, the old
   one is gone (prod also turns ALB deletion protection off here, see step 7);
5. a new AMI updates the launch template and the ASG in place (no replacement) and
   applies; dev pins another AMI in its config, prod's SSM parameter gets a new value;
6. a ``desired_capacity``-only change, with a scaling policy owning the capacity,
   plans no change; then the change-safety steps of the example that has the feature
   (tests/e2e/change_steps.py): dev changes a health check path its script does not
   read, adds lifecycle hooks to the running group, has a tainted group planned
   create-before-destroy and goes through the canary promotion flow of docs/canary.md
   (a candidate fleet added at weight 0, raised, promoted, the old fleet removed);
   prod-multi (which keeps the sizes its schedules set, step 3b)
   changes the model load time of hooked groups, is refused two warm pool changes and
   moves from a warm pool to a mixed instances policy in two applies;
7. ``destroy`` leaves no load balancer, target group, ASG, launch template, scaling policy,
   instance, role, instance profile or security group behind (dev: nor its VPC, NAT
   gateway, Elastic IP or flow log group), and keeps what the stack does not own.
   AWS refuses to delete a protected ALB (moto does not check), so prod turns the
   protection off through its config, as a user must; that ALB update costs a fixed
   30 s wait in the provider, so it rides along with step 4's apply instead of taking
   a synth, plan and apply of its own before the destroy.

Steps 4 and 5 plan and apply in one ``terraform
apply`` run (its JSON output lists the planned actions, checked afterwards): one
provider start less per step. The two examples run concurrently, each with its own
moto server, so one's CPU work overlaps the other's waits (an ALB takes about 60 s to
become active there). Each step's wall time is printed as it ends and again, with its
parts, in the summary at the end of the run.
"""

from __future__ import annotations

import json
import queue
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError
from change_steps import ChangeSteps
from emulator import (
    PROD_AMI_PARAMETER,
    STEP_TIMES,
    Aws,
    MotoServer,
    known_amis,
    mixed_policy_dropped,
    prepare_example,
    write_override,
)
from helpers import EXAMPLES, copy_project, run_main, terraform, terraform_env

from stacks.config import EnvironmentConfig, load_config
from stacks.config.listener_rule import Forward
from stacks.user_data import LAUNCH_HOOK, TERMINATION_HOOK

pytestmark = pytest.mark.e2e

#: prod-multi (two fleets, warm pool, spot group, hooks, schedules, alarms) applies and
#: passes step 2 against moto, but moto drops the mixed instances policy of its spot group
#: (a group created with desired capacity 0 comes back with neither a policy nor a
#: template), so the idempotence step re-plans it. The override below ignores that
#: attribute for such groups; the later steps are not yet verified for this example, so it
#: is left out of the lifecycle run until they are.
NOT_YET_EMULATED: set[str] = set()
NAMES = [p.stem for p in EXAMPLES if p.stem not in NOT_YET_EMULATED]


def forward_target(action: dict) -> str:
    """Target group ARN of a forward action (plain or ``ForwardConfig`` form)."""
    assert action["Type"] == "forward", action
    if action.get("TargetGroupArn"):
        return action["TargetGroupArn"]
    groups = action["ForwardConfig"]["TargetGroups"]
    assert len(groups) == 1, action
    return groups[0]["TargetGroupArn"]


def forward_weights(action: dict) -> dict[str, int]:
    """Target group ARN -> weight of a forward action (a plain one: its group at 1)."""
    assert action["Type"] == "forward", action
    if action.get("TargetGroupArn") and "ForwardConfig" not in action:
        return {action["TargetGroupArn"]: 1}
    return {t["TargetGroupArn"]: t.get("Weight", 1) for t in action["ForwardConfig"]["TargetGroups"]}


def plan_messages(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


class Lifecycle(ChangeSteps):
    """The end-to-end scenario of one example config; ``run()`` does every step and
    raises ``AssertionError`` at the first one that does not hold."""

    def __init__(self, name: str, workdir: Path, server: MotoServer, events: queue.Queue):
        self.name = name
        self.server = server
        self.events = events
        self.project = copy_project(workdir / "project")
        self.config_file = self.project / "config" / f"{name}.yaml"
        self.stack_dir = self.project / "cdktf.out" / "stacks" / name
        self.tf_env = terraform_env(workdir)
        self.aws = Aws(server.endpoint, yaml.safe_load(self.config_file.read_text())["region"])
        self.cfg: EnvironmentConfig = load_config(self.config_file)
        self.stack: dict = {}

    # Plumbing -----------------------------------------------------------------------
    @contextmanager
    def step(self, label: str, part: bool = False):
        """Times the block as step ``label`` (``part``: a part of the current step,
        listed under it and left out of the totals)."""
        start, ok = time.monotonic(), False
        row = [self.name, f"  - {label}" if part else label, 0.0, False]
        STEP_TIMES.append(row)  # now, so that a step is listed before its parts
        try:
            yield
            ok = True
        finally:
            seconds = time.monotonic() - start
            row[2:] = [seconds, ok]
            if not part:
                self.events.put(f"[e2e {self.name}] {label}: {seconds:.1f} s{'' if ok else ' FAILED'}")

    def edit_config(self, mutate) -> None:
        """Apply ``mutate`` to the config copy's YAML data and reload the config."""
        data = yaml.safe_load(self.config_file.read_text())
        mutate(data)
        self.config_file.write_text(yaml.safe_dump(data, sort_keys=False))
        self.cfg = load_config(self.config_file)

    def synth(self) -> None:
        """``python main.py --config config/<name>.yaml`` in the project copy, then the
        test-only override beside the output."""
        with self.step("synth", part=True):
            result = run_main("--config", f"config/{self.name}.yaml", cwd=self.project)
        assert result.returncode == 0, result.stdout + result.stderr
        text = (self.stack_dir / "cdk.tf.json").read_text()
        self.stack = json.loads(text)
        # The product's output never carries emulator settings.
        assert self.server.endpoint not in text
        for provider in self.stack["provider"]["aws"]:
            emulator_keys = [
                k for k in provider if k.startswith("skip_") or k in ("endpoints", "access_key", "secret_key")
            ]
            assert emulator_keys == [], emulator_keys
        write_override(self.stack_dir, self.server.endpoint)

    def tf(self, *args: str, ok: tuple[int, ...] = (0,)):
        result = terraform([*args], self.stack_dir, self.tf_env)
        assert result.returncode in ok, (
            f"terraform {' '.join(args)} exited {result.returncode}\n"
            f"{self.diagnostics(result.stdout) or result.stdout[-8000:]}\n{result.stderr[-8000:]}\n"
            f"moto server at {self.server.endpoint}: {self.server.status()}"
        )
        return result

    @staticmethod
    def diagnostics(stdout: str) -> str:
        found = []
        for msg in plan_messages(stdout) if stdout.lstrip().startswith("{") else []:
            if msg.get("type") == "diagnostic" and msg["diagnostic"]["severity"] == "error":
                d = msg["diagnostic"]
                found.append(f"{d['summary']}: {d.get('detail', '')} ({d.get('address', '')})")
        return "\n".join(found)

    def plan(self) -> tuple[int, dict[str, str]]:
        """``terraform plan -detailed-exitcode`` saved to ``tfplan``; returns the exit
        code (0 no changes, 2 changes) and each planned change's action by address."""
        with self.step("plan", part=True):
            result = self.tf("plan", "-json", "-input=false", "-detailed-exitcode", "-out=tfplan", ok=(0, 2))
        changes = {
            m["change"]["resource"]["addr"]: m["change"]["action"]
            for m in plan_messages(result.stdout)
            if m.get("type") == "planned_change"
        }
        return result.returncode, changes

    def plan_and_apply(self) -> dict[str, str]:
        """``terraform apply -auto-approve`` (plans and applies in one provider run, the
        cheaper path for the change steps); returns the action of each planned change
        by address."""
        with self.step("plan + apply", part=True):
            result = self.tf("apply", "-json", "-input=false", "-auto-approve")
        return {
            m["change"]["resource"]["addr"]: m["change"]["action"]
            for m in plan_messages(result.stdout)
            if m.get("type") == "planned_change"
        }

    def human_plan(self) -> str:
        """The plan as text, for failure messages."""
        return self.tf("plan", "-no-color", "-input=false", ok=(0, 1, 2)).stdout[-8000:]

    def apply(self) -> None:
        with self.step("apply", part=True):
            self.tf("apply", "-no-color", "-input=false", "tfplan")

    def outputs(self) -> dict:
        raw = json.loads(self.tf("output", "-json").stdout)
        return {k: v["value"] for k, v in raw.items()}

    def addresses(self, rtype: str) -> list[str]:
        return [f"{rtype}.{name}" for name in self.stack.get("resource", {}).get(rtype, {})]

    # Scenario -----------------------------------------------------------------------
    def run(self) -> None:
        self.events.put(f"[e2e {self.name}] moto at {self.server.endpoint}, project {self.project}")
        with self.step("prepare emulator + config copy"):
            self.prepare()
        with self.step("1 synth, init, plan, apply"):
            self.synth()
            with self.step("terraform init", part=True):
                self.tf("init", "-input=false", "-no-color")
            code, changes = self.plan()
            assert code == 2 and changes, "the first plan must create the stack"
            assert set(changes.values()) == {"create"}, changes
            self.apply()
        with self.step("2 assert deployed state"):
            self.check_deployed()
        with self.step("3 re-plan (idempotence)"):
            code, changes = self.plan()
            assert code == 0, f"second plan is not empty: {changes}\n{self.human_plan()}"
        with self.step("3a refused: scheme flip, network CIDRs, protected destroy"):
            self.refuse_scheme_flip_and_protected_destroy()
        if self.name == "prod-multi":
            with self.step("3b scheduled sizes kept"):
                self.keep_scheduled_sizes("chat")
        if self.name == "dev":
            with self.step("3b change effects: fast subset current"):
                self.check_change_effects()
        with self.step("4 target group port change"):
            self.change_port()
        with self.step("5 AMI change"):
            self.change_ami()
        with self.step("6 desired_capacity change"):
            self.change_desired_capacity()
        for label, change in self.change_safety_steps():
            with self.step(label):
                change()
        with self.step("7 destroy"):
            self.destroy()

    def change_safety_steps(self) -> list[tuple[str, object]]:
        """This example's change-safety steps (tests/e2e/change_steps.py) after step 6,
        as (label, callable): the example that has the feature a change touches."""
        if self.name == "dev":
            return [
                ("6a health check path change", lambda: self.change_health_check_path("chat", "/v1/models")),
                ("6b lifecycle hooks added", lambda: self.add_lifecycle_hooks("chat")),
                (
                    "6c tainted group planned create-before-destroy",
                    lambda: self.taint_plans_create_before_destroy("chat"),
                ),
                ("6d canary promotion, five steps", lambda: self.canary_promotion("chat", "chatnext")),
            ]
        if self.name == "prod-multi":
            return [
                ("6a model load time: hooks in place", lambda: self.change_model_load_time("chat", 600)),
                ("6b warm pool changes refused", lambda: self.refuse_warm_pool_changes("chat")),
                ("6c warm pool to mixed instances, two applies", lambda: self.warm_pool_to_mixed_instances("chat")),
            ]
        return []

    def prepare(self) -> None:
        """Create in the emulator what the example expects to find and point the config
        copy at it (emulator.prepare_example)."""
        prepared: dict = {}
        self.edit_config(lambda data: prepared.update(prepare_example(self.aws, data)))
        self.amis, self.existing = prepared["amis"], prepared["existing"]

    # Step 2 -------------------------------------------------------------------------
    def check_deployed(self) -> None:
        cfg, elb, asg, ec2 = self.cfg, self.aws.elbv2, self.aws.autoscaling, self.aws.ec2
        out = self.outputs()
        self.deployed = out

        # Load balancer
        lbs = elb.describe_load_balancers()["LoadBalancers"]
        assert [lb["LoadBalancerArn"] for lb in lbs] == [out["alb_arn"]]
        lb = lbs[0]
        assert lb["LoadBalancerName"] == f"{cfg.name}-alb"
        assert lb["Type"] == "application" and lb["State"]["Code"] == "active"
        assert lb["SecurityGroups"] == [out["alb_security_group_id"]]
        lb_azs = {z["ZoneName"] for z in lb["AvailabilityZones"]}
        assert len(lb_azs) >= 2, lb["AvailabilityZones"]
        if cfg.network.create_vpc is None:
            assert lb["VpcId"] == cfg.network.vpc_id
            assert {z["SubnetId"] for z in lb["AvailabilityZones"]} == set(cfg.network.public_subnet_ids)
        attrs = {
            a["Key"]: a["Value"]
            for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]
        }
        assert attrs["idle_timeout.timeout_seconds"] == str(cfg.effective_idle_timeout)
        assert attrs["deletion_protection.enabled"] == str(cfg.deletion_protection).lower()
        assert attrs["zonal_shift.config.enabled"] == str(cfg.load_balancer.enable_zonal_shift).lower()
        assert (
            attrs["routing.http.drop_invalid_header_fields.enabled"]
            == str(cfg.load_balancer.drop_invalid_header_fields).lower()
        )
        assert attrs["routing.http2.enabled"] == str(cfg.load_balancer.enable_http2).lower()

        # Listeners
        listeners = {
            ls["Port"]: ls for ls in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        }
        if cfg.load_balancer.certificate_arn:
            assert sorted(listeners) == [80, 443]
            http, https = listeners[80], listeners[443]
            assert http["Protocol"] == "HTTP"
            [redirect] = http["DefaultActions"]
            assert redirect["Type"] == "redirect"
            assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
            assert redirect["RedirectConfig"]["Port"] == "443"
            assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
            assert https["Protocol"] == "HTTPS"
            assert https["SslPolicy"] == cfg.load_balancer.ssl_policy
            assert [c["CertificateArn"] for c in https["Certificates"]] == [cfg.load_balancer.certificate_arn]
            serving = https
        else:
            assert sorted(listeners) == [80]
            serving = listeners[80]
            assert serving["Protocol"] == "HTTP"
        [forward] = serving["DefaultActions"]
        self.check_route(forward, cfg.default_fleet, out)
        self.serving_listener_arn = serving["ListenerArn"]

        for fleet_name, fleet in cfg.fleets.items():
            tg_arn = out[f"{fleet_name}_target_group_arn"]
            self.check_target_group(fleet, tg_arn, lb["VpcId"])
            group_name = out[f"{fleet_name}_autoscaling_group_name"]
            assert group_name == f"{cfg.name}-{fleet_name}"
            [group] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])["AutoScalingGroups"]
            a = fleet.autoscaling_group
            assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (
                a.min_size,
                a.max_size,
                a.effective_desired_capacity,
            )
            assert group["HealthCheckType"] == a.health_check_type
            assert group["HealthCheckGracePeriod"] == fleet.effective_health_check_grace_period
            assert group["TargetGroupARNs"] == [tg_arn]
            if cfg.network.create_vpc is None:
                assert set(group["VPCZoneIdentifier"].split(",")) == set(cfg.network.private_subnet_ids)
            mip = a.mixed_instances_policy
            if mip is None:
                spec = group["LaunchTemplate"]
            else:
                policy = group["MixedInstancesPolicy"]
                spec = policy["LaunchTemplate"]["LaunchTemplateSpecification"]
                self.check_overrides(policy["LaunchTemplate"]["Overrides"], mip.overrides())
                dist = policy["InstancesDistribution"]
                assert dist["OnDemandAllocationStrategy"] == mip.effective_on_demand_allocation_strategy
                assert dist["OnDemandBaseCapacity"] == mip.on_demand_base_capacity
                assert dist["OnDemandPercentageAboveBaseCapacity"] == mip.on_demand_percentage_above_base_capacity
                assert dist["SpotAllocationStrategy"] == mip.spot_allocation_strategy
            [template] = ec2.describe_launch_templates(LaunchTemplateIds=[spec["LaunchTemplateId"]])["LaunchTemplates"]
            # The group follows the template's latest version (not "$Latest").
            assert spec["Version"] == str(template["LatestVersionNumber"])
            self.check_launch_template(fleet, template)

            instances = [i["InstanceId"] for i in group["Instances"]]
            # A group at desired 0 (staging's burst, waiting for its Capacity Block)
            # launches nothing; every other group launches.
            assert bool(instances) == (a.effective_desired_capacity > 0), instances
            if mip is None:
                assert len(instances) == a.effective_desired_capacity
            # else: moto gap, named: a mixed instances group gets fewer instances than
            # desired; what it launched must still be wired like the rest.
            for i in group["Instances"]:
                assert i["LaunchTemplate"]["LaunchTemplateId"] == template["LaunchTemplateId"]
            self.check_registered(tg_arn, instances, fleet.port)
            self.check_scaling_policies(fleet_name, fleet, group_name, out["alb_arn"], tg_arn)
            self.check_group_features(fleet_name, fleet, group, tg_arn, out)
        self.check_listener_rules(serving["ListenerArn"], out)
        self.check_alarms(out)

    def check_group_features(self, fleet_name: str, fleet, group: dict, tg_arn: str, out: dict) -> None:
        """Warm pool, lifecycle hooks, scheduled actions and the spot group of one fleet
        are as configured, and absent when not configured."""
        asg = self.aws.autoscaling
        name = group["AutoScalingGroupName"]
        wp = fleet.autoscaling_group.warm_pool
        pool = asg.describe_warm_pool(AutoScalingGroupName=name).get("WarmPoolConfiguration")
        if wp is None:
            assert not pool, pool
        else:
            assert pool["PoolState"] == wp.pool_state
            assert pool["MinSize"] == wp.min_size
            assert pool["InstanceReusePolicy"] == {"ReuseOnScaleIn": wp.reuse_on_scale_in}

        expected_hooks = {}
        if fleet.lifecycle_hooks.launch is not None:
            expected_hooks[LAUNCH_HOOK] = (
                "autoscaling:EC2_INSTANCE_LAUNCHING",
                fleet.effective_launch_heartbeat,
                fleet.lifecycle_hooks.launch.default_result,
            )
        if fleet.lifecycle_hooks.termination is not None:
            expected_hooks[TERMINATION_HOOK] = (
                "autoscaling:EC2_INSTANCE_TERMINATING",
                fleet.effective_termination_heartbeat,
                fleet.lifecycle_hooks.termination.default_result,
            )

        def hooks_of(group_name: str) -> dict:
            return {
                h["LifecycleHookName"]: (h["LifecycleTransition"], h["HeartbeatTimeout"], h["DefaultResult"])
                for h in asg.describe_lifecycle_hooks(AutoScalingGroupName=group_name)["LifecycleHooks"]
            }

        assert hooks_of(name) == expected_hooks

        actions = {
            a["ScheduledActionName"]: a
            for a in asg.describe_scheduled_actions(AutoScalingGroupName=name)["ScheduledUpdateGroupActions"]
        }
        assert sorted(actions) == sorted(f"{fleet_name}-{n}" for n in fleet.scaling.scheduled_actions)
        for n, want in fleet.scaling.scheduled_actions.items():
            got = actions[f"{fleet_name}-{n}"]
            assert (got["Recurrence"], got["TimeZone"]) == (want.recurrence, want.time_zone)
            if want.min_size is not None:
                assert got["MinSize"] == want.min_size

        spot = fleet.spot_autoscaling_group
        spot_name = out.get(f"{fleet_name}_spot_autoscaling_group_name")
        if spot is None:
            assert spot_name is None
            return
        assert spot_name == f"{self.cfg.name}-{fleet_name}-spot"
        [g] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[spot_name])["AutoScalingGroups"]
        assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (
            spot.min_size,
            spot.max_size,
            spot.effective_desired_capacity,
        )
        assert g["TargetGroupARNs"] == [tg_arn], "the spot group serves behind the fleet's target group"
        assert g["HealthCheckType"] == fleet.autoscaling_group.health_check_type
        assert not asg.describe_warm_pool(AutoScalingGroupName=spot_name).get("WarmPoolConfiguration")
        if spot.effective_desired_capacity > 0:
            policy = g["MixedInstancesPolicy"]
            self.check_overrides(policy["LaunchTemplate"]["Overrides"], spot.overrides())
            dist = policy["InstancesDistribution"]
            assert (dist["OnDemandBaseCapacity"], dist["OnDemandPercentageAboveBaseCapacity"]) == (0, 0)
        # else: moto gap, named: a group created with desired capacity 0 comes back
        # without its mixed instances policy (see emulator.override); the synthesized
        # policy is checked in tests/synth/test_ai_features.py.
        self.check_scaling_policies(fleet_name, fleet, spot_name, out["alb_arn"], tg_arn, prefix=f"{fleet_name}-spot")
        assert hooks_of(spot_name) == expected_hooks, "the spot group passes through the same hooks"

    def check_listener_rules(self, listener_arn: str, out: dict) -> None:
        """Each non-default fleet has its rule (priority, path and host conditions,
        forward to its target group) on the serving listener, and nothing else does."""
        rules = {
            r["Priority"]: r
            for r in self.aws.elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]
            if not r["IsDefault"]
        }
        expected = {
            str(f.listener_rule.priority): (n, f.listener_rule)
            for n, f in self.cfg.fleets.items()
            if f.listener_rule is not None
        }
        assert sorted(rules) == sorted(expected)
        for priority, (fleet_name, want) in expected.items():
            rule = rules[priority]
            # AWS answers with the per-field config (PathPatternConfig, ...) and, for path
            # and host conditions, the older top-level Values too; moto only the former.
            config_key = {"path-pattern": "PathPatternConfig", "host-header": "HostHeaderConfig"}
            conditions = {
                c["Field"]: sorted(c.get(config_key.get(c["Field"], ""), {}).get("Values") or c.get("Values", []))
                for c in rule["Conditions"]
            }
            wanted = {}
            if want.path_patterns:
                wanted["path-pattern"] = sorted(want.path_patterns)
            if want.host_headers:
                wanted["host-header"] = sorted(want.host_headers)
            assert conditions == wanted
            [action] = rule["Actions"]
            self.check_route(action, fleet_name, out)

    def check_route(self, action: dict, fleet_name: str, out: dict) -> None:
        """The forward action of ``fleet_name``'s route: its target group alone, or with
        canaries sharing the route (docs/canary.md) each target group at its weight."""
        canaries = self.cfg.canaries(fleet_name)
        own = out[f"{fleet_name}_target_group_arn"]
        if not canaries:
            assert forward_target(action) == own
            return
        expected = {own: self.cfg.route_weight(fleet_name)}
        expected |= {out[f"{name}_target_group_arn"]: weight for name, weight in canaries.items()}
        assert forward_weights(action) == expected, action
        stickiness = (self.cfg.fleets[fleet_name].forward or Forward()).stickiness
        got = action["ForwardConfig"].get("TargetGroupStickinessConfig", {})
        if stickiness is not None and stickiness.enabled:
            assert (got.get("Enabled"), got.get("DurationSeconds")) == (True, stickiness.duration), got
        else:
            assert not got.get("Enabled"), got

    def check_alarms(self, out: dict) -> None:
        """Three alarms per fleet (unhealthy hosts, target 5XX, p99 response time) on the
        fleet's target group, notifying the alarm topic; none when alarms are off."""
        described = self.aws.cloudwatch.describe_alarms(AlarmNamePrefix=f"{self.cfg.name}-")["MetricAlarms"]
        alarms = {a["AlarmName"]: a for a in described}
        if not self.cfg.alarms.enabled:
            assert alarms == {}
            return
        keys = ("unhealthy-hosts", "target-5xx", "p99-response-time")
        assert sorted(alarms) == sorted(f"{self.cfg.name}-{f}-{k}" for f in self.cfg.fleets for k in keys)
        for fleet_name, fleet in self.cfg.fleets.items():
            tg_suffix = out[f"{fleet_name}_target_group_arn"].split(":")[-1]
            for key in keys:
                a = alarms[f"{self.cfg.name}-{fleet_name}-{key}"]
                assert a["Namespace"] == "AWS/ApplicationELB"
                assert {"Name": "TargetGroup", "Value": tg_suffix} in a["Dimensions"]
                assert a["AlarmActions"] == [out["alarm_topic_arn"]] == a["OKActions"]
            assert alarms[f"{self.cfg.name}-{fleet_name}-target-5xx"]["Threshold"] == fleet.alarms.target_5xx_count
        if self.cfg.alarms.sns_topic_arn is None:
            self.check_alarm_topic_lets_cloudwatch_publish(out["alarm_topic_arn"])

    def check_alarm_topic_lets_cloudwatch_publish(self, topic_arn: str) -> None:
        """The created topic is encrypted with a customer managed key (not alias/aws/sns,
        which CloudWatch cannot use), whose policy lets the CloudWatch service encrypt
        notifications, and its own policy lets CloudWatch publish (rule:
        alarm-topic-key-cloudwatch). moto evaluates neither policy: this reads what AWS
        would evaluate."""
        attrs = self.aws.sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        key_id = attrs["KmsMasterKeyId"]
        assert not key_id.startswith("alias/aws/")
        key = self.aws.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert key["KeyManager"] == "CUSTOMER" and key["KeyState"] == "Enabled"
        policy = json.loads(self.aws.kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
        service = {"Service": "cloudwatch.amazonaws.com"}
        cloudwatch = [s for s in policy["Statement"] if s.get("Principal") == service]
        assert [sorted(s["Action"]) for s in cloudwatch if s["Effect"] == "Allow"] == [
            ["kms:Decrypt", "kms:GenerateDataKey*"]
        ]
        topic_policy = json.loads(attrs["Policy"])
        publish = [s for s in topic_policy["Statement"] if s.get("Principal") == service]
        assert [(s["Effect"], s["Action"]) for s in publish] == [("Allow", "sns:Publish")]
        assert publish[0]["Resource"] == topic_arn

    def check_target_group(self, fleet, tg_arn: str, vpc_id: str) -> None:
        elb = self.aws.elbv2
        [tg] = elb.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"]
        t, hc = fleet.target_group, fleet.target_group.health_check
        assert tg["VpcId"] == vpc_id
        assert (tg["Port"], tg["Protocol"], tg["ProtocolVersion"], tg["TargetType"]) == (
            fleet.port,
            t.protocol,
            t.protocol_version,
            "instance",
        )
        assert tg["HealthCheckEnabled"] is True
        assert tg["HealthCheckPath"] == fleet.health_check_path
        assert tg["HealthCheckPort"] == "traffic-port"
        assert tg["Matcher"] == {"HttpCode": fleet.health_check_matcher}
        assert (
            tg["HealthCheckIntervalSeconds"],
            tg["HealthCheckTimeoutSeconds"],
            tg["HealthyThresholdCount"],
            tg["UnhealthyThresholdCount"],
        ) == (hc.interval, hc.timeout, hc.healthy_threshold, hc.unhealthy_threshold)
        attrs = {
            a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=tg_arn)["Attributes"]
        }
        assert attrs["deregistration_delay.timeout_seconds"] == str(fleet.effective_deregistration_delay)
        assert attrs["slow_start.duration_seconds"] == str(fleet.effective_slow_start)
        assert attrs["load_balancing.algorithm.type"] == t.load_balancing_algorithm_type
        # Gray failures: automatic target weights where the algorithm allows them.
        assert attrs.get("load_balancing.algorithm.anomaly_mitigation", "off") == (
            t.effective_anomaly_mitigation or "off"
        )
        routing = t.target_group_health.unhealthy_state_routing
        if routing is not None:
            prefix = "target_group_health.unhealthy_state_routing.minimum_healthy_targets"
            assert (attrs[f"{prefix}.count"], attrs[f"{prefix}.percentage"]) == (
                str(routing.minimum_healthy_targets_count),
                str(routing.minimum_healthy_targets_percentage),
            )

    def check_launch_template(self, fleet, template: dict) -> None:
        lt = fleet.launch_template
        [version] = self.aws.ec2.describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], Versions=[str(template["LatestVersionNumber"])]
        )["LaunchTemplateVersions"]
        data = version["LaunchTemplateData"]
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert data["MetadataOptions"]["HttpEndpoint"] == "enabled"
        assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == lt.http_put_response_hop_limit
        # The encrypted volume is the root: it sits on the AMI's own root device.
        ami = self.expected_ami(fleet)
        [image] = self.aws.ec2.describe_images(ImageIds=[ami])["Images"]
        assert lt.root_device_name in (None, image["RootDeviceName"])
        [root] = [b for b in data["BlockDeviceMappings"] if b["DeviceName"] == image["RootDeviceName"]]
        assert root["Ebs"]["Encrypted"] is True
        assert (root["Ebs"]["VolumeSize"], root["Ebs"]["VolumeType"]) == (lt.root_volume_size, lt.root_volume_type)
        assert data["ImageId"] == self.expected_ami(fleet)
        if fleet.autoscaling_group.mixed_instances_policy is None:
            assert data["InstanceType"] == lt.instance_type
        else:
            assert "InstanceType" not in data, "the mixed instances policy chooses the types"
        crs = lt.capacity_reservation_specification
        if crs is not None and crs.capacity_reservation_preference is not None:
            assert data["CapacityReservationSpecification"] == {
                "CapacityReservationPreference": crs.capacity_reservation_preference
            }
        if crs is not None and crs.capacity_reservation_target is not None:
            target = crs.capacity_reservation_target
            assert data["CapacityReservationSpecification"]["CapacityReservationTarget"] == (
                {"CapacityReservationId": target.capacity_reservation_id}
                if target.capacity_reservation_id
                else {"CapacityReservationResourceGroupArn": target.capacity_reservation_resource_group_arn}
            )
        if lt.instance_market_options is not None:  # staging's burst: a Capacity Block
            assert data["InstanceMarketOptions"]["MarketType"] == lt.instance_market_options.market_type

    @staticmethod
    def check_overrides(deployed: list[dict], overrides: list) -> None:
        """The group's overrides are the config's, in order: named types, or instance
        requirements (attribute-based selection) with their vCPU, memory and accelerator
        attributes as configured."""
        assert [o.get("InstanceType") for o in deployed] == [o.instance_type for o in overrides]
        for got, want in zip(deployed, overrides, strict=True):
            req = want.instance_requirements
            if req is None:
                assert "InstanceRequirements" not in got
                continue
            ir = got["InstanceRequirements"]
            assert ir["VCpuCount"] == {k.title(): v for k, v in req.vcpu_count.model_dump(exclude_none=True).items()}
            assert ir["MemoryMiB"]["Min"] == req.memory_mib.min
            assert ir.get("AcceleratorManufacturers", []) == req.accelerator_manufacturers
            if req.accelerator_count is not None:
                assert ir["AcceleratorCount"] == {
                    k.title(): v for k, v in req.accelerator_count.model_dump(exclude_none=True).items()
                }

    def expected_ami(self, fleet) -> str:
        lt = fleet.launch_template
        if lt.image_id:
            return lt.image_id
        return self.aws.ssm.get_parameter(Name=lt.image_ssm_parameter)["Parameter"]["Value"]

    def check_registered(self, tg_arn: str, instances: list[str], port: int) -> None:
        targets = self.aws.elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        assert sorted(t["Target"]["Id"] for t in targets) == sorted(instances)
        assert {t["Target"]["Port"] for t in targets} == ({port} if instances else set())

    def check_scaling_policies(self, fleet_name, fleet, group_name, alb_arn, tg_arn, prefix: str | None = None) -> None:
        """The group's target tracking policies, named ``<prefix>-<policy>`` (prefix: the
        fleet name, or ``<fleet>-spot`` for its spot group)."""
        prefix = prefix or fleet_name
        policies = {
            p["PolicyName"]: p
            for p in self.aws.autoscaling.describe_policies(AutoScalingGroupName=group_name)["ScalingPolicies"]
        }
        s = fleet.scaling
        expected = {}
        if s.request_count_per_target is not None:
            label = f"{alb_arn.split(':loadbalancer/')[1]}/{tg_arn.split(':')[-1]}"
            expected[f"{prefix}-request-count-per-target"] = (
                "ALBRequestCountPerTarget",
                label,
                s.request_count_per_target,
            )
        if s.cpu_utilization is not None:
            expected[f"{prefix}-cpu-utilization"] = ("ASGAverageCPUUtilization", None, s.cpu_utilization)
        custom = None
        if s.custom_metric is not None:
            custom = f"{prefix}-{s.custom_metric.metric_name.replace('_', '-')[:64]}"
        queue = f"{prefix}-queue-depth" if fleet.queue_metric is not None else None
        assert sorted(policies) == sorted([*expected, *([custom] if custom else []), *([queue] if queue else [])])
        if queue:
            tt = policies[queue]["TargetTrackingConfiguration"]
            spec = tt["CustomizedMetricSpecification"]
            assert (spec["Namespace"], spec["MetricName"], spec["Statistic"]) == (*fleet.queue_metric, "Average")
            assert spec["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": group_name}]
            assert tt["TargetValue"] == s.queue_depth.target_value
        if custom:
            tt = policies[custom]["TargetTrackingConfiguration"]
            spec = tt["CustomizedMetricSpecification"]
            assert (spec["Namespace"], spec["MetricName"]) == (s.custom_metric.namespace, s.custom_metric.metric_name)
            assert {"Name": "AutoScalingGroupName", "Value": group_name} in spec["Dimensions"]
            assert tt["TargetValue"] == s.custom_metric.target_value
        for name, (metric, label, target) in expected.items():
            p = policies[name]
            assert p["PolicyType"] == "TargetTrackingScaling"
            tt = p["TargetTrackingConfiguration"]
            assert tt["PredefinedMetricSpecification"]["PredefinedMetricType"] == metric
            assert tt["PredefinedMetricSpecification"].get("ResourceLabel") == label
            assert tt["TargetValue"] == target
            assert tt.get("DisableScaleIn", False) == s.disable_scale_in

    # Step 4 -------------------------------------------------------------------------
    def change_port(self) -> None:
        fleet_name = self.cfg.default_fleet
        old_port = self.cfg.fleets[fleet_name].port
        old_tg = self.deployed[f"{fleet_name}_target_group_arn"]
        new_port = old_port + 80
        unprotect = self.cfg.deletion_protection

        def set_port(data):
            data["fleets"][fleet_name].setdefault("target_group", {})["port"] = new_port
            if unprotect:  # for step 7 (see the module docstring)
                data["load_balancer"]["enable_deletion_protection"] = False

        self.edit_config(set_port)
        before = self.stack
        self.synth()
        # The scaling policy's resource label names the target group, so this plan
        # updates the policy: let it drop moto's invented predictive block too (moto
        # gap, see emulator.override).
        write_override(self.stack_dir, self.server.endpoint, ignore_predictive_scaling=False)
        # A ResourceInUse (the old group deleted while the listener uses it) or a
        # DuplicateTargetGroupName (a fixed name) fails this apply.
        changes = self.plan_and_apply()
        write_override(self.stack_dir, self.server.endpoint)
        self.check_port_change_plan(before, fleet_name, changes)

        out = self.outputs()
        new_tg = out[f"{fleet_name}_target_group_arn"]
        assert new_tg != old_tg
        elb = self.aws.elbv2
        [tg] = elb.describe_target_groups(TargetGroupArns=[new_tg])["TargetGroups"]
        assert tg["Port"] == new_port
        with pytest.raises(ClientError) as gone:
            elb.describe_target_groups(TargetGroupArns=[old_tg])
        assert gone.value.response["Error"]["Code"] == "TargetGroupNotFound"
        [forward] = elb.describe_listeners(ListenerArns=[self.serving_listener_arn])["Listeners"][0]["DefaultActions"]
        assert new_tg in forward_weights(forward)
        group_name = out[f"{fleet_name}_autoscaling_group_name"]
        [group] = self.aws.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])[
            "AutoScalingGroups"
        ]
        assert group["TargetGroupARNs"] == [new_tg]
        self.check_registered(new_tg, [i["InstanceId"] for i in group["Instances"]], new_port)
        spot_name = out.get(f"{fleet_name}_spot_autoscaling_group_name")
        if spot_name:
            [spot] = self.aws.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[spot_name])[
                "AutoScalingGroups"
            ]
            assert spot["TargetGroupARNs"] == [new_tg]
        fleet = self.cfg.fleets[fleet_name]
        self.check_target_group(fleet, new_tg, tg["VpcId"])
        self.check_scaling_policies(fleet_name, fleet, group_name, out["alb_arn"], new_tg)
        attrs = elb.describe_load_balancer_attributes(LoadBalancerArn=out["alb_arn"])["Attributes"]
        assert {a["Key"]: a["Value"] for a in attrs}["deletion_protection.enabled"] == "false"
        self.deployed = out

    def check_port_change_plan(self, before: dict, fleet_name: str, changes: dict[str, str]) -> None:
        """The port change's plan, from what the re-synthesis changed: the fleet's target
        group is replaced; every resource that refers to it (listener or rule, its groups,
        their scaling policies, alarms) and every resource whose synthesized body
        changed (security group rules on the port; prod's ALB and log bucket, whose
        deletion protection went off) is updated in place; nothing else changes."""
        tg_name = f"fleet-{fleet_name}-tg_target_group"
        tg = f"aws_lb_target_group.{tg_name}"
        bodies = {
            f"{rtype}.{name}": (body, before.get("resource", {}).get(rtype, {}).get(name))
            for rtype, items in self.stack["resource"].items()
            for name, body in items.items()
        }
        refers = {a for a, (body, _) in bodies.items() if f"${{{tg}." in json.dumps(body)}
        edited = {a for a, (body, old) in bodies.items() if body != old}
        assert tg in edited, f"{tg} not in {sorted(edited)}"
        full = json.dumps(changes, indent=1, sort_keys=True)
        for addr in bodies:
            if addr == tg:
                assert changes.get(addr) == "replace", full
            elif addr in refers or addr in edited:
                assert changes.get(addr) == "update", f"{addr}:\n{full}"
            elif addr.startswith("aws_autoscaling_policy."):
                # moto gap, named: this plan also drops the predictive scaling block moto
                # invents for every target tracking policy (see emulator.override).
                assert changes.get(addr) in (None, "update"), f"{addr}:\n{full}"
            else:
                assert addr not in changes, f"{addr} changes but neither refers to {tg} nor was edited:\n{full}"
        assert set(changes) <= set(bodies), full

    # Step 5 -------------------------------------------------------------------------
    def launch_template_spec(self, group: dict) -> dict:
        if "MixedInstancesPolicy" in group:
            return group["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]
        return group["LaunchTemplate"]

    def change_ami(self) -> None:
        asg, ec2 = self.aws.autoscaling, self.aws.ec2
        before = {}
        for fleet_name in self.cfg.fleets:
            [g] = asg.describe_auto_scaling_groups(
                AutoScalingGroupNames=[self.deployed[f"{fleet_name}_autoscaling_group_name"]]
            )["AutoScalingGroups"]
            # Read the template from EC2, not from the group: moto gap, named: an
            # UpdateAutoScalingGroup call without MixedInstancesPolicy (step 4's) makes
            # moto drop the group's policy (AWS keeps it); this step's update sends it
            # again and the checks below require it back.
            [lt] = [
                t
                for t in ec2.describe_launch_templates()["LaunchTemplates"]
                if t["LaunchTemplateName"].startswith(f"{self.cfg.name}-{fleet_name}-")
            ]
            before[fleet_name] = (g["AutoScalingGroupARN"], lt["LaunchTemplateId"], lt["LatestVersionNumber"])
        new_amis = {}
        if self.cfg.network.create_vpc is None:
            # A new image is published to the parameter the config names (the way AWS
            # releases new Deep Learning AMIs): no config change, the plan reads it.
            new_amis = dict.fromkeys(self.cfg.fleets, self.amis[1])
            self.aws.ssm.put_parameter(
                Name=PROD_AMI_PARAMETER, Value=self.amis[1], Type="String", DataType="aws:ec2:image", Overwrite=True
            )
        else:
            # The config pins another AMI.
            current = {name: self.expected_ami(f) for name, f in self.cfg.fleets.items()}
            other = next(a for a in known_amis(self.aws, 3) if a not in current.values())
            new_amis = dict.fromkeys(self.cfg.fleets, other)

            def pin(data):
                for name in data["fleets"]:
                    data["fleets"][name]["launch_template"].pop("image_ssm_parameter", None)
                    data["fleets"][name]["launch_template"]["image_id"] = new_amis[name]

            self.edit_config(pin)
            self.synth()
        changes = self.plan_and_apply()
        groups = [
            f"aws_autoscaling_group.{name}"
            for name, asg in self.stack["resource"]["aws_autoscaling_group"].items()
            # moto gap, named: a group created with desired capacity 0 has no mixed
            # instances policy in moto, so the override ignores the policy and with it
            # the template version (see emulator.override): no update is planned there.
            if not mixed_policy_dropped(asg)
        ]
        expected = dict.fromkeys(self.addresses("aws_launch_template") + groups, "update")
        assert changes == expected, (
            f"an AMI change must update only the launch template and the group in place: {changes}"
        )
        for fleet_name in self.cfg.fleets:
            arn, lt_id, version = before[fleet_name]
            [g] = asg.describe_auto_scaling_groups(
                AutoScalingGroupNames=[self.deployed[f"{fleet_name}_autoscaling_group_name"]]
            )["AutoScalingGroups"]
            assert g["AutoScalingGroupARN"] == arn, "the group was replaced"
            if self.cfg.fleets[fleet_name].autoscaling_group.mixed_instances_policy is not None:
                assert "MixedInstancesPolicy" in g and "LaunchTemplate" not in g
            spec = self.launch_template_spec(g)
            assert spec["LaunchTemplateId"] == lt_id
            assert int(spec["Version"]) == version + 1
            [v] = ec2.describe_launch_template_versions(LaunchTemplateId=lt_id, Versions=[spec["Version"]])[
                "LaunchTemplateVersions"
            ]
            assert v["LaunchTemplateData"]["ImageId"] == new_amis[fleet_name]
            assert v["DefaultVersion"] is True

    # Step 6 -------------------------------------------------------------------------
    def change_desired_capacity(self) -> None:
        assert all(f.scaling.has_target_tracking for f in self.cfg.fleets.values()), "examples scale with a policy"
        old = {n: f.autoscaling_group.effective_desired_capacity for n, f in self.cfg.fleets.items()}

        def bump(data):
            for name in data["fleets"]:
                data["fleets"][name]["autoscaling_group"]["desired_capacity"] = old[name] + 1

        self.edit_config(bump)
        self.synth()
        groups = self.stack["resource"]["aws_autoscaling_group"]
        for name in self.cfg.fleets:
            assert groups[f"fleet-{name}_autoscaling_group"]["desired_capacity"] == old[name] + 1
        code, changes = self.plan()
        assert code == 0, f"desired_capacity is owned by the scaling policy: {changes}\n{self.human_plan()}"
        for fleet_name in self.cfg.fleets:
            [g] = self.aws.autoscaling.describe_auto_scaling_groups(
                AutoScalingGroupNames=[self.deployed[f"{fleet_name}_autoscaling_group_name"]]
            )["AutoScalingGroups"]
            assert g["DesiredCapacity"] == old[fleet_name]

    # Step 7 -------------------------------------------------------------------------
    def destroy(self) -> None:
        self.tf("destroy", "-auto-approve", "-no-color", "-input=false")
        aws = self.aws
        assert aws.elbv2.describe_load_balancers()["LoadBalancers"] == []
        assert aws.elbv2.describe_target_groups()["TargetGroups"] == []
        assert aws.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
        assert aws.autoscaling.describe_policies()["ScalingPolicies"] == []
        assert aws.ec2.describe_launch_templates()["LaunchTemplates"] == []
        states = {
            i["InstanceId"]: i["State"]["Name"]
            for r in aws.ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
        }
        assert set(states.values()) <= {"terminated", "shutting-down"}, states
        roles = [r["RoleName"] for r in aws.iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{self.name}-")]
        assert roles == []
        assert [p["InstanceProfileName"] for p in aws.iam.list_instance_profiles()["InstanceProfiles"]] == []
        groups = [g for g in aws.ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"]
        assert groups == [], [g["GroupName"] for g in groups]
        if self.cfg.network.create_vpc is not None:
            cidrs = [v["CidrBlock"] for v in aws.ec2.describe_vpcs()["Vpcs"]]
            assert self.cfg.network.create_vpc.cidr_block not in cidrs
            nat = [n["NatGatewayId"] for n in aws.ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"]
            assert nat == []
            assert aws.ec2.describe_addresses()["Addresses"] == []
            assert aws.logs.describe_log_groups()["logGroups"] == []
        else:
            # Existing network is not the stack's to destroy.
            vpc = self.existing["vpc_id"]
            assert [v["VpcId"] for v in aws.ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]
            subnets = self.existing["public_subnet_ids"] + self.existing["private_subnet_ids"]
            assert len(aws.ec2.describe_subnets(SubnetIds=subnets)["Subnets"]) == len(subnets)


@pytest.fixture(scope="module")
def lifecycles(request, emulators, tmp_path_factory):
    """Starts the scenario of every selected example at once, each in a thread with
    its own moto server; yields ``(futures by name, progress line queue)``."""
    wanted = sorted(
        {
            item.callspec.params["name"]
            for item in request.session.items
            if item.module is request.module and hasattr(item, "callspec")
        }
    )
    events: queue.Queue = queue.Queue()
    start = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="e2e")
    futures: dict[str, Future] = {}
    for name in wanted:
        scenario = Lifecycle(name, tmp_path_factory.mktemp(f"e2e-{name}"), emulators(name), events)
        futures[name] = pool.submit(scenario.run)
    yield futures, events
    pool.shutdown(wait=True, cancel_futures=True)
    ok = all(f.done() and f.exception() is None for f in futures.values())
    STEP_TIMES.append(("+".join(wanted), "wall time, run concurrently", time.monotonic() - start, ok))


@pytest.mark.parametrize("name", NAMES)
def test_lifecycle(name, lifecycles, capsys):
    futures, events = lifecycles
    future = futures[name]
    while True:
        try:
            line = events.get(timeout=0.5)
        except queue.Empty:
            if future.done():
                break
            continue
        with capsys.disabled():
            print(line, flush=True)
    future.result()
