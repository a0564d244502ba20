"""Compare what this checkout produces with what another commit produced.

For a change that must not change behaviour (a restructure, a rename, a speed-up):

    .venv/bin/python tests/same_output.py REF        # or: make same-output REF=<commit>

checks out ``REF`` into a temporary Git worktree (sharing this checkout's ``.venv`` and
``node_modules``), and in both trees:

- synthesizes every ``config/*.yaml`` with ``main.py`` and compares each stack's
  ``cdk.tf.json`` byte for byte, and the ``manifest.json``;
- runs ``main.py --check --config`` on every bad-config case of ``tests/bad_configs/``
  (of this checkout, so both trees see the same inputs) and compares exit codes and
  standard error line by line.

Prints each difference and exits 1 when there is one, 0 when the outputs are the same.
Not part of ``make test``: a commit that changes the output on purpose differs from its
parent by design.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "main.py", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _outputs(tree: Path, out: Path, cases: list[Path]) -> dict[str, str]:
    """What ``tree`` produces: ``{label: text}``, labels equal across trees."""
    found: dict[str, str] = {}
    synth = _run(tree, "--outdir", str(out))
    found["synth exit code and stdout"] = f"{synth.returncode}\n{synth.stdout}".replace(str(out), "OUTDIR")
    found["synth stderr"] = synth.stderr.replace(str(out), "OUTDIR")
    for path in sorted(out.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(out))] = path.read_text(encoding="utf-8")
    for case in cases:
        # The file name as the user gives it, so messages are comparable across trees.
        result = _run(tree, "--check", "--config", f"tests/bad_configs/{case.name}")
        found[f"bad config {case.name}"] = f"exit {result.returncode}\n{result.stderr}"
    return found


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 when ``REF`` and this checkout produce the same output."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="commit (or branch, tag) to compare with")
    args = parser.parse_args(argv)
    cases = sorted((ROOT / "tests" / "bad_configs").glob("*.yaml"))
    with tempfile.TemporaryDirectory(prefix="same-output-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old), args.ref], cwd=ROOT, check=True)
        try:
            for name in (".venv", "node_modules"):
                (old / name).symlink_to(ROOT / name)
            # The bad-config cases refer to user data files beside them.
            shutil.rmtree(old / "tests" / "bad_configs", ignore_errors=True)
            shutil.copytree(ROOT / "tests" / "bad_configs", old / "tests" / "bad_configs", symlinks=True)
            before = _outputs(old, Path(tmp) / "out-old", cases)
            after = _outputs(ROOT, Path(tmp) / "out-new", cases)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
    differences = 0
    for label in sorted(before.keys() | after.keys()):
        a, b = before.get(label), after.get(label)
        if a == b:
            continue
        differences += 1
        print(f"== {label}: differs")
        if a is None or b is None:
            print("   only in " + ("this checkout" if a is None else args.ref))
            continue
        sys.stdout.writelines(
            difflib.unified_diff(a.splitlines(True), b.splitlines(True), args.ref, "this checkout", n=1)
        )
    compared = len(before.keys() | after.keys())
    print(f"{compared} outputs compared with {args.ref}: {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
