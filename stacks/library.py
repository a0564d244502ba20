"""The library API behind :mod:`ai_fleet`: one environment's topology in a stack the
user owns (docs/library.md)."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformStack
from constructs import Construct

from .aws import aws
from .config import ConfigError, EnvironmentConfig, file_problems, load_config, parse_config
from .environment import EnvironmentRefs, add_environment, add_provider
from .outputs import FleetOutputs


class AiFleet(Construct):
    """An AI serving environment (network, security groups, load balancer, fleets,
    scaling, alarms) added to ``scope``, the user's own ``TerraformStack``.

    ``config`` is an :class:`~stacks.config.EnvironmentConfig` built in code, or the path
    of an environment YAML file (loaded with :func:`~stacks.config.load_config`). Either
    way every rule ``make check`` applies is applied here (a config built in code is
    validated again from the keys it was given), and a problem raises
    :class:`~stacks.config.ConfigError` listing each one by field. ``base_dir`` is the
    folder a code-built config's ``user_data_file`` paths are relative to (default: the
    working directory); a YAML file's are relative to its own folder. Raises TypeError for
    a scope that is not a TerraformStack or a config of another type, ValueError for a
    second AiFleet in the stack or an AWS provider it already has (with ``aws_provider``).

    ``aws_provider``: add an AWS provider for the config's region with its default tags
    (set False when the stack already has one for that region). ``outputs``: also add the
    stack outputs ``make synth`` writes. The config's ``backend`` is not used: the stack's
    owner chooses its backend.

    The Terraform elements are direct children of ``scope`` with the fixed names the
    synthesized stacks have (``load_balancer_alb``, ``fleet-<name>_autoscaling_group``...),
    so a stack holds one AiFleet; a second raises ValueError. Exposes ``alb_arn``,
    ``alb_dns_name``, ``alb_zone_id``, ``alb_security_group_id``, ``alarm_topic_arn``
    (None without alarms) and ``fleets`` (per fleet: ``target_group_arn``,
    ``autoscaling_group_name``, ``spot_autoscaling_group_name``,
    ``instance_security_group_id``), as Terraform references.
    """

    def __init__(
        self,
        scope: TerraformStack,
        construct_id: str,
        config: EnvironmentConfig | str | Path,
        *,
        base_dir: str | Path | None = None,
        aws_provider: bool = True,
        outputs: bool = False,
    ):
        if not isinstance(scope, TerraformStack):
            raise TypeError("AiFleet goes directly into a TerraformStack (its elements are the stack's children)")
        if not isinstance(config, EnvironmentConfig | str | Path):
            raise TypeError(
                f"AiFleet config must be an EnvironmentConfig or the path of a YAML file, not {type(config).__name__} "
                "(for a dict of config keys: ai_fleet.parse_config(data, source))"
            )
        held = [c.node.id for c in scope.node.children if isinstance(c, AiFleet)]
        if held:
            raise ValueError(
                f"stack {scope.node.id!r} already holds an environment (AiFleet {held[0]!r}): one AiFleet per "
                "stack (its Terraform names are fixed); use one TerraformStack per environment"
            )
        if aws_provider:
            providers = [c.node.id for c in scope.node.children if isinstance(c, aws.provider.AwsProvider)]
            if providers:
                raise ValueError(
                    f"stack {scope.node.id!r} already has an AWS provider ({providers[0]!r}): pass "
                    "aws_provider=False (the fleet then uses it; it must be for the config's region)"
                )
        if isinstance(config, EnvironmentConfig):
            source = "<config built in code>"
            base = Path(base_dir) if base_dir is not None else Path.cwd()
            # Validated again from the keys it was given: a model_copy(update=...) skips validation.
            cfg = parse_config(config.model_dump(mode="json", exclude_unset=True, by_alias=True), source)
            problems = file_problems(cfg, source, base)
            if problems:
                raise ConfigError(problems)
        else:
            if base_dir is not None:
                raise ValueError(
                    "base_dir is for a config built in code: a YAML file's user_data_file paths are relative to "
                    "its own folder, as in make synth"
                )
            cfg = load_config(config)
            base = Path(config).parent
        super().__init__(scope, construct_id)
        self.config = cfg
        if aws_provider:
            add_provider(scope, cfg)
        # user data paths resolve against the folder of the path given (see user_data.py)
        self._refs: EnvironmentRefs = add_environment(scope, cfg, base / "config.yaml", outputs=outputs)

    @property
    def alb_arn(self) -> str:
        return self._refs.alb_arn

    @property
    def alb_dns_name(self) -> str:
        return self._refs.alb_dns_name

    @property
    def alb_zone_id(self) -> str:
        return self._refs.alb_zone_id

    @property
    def alb_security_group_id(self) -> str:
        return self._refs.alb_security_group_id

    @property
    def alarm_topic_arn(self) -> str | None:
        return self._refs.alarm_topic_arn

    @property
    def fleets(self) -> dict[str, FleetOutputs]:
        return dict(self._refs.fleets)
