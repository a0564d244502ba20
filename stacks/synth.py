"""Command line: validate every environment config, then synthesize all stacks at once.

``python main.py`` synthesizes every ``config/*.yaml``; ``--config FILE`` (repeatable)
only those, keeping the other stacks already in the output folder. Output goes to
``$CDKTF_OUTDIR`` (set by ``cdktf synth``), else ``--outdir``, else ``cdktf.out``.

All-or-nothing: every config is validated before the provider is even loaded; the stacks
are synthesized into a staging folder beside the output folder, which replaces the
output folder only when synthesis succeeded. A failed run leaves earlier output as it
was. Files in a stack folder that synthesis does not write (Terraform's working files:
the local state, ``.terraform/``, the dependency lock file, saved plans, override files)
are kept across runs. Exit codes: 0 success, 2 invalid config or arguments, 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .config import ConfigError, EnvironmentConfig, Problem, load_config

DEFAULT_CONFIG_DIR = Path("config")
DEFAULT_OUTDIR = "cdktf.out"


def discover(config_dir: Path = DEFAULT_CONFIG_DIR) -> list[Path]:
    """Return the environment files in ``config_dir`` (``*.yaml`` and ``*.yml``), sorted."""
    return sorted([*config_dir.glob("*.yaml"), *config_dir.glob("*.yml")])


def load_all(paths: list[Path | str]) -> list[tuple[Path, EnvironmentConfig]]:
    """Load and validate every file; raise :class:`ConfigError` with all problems of all
    files, including two files that declare the same environment name."""
    problems: list[Problem] = []
    loaded: list[tuple[Path, EnvironmentConfig]] = []
    for p in paths:
        try:
            loaded.append((Path(p), load_config(p)))
        except ConfigError as exc:
            problems.extend(exc.problems)
    seen: dict[str, Path] = {}
    for p, cfg in loaded:
        if cfg.name in seen:
            problems.append(
                Problem(str(p), "name", f"{cfg.name!r} is already the name of {seen[cfg.name]}; "
                        "stack names must be unique")
            )
        seen.setdefault(cfg.name, p)
    if problems:
        raise ConfigError(problems)
    return loaded


def synthesize(configs: list[tuple[Path, EnvironmentConfig]], outdir: str | Path, *, partial: bool = False) -> list[str]:
    """Synthesize ``configs`` into ``outdir`` atomically; return the stack names.

    With ``partial`` the other stacks already in ``outdir`` are kept (and stay in its
    ``manifest.json``); otherwise ``outdir`` holds exactly these stacks afterwards.
    In the folder of every stack synthesized again, whatever synthesis does not write
    itself (``terraform.tfstate`` of the default local backend, ``.terraform/``,
    ``.terraform.lock.hcl``, plans, ``*_override.tf*``) is moved over from the old
    folder, so re-synthesizing never loses Terraform state.
    Raises whatever synthesis raises; ``outdir`` is then untouched.
    """
    from cdktf import App  # deferred: loading cdktf starts the jsii runtime

    from .fleet_stack import FleetStack

    out = Path(outdir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output folder is not
    try:
        app = App(outdir=str(staging), stack_traces=False)
        for path, cfg in configs:
            FleetStack(app, cfg, path)
        app.synth()
        names = [cfg.name for _, cfg in configs]
        if partial and (out / "manifest.json").is_file():
            _keep_other_stacks(out, staging, set(names))
        _swap(staging, out, carry_over=names)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return names


def _keep_other_stacks(old: Path, new: Path, replaced: set[str]) -> None:
    old_manifest = json.loads((old / "manifest.json").read_text())
    new_manifest = json.loads((new / "manifest.json").read_text())
    for name, entry in old_manifest.get("stacks", {}).items():
        if name in replaced or not (old / "stacks" / name).is_dir():
            continue
        shutil.copytree(old / "stacks" / name, new / "stacks" / name)
        new_manifest["stacks"][name] = entry
    new_manifest["stacks"] = dict(sorted(new_manifest["stacks"].items()))
    (new / "manifest.json").write_text(json.dumps(new_manifest, indent=2) + "\n")


def _swap(staging: Path, out: Path, carry_over: list[str] = ()) -> None:
    """Replace ``out`` with ``staging`` using renames, so a reader never sees a mix.

    For each stack name in ``carry_over``, entries of the old ``stacks/<name>`` folder
    that the new one does not have are moved into it (Terraform working files). The old
    output is deleted only when every move succeeded; otherwise it stays beside ``out``
    as ``.<out>.old-*/`` and an ``OSError`` names it.
    """
    if not out.exists():
        staging.rename(out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old = trash / out.name
    out.rename(old)
    staging.rename(out)
    failed = []
    for name in carry_over:
        old_stack, new_stack = old / "stacks" / name, out / "stacks" / name
        if not old_stack.is_dir() or not new_stack.is_dir():
            continue
        for entry in sorted(old_stack.iterdir()):
            target = new_stack / entry.name
            if target.exists() or target.is_symlink():
                continue  # written by this synthesis
            try:
                entry.rename(target)
            except OSError:
                failed.append(str(entry))
    if failed:
        raise OSError(f"could not move Terraform working files into {out}; they are still in {old}: " + ", ".join(failed))
    shutil.rmtree(trash, ignore_errors=True)


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
        configs = load_all(paths)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(
            f"{len(exc.problems)} problem(s) found; nothing was synthesized and any earlier "
            "output is unchanged.",
            file=sys.stderr,
        )
        return 2
    if args.check:
        print(f"{len(configs)} environment config(s) valid: {', '.join(c.name for _, c in configs)}")
        return 0
    outdir = os.environ.get("CDKTF_OUTDIR") or args.outdir or DEFAULT_OUTDIR
    names = synthesize(configs, outdir, partial=bool(args.config))
    print(f"synthesized {len(names)} stack(s) into {outdir}: {', '.join(names)}")
    return 0
