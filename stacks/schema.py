"""Print the JSON Schema of the environment config (``python -m stacks.schema``).

``make schema`` writes it to ``config/schema.json``; editors with YAML language support
use it through the ``# yaml-language-server: $schema=schema.json`` line of each config.
"""

import json
import sys

from .config import json_schema


def render() -> str:
    """Return the schema as deterministic, indented JSON text ending with a newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
