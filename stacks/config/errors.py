"""What a config problem is, and the error that carries them to the command line."""

from __future__ import annotations

from dataclasses import dataclass

_LINE_BREAKS = {ord(c): c.encode("unicode_escape").decode() for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one config file.

    ``file`` is the path as the user gave it, ``field`` a dotted path into the document
    (``fleets.chat.autoscaling_group.min_size``; empty for the whole document) and
    ``message`` says what is allowed.
    """

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        # One problem, one line: keys and values from the YAML may hold line breaks.
        text = f"{where}: {self.message}"
        # Every character str.splitlines() breaks on (\n, \r, \x0b, \x0c, \x1c-\x1e,
        # \x85, \u2028, \u2029) is shown escaped.
        return text.translate(_LINE_BREAKS)


class ConfigError(Exception):
    """Raised when config files are unusable (:func:`stacks.config.load_config`,
    :func:`stacks.config.load_all`).

    ``problems`` holds one :class:`Problem` per defect found; ``str()`` joins them one
    per line.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
