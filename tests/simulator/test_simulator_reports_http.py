"""The cost & usage reports (spec §5.3) over real sockets: auth, plan, parameters, envelope, pagination,
cursors, horizon, faults. The data laws (sums, cap, actors, revisions, money) are in test_simulator_reports_data."""

from __future__ import annotations

import datetime
import re

import httpx
import pytest
from sim_helpers import DAY, TODAY, assert_error

from claude_analytics_simulator import REPORT_PATHS, FaultConfig

BUCKETED = ("/usage_report", "/cost_report")
PER_USER = ("/user_usage_report", "/user_cost_report")
ENVELOPE = {"data", "has_more", "next_page", "data_refreshed_at", "organization_id"}
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
MAR1 = "2026-03-01T00:00:00Z"


def at(day: datetime.date, hour: int = 0, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def get(client, path: str, **params) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ENVELOPE
    assert (body["next_page"] is None) == (body["has_more"] is False)
    return body


def walk_report(client, path: str, **params) -> tuple[list[dict], list[dict]]:
    """Every item (bucket or row) of a report query, following next_page while has_more."""
    items, pages, page = [], [], None
    while True:
        body = get(client, path, **params, **({"page": page} if page else {}))
        pages.append(body)
        items += body["data"]
        if not body["has_more"]:
            return items, pages
        page = body["next_page"]


# ---- auth and plan -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REPORT_PATHS)
@pytest.mark.parametrize("key", [None, "sk-ant-admin01-not-this-one"])
def test_reports_answer_401_for_a_missing_or_wrong_key(sim, connect, path, key):
    response = connect(sim, key=key).get(path, params={"starting_at": MAR1})
    message = assert_error(response, 401, "authentication_error")
    assert "x-api-key" in message
    assert sim.api_key not in response.text and (key is None or key not in response.text)
    # The engagement endpoints keep answering 404 for the same key.
    assert_error(connect(sim, key=key).get("/users", params={"date": DAY.isoformat()}), 404, "not_found_error")


@pytest.mark.parametrize("status,error_type", [(403, "permission_error"), (404, "not_found_error")])
def test_a_plan_without_cost_reports(make_sim, connect, status, error_type):
    sim = make_sim(cost_reports_available=False, cost_reports_denied_status=status)
    client = connect(sim)
    for path in REPORT_PATHS:
        message = assert_error(client.get(path, params={"starting_at": MAR1}), status, error_type)
        assert "plan" in message and "cost & usage reports" in message
    # The engagement endpoints keep working, and a bad key is still an authentication failure first.
    for path in ("/users", "/plugins", "/artifacts"):
        assert client.get(path, params={"date": DAY.isoformat()}).status_code == 200
    assert_error(
        connect(sim, key="wrong").get("/cost_report", params={"starting_at": MAR1}), 401, "authentication_error"
    )
    sim.config.cost_reports_available = True
    assert client.get("/cost_report", params={"starting_at": MAR1}).status_code == 200


# ---- envelope ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_envelope(make_sim, connect, path):
    sim, other = make_sim(), make_sim(seed=7)
    body = get(connect(sim), path, starting_at=MAR1, ending_at=at(DAY), bucket_width="1d")
    assert INSTANT.fullmatch(body["data_refreshed_at"])
    assert body["data_refreshed_at"] >= at(TODAY)  # refreshed after the last served bucket closed
    assert re.fullmatch(r"org_[0-9a-f]{24}", body["organization_id"])
    assert get(connect(sim), path, starting_at=MAR1)["organization_id"] == body["organization_id"]
    assert get(connect(other), path, starting_at=MAR1)["organization_id"] != body["organization_id"]
    if path in BUCKETED:
        assert [set(b) for b in body["data"]] == [{"starting_at", "ending_at", "results"}] * 7
        assert [b["starting_at"] for b in body["data"]] == [at(datetime.date(2026, 3, d)) for d in range(1, 8)]
        assert [b["ending_at"] for b in body["data"]] == [at(datetime.date(2026, 3, d)) for d in range(2, 9)]
    else:
        assert len(body["data"]) == 20  # default limit of the per-user reports
        starts = [r["starting_at"] for r in body["data"]]  # ordered by bucket first (a quiet Sunday, then Monday)
        assert starts == sorted(starts) and starts[0] == MAR1 and set(starts) == {MAR1, at(datetime.date(2026, 3, 2))}


def test_data_refreshed_at_follows_the_clock_when_today_is_not_pinned(make_sim, connect):
    sim = make_sim(today=None)
    body = get(connect(sim), "/usage_report", starting_at=at(sim.today() - datetime.timedelta(days=3)))
    refreshed = datetime.datetime.fromisoformat(body["data_refreshed_at"].replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert refreshed <= now and refreshed.minute == refreshed.second == 0  # the last hourly refresh
    assert len(body["data"]) == 3  # the three complete days before today


# ---- parameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "2026-03-01",
        "2026-03-01T00:00:00",
        "2026-03-01 00:00:00Z",
        "2026-02-30T00:00:00Z",
        "yesterday",
        "1772323200",
    ],
)
def test_starting_at_is_required_rfc3339(client, value):
    params = {} if value is None else {"starting_at": value}
    assert "'starting_at'" in assert_error(client.get("/usage_report", params=params), 400, "invalid_request_error")


