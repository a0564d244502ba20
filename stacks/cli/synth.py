"""``python main.py``: validate every environment config, then synthesize all stacks at once.

``python main.py`` synthesizes every ``config/*.yaml``; ``--config FILE`` (repeatable)
only those, keeping the other stacks already in the output folder. Output goes to
``$CDKTF_OUTDIR`` (set by ``cdktf synth``), else ``--outdir``, else ``cdktf.out``.

Every config is validated before the provider is even loaded; synthesis is
all-or-nothing (:mod:`stacks.synthesis`). Exit codes: 0 success, 2 invalid config or
arguments, 1 failure (a missing package, a provider release other than the pinned one,
a Terraform CLI too old for a ``cloud`` block, or a bug), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from ..config import ConfigError, advisories, cloud_stacks, discover, load_all, name_clashes
from ..config.environments import DEFAULT_CONFIG_DIR
from ..dependencies import ProviderMismatch, is_missing_dependency, missing_dependency
from ..synthesis import DEFAULT_OUTDIR, OutputDirError, synthesize
from ..user_data import user_data_advisories
from .common import print_problems, terraform_cli_problem


def main(argv: list[str] | None = None, prog: str = "main.py") -> int:
    """Entry point of ``python main.py`` (``prog`` names it in usage messages); returns
    the process exit code."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Synthesize one Terraform JSON stack per environment config.",
    )
    parser.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        help="environment YAML file (repeatable); default: every config/*.yaml",
    )
    parser.add_argument("--outdir", default=None, help="output folder (default: cdktf.out)")
    parser.add_argument("--check", action="store_true", help="validate the configs only; write nothing")
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
    cli_problem = terraform_cli_problem(cloud_stacks(configs))
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
    except Exception:
        traceback.print_exc()
        print(
            f"error: synthesis failed after the configs were validated (a bug: please report "
            f"it with the traceback above); {outdir} is unchanged",
            file=sys.stderr,
        )
        return 1
    print(f"synthesized {len(names)} stack(s) into {outdir}: {', '.join(names)}", flush=True)
    from ..jsii_cache import await_index

    await_index()  # only when the package cache was not primed (stacks/jsii_cache.py)
    return 0
