"""The FLEET_* lines the generator puts at the top of shell user data
(stacks/user_data.py): where they go, what they hold, and that bash reads back exactly
the configured values; and the shipped GPU script's lifecycle hook helpers, run with
fakes of the AWS CLI, Docker and the instance metadata service."""

from __future__ import annotations

import base64
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, resources
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.config import LifecycleHooks, TerminationHook, load_config
from stacks.config.scaling import QueueDepth
from stacks.user_data import (
    LAUNCH_HOOK,
    TERMINATION_HOOK,
    fleet_user_data,
    fleet_variables,
    is_shell_script,
    render,
    user_data_advisories,
)


@pytest.mark.parametrize(
    "first",
    [
        "#!/bin/bash",
        "#!/bin/sh",
        "#!/bin/bash -ex",
        "#! /bin/bash",
        "#!/usr/bin/env bash",
        "#!/usr/bin/bash",
        "#!/bin/dash",
        "#!/bin/zsh",
        "#!/usr/bin/env sh",
        "#!/bin/bash\r",
    ],
)
def test_shell_scripts_get_the_lines(first):
    script = f"{first}\necho $FLEET_PORT\n"
    assert is_shell_script(script)
    out = render(script, {"FLEET_PORT": "8000"})
    assert out.split("\n")[0] == first
    assert "\nexport FLEET_PORT=8000\n" in out
    assert out.endswith("\necho $FLEET_PORT\n")


def test_only_the_variables_a_script_names_are_set():
    variables = {"FLEET_PORT": "8000", "FLEET_HEALTH_CHECK_PATH": "/health", "FLEET_PORTS": "x"}
    script = "#!/bin/bash\n# listens on FLEET_PORT\nexec server\n"
    out = render(script, variables)
    assert "export FLEET_PORT=8000\n" in out
    # Whole names only: FLEET_PORT does not name FLEET_PORTS.
    assert "FLEET_HEALTH_CHECK_PATH" not in out and "FLEET_PORTS" not in out
    # A script that names none is passed through as it is: a health check path change
    # does not change its user data (no new launch template version, no instance refresh).
    plain = "#!/bin/bash\nexec server --port 8000\n"
    assert render(plain, variables) == plain
    assert render(plain, {**variables, "FLEET_HEALTH_CHECK_PATH": "/v1/models"}) == plain


@pytest.mark.parametrize(
    "script",
    [
        "#cloud-config\nruncmd: [echo]\n",
        "#!/usr/bin/env python3\nprint()\n",
        "<powershell>\n</powershell>\n",
        "Content-Type: multipart/mixed; boundary=x\n",
        "#!/bin/bashful\n",
        "echo no shebang\n",
        "",
        "#!/bin/bash",
    ],
)
def test_other_user_data_passes_unchanged(script):
    if script == "#!/bin/bash":  # a shell script of one line: the lines go after it
        assert render(script + " # A", {"A": "b"}) == (
            "#!/bin/bash # A\n# Set by the fleet generator from the environment config (stacks/user_data.py):\n"
            "export A=b\n"
        )
        return
    assert not is_shell_script(script)
    assert render(script, {"FLEET_PORT": "8000"}) == script


def exported(script: str, names: list[str]) -> dict[str, str]:
    """Run ``script`` with bash up to its end, then print each of ``names``."""
    probe = script + "\n" + "".join(f'printf "%s\\0" "${{{n}-UNSET}}"\n' for n in names)
    result = subprocess.run(["bash", "-c", probe], capture_output=True, check=True)
    return dict(zip(names, result.stdout.decode().split("\0")[:-1], strict=True))


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["FLEET_A", "FLEET_B", "FLEET_HEALTH_CHECK_PATH"]),
        st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), max_size=30),
        min_size=1,
    )
)
def test_bash_reads_back_exactly_the_values(variables):
    script = render("#!/bin/bash\n# uses " + " ".join(variables) + "\n", variables)
    assert exported(script, list(variables)) == variables


