"""The organization-wide request budget: one sliding window shared by every endpoint and thread.

The API allows `requests_per_minute` requests per organization in any 60-second window, counted by the
server at arrival. Our send times are earlier than the server's arrival times by a varying amount, so a
window of exactly 60 s lets two sends 60.0 s apart land 59.9 s apart and draw a 429 (measured). We
therefore count sends over a slightly longer window (`window + guard`), which keeps every server-side
window within budget while using ~98 % of it.

A request may ask for priority: while one waits, no other request takes a free slot. A query restarted
after its page cursor expired uses it, so its pages go back to back instead of queueing behind every
other thread's (which is what let the cursor expire).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable

PRIORITY_YIELD_SECONDS = 0.02  # how long a request waits when a free slot goes to a priority request


class RequestBudget:
    def __init__(
        self,
        requests_per_minute: int,
        *,
        window_seconds: float = 60.0,
        guard_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_minute < 1:
            raise ValueError("requests_per_minute must be a whole number of at least 1")
        self.limit = int(requests_per_minute)
        self.span = window_seconds + guard_seconds
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._priority_waiting = 0
        self._lock = threading.Lock()
        self.acquired = 0
        self.waited_seconds = 0.0

    def _wait_needed(self, now: float) -> float:
        while self._sent and self._sent[0] <= now - self.span:
            self._sent.popleft()
        wait = self._paused_until - now
        if len(self._sent) >= self.limit:
            wait = max(wait, self._sent[0] + self.span - now)
        return max(0.0, wait)

    def acquire(self, priority: bool = False) -> None:
        """Block until one more request fits the budget, then count it as sent."""
        with self._lock:
            self._priority_waiting += priority
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    wait = self._wait_needed(now)
                    if wait <= 0 and (priority or not self._priority_waiting):
                        self._sent.append(now)
                        self.acquired += 1
                        return
                    if wait <= 0:  # the free slot goes to a waiting priority request
                        wait = PRIORITY_YIELD_SECONDS
                self.waited_seconds += wait
                self._sleep(wait)
        finally:
            with self._lock:
                self._priority_waiting -= priority

    def pause(self, seconds: float) -> None:
        """Hold every thread back for `seconds` (after a 429: the server's budget is spent)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def in_window(self) -> int:
        with self._lock:
            self._wait_needed(self._clock())
            return len(self._sent)


_budgets: dict[tuple[str, str, int], RequestBudget] = {}
_budgets_lock = threading.Lock()


def _key(base_url: str, api_key: str, requests_per_minute: int) -> tuple[str, str, int]:
    return base_url, hashlib.sha256(api_key.encode()).hexdigest(), int(requests_per_minute)


def shared_budget(base_url: str, api_key: str, requests_per_minute: int) -> RequestBudget:
    """The one budget of this process for an organization's key (created on first use)."""
    key = _key(base_url, api_key, requests_per_minute)
    with _budgets_lock:
        if key not in _budgets:
            _budgets[key] = RequestBudget(requests_per_minute)
        return _budgets[key]


def install_budget(base_url: str, api_key: str, budget: RequestBudget) -> None:
    """Make `budget` the shared one for this key (a benchmark's time-scaled window, for instance)."""
    with _budgets_lock:
        _budgets[_key(base_url, api_key, budget.limit)] = budget
