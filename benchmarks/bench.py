#!/usr/bin/env python
"""Synth benchmark (``make bench``): time and whole-process-tree memory, as fresh processes.

Cases, measured in one run and interleaved (every round runs each case once, in a
shuffled order, so drift, other load on the machine and the after-effects of the case
before spread over all cases):

- ``floor``: ``python -c "import cdktf_cdktf_provider_aws"``, the naive way to load the
  provider; every other case is compared with it.
- ``examples``: ``python main.py`` on the example configs (``config/*.yaml``).
- ``cdktf-synth``: ``cdktf synth`` (the CLI, which runs ``main.py`` through pipenv) on
  the examples.
- ``envs-1``, ``envs-3``, ``envs-10``, ``envs-30``: ``python main.py`` on N environments
  generated from the examples (distinct names) in a temporary folder.
- knobs (``--no-knobs`` skips them): runtime settings that might lower peak memory or
  time, each compared with the case it modifies.

Per case: median, min and max of wall time and of the peak memory of the whole process
tree (Python, the jsii Node processes, and for the CLI the cdktf and pipenv processes),
CPU time, ratio to the floor, and the marginal cost per extra environment (least-squares
slope over the ``envs-N`` medians). Writes ``benchmarks/RESULTS.md``.

Timings are only meaningful on an otherwise idle machine; the load average at start and
end is recorded with the results. Never used by the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import itertools
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import Sample, measure

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENV_COUNTS = (1, 3, 10, 30)
DEFAULT_OUT = ROOT / "benchmarks" / "RESULTS.md"

#: Issue 8 targets on a 2-core machine.
TARGET_WALL_RATIO = 0.3
TARGET_MEM_RATIO = 0.7
TARGET_ENV_SECONDS = 0.2
TARGET_ENV_MIB = 20.0


@dataclass
class Case:
    """One benchmark case: a command, where it runs, extra environment, and a check."""

    name: str
    title: str
    cmd: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    expect_stacks: int | None = None  # stacks the output manifest must list
    outdir_arg: list[str] | None = None  # e.g. ["--outdir"]; a fresh folder is appended
    base: str | None = None  # for knobs: the case this one modifies
    note: str = ""  # for knobs: what the setting does
    fresh_dir_env: str | None = None  # env var set to a fresh empty folder per run
    heavy: bool = False  # slow case: left out of the warm-up round
    samples: list[Sample] = field(default_factory=list)
    stacks_written: list[int] = field(default_factory=list)  # per recorded run, from its manifest


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env["CHECKPOINT_DISABLE"] = "1"
    # Measure what a user gets: no leftover debug settings, and bytecode caching on (as
    # with `make`), whatever the calling shell has.
    for key in (
        "AI_FLEET_PROVIDER_IMPORT",
        "AI_FLEET_LAZY_INDEX_STATS",
        "CDKTF_OUTDIR",
        "PYTHONDONTWRITEBYTECODE",
        "NODE_OPTIONS",
        "JSII_DEBUG",
        "JSII_DEBUG_TIMING",
    ):
        env.pop(key, None)
    return env


def generate_environments(count: int, dest: Path, examples: list[Path]) -> list[str]:
    """Write ``count`` environment files into ``dest/config`` and return their names.

    Environment ``i`` is a copy of ``examples[i % len(examples)]`` whose top-level
    ``name`` is replaced by ``<example name>-<i+1>`` (2-digit, so names stay distinct and
    within the 24-character limit), and so is a named HCP Terraform workspace (each
    environment needs its own state). ``user_data/`` is copied beside ``config/`` so the
    examples' relative ``user_data_file`` paths resolve. Raises ValueError when an
    example has no top-level ``name:`` line.
    """
    config = dest / "config"
    config.mkdir(parents=True, exist_ok=True)
    if (ROOT / "user_data").is_dir() and not (dest / "user_data").exists():
        shutil.copytree(ROOT / "user_data", dest / "user_data")
    names = []
    for i in range(count):
        src = examples[i % len(examples)]
        text = src.read_text()
        base = yaml.safe_load(text)["name"]
        name = f"{base[:20].rstrip('-')}-{i + 1:02d}"
        new, n = re.subn(r"(?m)^name:[^\n#]*", f"name: {name}", text, count=1)
        if n != 1 or yaml.safe_load(new)["name"] != name:
            raise ValueError(f"{src}: no top-level `name:` line to replace")
        # Each environment needs its own state: a named HCP Terraform workspace gets the
        # same suffix (an S3 key defaults to one derived from the name).
        workspace = ((yaml.safe_load(text).get("backend") or {}).get("workspaces") or {}).get("name")
        if workspace:
            new, n = re.subn(
                rf"(?m)^(\s+name:\s*){re.escape(workspace)}(?=\s|$)", rf"\g<1>{workspace}-{i + 1:02d}", new
            )
            if n != 1:
                raise ValueError(f"{src}: no `name: {workspace}` line under backend.workspaces to replace")
        (config / f"{name}.yaml").write_text(new)
        names.append(name)
    return names


def build_cases(work: Path, knobs: bool) -> list[Case]:
    examples = sorted((ROOT / "config").glob("*.yaml"))
    main = str(ROOT / "main.py")
    cases = [
        Case(
            "floor",
            "naive floor: `import cdktf_cdktf_provider_aws`",
            [PY, "-c", "import cdktf_cdktf_provider_aws"],
            ROOT,
        ),  # warmed up: primes the page cache
        Case(
            "examples",
            f"`python main.py`, the {len(examples)} example configs",
            [PY, main],
            ROOT,
            expect_stacks=len(examples),
            outdir_arg=["--outdir"],
        ),
    ]
    cli = ROOT / "node_modules" / ".bin" / "cdktf"
    if cli.exists() and shutil.which("pipenv"):
        cases.append(
            Case(
                "cdktf-synth",
                f"`cdktf synth`, the {len(examples)} example configs",
                [str(cli), "synth"],
                ROOT,
                env={"CI": "1", "FORCE_COLOR": "0"},
                expect_stacks=len(examples),
                outdir_arg=["--output"],
            )
        )
    else:
        print("note: skipping cdktf-synth (needs node_modules/.bin/cdktf and pipenv)", file=sys.stderr)
    for n in ENV_COUNTS:
        folder = work / f"envs-{n}"
        generate_environments(n, folder, examples)
        cases.append(
            Case(
                f"envs-{n}",
                f"`python main.py`, {n} environment(s)",
                [PY, main],
                folder,
                expect_stacks=n,
                outdir_arg=["--outdir"],
            )
        )
    if knobs:
        by = {c.name: c for c in cases}
        ex = by["examples"]
        big = by[f"envs-{ENV_COUNTS[-1]}"]

        def knob(name, base, env, note, fresh_dir_env=None, heavy=False):
            cases.append(
                Case(
                    name,
                    f"{base.title} with {name}",
                    base.cmd,
                    base.cwd,
                    env=env,
                    expect_stacks=base.expect_stacks,
                    outdir_arg=base.outdir_arg,
                    base=base.name,
                    note=note,
                    fresh_dir_env=fresh_dir_env,
                    heavy=heavy,
                )
            )

        full = {"AI_FLEET_PROVIDER_IMPORT": "full"}
        knob(
            "AI_FLEET_PROVIDER_IMPORT=full",
            ex,
            full,
            "normal provider import on both sides: what stacks/aws.py avoids",
            heavy=True,
        )
        if "cdktf-synth" in by:
            knob(
                "AI_FLEET_PROVIDER_IMPORT=full",
                by["cdktf-synth"],
                {**by["cdktf-synth"].env, **full},
                "same, through the CLI",
                heavy=True,
            )
        knob(
            "NODE_OPTIONS=--max-old-space-size=256",
            ex,
            {"NODE_OPTIONS": "--max-old-space-size=256"},
            "cap the jsii Node heap at 256 MiB",
        )
        knob(
            "NODE_OPTIONS=--max-semi-space-size=1",
            ex,
            {"NODE_OPTIONS": "--max-semi-space-size=1"},
            "1 MiB V8 young-generation semi-spaces (default 16): more, smaller minor GCs",
        )
        knob(
            "NODE_OPTIONS=--max-semi-space-size=1",
            big,
            {"NODE_OPTIONS": "--max-semi-space-size=1"},
            "same, on the largest case",
        )
        knob(
            "NODE_OPTIONS=--jitless",
            ex,
            {"NODE_OPTIONS": "--jitless"},
            "no JIT compilers in Node: less code memory, slower JavaScript",
        )
        knob(
            "PYTHONOPTIMIZE=1",
            big,
            {"PYTHONOPTIMIZE": "1"},
            "skips the bindings' runtime type checks (`if __debug__`), and our asserts",
        )
        knob(
            "fresh HOME",
            ex,
            {},
            "empty HOME each run, as in a fresh pod: the jsii package cache is in .venv, "
            "indexed by `make install` (stacks/jsii_cache.py)",
            fresh_dir_env="HOME",
        )
        knob(
            "cold jsii package cache",
            ex,
            {},
            "empty JSII_RUNTIME_PACKAGE_CACHE_ROOT each run: an environment `make install` did not prime",
            fresh_dir_env="JSII_RUNTIME_PACKAGE_CACHE_ROOT",
            heavy=True,
        )
        knob(
            "JSII_RUNTIME_PACKAGE_CACHE=disabled",
            ex,
            {"JSII_RUNTIME_PACKAGE_CACHE": "disabled"},
            "no jsii package cache: every run extracts the provider tarball",
            heavy=True,
        )
    return cases


def stacks_in(outdir: Path) -> int:
    manifest = outdir / "manifest.json"
    if not manifest.is_file():
        return -1
    return len(json.loads(manifest.read_text()).get("stacks", {}))


def run_case(case: Case, work: Path, record: bool) -> Sample:
    env = base_env()
    env.update(case.env)
    cmd = list(case.cmd)
    scratch = Path(tempfile.mkdtemp(prefix=f"{case.name[:20].replace('/', '_')}-", dir=work))
    try:
        out = scratch / "out"
        if case.outdir_arg:
            cmd += [*case.outdir_arg, str(out)]
        if case.fresh_dir_env:
            env[case.fresh_dir_env] = str(scratch / "fresh")
        sample = measure(cmd, cwd=case.cwd, env=env)
        if sample.returncode != 0:
            raise SystemExit(f"{case.name}: exit {sample.returncode}\n{sample.stdout[-2000:]}\n{sample.stderr[-4000:]}")
        if case.expect_stacks is not None and stacks_in(out) != case.expect_stacks:
            raise SystemExit(f"{case.name}: expected {case.expect_stacks} stacks in {out}, found {stacks_in(out)}")
        written = stacks_in(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if record:
        case.samples.append(sample)
        case.stacks_written.append(written)
    return sample


def med(case: Case, attr: str) -> float:
    return statistics.median(getattr(s, attr) for s in case.samples)


def rng(case: Case, attr: str) -> tuple[float, float]:
    values = [getattr(s, attr) for s in case.samples]
    return min(values), max(values)


def slope(xs: list[float], ys: list[float]) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
        parts.append(f"Node {node}")
    except (OSError, subprocess.CalledProcessError):
        parts.append("Node ?")
    for dist in ("cdktf", "cdktf-cdktf-provider-aws", "jsii", "constructs"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
    cli = ROOT / "node_modules" / "cdktf-cli" / "package.json"
    if cli.is_file():
        parts.append(f"cdktf-cli {json.loads(cli.read_text())['version']}")
    return ", ".join(parts)


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return out + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def fmt_range(case: Case, attr: str, digits: int) -> str:
    lo, hi = rng(case, attr)
    return f"{med(case, attr):.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def verdict(case: Case, base: Case, attr: str) -> str:
    """'lower'/'higher' when the medians differ by more than 5 % and the knob's min-max
    range does not overlap the base case's (every knob run below, or above, every base
    run); else 'no clear change'. With 3 runs a case's range is often 10-20 % wide here,
    so a median outside the other range alone flips between runs."""
    m, b = med(case, attr), med(base, attr)
    lo, hi = rng(base, attr)
    klo, khi = rng(case, attr)
    if m < b * 0.95 and khi < lo:
        return f"lower ({(m / b - 1) * 100:+.0f} %)"
    if m > b * 1.05 and klo > hi:
        return f"higher ({(m / b - 1) * 100:+.0f} %)"
    return f"no clear change ({(m / b - 1) * 100:+.0f} %)"


def report(cases: list[Case], runs: int, warmup: int, load: tuple[str, str], peak_load: float, elapsed: float) -> str:
    by = {c.name: c for c in cases if c.base is None}
    floor = by["floor"]
    fw, fm = med(floor, "wall_s"), med(floor, "peak_tree_mib")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Synth benchmark results",
        "",
        "Generated by `make bench` (`benchmarks/bench.py`); do not edit by hand. Method and "
        "findings: `benchmarks/README.md`.",
        "",
        f"- Date: {now}; commit {commit()}",
        f"- Machine: {os.cpu_count()} cores, {memory_gib():.1f} GiB memory, {platform.system()} "
        f"{platform.release()}; load average (1/5/15 min) at start {load[0]}, at end {load[1]}",
        f"- Versions: {versions()}",
        f"- Runs: {runs} measured per case (after {warmup} unmeasured warm-up), cases interleaved; "
        f"total {elapsed / 60:.1f} min",
        "- Wall and peak memory: median (min–max). Peak memory is the whole process tree "
        "(Python, both jsii Node processes, and for `cdktf synth` the CLI and pipenv), sampled "
        "every 20 ms. CPU: user + system seconds of the whole tree, median.",
        "",
    ]
    cores = os.cpu_count() or 1
    before = float(load[0].split("/")[0])
    # The benchmark itself adds about 1 to the load average while it runs.
    if before > 0.5 * cores or peak_load > cores:
        lines += [
            f"> **The machine was busy**: 1-minute load average {before:.1f} before the run and up "
            f"to {peak_load:.1f} during it, on {cores} cores (the benchmark adds about 1): wall "
            "times are inflated and noisy, CPU times less so. Re-run `make bench` on an idle "
            "machine for figures to compare with the targets.",
            "",
        ]
    lines += [
        "| case | wall s | peak memory MiB | CPU s | wall vs floor | memory vs floor |",
        "|---|---|---|---|---|---|",
    ]
    for c in by.values():
        lines.append(
            f"| {c.title} | {fmt_range(c, 'wall_s', 2)} | {fmt_range(c, 'peak_tree_mib', 0)} | "
            f"{med(c, 'cpu_s'):.2f} | {med(c, 'wall_s') / fw:.2f}x | {med(c, 'peak_tree_mib') / fm:.2f}x |"
        )
    envs = [by[f"envs-{n}"] for n in ENV_COUNTS]
    xs = [float(n) for n in ENV_COUNTS]
    s_wall = slope(xs, [med(c, "wall_s") for c in envs])
    s_cpu = slope(xs, [med(c, "cpu_s") for c in envs])
    s_mem = slope(xs, [med(c, "peak_tree_mib") for c in envs])
    lines += [
        "",
        "Marginal cost per extra environment (least-squares slope over the medians of "
        f"{', '.join(str(n) for n in ENV_COUNTS)} environments): **{s_wall:.3f} s wall** "
        f"({s_cpu:.3f} s CPU) and **{s_mem:.1f} MiB** peak memory. Between consecutive sizes:",
        "",
        "| from → to | wall s per env | MiB per env |",
        "|---|---|---|",
    ]
    for a, b in itertools.pairwise(envs):
        na, nb = int(a.name.split("-")[1]), int(b.name.split("-")[1])
        lines.append(
            f"| {na} → {nb} | {(med(b, 'wall_s') - med(a, 'wall_s')) / (nb - na):.3f} | "
            f"{(med(b, 'peak_tree_mib') - med(a, 'peak_tree_mib')) / (nb - na):.1f} |"
        )
    ex = by["examples"]
    rw, rm = med(ex, "wall_s") / fw, med(ex, "peak_tree_mib") / fm
    ok = lambda cond: "met" if cond else "**not met**"  # noqa: E731
    lines += [
        "",
        "## Targets (issue 8, 2-core machine)",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| examples wall ≤ {TARGET_WALL_RATIO}x floor | {rw:.2f}x | {ok(rw <= TARGET_WALL_RATIO)} |",
        f"| examples whole-tree peak memory ≤ {TARGET_MEM_RATIO}x floor | {rm:.2f}x | {ok(rm <= TARGET_MEM_RATIO)} |",
        f"| ≤ {TARGET_ENV_SECONDS} s per extra environment | {s_wall:.3f} s | {ok(s_wall <= TARGET_ENV_SECONDS)} |",
        f"| ≤ {TARGET_ENV_MIB:.0f} MiB per extra environment | {s_mem:.1f} MiB | {ok(s_mem <= TARGET_ENV_MIB)} |",
        f"| {ENV_COUNTS[-1]} environments in one process | {med(envs[-1], 'wall_s'):.1f} s, "
        f"{med(envs[-1], 'peak_tree_mib'):.0f} MiB, one `python main.py` ({envs[-1].samples[0].processes} "
        f"processes with its jsii runtime and `terraform version`) | "
        f"{ok(envs[-1].stacks_written and all(n == ENV_COUNTS[-1] for n in envs[-1].stacks_written))} |",
    ]
    full = {c.base: c for c in cases if c.name == "AI_FLEET_PROVIDER_IMPORT=full"}
    if "cdktf-synth" in by and {"examples", "cdktf-synth"} <= full.keys():
        cli = by["cdktf-synth"]
        saved_main = med(full["examples"], "wall_s") - med(ex, "wall_s")
        saved_cli = med(full["cdktf-synth"], "wall_s") - med(cli, "wall_s")
        lines.append(
            f"| `cdktf synth` gets the same speed-up as `python main.py` | fast import saves "
            f"{saved_cli:.1f} s through the CLI ({med(full['cdktf-synth'], 'wall_s'):.1f} → "
            f"{med(cli, 'wall_s'):.1f} s), {saved_main:.1f} s with `main.py` "
            f"({med(full['examples'], 'wall_s'):.1f} → {med(ex, 'wall_s'):.1f} s) | "
            f"{ok(saved_cli >= 0.8 * saved_main)} |"
        )
    elif "cdktf-synth" in by:
        cli = by["cdktf-synth"]
        lines.append(
            f"| `cdktf synth` gets the same speed-up as `python main.py` | {med(cli, 'wall_s'):.2f} s = "
            f"`main.py` + {med(cli, 'wall_s') - med(ex, 'wall_s'):.2f} s of CLI (run the knobs for "
            "the direct comparison) | – |"
        )
    knobs = [c for c in cases if c.base is not None]
    if knobs:
        lines += [
            "",
            "## Knobs",
            "",
            "Each knob is its base case run with one setting changed, in the same interleaved "
            "rounds. A change counts only when the medians differ by more than 5 % and the "
            "knob's min–max range does not overlap the base case's; 3 runs cannot show "
            "smaller effects on this machine.",
            "",
            "| setting | base case | what it does | wall s | peak memory MiB | wall | peak memory |",
            "|---|---|---|---|---|---|---|",
        ]
        for k in knobs:
            b = by[k.base]
            lines.append(
                f"| {k.name} | {k.base} | {k.note} | {fmt_range(k, 'wall_s', 2)} | "
                f"{fmt_range(k, 'peak_tree_mib', 0)} | {verdict(k, b, 'wall_s')} | "
                f"{verdict(k, b, 'peak_tree_mib')} |"
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--runs",
        type=int,
        default=int(os.environ.get("BENCH_RUNS") or 3),
        help="measured runs per case (default 3, or $BENCH_RUNS)",
    )
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first (default 1)")
    parser.add_argument("--no-knobs", action="store_true", help="skip the knob cases")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    started = time.monotonic()
    load_start = "/".join(f"{x:.2f}" for x in os.getloadavg())
    peak_load = 0.0
    with tempfile.TemporaryDirectory(prefix="ai-fleet-bench-") as tmp:
        work = Path(tmp)
        cases = build_cases(work, knobs=not args.no_knobs)
        total = args.warmup + args.runs
        for rnd in range(total):
            record = rnd >= args.warmup
            # A new order every round (seeded: the same from run to run). A rotation would
            # keep each case after the same neighbour in every round, and a case run
            # right after the 1.1 GiB naive floor was measured 10-15 % slower.
            order = list(cases)
            random.Random(rnd).shuffle(order)
            if not record:
                order = [c for c in order if not c.heavy]
            label = "warm-up" if not record else f"run {rnd - args.warmup + 1}/{args.runs}"
            for case in order:
                s = run_case(case, work, record)
                peak_load = max(peak_load, os.getloadavg()[0])
                print(
                    f"[{label} {(time.monotonic() - started) / 60:4.1f} min] {case.name:38s} "
                    f"{case.base or '':11s} wall {s.wall_s:6.2f} s  cpu {s.cpu_s:6.2f} s  "
                    f"peak {s.peak_tree_mib:6.0f} MiB",
                    flush=True,
                )
    load_end = "/".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(cases, args.runs, args.warmup, (load_start, load_end), peak_load, time.monotonic() - started)
    args.out.write_text(text)
    print(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
