"""User data of a fleet's launch template: the configured script, with the values the
load balancer and Auto Scaling expect of the instance set at its top.

A boot script has to agree with the stack on a few values: the port the target group
sends traffic and health checks to, the health-check path, the names of the lifecycle
hooks it completes. Hard-coded in the script they drift from the config (change the
target group port and every instance fails its health checks). So for a shell script
(first line ``#!`` naming ``sh``, ``bash``, ``dash`` or ``zsh``, directly or through
``env``, also ``env -S``) the generator inserts, right after that first line, an ``export`` for each of
these values that the script names (anywhere in its text, comments included):

- ``FLEET_ENVIRONMENT``: the environment (stack) name;
- ``FLEET_NAME``: the fleet name;
- ``FLEET_REGION``: the AWS region;
- ``FLEET_PORT``: the target group port, where the model server must listen;
- ``FLEET_HEALTH_CHECK_PATH``: the target group's health-check path;
- ``FLEET_LAUNCH_HOOK``: the launch lifecycle hook to complete once the model serves,
  empty without one;
- ``FLEET_TERMINATION_HOOK``: the termination hook, empty without one;
- ``FLEET_QUEUE_METRIC``: with ``scaling.queue_depth``, the Prometheus metric of the
  server's queue that the CloudWatch agent must publish (``vllm:num_requests_waiting``,
  ``tgi_queue_size``), else empty;
- ``FLEET_QUEUE_METRIC_NAMESPACE``: the CloudWatch namespace to publish it in (the
  queue-depth policy's), empty without ``queue_depth``.

Values are shell-quoted. Other user data (``#cloud-config``, MIME multi-part, a
PowerShell script) is passed through unchanged. Only the values a script names are
set, so only a change the instance uses changes its user data: the launch template then
gets a new version and instance refresh rolls the fleet onto it. A script that names
none gets no lines at all. (A program the script starts reads the same environment: name
the variable in a comment of the script to have it set.)

EC2 user data: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

#: Lifecycle hook names (``aws_autoscaling_group.initial_lifecycle_hook``); user data
#: completes ``LAUNCH_HOOK`` when the model is ready.
LAUNCH_HOOK = "model-ready"
TERMINATION_HOOK = "drain"

#: A first line that runs the script with a POSIX-style shell.
_SHELL_SHEBANG = re.compile(r"#![ \t]*(?:/usr)?/bin/(?:env[ \t]+(?:-S[ \t]*)?)?(?:ba|da|z)?sh(?:[ \t].*)?")

_MARK = "# Set by the fleet generator from the environment config (stacks/user_data.py):"


def fleet_variables(cfg: Any, fleet_name: str, fleet: Any) -> dict[str, str]:
    """The ``FLEET_*`` variables for fleet ``fleet_name`` (a ``Fleet``) of the
    environment ``cfg`` (an ``EnvironmentConfig``), in the order they are written."""
    hooks = fleet.lifecycle_hooks
    namespace, metric = fleet.queue_metric or ("", "")
    return {
        "FLEET_ENVIRONMENT": cfg.name,
        "FLEET_NAME": fleet_name,
        "FLEET_REGION": cfg.region,
        "FLEET_PORT": str(fleet.port),
        "FLEET_HEALTH_CHECK_PATH": fleet.health_check_path,
        "FLEET_LAUNCH_HOOK": LAUNCH_HOOK if hooks.launch is not None else "",
        "FLEET_TERMINATION_HOOK": TERMINATION_HOOK if hooks.termination is not None else "",
        "FLEET_QUEUE_METRIC": metric,
        "FLEET_QUEUE_METRIC_NAMESPACE": namespace,
    }


def is_shell_script(script: str) -> bool:
    """True when the first line of ``script`` is a ``#!`` line for sh, bash, dash or zsh."""
    return _SHELL_SHEBANG.fullmatch(script.split("\n", 1)[0].rstrip("\r")) is not None


def named_variables(script: str, variables: dict[str, str]) -> dict[str, str]:
    """The entries of ``variables`` whose name occurs in ``script`` as a whole word."""
    return {k: v for k, v in variables.items() if re.search(rf"\b{re.escape(k)}\b", script)}


def render(script: str, variables: dict[str, str]) -> str:
    """``script`` with an ``export NAME=value`` line, after its first line, for each
    variable it names (:func:`named_variables`) when it is a shell script (see
    :func:`is_shell_script`); any other script, or one that names none, unchanged."""
    used = named_variables(script, variables)
    if not used or not is_shell_script(script):
        return script
    first, _, rest = script.partition("\n")
    lines = [_MARK, *(f"export {k}={shlex.quote(v)}" for k, v in used.items())]
    return "\n".join([first, *lines, rest])


