"""Change-safety steps of the end-to-end lifecycle (tests/e2e/test_lifecycle.py): config
changes applied to (or refused on) a running example stack on the emulator, each
checked in the plan's actions and in the emulator's state afterwards.

- refused at plan, nothing changed: flipping ``load_balancer.internal`` (AWS cannot
  change a load balancer's scheme), ``terraform plan -destroy`` of a protected stack
  (``prevent_destroy``), a warm pool's ``min_size`` lowered to 0 and a mixed instances
  policy in place of a warm pool in one apply (provider bugs #44732 and #42437);
- applied in place: lifecycle hooks added to a running group, a model load time change
  on a fleet with hooks (their timeouts), a health check path the script does not read
  (only the target group changes), and the warm pool to mixed instances move in its two
  safe applies;
- kept: sizes a scheduled action set survive a re-plan;
- a tainted group is planned create-before-destroy;
- the canary promotion flow of docs/canary.md on the default route: a candidate fleet
  added at weight 0, raised to 10 and 50, promoted, the old fleet removed; each step's
  plan classified by the change-effects tool (tests/change_words.py) and the weights
  read back from the emulator's listener.

Emulator gaps worked around here, each by name where it applies: moto never runs
scheduled actions (the test makes the group change a firing action would make), and
CreateAutoScalingGroup in moto overwrites a group of the same name where AWS answers
``AlreadyExists`` (so the tainted group's replacement is checked in the plan, not
applied).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

#: Actions a plan may never take on these resource types for a config change.
SERVING_TYPES = ("aws_autoscaling_group", "aws_lb", "aws_lb_listener", "aws_lb_target_group")


class ChangeSteps:
    """Mixed into ``Lifecycle``: uses its ``cfg``, ``aws``, ``stack``, ``deployed``,
    ``edit_config``, ``synth``, ``tf``, ``plan`` and ``plan_and_apply``."""

    # Helpers --------------------------------------------------------------------------
    def refused_plan(self, *needles: str, args: tuple[str, ...] = ()) -> str:
        """Runs ``terraform plan`` (plus ``args``), which must fail; returns its output
        after checking that every one of ``needles`` is in it."""
        result = self.tf("plan", "-no-color", "-input=false", *args, ok=(1,))
        text = result.stdout + result.stderr
        flat = " ".join(text.split())  # Terraform wraps long messages
        for needle in needles:
            assert needle in flat, f"{needle!r} not in the refused plan:\n{text[-6000:]}"
        return text

    def snapshot(self) -> dict:
        """What serving depends on, from the emulator: the ALB, its listeners and rules,
        every group with its instances, hooks and warm pool."""
        elb, asg = self.aws.elbv2, self.aws.autoscaling
        [lb] = elb.describe_load_balancers()["LoadBalancers"]
        listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        groups = {}
        for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
            name = g["AutoScalingGroupName"]
            groups[name] = {
                "arn": g["AutoScalingGroupARN"],
                "instances": sorted(i["InstanceId"] for i in g["Instances"]),
                "sizes": (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]),
                "hooks": sorted(
                    (h["LifecycleHookName"], h["HeartbeatTimeout"])
                    for h in asg.describe_lifecycle_hooks(AutoScalingGroupName=name)["LifecycleHooks"]
                ),
                "warm_pool": asg.describe_warm_pool(AutoScalingGroupName=name).get("WarmPoolConfiguration"),
            }
        return {
            "alb": (lb["LoadBalancerArn"], lb.get("Scheme"), lb["DNSName"]),
            "listeners": sorted(
                (ls["ListenerArn"], json.dumps(ls["DefaultActions"], sort_keys=True)) for ls in listeners
            ),
            "rules": sorted(
                r["RuleArn"] for ls in listeners for r in elb.describe_rules(ListenerArn=ls["ListenerArn"])["Rules"]
            ),
            "groups": groups,
        }

    def assert_serving_kept(self, changes: dict[str, str]) -> None:
        """No load balancer, listener, target group or group is replaced or deleted."""
        bad = {a: c for a, c in changes.items() if a.split(".")[0] in SERVING_TYPES and c not in ("update", "no-op")}
        assert not bad, f"serving resources replaced or deleted: {bad}\n{json.dumps(changes, indent=1)}"

    def revert(self, data: dict) -> None:
        """Puts the config copy back to ``data`` and synthesizes it again."""
        self.edit_config(lambda current: (current.clear(), current.update(data)))
        self.synth()

    # Refused at plan, before anything changes -----------------------------------------
    def refuse_scheme_flip_and_protected_destroy(self) -> None:
        """rule: load-balancer-scheme-fixed. Flipping ``load_balancer.internal`` on the
        deployed stack stops the plan with the field and the safe steps; nothing in the
        emulator changes. A stack with deletion protection cannot even plan a destroy
        (``prevent_destroy``): AWS would refuse to delete the ALB only after its
        listeners and rules were gone. A created network refuses a new CIDR block and a
        change of its AZs that moves subnets."""
        original = self.config_data()
        before = self.snapshot()
        flipped = not self.cfg.load_balancer.internal

        def flip(data: dict) -> None:
            data["load_balancer"]["internal"] = flipped

        self.edit_config(flip)
        self.synth()
        self.refused_plan(
            "load_balancer.internal: the deployed load balancer",
            "AWS cannot change a load balancer's scheme",
            f"with internal: {str(flipped).lower()}",
        )
        self.revert(original)
        if self.cfg.deletion_protection:
            self.refused_plan("Instance cannot be destroyed", "prevent_destroy", args=("-destroy",))
        created = self.cfg.network.create_vpc
        if created is not None:
            # rule: vpc-cidr-fixed, rule: subnet-cidr-fixed. A created network's CIDR, and
            # another AZ (which moves the private subnets' CIDRs), would replace the VPC or
            # subnets everything runs in.
            zones = [z["ZoneName"] for z in self.aws.ec2.describe_availability_zones()["AvailabilityZones"]]
            extra = next(z for z in zones if z not in created.availability_zones)
            for change, needle in (
                (
                    lambda d: d["network"]["create_vpc"].update(cidr_block="10.99.0.0/16"),
                    "cidr_block: the deployed VPC",
                ),
                (
                    lambda d: d["network"]["create_vpc"]["availability_zones"].append(extra),
                    "would get another CIDR block",
                ),
            ):
                self.edit_config(change)
                self.synth()
                self.refused_plan(needle, "AWS cannot change")
                self.revert(original)
        assert self.snapshot() == before, "a refused plan changed the deployed stack"

    def refuse_warm_pool_changes(self, fleet_name: str) -> None:
        """rule: warm-pool-min-size-zero-two-steps and
        rule: warm-pool-to-mixed-instances-two-steps, on a group with a warm pool of
        ``min_size`` > 0: lowering it to 0 would never take effect, and a mixed instances
        policy replacing the pool in one apply would fail half-way; both stop the plan."""
        original = self.config_data()
        before = self.snapshot()
        group = f"{self.cfg.name}-{fleet_name}"
        assert (before["groups"][group]["warm_pool"] or {}).get("MinSize", 0) > 0

        def to_zero(data: dict) -> None:
            data["fleets"][fleet_name]["autoscaling_group"]["warm_pool"]["min_size"] = 0

        self.edit_config(to_zero)
        self.synth()
        self.refused_plan(
            f"fleets.{fleet_name}.autoscaling_group.warm_pool.min_size: the deployed warm pool of {group}",
            "#44732",
        )
        self.revert(original)
        self.edit_config(lambda data: self.to_mixed_instances(data, fleet_name, keep_warm_pool=False))
        self.synth()
        self.refused_plan(
            f"fleets.{fleet_name}.autoscaling_group.mixed_instances_policy: the deployed group {group} has a warm pool",
            "#42437",
        )
        self.revert(original)
        assert self.snapshot() == before, "a refused plan changed the deployed stack"

    # Applied in place ------------------------------------------------------------------
    def change_health_check_path(self, fleet_name: str, path: str) -> None:
        """A health check path the fleet's script does not read changes the target group
        in place and nothing else: the user data (only the FLEET_* values a script names
        are set) and so the launch template and the instances stay as they are."""
        before = self.snapshot()

        def set_path(data: dict) -> None:
            data["fleets"][fleet_name].setdefault("target_group", {}).setdefault("health_check", {})["path"] = path

        self.edit_config(set_path)
        self.synth()
        changes = self.plan_and_apply()
        assert changes == {f"aws_lb_target_group.fleet-{fleet_name}-tg_target_group": "update"}, changes
        [tg] = self.aws.elbv2.describe_target_groups(TargetGroupArns=[self.deployed[f"{fleet_name}_target_group_arn"]])[
            "TargetGroups"
        ]
        assert tg["HealthCheckPath"] == path
        assert self.snapshot()["groups"] == before["groups"], "the groups or their instances changed"

    def add_lifecycle_hooks(self, fleet_name: str) -> None:
        """Hooks added to a running group are put in place (PutLifecycleHook): the group
        is not replaced (its instances stay) and the hooks are there afterwards."""
        before = self.snapshot()
        group = f"{self.cfg.name}-{fleet_name}"
        assert before["groups"][group]["hooks"] == []

        def hooks(data: dict) -> None:
            data["fleets"][fleet_name]["lifecycle_hooks"] = {"launch": {}, "termination": {}}

        self.edit_config(hooks)
        self.synth()
        changes = self.plan_and_apply()
        self.assert_serving_kept(changes)
        hook = "aws_autoscaling_lifecycle_hook.fleet-{}_{}"
        assert changes[hook.format(fleet_name, "launch_hook")] == "create"
        assert changes[hook.format(fleet_name, "termination_hook")] == "create"
        after = self.snapshot()["groups"][group]
        assert (after["arn"], after["instances"]) == (
            before["groups"][group]["arn"],
            before["groups"][group]["instances"],
        )
        fleet = self.cfg.fleets[fleet_name]
        assert after["hooks"] == sorted(
            [("drain", fleet.effective_termination_heartbeat), ("model-ready", fleet.effective_launch_heartbeat)]
        )

    def change_model_load_time(self, fleet_name: str, seconds: int) -> None:
        """On a fleet with hooks, ``model_load_seconds`` sets the launch hook's timeout:
        the hooks are updated in place on every group of the fleet, and no group is
        replaced (before: the provider replaced a group whose initial_lifecycle_hook
        changed, terminating every instance first)."""
        before = self.snapshot()

        def load(data: dict) -> None:
            data["fleets"][fleet_name]["model_load_seconds"] = seconds

        self.edit_config(load)
        self.synth()
        changes = self.plan_and_apply()
        self.assert_serving_kept(changes)
        assert changes[f"aws_autoscaling_lifecycle_hook.fleet-{fleet_name}_launch_hook"] == "update", changes
        heartbeat = self.cfg.fleets[fleet_name].effective_launch_heartbeat
        after = self.snapshot()["groups"]
        group_name = f"{self.cfg.name}-{fleet_name}"
        for name, group in before["groups"].items():
            # The fleet's groups only (its spot group too), not another fleet whose name
            # starts with this one's (prod-multi's canary chatnext).
            if name in (group_name, f"{group_name}-spot"):
                assert (after[name]["arn"], after[name]["instances"]) == (group["arn"], group["instances"])
                assert ("model-ready", heartbeat) in after[name]["hooks"], after[name]["hooks"]

    def keep_scheduled_sizes(self, fleet_name: str) -> None:
        """After a scheduled action raised ``min_size`` (and with it the desired
        capacity), the next plan leaves both as they are; so it does after the action
        that lowers them again. moto gap, named: moto never runs scheduled actions, so
        the test makes the changes the firing actions make. Run before any launch
        template update: moto fails to launch from a later template version that has
        user data (another named gap)."""
        actions = self.cfg.fleets[fleet_name].scaling.scheduled_actions
        sizes = sorted({a.min_size for a in actions.values() if a.min_size is not None})
        group = f"{self.cfg.name}-{fleet_name}"
        for size in (sizes[-1], sizes[0]):  # the morning action, then the evening one
            self.aws.autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=group, MinSize=size, DesiredCapacity=size
            )
            code, changes = self.plan()
            assert code == 0, f"a plan would set back what the schedule set: {changes}\n{self.human_plan()}"
            assert self.snapshot()["groups"][group]["sizes"][0] == size

    def warm_pool_to_mixed_instances(self, fleet_name: str) -> None:
        """The safe way from a warm pool to a mixed instances policy: remove the pool and
        apply (the group stays, its instances serve on), then add the policy and apply."""
        group = f"{self.cfg.name}-{fleet_name}"
        before = self.snapshot()["groups"][group]

        def no_pool(data: dict) -> None:
            data["fleets"][fleet_name]["autoscaling_group"].pop("warm_pool")

        self.edit_config(no_pool)
        self.synth()
        changes = self.plan_and_apply()
        self.assert_serving_kept(changes)
        after = self.snapshot()["groups"][group]
        assert after["warm_pool"] is None and after["arn"] == before["arn"]
        self.edit_config(lambda data: self.to_mixed_instances(data, fleet_name, keep_warm_pool=False))
        self.synth()
        changes = self.plan_and_apply()
        self.assert_serving_kept({a: c for a, c in changes.items() if "spot_autoscaling_group" not in a})
        [g] = self.aws.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"]
        assert g["AutoScalingGroupARN"] == before["arn"] and "MixedInstancesPolicy" in g

    def taint_plans_create_before_destroy(self, fleet_name: str) -> None:
        """A tainted group (its create failed, for instance waiting for capacity) is
        planned create-before-destroy: with the fixed name AWS refuses the create
        (AlreadyExists) before the serving group is deleted. moto gap, named: moto's
        CreateAutoScalingGroup overwrites a group of the same name, so the replacement
        is checked in the plan and not applied."""
        address = f"aws_autoscaling_group.fleet-{fleet_name}_autoscaling_group"
        self.tf("taint", "-no-color", address)
        try:
            result = self.tf("plan", "-json", "-input=false", "-refresh=false", "-detailed-exitcode", ok=(2,))
            [change] = [
                json.loads(line)["change"]
                for line in result.stdout.splitlines()
                if line.startswith("{")
                and json.loads(line).get("type") == "planned_change"
                and json.loads(line)["change"]["resource"]["addr"] == address
            ]
            assert change["action"] == "replace" and change.get("reason") == "tainted", change
            show = self.tf("plan", "-no-color", "-input=false", "-refresh=false", "-detailed-exitcode", ok=(2,)).stdout
            assert f"{address} is tainted, so must be replaced" in show, show[-4000:]
            assert '+/- resource "aws_autoscaling_group"' in show, show[-4000:]
        finally:
            self.tf("untaint", "-no-color", address)

    def check_change_effects(self) -> None:
        """The fast subset of tests/change_effects.py (its ``FAST_KEYS``) measured
        against this deployed stack and compared with docs/change-effects.json: fails
        when the document is stale for them, or when one replaces what serves by
        deleting it first. The tool runs in a process of its own (it synthesizes
        in-process, and the jsii runtime is not for several threads)."""
        import subprocess
        import sys

        from change_effects import FAST_KEYS
        from helpers import ROOT, env

        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "tests" / "change_effects.py"),
                "--check",
                "--attach",
                self.name,
                str(self.project),
                self.server.endpoint,
                "--keys",
                *FAST_KEYS,
            ],
            env=env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, (
            "docs/change-effects.md is stale for the fast subset (run make change-effects), or a key replaces "
            f"what serves by deleting it first:\n{result.stderr[-6000:]}\n{result.stdout[-3000:]}"
        )

    # Canary promotion (docs/canary.md) ------------------------------------------------
    def classified_step(self, key: str, change: str) -> dict[str, str]:
        """Synthesizes the edited config, plans it (``plan -out``), classifies the plan
        with the change-effects tool (tests/change_words.py: the stack was converged
        before, so the baseline is empty), asserts the tool's gate (no serving resource
        replaced by deleting it first), applies the plan and returns each planned
        resource's action in the tool's words. The step's effect is recorded in
        ``self.canary_effects`` (docs/canary.md reports them)."""
        from change_words import classify, plan_changes

        self.synth()
        code, _ = self.plan()
        assert code == 2, f"{change}: the plan changes nothing"
        changes = plan_changes(json.loads(self.tf("show", "-json", "tfplan").stdout))
        effect = classify(key, self.name, None, change, "planned", changes, {}, self.stack)
        assert not effect.destroys_serving_first(), f"{change}: {effect.summary}\n{effect.resources}"
        self.canary_effects = [*getattr(self, "canary_effects", []), (change, effect.effect, effect.summary)]
        self.events.put(f"[e2e {self.name}] canary step {change}: {effect.effect}: {effect.summary}")
        self.apply()
        return effect.resources

    def route_weights(self, listener_arn: str) -> dict[str, int]:
        """The serving listener's default action as the emulator describes it: target
        group weight by fleet name (read through the stack outputs)."""
        names = {arn: key.removesuffix("_target_group_arn") for key, arn in self.outputs().items()}
        names = {arn: name for arn, name in names.items() if isinstance(arn, str) and ":targetgroup/" in arn}
        [action] = self.aws.elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]["DefaultActions"]
        assert action["Type"] == "forward", action
        if "ForwardConfig" not in action:
            return {names[action["TargetGroupArn"]]: 1}
        return {names[t["TargetGroupArn"]]: t["Weight"] for t in action["ForwardConfig"]["TargetGroups"]}

    def canary_promotion(self, current: str, candidate: str) -> None:
        """rule: forward-weights. The promotion flow of docs/canary.md on the default
        route of the serving listener, each step planned, classified and applied:

        1. the candidate fleet (a copy of ``current``) added with ``canary: {of:
           current}`` at the default weight 0: its resources are created, the listener
           is updated in place (a weighted forward, the current fleet at 100) and
           nothing is deleted or replaced;
        2. and 3. its weight raised to 10, then 50: an in-place update of the listener
           and nothing else (ModifyListener);
        4. promoted: the candidate is the route's fleet and the old one its canary at 0
           (kept for a rollback): again only the listener changes;
        5. the old fleet removed: the listener forwards to the candidate alone (in
           place) and only the old fleet's resources are deleted, after the listener
           stopped using its target group (moto answers DeleteTargetGroup with
           ResourceInUse otherwise, as AWS does).

        After each apply the emulator's listener shows the weights, and the groups of
        the fleets that stay are the same groups (same ARN and instances)."""
        listener = self.serving_listener_arn
        address = next(
            f"aws_lb_listener.{n}"
            for n, body in self.stack["resource"]["aws_lb_listener"].items()
            if body["default_action"][0]["type"] == "forward"
        )
        group = f"{self.cfg.name}-{current}"
        kept = self.snapshot()["groups"][group]

        def add(data: dict) -> None:
            copy = json.loads(json.dumps(data["fleets"][current]))
            for key in ("default", "listener_rule", "forward"):
                copy.pop(key, None)
            copy["canary"] = {"of": current}
            data["fleets"][candidate] = copy

        self.edit_config(add)
        changes = self.classified_step(f"fleets.{candidate}.canary", "candidate added at weight 0")
        assert changes.pop(address) == "update", changes
        assert set(changes.values()) == {"create"}, changes
        assert all(candidate in a for a in changes), f"only the candidate's resources are created: {changes}"
        assert self.route_weights(listener) == {current: 100, candidate: 0}
        after = self.snapshot()["groups"][group]
        assert (after["arn"], after["instances"]) == (kept["arn"], kept["instances"])

        for weight in (10, 50):

            def raise_weight(data: dict, weight: int = weight) -> None:
                data["fleets"][candidate]["canary"]["weight"] = weight

            self.edit_config(raise_weight)
            changes = self.classified_step(f"fleets.{candidate}.canary.weight", f"weight {weight}")
            assert changes == {address: "update"}, changes
            assert self.route_weights(listener) == {current: 100 - weight, candidate: weight}

        def promote(data: dict) -> None:
            fleets = data["fleets"]
            fleets[candidate].pop("canary")
            if fleets[current].pop("default", None):
                fleets[candidate]["default"] = True
            fleets[current]["canary"] = {"of": candidate, "weight": 0}

        self.edit_config(promote)
        changes = self.classified_step(f"fleets.{candidate}.canary", "promoted (old fleet kept at weight 0)")
        assert changes == {address: "update"}, changes
        assert self.route_weights(listener) == {candidate: 100, current: 0}
        promoted = self.snapshot()["groups"][f"{self.cfg.name}-{candidate}"]

        old_tg = self.outputs()[f"{current}_target_group_arn"]
        self.edit_config(lambda data: data["fleets"].pop(current))
        changes = self.classified_step(f"fleets.{current}", "old fleet removed")
        assert changes.pop(address) == "update", changes
        assert set(changes.values()) == {"delete"}, changes
        assert all(f"-{current}" in a or f"_{current}" in a for a in changes), changes
        assert not any(candidate in a for a in changes), f"the promoted fleet's resources stay: {changes}"
        assert self.route_weights(listener) == {candidate: 1}
        with pytest.raises(ClientError):
            self.aws.elbv2.describe_target_groups(TargetGroupArns=[old_tg])
        after = self.snapshot()["groups"]
        assert group not in after
        now = after[f"{self.cfg.name}-{candidate}"]
        assert (now["arn"], now["instances"]) == (promoted["arn"], promoted["instances"])

    # Config helpers --------------------------------------------------------------------
    def config_data(self) -> dict:
        import yaml

        return yaml.safe_load(self.config_file.read_text())

    @staticmethod
    def to_mixed_instances(data: dict, fleet_name: str, *, keep_warm_pool: bool) -> None:
        """``data`` with the fleet's spot capacity in the main group's mixed instances
        policy (its spot group's instance types) instead of a spot group."""
        fleet = data["fleets"][fleet_name]
        spot = fleet.pop("spot_autoscaling_group")
        asg = fleet["autoscaling_group"]
        if not keep_warm_pool:
            asg.pop("warm_pool", None)
        asg["mixed_instances_policy"] = {
            "instance_types": spot["instance_types"],
            "on_demand_base_capacity": 1,
            "on_demand_percentage_above_base_capacity": 0,
        }
