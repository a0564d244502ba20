"""``python -m stacks.report``: see :mod:`stacks.report.cli`."""

import sys

from .cli import main

sys.exit(main())
