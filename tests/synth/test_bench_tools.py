"""The benchmark's own tools (benchmarks/): generated environments are valid configs, and
the process-tree sampler sees the memory of descendants. No timings are asserted."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import yaml
from helpers import EXAMPLES, ROOT, env

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench
from proctree import measure


def test_generated_environments_are_valid_and_distinct(tmp_path):
    """Two rounds over the examples: every copy has its own name and its own state (the
    staging example's named HCP Terraform workspace is renamed too, or `--check` refuses
    the copies for sharing it)."""
    names = bench.generate_environments(2 * len(EXAMPLES), tmp_path, EXAMPLES)
    assert len(set(names)) == 2 * len(EXAMPLES)
    files = sorted((tmp_path / "config").glob("*.yaml"))
    docs = [yaml.safe_load(f.read_text()) for f in files]
    assert [d["name"] for d in docs] == sorted(names)
    workspaces = [d["backend"]["workspaces"]["name"] for d in docs if d["backend"].get("type") == "cloud"]
    assert len(workspaces) == 2 and len(set(workspaces)) == 2, workspaces
    # main.py of the repository, run in the generated folder: validates ./config/*.yaml.
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--check"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"{2 * len(EXAMPLES)} environment config(s) valid" in result.stdout


def test_sampler_counts_memory_of_grandchildren():
    """A child that allocates 200 MiB and a grandchild that allocates 150 MiB at the same
    time: the tree's peak includes both, which neither ru_maxrss nor the root's RSS shows."""
    grandchild = "import time; b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    child = textwrap.dedent(f"""
        import subprocess, sys, time
        p = subprocess.Popen([sys.executable, "-c", {grandchild!r}])
        b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])
        p.wait()
    """)
    sample = measure([sys.executable, "-c", child], env=env())
    assert sample.returncode == 0, sample.stderr
    assert sample.processes >= 2
    assert sample.peak_tree_mib >= 350
    assert sample.hwm_sum_mib >= sample.peak_tree_mib * 0.99


def _sample(wall: float, mib: float) -> bench.Sample:
    return bench.Sample(
        wall_s=wall, cpu_s=wall, peak_tree_mib=mib, hwm_sum_mib=mib, processes=3, returncode=0, stdout="", stderr=""
    )


def test_report_ratios_and_marginal_cost_from_given_samples(tmp_path):
    """The report's arithmetic, on made-up samples: wall 2 + 0.1 s and memory 250 + 2 MiB
    per environment, floor 20 s and 1000 MiB."""
    cases = [bench.Case("floor", "floor", [], tmp_path), bench.Case("examples", "examples", [], tmp_path)]
    cases[0].samples = [_sample(20, 1000), _sample(19, 990), _sample(25, 1010)]
    cases[1].samples = [_sample(3, 300), _sample(4, 320), _sample(5, 280)]
    for n in bench.ENV_COUNTS:
        case = bench.Case(f"envs-{n}", f"{n} envs", [], tmp_path)
        case.samples = [_sample(2 + 0.1 * n, 250 + 2 * n)] * 3
        case.stacks_written = [n] * 3
        cases.append(case)
    text = bench.report(cases, 3, 1, ("0.10/0.10/0.10", "0.50/0.20/0.10"), 1.2, 60)
    assert "| examples | 4.00 (3.00–5.00) | 300 (280–320) | 4.00 | 0.20x | 0.30x |" in text
    assert "**0.100 s wall**" in text and "**2.0 MiB**" in text
    assert "| ≤ 0.2 s per extra environment | 0.100 s | met |" in text
    assert (
        "| 30 environments in one process | 5.0 s, 310 MiB, one `python main.py` (3 processes with its jsii "
        "runtime and `terraform version`) | met |"
    ) in text
    # run_case stops the benchmark before a report when a run writes too few stacks; the
    # report checks the recorded counts all the same.
    cases[-1].stacks_written = [30, 29, 30]
    assert "`terraform version`) | **not met** |" in bench.report(
        cases, 3, 1, ("0.10/0.10/0.10", "0.50/0.20/0.10"), 1.2, 60
    )
    assert "machine was busy" not in text
    assert "machine was busy" in bench.report(cases, 3, 1, ("1.50/1/1", "1/1/1"), 1.2, 60)


def test_knob_verdict_needs_ranges_apart(tmp_path):
    """A knob counts as lower or higher only when every one of its runs is below (above)
    every base run and the medians differ by more than 5 %."""
    base = bench.Case("examples", "examples", [], tmp_path)
    base.samples = [_sample(w, 300) for w in (1.0, 1.1, 1.2)]
    knob = bench.Case("k", "k", [], tmp_path, base="examples")
    knob.samples = [_sample(w, 300) for w in (0.8, 0.85, 1.05)]  # median outside, ranges overlap
    assert bench.verdict(knob, base, "wall_s").startswith("no clear change")
    knob.samples = [_sample(w, 300) for w in (0.8, 0.85, 0.95)]
    assert bench.verdict(knob, base, "wall_s") == "lower (-23 %)"
    knob.samples = [_sample(w, 300) for w in (1.25, 1.3, 1.4)]
    assert bench.verdict(knob, base, "wall_s") == "higher (+18 %)"
    base.samples = [_sample(w, 300) for w in (1.0, 1.1, 1.12)]
    knob.samples = [_sample(w, 300) for w in (1.13, 1.14, 1.15)]  # apart, but under 5 %
    assert bench.verdict(knob, base, "wall_s").startswith("no clear change")
    assert bench.verdict(knob, base, "peak_tree_mib") == "no clear change (+0 %)"
