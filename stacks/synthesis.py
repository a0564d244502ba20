"""Synthesis: every environment's stack built in one cdktf app, written atomically.

All-or-nothing: the stacks are synthesized into a staging folder beside the output
folder, which replaces the output folder only when synthesis succeeded. A failed run
leaves earlier output as it was, even when the process is killed (see ``_swap``).
Terraform's and the user's files in a stack folder (local state, ``.terraform/``, lock
file, plans, override files) survive re-synthesis.

Only :func:`synthesize` loads cdktf and the AWS provider (``stacks.aws``), so importing
this module is cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .backend import describe_change
from .config import EnvironmentConfig

#: Where synthesis writes when neither ``--outdir`` nor ``$CDKTF_OUTDIR`` says otherwise.
DEFAULT_OUTDIR = "cdktf.out"

#: What synthesis writes in a stack folder; everything else there (``.terraform/``,
#: ``.terraform.lock.hcl``, local state, plan files, ``*_override.tf.json``) was added by
#: Terraform or the user and survives re-synthesis.
GENERATED_STACK_FILES = frozenset({"cdk.tf.json"})

#: What ``make report`` writes in a stack folder from its ``cdk.tf.json``: stale once the
#: stack is synthesized again, so never carried over (``make report`` writes it anew, as
#: it does ``resilience.json``, which synthesis also drops).
REPORT_STACK_FILES = frozenset({"topology.md"})


def synthesize(
    configs: list[tuple[Path, EnvironmentConfig]],
    outdir: str | Path,
    *,
    partial: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[str]:
    """Synthesize ``configs`` into ``outdir`` atomically; return the stack names.

    With ``partial`` the other stacks already in ``outdir`` are kept (and stay in its
    ``manifest.json``); otherwise ``outdir`` holds exactly these stacks afterwards.
    Files Terraform or the user added to a stack folder (local state, ``.terraform/``,
    lock file, plans) are moved into the new output, and the folder of a stack that is
    no longer configured is kept when it holds such files. ``warn`` (a callable taking
    one line) receives notes about that and about stacks whose backend changed.
    Raises whatever synthesis raises; ``outdir`` is then untouched.
    """
    note = warn or (lambda line: None)
    problem = output_problem(Path(outdir))
    if problem:
        raise OutputDirError(problem)
    # Deferred: loading cdktf starts the jsii runtime. stacks.aws first, so the runtime
    # starts with the lazy provider index (see stacks/aws.py); the import sorter must
    # not move cdktf before it.
    # isort: off
    from . import aws
    from cdktf import App
    from .fleet_stack import FleetStack
    # isort: on

    aws.speed_up_type_checks()

    out = Path(outdir)
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output folder is not
    try:
        # cdktf's validations: provider presence (every stack here has its provider) and,
        # for cloud backends, `terraform version` run twice per stack; main() checks the
        # CLI once instead (stacks.cli.common.terraform_cli_problem).
        app = App(outdir=str(staging), stack_traces=False, skip_validation=True)
        for path, cfg in configs:
            FleetStack(app, cfg, path)
        app.synth()
        names = [cfg.name for _, cfg in configs]
        if partial and (out / "manifest.json").is_file():
            _keep_other_stacks(out, staging, set(names))
        for name in names:
            change = _backend_change(out / "stacks" / name, staging / "stacks" / name)
            if change:
                note(f"stack {name}: {change}")
        for name in _swap(staging, out):
            note(
                f"stack {name} is no longer configured; {out / 'stacks' / name} is kept because "
                "it holds Terraform files (state, .terraform): destroy it there or delete the folder"
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return names


#: What may be at the top of an output folder: synthesis output (``manifest.json``,
#: ``stacks/``) and the report (``resilience.json``).
OUTPUT_ENTRIES = frozenset({"manifest.json", "stacks", "resilience.json"})


class OutputDirError(Exception):
    """The output path holds something synthesis would replace but did not write."""


def output_problem(out: Path) -> str | None:
    """Why synthesis must not write to ``out``, or None when it may: ``out`` is missing,
    empty, or holds only earlier output (:data:`OUTPUT_ENTRIES`). Synthesis replaces the
    whole folder, so anything else there (a file, a source tree, ``--outdir .``) would be
    lost."""
    if not out.exists() and not out.is_symlink():
        return None
    if not out.is_dir() or out.is_symlink():
        return f"{out} exists and is not a folder of synthesis output; choose another --outdir"
    try:
        foreign = sorted(e.name for e in out.iterdir() if e.name not in OUTPUT_ENTRIES)
    except OSError as exc:
        return f"{out} cannot be read: {exc.strerror}"
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        return (
            f"{out} holds entries synthesis did not write ({shown}); synthesis replaces the whole "
            "folder, so choose an empty or new --outdir"
        )
    return None


def _backend_change(old: Path, new: Path) -> str | None:
    try:
        before = json.loads((old / "cdk.tf.json").read_text())
    except (OSError, ValueError):
        return None  # first synthesis of this stack
    return describe_change(before, json.loads((new / "cdk.tf.json").read_text()))


def _keep_other_stacks(old: Path, new: Path, replaced: set[str]) -> None:
    old_manifest = json.loads((old / "manifest.json").read_text())
    new_manifest = json.loads((new / "manifest.json").read_text())
    for name, entry in old_manifest.get("stacks", {}).items():
        if name in replaced or not (old / "stacks" / name).is_dir():
            continue
        # Only the generated files: Terraform's files follow in _carry_over (renames,
        # not copies of a .terraform folder that holds provider binaries).
        (new / "stacks" / name).mkdir(parents=True)
        for generated in GENERATED_STACK_FILES:
            if (old / "stacks" / name / generated).is_file():
                shutil.copy2(old / "stacks" / name / generated, new / "stacks" / name / generated)
        new_manifest["stacks"][name] = entry
    new_manifest["stacks"] = dict(sorted(new_manifest["stacks"].items()))
    (new / "manifest.json").write_text(json.dumps(new_manifest, indent=2) + "\n")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False when the platform or file system cannot, so the caller falls back to
    two renames.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _swap(staging: Path, out: Path) -> list[str]:
    """Replace ``out`` with ``staging`` so that no reader, and no crash at any moment,
    ever sees a mix of old and new output or no output at all, then move Terraform's and
    the user's files over from the old output (see :func:`_carry_over`). Returns the
    names of unconfigured stacks kept for their files.

    Linux swaps the two folders in one atomic step; elsewhere ``out`` is moved aside and
    ``staging`` moved in (two renames; a crash between them leaves the earlier output in
    ``.<out>.old-*/``, which the next run puts back, see :func:`_recover`). The earlier
    output waits in ``.<out>.old-*/`` until its files are carried over: if that fails,
    state files are still there, never deleted.
    """
    if not out.exists():
        staging.rename(out)
        return []
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    if _exchange(staging, out):
        staging.rename(trash / out.name)  # staging now holds the earlier output
    else:
        out.rename(trash / out.name)
        staging.rename(out)
    kept = _carry_over(trash / out.name, out)
    shutil.rmtree(trash, ignore_errors=True)
    return kept


def _carry_over(old: Path, new: Path) -> list[str]:
    """Move every entry of ``old/stacks/<name>/`` that synthesis did not write into
    ``new/stacks/<name>/``: local state, ``.terraform/``, ``.terraform.lock.hcl``, plan
    and override files (not the report's ``topology.md``, stale now). A stack folder
    that is not in ``new`` is moved whole when it holds such entries (its last
    ``cdk.tf.json`` included, so it can still be destroyed). Returns the names of
    those kept folders."""
    kept: list[str] = []
    if not (old / "stacks").is_dir():
        return kept
    for old_stack in sorted(p for p in (old / "stacks").iterdir() if p.is_dir()):
        new_stack = new / "stacks" / old_stack.name
        extras = sorted(e for e in old_stack.iterdir() if e.name not in GENERATED_STACK_FILES | REPORT_STACK_FILES)
        if not extras:
            continue
        if not new_stack.exists():
            new_stack.parent.mkdir(parents=True, exist_ok=True)
            old_stack.rename(new_stack)
            kept.append(old_stack.name)
            continue
        for entry in extras:
            if not (new_stack / entry.name).exists():
                entry.rename(new_stack / entry.name)
    return kept


def _recover(out: Path) -> None:
    """Put back earlier output that a crash in the middle of :func:`_swap`'s fallback
    left in ``.<out>.old-*/<out>`` while ``out`` is missing."""
    if out.exists():
        return
    moved = sorted(out.parent.glob(f".{out.name}.old-*/{out.name}"), key=lambda p: p.stat().st_mtime)
    if moved:
        moved[-1].rename(out)
        print(f"note: restored {out} from an interrupted earlier run", file=sys.stderr)