def test_timestamp_spellings_and_flooring(client):
    base = get(client, "/usage_report", starting_at=MAR1, ending_at="2026-03-04T00:00:00Z")
    for start, end in (
        ("2026-03-01T00:00:00+00:00", "2026-03-04T00:00:00+00:00"),
        ("2026-03-01T13:45:10.123456789Z", "2026-03-03T23:59:59Z"),  # floored; end ceiled
        ("2026-03-01T02:30:00+02:00", "2026-03-04T01:00:00+01:00"),  # offsets convert to UTC
        ("2026-03-01t00:00:00z", "2026-03-04T00:00:00Z"),
    ):
        body = get(client, "/usage_report", starting_at=start, ending_at=end)
        assert body["data"] == base["data"], (start, end)
    hourly = get(client, "/usage_report", starting_at="2026-03-10T10:30:00Z", bucket_width="1h", limit=2)
    assert [b["starting_at"] for b in hourly["data"]] == ["2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z"]
    minutes = get(client, "/usage_report", starting_at="2026-03-10T10:30:59Z", bucket_width="1m", limit=1)
    assert minutes["data"][0]["starting_at"] == "2026-03-10T10:30:00Z"
    assert minutes["data"][0]["ending_at"] == "2026-03-10T10:31:00Z"


def test_window_rules(client):
    def error(**params) -> str:
        return assert_error(client.get("/cost_report", params=params), 400, "invalid_request_error")

    assert "'ending_at'" in error(starting_at=MAR1, ending_at=MAR1)
    assert "'ending_at'" in error(starting_at=MAR1, ending_at="2026-02-28T00:00:00Z")
    assert "31 days" in error(starting_at="2026-01-10T00:00:00Z", ending_at="2026-02-10T00:00:01Z")
    assert "'ending_at'" in error(starting_at=MAR1, ending_at="tomorrow")
    assert "'bucket_width'" in error(starting_at=MAR1, bucket_width="1w")
    full = get(client, "/cost_report", starting_at="2026-01-10T00:00:00Z", ending_at="2026-02-10T00:00:00Z", limit=31)
    assert len(full["data"]) == 31 and full["has_more"] is False


