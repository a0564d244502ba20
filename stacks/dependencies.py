"""What to say when the interpreter running ``main.py`` lacks the project's packages.

The packages live in the project's ``.venv`` (``make install``); ``python main.py`` run
with another interpreter fails on the first import of one of them. Standard library only,
so ``main.py`` can import it before anything else.
"""

from __future__ import annotations

import sys

#: Top-level names of the Pipfile packages synthesis imports (and of the packages they
#: pull in first).
DEPENDENCIES = frozenset(
    {
        "annotated_types",
        "cdktf",
        "cdktf_cdktf_provider_aws",
        "constructs",
        "jsii",
        "pydantic",
        "pydantic_core",
        "typeguard",
        "yaml",
    }
)


def is_missing_dependency(exc: ModuleNotFoundError) -> bool:
    """True when ``exc`` is about one of :data:`DEPENDENCIES` (not a bug in our code)."""
    return (exc.name or "").split(".")[0] in DEPENDENCIES


def missing_dependency(module: str | None) -> str:
    """The error message for a dependency this interpreter cannot import."""
    return (
        f"Python package {module!r} is not installed for {sys.executable}: run `make synth` "
        "(installs everything into .venv first), or `make install` and then `.venv/bin/python main.py`"
    )


class ProviderMismatch(ImportError):
    """The installed AWS provider bindings (``cdktf-cdktf-provider-aws``) lack modules
    the stacks use, or their package cannot be imported: another release than the one
    in ``Pipfile.lock``, or a damaged install. The message gives the installed version
    and the missing modules (or the import error), and says how to reinstall."""
