"""``python -m stacks.cli.schema`` (``make schema``): write the documents generated from the
code: ``config/schema.json`` and ``docs/configuration.md`` from the config model
(:mod:`stacks.config.reference`), ``docs/aws-rules.md`` from the rule catalogue
(:mod:`stacks.aws_rules`); ``--check`` writes nothing and exits 1 when one is stale. Run
from the repository root.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..aws_rules import catalogue_markdown
from ..config.reference import REFERENCE_FILE, SCHEMA_FILE, configuration_markdown, schema_text

RULES_FILE = "docs/aws-rules.md"


def generated() -> dict[str, str]:
    """``{path relative to the repository root: text}`` of every generated document."""
    return {SCHEMA_FILE: schema_text(), REFERENCE_FILE: configuration_markdown(), RULES_FILE: catalogue_markdown()}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 when written or current, 1 when stale (``--check``)."""
    parser = argparse.ArgumentParser(prog="python -m stacks.cli.schema", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated document is stale")
    args = parser.parse_args(argv)
    documents = generated()
    stale = []
    for name, text in documents.items():
        path = Path(name)
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"error: {', '.join(stale)} stale: run `make schema` and commit the result", file=sys.stderr)
        return 1
    changed = f" ({len(stale)} changed)" if stale and not args.check else ""
    print(f"{'checked' if args.check else 'wrote'} {', '.join(documents)}{changed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