def test_starting_at_history(make_sim, connect):
    sim = make_sim(today=datetime.date(2027, 6, 1))  # 365 days back: 2026-06-01
    client = connect(sim)
    message = assert_error(
        client.get("/user_cost_report", params={"starting_at": "2026-05-31T23:00:00Z"}), 400, "invalid_request_error"
    )
    assert "'starting_at'" in message and "2026-06-01T00:00:00Z" in message
    assert get(client, "/user_cost_report", starting_at="2026-06-01T00:00:00Z", limit=1)["data"]
    # Flooring happens first: 00:30 floors to the earliest allowed instant at 1d, not at 1m.
    assert (
        get(client, "/usage_report", starting_at="2026-06-01T00:30:00Z")["data"][0]["starting_at"]
        == "2026-06-01T00:00:00Z"
    )
    floor = assert_error(
        connect(make_sim()).get("/usage_report", params={"starting_at": "2025-12-31T23:59:00Z"}),
        400,
        "invalid_request_error",
    )
    assert "2026-01-01T00:00:00Z" in floor
    sim.config.history_message_names_earliest = False
    quiet = assert_error(
        client.get("/usage_report", params={"starting_at": "2026-05-31T00:00:00Z"}), 400, "invalid_request_error"
    )
    assert "'starting_at'" in quiet and not re.search(r"\d{4}-\d{2}-\d{2}", quiet)


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_group_by_values(client, path):
    cost = "cost" in path
    for value in ("product", "model", "context_window", "inference_geo", "speed"):
        assert client.get(path, params={"starting_at": MAR1, "group_by[]": value}).status_code == 200
    for value in ("user_id", "Product", "", "products"):
        message = assert_error(
            client.get(path, params={"starting_at": MAR1, "group_by[]": value}), 400, "invalid_request_error"
        )
        assert "'group_by[]'" in message
    for value in ("cost_type", "token_type"):
        response = client.get(path, params={"starting_at": MAR1, "group_by[]": ["product", value]})
        if cost:
            assert response.status_code == 200
        else:
            assert "'group_by[]'" in assert_error(response, 400, "invalid_request_error")
    # The repeated bracket form is the only list form.
    plain = client.get(path, params={"starting_at": MAR1, "group_by": "product"})
    assert "group_by[]" in assert_error(plain, 400, "invalid_request_error")


@pytest.mark.parametrize(
    "name,good,bad",
    [
        ("products[]", ["chat", "claude-tag", "claude_in_chrome"], ["claude_tag", "other", "", "Chat"]),
        ("context_windows[]", ["0-200k", "200k-1M"], ["1M", ""]),
        ("inference_geos[]", ["global", "us"], ["eu"]),
        ("speeds[]", ["fast", "standard"], ["slow"]),
        ("models[]", ["claude-sonnet-4-5-20250929", "no-such-model"], [""]),
        ("user_ids[]", ["user_0123", "anything"], [""]),
    ],
)
def test_filter_values(client, name, good, bad):
    for path in ("/cost_report", "/user_usage_report"):
        assert client.get(path, params={"starting_at": MAR1, name: good}).status_code == 200
        for value in bad:
            message = assert_error(
                client.get(path, params={"starting_at": MAR1, name: value}), 400, "invalid_request_error"
            )
            assert name in message
        plain = client.get(path, params={"starting_at": MAR1, name[:-2]: good[0]})
        assert name in assert_error(plain, 400, "invalid_request_error")


def test_per_user_only_parameters(client):
    for name, value in (("order_by", "amount"), ("order", "asc"), ("exclude_deleted_users", "true")):
        message = assert_error(
            client.get("/cost_report", params={"starting_at": MAR1, name: value}), 400, "invalid_request_error"
        )
        assert f"'{name}'" in message
    ok = {
        "/user_usage_report": [
            "total_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation.ephemeral_5m_input_tokens",
        ],
        "/user_cost_report": ["amount", "list_amount"],
    }
    for path, values in ok.items():
        for value in values:
            assert client.get(path, params={"starting_at": MAR1, "order_by": value, "order": "asc"}).status_code == 200
        wrong = "amount" if path == "/user_usage_report" else "total_tokens"
        assert "'order_by'" in assert_error(
            client.get(path, params={"starting_at": MAR1, "order_by": wrong}), 400, "invalid_request_error"
        )
        assert "'order'" in assert_error(
            client.get(path, params={"starting_at": MAR1, "order": "up"}), 400, "invalid_request_error"
        )
        for value in ("yes", "1", "TRUE"):
            response = client.get(path, params={"starting_at": MAR1, "exclude_deleted_users": value})
            assert "'exclude_deleted_users'" in assert_error(response, 400, "invalid_request_error")


