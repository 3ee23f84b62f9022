"""The cap split's last resort: one-minute buckets still at the cap are warned about once per query, not per minute."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.queries import GROUP_CAP, SPLIT_WORKERS, BucketReportQuery, parse_instant, rfc3339

SPAN = {"1d": dt.timedelta(days=1), "1h": dt.timedelta(hours=1), "1m": dt.timedelta(minutes=1)}


class CappedEverywhere:
    """Answers every bucketed query with buckets of exactly GROUP_CAP groups, one cent each; counts requests."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()

    def pages(self, path: str, params: dict[str, Any], on_page, **_: Any) -> list:
        width = params["bucket_width"]
        with self._lock:
            self.requests[width] = self.requests.get(width, 0) + 1
        start, end = parse_instant(params["starting_at"]), parse_instant(params["ending_at"])
        buckets = []
        while start < end:
            results = [{"model": f"m{i}", "amount": "1", "currency": "USD"} for i in range(GROUP_CAP)]
            buckets.append(
                {"starting_at": rfc3339(start), "ending_at": rfc3339(start + SPAN[width]), "results": results}
            )
            start += SPAN[width]
        return [on_page({"data": buckets, "has_more": False, "next_page": None})]


def test_minutes_still_at_the_cap_are_one_warning_per_query(caplog):
    client = CappedEverywhere()
    day = dt.date(2026, 3, 2)
    with caplog.at_level(logging.WARNING, logger="sources.claude_analytics.queries"):
        [rows] = BucketReportQuery().fetch(client, BY_NAME["cost_report"], Unit(day, day), 31, lambda rows: rows)  # type: ignore[arg-type]
    assert client.requests == {"1d": 1, "1h": 1, "1m": 24}  # the day, its hours, each hour's minutes
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "1440 one-minute bucket(s) still report 100 groups" in warnings[0]
    assert "the first at 2026-03-02T00:00:00Z" in warnings[0]
    # what the API did return is kept, summed per group: 1,440 minutes × 1 cent for each of the 100 models
    assert len(rows) == GROUP_CAP and {r["amount"] for r in rows} == {1440}


class Recording(CappedEverywhere):
    """Also records what each page leaves behind, and how many queries are in flight at once.

    A minute query waits (up to 2 s) until SPLIT_WORKERS are in flight, then lingers briefly: a pool wider than
    SPLIT_WORKERS would show more at once, a serial split only one.
    """

    def __init__(self) -> None:
        super().__init__()
        self.kept_per_page: dict[str, list[int]] = {}
        self.in_flight = self.most_in_flight = 0
        self._changed = threading.Condition()

    def pages(self, path: str, params: dict[str, Any], on_page, **kw: Any) -> list:
        with self._changed:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._changed.notify_all()
            if params["bucket_width"] == "1m":  # the day's and the hour's queries come one at a time
                self._changed.wait_for(lambda: self.in_flight >= SPLIT_WORKERS, timeout=2)
        time.sleep(0.05)
        try:
            pages = super().pages(path, params, on_page, **kw)
        finally:
            with self._changed:
                self.in_flight -= 1
        if params["bucket_width"] == "1m":
            [(summed, deeper, capped)] = pages
            self.kept_per_page.setdefault("1m", []).append(len(summed))
        return pages


def test_minute_pages_are_summed_as_they_arrive_by_a_bounded_pool():
    client = Recording()
    day = dt.date(2026, 3, 2)
    BucketReportQuery().fetch(client, BY_NAME["cost_report"], Unit(day, day), 31, lambda rows: rows)  # type: ignore[arg-type]
    # each page of 60 minutes × 100 groups (6,000 rows) is kept as its 100 summed groups
    assert client.kept_per_page["1m"] == [GROUP_CAP] * 24
    # the 24 hours' minute queries run side by side, never more than SPLIT_WORKERS at once
    assert client.most_in_flight == SPLIT_WORKERS
