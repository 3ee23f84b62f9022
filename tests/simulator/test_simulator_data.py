"""The synthetic organization: shapes, magnitudes, consistency, determinism and speed (no HTTP)."""

from __future__ import annotations

import datetime
import re
import time

from claude_analytics_simulator import Organization, Simulator

WEEKDAY = datetime.date(2026, 3, 10)
SATURDAY = datetime.date(2026, 3, 14)

CHAT = {
    "distinct_conversation_count",
    "message_count",
    "distinct_projects_created_count",
    "distinct_projects_used_count",
    "distinct_files_uploaded_count",
    "distinct_artifacts_created_count",
    "thinking_message_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_shared_artifacts_viewed_count",
    "shared_conversations_viewed_count",
    "distinct_connectors_used_count",
}
OFFICE = {
    "distinct_session_count",
    "message_count",
    "skills_used_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
}
COWORK = {
    "distinct_session_count",
    "message_count",
    "action_count",
    "dispatch_turn_count",
    "skills_used_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
}
COWORK_GATED = {
    "artifacts_created_count",
    "distinct_plugins_used_count",
    "plugins_used_count",
    "file_edit_count",
    "edit_tool_count",
    "multi_edit_tool_count",
    "write_tool_count",
    "notebook_edit_tool_count",
    "sessions_with_file_edits_count",
}


def is_count(value) -> bool:
    return type(value) is int and value >= 0


def test_user_row_shape():
    org = Organization(42, 500)
    rows = org.user_rows(WEEKDAY)
    for row in rows:
        assert set(row) == {
            "user",
            "chat_metrics",
            "claude_code_metrics",
            "web_search_count",
            "office_metrics",
            "cowork_metrics",
            "design_metrics",
            "last_activity_date",
        }
        assert re.fullmatch(r"user_[0-9a-f]{24}", row["user"]["id"])
        assert re.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.com", row["user"]["email_address"])
        assert row["user"]["type"] == "user"
        assert set(row["chat_metrics"]) == CHAT and all(map(is_count, row["chat_metrics"].values()))
        code = row["claude_code_metrics"]
        core = code["core_metrics"]
        assert set(core) == {
            "commit_count",
            "pull_request_count",
            "lines_of_code",
            "distinct_session_count",
            "artifacts_created_count",
        }
        assert set(core["lines_of_code"]) == {"added_count", "removed_count"}
        assert core["distinct_session_count"] is None or is_count(core["distinct_session_count"])
        assert set(code["tool_actions"]) == {"edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool"}
        for counts in code["tool_actions"].values():
            assert set(counts) == {"accepted_count", "rejected_count"} and all(map(is_count, counts.values()))
        assert is_count(row["web_search_count"])
        assert set(row["office_metrics"]) == {"excel", "powerpoint"}
        assert all(set(p) == OFFICE for p in row["office_metrics"].values())
        assert set(row["cowork_metrics"]) == COWORK | COWORK_GATED
        assert all(is_count(row["cowork_metrics"][k]) for k in COWORK)
        assert all(row["cowork_metrics"][k] is None for k in COWORK_GATED)  # null, never 0
        assert set(row["design_metrics"]) == {
            "distinct_projects_created_count",
            "distinct_projects_used_count",
            "distinct_session_count",
            "message_count",
        }
        assert row["last_activity_date"] == WEEKDAY.isoformat()
    emails = [r["user"]["email_address"] for r in rows]
    assert emails == sorted(emails) and len(set(emails)) == len(emails)
    assert len({r["user"]["id"] for r in rows}) == len(rows)


def test_magnitudes_and_product_subsets():
    org = Organization(42, 2000)
    weekday, weekend = org.user_rows(WEEKDAY), org.user_rows(SATURDAY)
    assert 0.55 <= len(weekday) / 2000 <= 0.70
    assert 0.10 <= len(weekend) / 2000 <= 0.20
    code = [r for r in weekday if r["claude_code_metrics"]["core_metrics"]["lines_of_code"]["added_count"] > 0]
    office = [r for r in weekday if any(p["distinct_session_count"] for p in r["office_metrics"].values())]
    chat = [r for r in weekday if r["chat_metrics"]["message_count"] > 0]
    assert len(office) < len(code) < len(chat) < len(weekday) + 1
    assert len(office) > 0
    nulls = sum(r["claude_code_metrics"]["core_metrics"]["distinct_session_count"] is None for r in weekday)
    assert 0 < nulls < len(weekday) / 4
    assert all(
        sum(v for v in r["chat_metrics"].values())
        + r["claude_code_metrics"]["core_metrics"]["lines_of_code"]["added_count"]
        + r["cowork_metrics"]["distinct_session_count"]
        + r["design_metrics"]["message_count"]
        + sum(p["message_count"] for p in r["office_metrics"].values())
        > 0
        for r in weekday
    )