def test_example_fleets_export_their_values(tmp_path):
    cfg = load_config(ROOT / "config" / "prod-multi.yaml")
    chat = fleet_variables(cfg, "chat", cfg.fleets["chat"])
    assert chat == {
        "FLEET_ENVIRONMENT": "prod-multi",
        "FLEET_NAME": "chat",
        "FLEET_REGION": "us-west-2",
        "FLEET_PORT": "8000",
        "FLEET_HEALTH_CHECK_PATH": "/health",
        "FLEET_LAUNCH_HOOK": LAUNCH_HOOK,
        "FLEET_TERMINATION_HOOK": TERMINATION_HOOK,
        "FLEET_QUEUE_METRIC": "vllm:num_requests_waiting",
        "FLEET_QUEUE_METRIC_NAMESPACE": "CWAgent-Prometheus",
    }
    embeddings = fleet_variables(cfg, "embeddings", cfg.fleets["embeddings"])
    assert (embeddings["FLEET_PORT"], embeddings["FLEET_LAUNCH_HOOK"], embeddings["FLEET_TERMINATION_HOOK"]) == (
        "8080",
        "",
        "",
    )
    for name in ("chat", "embeddings"):
        script = fleet_user_data(cfg, ROOT / "config" / "prod-multi.yaml", name, cfg.fleets[name])
        subprocess.run(["bash", "-n"], input=script.encode(), check=True)
        # The lines come before `set -euo pipefail` and the script's own use of them.
        header = script.split("set -euo pipefail", 1)[0]
        source = (ROOT / "user_data" / cfg.fleets[name].launch_template.user_data_file.rsplit("/", 1)[-1]).read_text()
        expected = {
            k: v if re.search(rf"\b{k}\b", source) else "UNSET"
            for k, v in fleet_variables(cfg, name, cfg.fleets[name]).items()
        }
        assert exported(header, ["PORT_CHECK", *chat]) == {"PORT_CHECK": "UNSET", **expected}
        assert expected["FLEET_PORT"] != "UNSET"


def test_synthesized_templates_carry_the_rendered_scripts(stacks):
    cfg = load_config(ROOT / "config" / "prod-multi.yaml")
    templates = resources(stacks["prod-multi"], "aws_launch_template")
    for name, fleet in cfg.fleets.items():
        lt = templates[f"fleet-{name}_launch_template"]
        assert base64.b64decode(lt["user_data"]).decode() == fleet_user_data(
            cfg, ROOT / "config" / "prod-multi.yaml", name, fleet
        )


def test_env_dash_s_shebang_is_a_shell_script():
    assert is_shell_script("#!/usr/bin/env -S bash -e\necho\n")
    assert not is_shell_script("#!/usr/bin/env -S python3\nprint()\n")


def _config_with(tmp_path, script: str | None, hook: dict | None):
    import shutil

    import yaml

    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    lt = data["fleets"]["chat"]["launch_template"]
    if script is None:
        lt.pop("user_data_file", None)
    else:
        (tmp_path / "boot.sh").write_text(script)
        lt["user_data_file"] = "boot.sh"
    if hook is not None:
        data["fleets"]["chat"]["lifecycle_hooks"] = {"launch": hook}
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    shutil.copy2(ROOT / "config" / "schema.json", tmp_path / "schema.json")
    return load_config(path), path


@pytest.mark.parametrize(
    ("script", "hook", "expected"),
    [
        # A launch hook nobody completes: ABANDON terminates every instance, in a loop.
        (
            "#!/bin/bash\necho serve\n",
            {},
            ("fleets.chat.lifecycle_hooks.launch", "the user_data_file never completes it", "in a loop"),
        ),
        (
            None,
            {"default_result": "CONTINUE"},
            (
                "fleets.chat.lifecycle_hooks.launch",
                "no user_data_file completes it",
                "whether or not the model is ready",
            ),
        ),
        # FLEET_* in a script the generator does not add them to.
        (
            "#cloud-config\nruncmd: [echo $FLEET_PORT]\n",
            None,
            ("fleets.chat.launch_template.user_data_file", "uses FLEET_* variables", "does not set them"),
        ),
    ],
)
def test_user_data_advisories(tmp_path, script, hook, expected):
    from stacks.user_data import user_data_advisories

    cfg, path = _config_with(tmp_path, script, hook)
    [(field, message)] = user_data_advisories(cfg, path)
    assert field == expected[0]
    assert expected[1] in message and expected[2] in message


