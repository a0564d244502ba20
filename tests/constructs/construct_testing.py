"""Build one construct alone in a bare ``TerraformStack`` and read the Terraform it
produces, with cdktf's testing helpers (``cdktf.Testing``).

Each construct takes its own config section and the IDs it needs, so a test passes
literal IDs where the stack would pass another construct's tokens. Importing this module
loads the AWS provider bindings the way synthesis does (``stacks.aws`` first, so the
jsii runtime starts with the lazy provider index): about a second per test process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# isort: off
from stacks import aws as _aws  # before cdktf: see the module docstring
from cdktf import TerraformOutput, TerraformStack, Testing

# isort: on
from stacks.config import FleetConfig

_aws.speed_up_type_checks()
aws = _aws.aws

AMI = "ami-0123456789abcdef0"
VPC = "vpc-0123456789abcdef0"


class Built:
    """The synthesized JSON of a test stack (``text``) and its parsed form (``doc``)."""

    def __init__(self, text: str):
        self.text = text
        self.doc: dict[str, Any] = json.loads(text)

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        """Resources of one type by Terraform name ({} when none)."""
        return self.doc.get("resource", {}).get(rtype, {})

    def data(self, rtype: str) -> dict[str, dict[str, Any]]:
        """Data sources of one type by Terraform name ({} when none)."""
        return self.doc.get("data", {}).get(rtype, {})

    def only(self, rtype: str) -> dict[str, Any]:
        """The one resource of ``rtype``; fails when there are none or several."""
        found = self.resources(rtype)
        assert len(found) == 1, f"expected one {rtype}, got {sorted(found)}"
        return next(iter(found.values()))

    def has(self, rtype: str, properties: dict[str, Any]) -> bool:
        """cdktf's matcher: some resource of ``rtype`` has (at least) ``properties``."""
        return bool(Testing.to_have_resource_with_properties(self.text, rtype, properties))

    def outputs(self) -> dict[str, Any]:
        """Output values by name (see :func:`expose`)."""
        return {name: out["value"] for name, out in self.doc.get("output", {}).items()}

    def types(self) -> set[str]:
        """Every resource and data source type in the stack."""
        return set(self.doc.get("resource", {})) | {f"data.{t}" for t in self.doc.get("data", {})}


def build(make: Callable[[TerraformStack], object]) -> tuple[Built, Any]:
    """Run ``make(stack)`` on a new bare stack; return what it synthesizes and what
    ``make`` returned (the construct, for its attributes)."""
    stack = TerraformStack(Testing.app(), "test")
    made = make(stack)
    return Built(Testing.synth(stack)), made


def expose(stack: TerraformStack, **values: Any) -> None:
    """One Terraform output per value, so a test can see what a construct's attributes
    (tokens) resolve to: ``Built.outputs()``."""
    for name, value in values.items():
        TerraformOutput(stack, name, value=value)


def ref(rtype: str, name: str, attr: str) -> str:
    """The Terraform reference cdktf writes for a token of ``rtype.name.attr``."""
    return f"${{{rtype}.{name}.{attr}}}"


def fleet(**sections: Any) -> FleetConfig:
    """A validated fleet config: an AMI plus ``sections`` (keys of a fleet)."""
    data = {"launch_template": {"image_id": AMI}, **sections}
    if "launch_template" in sections:
        data["launch_template"] = {"image_id": AMI, **sections["launch_template"]}
    config = FleetConfig.model_validate(data)
    assert config.problems() == [], config.problems()
    return config
