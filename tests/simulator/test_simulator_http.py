"""The simulator seen over real sockets, as the pipeline sees it: auth, dates, pagination, summaries."""

from __future__ import annotations

import datetime
import json
import math
import re

import pytest
from sim_helpers import DAY, LATEST, TODAY, assert_error, walk

from claude_analytics_simulator import ENDPOINT_PATHS, ENGAGEMENT_PATHS, REPORT_PATHS, SERVED_PATHS

PER_DAY = [p for p in ENGAGEMENT_PATHS if p != "/summaries"]


# ---- routes and auth ---------------------------------------------------------------------------


def test_public_surface(sim):
    assert ENDPOINT_PATHS == ("/users", "/summaries", "/apps/chat/projects", "/skills", "/connectors")
    assert ENGAGEMENT_PATHS == ENDPOINT_PATHS + ("/plugins", "/artifacts")
    assert REPORT_PATHS == ("/usage_report", "/cost_report", "/user_usage_report", "/user_cost_report")
    assert SERVED_PATHS == ENGAGEMENT_PATHS + REPORT_PATHS and len(SERVED_PATHS) == 11
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1/organizations/analytics", sim.base_url)
    assert sim.api_key == "sim-test-key"
    assert sim.today() == TODAY
    assert sim.latest_available_day() == LATEST
    assert sim.earliest_available_day() == datetime.date(2026, 1, 1)


@pytest.mark.parametrize("key", [None, "sk-ant-admin01-not-this-one"])
def test_missing_or_wrong_key_is_404_not_found(sim, connect, key):
    response = connect(sim, key=key).get("/users", params={"date": DAY.isoformat()})
    message = assert_error(response, 404, "not_found_error")
    assert "x-api-key" in message
    if key:
        assert key not in response.text and key not in str(response.headers)
    assert sim.api_key not in response.text


def test_unknown_path_and_method(sim, client):
    message = assert_error(client.get("/user", params={"date": DAY.isoformat()}), 404, "not_found_error")
    assert "/user" in message
    assert_error(client.get(sim.base_url.replace("/analytics", "/usage"), params={}), 404, "not_found_error")
    response = client.post("/users", params={"date": DAY.isoformat()}, json={"x": 1})
    assert_error(response, 405, "invalid_request_error")
    assert response.headers["allow"] == "GET"


def test_default_today_is_the_current_utc_date(make_sim):
    sim = make_sim(today=None)
    now = datetime.datetime.now(datetime.timezone.utc).date()
    assert sim.today() == now
    assert sim.latest_available_day() == now - datetime.timedelta(days=1)
    assert sim.earliest_available_day() == max(datetime.date(2026, 1, 1), now - datetime.timedelta(days=90))


# ---- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [None, "", "2026-3-10", "20260310", "2026-03-10T00:00:00Z", "2026-02-30", "yesterday"]
)
@pytest.mark.parametrize("path", ["/users", "/skills"])
def test_missing_or_malformed_date_is_400_naming_the_parameter(client, path, value):
    params = {} if value is None else {"date": value}
    message = assert_error(client.get(path, params=params), 400, "invalid_request_error")
    assert "'date'" in message


def test_date_floor_history_and_freshness(make_sim, connect):
    sim = make_sim(today=datetime.date(2026, 11, 27))  # latest 2026-11-26, earliest 2026-08-29
    client = connect(sim)
    floor = assert_error(client.get("/users", params={"date": "2025-12-31"}), 400, "invalid_request_error")
    assert "not available before 2026-01-01" in floor

    old = assert_error(client.get("/connectors", params={"date": "2026-08-28"}), 400, "invalid_request_error")
    assert "outside the history window" in old and "2026-08-29" in old
    assert client.get("/connectors", params={"date": "2026-08-29"}).status_code == 200

    for day in ("2026-11-27", "2026-11-28", "2027-01-01"):
        message = assert_error(client.get("/users", params={"date": day}), 400, "invalid_request_error")
        assert message == (
            f"Data for {day} is not yet available. The most recent date with available data is 2026-11-26."
        )
    assert client.get("/users", params={"date": "2026-11-26", "limit": 1}).status_code == 200

    # Without a history limit the floor is the only lower bound.
    sim.config.history_days = None
    assert client.get("/skills", params={"date": "2026-01-01"}).status_code == 200


