"""The benchmark's own tools (benchmarks/): generated environments are valid configs, and
the process-tree sampler sees the memory of descendants. No timings are asserted."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import yaml

from helpers import EXAMPLES, ROOT, env

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402
from proctree import measure  # noqa: E402


def test_generated_environments_are_valid_and_distinct(tmp_path):
    names = bench.generate_environments(5, tmp_path, EXAMPLES)
    assert len(set(names)) == 5
    files = sorted((tmp_path / "config").glob("*.yaml"))
    assert [yaml.safe_load(f.read_text())["name"] for f in files] == sorted(names)
    # main.py of the repository, run in the generated folder: validates ./config/*.yaml.
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--check"], cwd=tmp_path,
                            env=env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "5 environment config(s) valid" in result.stdout


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
