"""Error mapping of single answers (httpx.MockTransport): one precise error type per case."""

from __future__ import annotations

import datetime as dt
import gc
import json
import tracemalloc

import httpx
import pytest

from sources.claude_analytics.budget import RequestBudget
from sources.claude_analytics.client import (
    AccessDenied,
    AnalyticsClient,
    CursorRejected,
    DayNotAvailable,
    DayTooOld,
    EndpointUnavailable,
    InvalidRequest,
    RetryPolicy,
    UnexpectedResponse,
    classify_bad_request,
)
from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import BY_NAME
from sources.claude_analytics.queries import DayQuery

DAY = dt.date(2026, 11, 26)
KEY = "sk-ant-api03-secret-value"


def client_answering(status, body=None, text=None, headers=None, seen=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return AnalyticsClient(
        "https://api.example.test/v1/organizations/analytics",
        KEY,
        RequestBudget(1000),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(backoff_base=0.0, max_attempts=2),
    )


def err(message, kind="invalid_request_error"):
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_123"}


def test_headers_and_parameters_sent():
    seen: list[httpx.Request] = []
    client_answering(200, {"data": [], "next_page": None}, seen=seen).pages(
        "/users", {"date": "2026-11-01", "limit": 1000, "group_by[]": ["product", "model"]}, lambda body: body
    )
    request = seen[0]
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.url.path == "/v1/organizations/analytics/users"
    assert list(request.url.params.multi_items()) == [
        ("date", "2026-11-01"),
        ("limit", "1000"),
        ("group_by[]", "product"),
        ("group_by[]", "model"),
    ]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_rejected_key(status):
    client = client_answering(status, err("nope", "not_found_error"))
    with pytest.raises(AccessDenied, match="read:analytics") as caught:
        client.get("/users", {"date": "2026-11-01"})
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    "message,latest",
    [
        (
            "Data for 2026-11-26 is not yet available. The most recent date with available data is 2026-11-24.",
            dt.date(2026, 11, 24),
        ),
        ("date must be in the past and data is available up to 2026-11-23", dt.date(2026, 11, 23)),
        ("The requested date is not available yet", None),
    ],
)
def test_not_yet_available_learns_the_latest_day(message, latest):
    with pytest.raises(DayNotAvailable) as caught:
        client_answering(400, err(message)).get("/users", {"date": DAY.isoformat()}, day=DAY)
    assert caught.value.latest == latest


@pytest.mark.parametrize(
    "message",
    [
        "Invalid value for 'date': data is not available before 2026-01-01 (got 2025-12-31).",
        "2026-01-05 is outside the history window. The earliest available date is 2026-02-01.",
    ],
)
def test_too_old(message):
    with pytest.raises(DayTooOld):
        client_answering(400, err(message)).get("/users", {"date": "2026-01-05"}, day=dt.date(2026, 1, 5))


def test_cursor_errors_are_cursor_errors():
    with pytest.raises(CursorRejected):
        client_answering(410, err("gone", "not_found_error")).get("/users", {"page": "x"})
    with pytest.raises(CursorRejected):
        client_answering(400, err("Invalid page cursor")).get("/users", {"page": "x"})


def test_other_4xx_carry_status_request_id_and_message():
    with pytest.raises(InvalidRequest, match=r"HTTP 422: limit too large \(request id req_123\)"):
        client_answering(422, err("limit too large")).get("/users", {})


def test_a_non_json_error_body_is_tolerated():
    with pytest.raises(InvalidRequest, match="HTTP 400: <html>bad"):
        client_answering(400, text="<html>bad gateway-ish</html>").get("/users", {})


def test_unexpected_envelope_is_reported_not_loaded_as_empty():
    with pytest.raises(UnexpectedResponse, match=r"no 'data' list \(keys: next_page, results\)"):
        DayQuery().fetch(
            client_answering(200, {"results": [], "next_page": None}),
            BY_NAME["users"],
            Unit(DAY, DAY),
            1000,
            lambda rows: rows,
        )


def test_has_more_is_ignored_next_page_decides():
    pages = iter([{"data": [1], "next_page": "c1", "has_more": False}, {"data": [2], "next_page": None}])
    client = AnalyticsClient(
        "https://x.test",
        KEY,
        RequestBudget(1000),
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=next(pages))),
    )
    assert client.pages("/users", {"date": "2026-11-01"}, lambda body: body["data"]) == [[1], [2]]


@pytest.mark.parametrize("status", [403, 404])
def test_an_endpoint_refused_while_the_key_works_elsewhere_is_unavailable_not_a_bad_key(status):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/users"):
            return httpx.Response(200, json={"data": [], "next_page": None})
        return httpx.Response(status, json=err("no such plan", "permission_error"))

    client = AnalyticsClient("https://x.test", KEY, RequestBudget(1000), transport=httpx.MockTransport(handler))
    with pytest.raises(AccessDenied):  # before any endpoint accepted the key: a rejected key
        client.get("/cost_report", {})
    client.get("/users", {"date": "2026-11-01"})
    with pytest.raises(EndpointUnavailable, match=r"/cost_report is not available to this organization"):
        client.get("/cost_report", {})


def test_classification_fallback_uses_the_days_named():
    assert classify_bad_request("nothing for 2026-11-26; try 2026-11-25", DAY) == "not_available"
    assert classify_bad_request("only from 2026-12-01", DAY) == "too_old"
    assert classify_bad_request("limit must be <= 1000", DAY) == "other"


class Streamed(httpx.SyncByteStream):
    """A body read from the wire as a real transport's is (a body given as content is read on creation)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __iter__(self):
        yield self.text.encode()  # new bytes per answer


def test_a_page_body_is_freed_once_parsed_not_at_the_cycle_collectors_next_pass():
    # httpx keeps every response in a reference cycle; a body kept on it would outlive the page
    payload = json.dumps({"data": ["x" * 100] * 10_000, "next_page": None})  # ~1 MB
    client = AnalyticsClient(
        "https://x.test",
        KEY,
        RequestBudget(1000),
        transport=httpx.MockTransport(lambda r: httpx.Response(200, stream=Streamed(payload))),
    )
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(20):
            client.get("/users", {"date": "2026-11-01"})
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert held < 4 * 2**20  # 20 bodies kept would be 20 MB
