"""A local AWS emulator (moto's server) and the Terraform override that points a
synthesized stack at it: used by ``make try`` (stacks/cli/try_stack.py), the
end-to-end tests and the change-effects tool. Needs the dev packages (moto, boto3).

The override file is written beside ``cdk.tf.json`` only for the emulator (Terraform
merges ``*_override.tf.json`` files into the configuration, see "Override Files" in the
Terraform language docs), so the synthesized JSON never contains emulator settings.

Every workaround for a gap of the emulator is named here, with the moto behaviour
that makes it necessary. Each one applies only to the attribute concerned; the
assertions of the tests are not weakened.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import botocore.exceptions  # type: ignore[import-untyped]

OVERRIDE_FILE = "emulator_override.tf.json"

#: Provider endpoint keys sent to the emulator: every service the stacks use (EC2,
#: ELBv2, Auto Scaling, IAM, SSM, STS, CloudWatch Logs) plus the ones the topology is
#: expected to grow into (alarms, notifications, certificates, keys, an S3 backend).
#: A service missing here would go to real AWS with dummy keys and fail loudly.
SERVICES = (
    "acm",
    "autoscaling",
    "cloudwatch",
    "ec2",
    "elbv2",
    "iam",
    "kms",
    "logs",
    "s3",
    "sns",
    "ssm",
    "sts",
    "wafv2",
)

DUMMY_KEYS = {"access_key": "testing", "secret_key": "testing"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """moto's server (``python -m stacks.moto_server``) on 127.0.0.1, started from this
    interpreter's environment (the project's ``.venv``, where moto[server] is a dev
    dependency).

    ``endpoint`` is its URL. ``start()`` waits (up to ``timeout`` seconds) until it
    answers and raises ``RuntimeError`` with its log otherwise; ``stop()`` terminates it.
    The server runs with the workarounds of :mod:`stacks.moto_server`; ``patched=False``
    runs moto as it is (tests that show why a workaround exists).
    """

    def __init__(self, log_path: Path, timeout: float = 60, patched: bool = True):
        self.patched = patched
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.timeout = timeout
        self.process: subprocess.Popen | None = None

    def start(self, detach: bool = False) -> MotoServer:
        """Start the server (``detach``: in its own session, so it outlives this process
        and a Ctrl-C in its terminal) and wait until it answers."""
        env = dict(os.environ)
        # AWS managed policies (AmazonSSMManagedInstanceCore, which every fleet role
        # gets) exist in every real account; moto ships them but loads them only on
        # request.
        env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            env.pop(key, None)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stacks.moto_server" if self.patched else "moto.server",
                *("-H", "127.0.0.1", "-p", str(self.port)),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=detach,
        )
        deadline = time.monotonic() + self.timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):
                    return self
            except OSError as exc:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server did not answer in {self.timeout} s:\n{self.log()}") from exc
                time.sleep(0.2)

    def status(self) -> str:
        """``running``, or how the server process ended (for failure messages: a
        server killed from outside shows up as ``exited with -15``)."""
        if self.process is None:
            return "not started"
        code = self.process.poll()
        return "running" if code is None else f"exited with {code}"

    def log(self) -> str:
        """The server's output so far (its request log), for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()


class Aws:
    """boto3 clients for one region of the emulator (``aws.elbv2``, ``aws.ec2``...)."""

    def __init__(self, endpoint: str, region: str):
        self.endpoint, self.region = endpoint, region
        self._clients: dict[str, object] = {}

    def __getattr__(self, service: str):
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = boto3.session.Session().client(
                service,
                endpoint_url=self.endpoint,
                region_name=self.region,
                aws_access_key_id=DUMMY_KEYS["access_key"],
                aws_secret_access_key=DUMMY_KEYS["secret_key"],
            )
        return self._clients[service]


def mixed_policy_dropped(asg: dict) -> bool:
    """True for a synthesized group whose mixed instances policy moto drops: one created
    with desired capacity 0 comes back with neither a policy nor a template."""
    return "mixed_instances_policy" in asg and asg.get("desired_capacity") == 0


#: Group attributes moto 5.2.5 accepts and never returns (CreateAutoScalingGroup,
#: DescribeAutoScalingGroups), so they re-plan forever: ignored on the emulator. With
#: AvailabilityZoneDistribution unreturned, the provider also re-plans an empty
#: ``capacity_reservation_specification`` the stack never sets.
_UNSTORED_GROUP_ATTRIBUTES = (
    "capacity_reservation_specification",
    "default_instance_warmup",
    "instance_maintenance_policy",
    "availability_zone_distribution",
)