def test_lag_days_moves_the_latest_day(make_sim, connect):
    sim = make_sim(availability_lag_days=3)
    assert sim.latest_available_day() == datetime.date(2026, 3, 12)
    message = connect(sim).get("/users", params={"date": "2026-03-13"}).json()["error"]["message"]
    assert "The most recent date with available data is 2026-03-12." in message


# ---- pagination --------------------------------------------------------------------------------


def test_users_walk_with_limit_7_equals_expected(sim, client):
    expected = sim.expected("/users", DAY)
    assert len(expected) > 14
    rows, pages = walk(client, "/users", DAY, limit=7)
    assert rows == expected
    assert len(pages) == math.ceil(len(expected) / 7)
    assert all(set(page) == {"data", "next_page"} for page in pages)  # never has_more
    assert all(len(page["data"]) == 7 for page in pages[:-1])
    assert all(isinstance(page["next_page"], str) for page in pages[:-1])
    emails = [row["user"]["email_address"] for row in rows]
    assert emails == sorted(emails)


def test_default_limits(make_sim, connect):
    sim = make_sim(users=400)
    client = connect(sim)
    assert len(client.get("/users", params={"date": DAY.isoformat()}).json()["data"]) == 20
    assert len(sim.expected("/apps/chat/projects", DAY)) > 10
    projects = client.get("/apps/chat/projects", params={"date": DAY.isoformat(), "limit": 10}).json()
    assert len(projects["data"]) == 10 and projects["next_page"]
    sim.config.users_default_limit = 100
    assert len(client.get("/users", params={"date": DAY.isoformat()}).json()["data"]) == 100


@pytest.mark.parametrize("path", PER_DAY)
def test_every_per_day_endpoint_walk_equals_expected(sim, client, path):
    for day in (DAY, datetime.date(2026, 3, 8), datetime.date(2026, 1, 1)):
        rows, pages = walk(client, path, day, limit=1000)
        assert rows == sim.expected(path, day)
        assert len(pages) == 1 and pages[0]["next_page"] is None
        assert "has_more" not in json.dumps(pages)


def test_empty_day_is_empty_data_and_null_next_page(make_sim, connect):
    sim = make_sim(users=1)
    day = LATEST
    while sim.expected("/users", day):
        day -= datetime.timedelta(days=1)
    body = connect(sim).get("/users", params={"date": day.isoformat(), "limit": 1000}).json()
    assert body == {"data": [], "next_page": None}


@pytest.mark.parametrize("value", ["0", "1001", "-1", "abc", "1.5", ""])
def test_limit_out_of_bounds_is_400(client, value):
    message = assert_error(
        client.get("/users", params={"date": DAY.isoformat(), "limit": value}), 400, "invalid_request_error"
    )
    assert "'limit'" in message


def test_limit_bounds_accepted(client):
    assert len(client.get("/users", params={"date": DAY.isoformat(), "limit": 1}).json()["data"]) == 1
    assert client.get("/users", params={"date": DAY.isoformat(), "limit": 1000}).status_code == 200


