"""Committed Terraform JSON for VCS-driven HCP Terraform (Terraform Cloud) workspaces.

A VCS-driven workspace runs ``terraform plan/apply`` on the repository content: it
cannot run Python, so the synthesized JSON of every stack whose backend is ``cloud``
is committed under ``terraform/<stack>/cdk.tf.json`` and the workspace's "Terraform
Working Directory" points there. (HCP Terraform ignores the ``cloud`` block in such
runs; the CLI-driven workflow uses it.)

``python -m stacks.cli.tfc`` (``make tfc-export``) synthesizes and writes those files;
``--check`` (``make tfc-check``) exits 1 when the committed files are missing, stale
or left over from a stack that is no longer cloud-backed. ``--synthesized DIR`` reuses
an existing synthesis output instead of synthesizing again.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ..config import ConfigError, cloud_stacks, discover, load_all
from ..dependencies import ProviderMismatch
from .common import print_problems, terraform_cli_problem

EXPORT_ROOT = Path("terraform")
STACK_FILE = "cdk.tf.json"


def expected_files(synthesized: Path, names: list[str]) -> dict[str, bytes]:
    """``{"<stack>/cdk.tf.json": bytes}`` for ``names``, read from a synthesis output
    folder (``<synthesized>/stacks/<name>/cdk.tf.json``)."""
    return {f"{n}/{STACK_FILE}": (synthesized / "stacks" / n / STACK_FILE).read_bytes() for n in names}


def committed_files(root: Path) -> dict[str, bytes]:
    """The exported files currently under ``root`` (``<stack>/cdk.tf.json``)."""
    if not root.is_dir():
        return {}
    return {f"{p.parent.name}/{STACK_FILE}": p.read_bytes() for p in sorted(root.glob(f"*/{STACK_FILE}"))}


def differences(expected: dict[str, bytes], committed: dict[str, bytes]) -> list[str]:
    """Human-readable differences between the expected and the committed export."""
    out = []
    for rel in sorted(expected.keys() | committed.keys()):
        if rel not in committed:
            out.append(f"{rel}: missing")
        elif rel not in expected:
            out.append(f"{rel}: left over (the stack no longer exists or is not cloud-backed)")
        elif expected[rel] != committed[rel]:
            out.append(f"{rel}: stale")
    return out


def write(expected: dict[str, bytes], root: Path) -> list[str]:
    """Make ``root`` hold exactly ``expected``: write new and changed files, delete
    left-over ``<stack>/cdk.tf.json`` files (and their folder when it is then empty;
    nothing else is touched). Returns the relative paths changed."""
    changed = []
    for rel, data in expected.items():
        target = root / rel
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            changed.append(rel)
    for rel in committed_files(root).keys() - expected.keys():
        (root / rel).unlink()
        if not any((root / rel).parent.iterdir()):
            (root / rel).parent.rmdir()
        changed.append(rel)
    return sorted(changed)


def main(argv: list[str] | None = None) -> int:
    """``python -m stacks.cli.tfc [--check] [--synthesized DIR] [--root DIR]``; returns 0 when
    written or current, 1 when stale (``--check``) or when synthesis cannot run (a
    Terraform CLI too old for the ``cloud`` block, another provider release than the
    pinned one), 2 for invalid configs."""
    parser = argparse.ArgumentParser(prog="python -m stacks.cli.tfc", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed export is not current")
    parser.add_argument("--synthesized", metavar="DIR", help="existing synthesis output to export from")
    parser.add_argument("--root", default=str(EXPORT_ROOT), help="export folder (default: terraform)")
    args = parser.parse_args(argv)
    try:
        configs = load_all(discover())
    except ConfigError as exc:
        return print_problems(exc, "nothing was exported.")
    names = sorted(cloud_stacks(configs))
    root = Path(args.root)
    with tempfile.TemporaryDirectory(prefix="tfc-export-") as tmp:
        if args.synthesized:
            synthesized = Path(args.synthesized)
        else:
            from ..synthesis import synthesize

            cli_problem = terraform_cli_problem(names)
            if cli_problem:
                print(f"error: {cli_problem}. Nothing was exported.", file=sys.stderr)
                return 1
            synthesized = Path(tmp) / "out"
            try:
                synthesize([c for c in configs if c[1].name in names], synthesized)
            except ProviderMismatch as exc:
                print(f"error: {exc}. Nothing was exported.", file=sys.stderr)
                return 1
        expected = expected_files(synthesized, names)
    if args.check:
        diffs = differences(expected, committed_files(root))
        for line in diffs:
            print(f"error: {root}/{line}", file=sys.stderr)
        if diffs:
            print("run `make tfc-export` and commit the result", file=sys.stderr)
            return 1
        print(f"{root}/ is current ({', '.join(names) or 'no cloud-backed stacks'})")
        return 0
    changed = write(expected, root)
    print(
        f"exported {len(names)} cloud-backed stack(s) to {root}/: {', '.join(names) or 'none'}"
        + (f" ({len(changed)} file(s) changed)" if changed else " (unchanged)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
