"""Generate the repo-level ``atlantis.yaml`` from the environment configs.

``python -m stacks.cli.atlantis`` (``make atlantis``) writes ``atlantis.yaml``;
``--check`` only compares and exits 1 when the committed file is stale.

Atlantis (https://www.runatlantis.io/docs/repo-level-atlantis-yaml) plans a project
only when its ``dir`` exists in the pull request's clone, and our project folders
(``cdktf.out/stacks/<name>``) are generated, not committed. So the Atlantis server
synthesizes once per plan command in a server-side ``pre_workflow_hooks`` entry
(``make atlantis-synth``: ``python -m stacks.cli.atlantis --synth``, which stamps the output
with the commit it was made from),
and the custom workflows generated here check that stamp before ``terraform init``
and ``plan`` run in the stack folder: a failed synthesis can never let Atlantis plan
output left over from an earlier commit. docs/atlantis.md has the server-side
settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path, PurePosixPath

import yaml

from ..config import ConfigError, EnvironmentConfig, discover, load_all
from ..synthesis import DEFAULT_OUTDIR
from .common import print_problems

ATLANTIS_FILE = "atlantis.yaml"
#: Written next to the stacks by ``make atlantis-synth``: the commit they come from.
SYNTH_STAMP = ".synth-commit"
WORKFLOW = "ai-fleet"
#: For ``cloud`` backends: Atlantis's built-in plan step would try to switch to the
#: Terraform workspace "default", which a cloud block naming one workspace does not
#: have (runatlantis/atlantis#2171); a run step plans in the configured workspace.
CLOUD_WORKFLOW = "ai-fleet-cloud"
#: Files every stack depends on, relative to the repository root.
SHARED_INPUTS = ("main.py", "stacks/**/*.py", "Pipfile.lock", "package-lock.json")

HEADER = """\
# Generated from config/*.yaml by `make atlantis` (python -m stacks.cli.atlantis): do not
# edit; a test fails when this file is stale. One project per stack; the Atlantis
# server must synthesize in a pre_workflow_hook (docs/atlantis.md).
"""


def _guard(stack_dir: PurePosixPath) -> str:
    up = "/".join([".."] * (len(stack_dir.parts) - 1))
    return (
        f'test "$(cat {up}/{SYNTH_STAMP} 2>/dev/null)" = "$(git rev-parse HEAD)" || '
        "{ echo 'error: no output synthesized from this commit: the server must run "
        "make atlantis-synth in a pre_workflow_hook (docs/atlantis.md)'; exit 1; }"
    )


def _report_step(stack_dir: PurePosixPath) -> str:
    """The plan step that prints the stack's resilience report and text topology into
    the plan comment (Atlantis posts a custom ``run`` step's output with the plan's) and
    fails the plan on a missed objective when the stack's ``fail_plan`` is on. Atlantis
    sets ``$PROJECT_NAME``: the project is named after its stack."""
    root = "/".join([".."] * len(stack_dir.parts))
    outdir = "/".join(stack_dir.parts[:-2])
    return f'cd {root} && .venv/bin/python -m stacks.report --outdir {outdir} --stack "$PROJECT_NAME"'


def _repo_path(path: Path) -> str | None:
    """``path`` relative to the repository root (the current folder), POSIX style, or
    None when it lies outside the repository."""
    rel = os.path.relpath(path.resolve(), Path.cwd().resolve()) if path.is_absolute() else os.path.normpath(path)
    rel = PurePosixPath(*Path(rel).parts).as_posix()
    return None if rel == ".." or rel.startswith("../") else rel


def _inputs(config_path: Path, cfg: EnvironmentConfig) -> list[str]:
    own = [_repo_path(config_path)]
    for fleet in cfg.fleets.values():
        ud = fleet.launch_template.user_data_file
        if ud is not None:
            own.append(_repo_path(config_path.parent / ud))
    unique = list(dict.fromkeys(p for p in own if p))
    return unique + [p for p in SHARED_INPUTS if p not in unique]


def render(configs: list[tuple[Path, EnvironmentConfig]], outdir: str = DEFAULT_OUTDIR) -> str:
    """Return the text of ``atlantis.yaml`` (version 3) for ``configs``.

    One project per stack, named after it, with ``dir`` the stack's synthesized folder
    (``<outdir>/stacks/<name>``), autoplan when its config file, a user data file it
    references, the Python code or a lock file changes (``when_modified`` paths are
    relative to ``dir``, as Atlantis reads them), and the custom workflow. The output
    depends only on the configs, sorted by stack name: no paths of this machine.
    """
    projects = []
    uses_cloud = False
    for path, cfg in sorted(configs, key=lambda c: c[1].name):
        stack_dir = PurePosixPath(outdir, "stacks", cfg.name)
        up = "/".join([".."] * len(stack_dir.parts))
        cloud = cfg.uses_cloud_backend
        uses_cloud |= cloud
        projects.append(
            {
                "name": cfg.name,
                "dir": stack_dir.as_posix(),
                "workspace": "default",
                "workflow": CLOUD_WORKFLOW if cloud else WORKFLOW,
                "autoplan": {
                    "enabled": True,
                    "when_modified": [f"{up}/{p}" for p in _inputs(path, cfg)],
                },
            }
        )
    guard = _guard(PurePosixPath(outdir, "stacks", "x"))
    report = _report_step(PurePosixPath(outdir, "stacks", "x"))
    workflows = {
        WORKFLOW: {
            "plan": {"steps": [{"run": guard}, "init", "plan", {"run": report}]},
            "apply": {"steps": ["apply"]},
        }
    }
    if uses_cloud:
        workflows[CLOUD_WORKFLOW] = {
            "plan": {
                "steps": [
                    {"run": guard},
                    "init",
                    {"run": 'terraform plan -input=false -out "$PLANFILE"'},
                    {"run": report},
                ]
            },
            "apply": {"steps": ["apply"]},
        }
    doc = {
        "version": 3,
        "automerge": False,
        "parallel_plan": True,
        "parallel_apply": False,
        "projects": projects,
        "workflows": workflows,
    }
    return HEADER + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=4096)


def synth_for_atlantis(atlantis_file: Path, outdir: Path = Path(DEFAULT_OUTDIR)) -> int:
    """The pre_workflow_hook: synthesize every stack once and stamp the output with the
    commit (``git rev-parse HEAD``) it was made from. Returns 0 on success; 1 when the
    committed ``atlantis.yaml`` does not match the configs (a new or renamed stack
    would silently not be planned) or when Git fails; the synth exit code otherwise.
    The stamp is removed first, so after any failure the workflows refuse to plan.
    """
    import subprocess

    from .synth import main as synth_main

    (outdir / SYNTH_STAMP).unlink(missing_ok=True)
    rc = main(["--check", "--output", str(atlantis_file)])
    if rc != 0:
        return rc
    rc = synth_main(["--outdir", str(outdir)])
    if rc != 0:
        return rc
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        print(f"error: git rev-parse HEAD failed: {head.stderr.strip()}", file=sys.stderr)
        return 1
    (outdir / SYNTH_STAMP).write_text(head.stdout.strip() + "\n", encoding="utf-8")
    print(f"stamped {outdir} with commit {head.stdout.strip()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m stacks.cli.atlantis [--check | --synth] [--output FILE]``; returns the exit
    code: 0 written, current or synthesized; 1 stale (``--check``) or failed
    (``--synth``); 2 invalid configs."""
    parser = argparse.ArgumentParser(prog="python -m stacks.cli.atlantis", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", default=ATLANTIS_FILE, help="file to write (default: atlantis.yaml)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if the file is not current; write nothing")
    mode.add_argument(
        "--synth",
        action="store_true",
        help="Atlantis pre_workflow_hook: check the file, synthesize, stamp the output with the commit",
    )
    args = parser.parse_args(argv)
    if args.synth:
        return synth_for_atlantis(Path(args.output))
    try:
        configs = load_all(discover())
    except ConfigError as exc:
        return print_problems(exc, "nothing was written.")
    text = render(configs)
    out = Path(args.output)
    current = out.read_text(encoding="utf-8") if out.is_file() else None
    if args.check:
        if current != text:
            print(f"error: {out} is stale: run `make atlantis` and commit it", file=sys.stderr)
            return 1
        print(f"{out} is current ({len(configs)} project(s))")
        return 0
    if current != text:
        out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(configs)} project(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
