#!/usr/bin/env python
"""Synthesize one Terraform JSON stack per environment config (see README.md).

Run ``python main.py`` (or ``cdktf synth``, or ``make synth``). ``--help`` lists options.
"""

import sys

from stacks.dependencies import is_missing_dependency, missing_dependency

try:
    from stacks.cli.synth import main
except ModuleNotFoundError as exc:  # run outside the project's .venv
    if not is_missing_dependency(exc):
        raise
    print(f"error: {missing_dependency(exc.name)}", file=sys.stderr)
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(main())
