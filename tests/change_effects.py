"""What changing each config key does to a running fleet, measured on the emulator.

    .venv/bin/python tests/change_effects.py            # or: make change-effects
    .venv/bin/python tests/change_effects.py --check    # fail when the document is stale

For every key of the config format (:func:`stacks.config.reference.config_keys`, the
rows of docs/configuration.md), this tool takes an example config that sets it (or,
when none does, one that could), changes that key alone to another valid value (or adds
or removes the section), synthesizes the variant and plans it against the example as
deployed on a local AWS emulator (moto): one ``apply`` per example, then ``terraform
plan -refresh=false`` per variant against that state. Each resource's planned action is
classified, and the key's effect is the worst of them:

- ``refused at synth``: no valid value differs in that key alone (the error is shown);
- ``refused at plan``: a precondition stops the plan before anything changes (the
  deployed state forbids the change, stacks/deployed.py);
- ``replace (destroy first)`` / ``replace (create first)``: Terraform replaces a
  resource, deleting the old one before or after creating the new one;
- ``removes``: resources are deleted (the key asked for it);
- ``rolls instances``: the launch template gets a new version and the group's instance
  refresh replaces its instances;
- ``in place``: resources are updated or added, nothing is replaced;
- ``state location``: only the backend block changes (``terraform init
  -migrate-state``), no resource;
- ``new deployment``: ``name`` and ``region`` say where the environment lives: another
  value is another stack (or region) that Terraform deploys from scratch;
- ``no change``: the synthesized stack is the same (the key feeds the report only, or
  the value was already the default).

Only the variant's own changes count: a plan of the unchanged example against the same
state is subtracted (what moto reports differently from AWS shows up in both), so no
emulator-gap override hides a change here. The results go to docs/change-effects.json
(what the tests compare against) and docs/change-effects.md (rendered from it), and the
run fails when a key makes Terraform replace an Auto Scaling group, load balancer,
listener or target group by destroying it first (the gate). ``--keys`` measures some
keys only (``--examples`` some examples) and ``--check`` compares the measured entries
with the committed document instead of writing it; the end-to-end lifecycle test runs a
fast subset (:data:`FAST_KEYS` on dev) that way.
"""

from __future__ import annotations

import argparse
import copy
import json
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

import yaml  # noqa: E402
from change_words import DOC_JSON, DOC_MD, Effect, classify, plan_changes, render  # noqa: E402
from emulator import Aws, MotoServer, known_amis, prepare_example, write_override  # noqa: E402
from helpers import EXAMPLES, copy_project, terraform, terraform_env  # noqa: E402

from stacks.config import EnvironmentConfig  # noqa: E402

#: Examples in the order a key without an explicit setting is measured on the first
#: where it could be used.
PREFERRED = ("dev", "staging", "prod", "prod-multi")

#: Keys the end-to-end lifecycle test measures on its deployed dev stack and compares
#: with the document: one or more per effect class dev can show (replace create first,
#: in place, rolls instances, no change, refused at plan, state location), the health
#: check path among them (it must not roll instances).
FAST_KEYS = (
    "fleets.<name>.target_group.port",
    "fleets.<name>.target_group.health_check.path",
    "fleets.<name>.launch_template.root_volume_size",
    "fleets.<name>.autoscaling_group.max_size",
    "fleets.<name>.autoscaling_group.desired_capacity",
    "load_balancer.internal",
    "backend.path",
)


# Variants ----------------------------------------------------------------------------
@dataclass
class Option:
    """One way to change a key: on ``example`` (fleet ``fleet`` for fleet keys), the
    change described as ``change`` (``8000 -> 8080``), made by ``mutate`` on a copy of
    the example's YAML data."""

    example: str
    fleet: str | None
    change: str
    mutate: Callable[[dict], None]


@dataclass
class Variant:
    """One measurement of ``key``: its :class:`Option` objects, tried in order until
    one gives a valid config (none: the key is refused at synth)."""

    key: str
    options: list[Option]


def concrete(key: str, fleet: str | None, data: dict) -> list[str]:
    """The YAML path of ``key`` in ``data``: ``<name>`` is the fleet (first for a
    fleet, first scheduled action for an action), ``[]`` the first item."""
    parts: list[str] = []
    node: Any = data
    for part in key.split("."):
        item = part.endswith("[]")
        part = part.removesuffix("[]")
        if part == "<name>":
            first = next(iter(node or {}), "peak")  # a fleet's first scheduled action
            part = (fleet or first) if parts[-1] == "fleets" else first
        parts.append(part)
        node = node.get(part) if isinstance(node, dict) else None
        if item:
            parts.append("0")
            node = node[0] if isinstance(node, list) and node else None
    return parts


def get_path(data: Any, parts: list[str]) -> Any:
    """The value at ``parts`` in ``data`` (``KeyError`` when absent)."""
    for part in parts:
        if isinstance(data, list):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise KeyError(".".join(parts))
    return data


def set_path(data: dict, parts: list[str], value: Any) -> None:
    """Set ``value`` at ``parts`` in ``data``, creating sections on the way; a value of
    :data:`REMOVE` deletes the key."""
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            if isinstance(node[int(part)], str):  # a list item's short form
                node[int(part)] = {"instance_type": node[int(part)]}
            node = node[int(part)]
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]
    last = parts[-1]
    if value is REMOVE:
        if isinstance(node, dict):
            node.pop(last, None)
        return
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


