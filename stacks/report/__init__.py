"""Resilience report and topology diagram of every synthesized stack (``make report``).

Reads what Terraform will build (``cdktf.out/stacks/<name>/cdk.tf.json``), not the
config, and computes per fleet (one per ``aws_autoscaling_group``):

- ``unhealthy_detection_seconds``: health check interval x unhealthy threshold + timeout;
- ``drain_seconds``: the target group's deregistration delay;
- ``time_to_serve_new_instance_seconds``: launch to full traffic, cold and from a warm
  pool (model load budget + healthy threshold x interval + slow start);
- ``capacity_after_az_loss``: in service right after the busiest AZ fails;
- ``spot_share_percent`` and ``spot_pools`` (instance types x AZs; for attribute-based
  selection an estimate from the attributes, ``spot_pools_estimated``);
- ``single_points_of_failure`` and ``warnings``;

checks them against the config's optional ``resilience_objectives`` and draws a Mermaid
diagram per stack. Pure Python: never imports cdktf or the AWS provider.

Modules: ``terraform`` (reading the JSON), ``routing`` (target groups, listeners and
rules), ``figures`` (the numbers and findings),
``objectives``, ``topology`` (Mermaid) and ``render`` (tables); the command line is
``stacks.cli.report``.
"""

from .figures import analyze_stack
from .objectives import check_objectives
from .topology import mermaid

__all__ = ["analyze_stack", "check_objectives", "main", "mermaid"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line (see :mod:`stacks.cli.report`); returns the exit code."""
    from ..cli.report import main as _main

    return _main(argv)
