"""What upgrading the generator does to stacks an earlier version deployed, measured on
the emulator.

    .venv/bin/python tests/upgrade_effects.py --from <git ref> [--examples dev prod ...]

For each example: the earlier version (``--from``, read with ``git archive``) is
synthesized from its own example config and applied on a local emulator (moto), as a
user of that version would have it; then this version synthesizes the same config (the
user upgrades the tool, not the config) and ``terraform plan -refresh=false`` runs
against the deployed state. The plan of the earlier stack against its own state is
subtracted (what the emulator reports differently from AWS shows up in both). Prints,
per example, every resource the upgrade changes with its actions, and exits 1 when the
upgrade would delete an Auto Scaling group, load balancer, listener or target group
(replaced destroy-first, or removed) or the plan is refused. Not part of ``make test``:
run it before a release and record the result in docs/upgrading.md.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from change_effects import Deployment, Synthesizer  # noqa: E402
from emulator import MotoServer  # noqa: E402
from helpers import EXAMPLES  # noqa: E402

#: Resource types whose deletion takes serving capacity or routing away.
SERVING = {"aws_autoscaling_group", "aws_lb", "aws_lb_listener", "aws_lb_target_group"}


#: What synthesis needs, replaced by the earlier version's in a project copy.
PROJECT_FILES = ("main.py", "cdktf.json", "stacks", "config", "user_data")


def make_earlier(ref: str, project: Path) -> None:
    """Replace the synthesis files (:data:`PROJECT_FILES`) of the project copy
    ``project`` with those of git ``ref``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, *PROJECT_FILES], check=True, capture_output=True
    ).stdout
    for name in PROJECT_FILES:
        path = project / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(project, filter="data")


def earlier_synth(project: Path):
    """A synth callable for :meth:`Deployment.deploy` that runs the earlier version's
    ``main.py`` in ``project`` (every config there, the prepared one included)."""

    def synth(config: Path, outdir: Path) -> dict:
        result = subprocess.run([sys.executable, "main.py"], cwd=project, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"earlier version's synth failed:\n{result.stdout}{result.stderr}")
        name = config.stem
        return dict(json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()))

    return synth


def own_changes(changes: dict[str, dict], baseline: dict[str, dict]) -> dict[str, dict]:
    """``changes`` without those the earlier stack's own plan also has (same actions and
    values): emulator drift, not the upgrade."""
    keys = ("actions", "after", "after_unknown")
    return {
        address: ch
        for address, ch in changes.items()
        if ch["actions"] != ["no-op"]
        and not (address in baseline and all(ch.get(k) == baseline[address].get(k) for k in keys))
    }


def serving_deleted(changes: dict[str, dict]) -> list[str]:
    """Addresses in ``changes`` of a :data:`SERVING` resource that is removed or
    replaced destroy-first (a create-first replacement keeps serving)."""
    return [
        address
        for address, ch in changes.items()
        if ch["type"] in SERVING and "delete" in ch["actions"] and ch["actions"] != ["create", "delete"]
    ]


def measure(name: str, ref: str, workdir: Path, synth: Synthesizer) -> dict:
    """Deploy example ``name`` as ``ref`` made it, plan this version's stack against it;
    returns ``{"example", "changes": {address: actions}, "refused", "gate"}``."""
    workdir.mkdir(parents=True)
    server = MotoServer(workdir / f"moto-{name}.log").start()
    try:
        dep = Deployment(name, workdir, server.endpoint)
        make_earlier(ref, dep.project)
        dep.deploy(earlier_synth(dep.project))
        earlier = json.loads((dep.stack_dir / "cdk.tf.json").read_text())
        status, baseline = dep.plan(earlier, dep.worker(0))
        if status != "planned":
            raise RuntimeError(f"{name}: the earlier stack does not plan against itself: {baseline}")
        current = synth(dep.config_file, workdir / "current-out")
        status, changes = dep.plan(current, dep.worker(1))
    finally:
        server.stop()
    if status != "planned":
        return {"example": name, "changes": {}, "refused": changes["message"], "gate": []}
    own = own_changes(changes, baseline)
    gate = serving_deleted(own)
    return {
        "example": name,
        "changes": {a: "/".join(ch["actions"]) for a, ch in sorted(own.items())},
        "refused": None,
        "gate": gate,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="ref", required=True, help="the earlier version (a git ref)")
    parser.add_argument("--examples", nargs="*", default=sorted(p.stem for p in EXAMPLES))
    args = parser.parse_args(argv)
    start = time.monotonic()
    synth = Synthesizer()
    with tempfile.TemporaryDirectory(prefix="upgrade-effects-") as tmp, ThreadPoolExecutor(len(args.examples)) as pool:
        futures = [pool.submit(measure, n, args.ref, Path(tmp) / n, synth) for n in args.examples]
        results = [f.result() for f in futures]
    failed = False
    for r in results:
        print(f"## {r['example']} (from {args.ref})")
        if r["refused"]:
            print(f"refused at plan: {r['refused']}")
            failed = True
        counts: dict[str, int] = {}
        for actions in r["changes"].values():
            counts[actions] = counts.get(actions, 0) + 1
        print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no change")
        for address, actions in r["changes"].items():
            print(f"  {actions:<14} {address}")
        for address in r["gate"]:
            print(f"GATE: {r['example']}: {address} is deleted", file=sys.stderr)
            failed = True
    print(f"({time.monotonic() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
