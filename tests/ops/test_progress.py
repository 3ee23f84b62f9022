"""Progress: a redrawn bar on a terminal, throttled log lines without one, an ETA from the request plan."""

from __future__ import annotations

import datetime as dt
import io
import logging
from types import SimpleNamespace

from pipelines.progress import Progress, duration
from sources.claude_analytics.days import Unit
from tests.helpers import load


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


DAY = Unit(dt.date(2026, 3, 1), dt.date(2026, 3, 1))


def batch(rows: int) -> SimpleNamespace:
    return SimpleNamespace(unit=DAY, rows=rows)


def summary(**kw):
    values = dict(planned_units=120, planned_days=120, requests=0, retries=0, rate_limited=0, rows_loaded={})
    values.update(kw)
    return SimpleNamespace(**values)


def test_duration():
    assert [duration(s) for s in (None, 5, 65, 3725)] == ["?", "5s", "1m05s", "1h02m"]


def test_eta_from_the_request_plan_then_from_the_observed_pace():
    clock = Clock()
    progress = Progress(60, stream=io.StringIO(), mode="log", clock=clock)
    progress.summary = summary()
    assert progress.eta_seconds() == 120.0  # 120 requests at 60 per minute
    clock.now += 10
    progress.fetched(summary(requests=20), batch(5))
    assert progress.units_done == 1
    # 20 requests for one unit so far (pages): the plan now needs 119 × 20 requests at 60/min
    assert progress.eta_seconds() == 119 * 20.0
    progress.units_done = 60
    progress.summary = summary(requests=60)
    clock.now += 590  # 600 s for 60 units: slower than the budget allows, so the pace decides
    assert progress.eta_seconds() == 60 * 10.0


def test_without_a_terminal_progress_is_a_log_line_at_most_every_interval(caplog, monkeypatch):
    monkeypatch.setenv("TERM", "xterm")  # no TTY decides, not TERM
    caplog.set_level(logging.INFO, logger="claude_analytics.progress")
    clock = Clock()
    stream = io.StringIO()
    progress = Progress(60, stream=stream, clock=clock, interval=30)
    assert progress.mode == "log"
    for i in range(1, 120):
        clock.now += 1
        progress.fetched(summary(requests=i), batch(10))
    progress.fetched(summary(requests=120, rows_loaded={"user_activity": 1200}), batch(10))  # the last one
    lines = [r.getMessage() for r in caplog.records if r.name == "claude_analytics.progress"]
    assert len(lines) == 1 + 119 // 30 + 1  # first, one per 30 s, last
    assert lines[0].startswith("progress: 1% of 120 days×endpoints, ETA ") and "1 done, 1 requests" in lines[0]
    assert lines[-1].startswith(
        "progress: 100% of 120 days×endpoints, ETA 0s, elapsed 1m59s, 120 done, "
        "120 requests, 1,200 rows fetched, 1,200 committed"
    )
    assert stream.getvalue() == ""  # nothing drawn


def test_on_a_terminal_one_line_is_redrawn_and_log_records_erase_it_first(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")  # whatever terminal (or none) runs the tests
    monkeypatch.setenv("COLUMNS", "100")
    clock = Clock()
    tty = Tty()
    handler = logging.StreamHandler(tty)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with Progress(60, stream=tty, clock=clock) as progress:
            assert progress.mode == "bar"
            progress.fetched(summary(requests=1), batch(3))
            clock.now += 0.01
            progress.fetched(summary(requests=2), batch(3))  # too soon: not redrawn
            clock.now += 1
            progress.fetched(summary(requests=3, retries=1), batch(3))
            logging.getLogger("claude_analytics.test").warning("something happened")
        out = tty.getvalue()
    finally:
        root.removeHandler(handler)
    assert out.count("\r\x1b[K[") == 2  # two draws
    assert (
        "[" + "." * 10 in out
        and "2% of 120 days×endpoints, ETA " in out
        and "3 done, 3 requests (1 retries, 0 rate" in out
    )  # cut at the terminal width
    assert "\r\x1b[Ksomething happened\n" in out  # the bar was erased before the record
    assert not handler.filters  # detached on exit


def test_a_real_run_reports_every_unit(start_simulator, caplog):
    caplog.set_level(logging.INFO, logger="claude_analytics.progress")
    sim = start_simulator(users=10, seed=1)
    progress = Progress(100_000, stream=io.StringIO(), mode="log", interval=0)
    summary_ = load(sim, history_days=6, endpoints="users,summaries,skills,connectors,chat_projects", observer=progress)
    assert summary_.latest_available_day is not None and summary_.earliest_day is not None
    days = (summary_.latest_available_day - summary_.earliest_day).days + 1
    assert summary_.planned_days == 5 * days
    assert progress.days_done == 5 * days and progress.units_done == summary_.planned_units == 4 * days + 1
    assert progress.rows_fetched == sum(summary_.rows_loaded.values())
    last = [r for r in caplog.records if r.name == "claude_analytics.progress"][-1].getMessage()
    assert f"100% of {5 * days} days×endpoints, ETA 0s" in last
    assert f"{5 * days} done, {summary_.requests} requests" in last
