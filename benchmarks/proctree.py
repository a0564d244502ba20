"""Wall time, CPU time and peak memory of a command's whole process tree (Linux /proc).

Used by ``benchmarks/bench.py``; no third-party dependencies (psutil is not required).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Sample:
    """One measured run.

    ``wall_s``: seconds from spawn to exit of the root process. ``cpu_s``: user + system
    CPU seconds of the root and every descendant it waited for (``os.wait4``).
    ``peak_tree_mib``: highest sum of the resident set sizes (RSS) of all processes of the
    tree seen at one sampling instant. ``hwm_sum_mib``: sum over every process seen of its
    own peak RSS (``VmHWM``), an upper bound of the true simultaneous peak.
    ``processes``: distinct processes seen. ``returncode``, ``stdout``, ``stderr``: of the root.
    """

    wall_s: float
    cpu_s: float
    peak_tree_mib: float
    hwm_sum_mib: float
    processes: int
    returncode: int
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:
            continue
        out.extend(int(c) for c in text.split())
    return out


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of ``pid`` in KiB, or None if it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss = hwm = None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    if rss is None or hwm is None:
        return None
    return rss, hwm


def tree(root: int) -> list[int]:
    """``root`` and all its descendants alive now (needs /proc/PID/task/TID/children)."""
    seen = [root]
    i = 0
    while i < len(seen):
        seen.extend(_children(seen[i]))
        i += 1
    return seen


def measure(
    cmd: list[str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    interval: float = 0.02,
    timeout: float = 1800,
) -> Sample:
    """Run ``cmd`` and sample its process tree every ``interval`` seconds until it exits.

    Raises subprocess.TimeoutExpired (after killing the tree) when it runs longer than
    ``timeout`` seconds.
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=out_w, stderr=err_w, stdin=subprocess.DEVNULL, start_new_session=True
    )
    os.close(out_w)
    os.close(err_w)
    os.set_blocking(out_r, False)
    os.set_blocking(err_r, False)
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}

    def drain() -> None:
        for fd in (out_r, err_r):
            while True:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not data:
                    break
                chunks[fd].append(data)

    peak = 0
    hwm: dict[int, int] = {}
    status = None
    usage = None
    while True:
        total = 0
        for pid in tree(proc.pid):
            st = _status_kib(pid)
            if st is None:
                continue
            total += st[0]
            hwm[pid] = max(hwm.get(pid, 0), st[1])
        peak = max(peak, total)
        drain()
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.perf_counter() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            raise subprocess.TimeoutExpired(cmd, timeout)
        time.sleep(interval)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    drain()
    os.close(out_r)
    os.close(err_r)
    return Sample(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_tree_mib=peak / 1024,
        hwm_sum_mib=sum(hwm.values()) / 1024,
        processes=len(hwm),
        returncode=proc.returncode,
        stdout=b"".join(chunks[out_r]).decode(errors="replace"),
        stderr=b"".join(chunks[err_r]).decode(errors="replace"),
    )
