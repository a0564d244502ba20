"""``python -m stacks.report`` (``make report``) through the real command line: on every
example stack, on hand-made stacks with objectives that pass and fail, and on bad
input. Also checks the Mermaid diagrams are well formed and complete."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import EXAMPLES, ROOT, env, read_tree
from tf_builders import multi_fleet_doc, seed

from stacks.report import analyze_stack, mermaid


def run_report(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stacks.report", *args],
        cwd=cwd,
        env=env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture()
def examples_out(synth_dir, tmp_path) -> Path:
    """A private copy of the synthesized examples (the report writes into it)."""
    out = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir, out)
    return out


def write_stack(outdir: Path, name: str, doc: dict) -> None:
    folder = outdir / "stacks" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cdk.tf.json").write_text(json.dumps(doc))


def write_config(config_dir: Path, name: str, objectives: dict | None) -> Path:
    """A valid environment file named ``name`` (the dev example, renamed)."""
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["name"] = name
    data["fleets"]["chat"]["launch_template"].pop("user_data_file")
    if objectives is not None:
        data["resilience_objectives"] = objectives
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# --------------------------------------------------------------------------------------
# Every example stack
# --------------------------------------------------------------------------------------


def test_report_on_every_example(examples_out):
    result = run_report("--outdir", str(examples_out))
    assert result.returncode == 0, result.stderr
    doc = json.loads((examples_out / "resilience.json").read_text())
    assert sorted(doc["stacks"]) == sorted(p.stem for p in EXAMPLES)
    assert doc["objectives_met"] is True
    for name in doc["stacks"]:
        assert f"== stack {name} " in result.stdout
        assert (examples_out / "stacks" / name / "topology.md").is_file()
    # Known answers from the example configs.
    dev = doc["stacks"]["dev"]["fleets"]["chat"]
    assert dev["unhealthy_detection_seconds"] == 15 * 3 + 5
    assert dev["drain_seconds"] == 120
    assert dev["time_to_serve_new_instance_seconds"] == {"cold": 300 + 2 * 15, "warm_pool": None}
    assert dev["capacity_after_az_loss"]["instances"] == 0  # desired 1
    assert sorted(f["id"] for f in doc["stacks"]["dev"]["single_points_of_failure"]) == ["single-nat-gateway"]
    prod = doc["stacks"]["prod"]
    chat = prod["fleets"]["chat"]
    assert chat["unhealthy_detection_seconds"] == 10 * 2 + 5
    assert chat["drain_seconds"] == 900
    assert chat["time_to_serve_new_instance_seconds"]["cold"] == 900 + 2 * 10
    assert chat["capacity_after_az_loss"]["percent_of_desired"] == 66.7
    assert chat["spot_pools"] == 4 * 3
    assert prod["single_points_of_failure_count"] == 0
    # prod.yaml sets objectives; every one was checked and met.
    assert prod["objectives"] and len(prod["objective_results"]) == len(prod["objectives"])
    assert all(r["met"] for r in prod["objective_results"])
    assert "objectives from config/prod.yaml" in result.stdout


def test_report_output_is_deterministic_and_portable(examples_out, tmp_path):
    assert run_report("--outdir", str(examples_out)).returncode == 0
    first = {k: v for k, v in read_tree(examples_out).items() if not k.endswith("cdk.tf.json")}
    assert run_report("--outdir", str(examples_out)).returncode == 0
    assert {k: v for k, v in read_tree(examples_out).items() if not k.endswith("cdk.tf.json")} == first
    # Same bytes from another folder, given a relative --outdir.
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copytree(ROOT / "config", other / "config")
    shutil.copytree(ROOT / "user_data", other / "user_data")
    shutil.copytree(examples_out, other / "cdktf.out")
    assert run_report(cwd=other).returncode == 0
    again = {k: v for k, v in read_tree(other / "cdktf.out").items() if not k.endswith("cdk.tf.json")}
    assert again == first
    text = b"".join(first.values()).decode()
    assert str(tmp_path) not in text and str(ROOT) not in text


def test_report_imports_neither_cdktf_nor_the_provider(examples_out):
    code = (
        "import sys\n"
        "from stacks.cli.report import main\n"
        f"rc = main(['--outdir', {str(examples_out)!r}])\n"
        "heavy = ('cdktf', 'cdktf_cdktf_provider_aws', 'jsii', 'constructs')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert rc == 0 and not bad, (rc, bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------
# Objectives through the command line
# --------------------------------------------------------------------------------------


def test_missed_objective_exits_1_and_names_it(tmp_path):
    out, cfg = tmp_path / "out", tmp_path / "config"
    write_stack(out, "seedenv", seed().build())
    write_config(cfg, "seedenv", {"max_unhealthy_detection_seconds": 30, "max_drain_seconds": 300})
    result = run_report("--outdir", str(out), "--config-dir", str(cfg))
    assert result.returncode == 1, result.stderr
    assert "error: seedenv: objective max_unhealthy_detection_seconds missed" in result.stderr
    assert "63 s misses max_unhealthy_detection_seconds <= 30 s" in result.stderr
    assert "max_drain_seconds" not in result.stderr  # 300 s meets it
    assert "1 resilience objective(s) missed." in result.stderr
    # The report and diagram are still written, for the pipeline to publish.
    doc = json.loads((out / "resilience.json").read_text())
    assert doc["objectives_met"] is False
    assert (out / "stacks" / "seedenv" / "topology.md").is_file()


def test_met_objectives_exit_0(tmp_path):
    out, cfg = tmp_path / "out", tmp_path / "config"
    write_stack(out, "seedenv", seed(min_size=2).build())
    write_config(
        cfg,
        "seedenv",
        {
            "max_unhealthy_detection_seconds": 63,
            "min_capacity_after_az_loss_percent": 50,
            "max_single_points_of_failure": 0,
        },
    )
    result = run_report("--outdir", str(out), "--config-dir", str(cfg))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("  ok    ") == 3


def test_stack_without_config_has_no_objectives(tmp_path):
    out = tmp_path / "out"
    write_stack(out, "orphan", seed().build())
    result = run_report("--outdir", str(out), "--config-dir", str(tmp_path / "none"))
    assert result.returncode == 0, result.stderr
    assert "no config file names this stack" in result.stdout


def test_nothing_synthesized_exits_2_and_says_make_synth(tmp_path):
    result = run_report("--outdir", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "run `make synth` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_stack_exits_2_without_writing(tmp_path):
    out = tmp_path / "out"
    (out / "stacks" / "broken").mkdir(parents=True)
    (out / "stacks" / "broken" / "cdk.tf.json").write_text("{not json")
    result = run_report("--outdir", str(out), "--config-dir", str(tmp_path / "none"))
    assert result.returncode == 2 and "broken/cdk.tf.json" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "resilience.json").exists()


def test_invalid_config_exits_2_naming_the_field(tmp_path):
    out, cfg = tmp_path / "out", tmp_path / "config"
    write_stack(out, "seedenv", seed().build())
    write_config(cfg, "seedenv", {"max_drain_seconds": -1})
    result = run_report("--outdir", str(out), "--config-dir", str(cfg))
    assert result.returncode == 2
    assert "seedenv.yaml: resilience_objectives.max_drain_seconds" in result.stderr
    assert not (out / "resilience.json").exists()


# --------------------------------------------------------------------------------------
# Mermaid
# --------------------------------------------------------------------------------------

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_SHAPES = {"[": "]", "([": "])", "[(": ")]", "{{": "}}"}
_NODE = re.compile(rf'^\s+({_ID})(\(\[|\[\(|\{{\{{|\[)"([^"]*)"(\]\)|\)\]|\}}\}}|\])$')
_EDGE = re.compile(rf'^\s+({_ID}) (-->|-\.->)(?:\|"([^"]*)"\|)? ({_ID})$')
_SUBGRAPH = re.compile(rf'^\s+subgraph ({_ID})\["([^"]*)"\]$')
_KEYWORDS = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click", "linkStyle", "direction"}


def check_mermaid(text: str) -> dict:
    """Parse the Mermaid subset the report emits; fail on anything else.

    Returns ``{"nodes": {id: label}, "subgraphs": {id: label}, "edges": [(a, b, label)]}``.
    """
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    subgraphs: dict[str, str] = {}
    edges: list[tuple[str, str, str | None]] = []
    depth = 0
    for line in lines[1:]:
        if line.strip() == "end":
            depth -= 1
            assert depth >= 0, "unbalanced end"
            continue
        if m := _SUBGRAPH.match(line):
            assert m.group(1) not in subgraphs and m.group(1) not in nodes
            subgraphs[m.group(1)] = m.group(2)
            depth += 1
            continue
        if m := _NODE.match(line):
            ident, opening, lab, closing = m.groups()
            assert _SHAPES[opening] == closing, line
            assert ident not in nodes, f"node {ident} declared twice"
            nodes[ident] = lab
            continue
        if m := _EDGE.match(line):
            edges.append((m.group(1), m.group(4), m.group(3)))
            continue
        raise AssertionError(f"not valid in the emitted Mermaid subset: {line!r}")
    assert depth == 0, "subgraph without end"
    for ident in [*nodes, *subgraphs]:
        assert ident not in _KEYWORDS
    for a, b, _ in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} uses an undeclared node"
    for lab in [*nodes.values(), *subgraphs.values(), *(e[2] or "" for e in edges)]:
        assert not re.search(r"[<>](?!br/>)", lab.replace("<br/>", "")), lab
    return {"nodes": nodes, "subgraphs": subgraphs, "edges": edges}


def mermaid_block(markdown: str) -> str:
    m = re.search(r"```mermaid\n(.*?)```", markdown, re.S)
    assert m, "no mermaid block"
    return m.group(1)


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_topology_of_every_example_shows_each_target_group_fleet_and_az(stacks, name):
    doc = stacks[name]
    report = analyze_stack(name, doc)
    graph = check_mermaid(mermaid(doc, report))
    labels = " ".join(graph["nodes"].values())
    for tg in doc["resource"]["aws_lb_target_group"].values():
        assert f"target group {tg['tags']['fleet']}" in labels
    for fname, fleet in report["fleets"].items():
        assert f"fleet {fname}: ASG " in labels
        for az in fleet["availability_zones"]:
            assert any(lab.startswith(az) for lab in graph["subgraphs"].values()), az
    for listener in doc["resource"]["aws_lb_listener"].values():
        assert f"listener {listener['protocol']} :{listener['port']}" in labels
    # Clients reach every target group through the load balancer and a listener.
    reach = {"clients"}
    for _ in range(6):
        reach |= {b for a, b, _ in graph["edges"] if a in reach}
    assert all(i in reach for i, lab in graph["nodes"].items() if lab.startswith(("target group", "fleet ")))


def test_topology_md_written_for_every_example(examples_out):
    assert run_report("--outdir", str(examples_out)).returncode == 0
    for path in EXAMPLES:
        md = (examples_out / "stacks" / path.stem / "topology.md").read_text()
        assert md.startswith(f"# Topology of stack `{path.stem}`")
        check_mermaid(mermaid_block(md))
        assert "| fleet | unhealthy detection |" in md


def test_topology_of_multi_fleet_stack_shows_rules_and_every_fleet():
    doc = multi_fleet_doc()
    graph = check_mermaid(mermaid(doc, analyze_stack("ai", doc)))
    labels = graph["nodes"]
    rule = next(i for i, lab in labels.items() if lab.startswith("rule 10"))
    assert "path /v1/embeddings*" in labels[rule]
    tls = next(i for i, lab in labels.items() if lab == "listener HTTPS :443")
    redir = next(i for i, lab in labels.items() if lab == "listener HTTP :80")
    assert (redir, tls, "default: redirect to HTTPS:443") in graph["edges"]
    assert (tls, rule, None) in graph["edges"]
    assert sum(lab.startswith("fleet ") for lab in labels.values()) == 2
    assert sorted(graph["subgraphs"].values()) == ["us-west-2a", "us-west-2b", "us-west-2c"]


def test_mermaid_escapes_labels_and_sanitizes_ids():
    doc = seed().build()
    res = doc["resource"]
    # Names Terraform allows but Mermaid does not ("-"), two that sanitize alike, and
    # a resource named like a Mermaid keyword.
    res["aws_lb_target_group"]["we-b"] = res["aws_lb_target_group"].pop("web")
    res["aws_lb_target_group"]["we_b"] = dict(res["aws_lb_target_group"]["we-b"])
    res["aws_lb_target_group"]["we-b"]["tags"] = {"fleet": 'a "quoted" <b> `x` #1'}
    res["aws_lb_listener"]["plain"]["default_action"][0]["target_group_arn"] = "${aws_lb_target_group.we-b.arn}"
    res["aws_autoscaling_group"]["end"] = res["aws_autoscaling_group"].pop("pool")
    res["aws_autoscaling_group"]["end"]["target_group_arns"] = ["${aws_lb_target_group.we-b.arn}"]
    text = mermaid(doc, analyze_stack("x", doc))
    graph = check_mermaid(text)
    labels = graph["nodes"]
    quoted = next(i for i, lab in labels.items() if "quoted" in lab)
    assert labels[quoted].startswith("target group a #quot;quoted#quot; #lt;b#gt; #96;x#96; #35;1")
    tgs = sorted(i for i in labels if i.startswith("tg_"))
    assert len(tgs) == 2 and len(set(tgs)) == 2
    assert "asg_end" in labels
    assert (quoted, "asg_end", None) in graph["edges"]
    assert mermaid(doc, analyze_stack("x", doc)) == text


def test_the_report_reads_the_model_load_time_from_the_config(tmp_path):
    """Case 7 through the command line: the JSON has no model_load_seconds, the config
    does; a grace period shorter than it means no new instance ever serves, which the
    report says (and the time-to-serve objective is missed) instead of printing a cold
    start computed as if the model loaded within the grace period."""
    out = tmp_path / "cdktf.out"
    write_stack(out, "loads", seed(health_check_grace_period=120, health_check_type="ELB", fleet="chat").build())
    config = write_config(tmp_path / "config", "loads", {"max_time_to_serve_new_instance_seconds": 900})
    data = yaml.safe_load(config.read_text())
    data["fleets"]["chat"]["model_load_seconds"] = 600
    config.write_text(yaml.safe_dump(data))
    result = run_report("--outdir", str(out), "--config-dir", str(tmp_path / "config"))
    assert result.returncode == 1, result.stdout + result.stderr
    fleet = json.loads((out / "resilience.json").read_text())["stacks"]["loads"]["fleets"]["chat"]
    assert fleet["time_to_serve_new_instance_seconds"]["cold"] is None
    assert "[grace-shorter-than-model-load] fleet chat" in result.stdout
    assert "objective max_time_to_serve_new_instance_seconds missed" in result.stderr


# --------------------------------------------------------------------------------------
# The Atlantis plan step (--stack): one stack, text only, fail_plan
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fail_plan", "code"), [(True, 1), (False, 0)])
def test_plan_step_fails_a_missed_objective_only_when_the_stack_opts_in(tmp_path, fail_plan, code):
    out, cfg = tmp_path / "out", tmp_path / "config"
    write_stack(out, "seedenv", seed().build())
    write_config(cfg, "seedenv", {"max_unhealthy_detection_seconds": 30, "fail_plan": fail_plan})
    result = run_report("--outdir", str(out), "--config-dir", str(cfg), "--stack", "seedenv")
    assert result.returncode == code, result.stdout + result.stderr
    assert "MISS  fleet pool: unhealthy_detection_seconds 63 s misses" in result.stdout
    verdict = "the plan fails" if fail_plan else "resilience_objectives.fail_plan is off: the plan stands"
    assert f"1 resilience objective(s) missed{': ' if fail_plan else ' ('}{verdict}" in result.stdout
    assert not (out / "resilience.json").exists() and not list(out.rglob("topology.md"))  # writes nothing


def test_plan_step_shows_the_topology_as_text(examples_out):
    result = run_report("--outdir", str(examples_out), "--stack", "prod-multi")
    assert result.returncode == 0, result.stderr
    text = result.stdout.split("topology:\n", 1)[1]
    for line in (
        "  ALB prod-multi-alb, internet-facing, deletion protection on\n",
        "  listener HTTP :80 --default: redirect to HTTPS:443--> listener HTTPS :443\n",
        "  listener HTTPS :443 --> rule 10\n",
        "  rule 10 --> target group embeddings\n",
        "  target group chat --> fleet chat: ASG prod-multi-chat-spot\n",
    ):
        assert line in text, text
    assert "<br/>" not in text and '"' not in text
    missing = run_report("--outdir", str(examples_out), "--stack", "nope")
    assert missing.returncode == 2 and "no synthesized stack 'nope'" in missing.stderr


def test_text_topology_shows_labels_as_written():
    """Mermaid's entity codes (``#96;``, ``#lt;``...) do not reach the plan comment."""
    from stacks.report.topology import label, text_topology

    odd = "health check /`<b>|*_x #quot;"
    src = f"flowchart LR\n  n1[{label('target group x', odd)}]\n  n2([{label('fleet y')}])\n  n1 --> n2\n"
    text = text_topology(src)
    assert f"  target group x, {odd}\n" in text and "  target group x --> fleet y\n" in text, text
