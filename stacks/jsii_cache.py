"""Keep the jsii runtime's package cache with the installed packages, indexed before the
first synth.

Why: the jsii runtime (embedded in the ``jsii`` Python package, 1.142) extracts each
package it loads into an on-disk package cache and, the first time a cache entry is
loaded, parses the package's whole ``.jsii`` assembly (120 MB of JSON for the AWS
provider: about 1.2 GB in the Node process) while a worker thread writes a compact
*runtime index* next to it; later loads read only the types they use from that index
(aws/jsii #5164). A synth takes 3-8 s and its process exits before the worker has
written the index, so every synth in a fresh cache paid the 1.2 GB, not only the first
(three consecutive runs in a fresh HOME: 1,208, 1,222 and 1,222 MiB whole-tree peak).
The cache lives in ``$HOME/.cache/aws/jsii/package-cache`` by default and entries unused
for 30 days are deleted (aws/jsii #3724: ``JSII_RUNTIME_PACKAGE_CACHE_ROOT``,
``JSII_RUNTIME_PACKAGE_CACHE_TTL``), so a fresh pod or a container image older than
30 days starts cold again.

What: :func:`configure` points the cache at :data:`CACHE_ROOT`, inside the Python
environment the packages are installed in (it is derived from them), with a TTL of ten
years; :func:`prime` (``python -m stacks.jsii_cache``, run by ``make install``) loads
the assemblies and waits until every cache entry has its runtime index. A user's own
``JSII_RUNTIME_PACKAGE_CACHE_ROOT`` or ``JSII_RUNTIME_PACKAGE_CACHE=disabled`` is kept,
and an environment that is not writable keeps the jsii default.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

#: The package cache inside the Python environment (``.venv/jsii-package-cache``).
CACHE_ROOT = Path(sys.prefix) / "jsii-package-cache"

#: Days an unused cache entry is kept: entries are keyed by the package tarball's digest,
#: so an old entry is only ever a release no longer installed.
TTL_DAYS = "3650"

#: The file a cache entry holds once it is complete (jsii's DiskCache marker).
ENTRY_MARKER = ".jsii-runtime-package-cache"

#: The manifest of a runtime index (``.jsii.runtime.v<N>.json``; N is jsii's index version).
INDEX_MANIFEST = ".jsii.runtime.v*.json"


def configure() -> Path | None:
    """Point the jsii package cache at :data:`CACHE_ROOT` for runtimes started after this.

    Returns the cache root in use, or None when the package cache is disabled. Leaves
    a root the user set alone, keeps the jsii default (returned) when
    :data:`CACHE_ROOT` cannot be created or written, and disables the cache when neither
    can (a read-only file system: synth then extracts the packages each run).
    """
    if os.environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled":
        return None
    if os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT"):
        return Path(os.environ["JSII_RUNTIME_PACKAGE_CACHE_ROOT"])
    if _writable(CACHE_ROOT):
        os.environ["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = str(CACHE_ROOT)
        os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_TTL", TTL_DAYS)
        return CACHE_ROOT
    default = Path.home() / ".cache" / "aws" / "jsii" / "package-cache"
    if _writable(default):
        return default
    # jsii stops with "Cannot use the jsii package cache" when it cannot create one.
    os.environ["JSII_RUNTIME_PACKAGE_CACHE"] = "disabled"
    return None


def _writable(folder: Path) -> bool:
    """Whether ``folder`` exists or can be made, and can be written (jsii writes its
    entries, locks and access times there)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def await_index(timeout: float = 120.0) -> None:
    """After a synth in this process: if a cache entry it loaded has no runtime index
    yet (a new or deleted cache that ``make install`` did not prime), wait for the jsii
    runtime's worker to write it (at most ``timeout`` seconds), so that only this run
    pays for the whole assembly. Does nothing when every entry is indexed."""
    root = os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT")
    if not root or os.environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled":
        return
    if not unindexed(Path(root)):
        return
    print(
        "note: indexing the jsii package cache once (later synths read the index: about 300 MB instead of 1.2 GB)",
        file=sys.stderr,
    )
    _wait_indexed(Path(root), timeout)


def _wait_indexed(root: Path, timeout: float) -> list[Path]:
    """Wait (at most ``timeout`` seconds) until every entry under ``root`` has its
    runtime index; return the entries still without one. The index worker runs in this
    process's jsii runtime, so the process must stay alive meanwhile."""
    deadline = time.monotonic() + timeout
    while (missing := unindexed(root)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return missing


def unindexed(root: Path) -> list[Path]:
    """The complete cache entries under ``root`` that hold an assembly (``.jsii``) but no
    runtime index yet, sorted."""
    return sorted(
        marker.parent
        for marker in root.rglob(ENTRY_MARKER)
        if (marker.parent / ".jsii").is_file() and not any(marker.parent.glob(INDEX_MANIFEST))
    )


def prime(timeout: float = 300.0) -> int:
    """Load the provider, cdktf and constructs assemblies through the cache and wait (at
    most ``timeout`` seconds) until every entry has its runtime index.

    Returns 0 when every entry is indexed (or the cache is disabled), 1 when some entry
    still has no index at the timeout (synth then works but loads that assembly whole).
    """
    root = configure()
    if root is None:
        print("jsii package cache disabled (JSII_RUNTIME_PACKAGE_CACHE): nothing to prime")
        return 0
    from . import aws  # noqa: F401 - importing it loads the assemblies through the cache

    missing = _wait_indexed(root, timeout)
    if missing:
        names = ", ".join(str(p.relative_to(root).parent) for p in missing)
        print(f"warning: no jsii runtime index after {timeout:.0f} s for {names} in {root}", file=sys.stderr)
        return 1
    print(f"jsii package cache ready in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(prime())
