"""Keep secrets out of configs, user data and everything we print.

The config takes no secret values, only references to them (Secrets Manager ARNs, SSM
parameter names; see ``launch_template.secret_references``). Whatever we synthesize ends
up in Terraform plans, state files, CI logs and the EC2 console (user data is readable
by anyone with ``ec2:DescribeInstanceAttribute``), so a secret that slips into a config
or a user data script leaks widely. This module finds secret-looking text so the config
loader can reject it, and hides it in error messages.

Detection is deliberately pure Python with no dependency, so it behaves the same in
every install: a fixed list of well-known credential formats (modelled on the
detect-secrets plugins bundled with checkov: AWS keys, private keys, GitHub, GitLab,
Slack, Stripe, Google, OpenAI, Anthropic and Hugging Face tokens, JWTs, passwords in
URLs) plus "keyword = literal" assignments in scripts (``HF_TOKEN=hf_...``,
``password: hunter2``) whose value is not a reference (``$VAR``, ``$(aws ssm ...)``).
The test suite cross-checks the synthesized output with detect-secrets itself.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass

#: Well-known credential formats: (kind, pattern). Patterns are anchored on prefixes the
#: issuers document, so ordinary IDs (AMI, subnet, ARNs) never match.
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("AWS access key ID", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"),
        ("private key", r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY( BLOCK)?-----"),
        ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
        ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
        ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
        ("Stripe key", r"\b[rs]k_live_[A-Za-z0-9]{20,}\b"),
        ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
        ("Anthropic API key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
        ("OpenAI API key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}\b"),
        ("JSON web token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
        # The scheme starts where no scheme character precedes it (not at every word
        # boundary inside "a.b.c...": that made long values take quadratic time).
        ("password in a URL", r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}://[^/\s:@'\"]+:[^/\s:@'\"$]{3,}@"),
    )
)

#: Words that name a secret when they appear in a key or variable name.
SECRET_WORDS = re.compile(
    r"(?i)(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|access[_-]?key"
    r"|credential|auth[_-]?key|client[_-]?secret|bearer)"
)

# "NAME = value" / "NAME: value" / "--name value" in scripts, where NAME holds a secret word.
_ASSIGNMENTS = (
    re.compile(
        # A key starts where no key character precedes it: linear time on long words.
        r"""(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)['"]?\s*[:=]\s*(?P<quote>['"]?)(?P<value>[^\s'"#;|&)]+)(?P=quote)"""
    ),
    re.compile(r"""--(?P<key>[A-Za-z][A-Za-z0-9-]*)[\s=]+(?P<quote>['"]?)(?P<value>[^\s'"#;|&)]+)(?P=quote)"""),
)

# Values that are references, not secrets: shell expansions, SSM names, ARNs, templates.
_REFERENCE = re.compile(
    r"^(\$|`|\{\{|arn:|/|ssm:|secretsmanager:|resolve:|<|%|\\\$)|^(true|false|none|null|yes|no)$",
    re.IGNORECASE,
)


# Setting values, not secrets, after a key with a secret word in its name.
_SETTING_WORDS = frozenset({"required", "optional", "disabled", "enabled", "redacted", "default", "<redacted>"})


@dataclass(frozen=True)
class Finding:
    """One secret-looking string: what kind it looks like and the 1-based line (0 when
    the text is a single config value)."""

    kind: str
    line: int
    secret: str


def is_reference(value: str) -> bool:
    """True when ``value`` points at a secret instead of containing one: an ARN, an SSM
    parameter name (``/a/b``), a shell or template expansion, or a boolean word."""
    return bool(_REFERENCE.match(value.strip()))


def find_tokens(text: str) -> list[Finding]:
    """Well-known credential formats in ``text`` (any length, any number of lines)."""
    found = []
    for lineno, line in enumerate(text.splitlines() or [text], start=1):
        for kind, pattern in TOKEN_PATTERNS:
            m = pattern.search(line)
            if m:
                found.append(Finding(kind, lineno, m.group(0)))
                break
    return found


def find_assignments(text: str) -> list[Finding]:
    """``KEY=literal`` style lines in a script where KEY names a secret and the value is a
    literal of 8+ characters rather than a reference (``$VAR``, ``$(aws ssm ...)``)."""
    found = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        match = next((m for pattern in _ASSIGNMENTS for m in pattern.finditer(line) if _is_literal_secret(m)), None)
        if match:
            found.append(Finding(f"literal value for {match.group('key')}", lineno, match.group("value")))
    return found


def _is_literal_secret(m: re.Match[str]) -> bool:
    key, value = m.group("key"), m.group("value")
    if not SECRET_WORDS.search(key) or len(value) < 8 or is_reference(value):
        return False
    if value.lower() in _SETTING_WORDS:  # http_tokens: required (IMDSv2), token_auth=disabled
        return False
    # Names of things that hold secrets are fine: --secret-id x, token_file=/p, *_TTL=n.
    return not re.search(r"(?i)[_-](id|name|arn|file|path|url|ref|ttl|seconds|length|type)$", key)


def scan_text(text: str) -> list[Finding]:
    """All findings in a script or other free text, one per line at most, by line."""
    by_line: dict[int, Finding] = {}
    for f in [*find_tokens(text), *find_assignments(text)]:
        by_line.setdefault(f.line, f)
    return [by_line[k] for k in sorted(by_line)]


def looks_secret(value: str) -> bool:
    """True when a single config value matches a well-known credential format."""
    return bool(find_tokens(value))


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with every well-known credential and every string in ``secrets``
    (and its ``repr``) replaced by ``<redacted>``."""
    for s in sorted(set(secrets), key=len, reverse=True):
        if s:
            text = text.replace(repr(s)[1:-1], "<redacted>").replace(s, "<redacted>")
    for _, pattern in TOKEN_PATTERNS:
        text = pattern.sub("<redacted>", text)
    return text


def shown(value: object, limit: int = 80) -> str:
    """Bounded ``repr(value)`` for an error message: secret-looking strings are never
    shown, long strings are cut to about ``limit`` characters, and lists or mappings to
    a few items and levels (YAML aliases can make them astronomically large)."""
    if isinstance(value, str) and looks_secret(value):
        return "<redacted value that looks like a secret>"
    short = reprlib.Repr()
    short.maxstring = short.maxother = limit
    short.maxlevel, short.maxlist, short.maxdict = 2, 4, 4
    return short.repr(value)