REMOVE = object()


def shown(value: Any) -> str:
    """A value as a short YAML-ish text for the ``change`` column."""
    if value is REMOVE or value is None:
        return "(unset)"
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


class Context:
    """What variants of one deployed example may point at: ARNs in its account and
    region, and (``extras``, made in the emulator on first use by ``make_extras``) a
    second AMI, another VPC, a certificate, a log bucket."""

    def __init__(self, name: str, data: dict, make_extras: Callable[[], dict]):
        self.name, self.region, self._make_extras = name, data["region"], make_extras
        self._extras: dict | None = None
        self.account = "123456789012"

    @property
    def extras(self) -> dict:
        if self._extras is None:
            self._extras = self._make_extras()
        return self._extras

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


def candidates(key: str, current: Any, node: dict, ctx: Context, data: dict, fleet: str | None) -> list[Any]:
    """Other values for ``key`` (current value ``current``), most typical first: the
    curated ones of :data:`CURATED` (values the emulator must know, or that only make
    sense in a few forms), else from the key's JSON Schema ``node`` (another enum value,
    the boolean flipped, a number moved within its bounds, or unset when it may be)."""
    for pattern, make in CURATED.items():
        if re.fullmatch(pattern, key):
            return [v for v in make(current, ctx, data, fleet) if v != current]
    options = [o for o in node.get("anyOf", [node]) if o.get("type") != "null"]
    out: list[Any] = []
    for option in options:
        kind = option.get("type")
        if "enum" in option:
            out += [v for v in option["enum"] if v != current]
        elif kind == "boolean":
            out.append(not (current if current is not None else node.get("default", False)))
        elif kind in ("integer", "number"):
            step = 1 if kind == "integer" else 0.5
            low = option.get("minimum", option.get("exclusiveMinimum", -step) + step)
            high = option.get("maximum", option.get("exclusiveMaximum", 10**6 + step) - step)
            base = current if isinstance(current, int | float) else node.get("default")
            picks = (
                [base + step, base - step, base * 2, low, high] if isinstance(base, int | float) else [low + step, low]
            )
            for v in picks:
                if low <= v <= high and v != current and v not in out:
                    out.append(int(v) if kind == "integer" else float(v))
    if current is not None and any(o.get("type") == "null" for o in node.get("anyOf", [])):
        out.append(None)
    return out


