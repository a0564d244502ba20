"""stacks/parts.py: element naming of the flat construct tree, and what every construct
(a ``Part``) shares: a test file of its own, narrow inputs."""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path

import pytest

import stacks
from stacks.config import EnvironmentConfig
from stacks.parts import MAX_NAME, Part, terraform_safe


def test_element_ids_are_group_and_name_made_terraform_safe():
    stack = object()  # only stored: a Part never calls into its stack itself
    network = Part(stack, "network")
    assert network.stack is stack
    assert network.element_id("vpc") == "network_vpc"
    assert network.element_id("alb-ingress-443-10.0.0.0/16") == "network_alb-ingress-443-10_0_0_0_16"
    nested = Part(network, "flow logs")
    assert nested.stack is stack and nested.element_id("role") == "network_flow_logs_role"
    assert terraform_safe("team.read+x@y") == "team_read_x_y"


def test_element_id_beyond_cdktfs_limit_is_refused():
    """cdktf would cut a longer construct ID and add a hash suffix, silently renaming."""
    group = Part(object(), "g")
    assert len(group.element_id("x" * (MAX_NAME - 2))) == MAX_NAME
    with pytest.raises(ValueError, match="longer than 255"):
        group.element_id("x" * (MAX_NAME - 1))


def _constructs() -> dict[str, type[Part]]:
    """Every ``Part`` subclass in ``stacks/``, by the module that defines it."""
    import construct_testing  # noqa: F401 - loads the provider the way synthesis does

    found: dict[str, type[Part]] = {}
    for path in sorted(Path(stacks.__file__).parent.glob("*.py")):
        module = importlib.import_module(f"stacks.{path.stem}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Part)
                and value is not Part
                and value.__module__ == module.__name__
            ):
                found[value.__name__] = value
    return found


def test_each_construct_has_its_own_test_file():
    found = _constructs()
    assert len(found) >= 12, sorted(found)
    here = Path(__file__).parent
    for name, cls in found.items():
        module = cls.__module__.rsplit(".", 1)[-1]
        assert (here / f"test_{module}.py").is_file(), (
            f"{name} ({cls.__module__}) has no tests/constructs/test_{module}.py"
        )


def test_constructs_take_their_own_sections_not_the_whole_environment():
    """Narrow inputs: a construct gets its config section and the IDs it needs; only the
    stack class reads the whole EnvironmentConfig."""
    for name, cls in _constructs().items():
        hints = typing.get_type_hints(cls.__init__)
        assert EnvironmentConfig not in hints.values(), f"{name} takes the whole EnvironmentConfig"
        assert all(p.kind is not p.VAR_KEYWORD for p in inspect.signature(cls).parameters.values()), name
