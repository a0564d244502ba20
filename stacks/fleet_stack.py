"""The stack class: wires the per-concern constructs from one environment config."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformStack
from constructs import Construct

from .backend import add_backend
from .config import EnvironmentConfig
from .environment import add_environment, add_provider


class FleetStack(TerraformStack):
    """One Terraform stack for one environment.

    ``cfg`` is the validated config and ``config_path`` the YAML file it came from (user
    data paths are relative to it): the provider, the backend, then the topology
    (:func:`stacks.environment.add_environment`, the only reader of the whole config:
    each construct gets its own section and the IDs it needs). Every Terraform element is a
    direct child of the stack (see :mod:`stacks.parts`), so its Terraform name is its
    construct ID: the group and element names joined with an underscore
    (``fleet-chat_autoscaling_group``), with no hash suffix; readable, and stable as long
    as those names are.
    """

    def __init__(self, scope: Construct, cfg: EnvironmentConfig, config_path: str | Path):
        super().__init__(scope, cfg.name)
        self.cfg = cfg
        add_provider(self, cfg)
        add_backend(self, cfg.backend, name=cfg.name, region=cfg.region)
        self.refs = add_environment(self, cfg, config_path)

    def prepare_stack(self) -> None:  # jsii override of TerraformStack.prepareStack
        """cdktf's preparation step, without its resolve pass.

        ``App.synth()`` calls this once per stack before writing it. cdktf's version
        makes sure the stack has a backend and then resolves every element once, only so
        that references to another stack's resources can register the outputs and
        remote state they need; the stack is resolved again when it is written. Each
        environment's stack only refers to its own elements (the groups in
        :mod:`stacks.parts` create everything in the one stack they are given), so that
        pass, about a seventh of the synthesis time per environment, is skipped. A
        reference to another stack would still be caught: it would name an element this
        stack does not have, which ``terraform validate`` rejects.
        """
        self.ensure_backend_exists()
