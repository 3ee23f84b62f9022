"""The cap split's last resort: one-minute buckets still at the cap are warned about once per query, not per minute."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.queries import GROUP_CAP, BucketReportQuery, parse_instant, rfc3339

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