def override(
    stack: dict,
    endpoint: str,
    *,
    ignore_predictive_scaling: bool = True,
    workarounds: bool = True,
    allow_destroy: bool = False,
) -> dict:
    """The test-only override for the synthesized stack ``stack`` (parsed
    ``cdk.tf.json``), pointing the AWS provider at ``endpoint``.

    Provider: the emulator's endpoint for every service in :data:`SERVICES`, dummy
    keys, no credential validation or instance metadata lookup, path-style S3. The
    account ID is still requested (moto answers STS; skipping it makes rules that
    reference another security group re-plan as changed).

    Resources, per moto gap (each is needed for the step named):

    - ``aws_autoscaling_group`` with a mixed instances policy: moto launches fewer
      instances than desired (one for desired 2), so Terraform's wait for capacity would
      time out: ``wait_for_capacity_timeout = "0"`` (apply).
    - ``aws_autoscaling_group`` with ``instance_refresh``: moto does not implement
      StartInstanceRefresh, which the provider calls when the launch template version
      changes: the block is overridden by an empty ``dynamic`` block (AMI change). The
      product keeps the block (tests/synth/test_synth_output.py checks it).
    - ``aws_autoscaling_group``: moto does not store DefaultInstanceWarmup,
      InstanceMaintenancePolicy or AvailabilityZoneDistribution, so they re-plan
      forever, and an empty ``capacity_reservation_specification`` re-plans beside
      them: ignored (idempotence). The product's own
      ``ignore_changes`` entries (``desired_capacity``) are kept as they are.
    - ``aws_autoscaling_policy``: moto reports ``enabled = false`` and an empty
      predictive scaling block for target tracking policies: ignored (idempotence).
      An ignored block is sent back on the next update, and the SDK rejects it
      (``PredictiveScalingConfiguration.MetricSpecifications`` missing), so a step
      whose plan updates a policy passes ``ignore_predictive_scaling=False``: that plan
      also drops the block moto invented, and the update is the product's own.
    - ``aws_autoscaling_lifecycle_hook``: moto answers every hook with a made-up
      ``RoleARN`` and ``NotificationTargetARN`` (an SQS queue), which the stack never
      sets: both ignored (idempotence).
    - ``aws_launch_template``: moto returns the provider's ``default_tags`` as an extra
      ``launch-template`` tag specification: ``tag_specifications`` ignored
      (idempotence).
    - ``aws_vpc_security_group_ingress_rule``/``egress_rule`` that reference another
      security group: moto drops their ``description``: ignored (idempotence).

    ``workarounds=False`` leaves out every resource workaround (provider and backend
    settings only), for plans that are compared, never applied (tests/change_effects.py).
    ``allow_destroy=True`` turns the product's ``prevent_destroy`` off (a protected load
    balancer), for ``make try``'s destroy: Terraform merges an override's ``lifecycle``
    argument by argument.
    """
    resources: dict[str, dict] = {}

    def ignore(rtype: str, name: str, *attrs: str) -> None:
        body = resources.setdefault(rtype, {}).setdefault(name, {})
        own = stack["resource"][rtype][name].get("lifecycle", {}).get("ignore_changes", [])
        # An override's ignore_changes replaces the original list: keep the product's.
        body["lifecycle"] = {"ignore_changes": [*own, *(a for a in attrs if a not in own)]}

    for name, asg in (stack.get("resource", {}) if workarounds else {}).get("aws_autoscaling_group", {}).items():
        ignore("aws_autoscaling_group", name, *_UNSTORED_GROUP_ATTRIBUTES)
        body = resources["aws_autoscaling_group"][name]
        if "mixed_instances_policy" in asg:
            body["wait_for_capacity_timeout"] = "0"
            if mixed_policy_dropped(asg):
                # moto drops the mixed instances policy of a group created with desired
                # capacity 0 (describe returns no policy): ignored (idempotence).
                ignore("aws_autoscaling_group", name, *_UNSTORED_GROUP_ATTRIBUTES, "mixed_instances_policy")
        if "instance_refresh" in asg:
            body["dynamic"] = {"instance_refresh": {"for_each": [], "content": {"strategy": "Rolling"}}}
    for name in (stack.get("resource", {}) if workarounds else {}).get("aws_autoscaling_policy", {}):
        ignore(
            "aws_autoscaling_policy",
            name,
            "enabled",
            *(["predictive_scaling_configuration"] if ignore_predictive_scaling else []),
        )
    for name in (stack.get("resource", {}) if workarounds else {}).get("aws_autoscaling_lifecycle_hook", {}):
        ignore("aws_autoscaling_lifecycle_hook", name, "notification_target_arn", "role_arn")
    for name in (stack.get("resource", {}) if workarounds else {}).get("aws_launch_template", {}):
        ignore("aws_launch_template", name, "tag_specifications")
    for rtype in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        for name, rule in (stack.get("resource", {}) if workarounds else {}).get(rtype, {}).items():
            if "referenced_security_group_id" in rule:
                ignore(rtype, name, "description")

    if allow_destroy:
        for rtype, items in stack.get("resource", {}).items():
            for name, body in items.items():
                if body.get("lifecycle", {}).get("prevent_destroy"):
                    lifecycle = resources.setdefault(rtype, {}).setdefault(name, {}).setdefault("lifecycle", {})
                    lifecycle["prevent_destroy"] = False

    provider = {
        **DUMMY_KEYS,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": True,
        "s3_use_path_style": True,
        "endpoints": [dict.fromkeys(SERVICES, endpoint)],
    }
    out: dict = {"provider": {"aws": provider}}
    if resources:  # Terraform JSON refuses an empty resource block
        out["resource"] = resources
    backend = stack.get("terraform", {})
    if "cloud" in backend or set(backend.get("backend", {})) - {"local"}:
        # State in S3 or HCP Terraform needs those services: the override's backend block
        # takes precedence over the original backend or cloud block (Terraform override
        # files), so the emulated stack keeps its state in a local file. The S3 backend
        # itself round-trips state against moto in tests/synth/test_backends.py.
        out["terraform"] = {"backend": {"local": {"path": "terraform.tfstate"}}}
    return out


