"""A synth that fails AFTER the configs were validated never deletes or corrupts the
earlier output folder.

Config errors are covered in test_bad_configs.py (exit 2 before anything is written).
Here the real command line runs with a fault injected at a chosen point of synthesis:
an exception while building the second stack, a "disk full" error after every file was
written to the staging folder, the process killed (SIGKILL) just before the new output
is swapped in, Ctrl-C at the same point, and a crash between the two renames of the
non-Linux fallback swap. The
injection wraps one product function in a small driver script; everything else is the
product's own code path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, env, read_tree, run_main

DRIVER = r"""
import os, sys, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
mode, outdir, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
import cdktf
from stacks import environment, synthesis
from stacks.cli import synth

if mode == "construct":
    # The second stack (prod) fails while its WAF construct is being built.
    def broken(*args, **kwargs):
        raise RuntimeError("injected failure while building the prod stack")
    environment.WebAcl = broken
elif mode == "disk-full":
    # Every file is written to the staging folder, then the disk is "full".
    real_synth = cdktf.App.synth
    def synth_then_fail(self):
        real_synth(self)
        raise OSError(28, "No space left on device (injected)")
    cdktf.App.synth = synth_then_fail
elif mode == "kill-before-swap":
    # Ctrl-C in a terminal raises KeyboardInterrupt; a test run started in the background
    # (`make test &`, nohup) would hand this process SIGINT already ignored.
    import signal
    signal.signal(signal.SIGINT, signal.default_int_handler)
    def wait_forever(staging, out):
        marker.write_text(str(staging))
        time.sleep(600)
    synthesis._swap = wait_forever
elif mode == "crash-mid-swap":
    # Non-Linux fallback: the earlier output was moved aside, then the process dies.
    synthesis._exchange = lambda a, b: False
    real_rename = Path.rename
    def rename(self, target):
        if Path(target) == Path(outdir):
            os._exit(137)
        return real_rename(self, target)
    Path.rename = rename