@pytest.mark.parametrize("width,default,most", [("1d", 7, 31), ("1h", 24, 168), ("1m", 60, 1440)])
def test_bucketed_limits_count_buckets(client, width, default, most):
    start = "2026-01-20T00:00:00Z"
    body = get(client, "/usage_report", starting_at=start, bucket_width=width)
    assert len(body["data"]) == default and body["has_more"]
    assert len(get(client, "/usage_report", starting_at=start, bucket_width=width, limit=most)["data"]) == most
    for bad in (0, most + 1, "x"):
        response = client.get("/usage_report", params={"starting_at": start, "bucket_width": width, "limit": bad})
        assert "'limit'" in assert_error(response, 400, "invalid_request_error")


def test_per_user_limits_count_rows(make_sim, connect):
    client = connect(make_sim(users=600))
    assert len(get(client, "/user_usage_report", starting_at=at(DAY))["data"]) == 20
    assert len(get(client, "/user_usage_report", starting_at=at(DAY), bucket_width="1d", limit=1000)["data"]) == 1000
    for bad in (0, 1001):
        response = client.get("/user_usage_report", params={"starting_at": at(DAY), "limit": bad})
        assert "'limit'" in assert_error(response, 400, "invalid_request_error")


# ---- pagination ----------------------------------------------------------------------------------


def test_bucketed_pagination(client):
    buckets, pages = walk_report(
        client, "/cost_report", starting_at="2026-01-15T00:00:00Z", ending_at="2026-02-15T00:00:00Z", limit=7
    )
    assert [len(p["data"]) for p in pages] == [7, 7, 7, 7, 3]
    assert [p["has_more"] for p in pages] == [True] * 4 + [False]
    assert all(isinstance(p["next_page"], str) and "2026" not in p["next_page"] for p in pages[:-1])
    one = get(client, "/cost_report", starting_at="2026-01-15T00:00:00Z", ending_at="2026-02-15T00:00:00Z", limit=31)
    assert buckets == one["data"]


@pytest.mark.parametrize("path", PER_USER)
def test_per_user_pagination_equals_the_truth(sim, client, path):
    expected = sim.expected_report(path, DAY, ("product", "model"))
    assert len(expected) > 21
    rows, pages = walk_report(
        client,
        path,
        starting_at=at(DAY),
        ending_at=at(DAY + datetime.timedelta(days=1)),
        bucket_width="1d",
        limit=7,
        **{"group_by[]": ["product", "model"]},
    )
    assert rows == expected
    assert all(len(p["data"]) == 7 for p in pages[:-1]) and 1 <= len(pages[-1]["data"]) <= 7
    # Default order: bucket, then user id, then group key (nulls first).
    keys = [(r["starting_at"], r["actor"]["user_id"], r["product"] or "", r["model"] or "") for r in rows]
    assert keys == sorted(keys)


def test_cost_type_rows_of_one_group_stay_on_one_page(sim, client):
    params = dict(
        starting_at=at(DAY),
        ending_at=at(DAY + datetime.timedelta(days=1)),
        bucket_width="1d",
        **{"group_by[]": ["product", "cost_type", "token_type"]},
    )
    rows, pages = walk_report(client, "/user_cost_report", limit=1, **params)
    assert rows == sim.expected_report("/user_cost_report", DAY, ("product", "cost_type", "token_type"))

    def unit(r):
        return r["actor"]["user_id"], r["product"]

    assert any(len(p["data"]) > 1 for p in pages)  # a page can hold more rows than `limit` ...
    for page in pages:
        assert len({unit(r) for r in page["data"]}) == 1  # ... only to keep one group's breakdown together
    for before, after in zip(pages, pages[1:]):
        assert unit(before["data"][-1]) != unit(after["data"][0])


