"""Resilience figures of one synthesized stack, computed from its Terraform JSON.

Everything here reads what Terraform will build (``cdk.tf.json``), not the YAML config,
and follows the documented AWS behaviour:

- Elastic Load Balancing target group health checks: a target is marked unhealthy after
  ``unhealthy_threshold`` consecutive failed checks, one every ``interval`` seconds, a
  check failing after ``timeout`` seconds; a target that has failed checks (a model still
  loading) needs ``healthy_threshold`` consecutive passes; ``slow_start`` then ramps its
  share of requests linearly; ``deregistration_delay`` is how long a deregistering
  target keeps its in-flight requests.
- EC2 Auto Scaling: instances are balanced evenly across the group's Availability Zones;
  a launch lifecycle hook holds a new instance in ``Pending:Wait`` for up to
  ``heartbeat_timeout`` seconds before it is registered with the target group; the
  health check grace period is the time a new instance gets before failed ELB health
  checks make the group replace it; mixed instances groups launch
  ``on_demand_base_capacity`` on-demand first, then
  ``on_demand_percentage_above_base_capacity`` percent of the rest on-demand, rounding
  up in favour of on-demand; warm pool instances are pre-initialized (through the launch
  hook, if any) before they are needed.
- EC2 spot: an interrupted spot instance gets a two-minute notice.

All durations are seconds, all shares percent rounded to one decimal. Nothing depends
on resource names: resources are found by type and linked by references.
"""

from __future__ import annotations

import re
from typing import Any

from .gpu_types import TABLE_DATE, estimate_types
from .routing import listeners_and_routes, route_label, target_group_settings
from .terraform import TerraformDoc, block, blocks, boolean, ceil_div, is_literal, number, ref_to, refs

#: Seconds of notice EC2 gives before it reclaims a spot instance.
SPOT_INTERRUPTION_NOTICE_SECONDS = 120

#: hashicorp/aws default of aws_autoscaling_group.health_check_grace_period.
DEFAULT_GRACE_PERIOD = 300
#: EC2 Auto Scaling default lifecycle hook heartbeat timeout (one hour).
DEFAULT_HEARTBEAT_TIMEOUT = 3600

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"

_PRODUCTION_NAME = re.compile(r"(^|[-_])prod(uction)?($|[-_])")


def is_production_name(name: str) -> bool:
    """True for stack names that say production: ``prod``, ``prod-eu``, ``ml-production``."""
    return bool(_PRODUCTION_NAME.search(name.lower()))