def test_projects_skills_connectors():
    org = Organization(42, 500)
    people = {u.id: u.email for u in org.users}
    projects = org.project_rows(WEEKDAY)
    assert 0 < len(projects) <= max(3, 500 // 5)
    for p in projects:
        assert re.fullmatch(r"claude_proj_[0-9a-f]+", p["project_id"]) and p["project_name"]
        assert is_count(p["distinct_user_count"]) and is_count(p["message_count"])
        assert p["distinct_conversation_count"] is None or is_count(p["distinct_conversation_count"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", p["created_at"])
        assert p["created_at"][:10] <= WEEKDAY.isoformat()
        assert people[p["created_by"]["id"]] == p["created_by"]["email_address"]

    names = [s.name for s in org.skills]
    assert len(names) == 12 and {"pdf", "xlsx", "docx"} <= set(names)
    assert any(re.fullmatch(r"skill_01[0-9a-f]+", n) for n in names)
    money = re.compile(r"\d+(\.\d+)?")
    seen_fraction = seen_null = False
    for day in (WEEKDAY + datetime.timedelta(days=k) for k in range(5)):
        for s in org.skill_rows(day):
            assert s["invocation_count"] is None and s["enable_count"] is None and s["currency"] == "USD"
            for field in ("estimated_overage_spend", "attributed_list_price"):
                value = s[field]
                assert value is None or (isinstance(value, str) and money.fullmatch(value))
                seen_null |= value is None
                seen_fraction |= isinstance(value, str) and "." in value
            assert set(s["office_metrics"]) == {"excel", "powerpoint"}
            assert is_count(s["cowork_metrics"]["distinct_session_skill_used_count"])
    assert seen_fraction and seen_null

    assert {"atlassian", "github", "google_drive", "slack"} <= {c.name for c in org.connectors}
    rows = org.connector_rows(WEEKDAY)
    assert rows
    for c in rows:
        for field in ("read_call_count", "write_call_count", "unclassified_call_count"):
            assert c[field] is None or (is_count(c[field]) and c[field] > 0)  # null, never 0 as a stand-in
        assert (
            c["managed_auth_distinct_user_count"] + c["individual_auth_distinct_user_count"] == c["distinct_user_count"]
        )
        assert "average_latency_ms" not in c
    assert any(c["read_call_count"] is None for c in rows) and any(c["read_call_count"] for c in rows)


def test_deterministic_from_seed_and_users():
    a, b, c = Organization(42, 300), Organization(42, 300), Organization(43, 300)
    for make in ("user_rows", "project_rows", "skill_rows", "connector_rows"):
        assert getattr(a, make)(WEEKDAY) == getattr(b, make)(WEEKDAY)
    assert a.user_rows(WEEKDAY) != c.user_rows(WEEKDAY)
    assert a.summary_row(WEEKDAY) == b.summary_row(WEEKDAY)


def test_expected_returns_copies():
    sim = Simulator(users=50, today=datetime.date(2026, 3, 15))
    rows = sim.expected("/users", WEEKDAY)
    rows[0]["chat_metrics"]["message_count"] = -1
    rows.pop()
    assert sim.expected("/users", WEEKDAY)[0]["chat_metrics"]["message_count"] != -1
    assert len(sim.expected("/users", WEEKDAY)) == len(rows) + 1


def test_ten_thousand_users_one_day(record_property):
    started = time.perf_counter()
    org = Organization(42, 10_000)
    rows = org.user_rows(WEEKDAY)
    record_property("user_rows_seconds", round(time.perf_counter() - started, 3))  # measured, never asserted
    assert 5_500 <= len(rows) <= 7_000
    # What keeps it fast is that activity is generated once per day and reused: a summary reads the
    # 30 days of its month, the next day's summary generates exactly one more.
    assert len(org._activity) == 1
    started = time.perf_counter()
    org.summary_row(WEEKDAY)
    record_property("summary_seconds", round(time.perf_counter() - started, 3))
    assert len(org._activity) == 30
    org.summary_row(WEEKDAY + datetime.timedelta(days=1))
    assert len(org._activity) == 31
    assert org.user_rows(WEEKDAY) == rows
