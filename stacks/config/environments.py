"""The environment files of a run: discovery, loading them together, and the rules
between files (unique stack names, one Terraform state per environment).

Provider-free: the command lines use it before anything loads cdktf.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from .backend import BackendConfig, S3Backend
from .environment import EnvironmentConfig
from .errors import ConfigError, Problem
from .loading import load_config

DEFAULT_CONFIG_DIR = Path("config")


def discover(config_dir: Path = DEFAULT_CONFIG_DIR) -> list[Path]:
    """Return the environment files in ``config_dir`` (``*.yaml`` and ``*.yml``), sorted."""
    return sorted([*config_dir.glob("*.yaml"), *config_dir.glob("*.yml")])


def load_all(paths: list[Path] | list[str], others: list[Path] | None = None) -> list[tuple[Path, EnvironmentConfig]]:
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
                Problem(
                    str(p), "name", f"{cfg.name!r} is already the name of {seen[cfg.name]}; stack names must be unique"
                )
            )
        seen.setdefault(cfg.name, p)
    uses += other_state_uses([Path(p) for p in paths], list(others or []))
    problems.extend(shared_state(uses))
    if problems:
        raise ConfigError(problems)
    return loaded


@dataclass(frozen=True)
class StateUse:
    """One environment's Terraform state location (``state_location`` of its backend):
    the file, the environment ``name``, the ``location``, whether the file writes the
    location out (``explicit``; an S3 ``key`` left at its default follows the name) and
    whether the environment is being loaded in this run (``in_run``)."""

    path: Path
    name: str
    location: str
    explicit: bool
    in_run: bool


def state_use(path: Path, name: str, region: str, backend: BackendConfig, in_run: bool) -> StateUse | None:
    """The :class:`StateUse` of an environment, or None when its state cannot be shared
    (local state, workspaces chosen by tags). An S3 key left out or written as its
    default counts as derived from the name (not ``explicit``)."""
    where = backend.state_location(name, region)
    if where is None:
        return None
    explicit = not (isinstance(backend, S3Backend) and backend.key in (None, S3Backend.default_key(name)))
    return StateUse(Path(path), name, where, explicit, in_run)


def shared_state(uses: list[StateUse]) -> list[Problem]:
    """Problems for environments of this run (``in_run``) whose Terraform state is the
    state of another environment with a different name: the same S3 bucket and key, or
    the same HCP Terraform workspace (``state_location`` of the backend models). Two stacks
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
                problems.append(
                    Problem(
                        str(use.path),
                        field,
                        f"{use.location} is the state of {owner.name!r} ({owner.path}, from its "
                        f"name); each environment needs its own state: give this one its own {field}",
                    )
                )
            continue
        rivals = sorted({(u.name, str(u.path)) for u in group if u.name != use.name})
        named = ", ".join(f"{n!r} ({p})" for n, p in rivals)
        problems.append(
            Problem(
                str(use.path),
                field,
                f"{use.location} is also the state of {named}; each environment needs its own "
                f"state: give the one not deployed there yet its own {field}",
            )
        )
    return problems


def _document(path: Path) -> dict[str, Any] | None:
    """The YAML mapping in ``path``, read leniently for a comparison with other files:
    None when it is not a regular file (a FIFO would block, a device never end) or
    cannot be read or parsed as a mapping; such a file is reported when it is itself
    loaded."""
    try:
        if not path.is_file():
            return None
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:
        return None
    return doc if isinstance(doc, dict) else None


def _other_documents(given: list[Path], others: list[Path]) -> Iterator[tuple[Path, dict[str, Any]]]:
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


def _raw_state_use(path: Path, doc: dict[str, Any] | None, in_run: bool) -> StateUse | None:
    """:func:`state_use` from the ``name``, ``region`` and ``backend`` of ``doc`` (the
    mapping in ``path``), validated on their own; None when those do not validate (or
    ``doc`` is None)."""
    if doc is None:
        return None
    try:
        name, region = doc["name"], doc["region"]
        backend: BackendConfig = TypeAdapter(BackendConfig).validate_python(doc["backend"])
    except Exception:
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
                    Problem(
                        str(path),
                        "name",
                        f"{cfg.name!r} is also the name of {other}: its stack "
                        "folder (and local state) would be replaced; stack names must be unique",
                    )
                )
    return problems


def cloud_stacks(configs: list[tuple[Path, EnvironmentConfig]]) -> list[str]:
    """Names of the stacks whose state is in HCP Terraform (a ``cloud`` backend), in the
    order of ``configs``."""
    return [cfg.name for _, cfg in configs if cfg.uses_cloud_backend]
