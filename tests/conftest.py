"""Fixtures shared by all tests: an isolated dlt home per test and simulators that stop themselves."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import pytest

from claude_analytics_simulator import Simulator, SimulatorConfig


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets its own working directory and dlt data dir, and no inherited configuration."""
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "DESTINATION__", "RUNTIME__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fast_retries(monkeypatch):
    """Retries without the production back-off (tests inject faults on purpose)."""
    from sources.claude_analytics import client

    policy = client.RetryPolicy(backoff_base=0.05, backoff_max=0.5)
    monkeypatch.setattr(client, "DEFAULT_RETRY", policy)
    return policy


@pytest.fixture
def start_simulator():
    """start_simulator(**SimulatorConfig fields) → a running Simulator, stopped after the test."""
    started: list[Simulator] = []

    def start(**overrides) -> Simulator:
        overrides.setdefault("rate_limit", 0)
        sim = Simulator(SimulatorConfig(**overrides))
        sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def clock(monkeypatch):
    """clock.today = a date: what the project believes today (UTC) is, in this process."""

    from sources.claude_analytics import days

    class Clock:
        today = days.utc_today()

    monkeypatch.setattr(days, "utc_today", lambda: Clock.today)
    return Clock


@pytest.fixture(autouse=True)
def restore_logging():
    """`claude-analytics` commands configure logging process-wide: put it back after each test."""
    names = ("", "claude_analytics", "dlt", "httpx", "httpcore", "dagster")
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = list(logging.getLogger().handlers)
    filters = {id(h): list(h.filters) for h in handlers}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        handler.filters[:] = filters[id(handler)]
    rebind_dlt_handlers()


def rebind_dlt_handlers() -> None:
    """dlt's own logger does not propagate and binds its handler to the sys.stderr of the moment it is made: made
    during a test that captured stderr (capsys), it would write to a closed stream in every later test."""
    for handler in logging.getLogger("dlt").handlers:
        if type(handler) is logging.StreamHandler and handler.stream is not sys.stderr:
            with handler.lock or contextlib.nullcontext():  # not setStream: it flushes the old, maybe closed, stream
                handler.stream = sys.stderr
