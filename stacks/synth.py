"""Command line: validate every environment config, then synthesize all stacks at once.

``python main.py`` synthesizes every ``config/*.yaml``; ``--config FILE`` (repeatable)
only those, keeping the other stacks already in the output folder. Output goes to
``$CDKTF_OUTDIR`` (set by ``cdktf synth``), else ``--outdir``, else ``cdktf.out``.

All-or-nothing: every config is validated before the provider is even loaded; the stacks
are synthesized into a staging folder beside the output folder, which replaces the
output folder only when synthesis succeeded. A failed run leaves earlier output as it
was, even when the process is killed (see ``_swap``). Exit codes: 0 success, 2 invalid
config or arguments, 1 failure (a missing package, a provider release other than the
pinned one, a Terraform CLI too old for a ``cloud`` block, or a bug), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import TypeAdapter

from .backend import needs_terraform_cli, state_location, terraform_cli_problem
from .config import Backend, ConfigError, EnvironmentConfig, Problem, S3Backend, advisories, load_config
from .dependencies import ProviderMismatch, is_missing_dependency, missing_dependency
from .user_data import user_data_advisories

DEFAULT_CONFIG_DIR = Path("config")
DEFAULT_OUTDIR = "cdktf.out"


def discover(config_dir: Path = DEFAULT_CONFIG_DIR) -> list[Path]:
    """Return the environment files in ``config_dir`` (``*.yaml`` and ``*.yml``), sorted."""
    return sorted([*config_dir.glob("*.yaml"), *config_dir.glob("*.yml")])


def load_all(paths: list[Path | str], others: list[Path] = ()) -> list[tuple[Path, EnvironmentConfig]]:
    """Load and validate every file (a file given twice is loaded once); raise
    :class:`ConfigError` with all problems of all files, including two files that declare
    the same environment name or the same Terraform state (:func:`shared_state`), also
    with the environments of ``others`` that are not being loaded (``config/*.yaml`` when
    only some files are synthesized)."""
    problems: list[Problem] = []
    loaded: list[tuple[Path, EnvironmentConfig]] = []
    uses: list[StateUse] = []  # state locations of this run's files, then of the others
    given: set[str] = set()
    for p in paths:
        # The same path given twice (symlinks are not followed: an alias of another
        # file is another environment file, and gets the duplicate-name error).
        if os.path.abspath(p) in given:
            continue
        given.add(os.path.abspath(p))
        try:
            cfg = load_config(p)
        except ConfigError as exc:
            problems.extend(exc.problems)
            use = _raw_state_use(Path(p), _document(Path(p)), in_run=True)  # its state counts even so
        else:
            loaded.append((Path(p), cfg))
            use = state_use(Path(p), cfg.name, cfg.region, cfg.backend, in_run=True)
        if use is not None:
            uses.append(use)
    seen: dict[str, Path] = {}
    for p, cfg in loaded:
        if cfg.name in seen:
            problems.append(
                Problem(str(p), "name", f"{cfg.name!r} is already the name of {seen[cfg.name]}; "
                        "stack names must be unique")
            )
        seen.setdefault(cfg.name, p)
    uses += other_state_uses([Path(p) for p in paths], list(others))
    problems.extend(shared_state(uses))
    if problems:
        raise ConfigError(problems)
    return loaded


@dataclass(frozen=True)
class StateUse:
    """One environment's Terraform state location (:func:`stacks.backend.state_location`):
    the file, the environment ``name``, the ``location``, whether the file writes the
    location out (``explicit``; an S3 ``key`` left at its default follows the name) and
    whether the environment is being loaded in this run (``in_run``)."""

    path: Path
    name: str
    location: str
    explicit: bool
    in_run: bool


def state_use(path: Path, name: str, region: str, backend: Backend, in_run: bool) -> StateUse | None:
    """The :class:`StateUse` of an environment, or None when its state cannot be shared
    (local state, workspaces chosen by tags). An S3 key left out or written as its
    default counts as derived from the name (not ``explicit``)."""
    where = state_location(name, region, backend)
    if where is None:
        return None
    explicit = not (isinstance(backend, S3Backend) and backend.key in (None, S3Backend.default_key(name)))
    return StateUse(Path(path), name, where, explicit, in_run)


def shared_state(uses: list[StateUse]) -> list[Problem]:
    """Problems for environments of this run (``in_run``) whose Terraform state is the
    state of another environment with a different name: the same S3 bucket and key, or
    the same HCP Terraform workspace (:func:`stacks.backend.state_location`). Two stacks
    on one state would each plan to destroy what the other created. The others are
    compared but never reported.

    When one of the environments on a location derives it from its own name (an S3 key
    left at its default), that one owns it and the others are told so. Otherwise (a
    workspace name, or keys written out) the tool cannot tell which one is deployed
    there: each one in this run is reported, naming the others, and the message says
    to move the one that is not deployed there. Problems come in the order of ``uses``."""
    by_location: dict[str, list[StateUse]] = {}
    for use in uses:
        by_location.setdefault(use.location, []).append(use)
    problems = []
    for use in uses:
        group = by_location[use.location]
        if not use.in_run or len({u.name for u in group}) < 2:
            continue
        field = "backend.key" if "s3://" in use.location else "backend.workspaces.name"
        owner = next((u for u in group if not u.explicit), None)
        if owner is not None:
            if use.name != owner.name:
                problems.append(Problem(
                    str(use.path), field, f"{use.location} is the state of {owner.name!r} ({owner.path}, from its "
                    f"name); each environment needs its own state: give this one its own {field}"))
            continue
        rivals = sorted({(u.name, str(u.path)) for u in group if u.name != use.name})
        named = ", ".join(f"{n!r} ({p})" for n, p in rivals)
        problems.append(Problem(
            str(use.path), field, f"{use.location} is also the state of {named}; each environment needs its own "
            f"state: give the one not deployed there yet its own {field}"))
    return problems


def _document(path: Path) -> dict | None:
    """The YAML mapping in ``path``, read leniently for a comparison with other files:
    None when it is not a regular file (a FIFO would block, a device never end) or
    cannot be read or parsed as a mapping; such a file is reported when it is itself
    loaded."""
    try:
        if not path.is_file():
            return None
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - any problem: nothing to compare with
        return None
    return doc if isinstance(doc, dict) else None


def _other_documents(given: list[Path], others: list[Path]):
    """``(path, mapping)`` of each of ``others`` that is not one of the ``given`` files
    (compared with symlinks resolved) and reads as a mapping (:func:`_document`)."""
    resolved = {Path(p).resolve() for p in given}
    for other in others:
        if other.resolve() not in resolved:
            doc = _document(other)
            if doc is not None:
                yield other, doc


def other_state_uses(given: list[Path], others: list[Path]) -> list[StateUse]:
    """The state locations of the environment files ``others`` (normally
    ``config/*.yaml``) that are not among the ``given`` files. Only the ``name``,
    ``region`` and ``backend`` of each are validated, so a file with unrelated mistakes
    still counts; anything else unreadable is skipped (it is not this run's concern)."""
    uses = (_raw_state_use(other, doc, in_run=False) for other, doc in _other_documents(given, others))
    return [use for use in uses if use is not None]


def _raw_state_use(path: Path, doc: dict | None, in_run: bool) -> StateUse | None:
    """:func:`state_use` from the ``name``, ``region`` and ``backend`` of ``doc`` (the
    mapping in ``path``), validated on their own; None when those do not validate (or
    ``doc`` is None)."""
    try:
        name, region = doc["name"], doc["region"]
        backend = TypeAdapter(Backend).validate_python(doc["backend"])
    except Exception:  # noqa: BLE001 - any problem: this file's state is unknown
        return None
    if not isinstance(name, str) or not isinstance(region, str):
        return None
    return state_use(path, name, region, backend, in_run=in_run)


def name_clashes(configs: list[tuple[Path, EnvironmentConfig]], others: list[Path]) -> list[Problem]:
    """Problems for configs given with ``--config`` whose ``name`` is also the name of
    another environment file (``others``, normally ``config/*.yaml``): synthesizing one
    would replace the other's stack folder, next to its state. Files that cannot be read
    or parsed are skipped here (they are reported when they are synthesized)."""
    problems = []
    for other, doc in _other_documents([p for p, _ in configs], others):
        name = doc.get("name")
        for path, cfg in configs:
            if cfg.name == name:
                problems.append(
                    Problem(str(path), "name", f"{cfg.name!r} is also the name of {other}: its stack "
                            "folder (and local state) would be replaced; stack names must be unique")
                )
    return problems


def print_problems(exc: ConfigError, outcome: str) -> int:
    """Print one ``error: <file>: <field>: <message>`` line per problem of ``exc`` to
    stderr, then ``N problem(s) found; <outcome>`` (``outcome`` says what the command
    did not do, for example ``nothing was written.``). Returns 2, the exit code for
    invalid configs, so a command can ``return print_problems(...)``."""
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{len(exc.problems)} problem(s) found; {outcome}", file=sys.stderr)
    return 2


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
    warn=None,
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
    warn = warn or (lambda line: None)
    problem = output_problem(Path(outdir))
    if problem:
        raise OutputDirError(problem)
    # Deferred: loading cdktf starts the jsii runtime. stacks.aws first, so the runtime
    # starts with the lazy provider index (see stacks/aws.py).
    from . import aws
    from cdktf import App

    from .fleet_stack import FleetStack

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
        # CLI once instead (backend.terraform_cli_problem).
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
                warn(f"stack {name}: {change}")
        for name in _swap(staging, out):
            warn(
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
    from .backend import describe_change

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
        extras = sorted(
            e for e in old_stack.iterdir() if e.name not in GENERATED_STACK_FILES | REPORT_STACK_FILES
        )
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python main.py``; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Synthesize one Terraform JSON stack per environment config.",
    )
    parser.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        help="environment YAML file (repeatable); default: every config/*.yaml",
    )
    parser.add_argument("--outdir", default=None, help="output folder (default: cdktf.out)")
    parser.add_argument(
        "--check", action="store_true", help="validate the configs only; write nothing"
    )
    args = parser.parse_args(argv)

    paths = [Path(p) for p in args.config] if args.config else discover()
    if not paths:
        print(f"error: no environment files found in {DEFAULT_CONFIG_DIR}/ (*.yaml)", file=sys.stderr)
        return 2
    try:
        # An environment synthesized on its own must not take the state of another one.
        configs = load_all(paths, discover() if args.config else [])
    except ConfigError as exc:
        return print_problems(exc, "nothing was synthesized and any earlier output is unchanged.")
    outdir = os.environ.get("CDKTF_OUTDIR") or args.outdir or DEFAULT_OUTDIR
    if args.config and not args.check and Path(outdir).resolve() == Path(DEFAULT_OUTDIR).resolve():
        # cdktf.out holds the stacks of config/*.yaml: a file given with --config must not
        # take the name of another one there.
        clashes = name_clashes(configs, discover())
        if clashes:
            return print_problems(ConfigError(clashes), "nothing was synthesized and any earlier output is unchanged.")
    for path, cfg in configs:
        for field, message in advisories(cfg) + user_data_advisories(cfg, path):
            print(f"warning: {path}: {field}: {message}", file=sys.stderr)
    if args.check:
        print(f"{len(configs)} environment config(s) valid: {', '.join(c.name for _, c in configs)}")
        return 0
    cli_problem = terraform_cli_problem(needs_terraform_cli(configs))
    if cli_problem:
        print(f"error: {cli_problem}. Nothing was synthesized.", file=sys.stderr)
        return 1
    try:
        names = synthesize(
            configs, outdir, partial=bool(args.config), warn=lambda line: print(f"warning: {line}", file=sys.stderr)
        )
    except OutputDirError as exc:
        print(f"error: {exc}. Nothing was synthesized.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: interrupted; {outdir} is unchanged", file=sys.stderr)
        return 130
    except ProviderMismatch as exc:
        print(f"error: {exc}; {outdir} is unchanged", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        if not is_missing_dependency(exc):
            raise
        print(f"error: {missing_dependency(exc.name)}; {outdir} is unchanged", file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - a bug, not bad input: show where, keep the output
        traceback.print_exc()
        print(
            f"error: synthesis failed after the configs were validated (a bug: please report "
            f"it with the traceback above); {outdir} is unchanged",
            file=sys.stderr,
        )
        return 1
    print(f"synthesized {len(names)} stack(s) into {outdir}: {', '.join(names)}")
    return 0