CURATED: dict[str, Callable[[Any, Context, dict, str | None], list[Any]]] = {
    "tags": lambda cur, ctx, data, fleet: [{**(cur or {}), "owner": "platform"}],
    "network.vpc_id": lambda cur, ctx, data, fleet: [ctx.extras["other_vpc"]["vpc_id"]],
    "network.public_subnet_ids": lambda cur, ctx, data, fleet: [cur[:2] if len(cur) > 2 else cur[::-1]],
    "network.private_subnet_ids": lambda cur, ctx, data, fleet: [cur[:2] if len(cur) > 2 else cur[::-1]],
    "network.create_vpc.cidr_block": lambda cur, ctx, data, fleet: ["10.99.0.0/16"],
    "network.create_vpc.availability_zones": lambda cur, ctx, data, fleet: [
        [*cur, z] for z in ctx.extras["azs"] if z not in cur
    ][:1],
    "load_balancer.ingress_cidr_blocks": lambda cur, ctx, data, fleet: [[*cur, "198.51.100.0/24"]],
    "load_balancer.certificate_arn": lambda cur, ctx, data, fleet: [ctx.extras["certificate_arn"]],
    "load_balancer.ssl_policy": lambda cur, ctx, data, fleet: ["ELBSecurityPolicy-TLS13-1-2-Res-2021-06"],
    "load_balancer.access_logs.bucket": lambda cur, ctx, data, fleet: [ctx.extras["log_bucket"]],
    "load_balancer.access_logs.bucket_prefix": lambda cur, ctx, data, fleet: ["fleet-logs-"],
    "load_balancer.access_logs.prefix": lambda cur, ctx, data, fleet: ["alb"],
    "load_balancer.waf.managed_rule_groups": lambda cur, ctx, data, fleet: [
        [*(cur or []), {"name": "AWSManagedRulesAmazonIpReputationList"}]
    ],
    # Names not in the default list (a name listed twice is refused at synth).
    r"load_balancer\.waf\.managed_rule_groups\[\]\.name": lambda cur, ctx, data, fleet: ["AWSManagedRulesLinuxRuleSet"],
    # An AWS Marketplace seller's rule group (AWS checks the subscription at apply).
    r"load_balancer\.waf\.managed_rule_groups\[\]\.vendor_name": lambda cur, ctx, data, fleet: ["F5"],
    r"load_balancer\.waf\.managed_rule_groups\[\]\.version": lambda cur, ctx, data, fleet: ["Version_1.0"],
    r"load_balancer\.waf\.managed_rule_groups\[\]\.rule_action_overrides": lambda cur, ctx, data, fleet: [
        {"SizeRestrictions_BODY": "count"}
    ],
    "load_balancer.waf.logging.redacted_headers": lambda cur, ctx, data, fleet: [[*(cur or []), "x-api-key"]],
    r"fleets\.<name>\.listener_rule\.path_patterns": lambda cur, ctx, data, fleet: [[*(cur or []), "/v2/*"]],
    r"fleets\.<name>\.listener_rule\.host_headers": lambda cur, ctx, data, fleet: [["api.example.com"]],
    r"fleets\.<name>\.target_group\.port": lambda cur, ctx, data, fleet: [(cur or 8000) + 80],
    r"fleets\.<name>\.target_group\.health_check\.path": lambda cur, ctx, data, fleet: [
        "/v1/models",
        "/ping",
        "/health",
        "/info",
        "/v2/health/live",
        "/-/routes",
    ],
    r"fleets\.<name>\.target_group\.health_check\.matcher": lambda cur, ctx, data, fleet: ["200-299"],
    r"fleets\.<name>\.launch_template\.root_volume_iops": lambda cur, ctx, data, fleet: [(cur or 3000) + 1000],
    r"fleets\.<name>\.autoscaling_group\.max_instance_lifetime": lambda cur, ctx, data, fleet: [604800],
    r"fleets\.<name>\.launch_template\.image_id": lambda cur, ctx, data, fleet: [ctx.extras["amis"][1]],
    r"fleets\.<name>\.launch_template\.image_ssm_parameter": lambda cur, ctx, data, fleet: [
        ctx.extras["other_ami_parameter"]
    ],
    r"fleets\.<name>\.launch_template\.instance_type": lambda cur, ctx, data, fleet: ["t3.large", "g5.2xlarge"],
    r"fleets\.<name>\.launch_template\.root_device_name": lambda cur, ctx, data, fleet: [
        ctx.extras["root_device_name"]
    ],
    r"fleets\.<name>\.launch_template\.root_volume_kms_key_id": lambda cur, ctx, data, fleet: [
        ctx.arn("kms", "key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    ],
    r"fleets\.<name>\.launch_template\.user_data_file": lambda cur, ctx, data, fleet: [
        "../user_data/embeddings.sh",
        "../user_data/vllm-gpu.sh",
    ],
    r"fleets\.<name>\.launch_template\.key_name": lambda cur, ctx, data, fleet: ["ops-break-glass"],
    r"fleets\.<name>\.launch_template\.managed_policy_arns": lambda cur, ctx, data, fleet: [
        [*(cur or []), "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
    ],
    r"fleets\.<name>\.launch_template\.secret_references": lambda cur, ctx, data, fleet: [
        [*(cur or []), f"/ai-fleet/{ctx.name}/extra-token"]
    ],
    r"fleets\.<name>\.autoscaling_group\.mixed_instances_policy\.instance_types": lambda cur, ctx, data, fleet: [
        [*cur, "g6.4xlarge"] if cur else ["g5.xlarge", "g6.xlarge"]
    ],
    r"fleets\.<name>\.(autoscaling_group\.mixed_instances_policy|spot_autoscaling_group)\.instance_types\[\]"
    r"\.instance_type": lambda cur, ctx, data, fleet: ["g6.4xlarge"],
    r"fleets\.<name>\.(autoscaling_group\.mixed_instances_policy|spot_autoscaling_group)\.instance_types\[\]"
    r"\.weighted_capacity": lambda cur, ctx, data, fleet: [2],
    r"fleets\.<name>\.spot_autoscaling_group\.instance_types": lambda cur, ctx, data, fleet: [[*cur, "g6.4xlarge"]],
    r"fleets\.<name>\.autoscaling_group\.instance_refresh\.checkpoint_percentages": lambda cur, ctx, data, fleet: [
        [50, 100] if cur != [50, 100] else [25, 100]
    ],
    r"fleets\.<name>\.scaling\.custom_metric\.namespace": lambda cur, ctx, data, fleet: ["GPU"],
    r"fleets\.<name>\.scaling\.custom_metric\.metric_name": lambda cur, ctx, data, fleet: ["nvidia_smi_memory_used"],
    r"fleets\.<name>\.scaling\.custom_metric\.unit": lambda cur, ctx, data, fleet: ["Count"],
    r"fleets\.<name>\.scaling\.custom_metric\.dimensions": lambda cur, ctx, data, fleet: [{"model": "llama"}],
    r"fleets\.<name>\.scaling\.scheduled_actions\.<name>\.recurrence": lambda cur, ctx, data, fleet: [
        "30 6 * * MON-FRI"
    ],
    r"fleets\.<name>\.scaling\.scheduled_actions\.<name>\.time_zone": lambda cur, ctx, data, fleet: ["Europe/Berlin"],
    "alarms.sns_topic_arn": lambda cur, ctx, data, fleet: [ctx.arn("sns", "oncall-alarms")],
    "cloudwatch_logs.kms_key_id": lambda cur, ctx, data, fleet: [
        ctx.arn("kms", "key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
    ],
    "backend.path": lambda cur, ctx, data, fleet: ["state/terraform.tfstate"],
    "backend.bucket": lambda cur, ctx, data, fleet: ["acme-ml-platform-terraform-state-2"],
    "backend.key": lambda cur, ctx, data, fleet: [f"fleets/{ctx.name}/terraform.tfstate"],
    "backend.region": lambda cur, ctx, data, fleet: ["eu-west-1"],
    "backend.kms_key_id": lambda cur, ctx, data, fleet: [ctx.arn("kms", "key/2a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")],
    "backend.dynamodb_table": lambda cur, ctx, data, fleet: ["terraform-locks"],
    "backend.assume_role.role_arn": lambda cur, ctx, data, fleet: [f"arn:aws:iam::{ctx.account}:role/state-writer"],
    "backend.assume_role.session_name": lambda cur, ctx, data, fleet: ["ai-fleet"],
    "backend.assume_role.external_id": lambda cur, ctx, data, fleet: ["fleet-external-id"],
    "backend.organization": lambda cur, ctx, data, fleet: ["acme-ml-platform-2"],
    "backend.hostname": lambda cur, ctx, data, fleet: ["tfe.example.com"],
    "backend.workspaces.name": lambda cur, ctx, data, fleet: [f"ai-fleet-{ctx.name}-2"],
    "backend.workspaces.tags": lambda cur, ctx, data, fleet: [["ai-fleet"]],
    "backend.workspaces.project": lambda cur, ctx, data, fleet: ["Platform"],
}

#: The smallest valid content of an optional section, for adding it to an example that
#: does not have it (keyed like :data:`CURATED`).
SECTIONS: dict[str, Callable[[Context, dict, str | None], Any]] = {
    "network.create_vpc": lambda ctx, data, fleet: None,
    r"fleets\.<name>\.listener_rule": lambda ctx, data, fleet: {"priority": 50, "path_patterns": ["/v9/*"]},
    r"fleets\.<name>\.autoscaling_group\.mixed_instances_policy": lambda ctx, data, fleet: {
        "instance_types": ["t3.medium", "t3.large"]
    },
    r"fleets\.<name>\.autoscaling_group\.warm_pool": lambda ctx, data, fleet: {},
    r"fleets\.<name>\.autoscaling_group\.instance_refresh": lambda ctx, data, fleet: {},
    r"fleets\.<name>\.spot_autoscaling_group": lambda ctx, data, fleet: {
        "max_size": 2,
        "instance_types": ["t3.medium", "t3.large"],
    },
    r"fleets\.<name>\.lifecycle_hooks\.launch": lambda ctx, data, fleet: {},
    r"fleets\.<name>\.lifecycle_hooks\.termination": lambda ctx, data, fleet: {},
    r"fleets\.<name>\.scaling\.custom_metric": lambda ctx, data, fleet: {"target_value": 70},
    r"fleets\.<name>\.scaling\.scheduled_actions": lambda ctx, data, fleet: {
        "tool-peak": {"recurrence": "0 7 * * MON-FRI", "desired_capacity": 2}
    },
    "backend.assume_role": lambda ctx, data, fleet: {"role_arn": f"arn:aws:iam::{ctx.account}:role/state-writer"},
}

STATE_LOCATION = (
    "only the backend block changes: run terraform init -migrate-state (docs/state-backends.md); no resource changes"
)

#: Keys that say where the environment lives: another value is another deployment.
NEW_DEPLOYMENT = {
    "name": "another stack (cdktf.out/stacks/<name>, its own state and workspace): the deployed one is left "
    "as it is, no longer in the config; destroy it from its own folder when the new one serves",
    "region": "the stack in another region: Terraform creates everything there and stops managing what runs "
    "in the old region; deploy a second environment there instead, move clients, then destroy this one",
}


# Measuring -----------------------------------------------------------------------------
class Deployment:
    """One example on its own emulator (at ``endpoint``), with worker folders to plan
    variants in. ``project``: an already deployed project copy to measure against
    (``--attach``); by default :meth:`deploy` copies and deploys one."""

    def __init__(self, name: str, workdir: Path, endpoint: str, project: Path | None = None):
        self.name, self.workdir, self.endpoint = name, workdir, endpoint
        workdir.mkdir(parents=True, exist_ok=True)
        self.project = project or copy_project(workdir / "project")
        self.config_file = self.project / "config" / f"{name}.yaml"
        self.stack_dir = self.project / "cdktf.out" / "stacks" / name
        self.tf_env = terraform_env(workdir)
        data = yaml.safe_load(self.config_file.read_text())
        self.aws = Aws(endpoint, data["region"])
        self.base: dict = data
        self.base_stack: dict = {}
        self.ctx = Context(name, data, lambda: self.extras({"amis": known_amis(self.aws)}, self.base))
        if project is not None:
            self.base_stack = json.loads((self.stack_dir / "cdk.tf.json").read_text())

    def tf(self, args: list[str], cwd: Path, ok: tuple[int, ...] = (0,)):
        result = terraform(args, cwd, self.tf_env)
        if result.returncode not in ok:
            raise RuntimeError(f"{self.name}: terraform {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def deploy(self, synth: Callable[[Path, Path], dict]) -> None:
        """Prepare the emulator (emulator.prepare_example), synthesize the example and
        apply it."""
        data = yaml.safe_load(self.config_file.read_text())
        prepared = prepare_example(self.aws, data)
        self.config_file.write_text(yaml.safe_dump(data, sort_keys=False))
        self.base = data
        self.ctx = Context(self.name, data, lambda: self.extras(prepared, data))
        self.base_stack = synth(self.config_file, self.project / "cdktf.out")
        write_override(self.stack_dir, self.endpoint)
        self.tf(["init", "-input=false", "-no-color"], self.stack_dir)
        self.tf(["apply", "-auto-approve", "-input=false", "-no-color"], self.stack_dir)

    def extras(self, prepared: dict, data: dict) -> dict:
        """Emulator objects that variants point at: a second AMI (and a parameter
        holding it), another VPC with subnets, a certificate, a log bucket."""
        from emulator import seed_existing_network

        aws = self.aws
        azs = [z["ZoneName"] for z in aws.ec2.describe_availability_zones()["AvailabilityZones"]]
        amis = prepared["amis"]
        other_param = "/ai-fleet-e2e/other/ami-id"
        aws.ssm.put_parameter(Name=other_param, Value=amis[1], Type="String", DataType="aws:ec2:image")
        [image] = aws.ec2.describe_images(ImageIds=[amis[0]])["Images"]
        root = "/dev/sda1" if image.get("RootDeviceName") != "/dev/sda1" else "/dev/xvda"
        bucket = f"{self.name}-tool-logs"
        location = {} if data["region"] == "us-east-1" else {"LocationConstraint": data["region"]}
        aws.s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
        cert = aws.acm.request_certificate(DomainName=f"other.{self.name}.example.com")["CertificateArn"]
        other_vpc = seed_existing_network(aws, azs[:3], cidr="10.40.0.0/16")
        return {
            "amis": amis,
            "other_ami_parameter": other_param,
            "root_device_name": image.get("RootDeviceName", root),
            "azs": azs,
            "log_bucket": bucket,
            "certificate_arn": cert,
            "other_vpc": other_vpc,
        }

    def worker(self, index: int) -> Path:
        """A folder that plans like the stack folder: the same initialized providers
        (a link to ``.terraform``), a copy of the state."""
        folder = self.workdir / f"worker-{index}"
        if not folder.exists():
            folder.mkdir()
            (folder / ".terraform").symlink_to(self.stack_dir / ".terraform")
            for name in (".terraform.lock.hcl", "terraform.tfstate"):
                shutil.copy2(self.stack_dir / name, folder / name)
        return folder

    def plan(self, stack: dict, folder: Path) -> tuple[str, dict[str, dict]]:
        """Plans ``stack`` (parsed cdk.tf.json) in ``folder`` against the deployed
        state without refreshing it; returns ``("refused", {"message": ...})`` when the
        plan fails, else ``("planned", {address: change})`` for every resource change
        (``actions``, ``after``, ``after_unknown``, ``type``)."""
        (folder / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
        # Provider settings only: nothing is applied, so no emulator gap needs hiding.
        write_override(folder, self.endpoint, workarounds=False)
        args = ["plan", "-refresh=false", "-lock=false", "-input=false", "-no-color", "-out=variant.tfplan"]
        result = terraform(args, folder, self.tf_env)
        if result.returncode != 0:
            return "refused", {"message": plan_error(result.stderr or result.stdout)}
        shown = json.loads(self.tf(["show", "-json", "variant.tfplan"], folder).stdout)
        return "planned", plan_changes(shown)


def plan_error(text: str) -> str:
    """The first error of a failed plan: its summary and its last paragraph (for a
    failed precondition, the condition's message)."""
    blocks = re.split(r"(?m)^Error: ", text)[1:]
    if not blocks:
        return " ".join(text.split())[:400]
    paragraphs = [p for p in re.split(r"\n\s*\n", blocks[0].strip()) if p.strip()]
    summary = paragraphs[0].strip()
    last = " ".join(paragraphs[-1].split()) if len(paragraphs) > 1 else ""
    return f"{summary}: {last}" if last else summary


class Synthesizer:
    """Synthesizes configs in this process (the jsii runtime starts once)."""

    def __init__(self) -> None:
        # isort: off
        from stacks import aws  # noqa: F401  (before cdktf, see stacks/aws.py)
        from stacks.config import ConfigError, load_config
        from stacks.synthesis import synthesize

        # isort: on
        self.ConfigError, self.load_config, self.synthesize = ConfigError, load_config, synthesize
        self.lock = threading.Lock()

    def validate(self, path: Path) -> str | None:
        """None when the config at ``path`` is valid, else its problems (one line)."""
        try:
            self.load_config(path)
        except self.ConfigError as exc:
            return "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
        return None

    def __call__(self, path: Path, outdir: Path) -> dict:
        """Synthesize the config at ``path`` into ``outdir``; return its stack."""
        with self.lock:
            cfg = self.load_config(path)
            self.synthesize([(path, cfg)], outdir)
            return dict(json.loads((outdir / "stacks" / cfg.name / "cdk.tf.json").read_text()))


def variants_of(key: str, node: dict, section: bool, deployments: dict[str, Deployment]) -> Iterator[Variant]:
    """The variants that measure ``key``: one per example (and fleet) that sets it
    explicitly, else one trying each example where it could be set alone, in
    :data:`PREFERRED` order. An optional section (:data:`SECTIONS`) is removed where it
    is set and added where it is not; a section with defaults only holds keys."""
    explicit: list[tuple[Deployment, str | None, list[str]]] = []
    possible: list[tuple[Deployment, str | None, list[str]]] = []
    # A list item's key where the example leaves the list at its default (prod's WAF
    # managed rule groups): the variant writes the default list out, then changes item 0.
    written_out: dict[int, Callable[[dict], None]] = {}
    for name in PREFERRED:
        dep = deployments.get(name)
        if dep is None or not _applies(key, dep.base):
            continue
        for fleet in list(dep.base["fleets"]) if key.startswith("fleets.") else [None]:
            parts = concrete(key, fleet, dep.base)
            try:
                get_path(dep.base, parts)
                explicit.append((dep, fleet, parts))
            except (KeyError, IndexError, TypeError):
                if _parent_defaults(key) or _exists(dep.base, parts[:-1]):
                    possible.append((dep, fleet, parts))
                elif (default_list := _default_list(dep.base, parts)) is not None:
                    list_path, items = default_list
                    possible.append((dep, fleet, parts))
                    written_out[id(possible[-1])] = _setter(list_path, items)
    if section:
        maker = next((p for p in SECTIONS if re.fullmatch(p, key)), None)
        if maker is None:
            return
        # A section present by default is turned off with null; removing its key would
        # only bring its defaults back.
        by_default = node.get("default") is not None
        for dep, fleet, parts in explicit[:1]:
            off = None if by_default else REMOVE
            yield Variant(key, [Option(dep.name, fleet, "section removed", _setter(parts, off))])
        if by_default:
            return
        adds = []
        for dep, fleet, parts in possible:
            content = SECTIONS[maker](dep.ctx, dep.base, fleet)
            if content is not None:
                adds.append(Option(dep.name, fleet, f"section added: {shown(content)}", _setter(parts, content)))
        if adds:
            yield Variant(key, adds)
        return
    if key == "backend.type":  # another kind of backend: the whole block changes
        for dep, _fleet, _parts in explicit:
            kind = dep.base["backend"].get("type", "local")
            other = {"type": "s3", "bucket": "acme-ml-platform-terraform-state"} if kind != "s3" else {"type": "local"}
            yield Variant(key, [Option(dep.name, None, f"{kind} -> {other['type']}", _setter(["backend"], other))])
        return
    partner = EXCLUSIVE.get(key)
    groups = [[t] for t in explicit] or [possible]
    for group in groups:
        options = []
        for entry in group:
            dep, fleet, parts = entry
            write_out = written_out.get(id(entry))
            base = dep.base
            if write_out is not None:
                base = copy.deepcopy(dep.base)
                write_out(base)
            try:
                current = get_path(base, parts)
            except (KeyError, IndexError, TypeError):
                current = node.get("default")
            for value in candidates(key, current, node, dep.ctx, base, fleet):
                change = f"{shown(current)} -> {shown(value)}"
                mutate = _setter(parts, REMOVE if value is None else value)
                if write_out is not None:
                    mutate = _both(write_out, mutate)
                    change += " (the default list written out)"
                if partner and not _exists(dep.base, parts):  # one of two keys: the other goes
                    mutate = _both(mutate, _setter([*parts[:-1], partner], REMOVE))
                    change += f" (instead of {partner})"
                options.append(Option(dep.name, fleet, change, mutate))
        if options or group:
            yield Variant(key, options or [Option(group[0][0].name, group[0][1], "", lambda data: None)])


#: Keys of which a config sets exactly one: setting one removes the other.
EXCLUSIVE = {
    "fleets.<name>.launch_template.image_id": "image_ssm_parameter",
    "fleets.<name>.launch_template.image_ssm_parameter": "image_id",
}


def _both(*steps: Callable[[dict], None]) -> Callable[[dict], None]:
    def run(data: dict) -> None:
        for step in steps:
            step(data)

    return run


def _default_list(data: dict, parts: list[str]) -> tuple[list[str], list] | None:
    """For ``parts`` inside a list item (``...groups.0.name``) whose list ``data`` does
    not set, the list's path and its default items when the model gives it some;
    else None."""
    if "0" not in parts:
        return None
    list_path = parts[: parts.index("0")]
    if _exists(data, list_path):
        return None
    try:
        effective = EnvironmentConfig.model_validate(data).model_dump(mode="json", exclude_none=True)
        items = get_path(effective, list_path)
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return (list_path, items) if isinstance(items, list) and items else None


def _exists(data: dict, parts: list[str]) -> bool:
    try:
        get_path(data, parts)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _parent_defaults(key: str) -> bool:
    """Whether the section holding ``key`` exists by default (it is not an optional
    section of :data:`SECTIONS`, nor a list item), so the key can be set alone."""
    parent = key.rsplit(".", 1)[0]
    named_entry = parent.count("<name>") > 1  # an entry the user names inside a fleet
    return "[]" not in parent and not named_entry and not any(re.fullmatch(p, parent) for p in SECTIONS)


def _applies(key: str, data: dict) -> bool:
    """Whether ``key`` belongs to the example's kind of backend and network."""
    if key.startswith("backend."):
        field = key.split(".")[1]
        kinds = {
            "local": {"type", "path"},
            "s3": {
                "type",
                "bucket",
                "key",
                "region",
                "encrypt",
                "kms_key_id",
                "use_lockfile",
                "dynamodb_table",
                "assume_role",
            },
            "cloud": {"type", "organization", "hostname", "workspaces"},
        }
        return field in kinds[data.get("backend", {}).get("type", "local")]
    if key.startswith("network.create_vpc"):
        return "create_vpc" in data["network"]
    if key in ("network.vpc_id", "network.public_subnet_ids", "network.private_subnet_ids"):
        return "vpc_id" in data["network"]
    return True


def _setter(parts: list[str], value: Any) -> Callable[[dict], None]:
    return lambda data: set_path(data, parts, copy.deepcopy(value) if value is not REMOVE else REMOVE)


def synth_difference(base: dict, variant: dict) -> str:
    """``same``, ``backend`` (only the terraform block differs) or ``resources``."""
    strip = lambda d: {k: v for k, v in d.items() if k != "//"}  # noqa: E731
    if strip(base) == strip(variant):
        return "same"
    if {k: v for k, v in strip(base).items() if k != "terraform"} == {
        k: v for k, v in strip(variant).items() if k != "terraform"
    }:
        return "backend"
    return "resources"


class Run:
    """Measures variants on deployed examples: synthesizes in this thread, plans on a
    pool of workers, and collects :class:`Effect` entries."""

    def __init__(self, deployments: dict[str, Deployment], synth: Synthesizer, workers: int = 2):
        self.deployments, self.synth = deployments, synth
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plan")
        self.free: dict[str, queue.Queue[Path]] = {}
        self.baselines: dict[str, dict[str, dict]] = {}
        self.baseline_lock = threading.Lock()
        for name, dep in deployments.items():
            self.free[name] = queue.Queue()
            for i in range(workers):
                self.free[name].put(dep.worker(i))

    def baseline(self, dep: Deployment) -> dict[str, dict]:
        """The plan of the unchanged example against its state (what moto reports
        differently from AWS); computed once per example."""
        with self.baseline_lock:
            return self._baseline(dep)

    def _baseline(self, dep: Deployment) -> dict[str, dict]:
        if dep.name not in self.baselines:
            folder = self.free[dep.name].get()
            try:
                status, changes = dep.plan(dep.base_stack, folder)
            finally:
                self.free[dep.name].put(folder)
            assert status == "planned", changes
            self.baselines[dep.name] = changes
        return self.baselines[dep.name]

    def measure(self, variant: Variant) -> Future[Effect]:
        """Submit ``variant``; the future's result is its :class:`Effect`. Tries its
        options in order; the first valid config is synthesized, and planned unless the
        stack is the same (``no change``) or only its backend differs (``state
        location``)."""
        done: Future[Effect] = Future()
        first = variant.options[0]
        if variant.key in NEW_DEPLOYMENT:
            effect = Effect(
                variant.key, first.example, first.fleet, "another value", "new deployment", NEW_DEPLOYMENT[variant.key]
            )
            done.set_result(effect)
            return done
        errors: list[str] = []
        fallback: Effect | None = None
        for option in variant.options:
            dep = self.deployments[option.example]
            data = copy.deepcopy(dep.base)
            option.mutate(data)
            if data == dep.base:
                continue
            dep.config_file.write_text(yaml.safe_dump(data, sort_keys=False))
            try:
                problem = self.synth.validate(dep.config_file)
                if problem is not None:
                    errors.append(f"{option.change}: {problem}")
                    continue
                stack = self.synth(dep.config_file, dep.workdir / "variant.out")
            finally:
                dep.config_file.write_text(yaml.safe_dump(dep.base, sort_keys=False))
            kind = synth_difference(dep.base_stack, stack)
            base = (variant.key, option.example, option.fleet, option.change)
            if kind == "same":
                # Where the key has no effect (its feature is off there), another example
                # may show one: the first "no change" stands only when none does.
                fallback = fallback or Effect(*base, "no change", "the synthesized stack is the same")
                continue
            if kind == "backend":
                done.set_result(Effect(*base, "state location", STATE_LOCATION))
            else:
                self.pool.submit(self._plan, dep, variant.key, option, stack, done)
            return done
        if fallback is not None:
            done.set_result(fallback)
            return done
        text = errors[0] if errors else "no other valid value to try"
        done.set_result(
            Effect(
                variant.key,
                first.example,
                first.fleet,
                text.split(": ", 1)[0] if errors else "",
                "refused at synth",
                text.split(": ", 1)[-1],
            )
        )
        return done

    def _plan(self, dep: Deployment, key: str, option: Option, stack: dict, done: Future[Effect]) -> None:
        try:
            base = self.baseline(dep)
            folder = self.free[dep.name].get()
            try:
                status, changes = dep.plan(stack, folder)
            finally:
                self.free[dep.name].put(folder)
            effect = classify(key, dep.name, option.fleet, option.change, status, changes, base, stack, dep.base_stack)
            done.set_result(effect)
        except BaseException as exc:  # reported with the key by measure_all
            done.set_exception(exc)


def start_examples(
    names: list[str], workdir: Path, synth: Synthesizer, log: Callable[[str], None]
) -> tuple[dict[str, Deployment], list[MotoServer]]:
    """Start one emulator per example and deploy them all (in threads: most of the time
    is the emulator's ALB creation). Returns the deployments and the servers to stop."""
    deployments: dict[str, Deployment] = {}
    servers: list[MotoServer] = []
    for name in names:
        servers.append(MotoServer(workdir / f"moto-{name}.log").start())
        deployments[name] = Deployment(name, workdir / name, servers[-1].endpoint)
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        futures = {pool.submit(dep.deploy, synth): name for name, dep in deployments.items()}
        for future, name in futures.items():
            future.result()
            log(f"deployed {name}")
    return deployments, servers


def measure_all(
    deployments: dict[str, Deployment], synth: Synthesizer, keys: list[str] | None, log: Callable[[str], None]
) -> list[Effect]:
    """Every variant of every key (or of ``keys``), measured; in document order."""
    from stacks.config.reference import config_keys

    run = Run(deployments, synth)
    pending: list[tuple[str, Future[Effect]]] = []
    seen: set[str] = set()
    for key, node, section in config_keys():
        if keys is not None and key not in keys:
            continue
        if key in seen:  # a key of each backend kind: its variants cover every kind
            continue
        seen.add(key)
        found = False
        for variant in variants_of(key, node, section, deployments):
            found = True
            pending.append((key, run.measure(variant)))
        if not found and not section:
            pending.append((key, _unmeasured(key)))
    effects: list[Effect] = []
    for key, future in pending:
        try:
            effect = future.result()
        except Exception as exc:  # a tool or emulator failure: shown, and the run fails
            effect = Effect(key, "-", None, "", "not measured", f"{type(exc).__name__}: {exc}"[:500])
        log(f"{effect.example:<10} {key}: {effect.effect} ({effect.change}) {effect.summary[:100]}")
        effects.append(effect)
    run.pool.shutdown()
    return effects


def _unmeasured(key: str) -> Future[Effect]:
    done: Future[Effect] = Future()
    done.set_result(Effect(key, "-", None, "", "not measured", "no example has or can take this key alone", {}))
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", nargs="*", help="measure these keys only (config_keys paths)")
    parser.add_argument("--examples", nargs="*", default=list(PREFERRED), help="deploy these examples only")
    parser.add_argument("--check", action="store_true", help="compare with docs/change-effects.json, write nothing")
    parser.add_argument(
        "--update",
        action="store_true",
        help="with --keys: replace those keys' entries in docs/change-effects.json (the rest and the run time stay)",
    )
    parser.add_argument(
        "--attach",
        nargs=3,
        metavar=("EXAMPLE", "PROJECT", "ENDPOINT"),
        help="measure against EXAMPLE already deployed from the project copy PROJECT on the emulator at ENDPOINT",
    )
    args = parser.parse_args(argv)
    start = time.monotonic()

    def log(line: str) -> None:
        print(f"[{time.monotonic() - start:6.0f} s] {line}", flush=True)

    with tempfile.TemporaryDirectory(prefix="change-effects-") as tmp:
        synth = Synthesizer()
        servers: list[MotoServer] = []
        if args.attach:
            name, project, endpoint = args.attach
            deployments = {name: Deployment(name, Path(tmp) / name, endpoint, Path(project))}
        else:
            names = [n for n in PREFERRED if n in args.examples]
            assert {p.stem for p in EXAMPLES} >= set(names)
            deployments, servers = start_examples(names, Path(tmp), synth, log)
        try:
            effects = measure_all(deployments, synth, args.keys, log)
        finally:
            for server in servers:
                server.stop()
    seconds = time.monotonic() - start
    gate = [e for e in effects if e.destroys_serving_first()]
    for e in gate:
        print(f"GATE: {e.key} on {e.example}: {e.summary}", file=sys.stderr)
    failed = [e for e in effects if e.effect == "not measured"]
    for e in failed:
        print(f"not measured: {e.key}: {e.summary}", file=sys.stderr)
    if args.check:
        committed = {(e["key"], e["example"], e["fleet"]): e for e in json.loads(DOC_JSON.read_text())["effects"]}
        stale = [e for e in effects if committed.get((e.key, e.example, e.fleet)) != e.entry()]
        for e in stale:
            print(f"stale: {e.key} on {e.example}: measured {e.effect}: {e.summary}", file=sys.stderr)
        return 1 if stale or gate or failed else 0
    if args.update and args.keys and not args.attach and args.examples == list(PREFERRED) and not (gate or failed):
        document = json.loads(DOC_JSON.read_text())
        old = document["effects"]
        keys = set(args.keys)
        at = next((i for i, e in enumerate(old) if e["key"] in keys), len(old))
        kept = [e for e in old[:at] if e["key"] not in keys]
        document["effects"] = [*kept, *(e.entry() for e in effects), *(e for e in old[at:] if e["key"] not in keys)]
        DOC_JSON.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        DOC_MD.write_text(render(document["effects"], document["seconds"]))
        print(f"updated {len(effects)} entries in {DOC_JSON.relative_to(ROOT)} and {DOC_MD.relative_to(ROOT)}")
    elif args.keys is None and not args.attach and args.examples == list(PREFERRED):
        document = {"effects": [e.entry() for e in effects], "seconds": round(seconds)}
        DOC_JSON.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        DOC_MD.write_text(render(document["effects"], document["seconds"]))
        print(f"wrote {DOC_JSON.relative_to(ROOT)} and {DOC_MD.relative_to(ROOT)} in {seconds:.0f} s")
    else:
        for e in effects:
            print(json.dumps(e.entry(), sort_keys=True))
    return 1 if gate or failed else 0


if __name__ == "__main__":
    sys.exit(main())
