"""Fixtures of the end-to-end tests: moto servers on loopback, started from the
project's environment for the test session and stopped at its end, and the report of
each step's wall time at the end of the run (shown with or without ``-s``)."""

from __future__ import annotations

import pytest
from emulator import STEP_TIMES, MotoServer


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: plans/applies the example stacks against a local AWS emulator (minutes)")


@pytest.fixture(scope="session")
def emulators(tmp_path_factory):
    """Factory: ``emulators(key)`` starts a moto server for ``key`` (one per example, so
    each stack has its own account state and nothing else in it) and returns it; every
    server is stopped when the session ends."""
    servers: dict[str, MotoServer] = {}
    logs = tmp_path_factory.mktemp("moto")

    def start(key: str) -> MotoServer:
        if key not in servers:
            servers[key] = MotoServer(logs / f"{key}.log").start()
        return servers[key]

    yield start
    for server in servers.values():
        server.stop()


def pytest_terminal_summary(terminalreporter):
    if not STEP_TIMES:
        return
    tr = terminalreporter
    tr.section("end-to-end step wall times (local AWS emulator)")
    width = max(len(step) for _, step, _, _ in STEP_TIMES)
    cw = max(len(config) for config, _, _, _ in STEP_TIMES)
    totals: dict[str, float] = {}
    configs = list(dict.fromkeys(config for config, _, _, _ in STEP_TIMES))
    rows = sorted(STEP_TIMES, key=lambda row: configs.index(row[0]))  # stable: in order per config
    for config, step, seconds, ok in rows:
        if step.startswith(" "):
            line = f"{config:<{cw}} {step:<{width}}   {seconds:7.1f} s"
        else:
            totals[config] = totals.get(config, 0.0) + seconds
            line = f"{config:<{cw}} {step:<{width}} {seconds:7.1f} s"
        tr.write_line(line + ("" if ok else "  FAILED"))
    for config, seconds in totals.items():
        if "+" not in config:
            tr.write_line(f"{config:<{cw}} {'sum of steps':<{width}} {seconds:7.1f} s")
