"""The HTTP client against the simulator over real sockets: each failure mode has an exact outcome."""

from __future__ import annotations

import datetime as dt

import pytest

from claude_analytics_simulator import FaultConfig
from sources.claude_analytics.budget import RequestBudget
from sources.claude_analytics.client import (
    AccessDenied,
    AnalyticsClient,
    CursorRejected,
    DayNotAvailable,
    DayTooOld,
    RetriesExhausted,
    RetryPolicy,
)
from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.queries import QUERIES


def client_for(sim, *, key=None, budget=None, **retry) -> AnalyticsClient:
    retry.setdefault("backoff_base", 0.01)
    return AnalyticsClient(
        sim.base_url, key or sim.api_key, budget or RequestBudget(100_000), retry=RetryPolicy(**retry), timeout=5.0
    )


def rows_of(client, name, unit, page_size=1000):
    """Every raw row of one unit of an endpoint, as its query hands them over."""
    endpoint = BY_NAME[name]
    pages = QUERIES[endpoint.kind].fetch(client, endpoint, unit, page_size, lambda rows: rows)
    return [row for page in pages for row in page]


def users_of(client, sim, day, limit=1000):
    return rows_of(client, "users", Unit(day, day), limit)


def test_a_multi_page_day_follows_next_page_to_the_end(start_simulator):
    sim = start_simulator(users=60, seed=2)
    day = sim.latest_available_day()
    expected = sim.expected("/users", day)
    assert len(expected) > 14
    with client_for(sim) as client:
        rows = users_of(client, sim, day, limit=7)
    assert rows == expected
    assert sim.stats()["total"] == -(-len(expected) // 7)  # one request per page, no more


def test_429_with_retry_after_pauses_and_retries(start_simulator):
    sim = start_simulator(users=5, rate_limit=3, rate_window_seconds=1.0)
    day = sim.latest_available_day()
    with client_for(sim) as client:  # no client-side pacing: the server's limit answers
        for _ in range(5):
            assert users_of(client, sim, day) == sim.expected("/users", day)
        assert client.stats.rate_limited >= 1
        assert client.stats.rate_limited == sim.stats()["rate_limited"]
        assert client.stats.requests == 5 + client.stats.rate_limited


def test_budget_prevents_429_against_a_scaled_server_limit(start_simulator):
    sim = start_simulator(users=5, rate_limit=10, rate_window_seconds=1.0)
    day = sim.latest_available_day()
    budget = RequestBudget(10, window_seconds=1.0, guard_seconds=0.1)
    with client_for(sim, budget=budget) as client:
        for _ in range(25):
            users_of(client, sim, day)
    stats = sim.stats()
    assert stats["rate_limited"] == 0 and stats["total"] == 25
    assert stats["max_in_window"] <= 10


def test_a_5xx_storm_is_retried_to_success(start_simulator):
    sim = start_simulator(users=30, faults=FaultConfig(server_error_rate=0.5))
    day = sim.latest_available_day()
    with client_for(sim, max_attempts=12) as client:
        assert users_of(client, sim, day, limit=10) == sim.expected("/users", day)
        by_status = sim.stats()["by_path"]["/users"]
        served_5xx = sum(n for status, n in by_status.items() if status >= 500)
        assert served_5xx > 0 and client.stats.retries == served_5xx


def test_5xx_forever_exhausts_the_retry_budget_with_the_day_in_the_message(start_simulator):
    sim = start_simulator(faults=FaultConfig(server_error_rate=1.0))
    day = sim.latest_available_day()
    with client_for(sim, max_attempts=4) as client, pytest.raises(RetriesExhausted) as err:
        users_of(client, sim, day)
    assert sim.stats()["total"] == 4
    assert f"/users {day}" in str(err.value) and "4 attempts" in str(err.value)


@pytest.mark.parametrize("fault", ["drop_rate", "truncate_rate"])
def test_dropped_connections_and_truncated_bodies_are_retried(start_simulator, fault):
    sim = start_simulator(users=30, faults=FaultConfig(**{fault: 0.4}))
    day = sim.latest_available_day()
    with client_for(sim, max_attempts=12) as client:
        expected = sim.expected("/users", day)
        assert users_of(client, sim, day, limit=10) == expected
        pages = -(-len(expected) // 10)
        assert client.stats.retries == sim.stats()["total"] - pages > 0


@pytest.mark.parametrize(
    "fault,reason", [("drop_rate", "connection failed"), ("truncate_rate", "connection failed|JSON")]
)
def test_broken_answers_forever_exhaust_the_retry_budget(start_simulator, fault, reason):
    sim = start_simulator(faults=FaultConfig(**{fault: 1.0}))
    with client_for(sim, max_attempts=3) as client, pytest.raises(RetriesExhausted, match=reason):
        users_of(client, sim, sim.latest_available_day())
    assert sim.stats()["total"] == 3


def test_an_expired_cursor_restarts_the_day_from_page_one(start_simulator):
    sim = start_simulator(users=40, seed=4, faults=FaultConfig(expired_cursor_rate=0.3))
    day = sim.latest_available_day()
    with client_for(sim, max_cursor_restarts=20) as client:
        assert users_of(client, sim, day, limit=5) == sim.expected("/users", day)
        assert client.stats.cursor_restarts == sim.stats()["by_path"]["/users"].get(410, 0) > 0


def test_cursors_that_always_expire_give_up_after_bounded_restarts(start_simulator):
    sim = start_simulator(users=40, cursor_ttl_seconds=0.0)
    with (
        client_for(sim, max_cursor_restarts=2) as client,
        pytest.raises(CursorRejected, match="on 3 attempts in a row .HTTP 410.; restarted from page 1 2 times"),
    ):
        users_of(client, sim, sim.latest_available_day(), limit=5)
    assert sim.stats()["by_path"]["/users"] == {200: 3, 410: 3}


def test_a_rejected_key_is_fatal_at_once_and_the_message_never_holds_the_key(start_simulator):
    sim = start_simulator()
    secret = "sk-ant-api-THIS-IS-SECRET-123"
    with client_for(sim, key=secret) as client, pytest.raises(AccessDenied) as err:
        users_of(client, sim, sim.latest_available_day())
    assert sim.stats()["total"] == 1
    assert "read:analytics" in str(err.value) and "Primary Owner" in str(err.value)
    assert secret not in str(err.value) and secret not in repr(client)


def test_a_too_recent_day_names_the_latest_available_day(start_simulator):
    sim = start_simulator(availability_lag_days=2)
    latest = sim.latest_available_day()
    with client_for(sim) as client, pytest.raises(DayNotAvailable) as err:
        users_of(client, sim, latest + dt.timedelta(days=1))
    assert err.value.latest == latest
    assert sim.stats()["total"] == 1


def test_a_day_outside_the_history_is_too_old(start_simulator):
    sim = start_simulator(history_days=10)
    with client_for(sim) as client, pytest.raises(DayTooOld):
        users_of(client, sim, sim.earliest_available_day() - dt.timedelta(days=1))
    with client_for(sim) as client, pytest.raises(DayTooOld):
        users_of(client, sim, dt.date(2025, 12, 31))


@pytest.mark.parametrize("envelope", ["data", "summaries", "both"])
def test_summaries_windows_read_every_envelope_and_exclusive_end(start_simulator, envelope):
    sim = start_simulator(summaries_envelope=envelope)
    last = sim.latest_available_day()
    first = last - dt.timedelta(days=30)
    with client_for(sim) as client:
        rows = rows_of(client, "summaries", Unit(first, last))
    assert len(rows) == 31
    assert rows == [sim.expected("/summaries", first + dt.timedelta(days=i))[0] for i in range(31)]