def fleet_user_data(cfg: Any, config_path: str | Path, fleet_name: str, fleet: Any) -> str | None:
    """The user data of fleet ``fleet_name``: its ``user_data_file`` (relative to the
    folder of ``config_path``) rendered by :func:`render`, or None when none is
    configured. Raises ``OSError`` or ``UnicodeDecodeError`` for an unreadable file
    (``load_config`` reports those first)."""
    ud = fleet.launch_template.user_data_file
    if ud is None:
        return None
    text = (Path(config_path).parent / ud).read_text(encoding="utf-8")
    return render(text, fleet_variables(cfg, fleet_name, fleet))


#: Text that shows a script completes the launch lifecycle hook.
_COMPLETES_HOOK = ("complete-lifecycle-action", "CompleteLifecycleAction", "FLEET_LAUNCH_HOOK")


def user_data_advisories(cfg: Any, config_path: str | Path) -> list[tuple[str, str]]:
    """Risky but valid user data, as ``(field, message)`` warnings (synth goes on).

    - A script that uses ``FLEET_*`` variables but is not a shell script :func:`render`
      recognizes: they would be unset on the instance.
    - A launch lifecycle hook with no user data, or with a script that never completes
      it (no ``complete-lifecycle-action`` / ``FLEET_LAUNCH_HOOK`` in it): every instance
      waits out the heartbeat timeout, then the hook's default result applies; with
      ``ABANDON`` Auto Scaling terminates it and launches another, in a loop.
    - A termination hook no script completes (no ``FLEET_TERMINATION_HOOK``): it runs
      after the instance left the target group and drained, so it only delays the
      termination by its heartbeat timeout.
    - ``scaling.queue_depth`` with no user data, or a script that never reads
      ``FLEET_QUEUE_METRIC``: nothing publishes the metric, and a target tracking
      policy whose metric has no data neither scales out nor in.

    Unreadable files are skipped here (``load_config`` reports them as errors).
    Auto Scaling lifecycle hooks:
    https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html
    """
    out: list[tuple[str, str]] = []
    for name, fleet in cfg.fleets.items():
        ud = fleet.launch_template.user_data_file
        text = None
        if ud is not None:
            try:
                text = (Path(config_path).parent / ud).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "FLEET_" in text and not is_shell_script(text):
                out.append(
                    (
                        f"fleets.{name}.launch_template.user_data_file",
                        "uses FLEET_* variables, but its first line is not #! for sh, bash, dash or "
                        "zsh, so the generator does not set them",
                    )
                )
        hook = fleet.lifecycle_hooks.launch
        if hook is not None and (text is None or not any(k in text for k in _COMPLETES_HOOK)):
            why = "no user_data_file completes it" if text is None else "the user_data_file never completes it"
            then = (
                "Auto Scaling terminates the instance and launches another, in a loop"
                if hook.default_result == "ABANDON"
                else "the instance goes into service whether or not the model is ready"
            )
            out.append(
                (
                    f"fleets.{name}.lifecycle_hooks.launch",
                    f"{why} (aws autoscaling complete-lifecycle-action with $FLEET_LAUNCH_HOOK, see "
                    f"user_data/vllm-gpu.sh): every instance waits {fleet.effective_launch_heartbeat} s, "
                    f"then the default result {hook.default_result} applies: {then}",
                )
            )
        # aws-rule: termination-hook-completed
        drain = fleet.lifecycle_hooks.termination
        if drain is not None and (text is None or "FLEET_TERMINATION_HOOK" not in text):
            why = "no user_data_file completes it" if text is None else "the user_data_file never completes it"
            out.append(
                (
                    f"fleets.{name}.lifecycle_hooks.termination",
                    f"{why} ($FLEET_TERMINATION_HOOK, see user_data/vllm-gpu.sh): Auto Scaling runs it after the "
                    "instance has left the target group and drained, so every terminating instance just idles "
                    f"{fleet.effective_termination_heartbeat} s before it stops; complete it after a clean "
                    "shutdown, or remove the hook",
                )
            )
        # aws-rule: queue-metric-published
        queue = fleet.queue_metric
        if queue is not None and (text is None or "FLEET_QUEUE_METRIC" not in text):
            why = "no user_data_file publishes" if text is None else "the user_data_file never publishes"
            out.append(
                (
                    f"fleets.{name}.scaling.queue_depth",
                    f"{why} {queue[1]} ($FLEET_QUEUE_METRIC, see user_data/vllm-gpu.sh): the policy's metric "
                    "has no data, so it never scales the group",
                )
            )
    return out