def test_cursor_is_bound_to_its_query(client):
    first = client.get("/users", params={"date": DAY.isoformat(), "limit": 7}).json()
    cursor = first["next_page"]
    assert cursor and "2026" not in cursor  # opaque
    changed = [
        ("/users", {"date": DAY.isoformat(), "limit": 8}),
        ("/users", {"date": "2026-03-09", "limit": 7}),
        ("/users", {"date": DAY.isoformat()}),  # the default limit (20) is a different query
        ("/apps/chat/projects", {"date": DAY.isoformat(), "limit": 7}),
    ]
    for path, params in changed:
        message = assert_error(client.get(path, params={**params, "page": cursor}), 400, "invalid_request_error")
        assert "'page'" in message and "cursor" in message
    # The same query still works with it.
    second = client.get("/users", params={"date": DAY.isoformat(), "limit": 7, "page": cursor})
    assert second.status_code == 200 and second.json()["data"] != first["data"]


@pytest.mark.parametrize("garbage", ["abc", "", "eyJmb28iOiAxfQ", "!!!"])
def test_garbage_cursor_is_400(client, garbage):
    response = client.get("/users", params={"date": DAY.isoformat(), "limit": 7, "page": garbage})
    assert "cursor" in assert_error(response, 400, "invalid_request_error")


def test_tampered_cursor_is_400(client):
    import base64

    cursor = client.get("/users", params={"date": DAY.isoformat(), "limit": 7}).json()["next_page"]
    token = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    token["p"] = token["p"].replace('"o":7', '"o":0')
    forged = base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")
    assert_error(
        client.get("/users", params={"date": DAY.isoformat(), "limit": 7, "page": forged}), 400, "invalid_request_error"
    )


def test_expired_cursor_is_410(make_sim, connect):
    import time

    sim = make_sim()  # the default time to live (600 s): the cursor is fresh
    client = connect(sim)
    cursor = client.get("/users", params={"date": DAY.isoformat(), "limit": 7}).json()["next_page"]
    assert client.get("/users", params={"date": DAY.isoformat(), "limit": 7, "page": cursor}).status_code == 200
    sim.config.cursor_ttl_seconds = 0.005
    time.sleep(0.02)  # only a lower bound on time: the cursor is now at least 20 ms old
    response = client.get("/users", params={"date": DAY.isoformat(), "limit": 7, "page": cursor})
    assert "expired" in assert_error(response, 410, "not_found_error")


# ---- summaries ---------------------------------------------------------------------------------


def summaries(client, **params):
    return client.get("/summaries", params=params)


def test_summaries_end_is_exclusive_and_rows_match_expected(sim, client):
    body = summaries(client, starting_date="2026-03-01", ending_date="2026-03-04").json()
    assert set(body) == {"data", "next_page"} and body["next_page"] is None
    assert [row["starting_at"] for row in body["data"]] == [
        "2026-03-01T00:00:00Z",
        "2026-03-02T00:00:00Z",
        "2026-03-03T00:00:00Z",
    ]
    assert [row["ending_at"] for row in body["data"]][0] == "2026-03-02T00:00:00Z"
    for k, row in enumerate(body["data"]):
        assert [row] == sim.expected("/summaries", datetime.date(2026, 3, 1 + k))


def test_summaries_window_rules(client):
    assert len(summaries(client, starting_date="2026-01-15", ending_date="2026-02-15").json()["data"]) == 31
    too_long = assert_error(
        summaries(client, starting_date="2026-01-15", ending_date="2026-02-16"), 400, "invalid_request_error"
    )
    assert "31" in too_long
    for end in ("2026-03-01", "2026-02-28"):
        message = assert_error(
            summaries(client, starting_date="2026-03-01", ending_date=end), 400, "invalid_request_error"
        )
        assert "'ending_date'" in message
    assert "'starting_date'" in assert_error(summaries(client), 400, "invalid_request_error")
    assert "'ending_date'" in assert_error(
        summaries(client, starting_date="2026-03-01", ending_date="03/05/2026"), 400, "invalid_request_error"
    )
    # An exclusive end one past the latest available day is valid; one more is not yet available.
    rows = summaries(client, starting_date="2026-03-10", ending_date="2026-03-15").json()["data"]
    assert rows[-1]["starting_at"] == "2026-03-14T00:00:00Z"
    message = assert_error(
        summaries(client, starting_date="2026-03-10", ending_date="2026-03-16"), 400, "invalid_request_error"
    )
    assert "The most recent date with available data is 2026-03-14." in message
    message = assert_error(summaries(client, starting_date="2026-03-15"), 400, "invalid_request_error")
    assert message == (
        "Data for 2026-03-15 is not yet available. The most recent date with available data is 2026-03-14."
    )
    assert "2026-01-01" in assert_error(summaries(client, starting_date="2025-12-31"), 400, "invalid_request_error")
    # Default end: min(start + 31 days, latest + 1).
    assert len(summaries(client, starting_date="2026-03-01").json()["data"]) == 14
    assert len(summaries(client, starting_date="2026-01-02").json()["data"]) == 31


