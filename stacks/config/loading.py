"""Reading one environment file: YAML, validation in three passes, referenced files.

:func:`load_config` reads a file and :func:`parse_config` validates a parsed document
(the passes are described in :mod:`stacks.config.base`); both raise
:class:`~stacks.config.errors.ConfigError` with every problem found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..secrets import redact, scan_text, shown
from ..user_data import fleet_variables
from ..user_data import render as render_user_data
from .checks import cross_section_problems
from .environment import EnvironmentConfig
from .errors import ConfigError, Problem
from .messages import pydantic_problems, redacted, secret_values
from .types import is_absolute


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last one.

    The pure-Python parser, not libyaml's CSafeLoader: libyaml would save about 12 ms per
    file, but its error messages are vaguer ("found character that cannot start any
    token" instead of naming the tab) and differ between PyYAML builds."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[tuple[type, Any]] = set()
    # Merge keys (<<: *anchor) bring in defaults that explicit keys may override: only
    # the explicit keys must be unique. SafeLoader's construct_mapping does the merge.
    for key_node, _ in (pair for pair in node.value if pair[0].tag != "tag:yaml.org,2002:merge"):
        key = loader.construct_object(key_node, deep=deep)
        marker = (type(key), key)  # 1 and true are different keys
        try:
            duplicate = marker in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain values, not lists or mappings", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {shown(key)}", key_node.start_mark)
        seen.add(marker)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_config(data: Any, file: str) -> EnvironmentConfig:
    """Validate an already-parsed YAML document.

    ``file`` names the source in error messages. Returns the config; raises
    :class:`ConfigError` listing every problem found: secret values and field problems
    first; the rules across fields only once every field is valid.
    """
    if not isinstance(data, dict):
        raise ConfigError([Problem(file, "", "must be a YAML mapping of keys to values")])
    secret_problems, secrets = secret_values(data, file)
    try:
        cfg = EnvironmentConfig.model_validate(data)
    except ValidationError as exc:
        found = list(dict.fromkeys([*secret_problems, *pydantic_problems(exc, file)]))
        raise ConfigError(redacted(found, secrets)) from None
    rules = [Problem(file, field, message) for field, message in [*cfg.problems(), *cross_section_problems(cfg)]]
    if secret_problems or rules:
        raise ConfigError(redacted([*secret_problems, *rules], secrets))
    return cfg


def load_config(path: str | Path) -> EnvironmentConfig:
    """Read and validate one environment YAML file.

    ``path`` is shown in messages exactly as given. Returns the validated config.
    Raises :class:`ConfigError` (with every problem found) when the file is missing,
    is not valid YAML, does not match the schema, or breaks a cross-field rule, and
    when ``user_data_file`` does not exist; also when ``path`` is not a regular file
    (a folder, a FIFO, a device).
    """
    file = str(path)
    p = Path(path)
    try:
        if p.exists() and not p.is_file():
            # A folder, FIFO or device: reading it would fail, block or never end.
            raise ConfigError([Problem(file, "", "is not a regular file")])
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(file, "", f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(file, "", "is not UTF-8 text")]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(file, "", redact(f"invalid YAML: {where}{problem}"))]) from None
    except RecursionError:
        raise ConfigError([Problem(file, "", "invalid YAML: nested too deeply")]) from None
    except ValueError as exc:  # a scalar the YAML resolver types but cannot convert
        detail = "an integer is too long" if "integer string conversion" in str(exc) else str(exc)
        raise ConfigError([Problem(file, "", redact(f"invalid YAML: {detail}"))]) from None
    cfg = parse_config(data, file)
    problems = file_problems(cfg, file, p.parent)
    if problems:
        raise ConfigError(problems)
    return cfg


def file_problems(cfg: EnvironmentConfig, file: str, base: Path) -> list[Problem]:
    """Problems with the files a valid config refers to (user data scripts), resolved
    against ``base``, the config file's folder; they must lie inside the folder above it
    (the project, as ``config/../user_data/``). Empty when all is well."""
    root = base.resolve().parent
    problems: list[Problem] = []
    for name, fleet in cfg.fleets.items():
        ud = fleet.launch_template.user_data_file
        if ud is not None:
            field = f"fleets.{name}.launch_template.user_data_file"
            variables = fleet_variables(cfg, name, fleet)
            problems.extend(Problem(file, field, m) for m in _user_data_problems(base / ud, ud, variables, root))
    return problems


#: EC2 limit on user data, bytes before base64 encoding.
USER_DATA_MAX_BYTES = 16384


def _user_data_problems(path: Path, shown_as: str, variables: dict[str, str], root: Path) -> list[str]:
    """Problems with one user data script: an absolute path, missing, resolving (after
    symlinks) outside ``root`` (the project: the folder above the config file's folder),
    not a regular file, unreadable, not UTF-8, over the EC2 16 KB limit once the
    ``FLEET_*`` lines (``variables``, see stacks/user_data.py) are added, or containing
    secret-looking text (reported by line, never echoed)."""
    if is_absolute(shown_as):
        return [
            f"{shown(shown_as)} must be a path relative to the config file's folder "
            "(no leading '/', '~' or drive letter)"
        ]
    try:
        exists = path.exists() or path.is_symlink()
        real = path.resolve()
    except (OSError, RuntimeError) as exc:
        return [f"{shown(shown_as)} cannot be read: {getattr(exc, 'strerror', None) or exc}"]
    if not exists:
        return [f"{shown(shown_as)} does not exist (paths are relative to the config file's folder)"]
    if not real.is_relative_to(root):
        return [
            f"{shown(shown_as)} resolves outside the project (the folder above the config file's "
            "folder): user data is copied into the Terraform plan and state, so it must come from "
            "the repository"
        ]
    if not real.is_file():
        return [f"{shown(shown_as)} is not a regular file"]
    try:
        raw = real.read_bytes()
    except OSError as exc:
        return [f"{shown(shown_as)} cannot be read: {exc.strerror}"]
    problems: list[str] = []
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    size = len(raw) if text is None else len(render_user_data(text, variables).encode("utf-8"))
    if size > USER_DATA_MAX_BYTES:  # aws-rule: user-data-size
        added = f" with the {size - len(raw)} bytes of FLEET_* lines added" if size > len(raw) else ""
        problems.append(
            f"{shown(shown_as)} is {size} bytes{added}; EC2 accepts at most {USER_DATA_MAX_BYTES} "
            "bytes of user data (fetch larger scripts from S3 at boot)"
        )
    if text is None:
        return [*problems, f"{shown(shown_as)} is not UTF-8 text"]
    for finding in scan_text(text):
        problems.append(
            f"{shown(shown_as)} line {finding.line} looks like it holds a secret ({finding.kind}); "
            "user data is readable by anyone with ec2:DescribeInstanceAttribute and ends up "
            "in the Terraform plan and state: read secrets at boot from Secrets Manager or "
            "SSM (launch_template.secret_references) instead"
        )
    return problems
