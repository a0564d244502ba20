"""Flat naming: every Terraform element is a direct child of its stack.

The stack is built from per-concern groups (network, security groups, load balancer, one
fleet, ...). They are plain Python objects, not constructs: each creates its Terraform
elements directly in the stack, with the construct ID ``<group>_<name>``
(``network_vpc``, ``fleet-chat_autoscaling_group``). cdktf names a direct child of a
stack after its construct ID, so that ID is the element's Terraform name (its address is
``aws_vpc.network_vpc``).

Why not nested constructs: cdktf would then name an element after its construct path
with a hash suffix, and keeping readable names meant overriding the stack's
``allocateLogicalId`` in Python. jsii calls that override back into Python (with a
further round trip to read the path) for every element whenever cdktf needs its name,
about 45 to 65 callbacks per stack; flat IDs cost nothing, and the names are the same
as the override gave (characters other than letters, digits, ``_`` and ``-`` become
``_``). Only the ``path`` in each element's ``//`` metadata differs (``dev/network_vpc``
instead of ``dev/network/vpc``), which Terraform ignores.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config.py imports this module and must not start the jsii runtime
    from cdktf import TerraformStack

_DISALLOWED = re.compile(r"[^A-Za-z0-9_-]")

#: cdktf keeps a stack child's construct ID as its Terraform name up to this length;
#: a longer one is cut and gets a hash suffix.
MAX_NAME = 255


def terraform_safe(name: str) -> str:
    """``name`` with every character other than ASCII letters, digits, ``_`` and ``-``
    replaced by ``_``: how a group or element name appears in a Terraform name."""
    return _DISALLOWED.sub("_", name)


class Part:
    """Base of the per-concern groups of Terraform elements in one stack.

    ``scope`` is the stack (``cdktf.TerraformStack``) or an enclosing ``Part``; ``id_``
    names the group. Elements are created as ``Resource(self.stack,
    self.element_id("vpc"), ...)``. Attributes: ``stack`` and ``prefix`` (the group's
    name, with the enclosing groups' names before it).
    """

    def __init__(self, scope: TerraformStack | Part, id_: str):
        self.stack: TerraformStack
        self.prefix: str
        if isinstance(scope, Part):
            self.stack, self.prefix = scope.stack, f"{scope.prefix}_{id_}"
        else:
            self.stack, self.prefix = scope, id_

    def element_id(self, name: str) -> str:
        """Construct ID, and so Terraform name, of this group's element ``name``:
        ``<prefix>_<name>`` made :func:`terraform_safe`. Raises ValueError beyond
        :data:`MAX_NAME` characters, where cdktf would add a hash suffix (config
        validation bounds every name part that comes from a config)."""
        element = terraform_safe(f"{self.prefix}_{name}")
        if len(element) > MAX_NAME:
            raise ValueError(f"Terraform name longer than {MAX_NAME} characters: {element[:60]}...")
        return element
