"""Progress of a `run`/`backfill`: a live bar on a terminal, plain periodic log lines otherwise.

Fed by the runner's callbacks: `fetched` after every fetched request unit (a day of one endpoint, or a
window of summaries days) and `committed` after every chunk loaded. The total is the plan's days ×
endpoints; the ETA comes from the request plan at the configured budget (requests_per_minute), or from
the pace observed so far when that is slower (a slow server or warehouse).

    with Progress(requests_per_minute=60) as progress:
        run_load(RunOptions(..., observer=progress))

On a terminal (stderr is a TTY and TERM is not `dumb`) one line is redrawn in place; log records clear it
first, so they never mix with it. Without a terminal (cron, CI, Airflow) a log line is written at most
every `interval` seconds (default 30), plus the first and the last.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

log = logging.getLogger("claude_analytics.progress")

BAR_REFRESH_SECONDS = 0.1
LOG_INTERVAL_SECONDS = 30.0


def duration(seconds: float | None) -> str:
    """12s, 3m05s, 2h04m; '?' when unknown."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def use_bar(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"


class _ClearLine(logging.Filter):
    """Erases the progress line before a log record is written to the same terminal."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress._erase()
        return True


class Progress:
    def __init__(
        self,
        requests_per_minute: int,
        *,
        stream: TextIO | None = None,
        mode: str = "auto",
        interval: float = LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.mode = ("bar" if use_bar(self.stream) else "log") if mode == "auto" else mode
        self.requests_per_minute = requests_per_minute
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.days_done = 0
        self.units_done = 0
        self.rows_fetched = 0
        self.summary: Any = None
        self._last_output: float | None = None
        self._visible = False
        self._lock = threading.Lock()
        self._filter = _ClearLine(self)
        self._handlers: list[logging.Handler] = []

    # -- context ------------------------------------------------------------------------------------

    def __enter__(self) -> Progress:
        if self.mode == "bar":
            for handler in logging.getLogger().handlers:
                if getattr(handler, "stream", None) is self.stream:
                    handler.addFilter(self._filter)
                    self._handlers.append(handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._visible:
                self.stream.write("\n")
                self.stream.flush()
                self._visible = False
        for handler in self._handlers:
            handler.removeFilter(self._filter)
        self._handlers.clear()

    # -- runner callbacks ---------------------------------------------------------------------------

    def fetched(self, summary: Any, batch: Any) -> None:
        self.summary = summary
        self.days_done += batch.unit.days
        self.units_done += 1
        self.rows_fetched += batch.rows
        self._update()

    def committed(self, summary: Any) -> None:
        self.summary = summary
        self._update(force=self.mode == "bar")

    # -- figures ------------------------------------------------------------------------------------

    @property
    def total_days(self) -> int:
        return getattr(self.summary, "planned_days", 0) or 0

    def eta_seconds(self) -> float | None:
        """Seconds left: the request plan at the budget, or the observed pace if that is slower."""
        s = self.summary
        if s is None:
            return None
        planned = s.planned_units or 0
        left = max(0, planned - self.units_done)
        if left == 0:
            return 0.0
        per_unit = s.requests / self.units_done if self.units_done and s.requests else 1.0
        by_plan = left * max(1.0, per_unit) * 60.0 / max(1, self.requests_per_minute)
        elapsed = self.clock() - self.started
        if self.units_done and elapsed > 0:
            return max(by_plan, left * elapsed / self.units_done)
        return by_plan

    def line(self) -> str:
        s = self.summary
        total = self.total_days
        pct = 100.0 * self.days_done / total if total else 100.0
        committed = sum(s.rows_loaded.values()) if s is not None else 0
        requests = s.requests if s is not None else 0
        extra = ""
        if s is not None and (s.retries or s.rate_limited):
            extra = f" ({s.retries} retries, {s.rate_limited} rate-limited)"
        return (
            f"{pct:.0f}% of {total} days×endpoints, ETA {duration(self.eta_seconds())}, elapsed "
            f"{duration(self.clock() - self.started)}, {self.days_done} done, {requests} requests{extra}, "
            f"{self.rows_fetched:,} rows fetched, {committed:,} committed"
        )

    # -- output -------------------------------------------------------------------------------------

    def _update(self, force: bool = False) -> None:
        now = self.clock()
        done = self.total_days and self.days_done >= self.total_days
        if self.mode == "bar":
            if force or done or self._last_output is None or now - self._last_output >= BAR_REFRESH_SECONDS:
                self._draw()
                self._last_output = now
        elif self.mode == "log" and (done or self._last_output is None or now - self._last_output >= self.interval):
            log.info("progress: %s", self.line())
            self._last_output = now

    def _draw(self) -> None:
        width = max(40, shutil.get_terminal_size((100, 20)).columns - 1)
        total = self.total_days
        share = self.days_done / total if total else 1.0
        text = self.line()
        bar_width = max(10, min(30, width - len(text) - 4))
        filled = int(round(share * bar_width))
        out = f"[{'#' * filled}{'.' * (bar_width - filled)}] {text}"[:width]
        with self._lock:
            self.stream.write("\r\x1b[K" + out)
            self.stream.flush()
            self._visible = True

    def _erase(self) -> None:
        with self._lock:
            if self._visible:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._visible = False