#: What each resource workaround of :func:`override` is for, by the attribute it sets.
GAP_NOTES = {
    "wait_for_capacity_timeout": "mixed-instances groups get fewer instances than desired: "
    "Terraform does not wait for capacity there",
    "instance_refresh": "no StartInstanceRefresh: the groups' instance_refresh block is left out",
    "default_instance_warmup": "DefaultInstanceWarmup is not stored: ignored",
    "instance_maintenance_policy": "InstanceMaintenancePolicy is not stored (replacements are not "
    "emulated either): ignored",
    "availability_zone_distribution": "AvailabilityZoneDistribution is not stored: ignored",
    "capacity_reservation_specification": "an empty capacity_reservation_specification re-plans on groups: ignored",
    "mixed_instances_policy": "the mixed instances policy of a group created with desired capacity 0 "
    "is dropped: ignored",
    "enabled": "target tracking policies come back disabled, with a made-up predictive block: ignored",
    "role_arn": "lifecycle hooks come back with made-up role and notification ARNs: ignored",
    "tag_specifications": "launch templates echo the provider's default_tags: ignored",
    "description": "rules that reference a security group lose their description: ignored",
}


def emulator_gaps(stack: dict) -> list[str]:
    """One line per emulator gap :func:`override` works around for ``stack`` (the parsed
    ``cdk.tf.json``), in :data:`GAP_NOTES` order."""
    text = json.dumps(override(stack, "http://127.0.0.1"))
    return [note for attr, note in GAP_NOTES.items() if f'"{attr}"' in text]


def write_override(stack_dir: Path, endpoint: str, **options) -> Path:
    """Write :func:`override` (``options`` are its keyword options) for
    ``stack_dir/cdk.tf.json`` beside it; return its path."""
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    path = stack_dir / OVERRIDE_FILE
    path.write_text(json.dumps(override(stack, endpoint, **options), indent=2, sort_keys=True) + "\n")
    return path


