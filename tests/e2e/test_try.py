"""``make try STACK=<name>`` (stacks/cli/try_stack.py): prod applied and destroyed on its
own emulator (existing network and certificate substituted, its protected load
balancer destroyed through the override), then dev kept up and reachable as the
printed notes say."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from helpers import env, run_try

pytestmark = pytest.mark.e2e


def answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
            return True
    except OSError:
        return False


def test_unknown_stack_is_refused_with_the_names():
    result = run_try("nope")
    assert result.returncode == 2
    assert "STACK=nope: no config/nope.yaml; the environments are: dev, prod, prod-multi, staging" in result.stderr


def test_try_applies_reports_and_destroys_or_keeps(tmp_path):
    prod_dir, dev_dir = tmp_path / "prod", tmp_path / "dev"
    # One after the other: two applies at once on 2 cores made moto answer a route
    # creation twice once (RouteAlreadyExists; see the flake noted in docs/testing.md).
    prod = run_try("prod", "--workdir", str(prod_dir))
    dev = run_try("dev", "--workdir", str(dev_dir), "--keep")

    assert prod.returncode == 0, prod.stdout + prod.stderr
    out = prod.stdout
    assert "changed for the emulator: network:" in out
    assert "changed for the emulator: load_balancer.certificate_arn" in out
    assert "no StartInstanceRefresh" in out
    assert "load balancer DNS name: prod-alb-" in out
    assert "targets of chat: 2 healthy" in out
    assert out.rstrip().endswith("destroyed; emulator stopped")
    endpoint = out.split("emulator: moto on ", 1)[1].split()[0]
    assert not answers(endpoint), "the emulator still runs after the try"

    pid_file = dev_dir / "moto.pid"
    pid = int(pid_file.read_text()) if pid_file.is_file() else None  # kept even when the try failed
    try:
        assert dev.returncode == 0, dev.stdout + dev.stderr
        assert pid is not None
        assert "changed for the emulator" not in dev.stdout  # dev deploys as shipped
        assert "targets of chat: 1 healthy" in dev.stdout
        exports = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1)
            for line in (dev_dir / "env.sh").read_text().splitlines()
        )
        elb = boto3.client(
            "elbv2",
            endpoint_url=exports["AWS_ENDPOINT_URL"],
            region_name=exports["AWS_REGION"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        [alb] = elb.describe_load_balancers()["LoadBalancers"]
        assert f"load balancer DNS name: {alb['DNSName']}" in dev.stdout
        stack_dir = dev_dir / "cdktf.out" / "stacks" / "dev"
        plan = subprocess.run(
            ["terraform", "plan", "-detailed-exitcode", "-no-color"],
            cwd=stack_dir,
            env={**env(), **exports, "TF_IN_AUTOMATION": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert plan.returncode == 0, plan.stdout + plan.stderr  # kept, and settled
    finally:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while answers(exports["AWS_ENDPOINT_URL"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Path(stack_dir / "emulator_override.tf.json").is_file()
