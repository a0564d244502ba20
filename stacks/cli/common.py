"""What every command line shares: printing config problems, checking the Terraform CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from ..config import ConfigError


def print_problems(exc: ConfigError, outcome: str) -> int:
    """Print one ``error: <file>: <field>: <message>`` line per problem of ``exc`` to
    stderr, then ``N problem(s) found; <outcome>`` (``outcome`` says what the command
    did not do, for example ``nothing was written.``). Returns 2, the exit code for
    invalid configs, so a command can ``return print_problems(...)``."""
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{len(exc.problems)} problem(s) found; {outcome}", file=sys.stderr)
    return 2


#: Oldest Terraform that understands the ``cloud`` block (Terraform 1.1).
CLOUD_BLOCK_MIN_TERRAFORM = (1, 1)


def terraform_cli_problem(cloud_stacks: list[str]) -> str | None:
    """Why the Terraform CLI on the PATH cannot run ``cloud_stacks`` (stacks with a
    ``cloud`` block), or None when it can (or there are none).

    cdktf's own check (``ValidateTerraformVersion`` on the ``CloudBackend``) runs
    ``terraform version`` twice per cloud stack during synthesis; the synth turns cdktf's
    validations off and runs this once instead: ``terraform version -json``, at least
    :data:`CLOUD_BLOCK_MIN_TERRAFORM`.
    """
    if not cloud_stacks:
        return None
    stacks = f"stack(s) {', '.join(cloud_stacks)} use the cloud backend, which needs Terraform >= 1.1"
    exe = shutil.which("terraform")
    if exe is None:
        return f"{stacks}: `terraform` must be on the PATH"
    try:
        result = subprocess.run(
            [exe, "version", "-json"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return f"{stacks}: `terraform version -json` did not run"
    # JSON since Terraform 0.13; older releases and wrappers print "Terraform v1.2.3".
    try:
        version = str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        m = re.search(r"Terraform v?(\d+\.\d+[^\s]*)", result.stdout)
        version = m.group(1) if m else ""
    m = re.match(r"(\d+)\.(\d+)", version)
    if not m:
        return f"{stacks}: `terraform version -json` did not report a version"
    found = (int(m.group(1)), int(m.group(2)))
    if found < CLOUD_BLOCK_MIN_TERRAFORM:
        return f"{stacks}: `terraform` on the PATH is {version}"
    return None
