"""ai-fleet: fault-tolerant AI serving fleets on AWS as CDKTF constructs (docs/library.md).

Import this before ``cdktf``: it starts the jsii runtime with the lazy provider index
and the package cache of the Python environment (stacks/aws.py, stacks/jsii_cache.py);
imported later, synthesis is the same but slower and larger.

    import ai_fleet
    from cdktf import App, TerraformStack

    app = App()
    stack = TerraformStack(app, "serving")
    fleet = ai_fleet.AiFleet(stack, "fleet", "config/dev.yaml")
    fleet.alb_dns_name, fleet.fleets["chat"].target_group_arn  # Terraform references
    app.synth()
"""

from stacks import aws as _aws  # noqa: F401 - first: starts the jsii runtime (see above)
from stacks.config import ConfigError, EnvironmentConfig, Problem, load_config, parse_config
from stacks.library import AiFleet
from stacks.outputs import FleetOutputs

__version__ = "0.1.0"

__all__ = [
    "AiFleet",
    "ConfigError",
    "EnvironmentConfig",
    "FleetOutputs",
    "Problem",
    "__version__",
    "load_config",
    "parse_config",
]
