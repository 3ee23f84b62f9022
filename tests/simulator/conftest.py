"""Fixtures for the simulator's own tests: real simulators on loopback ports, plain httpx clients."""

from __future__ import annotations

import datetime
import importlib.util
import sys
from pathlib import Path

import httpx
import pytest

# The simulator package lives at the repository root; make it importable when the project is not installed.
if importlib.util.find_spec("claude_analytics_simulator") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from claude_analytics_simulator import Simulator

# A fixed "today": latest available day 2026-03-14 (lag 1), earliest 2026-01-01 (the floor; 90 days back is 2025).
TODAY = datetime.date(2026, 3, 15)
LATEST = datetime.date(2026, 3, 14)


@pytest.fixture
def make_sim():
    """Start simulators with test defaults (fixed today, no rate limit); all are stopped afterwards."""
    started: list[Simulator] = []

    def make(**overrides) -> Simulator:
        overrides.setdefault("today", TODAY)
        overrides.setdefault("rate_limit", 0)
        sim = Simulator(**overrides)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim) -> Simulator:
    return make_sim()


@pytest.fixture
def connect():
    """connect(sim, key=...) -> an httpx client on the simulator's base URL; key None sends no key."""
    clients: list[httpx.Client] = []

    def make(sim: Simulator, key: str | None = "default") -> httpx.Client:
        headers = {"anthropic-version": "2023-06-01"}
        if key is not None:
            headers["x-api-key"] = sim.api_key if key == "default" else key
        c = httpx.Client(base_url=sim.base_url, headers=headers, timeout=10)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(sim, connect) -> httpx.Client:
    return connect(sim)
