"""``ai-fleet``, the console script of the installed package: ``ai-fleet synth``,
``ai-fleet check`` and ``ai-fleet report`` do what ``python main.py``, ``make check``
and ``make report`` do, in the current folder (``config/*.yaml``, ``cdktf.out``);
``ai-fleet try NAME`` is ``make try STACK=NAME`` (needs the dev packages). Options after
the command go to it (``ai-fleet synth --help``). Exit codes are the command's.
"""

from __future__ import annotations

import sys

COMMANDS = {
    "synth": "synthesize config/*.yaml (or --config FILE) into cdktf.out",
    "check": "validate the configs without synthesizing",
    "report": "resilience report and topology diagrams of cdktf.out",
    "try": "apply one stack to a local AWS emulator, show it, destroy it",
}


def usage() -> str:
    from ai_fleet import __version__

    lines = [f"usage: ai-fleet {{{','.join(COMMANDS)}}} [options]   (ai-fleet {__version__})", ""]
    lines += [f"  {name:<7} {what}" for name, what in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ai-fleet``; returns the exit code (2 for an unknown command)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    if args[0] == "--version":
        from ai_fleet import __version__

        print(f"ai-fleet {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command in ("synth", "check"):
        from .synth import main as synth

        return synth(["--check", *rest] if command == "check" else rest, prog=f"ai-fleet {command}")
    if command == "report":
        from .report import main as report

        return report(rest, prog="ai-fleet report")
    if command == "try":
        from .try_stack import main as try_stack

        return try_stack(rest, prog="ai-fleet try")
    print(f"error: unknown command {command!r}\n{usage()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
