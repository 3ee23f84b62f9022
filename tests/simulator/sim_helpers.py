"""Helpers shared by the simulator's tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import datetime
import re

TODAY = datetime.date(2026, 3, 15)
LATEST = datetime.date(2026, 3, 14)
DAY = datetime.date(2026, 3, 10)  # a Tuesday


def assert_error(response, status: int, error_type: str) -> str:
    """Anthropic's error shape with the given status and type; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert re.fullmatch(r"req_[0-9a-f]+", body["request_id"])
    assert response.headers["request-id"] == body["request_id"]
    return body["error"]["message"]


def walk(client, path: str, day: datetime.date, **params) -> tuple[list[dict], list[dict]]:
    """All rows of a day of a per-day endpoint via next_page, and the raw page bodies."""
    rows, pages, page = [], [], None
    while True:
        query = {"date": day.isoformat(), **params}
        if page is not None:
            query["page"] = page
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        rows.extend(body["data"])
        page = body["next_page"]
        if page is None:
            return rows, pages
