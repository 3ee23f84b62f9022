"""The shared request budget, on a fake clock: no window ever exceeds the limit."""

from __future__ import annotations

import threading
import time

import pytest

from sources.claude_analytics.budget import RequestBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_no_60s_window_ever_holds_more_than_the_limit():
    clock = FakeClock()
    budget = RequestBudget(60, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(500):
        budget.acquire()
        sent.append(clock.now)
        clock.now += 0.05  # the request itself takes a little time
    assert max_in_window(sent, 60.0) == 60
    # and even with 1 s of arrival jitter against us, a server's 60 s window never sees 61
    assert max_in_window(sent, 61.0) == 60
    # the budget is used: 500 requests need ~8 windows of 61 s, not more
    assert sent[-1] - sent[0] < 8 * 61 + 1


def test_first_window_may_burst_then_waits():
    clock = FakeClock()
    budget = RequestBudget(10, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        budget.acquire()
    assert clock.now == 1000.0
    budget.acquire()
    assert clock.now == pytest.approx(1061.0)
    assert budget.acquired == 11


def test_retries_are_counted_like_any_request():
    clock = FakeClock()
    budget = RequestBudget(5, clock=clock, sleep=clock.sleep)
    for _ in range(5):  # e.g. one request and four retries of it
        budget.acquire()
    assert budget.in_window() == 5
    start = clock.now
    budget.acquire()
    assert clock.now - start == pytest.approx(61.0)


def test_pause_holds_every_caller_back():
    clock = FakeClock()
    budget = RequestBudget(1000, clock=clock, sleep=clock.sleep)
    budget.acquire()
    budget.pause(7.5)
    budget.acquire()
    assert clock.now == pytest.approx(1007.5)
    budget.pause(2.0)
    budget.pause(1.0)  # a shorter pause never shortens a longer one
    before = clock.now
    budget.acquire()
    assert clock.now - before == pytest.approx(2.0)


def test_pause_from_one_thread_stops_all_threads():
    budget = RequestBudget(1000, window_seconds=1.0, guard_seconds=0.0)
    budget.pause(0.6)
    started = time.monotonic()
    done = []

    def worker():
        budget.acquire()
        done.append(time.monotonic() - started)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 4 and min(done) >= 0.55


def test_threads_share_one_window():
    budget = RequestBudget(20, window_seconds=0.5, guard_seconds=0.05)
    sent: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(15):
            budget.acquire()
            with lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == 60
    assert max_in_window(sent, 0.5) <= 20


@pytest.mark.parametrize("bad", [0, -1])
def test_rejects_a_budget_below_one(bad):
    with pytest.raises(ValueError, match="requests_per_minute"):
        RequestBudget(bad)