def test_per_user_rows_over_several_buckets(sim, client):
    days = [DAY + datetime.timedelta(days=k) for k in range(3)]
    rows, _ = walk_report(
        client,
        "/user_usage_report",
        starting_at=at(days[0]),
        ending_at=at(days[-1], 23, 59),
        bucket_width="1d",
        limit=50,
    )
    assert rows == [r for d in days for r in sim.expected_report("/user_usage_report", d)]
    # Without bucket_width, one row per user for the whole range, without period keys.
    whole, _ = walk_report(
        client,
        "/user_usage_report",
        starting_at=at(days[0]),
        ending_at=at(days[-1] + datetime.timedelta(days=1)),
        limit=1000,
    )
    assert all("starting_at" not in r and "ending_at" not in r for r in whole)
    ids = [r["actor"]["user_id"] for r in whole]
    assert ids == sorted(set(ids)) == sorted({r["actor"]["user_id"] for r in rows})
    per_user: dict[str, int] = {}
    for r in rows:
        per_user[r["actor"]["user_id"]] = per_user.get(r["actor"]["user_id"], 0) + r["total_tokens"]
    assert {r["actor"]["user_id"]: r["total_tokens"] for r in whole} == per_user


# ---- cursors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REPORT_PATHS)
def test_cursor_is_bound_to_the_whole_query(client, path):
    query = {
        "starting_at": "2026-02-01T00:00:00Z",
        "ending_at": "2026-03-01T00:00:00Z",
        "bucket_width": "1d",
        "limit": 3,
        "group_by[]": ["product"],
    }
    first = get(client, path, **query)
    cursor = first["next_page"]
    assert first["has_more"] and cursor
    changed: list[dict] = [
        {"limit": 4},
        {"group_by[]": ["product", "model"]},
        {"group_by[]": []},
        {"ending_at": "2026-02-28T00:00:00Z"},
        {"starting_at": "2026-02-02T00:00:00Z"},
        {"bucket_width": "1h"},
        {"products[]": ["chat"]},
        {"speeds[]": ["fast"]},
    ]
    if path in PER_USER:
        changed += [{"exclude_deleted_users": "true"}, {"order": "asc"}]
    for change in changed:
        response = client.get(path, params={**query, **change, "page": cursor})
        assert "cursor" in assert_error(response, 400, "invalid_request_error"), change
    other = "/cost_report" if path != "/cost_report" else "/usage_report"
    assert_error(client.get(other, params={**query, "page": cursor}), 400, "invalid_request_error")
    # The same query, spelled differently, is the same query.
    same = {**query, "starting_at": "2026-02-01T00:00:00+00:00"}
    second = get(client, path, **same, page=cursor)
    assert second["data"] and second["data"] != first["data"]


@pytest.mark.parametrize("garbage", ["abc", "", "eyJmb28iOiAxfQ", "!!!"])
def test_garbage_report_cursor_is_400(client, garbage):
    response = client.get("/user_cost_report", params={"starting_at": MAR1, "page": garbage})
    assert "cursor" in assert_error(response, 400, "invalid_request_error")


def test_engagement_cursor_is_not_a_report_cursor(make_sim, connect):
    client = connect(make_sim(users=200))
    cursor = client.get("/users", params={"date": DAY.isoformat(), "limit": 5}).json()["next_page"]
    response = client.get("/usage_report", params={"starting_at": MAR1, "page": cursor})
    assert "cursor" in assert_error(response, 400, "invalid_request_error")


def test_expired_report_cursor_is_410(sim, client):
    import time

    cursor = get(client, "/cost_report", starting_at="2026-01-15T00:00:00Z")["next_page"]
    assert get(client, "/cost_report", starting_at="2026-01-15T00:00:00Z", page=cursor)["data"]
    sim.config.cursor_ttl_seconds = 0.005
    time.sleep(0.02)  # a lower bound on time only
    response = client.get("/cost_report", params={"starting_at": "2026-01-15T00:00:00Z", "page": cursor})
    assert "expired" in assert_error(response, 410, "not_found_error")


