"""/plugins and /artifacts (spec §5.1, §5.2) over real sockets, and the history-message options."""

from __future__ import annotations

import datetime
import re

import pytest
from sim_helpers import DAY, LATEST, assert_error, walk

ARTIFACT_TYPES = {
    "text/html",
    "application/vnd.ant.react",
    "image/svg+xml",
    "text/markdown",
    "application/vnd.ant.mermaid",
    "other",
}
PLUGIN_FIELDS = {
    "plugin_name",
    "plugin_id",
    "install_count",
    "invocation_count",
    "distinct_user_count",
    "claude_code_metrics",
    "cowork_metrics",
}
ARTIFACT_FIELDS = {
    "artifact_type",
    "is_shared",
    "artifacts_created_count",
    "published_artifacts_created_count",
    "distinct_user_count",
}


def days(first: datetime.date, last: datetime.date):
    return [first + datetime.timedelta(days=k) for k in range((last - first).days + 1)]


def is_count(value) -> bool:
    return type(value) is int and value >= 0


def code_or_cowork_users(sim, day) -> int:
    return sum(
        r["claude_code_metrics"]["core_metrics"]["lines_of_code"]["added_count"] > 0
        or r["cowork_metrics"]["distinct_session_count"] > 0
        for r in sim.expected("/users", day)
    )


# ---- /plugins ------------------------------------------------------------------------------------


def test_plugin_rows_shape_and_order(make_sim, connect):
    sim = make_sim(users=400)
    client = connect(sim)
    seen_third_party = False
    for day in days(datetime.date(2026, 3, 2), datetime.date(2026, 3, 8)):
        rows = client.get("/plugins", params={"date": day.isoformat(), "limit": 1000}).json()["data"]
        assert rows == sim.expected("/plugins", day)
        names = [r["plugin_name"] for r in rows]
        assert names == sorted(names) and len(set(names)) == len(names)
        for r in rows:
            assert set(r) == PLUGIN_FIELDS
            if r["plugin_name"] == "third-party":
                seen_third_party = True
                assert r["plugin_id"] is None  # the aggregate of unnamed plugins has no id
            else:
                assert re.fullmatch(r"[a-z0-9-]+@[a-z0-9-]+", r["plugin_id"])
                assert r["plugin_id"].startswith(r["plugin_name"] + "@")
            for value in (
                r["install_count"],
                r["invocation_count"],
                r["distinct_user_count"],
                r["claude_code_metrics"]["distinct_session_plugin_used_count"],
                r["cowork_metrics"]["distinct_session_plugin_used_count"],
            ):
                assert is_count(value)
            # Plugins are used from Claude Code and cowork: never more users than those had that day.
            assert 1 <= r["distinct_user_count"] <= code_or_cowork_users(sim, day)
    assert seen_third_party
    assert any(
        r["plugin_id"] == "serena@claude-plugins-official"
        for d in days(datetime.date(2026, 3, 2), datetime.date(2026, 3, 8))
        for r in sim.expected("/plugins", d)
    )


