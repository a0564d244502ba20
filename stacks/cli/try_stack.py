"""``make try STACK=<name>``: apply one environment's stack to a local AWS emulator,
show what was created, then destroy it.

``python -m stacks.cli.try_stack NAME [--keep] [--workdir DIR] [--mirror DIR]``

Starts moto's server on 127.0.0.1 (stacks/emulator.py, the settings the tests use),
creates there what the config expects to find (existing VPC and subnets, a certificate,
an AMI parameter moto does not have: each substitution is printed), synthesizes that
copy of ``config/NAME.yaml`` into ``DIR/cdktf.out`` (default ``.try/NAME``), writes the
emulator override beside it (the provider pointed at the emulator, each emulator gap
worked around by name and printed), then ``terraform init`` and ``apply``. Prints the
resources created, the load balancer's DNS name and the health of each fleet's targets,
then ``terraform destroy`` and stops the emulator. ``--keep`` leaves both up and prints
how to point ``terraform`` and the AWS CLI at them (``DIR/env.sh``).

Needs the dev packages (``make install``) and Terraform with the ``hashicorp/aws``
provider from the registry, or from the filesystem mirror ``--mirror DIR`` (default
``$TF_PLUGIN_MIRROR``, else ``/opt/tf-plugins`` when it exists). Exit codes: 0 applied
(and destroyed unless ``--keep``), 1 a step failed (its output is printed; the emulator
is stopped unless ``--keep``), 2 invalid config or arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..config import ConfigError, load_config
from ..config.environments import DEFAULT_CONFIG_DIR
from .common import print_problems

if TYPE_CHECKING:  # the emulator needs the dev packages: imported when it runs
    from ..emulator import Aws, MotoServer

#: Provider mirror used when neither ``--mirror`` nor ``$TF_PLUGIN_MIRROR`` is given.
DEFAULT_MIRROR = Path("/opt/tf-plugins")

#: Emulator gaps that hold for every stack (the override works around the others).
GENERAL_GAPS = (
    "health checks are not run: target health is the state moto reports, not a probe",
    "unhealthy instances are not replaced; scheduled actions and alarms never fire",
    "deletion protection, warm pool rules and most cross-field AWS rules are not enforced",
    "deleting a deleted target group fails in moto; the emulator's server lets it succeed, as AWS does",
)


class StepFailed(Exception):
    """A Terraform or emulator step failed; the message holds its output."""


def mirror_dir(arg: str | None) -> Path | None:
    """The provider mirror to install ``hashicorp/aws`` from, or None for the registry."""
    chosen = arg or os.environ.get("TF_PLUGIN_MIRROR")
    if chosen:
        return Path(chosen)
    return DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None


def terraform_env(work: Path, mirror: Path | None) -> dict[str, str]:
    """The environment for ``terraform``: no prompts, no checkpoint calls, and a CLI
    config in ``work`` that installs ``hashicorp/*`` from ``mirror`` when given."""
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
    if mirror is not None:
        rc = work / "terraformrc"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
        )
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    return env


def terraform(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run ``terraform ARGS -no-color`` in ``cwd``; return stdout, raise StepFailed with
    the tail of its output when it fails."""
    result = subprocess.run(
        ["terraform", *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-40:])
        raise StepFailed(f"terraform {args[0]} failed:\n{tail}")
    return result.stdout


#: The file that marks a work folder as this tool's: only such a folder is ever emptied.
MARKER = ".ai-fleet-try"


def stop_kept(work: Path) -> None:
    """Stop the emulator an earlier run left up for this work folder (its ``moto.pid``),
    if that process is still a moto server (a stale file's PID may be another's now)."""
    try:
        pid = int((work / "moto.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if b"moto.server" in cmdline or b"stacks.moto_server" in cmdline:
        os.kill(pid, signal.SIGTERM)
        print(f"stopped the emulator an earlier `make try KEEP=1` left up (pid {pid})")


def work_problem(work: Path) -> str | None:
    """Why ``work`` cannot be the work folder (it exists, is not empty and is not one
    this tool made), or None."""
    if not work.exists():
        return None
    if not work.is_dir():
        return f"--workdir {work} is not a folder"
    if any(work.iterdir()) and not (work / MARKER).is_file():
        return f"--workdir {work} holds files this tool did not write: give an empty or new folder"
    return None


def read_user_data(source: Path, data: dict[str, Any], work: Path) -> dict[Path, bytes]:
    """The user data files ``data`` names, by where the config copy in ``work/config``
    finds them, read now (the work folder is emptied next). Raises StepFailed for a path
    that would land outside ``work``."""
    files: dict[Path, bytes] = {}
    for fleet in data.get("fleets", {}).values():
        rel = fleet.get("launch_template", {}).get("user_data_file")
        if rel:
            dst = (work / "config" / rel).resolve()
            if not dst.is_relative_to(work):
                raise StepFailed(
                    f"{source}: user_data_file {rel!r}: the try copies it beside a copy of the config in {work}, "
                    "where this path leads outside; use a path inside the project"
                )
            files[dst] = (source.parent / rel).read_bytes()
    return files


def prepared_config(
    aws: Aws, source: Path, original: dict[str, Any], work: Path, user_data: dict[Path, bytes]
) -> tuple[Path, list[str]]:
    """Write ``work/config/<name>.yaml``: ``original`` (the YAML data of ``source``,
    left as it is) made deployable on the emulator (stacks.emulator.prepare_example),
    and the user data files it names (``user_data``, from :func:`read_user_data`) beside
    it. Returns the file and one line per value the emulator needed changed."""
    from ..emulator import prepare_example

    data = json.loads(json.dumps(original))
    prepare_example(aws, data)
    changed = []
    if data["network"] != original["network"]:
        changed.append("network: the existing VPC and subnet IDs replaced by ones created on the emulator")
    if data["load_balancer"].get("certificate_arn") != original["load_balancer"].get("certificate_arn"):
        changed.append("load_balancer.certificate_arn: a certificate requested on the emulator")
    for name, fleet in data["fleets"].items():
        lt, old = fleet["launch_template"], original["fleets"][name]["launch_template"]
        for key in ("image_ssm_parameter", "image_id"):
            if lt.get(key) != old.get(key) and lt.get(key):
                changed.append(
                    f"fleets.{name}.launch_template.{key}: {lt[key]} (an Amazon Linux AMI the emulator knows)"
                )
    target = work / "config" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    for dst, content in user_data.items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(content)
    return target, changed


def report(aws: Aws, stack_dir: Path, env: dict[str, str]) -> None:
    """Print the resources in the state, the ALB DNS name and each target group's
    target health."""
    addresses = terraform(["state", "list"], stack_dir, env).split()
    kinds = Counter(a.split(".")[0] for a in addresses if not a.startswith("data."))
    print(f"created {sum(kinds.values())} resources:")
    for kind, count in sorted(kinds.items()):
        print(f"  {count:3d} {kind}")
    outputs = {k: v["value"] for k, v in json.loads(terraform(["output", "-json"], stack_dir, env)).items()}
    print(f"load balancer DNS name: {outputs.get('alb_dns_name')}")
    for key in sorted(k for k in outputs if k.endswith("_target_group_arn")):
        health = aws.elbv2.describe_target_health(TargetGroupArn=outputs[key])["TargetHealthDescriptions"]
        states = Counter(t["TargetHealth"]["State"] for t in health)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no targets registered"
        print(f"targets of {key.removesuffix('_target_group_arn')}: {summary}")


def main(argv: list[str] | None = None, prog: str = "python -m stacks.cli.try_stack") -> int:
    """Entry point (``prog`` names it in usage messages); returns the exit code (see the
    module docstring)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Apply one environment's stack to a local AWS emulator (moto on 127.0.0.1), show what was "
        "created, then destroy it. Needs the dev packages (make install, or pip install '.[try]').",
    )
    parser.add_argument("stack", help="environment name: config/<name>.yaml")
    parser.add_argument("--keep", action="store_true", help="leave the stack and the emulator up")
    parser.add_argument("--workdir", help="work folder (default .try/<name>)")
    parser.add_argument("--mirror", help="provider filesystem mirror (default $TF_PLUGIN_MIRROR or /opt/tf-plugins)")
    args = parser.parse_args(argv)
    source = DEFAULT_CONFIG_DIR / f"{args.stack}.yaml"
    if not source.is_file():
        known = (
            ", ".join(sorted(p.stem for p in DEFAULT_CONFIG_DIR.glob("*.yaml")))
            or f"none (no {DEFAULT_CONFIG_DIR}/*.yaml here)"
        )
        print(f"error: STACK={args.stack}: no {source}; the environments are: {known}", file=sys.stderr)
        return 2
    try:
        cfg = load_config(source)
    except ConfigError as exc:
        return print_problems(exc, "nothing was deployed.")
    if shutil.which("terraform") is None:
        print("error: `terraform` must be on the PATH", file=sys.stderr)
        return 1
    try:
        from ..emulator import Aws, MotoServer, emulator_gaps, write_override
    except ImportError as exc:
        print(f"error: the emulator needs the dev packages ({exc}): run `make install`", file=sys.stderr)
        return 1

    work = Path(args.workdir or f".try/{args.stack}").resolve()
    problem = work_problem(work)
    mirror = mirror_dir(args.mirror)
    if problem is None and mirror is not None and not mirror.is_dir():
        problem = f"provider mirror {mirror} is not a folder (--mirror or TF_PLUGIN_MIRROR)"
    original = yaml.safe_load(source.read_text())  # load_config read it: valid YAML
    try:
        user_data = read_user_data(source, original, work)
    except (StepFailed, OSError) as exc:
        problem = problem or str(exc)
    if problem:
        print(f"error: {problem}. Nothing was deployed.", file=sys.stderr)
        return 2
    stop_kept(work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / MARKER).write_text("work folder of `make try` (stacks/cli/try_stack.py): emptied by the next run\n")
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so the emulator is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server = MotoServer(work / "moto.log").start(detach=args.keep)
    assert server.process is not None
    (work / "moto.pid").write_text(f"{server.process.pid}\n")  # a later run stops a leftover
    aws = Aws(server.endpoint, cfg.region)
    env = terraform_env(work, mirror)
    stack_dir = work / "cdktf.out" / "stacks" / cfg.name
    print(f"emulator: moto on {server.endpoint} (log {work / 'moto.log'})")
    try:
        config_file, changed = prepared_config(aws, source, original, work, user_data)
        for line in changed:
            print(f"changed for the emulator: {line}")
        from ..synthesis import synthesize

        synthesize([(config_file, load_config(config_file))], work / "cdktf.out")
        stack = json.loads((stack_dir / "cdk.tf.json").read_text())
        write_override(stack_dir, server.endpoint)
        print("emulator gaps (each worked around by name in emulator_override.tf.json, or not emulated):")
        for gap in [*emulator_gaps(stack), *GENERAL_GAPS]:
            print(f"  - {gap}")
        print("terraform init ...", flush=True)
        terraform(["init", "-input=false"], stack_dir, env)
        print("terraform apply (a load balancer takes about a minute on the emulator) ...", flush=True)
        terraform(["apply", "-auto-approve", "-input=false"], stack_dir, env)
        report(aws, stack_dir, env)
        if args.keep:
            keep_notes(work, stack_dir, server, cfg.region, env)
            return 0
        print("terraform destroy ...", flush=True)
        write_override(stack_dir, server.endpoint, allow_destroy=True)
        terraform(["destroy", "-auto-approve", "-input=false"], stack_dir, env)
        print("destroyed; emulator stopped")
        return 0
    except (StepFailed, RuntimeError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.keep:
            keep_notes(work, stack_dir, server, cfg.region, env)
        else:
            print(f"the emulator is stopped; its state is lost with it (log {work / 'moto.log'})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        kept = f": the emulator keeps running (pid {server.process.pid}, {work / 'moto.pid'})" if args.keep else ""
        print(f"interrupted{kept}", file=sys.stderr)
        return 130
    finally:
        if not args.keep:
            server.stop()
            (work / "moto.pid").unlink(missing_ok=True)


def keep_notes(work: Path, stack_dir: Path, server: MotoServer, region: str, env: dict[str, str]) -> None:
    """Write ``work/env.sh`` and print how to use it and how to stop the emulator."""
    assert server.process is not None
    lines = {
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if "TF_CLI_CONFIG_FILE" in env:
        lines["TF_CLI_CONFIG_FILE"] = env["TF_CLI_CONFIG_FILE"]
    (work / "env.sh").write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in lines.items()))
    env_sh, here = shlex.quote(str(work / "env.sh")), shlex.quote(str(stack_dir))
    print(f"kept: the emulator runs as pid {server.process.pid} on {server.endpoint}")
    print(f"  terraform:  . {env_sh} && cd {here} && terraform plan")
    print("              (emulator_override.tf.json there points the provider at the emulator)")
    print(f"  AWS CLI:    . {env_sh} && aws elbv2 describe-load-balancers")
    print(f"  stop it:    kill {server.process.pid}   (`make try STACK={stack_dir.name}` again stops it first)")


if __name__ == "__main__":
    sys.exit(main())
