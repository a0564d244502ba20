"""stacks/parts.py: element naming of the flat construct tree (no jsii needed)."""

from __future__ import annotations

import pytest

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