# ---- the data horizon ----------------------------------------------------------------------------


def test_buckets_from_today_on_are_not_served(client):
    # Default end: the horizon (today 00:00 UTC), at most 31 days after the start.
    days = get(client, "/usage_report", starting_at="2026-03-09T00:00:00Z", limit=31)["data"]
    assert [b["starting_at"][:10] for b in days] == [f"2026-03-{d:02d}" for d in range(9, 15)]
    later = get(client, "/usage_report", starting_at="2026-03-09T00:00:00Z", ending_at="2026-03-20T00:00:00Z", limit=31)
    assert later["data"] == days and later["has_more"] is False
    hours, _ = walk_report(
        client, "/usage_report", starting_at="2026-03-14T20:00:00Z", ending_at="2026-03-15T06:00:00Z", bucket_width="1h"
    )
    assert [b["starting_at"] for b in hours] == [f"2026-03-14T{h}:00:00Z" for h in range(20, 24)]
    for path in REPORT_PATHS:
        future = get(client, path, starting_at=at(TODAY))
        assert future == {**future, "data": [], "has_more": False, "next_page": None}
        assert get(client, path, starting_at=at(TODAY, 5), ending_at="2026-03-20T00:00:00Z")["data"] == []


def test_buckets_without_traffic_are_listed_empty(make_sim, connect):
    client = connect(make_sim(users=30))
    hours = get(
        client,
        "/usage_report",
        starting_at=at(DAY),
        bucket_width="1h",
        **{"products[]": ["chat"], "group_by[]": ["product"]},
    )["data"]
    assert len(hours) == 24
    assert any(b["results"] == [] for b in hours) and any(b["results"] for b in hours)
    assert all(r["product"] == "chat" for b in hours for r in b["results"])


# ---- faults and the shared rate limit ------------------------------------------------------------


def test_faults_reach_the_report_paths(make_sim, connect):
    sim = make_sim(faults=FaultConfig(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        connect(sim).get("/cost_report", params={"starting_at": MAR1})
    sim.config.faults = FaultConfig(server_error_rate=1.0)
    assert connect(sim).get("/user_cost_report", params={"starting_at": MAR1}).status_code in (500, 502, 503, 504)
    sim.config.faults = FaultConfig(truncate_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        connect(sim).get("/usage_report", params={"starting_at": MAR1})
    sim.config.faults = FaultConfig()
    cursor = get(connect(sim), "/usage_report", starting_at=MAR1, bucket_width="1h")["next_page"]
    sim.config.faults = FaultConfig(expired_cursor_rate=1.0)
    client = connect(sim)
    assert client.get("/usage_report", params={"starting_at": MAR1, "bucket_width": "1h"}).status_code == 200
    response = client.get("/usage_report", params={"starting_at": MAR1, "bucket_width": "1h", "page": cursor})
    assert "expired" in assert_error(response, 410, "not_found_error")
    sim.config.faults = FaultConfig(rate_limit_rate=1.0)
    assert_error(client.get("/user_usage_report", params={"starting_at": MAR1}), 429, "rate_limit_error")
    assert sim.stats()["faults"] == {"drop": 1, "server_error": 1, "truncate": 1, "expired_cursor": 1, "rate_limit": 1}


def test_rate_limit_is_shared_with_the_engagement_endpoints(make_sim, connect):
    sim = make_sim(rate_limit=3, rate_window_seconds=60.0)
    client = connect(sim)
    codes = [
        client.get("/users", params={"date": DAY.isoformat()}).status_code,
        client.get("/cost_report", params={"starting_at": MAR1}).status_code,
        connect(sim, key=None).get("/usage_report", params={"starting_at": MAR1}).status_code,  # 401 counts
        client.get("/user_cost_report", params={"starting_at": MAR1}).status_code,
    ]
    assert codes == [200, 200, 401, 429]
    assert sim.stats()["by_path"]["/user_cost_report"] == {429: 1}
