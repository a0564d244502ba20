"""moto's server with the emulator workarounds that must live inside the server:
``python -m stacks.moto_server -H 127.0.0.1 -p PORT`` (what
:class:`stacks.emulator.MotoServer` starts). Needs the dev packages (moto[server]).

Workaround, by name:

- **DeleteTargetGroup not idempotent**: moto raises ``TargetGroupNotFound`` when the
  target group is already gone. AWS documents no such error for this call: the ELB API
  Reference (DeleteTargetGroup; botocore's ``elbv2`` model lists ``ResourceInUse``
  only) and, for DeleteLoadBalancer, says a call for a deleted load balancer succeeds,
  which moto already follows. The AWS SDK retries a request whose response it did not
  get (a connection error counts as retryable), and the provider deletes once
  (``tfresource.RetryWhen...`` on ``ResourceInUse`` only), so a retried delete that
  moto had already carried out failed the apply with ``TargetGroupNotFound`` on the
  emulator only (issue #16, item 6; tests/e2e/test_lost_response.py reproduces it by
  dropping one response). Patched: deleting an unknown target group succeeds, as on
  AWS. Deleting one in use still raises ``ResourceInUse``.
"""

from __future__ import annotations

import sys


def patch() -> None:
    """Apply the workarounds above to moto's models (in this process)."""
    from moto.elbv2.models import ELBv2Backend

    original = ELBv2Backend.delete_target_group

    def delete_target_group(self: ELBv2Backend, target_group_arn: str) -> object:
        if target_group_arn not in self.target_groups:
            return None  # already deleted: success, as on AWS
        return original(self, target_group_arn)

    ELBv2Backend.delete_target_group = delete_target_group  # type: ignore[method-assign,assignment]


def main(argv: list[str] | None = None) -> None:
    """Patch, then run ``moto.server``'s command line with ``argv``."""
    from moto import server

    patch()
    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
