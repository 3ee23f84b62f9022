"""Fixtures shared by all tests: an isolated dlt home per test and simulators that stop themselves."""

from __future__ import annotations

import os

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