@pytest.mark.parametrize(
    "envelope,keys",
    [("data", {"data", "next_page"}), ("summaries", {"summaries"}), ("both", {"data", "next_page", "summaries"})],
)
def test_summaries_envelopes(make_sim, connect, envelope, keys):
    sim = make_sim(summaries_envelope=envelope)
    body = connect(sim).get("/summaries", params={"starting_date": "2026-03-01", "ending_date": "2026-03-03"}).json()
    assert set(body) == keys
    rows = body.get("data", body.get("summaries"))
    assert len(rows) == 2
    if envelope == "both":
        assert body["summaries"] == body["data"] and body["next_page"] is None


def test_summaries_period_key_spellings(make_sim, connect):
    sim = make_sim(summaries_period_keys="starting_date")
    row = (
        connect(sim)
        .get("/summaries", params={"starting_date": "2026-03-01", "ending_date": "2026-03-02"})
        .json()["data"][0]
    )
    assert row["starting_date"] == "2026-03-01" and row["ending_date"] == "2026-03-02"
    assert "starting_at" not in row and "ending_at" not in row
    assert sim.expected("/summaries", datetime.date(2026, 3, 1)) == [row]


def test_summaries_agree_with_user_rows(make_sim):
    sim = make_sim(users=300)
    day = DAY
    row = sim.expected("/summaries", day)[0]

    def active(d, test=lambda r: True):
        return {r["user"]["id"] for r in sim.expected("/users", d) if test(r)}

    users = sim.expected("/users", day)
    assert row["daily_active_user_count"] == len(users)
    week = set().union(*(active(day - datetime.timedelta(days=k)) for k in range(7)))
    month = set().union(*(active(day - datetime.timedelta(days=k)) for k in range(30)))
    assert row["weekly_active_user_count"] == len(week)
    assert row["monthly_active_user_count"] == len(month)
    assert row["daily_active_user_count"] <= row["weekly_active_user_count"] <= row["monthly_active_user_count"] <= 300
    assert row["assigned_seat_count"] == 300
    assert row["daily_adoption_rate"] == round(len(users) / 300 * 100, 2)
    assert row["chat_daily_active_user_count"] == sum(r["chat_metrics"]["message_count"] > 0 for r in users)
    assert row["claude_code_daily_active_user_count"] == sum(
        r["claude_code_metrics"]["core_metrics"]["lines_of_code"]["added_count"] > 0 for r in users
    )
    assert row["cowork_daily_active_user_count"] == sum(
        r["cowork_metrics"]["distinct_session_count"] > 0 for r in users
    )
    assert row["cowork_weekly_active_user_count"] == len(
        set().union(
            *(
                active(day - datetime.timedelta(days=k), lambda r: r["cowork_metrics"]["distinct_session_count"] > 0)
                for k in range(7)
            )
        )
    )
    # Near the floor the monthly count only sees days from 2026-01-01 on.
    jan3 = sim.expected("/summaries", datetime.date(2026, 1, 3))[0]
    assert jan3["monthly_active_user_count"] == len(
        set().union(*(active(datetime.date(2026, 1, d)) for d in (1, 2, 3)))
    )
