#!/usr/bin/env python
"""Synthesize one Terraform JSON stack per environment config (see README.md).

Run ``python main.py`` (or ``cdktf synth``, or ``make synth``). ``--help`` lists options.
"""

import sys

from stacks.synth import main

if __name__ == "__main__":
    sys.exit(main())
