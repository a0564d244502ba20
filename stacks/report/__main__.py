"""``python -m stacks.report`` (``make report``): the command line in :mod:`stacks.cli.report`."""

import sys

from ..cli.report import main

sys.exit(main())