@pytest.mark.parametrize(
    "script",
    [
        '#!/bin/bash\naws autoscaling complete-lifecycle-action --lifecycle-hook-name "$FLEET_LAUNCH_HOOK"\n',
        (ROOT / "user_data" / "vllm-gpu.sh").read_text(),
    ],
)
def test_no_advisory_when_the_script_completes_the_hook(tmp_path, script):
    from stacks.user_data import user_data_advisories

    cfg, path = _config_with(tmp_path, script, {})
    assert user_data_advisories(cfg, path) == []


def test_cli_prints_user_data_warnings(tmp_path):
    from helpers import run_main

    _, path = _config_with(tmp_path, "#!/bin/bash\necho serve\n", {})
    result = run_main("--config", str(path), "--check")
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: {path}: fleets.chat.lifecycle_hooks.launch: the user_data_file never completes it" in result.stderr
    )


def _helpers(tmp_path) -> Path:
    """The helper scripts vllm-gpu.sh writes to /usr/local/bin, extracted from its quoted
    here documents into ``tmp_path/bin`` (their calls to each other pointed there), with
    fakes of curl, aws, docker and sleep first on the PATH that log every call."""
    text = (ROOT / "user_data" / "vllm-gpu.sh").read_text()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    found = re.findall(r"cat > /usr/local/bin/([\w-]+) <<'SCRIPT'\n(.*?)\nSCRIPT\n", text, re.S)
    assert {name for name, _ in found} == {"complete-hook", "serve-then-complete", "stop-then-complete"}
    for name, body in found:
        (bin_dir / name).write_text(body.replace("/usr/local/bin/", f"{bin_dir}/") + "\n")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    fakes = {
        # The metadata service: a token, the instance ID, and a lifecycle state that is
        # InService on the first look and Terminated afterwards; /health fails once.
        "curl": f"""case "$*" in
  *api/token*) echo token ;;
  *instance-id*) echo i-0123 ;;
  *target-lifecycle-state*)
    if [ -e {tmp_path}/looked ]; then echo Terminated; else touch {tmp_path}/looked; echo InService; fi ;;
  *health*) echo "curl $*" >> {log}; if [ -e {tmp_path}/up ]; then exit 0; else touch {tmp_path}/up; exit 7; fi ;;
esac""",
        "aws": f"""echo "aws $*" >> {log}
case "$*" in *describe-auto-scaling-instances*) echo fleet-group ;; esac""",
        "docker": f'echo "docker $*" >> {log}',
        "sleep": ":",
    }
    fake_dir = tmp_path / "fakes"
    fake_dir.mkdir()
    for name, body in fakes.items():
        (fake_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (fake_dir / name).chmod(0o755)
    return bin_dir


def _run_helper(tmp_path, bin_dir: Path, *args: str) -> list[str]:
    env = {"PATH": f"{tmp_path / 'fakes'}:/usr/bin:/bin"}
    subprocess.run([str(bin_dir / args[0]), *args[1:]], env=env, check=True, timeout=30)
    return (tmp_path / "calls.log").read_text().splitlines()


def test_the_gpu_script_completes_the_termination_hook_after_a_clean_shutdown(tmp_path):
    """Case: a termination hook nobody completes only keeps an instance that already left
    the target group alive for its heartbeat. The shipped script stops the server once
    the instance's target lifecycle state turns Terminated, then completes the hook."""
    calls = _run_helper(tmp_path, _helpers(tmp_path), "stop-then-complete", TERMINATION_HOOK)
    assert calls == [
        "docker stop --time 30 vllm",
        "aws autoscaling describe-auto-scaling-instances --instance-ids i-0123 "
        "--query AutoScalingInstances[0].AutoScalingGroupName --output text",
        f"aws autoscaling complete-lifecycle-action --lifecycle-hook-name {TERMINATION_HOOK} "
        "--auto-scaling-group-name fleet-group --instance-id i-0123 --lifecycle-action-result CONTINUE",
    ]


def test_the_gpu_script_completes_the_launch_hook_once_the_model_serves(tmp_path):
    calls = _run_helper(tmp_path, _helpers(tmp_path), "serve-then-complete", "8000", LAUNCH_HOOK)
    assert calls[:2] == ["curl -fsS http://127.0.0.1:8000/health", "curl -fsS http://127.0.0.1:8000/health"]
    assert calls[-1] == (
        f"aws autoscaling complete-lifecycle-action --lifecycle-hook-name {LAUNCH_HOOK} "
        "--auto-scaling-group-name fleet-group --instance-id i-0123 --lifecycle-action-result CONTINUE"
    )


def test_a_termination_hook_nothing_completes_is_a_warning(tmp_path):
    """rule: termination-hook-completed"""
    from stacks.user_data import user_data_advisories

    cfg = load_config(ROOT / "config" / "dev.yaml")
    fleet = cfg.fleets["chat"].model_copy(update={"lifecycle_hooks": LifecycleHooks(termination=TerminationHook())})
    cfg = cfg.model_copy(update={"fleets": {"chat": fleet}})
    [(field, message)] = [w for w in user_data_advisories(cfg, ROOT / "config" / "dev.yaml") if "termination" in w[0]]
    assert field == "fleets.chat.lifecycle_hooks.termination"
    assert message.startswith("the user_data_file never completes it ($FLEET_TERMINATION_HOOK")
    assert "idles 120 s before it stops" in message
    multi = load_config(ROOT / "config" / "prod-multi.yaml")  # vllm-gpu.sh completes it
    assert not [w for w in user_data_advisories(multi, ROOT / "config" / "prod-multi.yaml") if "termination" in w[0]]


def _agent_step(tmp_path: Path, script: str, group: str = "prod-multi-chat") -> tuple[str, list[str]]:
    """Run step 1 of a rendered vllm-gpu.sh (its start up to the model server: the
    ``FLEET_*`` lines and the CloudWatch agent setup) with bash, the agent's folder moved
    to ``tmp_path/cwa``, and fakes of curl (instance metadata), aws (``describe-tags``
    answers ``group``) and the agent's control script. Returns the script's stderr and
    the logged calls."""
    cwa = tmp_path / "cwa"
    (cwa / "etc").mkdir(parents=True)
    (cwa / "bin").mkdir()
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    log = tmp_path / "calls.log"
    log.touch()
    bodies = {
        fakes / "curl": 'case "$*" in *api/token*) echo token ;; *instance-id*) echo i-0123 ;; esac',
        fakes / "aws": f'echo "aws $*" >> {log}\ncase "$*" in *describe-tags*) echo {shlex.quote(group)} ;; esac',
        cwa / "bin" / "amazon-cloudwatch-agent-ctl": f'echo "ctl $*" >> {log}',
    }
    for path, body in bodies.items():
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)
    step = script.split("# 2. The model server", 1)[0].replace("/opt/aws/amazon-cloudwatch-agent", str(cwa))
    result = subprocess.run(
        ["bash", "-c", step],
        env={"PATH": f"{fakes}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stderr, log.read_text().splitlines()


def test_the_gpu_script_has_the_agent_publish_the_queue_metric_the_policy_tracks(tmp_path, stacks):
    """With scaling.queue_depth (prod-multi's chat fleet) the agent scrapes the preset's
    queue gauge from the server's port and publishes it under the namespace, name and
    AutoScalingGroupName dimension of the synthesized target tracking policy."""
    cfg = load_config(ROOT / "config" / "prod-multi.yaml")
    chat = cfg.fleets["chat"]
    script = fleet_user_data(cfg, ROOT / "config" / "prod-multi.yaml", "chat", chat)
    _, calls = _agent_step(tmp_path, script)
    etc = tmp_path / "cwa" / "etc"
    agent = json.loads((etc / "amazon-cloudwatch-agent.json").read_text())
    scrape = yaml.safe_load((etc / "prometheus.yaml").read_text())

    policy = resources(stacks["prod-multi"], "aws_autoscaling_policy")["fleet-chat-scaling_queue_depth"]
    spec = policy["target_tracking_configuration"]["customized_metric_specification"]
    namespace, metric = spec["namespace"], spec["metric_name"]
    assert (namespace, metric, spec["statistic"]) == ("CWAgent-Prometheus", "vllm:num_requests_waiting", "Average")
    assert [d["name"] for d in spec["metric_dimension"]] == ["AutoScalingGroupName"]

    [job] = scrape["scrape_configs"]
    [target] = job["static_configs"]
    assert target == {"targets": [f"127.0.0.1:{chat.port}"], "labels": {"AutoScalingGroupName": "prod-multi-chat"}}
    assert job["metrics_path"] == "/metrics"
    [keep] = job["metric_relabel_configs"]
    assert keep["action"] == "keep" and keep["source_labels"] == ["__name__"]
    assert re.fullmatch(keep["regex"], metric) and not re.fullmatch(keep["regex"], "vllm:num_requests_running")

    prom = agent["logs"]["metrics_collected"]["prometheus"]
    assert prom["prometheus_config_path"] == str(etc / "prometheus.yaml")
    assert prom["log_group_name"] == "/ai-fleet/prod-multi-chat/prometheus"
    emf = prom["emf_processor"]
    assert emf["metric_namespace"] == namespace
    [declaration] = emf["metric_declaration"]
    assert declaration["dimensions"] == [["AutoScalingGroupName"]]
    assert declaration["source_labels"] == ["job"] and re.search(declaration["label_matcher"], job["job_name"])
    assert [s for s in declaration["metric_selectors"] if re.search(s, metric)] == declaration["metric_selectors"]
    assert not re.search(declaration["metric_selectors"][0], "vllm:num_requests_waiting_total")
    # The GPU metric of custom_metric is published as before.
    assert agent["metrics"]["append_dimensions"] == {"AutoScalingGroupName": "${aws:AutoScalingGroupName}"}
    assert "nvidia_gpu" in agent["metrics"]["metrics_collected"]
    assert calls[0].startswith("aws ec2 describe-tags --filters Name=resource-id,Values=i-0123 ")
    assert "aws logs put-retention-policy --log-group-name /ai-fleet/prod-multi-chat/prometheus " in calls[2]
    assert calls[-1] == f"ctl -a fetch-config -m ec2 -s -c file:{etc / 'amazon-cloudwatch-agent.json'}"


def test_the_gpu_script_scrapes_nothing_without_queue_depth_or_a_group_tag(tmp_path):
    """Without queue_depth FLEET_QUEUE_METRIC is empty: the agent config is the GPU
    metrics only, and no scrape config is written. An instance whose group tag cannot be
    read starts its agent (and its server) without the queue."""
    cfg = load_config(ROOT / "config" / "prod-multi.yaml")
    chat = cfg.fleets["chat"]
    off = chat.model_copy(update={"scaling": chat.scaling.model_copy(update={"queue_depth": None})})
    for case, fleet, group in (("off", off, "prod-multi-chat"), ("untagged", chat, "None")):
        variables = fleet_variables(cfg, "chat", fleet)
        assert bool(variables["FLEET_QUEUE_METRIC"]) == (case == "untagged")
        script = render((ROOT / "user_data" / "vllm-gpu.sh").read_text(), variables)
        stderr, calls = _agent_step(tmp_path / case, script, group)
        etc = tmp_path / case / "cwa" / "etc"
        agent = json.loads((etc / "amazon-cloudwatch-agent.json").read_text())
        assert sorted(agent) == ["agent", "metrics"]
        assert not (etc / "prometheus.yaml").exists()
        assert calls[-1].startswith("ctl -a fetch-config")
        if case == "untagged":
            assert "no aws:autoscaling:groupName tag: vllm:num_requests_waiting not published" in stderr
        else:
            assert calls == [calls[-1]]


def test_queue_depth_without_a_script_that_publishes_it_is_a_warning():
    """rule: queue-metric-published"""
    cfg = load_config(ROOT / "config" / "staging.yaml")  # vllm.sh: no CloudWatch agent
    fleet = cfg.fleets["chat"]
    fleet = fleet.model_copy(
        update={"scaling": fleet.scaling.model_copy(update={"queue_depth": QueueDepth(target_value=3)})}
    )
    cfg = cfg.model_copy(update={"fleets": {"chat": fleet}})
    assert user_data_advisories(cfg, ROOT / "config" / "staging.yaml") == [
        (
            "fleets.chat.scaling.queue_depth",
            "the user_data_file never publishes vllm:num_requests_waiting ($FLEET_QUEUE_METRIC, see "
            "user_data/vllm-gpu.sh): the policy's metric has no data, so it never scales the group",
        )
    ]
    multi = load_config(ROOT / "config" / "prod-multi.yaml")  # vllm-gpu.sh publishes it
    assert not [w for w in user_data_advisories(multi, ROOT / "config" / "prod-multi.yaml") if "queue" in w[0]]