def seed_existing_network(aws: Aws, azs: list[str], cidr: str = "10.30.0.0/16") -> dict:
    """Create what a config with existing IDs expects to find: a VPC with an internet
    gateway, one public and one private subnet in each AZ of ``azs``.

    Returns ``{"vpc_id", "public_subnet_ids", "private_subnet_ids"}``.
    """
    vpc_id = aws.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    igw = aws.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    aws.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    base = cidr.split(".")
    public: list[str] = []
    private: list[str] = []
    for i, az in enumerate(azs):
        for kind, offset, ids in (("public", 0, public), ("private", 100, private)):
            block = f"{base[0]}.{base[1]}.{offset + i}.0/24"
            subnet = aws.ec2.create_subnet(VpcId=vpc_id, CidrBlock=block, AvailabilityZone=az)["Subnet"]
            aws.ec2.create_tags(Resources=[subnet["SubnetId"]], Tags=[{"Key": "tier", "Value": kind}])
            ids.append(subnet["SubnetId"])
    return {"vpc_id": vpc_id, "public_subnet_ids": public, "private_subnet_ids": private}


def known_amis(aws: Aws, count: int = 2) -> list[str]:
    """``count`` distinct x86_64 AMI IDs the emulator can launch, from its Amazon Linux
    public SSM parameters (the same source as the dev example's AMI). Raises
    RuntimeError when it knows fewer."""
    pages = aws.ssm.get_paginator("get_parameters_by_path").paginate(Path="/aws/service/ami-amazon-linux-latest")
    params = [p for page in pages for p in page["Parameters"]]
    ids: list[str] = []
    for p in sorted(params, key=lambda p: p["Name"]):
        if p["Name"].endswith("x86_64") and p["Value"] not in ids:
            ids.append(p["Value"])
    images = {i["ImageId"] for i in aws.ec2.describe_images(ImageIds=ids)["Images"]}
    ids = [i for i in ids if i in images]
    if len(ids) < count:
        raise RuntimeError(f"the emulator knows too few Amazon Linux AMIs: {ids}")
    return ids[:count]


#: Test-owned parameter the examples that read a Deep Learning AMI parameter read theirs
#: from. moto does not pre-populate the AWS Deep Learning AMI public parameters, and
#: refuses to create names under /aws/ (reserved, as in AWS); the product reads any
#: parameter name the same way.
PROD_AMI_PARAMETER = "/ai-fleet-e2e/deeplearning/base-oss-nvidia-driver-gpu-amazon-linux-2023/ami-id"


def _image_known(aws: Aws, image_id: str) -> bool:
    try:
        return bool(aws.ec2.describe_images(ImageIds=[image_id])["Images"])
    except botocore.exceptions.ClientError:
        return False


def prepare_example(aws: Aws, data: dict) -> dict:
    """Make an example config (its YAML ``data``, changed in place) deployable on the
    emulator, creating there what it expects to find: for existing network IDs a VPC
    and subnets in distinct AZs (:func:`seed_existing_network`), an ACM certificate when
    it has one (with either network), the AMI parameter (:data:`PROD_AMI_PARAMETER`,
    holding a known AMI) for every fleet that reads a parameter moto does not have, and
    a known AMI for an ``image_id`` moto does not know. Every other value
    stays as shipped. Returns ``{"amis": [...], "existing": {...} or None}``."""
    amis = known_amis(aws)
    aws.ssm.put_parameter(Name=PROD_AMI_PARAMETER, Value=amis[0], Type="String", DataType="aws:ec2:image")
    existing = None
    if "create_vpc" not in data["network"]:
        n = max(len(data["network"]["public_subnet_ids"]), len(data["network"]["private_subnet_ids"]))
        azs = [z["ZoneName"] for z in aws.ec2.describe_availability_zones()["AvailabilityZones"]][:n]
        existing = seed_existing_network(aws, azs)
        data["network"] = {
            "vpc_id": existing["vpc_id"],
            "public_subnet_ids": existing["public_subnet_ids"][: len(data["network"]["public_subnet_ids"])],
            "private_subnet_ids": existing["private_subnet_ids"][: len(data["network"]["private_subnet_ids"])],
        }
    if data["load_balancer"].get("certificate_arn"):
        cert = aws.acm.request_certificate(DomainName=f"{data['name']}.example.com")["CertificateArn"]
        data["load_balancer"]["certificate_arn"] = cert
    for fleet in data["fleets"].values():
        lt = fleet["launch_template"]
        param = lt.get("image_ssm_parameter")
        # moto pre-populates only the Amazon Linux public parameters.
        if param and (existing is not None or not param.startswith("/aws/service/ami-amazon-linux-latest/")):
            lt["image_ssm_parameter"] = PROD_AMI_PARAMETER
        if lt.get("image_id") and not _image_known(aws, lt["image_id"]):
            lt["image_id"] = amis[0]  # an AMI of your account: moto knows only its own
    return {"amis": amis, "existing": existing}