def percent(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``, one decimal; 0.0 when ``whole`` is 0."""
    return round(100.0 * part / whole, 1) if whole else 0.0


def on_demand_units(capacity: int, base: int, pct_above_base: int) -> int:
    """On-demand capacity EC2 Auto Scaling runs for ``capacity`` units: the base first,
    then ``pct_above_base`` percent of the rest, rounded up in favour of on-demand."""
    above = max(0, capacity - base)
    return min(capacity, base) + ceil_div(above * pct_above_base, 100)


def _finding(fid: str, message: str, **extra: Any) -> dict:
    return {"id": fid, "message": message, **extra}


# --------------------------------------------------------------------------------------
# Fleets (one per aws_autoscaling_group)
# --------------------------------------------------------------------------------------


def serving_while_replacing(desired: int, min_healthy: float | None, max_healthy: float | None) -> int:
    """Instances of ``desired`` kept in service while Auto Scaling replaces instances.

    ``min_healthy``/``max_healthy`` are the percentages of an instance maintenance
    policy or refresh, None for a group without a maintenance policy: AWS's default for
    health check and lifetime replacements is terminate and launch, one instance at a
    time ("Instance maintenance policies", default behaviours), so one instance is
    missing until its replacement serves. With room above desired (``max_healthy``
    percent of desired, rounded up: the console's "launch before terminating" is 100/110
    for any group size) replacements launch first and ``min_healthy`` percent (rounded
    up, RefreshPreferences API reference) stays in service; without room, one instance
    at least is terminated first."""
    if not desired:
        return 0
    if min_healthy is None:
        return desired - 1
    keep = ceil_div(int(desired * min_healthy), 100)
    room = ceil_div(int(desired * (max_healthy or 100)), 100) - desired
    return min(keep, desired if room >= 1 else desired - 1)


def _alarm_metrics(tf: TerraformDoc, alarms: Any) -> list[str]:
    """``metric (alarm name)`` of each alarm an instance refresh rolls back on
    (references to ``aws_cloudwatch_metric_alarm`` or literal names)."""
    out = []
    for item in alarms if isinstance(alarms, list) else []:
        name = ref_to(item, "aws_cloudwatch_metric_alarm")
        alarm = tf.resource("aws_cloudwatch_metric_alarm", name) if name else None
        if alarm is not None:
            out.append(f"{alarm.get('metric_name')} ({alarm.get('alarm_name')})")
        else:
            out.append(str(item))
    return out


def _replacement(tf: TerraformDoc, asg: dict, desired: int, cold: int | None) -> dict:
    """Capacity kept while instances are replaced: by the instance maintenance policy
    (failed health checks of a still-serving instance's EC2 status, max instance
    lifetime, AZ rebalancing) and by an instance refresh, with its rollback alarms."""
    policy = block(asg.get("instance_maintenance_policy"))
    min_h = number(policy.get("min_healthy_percentage")) if policy else None
    max_h = number(policy.get("max_healthy_percentage")) if policy else None
    launch_first = min_h is not None and min_h >= 100 and (max_h or 0) > 100
    serving = serving_while_replacing(desired, min_h, max_h)
    out: dict[str, Any] = {
        "instance_maintenance_policy": None
        if not policy
        else {"min_healthy_percentage": min_h, "max_healthy_percentage": max_h},
        "launch_before_terminate": launch_first,
        "serving_instances": serving,
        "percent_of_desired": percent(serving, desired),
        "seconds_below_desired": 0 if serving >= desired else cold,
        "instance_refresh": None,
    }
    refresh = block(asg.get("instance_refresh"))
    if refresh:
        prefs = block(refresh.get("preferences"))
        r_min = number(prefs.get("min_healthy_percentage"))
        r_min = 90 if r_min is None else r_min  # provider and API default
        r_max = number(prefs.get("max_healthy_percentage")) or 100
        r_serving = serving_while_replacing(desired, r_min, r_max)
        alarms = _alarm_metrics(tf, block(prefs.get("alarm_specification")).get("alarms"))
        auto = bool(boolean(prefs.get("auto_rollback")))
        out["instance_refresh"] = {
            "min_healthy_percentage": r_min,
            "max_healthy_percentage": r_max,
            "serving_instances": r_serving,
            "percent_of_desired": percent(r_serving, desired),
            "auto_rollback": auto,
            "rollback_alarms": alarms,
            "bad_rollout": (
                "rolled back when an alarm fires or the refresh fails"
                if auto and alarms
                else "rolled back only when the refresh fails (instances not healthy in time)"
                if auto
                else "stopped when an alarm fires, not rolled back"
                if alarms
                else "rolled out to every instance: no alarm stops it, no rollback"
            ),
        }
    return out


def _az_impairment(tf: TerraformDoc, asg: dict, after_loss: int, desired: int) -> dict:
    """What an impaired AZ (degraded, not gone) does to the fleet: with zonal shift on
    the load balancer, traffic can be moved off it and the other AZs' instances serve
    (the AZ-loss figure); with ``balanced-best-effort`` the group launches in the other
    AZs when the impaired one cannot launch (EC2 Auto Scaling, "Availability Zone
    distribution"; ARC zonal shift for Application Load Balancers)."""
    shift = any(boolean(lb.get("enable_zonal_shift")) for lb in tf.resources("aws_lb").values())
    strategy = block(asg.get("availability_zone_distribution")).get("capacity_distribution_strategy")
    # AWS's default (EC2 Auto Scaling API reference, AvailabilityZoneDistribution).
    strategy = strategy or "balanced-best-effort"
    return {
        "zonal_shift": shift,
        "capacity_distribution_strategy": strategy,
        "serving_instances_during_zonal_shift": after_loss if shift else None,
        "percent_of_desired_during_zonal_shift": percent(after_loss, desired) if shift else None,
        "launches_in_other_azs": strategy == "balanced-best-effort",
    }


def _gray_failure(tgs: dict[str, dict], tf: TerraformDoc) -> dict:
    """Whether a target that passes health checks but fails requests keeps its share:
    automatic target weights (``weighted_random`` with anomaly mitigation on) move
    traffic away from it (ELB user guide, "Automatic target weights")."""
    raw = [tf.resources("aws_lb_target_group")[n] for n in tgs]
    algorithms = sorted({t.get("load_balancing_algorithm_type") or "round_robin" for t in raw})
    mitigated = bool(raw) and all(
        t.get("load_balancing_algorithm_type") == "weighted_random"
        and (t.get("load_balancing_anomaly_mitigation") or "off") == "on"
        for t in raw
    )
    return {"load_balancing_algorithm_types": algorithms, "anomaly_mitigation": mitigated, "mitigated": mitigated}


def _refers_to_group(value: Any, group_key: str, group_name: Any) -> bool:
    if any(r.type == "aws_autoscaling_group" and not r.data and r.name == group_key for r in refs(value)):
        return True
    return is_literal(group_name) and value == group_name


def _group_target_groups(tf: TerraformDoc, key: str, asg: dict) -> list[str]:
    names = {r.name for r in refs(asg.get("target_group_arns")) if r.type == "aws_lb_target_group" and not r.data}
    for ts in blocks(asg.get("traffic_source")):
        names |= {r.name for r in refs(ts.get("identifier")) if r.type == "aws_lb_target_group"}
    for att in tf.resources("aws_autoscaling_attachment").values():
        if _refers_to_group(att.get("autoscaling_group_name"), key, asg.get("name")):
            tg = ref_to(att.get("lb_target_group_arn"), "aws_lb_target_group")
            if tg:
                names.add(tg)
    for att in tf.resources("aws_autoscaling_traffic_source_attachment").values():
        if _refers_to_group(att.get("autoscaling_group_name"), key, asg.get("name")):
            for ts in blocks(att.get("traffic_source")):
                tg = ref_to(ts.get("identifier"), "aws_lb_target_group")
                if tg:
                    names.add(tg)
    return sorted(n for n in names if tf.resource("aws_lb_target_group", n) is not None)


def _group_hooks(tf: TerraformDoc, key: str, asg: dict) -> list[dict]:
    hooks = []
    for h in blocks(asg.get("initial_lifecycle_hook")):
        hooks.append(("initial_lifecycle_hook", h))
    for name, h in tf.resources("aws_autoscaling_lifecycle_hook").items():
        if _refers_to_group(h.get("autoscaling_group_name"), key, asg.get("name")):
            hooks.append((f"aws_autoscaling_lifecycle_hook.{name}", h))
    out = []
    for source, h in hooks:
        timeout = number(h.get("heartbeat_timeout"))
        out.append(
            {
                "source": source,
                "name": h.get("name"),
                "transition": h.get("lifecycle_transition"),
                "heartbeat_timeout": DEFAULT_HEARTBEAT_TIMEOUT if timeout is None else timeout,
                "default_result": h.get("default_result") or "ABANDON",
            }
        )
    return out


def _fleet_name(key: str, asg: dict) -> str:
    for t in blocks(asg.get("tag")):
        if t.get("key") == "fleet" and is_literal(t.get("value")):
            return str(t["value"])
    tags = asg.get("tags")
    if isinstance(tags, dict) and is_literal(tags.get("fleet")):
        return str(tags["fleet"])
    if is_literal(asg.get("name")) and asg.get("name"):
        return str(asg["name"])
    return key


def _purchase(tf: TerraformDoc, asg: dict) -> dict:
    """Instance types and the on-demand/spot split settings of a group."""
    mip = block(asg.get("mixed_instances_policy"))
    if mip:
        lt = block(mip.get("launch_template"))
        types = []
        weights = False
        attribute_based = False
        requirements: list[dict] = []
        for o in blocks(lt.get("override")):
            if o.get("instance_requirements"):
                attribute_based = True
                requirements.append(block(o["instance_requirements"]))
            if is_literal(o.get("instance_type")) and o.get("instance_type"):
                types.append(str(o["instance_type"]))
            if o.get("weighted_capacity") is not None:
                weights = True
        if not types:
            lt_name = ref_to(block(lt.get("launch_template_specification")), "aws_launch_template")
            lt_type = (tf.resource("aws_launch_template", lt_name) or {}).get("instance_type")
            if is_literal(lt_type) and lt_type:
                types.append(str(lt_type))
        dist = block(mip.get("instances_distribution"))
        base = number(dist.get("on_demand_base_capacity"))
        pct = number(dist.get("on_demand_percentage_above_base_capacity"))
        return {
            "instance_types": types,
            "attribute_based": attribute_based,
            "instance_requirements": requirements,
            "weighted": weights,
            "on_demand_base_capacity": int(base) if base is not None else 0,
            "on_demand_percentage_above_base_capacity": int(pct) if pct is not None else 100,
            "spot_allocation_strategy": dist.get("spot_allocation_strategy"),
        }
    lt_name = ref_to(asg.get("launch_template"), "aws_launch_template")
    lt = tf.resource("aws_launch_template", lt_name) or {}
    spot = block(lt.get("instance_market_options")).get("market_type") == "spot"
    lt_type = lt.get("instance_type")
    return {
        "instance_types": [str(lt_type)] if is_literal(lt_type) and lt_type else [],
        "attribute_based": bool(lt.get("instance_requirements")),
        "instance_requirements": [block(lt["instance_requirements"])] if lt.get("instance_requirements") else [],
        "weighted": False,
        "on_demand_base_capacity": 0,
        "on_demand_percentage_above_base_capacity": 0 if spot else 100,
        "spot_allocation_strategy": None,
    }


def analyze_fleet(
    tf: TerraformDoc,
    key: str,
    asg: dict,
    listeners: dict,
    routes: list[dict],
    notes: list[str],
    model_load: int | None = None,
) -> dict:
    """Figures, single points of failure and warnings of one ``aws_autoscaling_group``.

    ``listeners``/``routes`` come from :func:`listeners_and_routes`; assumptions made
    (defaults, unknown AZs) are appended to ``notes``. ``model_load`` is the fleet's
    ``model_load_seconds`` from its config when known (the JSON does not hold it): with
    ELB health checks, no launch hook and a grace period shorter than it, the group
    replaces every new instance before it serves, so there is no time to serve. Returns
    a JSON-ready dict.
    """
    name = _fleet_name(key, asg)
    where = f"fleet {name}"
    group = asg["name"] if isinstance(asg.get("name"), str) and is_literal(asg["name"]) else key
    min_size = int(number(asg.get("min_size")) or 0)
    max_size = int(number(asg.get("max_size")) or 0)
    desired = number(asg.get("desired_capacity"))
    if desired is None:
        desired = min_size
        notes.append(f"{where}: desired_capacity not set; min_size {min_size} used")
    desired = int(desired)
    if "desired_capacity" in (block(asg.get("lifecycle")).get("ignore_changes") or []):
        notes.append(
            f"{where}: a scaling policy manages the desired capacity of group {group}; figures are at "
            f"the synthesized desired capacity {desired} (after_az_loss also shown at min_size {min_size})"
        )

    # Availability Zones ---------------------------------------------------------------
    slots = tf.subnets_azs(asg.get("vpc_zone_identifier"))
    if not slots and isinstance(asg.get("availability_zones"), list):
        slots = [(str(az), is_literal(az)) for az in sorted(set(asg["availability_zones"]))]
    unknown = [k for k, known in slots if not known]
    if unknown:
        notes.append(
            f"{where}: {len(unknown)} subnet(s) given by ID ({', '.join(unknown)}); their AZs are "
            "known only at plan time (Terraform checks they span 2+ AZs), so one AZ per subnet is assumed"
        )
    n_az = max(1, len(slots))
    per_az = [desired // n_az + (1 if i < desired % n_az else 0) for i in range(n_az)]
    largest = max(per_az) if per_az else 0
    largest_at_min = ceil_div(min_size, n_az) if min_size else 0

    # Target groups and routes ---------------------------------------------------------
    tg_names = _group_target_groups(tf, key, asg)
    tgs = {n: target_group_settings(n, tf.resources("aws_lb_target_group")[n], notes) for n in tg_names}
    fleet_routes = [r for r in routes if set(r["target_groups"]) & set(tg_names)]

    # Hooks and warm pool ---------------------------------------------------------------
    hooks = _group_hooks(tf, key, asg)
    launch_hooks = [h for h in hooks if h["transition"] == LAUNCHING]
    term_hooks = [h for h in hooks if h["transition"] == TERMINATING]
    warm = block(asg.get("warm_pool"))

    # Figures ------------------------------------------------------------------------------
    if tgs:
        detection = max(t["interval"] * t["unhealthy_threshold"] + t["timeout"] for t in tgs.values())
        drain = max(t["deregistration_delay"] for t in tgs.values())
        checks = max(t["interval"] * t["healthy_threshold"] for t in tgs.values())
        slow_start = max(t["slow_start"] for t in tgs.values())
    else:
        detection = drain = None
        checks = slow_start = 0
    grace = number(asg.get("health_check_grace_period"))
    if grace is None:
        grace = DEFAULT_GRACE_PERIOD
        notes.append(f"{where}: health_check_grace_period not set; provider default {grace} s assumed")
    warmup = number(asg.get("default_instance_warmup")) or 0
    if launch_hooks:
        load, load_source = max(h["heartbeat_timeout"] for h in launch_hooks), "launch_lifecycle_hook_heartbeat_timeout"
    elif grace:
        load, load_source = grace, "health_check_grace_period"
    elif warmup:
        load, load_source = warmup, "default_instance_warmup"
    else:
        load, load_source = 0, "none"
    health_check_type = asg.get("health_check_type") or "EC2"
    # With ELB health checks, failed checks count once the grace period ends: a model
    # still loading then fails them, and the group replaces the instance.
    replaced_before_serving = bool(
        model_load is not None and tgs and not launch_hooks and health_check_type == "ELB" and grace < model_load
    )
    if model_load is not None and not launch_hooks and load < model_load and not replaced_before_serving:
        load, load_source = model_load, "model_load_seconds"
    cold: int | None = None if replaced_before_serving else load + checks + slow_start
    warm_value = None
    warm_info = None
    if warm:
        pool_state = warm.get("pool_state") or "Stopped"
        max_prepared = number(warm.get("max_group_prepared_capacity"))
        pool_min = int(number(warm.get("min_size")) or 0)
        prepared = max_size if max_prepared is None or max_prepared < 0 else int(max_prepared)
        pool_size = max(pool_min, prepared - desired)
        warm_value = checks + slow_start if launch_hooks else cold
        warm_info = {
            "pool_state": pool_state,
            "instances_at_desired_capacity": pool_size,
            "reuse_on_scale_in": bool(boolean(block(warm.get("instance_reuse_policy")).get("reuse_on_scale_in"))),
        }
        if launch_hooks:
            notes.append(
                f"{where}: warm-pool time to serve assumes the launch hook held each instance until "
                "the model was on local disk; starting the instance and loading the weights from "
                "disk are not known at synth and not included"
            )

    # Purchase options ---------------------------------------------------------------------
    purchase = _purchase(tf, asg)
    base, pct = purchase["on_demand_base_capacity"], purchase["on_demand_percentage_above_base_capacity"]
    spot_desired = desired - on_demand_units(desired, base, pct)
    spot_max = max_size - on_demand_units(max_size, base, pct)
    uses_spot = spot_max > 0 or spot_desired > 0
    types = purchase["instance_types"]
    estimated: list[str] = []
    for req in purchase["instance_requirements"]:
        found, gpu_only = estimate_types(req)
        estimated += [t for t in found if t not in estimated and t not in types]
        if uses_spot:
            notes.append(
                f"{where}: spot pools of attribute-based selection are an estimate: the attributes match "
                f"{len(found)} GPU type(s) of the report's table (stacks/report/gpu_types.py, {TABLE_DATE}"
                f"{'' if gpu_only else '; no accelerator asked, so CPU types match too: a lower bound'}) "
                f"x {len(slots)} AZ(s); AWS chooses the types at launch"
            )
    pool_types = [*types, *estimated]
    spot_pools = len(pool_types) * len(slots) if uses_spot else 0
    if purchase["weighted"]:
        notes.append(f"{where}: instance types have weighted capacity; capacity figures are in capacity units")

    after_loss = desired - largest
    fleet: dict[str, Any] = {
        "autoscaling_group": key,
        "target_groups": tg_names,
        "routes": [route_label(r, listeners) for r in fleet_routes],
        "availability_zones": [k for k, _ in slots],
        "instances_per_availability_zone": dict(zip([k for k, _ in slots], per_az, strict=True)),
        "min_size": min_size,
        "desired_capacity": desired,
        "max_size": max_size,
        "health_check_type": health_check_type,
        "unhealthy_detection_seconds": detection,
        "drain_seconds": drain,
        "termination_hook_seconds": max((h["heartbeat_timeout"] for h in term_hooks), default=None),
        "time_to_serve_new_instance_seconds": {"cold": cold, "warm_pool": warm_value},
        "time_to_serve_breakdown": {
            "model_load_seconds": load,
            "model_load_bound": load_source,
            "healthy_checks_seconds": checks,
            "slow_start_seconds": slow_start,
        },
        "warm_pool": warm_info,
        "lifecycle_hooks": hooks,
        "capacity_after_az_loss": {
            "instances": after_loss,
            "percent_of_desired": percent(after_loss, desired),
            "lost_with_largest_az": largest,
            "at_min_size": min_size - largest_at_min,
        },
        "instance_types": types,
        "on_demand_base_capacity": base,
        "on_demand_percentage_above_base_capacity": pct,
        "spot_instances": {"at_desired_capacity": spot_desired, "at_max_size": spot_max},
        "spot_share_percent": percent(spot_desired, desired),
        "spot_share_percent_at_max_size": percent(spot_max, max_size),
        "spot_pools": spot_pools,
        "spot_pools_estimated": bool(purchase["instance_requirements"]) and uses_spot,
        "spot_pool_instance_types": pool_types if uses_spot else [],
        "health_checks": {
            n: {k: t[k] for k in ("interval", "timeout", "healthy_threshold", "unhealthy_threshold")}
            for n, t in tgs.items()
        },
    }

    fleet["replacement"] = _replacement(tf, asg, desired, cold)
    fleet["az_impairment"] = _az_impairment(tf, asg, after_loss, desired)
    fleet["gray_failure"] = _gray_failure(tgs, tf)

    # Single points of failure ---------------------------------------------------------
    spof = []
    if len(slots) < 2:
        spof.append(
            _finding(
                "single-az",
                f"{where}: every instance is in one Availability Zone ({', '.join(k for k, _ in slots) or 'unknown'}); "
                "losing it takes the whole fleet down",
            )
        )
    if min_size < 2 or desired < 2:
        spof.append(
            _finding(
                "min-size-below-2",
                f"{where}: min_size {min_size}, desired {desired}: the group may run a single instance, "
                "so one instance or AZ failure stops serving until a replacement is ready "
                f"({cold} s)",
            )
        )
    if uses_spot and len(pool_types) == 1:
        spof.append(
            _finding(
                "single-instance-type-with-spot",
                f"{where}: spot capacity uses one instance type ({pool_types[0]}): a reclaim of that "
                "type hits every spot instance in an AZ at once; list several types",
            )
        )
    fleet["single_points_of_failure"] = spof

    # Warnings -------------------------------------------------------------------------
    warn = []
    if not tgs:
        warn.append(
            _finding(
                "no-target-group", f"{where}: not attached to a target group: no load balancer health checks or traffic"
            )
        )
    elif not fleet_routes:
        warn.append(_finding("not-routed", f"{where}: no listener or rule forwards to its target group"))
    if tgs and fleet["health_check_type"] != "ELB":
        warn.append(
            _finding(
                "ec2-health-check-type",
                f"{where}: health_check_type {fleet['health_check_type']}: the group does not replace an "
                "instance whose model server fails the load balancer health check",
            )
        )
    for n, t in tgs.items():
        if not t["health_check_enabled"]:
            warn.append(_finding("health-check-disabled", f"{where}: target group {n} has health checks disabled"))
    if uses_spot and drain is not None and drain > SPOT_INTERRUPTION_NOTICE_SECONDS:
        warn.append(
            _finding(
                "drain-longer-than-spot-notice",
                f"{where}: deregistration delay {drain} s exceeds the {SPOT_INTERRUPTION_NOTICE_SECONDS} s spot "
                "interruption notice: requests longer than that are cut when a spot instance is reclaimed",
            )
        )
    if uses_spot and boolean(asg.get("capacity_rebalance")) is not True:
        warn.append(
            _finding(
                "spot-without-capacity-rebalance",
                f"{where}: capacity_rebalance is off: spot instances are replaced only after they are interrupted",
            )
        )
    if desired and spot_desired == desired:
        warn.append(
            _finding(
                "no-on-demand-capacity",
                f"{where}: all {desired} units are spot: one reclaim wave can remove the whole fleet",
            )
        )
    if load_source == "none":
        warn.append(
            _finding(
                "no-model-load-budget",
                f"{where}: no launch lifecycle hook, grace period or warm-up: nothing accounts for model load time",
            )
        )
    if tgs and not launch_hooks and grace and fleet["health_check_type"] == "ELB" and grace < checks:
        warn.append(
            _finding(
                "grace-shorter-than-health-checks",
                f"{where}: health_check_grace_period {grace} s is shorter than healthy_threshold x interval "
                f"({checks} s): new instances can be replaced before they can pass health checks",
            )
        )
    if replaced_before_serving:
        warn.append(
            _finding(
                "grace-shorter-than-model-load",
                f"{where}: health_check_grace_period {grace} s is shorter than model_load_seconds ({model_load} s) "
                "and no launch hook waits for the model: failed ELB health checks count before the model "
                "serves, so the group replaces every new instance before it serves, in a loop",
            )
        )
    if warm and not launch_hooks:
        warn.append(
            _finding(
                "warm-pool-without-launch-hook",
                f"{where}: warm pool without a launch lifecycle hook: instances can enter the pool (and be "
                "stopped) before user data has downloaded the model, so the pool does not shorten time to serve",
            )
        )
    repl = fleet["replacement"]
    if desired and repl["serving_instances"] < desired:
        warn.append(
            _finding(
                "replacement-below-desired",
                f"{where}: replacing an instance (failed EC2 status check, max_instance_lifetime, AZ "
                f"rebalancing) leaves {repl['serving_instances']} of {desired} serving"
                + (f" for about {cold} s" if cold is not None else "")
                + ": set an instance_maintenance_policy with min_healthy_percentage 100 to launch first",
            )
        )
    if repl["instance_refresh"] is not None and not repl["instance_refresh"]["rollback_alarms"]:
        warn.append(
            _finding(
                "refresh-without-rollback-alarms",
                f"{where}: the instance refresh watches no alarm: a model or AMI that serves errors but passes "
                "health checks is rolled out to every instance",
            )
        )
    if warm_info is not None and warm_info["instances_at_desired_capacity"] == 0:
        warn.append(_finding("warm-pool-empty", f"{where}: the warm pool holds no instances at desired capacity"))
    fleet["warnings"] = warn
    return fleet


# --------------------------------------------------------------------------------------
# Stack
# --------------------------------------------------------------------------------------


def nat_egress(tf: TerraformDoc) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Which NAT gateway carries the internet egress of which Availability Zone.

    Follows ``aws_route``/inline routes (``nat_gateway_id``) to route tables and
    ``aws_route_table_association`` to subnets. Returns ``(nat -> AZ of the NAT,
    nat -> AZs of the subnets routed through it)``; AZ keys as in
    :meth:`TerraformDoc.subnet_az`.
    """
    nats = tf.resources("aws_nat_gateway")
    nat_az = {n: tf.subnet_az(b.get("subnet_id"))[0] for n, b in nats.items()}
    table_nats: dict[str, set[str]] = {}
    for route in tf.resources("aws_route").values():
        nat = ref_to(route.get("nat_gateway_id"), "aws_nat_gateway")
        table = ref_to(route.get("route_table_id"), "aws_route_table")
        if nat and table:
            table_nats.setdefault(table, set()).add(nat)
    for tname, route_table in tf.resources("aws_route_table").items():
        for r in blocks(route_table.get("route")):
            nat = ref_to(r.get("nat_gateway_id"), "aws_nat_gateway")
            if nat:
                table_nats.setdefault(tname, set()).add(nat)
    served: dict[str, set[str]] = {n: set() for n in nats}
    for assoc in tf.resources("aws_route_table_association").values():
        table = ref_to(assoc.get("route_table_id"), "aws_route_table")
        if table not in table_nats or assoc.get("subnet_id") is None:
            continue
        az, _ = tf.subnet_az(assoc.get("subnet_id"))
        for nat in table_nats[table]:
            if nat in served:
                served[nat].add(az)
    return nat_az, served


def _nat_findings(tf: TerraformDoc) -> list[dict]:
    """NAT gateways that private subnets in other AZs depend on."""
    nat_az, served = nat_egress(tf)
    out = []
    for nat, azs in served.items():
        own = nat_az[nat]
        others = sorted(azs - {own})
        if others:
            out.append(
                _finding(
                    "single-nat-gateway",
                    f"NAT gateway {nat} in {own} is the only internet egress of private subnets in "
                    f"{', '.join(sorted(azs))}: if {own} fails, instances in {', '.join(others)} lose "
                    "egress (model downloads, SSM, external APIs)",
                    resource=f"aws_nat_gateway.{nat}",
                )
            )
    return out


_PER_GROUP_FINDINGS = ("single-az", "min-size-below-2", "single-instance-type-with-spot")


def combine_groups(where: str, members: list[dict]) -> dict:
    """Figures of one fleet served by several Auto Scaling groups in the same target
    group(s), from each group's :func:`analyze_fleet` result (main group first).

    Capacities and per-AZ counts add up; capacity after AZ loss, spot share and spot pools
    are recomputed over all groups; time to serve is the slowest cold start and the
    fastest warm-pool start; capacity-based findings are recomputed for the fleet as a
    whole, and so is the capacity during a zonal shift. Replacement figures are the main
    group's. Each group's own figures stay under ``groups``.
    """
    main = members[0]
    out = dict(main)
    out["autoscaling_groups"] = [m["autoscaling_group"] for m in members]
    out["groups"] = {m["autoscaling_group"]: m for m in members}
    for k in ("min_size", "desired_capacity", "max_size"):
        out[k] = sum(m[k] for m in members)
    per_az: dict[str, int] = {}
    for m in members:
        for az, n in m["instances_per_availability_zone"].items():
            per_az[az] = per_az.get(az, 0) + n
    out["instances_per_availability_zone"] = per_az
    out["availability_zones"] = list(per_az)
    desired = out["desired_capacity"]
    largest = max(per_az.values(), default=0)
    out["capacity_after_az_loss"] = {
        "instances": desired - largest,
        "percent_of_desired": percent(desired - largest, desired),
        "lost_with_largest_az": largest,
        "at_min_size": sum(m["capacity_after_az_loss"]["at_min_size"] for m in members),
    }
    spot_d = sum(m["spot_instances"]["at_desired_capacity"] for m in members)
    spot_m = sum(m["spot_instances"]["at_max_size"] for m in members)
    out["spot_instances"] = {"at_desired_capacity": spot_d, "at_max_size": spot_m}
    out["spot_share_percent"] = percent(spot_d, desired)
    out["spot_share_percent_at_max_size"] = percent(spot_m, out["max_size"])
    spot_members = [m for m in members if m["spot_pools"]]
    spot_types = list(dict.fromkeys(t for m in spot_members for t in m["spot_pool_instance_types"]))
    out["spot_pools"] = len(
        {(t, az) for m in spot_members for t in m["spot_pool_instance_types"] for az in m["availability_zones"]}
    )
    out["spot_pools_estimated"] = any(m["spot_pools_estimated"] for m in spot_members)
    out["spot_pool_instance_types"] = spot_types
    out["instance_types"] = list(dict.fromkeys(t for m in members for t in m["instance_types"]))
    warm_values = [m["time_to_serve_new_instance_seconds"]["warm_pool"] for m in members]
    warm_values = [v for v in warm_values if v is not None]
    colds = [m["time_to_serve_new_instance_seconds"]["cold"] for m in members]
    out["time_to_serve_new_instance_seconds"] = {
        "cold": None if None in colds else max(colds),
        "warm_pool": min(warm_values) if warm_values else None,
    }
    out["warm_pool"] = next((m["warm_pool"] for m in members if m["warm_pool"]), None)
    shift = main["az_impairment"]["zonal_shift"]
    out["az_impairment"] = {
        **main["az_impairment"],
        "serving_instances_during_zonal_shift": desired - largest if shift else None,
        "percent_of_desired_during_zonal_shift": percent(desired - largest, desired) if shift else None,
        "launches_in_other_azs": all(m["az_impairment"]["launches_in_other_azs"] for m in members),
    }

    spof = [f for m in members for f in m["single_points_of_failure"] if f["id"] not in _PER_GROUP_FINDINGS]
    if len(per_az) < 2:
        spof.append(
            _finding(
                "single-az",
                f"{where}: every instance is in one Availability Zone; losing it takes the whole fleet down",
            )
        )
    if out["min_size"] < 2 or desired < 2:
        spof.append(
            _finding(
                "min-size-below-2",
                f"{where}: min_size {out['min_size']}, desired {desired} over all its groups: one instance "
                "or AZ failure stops serving until a replacement is ready "
                f"({out['time_to_serve_new_instance_seconds']['cold']} s)",
            )
        )
    if spot_members and len(spot_types) == 1:
        spof.append(
            _finding(
                "single-instance-type-with-spot",
                f"{where}: spot capacity uses one instance type ({spot_types[0]}); list several types",
            )
        )
    out["single_points_of_failure"] = spof
    warn = [w for m in members for w in m["warnings"] if w["id"] != "no-on-demand-capacity"]
    if desired and spot_d == desired:
        warn.append(
            _finding(
                "no-on-demand-capacity",
                f"{where}: all {desired} units are spot: one reclaim wave can remove the whole fleet",
            )
        )
    out["warnings"] = list({(w["id"], w["message"]): w for w in warn}.values())
    return out


def analyze_stack(name: str, doc: dict, model_load_seconds: dict[str, int] | None = None) -> dict:
    """Compute the resilience report of one synthesized stack.

    ``name`` is the stack name, ``doc`` the parsed ``cdk.tf.json``, ``model_load_seconds``
    each fleet's from its config (by fleet name; optional). Returns a JSON-ready
    dict: ``fleets`` (by fleet name, see :func:`analyze_fleet`), stack-level
    ``single_points_of_failure``, ``warnings`` and ``assumptions``, the
    ``single_points_of_failure_count`` over the stack and its fleets, and
    ``load_balancers``. Raises ``ValueError`` when ``doc`` is not an object.
    """
    tf = TerraformDoc(doc)
    notes: list[str] = []
    listeners, routes = listeners_and_routes(tf)
    # Groups attached to the same target group(s) serve one fleet (e.g. an on-demand
    # group with a warm pool plus a spot group beside it): their figures are combined.
    buckets: dict[tuple, list[tuple[str, dict, dict]]] = {}
    for key, asg in tf.resources("aws_autoscaling_group").items():
        load = (model_load_seconds or {}).get(_fleet_name(key, asg))
        fleet = analyze_fleet(tf, key, asg, listeners, routes, notes, model_load=load)
        buckets.setdefault(tuple(sorted(fleet["target_groups"])) or (key,), []).append((key, asg, fleet))
    fleets: dict[str, dict] = {}
    for members in buckets.values():
        # The main group first: the largest minimum size, then the name.
        members.sort(key=lambda m: (-m[2]["min_size"], m[0]))
        key, asg, fleet = members[0]
        if len(members) > 1:
            fleet = combine_groups(f"fleet {_fleet_name(key, asg)}", [m[2] for m in members])
        fname = _fleet_name(key, asg)
        fleets[fname if fname not in fleets else key] = fleet

    spof: list[dict] = []
    warn: list[dict] = []
    lbs: dict[str, dict] = {}
    for lb_name, lb in tf.resources("aws_lb").items():
        subnets = list(lb.get("subnets") or []) + [m.get("subnet_id") for m in blocks(lb.get("subnet_mapping"))]
        slots = tf.subnets_azs(subnets)
        protected = boolean(lb.get("enable_deletion_protection")) is True
        lbs[lb_name] = {
            "availability_zones": [k for k, _ in slots],
            "deletion_protection": protected,
            "internal": boolean(lb.get("internal")) is True,
        }
        if len(slots) < 2:
            spof.append(
                _finding(
                    "load-balancer-single-az",
                    f"load balancer {lb_name} has subnets in {len(slots)} AZ(s); AWS needs two or more",
                    resource=f"aws_lb.{lb_name}",
                )
            )
        if is_production_name(name) and not protected:
            spof.append(
                _finding(
                    "deletion-protection-off",
                    f"load balancer {lb_name} of production stack {name!r} has deletion protection off: "
                    "one mistaken destroy or console click removes the entry point",
                    resource=f"aws_lb.{lb_name}",
                )
            )
    spof.extend(_nat_findings(tf))
    if not fleets:
        warn.append(_finding("no-fleets", "the stack has no aws_autoscaling_group"))

    count = len(spof) + sum(len(f["single_points_of_failure"]) for f in fleets.values())
    return {
        "fleets": dict(sorted(fleets.items())),
        "load_balancers": lbs,
        "single_points_of_failure": spof,
        "single_points_of_failure_count": count,
        "warnings": warn,
        "assumptions": list(dict.fromkeys(notes)),
    }