sys.exit(synth.main(["--outdir", outdir]))
"""


class Driven:
    """A driver process whose output goes to files, not pipes: waiting for it ends when
    the process ends, even if a child of it (the jsii Node process) lingers and would
    keep a pipe open. ``communicate`` mirrors ``Popen.communicate``."""

    def __init__(self, args: list[str], tmp: Path, mode: str):
        self._out, self._err = tmp / f"{mode}.stdout", tmp / f"{mode}.stderr"
        with self._out.open("w") as out, self._err.open("w") as err:
            self.popen = subprocess.Popen(args, cwd=ROOT, env=env(), stdout=out, stderr=err, text=True)
        self.pid = self.popen.pid

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            tree = subprocess.run(
                ["ps", "-o", "pid,ppid,stat,wchan:20,args", "--ppid", str(self.pid), "-p", str(self.pid)],
                capture_output=True,
                text=True,
            ).stdout
            self.popen.kill()
            raise AssertionError(
                f"driver still running after {timeout} s\n{tree}\nstderr:\n{self._err.read_text()[-3000:]}"
            ) from None
        return self._out.read_text(), self._err.read_text()


def drive(mode: str, out: Path, tmp: Path) -> Driven:
    marker = tmp / f"{mode}.marker"
    return Driven([sys.executable, "-c", DRIVER, mode, str(out), str(marker)], tmp, mode)


def drive_until_swap(out: Path, tmp: Path) -> tuple[Driven, Path]:
    """Start a synthesis that stops just before swapping its output in (mode
    ``kill-before-swap``); return once it is there, with the marker file naming its
    staging folder."""
    proc = drive("kill-before-swap", out, tmp)
    marker = tmp / "kill-before-swap.marker"
    deadline = time.monotonic() + 600
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marker.exists(), proc.communicate()[1]
    return proc, marker


@pytest.fixture
def earlier(synth_dir, tmp_path) -> Path:
    """An earlier, good output folder: a copy of the session's synth whose manifest
    carries a mark that a successful synth would remove (synth rewrites the manifest;
    it refuses a folder holding files it did not write)."""
    out = tmp_path / "work" / "cdktf.out"
    shutil.copytree(synth_dir, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["written_by_an_earlier_run"] = True
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


@pytest.mark.parametrize("mode", ["construct", "disk-full"])
def test_exception_during_synthesis_keeps_earlier_output(mode, earlier, tmp_path):
    before = read_tree(earlier)
    proc = drive(mode, earlier, tmp_path)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stdout + stderr
    assert "injected" in stderr  # the traceback shows what failed ...
    assert "error: synthesis failed after the configs were validated" in stderr
    assert f"{earlier} is unchanged" in stderr.splitlines()[-1]  # ... and says so last
    assert read_tree(earlier) == before
    assert leftovers(earlier) == [], "the staging folder is removed"


def test_killed_before_swap_keeps_earlier_output(earlier, tmp_path):
    before = read_tree(earlier)
    proc, marker = drive_until_swap(earlier, tmp_path)
    staging = Path(marker.read_text())
    assert (staging / "manifest.json").exists(), "the new output was complete in staging"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert read_tree(earlier) == before
    # A killed process cannot clean up: its staging folder stays, hidden and ignored by git.
    assert all(name.startswith(".cdktf.out.staging-") for name in leftovers(earlier))


def test_ctrl_c_before_swap_keeps_earlier_output_and_cleans_up(earlier, tmp_path):
    before = read_tree(earlier)
    proc, _ = drive_until_swap(earlier, tmp_path)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)  # generous: CI machines may be loaded
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == f"error: interrupted; {earlier} is unchanged"
    assert "Traceback" not in stderr
    assert read_tree(earlier) == before
    assert leftovers(earlier) == [], "an interrupted run removes its staging folder"


def test_crash_mid_fallback_swap_is_recovered_by_the_next_run(earlier, tmp_path):
    before = read_tree(earlier)
    proc = drive("crash-mid-swap", earlier, tmp_path)
    proc.communicate(timeout=600)
    assert proc.returncode == 137
    assert not earlier.exists(), "the crash hit between the two renames"
    moved = list(earlier.parent.glob(".cdktf.out.old-*/cdktf.out"))
    assert len(moved) == 1 and read_tree(moved[0]) == before, "the earlier output is intact, aside"
    # The next run puts it back before doing anything else (here it then fails too).
    proc = drive("construct", earlier, tmp_path)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1
    assert f"note: restored {earlier} from an interrupted earlier run" in stderr
    assert read_tree(earlier) == before


@pytest.mark.parametrize("kind", ["folder with other files", "file", "project folder"])
def test_outdir_holding_other_things_is_refused(kind, tmp_path):
    """Synthesis replaces the whole output folder, so an --outdir that holds anything
    it did not write (a source tree, a file, `.`) is refused: exit 2, nothing touched."""
    if kind == "folder with other files":
        out = tmp_path / "mine"
        (out / "sub").mkdir(parents=True)
        (out / "important.yaml").write_text("keep me\n")
        (out / "manifest.json").write_text("{}\n")
    elif kind == "file":
        out = tmp_path / "precious.txt"
        out.write_text("keep me\n")
    else:
        out = Path(".")
    before = read_tree(out) if out.is_dir() and kind != "project folder" else None
    result = run_main("--config", "config/dev.yaml", "--outdir", str(out))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    if kind == "file":
        assert (
            line == f"error: {out} exists and is not a folder of synthesis output; choose another --outdir. "
            "Nothing was synthesized."
        )
        assert out.read_text() == "keep me\n"
    else:
        assert line.startswith(f"error: {out} holds entries synthesis did not write (")
        assert "choose an empty or new --outdir" in line
    if before is not None:
        assert read_tree(out) == before
    assert not list(tmp_path.glob(".*staging*"))