def test_plugins_walk_with_a_small_limit_and_cursor_binding(make_sim, connect):
    sim = make_sim(users=400)
    client = connect(sim)
    expected = sim.expected("/plugins", DAY)
    assert len(expected) >= 3
    rows, pages = walk(client, "/plugins", DAY, limit=2)
    assert rows == expected and len(pages) == -(-len(expected) // 2)
    assert all(set(p) == {"data", "next_page"} for p in pages)  # never has_more
    cursor = pages[0]["next_page"]
    for path, params in (
        ("/plugins", {"date": "2026-03-09", "limit": 2}),
        ("/skills", {"date": DAY.isoformat(), "limit": 2}),
        ("/plugins", {"date": DAY.isoformat(), "limit": 3}),
    ):
        response = client.get(path, params={**params, "page": cursor})
        assert "cursor" in assert_error(response, 400, "invalid_request_error")
    # The default limit is 100: one page.
    assert client.get("/plugins", params={"date": DAY.isoformat()}).json() == {"data": expected, "next_page": None}


def test_plugin_use_follows_claude_code_and_cowork_activity(make_sim, connect):
    sim = make_sim(users=3)
    org = sim.organization()
    first = org.plugins_from()
    assert datetime.date(2026, 1, 1) < first <= datetime.date(2026, 1, 21)
    client = connect(sim)
    # Before the organization adopted plugins, days are empty.
    for day in days(datetime.date(2026, 1, 1), first - datetime.timedelta(days=1)):
        assert client.get("/plugins", params={"date": day.isoformat()}).json() == {"data": [], "next_page": None}
    # After it, a day without any Claude Code or cowork user has no plugin use either.
    quiet = used = 0
    for day in days(first, LATEST):
        rows = sim.expected("/plugins", day)
        if code_or_cowork_users(sim, day) == 0:
            quiet += 1
            assert rows == []
        used += bool(rows)
    assert quiet and used  # both kinds of day occur in this small organization


def test_plugins_need_a_date(client):
    assert "'date'" in assert_error(client.get("/plugins"), 400, "invalid_request_error")
    message = assert_error(client.get("/plugins", params={"date": "2026-03-15"}), 400, "invalid_request_error")
    assert "The most recent date with available data is 2026-03-14." in message


# ---- /artifacts ----------------------------------------------------------------------------------


def test_artifacts_whole_cube_on_one_page(make_sim, connect):
    sim = make_sim(users=300)
    client = connect(sim)
    body = client.get("/artifacts", params={"date": DAY.isoformat(), "limit": 1}).json()
    assert set(body) == {"data", "next_page"} and body["next_page"] is None
    rows = body["data"]
    assert rows == sim.expected("/artifacts", DAY) and len(rows) > 4
    keys = [(r["artifact_type"], r["is_shared"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert {r["artifact_type"] for r in rows} <= ARTIFACT_TYPES
    assert {False, True} == {r["is_shared"] for r in rows}
    for r in rows:
        assert set(r) == ARTIFACT_FIELDS
        assert type(r["is_shared"]) is bool  # a JSON bool, not 0/1 or a string
        assert r["artifacts_created_count"] >= 1  # only cells with activity come back
        assert 0 <= r["published_artifacts_created_count"] <= r["artifacts_created_count"]
        assert 1 <= r["distinct_user_count"] <= r["artifacts_created_count"]
        if not r["is_shared"]:
            assert r["published_artifacts_created_count"] == 0  # publishing needs a shared artifact
    assert any(r["published_artifacts_created_count"] for r in rows)


def test_artifacts_paginate_only_when_grouped(make_sim, connect):
    sim = make_sim(users=300)
    client = connect(sim)
    expected = sim.expected("/artifacts", DAY)
    rows, pages = walk(client, "/artifacts", DAY, limit=3, **{"group_by[]": ["artifact_type", "is_shared"]})
    assert rows == expected and len(pages) == -(-len(expected) // 3)
    # The cursor is bound to the grouping too.
    cursor = pages[0]["next_page"]
    response = client.get("/artifacts", params={"date": DAY.isoformat(), "limit": 3, "page": cursor})
    assert "cursor" in assert_error(response, 400, "invalid_request_error")
    bad = client.get("/artifacts", params={"date": DAY.isoformat(), "group_by[]": "user_id"})
    assert "'group_by[]'" in assert_error(bad, 400, "invalid_request_error")
    assert "'date'" in assert_error(client.get("/artifacts"), 400, "invalid_request_error")


def test_artifacts_follow_chat_activity(make_sim):
    sim = make_sim(users=2)
    seen = set()
    for day in days(datetime.date(2026, 2, 1), LATEST):
        chat_users = sum(r["chat_metrics"]["message_count"] > 0 for r in sim.expected("/users", day))
        rows = sim.expected("/artifacts", day)
        if chat_users == 0:
            assert rows == []
        assert all(r["distinct_user_count"] <= chat_users for r in rows)
        seen.add(bool(rows))
    assert seen == {True, False}


# ---- revisions, growth and quirks ----------------------------------------------------------------

KEYS = {"/plugins": lambda r: r["plugin_name"], "/artifacts": lambda r: (r["artifact_type"], r["is_shared"])}


@pytest.mark.parametrize("path", list(KEYS))
def test_revision_drops_the_first_entity_and_grows_counters(make_sim, path):
    sim = make_sim(users=400)  # revision_days 3: 2026-03-12..14 move
    key = KEYS[path]
    recent = [LATEST - datetime.timedelta(days=k) for k in range(3)]
    older = [LATEST - datetime.timedelta(days=k) for k in range(3, 6)]
    before = {d: sim.expected(path, d) for d in recent + older}
    sim.config.revision = 2
    for day in older:
        assert sim.expected(path, day) == before[day]
    grown = False
    for day in recent:
        old, new = before[day], sim.expected(path, day)
        assert len(old) >= 2
        assert [key(r) for r in new] == [key(r) for r in old[1:]]
        counter = "invocation_count" if path == "/plugins" else "artifacts_created_count"
        for o, n in zip(old[1:], new):
            assert n[counter] >= o[counter] and n["distinct_user_count"] == o["distinct_user_count"]
            grown |= n[counter] > o[counter]
            if path == "/artifacts":
                assert n["published_artifacts_created_count"] <= n["artifacts_created_count"]
    assert grown


def test_growth_fields_of_plugins_and_artifacts(make_sim):
    grow = datetime.date(2026, 3, 10)
    sim, plain = make_sim(users=400, growth_from=grow), make_sim(users=400)
    before = grow - datetime.timedelta(days=1)
    assert all("uninstall_count" not in r for r in sim.expected("/plugins", before))
    assert all("view_count" not in r for r in sim.expected("/artifacts", before))
    plugins, artifacts = sim.expected("/plugins", grow), sim.expected("/artifacts", grow)
    assert plugins and all(is_count(r["uninstall_count"]) for r in plugins)
    assert artifacts and all(is_count(r["view_count"]) for r in artifacts)
    # Growth adds fields and changes nothing else.
    assert [{k: v for k, v in r.items() if k != "uninstall_count"} for r in plugins] == plain.expected("/plugins", grow)
    assert [{k: v for k, v in r.items() if k != "view_count"} for r in artifacts] == plain.expected("/artifacts", grow)


def test_quirks_reach_plugins_and_artifacts(make_sim, connect):
    sim = make_sim(users=400, quirks={DAY: "null_key", datetime.date(2026, 3, 9): "duplicate"})
    client = connect(sim)
    plugins = client.get("/plugins", params={"date": DAY.isoformat()}).json()["data"]
    artifacts = client.get("/artifacts", params={"date": DAY.isoformat()}).json()["data"]
    assert plugins[0]["plugin_name"] is None and artifacts[0]["artifact_type"] is None
    dup = client.get("/plugins", params={"date": "2026-03-09"}).json()["data"]
    assert dup[0]["plugin_name"] == dup[-1]["plugin_name"]
    assert dup[-1]["distinct_user_count"] == dup[0]["distinct_user_count"] + 1


# ---- history and freshness messages --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users", "/plugins", "/artifacts"])
def test_history_messages_may_name_no_date(make_sim, connect, path):
    sim = make_sim(today=datetime.date(2026, 11, 27))  # latest 2026-11-26, earliest 2026-08-29
    client = connect(sim)
    named = assert_error(client.get(path, params={"date": "2026-08-28"}), 400, "invalid_request_error")
    assert "2026-08-29" in named
    sim.config.history_message_names_earliest = False
    for day in ("2026-08-28", "2026-05-01", "2025-12-31"):
        message = assert_error(client.get(path, params={"date": day}), 400, "invalid_request_error")
        assert not re.search(r"\d{4}-\d{2}-\d{2}", message), message  # a client has to bisect
        assert "history" in message
    assert client.get(path, params={"date": "2026-08-29"}).status_code == 200

    sim.config.not_available_names_latest = False
    message = assert_error(client.get(path, params={"date": "2026-11-27"}), 400, "invalid_request_error")
    assert message == "Data for the requested date is not yet available."
    summaries = client.get("/summaries", params={"starting_date": "2026-11-20", "ending_date": "2026-11-28"})
    assert not re.search(r"\d{4}-\d{2}-\d{2}", assert_error(summaries, 400, "invalid_request_error"))
