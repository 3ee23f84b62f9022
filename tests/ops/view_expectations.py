"""What each BI view must contain, computed in Python from the simulator's raw rows (tests only).

Shared by the DuckDB tests (tests/ops) and the Postgres tests (tests/postgres/test_views_postgres.py).
SQL semantics are mirrored on purpose: SUM skips NULLs and is NULL when every value is NULL; a comparison
with NULL is false; weeks start on Monday.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Callable, Iterable

from sources.claude_analytics.endpoints import BY_NAME
from tests.helpers import expected_table

PRODUCTS = {"all": "", "chat": "chat_", "claude_code": "claude_code_", "cowork": "cowork_",
            "claude_design": "claude_design_", "office_agent": "office_agent_", "science": "science_",
            "chat_cowork_unified": "chat_cowork_unified_"}
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")

# the key columns of each view's rows
VIEW_KEYS = {
    "v_daily_adoption": ("date",),
    "v_daily_active_users_by_product": ("date", "product"),
    "v_weekly_user_engagement": ("week_start", "user_id"),
    "v_claude_code_weekly_output": ("week_start", "user_id"),
    "v_top_skills": ("skill_name",),
    "v_top_connectors": ("connector_name",),
    "v_chat_project_activity": ("week_start", "project_id"),
}


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def ssum(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def smax(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def gt0(value: Any) -> bool:
    return value is not None and value > 0


def ratio(numerator: Any, denominator: Any, scale: float = 1.0) -> float | None:
    if numerator is None or not denominator:
        return None
    return float(numerator) * scale / denominator if scale != 1.0 else float(numerator) / denominator


def _rows(sim, name: str, days: list[dt.date]) -> list[dict[str, Any]]:
    return list(expected_table(sim, BY_NAME[name], days).values())


def daily_adoption(sim, days) -> dict[tuple, dict]:
    out = {}
    for r in _rows(sim, "summaries", days):
        g = r.get
        out[(r["date"],)] = {
            "date": r["date"], "daily_active_users": g("daily_active_user_count"),
            "weekly_active_users": g("weekly_active_user_count"), "monthly_active_users": g("monthly_active_user_count"),
            "assigned_seats": g("assigned_seat_count"), "pending_invites": g("pending_invite_count"),
            "daily_adoption_rate": g("daily_adoption_rate"), "weekly_adoption_rate": g("weekly_adoption_rate"),
            "monthly_adoption_rate": g("monthly_adoption_rate"),
            "dau_mau_ratio": ratio(g("daily_active_user_count"), g("monthly_active_user_count")),
            **{f"{p}_daily_active_users": g(f"{p}_daily_active_user_count")
               for p in ("chat", "claude_code", "cowork", "claude_design", "office_agent", "science")},
        }
    return out


def daily_active_users_by_product(sim, days) -> dict[tuple, dict]:
    out = {}
    for r in _rows(sim, "summaries", days):
        seats = r.get("assigned_seat_count")
        for product, prefix in PRODUCTS.items():
            daily = r.get(f"{prefix}daily_active_user_count")
            if daily is None:
                continue
            weekly, monthly = r.get(f"{prefix}weekly_active_user_count"), r.get(f"{prefix}monthly_active_user_count")
            out[(r["date"], product)] = {
                "date": r["date"], "product": product, "daily_active_users": daily, "weekly_active_users": weekly,
                "monthly_active_users": monthly, "assigned_seats": seats,
                "daily_adoption_rate": ratio(daily, seats, 100.0), "weekly_adoption_rate": ratio(weekly, seats, 100.0),
                "monthly_adoption_rate": ratio(monthly, seats, 100.0),
            }
    return out


def _group(rows: list[dict], key: Callable[[dict], tuple]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return groups


def weekly_user_engagement(sim, days) -> dict[tuple, dict]:
    out = {}
    for (week, user), rows in _group(_rows(sim, "users", days), lambda r: (monday(r["date"]), r["user_id"])).items():
        def total(column: str) -> Any:
            return ssum(r.get(column) for r in rows)

        code_cols = ("claude_code_lines_of_code_added_count", "claude_code_lines_of_code_removed_count",
                     "claude_code_commit_count", "claude_code_pull_request_count", "claude_code_distinct_session_count")
        out[(week, user)] = {
            "week_start": week, "user_id": user, "user_email": smax(r.get("user_email") for r in rows),
            "active_days": len({r["date"] for r in rows}),
            "chat_active_days": sum(1 for r in rows if gt0(r.get("chat_message_count"))),
            "claude_code_active_days": sum(1 for r in rows if any(gt0(r.get(c)) for c in code_cols)),
            "cowork_active_days": sum(1 for r in rows if gt0(r.get("cowork_distinct_session_count"))),
            "chat_conversations": total("chat_distinct_conversation_count"),
            "chat_messages": total("chat_message_count"),
            "claude_code_sessions": total("claude_code_distinct_session_count"),
            "claude_code_lines_added": total("claude_code_lines_of_code_added_count"),
            "cowork_sessions": total("cowork_distinct_session_count"),
            "cowork_messages": total("cowork_message_count"),
            "excel_sessions": total("office_excel_distinct_session_count"),
            "powerpoint_sessions": total("office_powerpoint_distinct_session_count"),
            "design_sessions": total("design_distinct_session_count"),
            "web_searches": total("web_search_count"),
        }
    return out


def claude_code_weekly_output(sim, days) -> dict[tuple, dict]:
    per_day = []
    for r in _rows(sim, "users", days):
        accepted = sum(r.get(f"claude_code_tool_actions_{t}_accepted_count") or 0 for t in TOOLS)
        rejected = sum(r.get(f"claude_code_tool_actions_{t}_rejected_count") or 0 for t in TOOLS)
        day = {"date": r["date"], "user_id": r["user_id"], "user_email": r.get("user_email"),
               "sessions": r.get("claude_code_distinct_session_count"), "commits": r.get("claude_code_commit_count"),
               "pull_requests": r.get("claude_code_pull_request_count"),
               "lines_added": r.get("claude_code_lines_of_code_added_count"),
               "lines_removed": r.get("claude_code_lines_of_code_removed_count"),
               "accepted": accepted, "rejected": rejected}
        if any(gt0(day[c]) for c in ("lines_added", "lines_removed", "commits", "pull_requests", "sessions")) \
                or accepted + rejected > 0:
            per_day.append(day)
    out = {}
    for (week, user), rows in _group(per_day, lambda r: (monday(r["date"]), r["user_id"])).items():
        accepted, rejected = sum(r["accepted"] for r in rows), sum(r["rejected"] for r in rows)
        out[(week, user)] = {
            "week_start": week, "user_id": user, "user_email": smax(r["user_email"] for r in rows),
            "active_days": len({r["date"] for r in rows}),
            **{c: ssum(r[c] for r in rows) for c in ("sessions", "commits", "pull_requests", "lines_added",
                                                      "lines_removed")},
            "tool_suggestions_accepted": accepted, "tool_suggestions_rejected": rejected,
            "tool_acceptance_rate": float(accepted) / float(accepted + rejected) if accepted + rejected else None,
        }
    return out


def _top(rows: list[dict], kind: str, extra: dict[str, str], sums: dict[str, str]) -> dict[tuple, dict]:
    if not rows:
        return {}
    last_day = max(r["date"] for r in rows)
    recent_from = last_day - dt.timedelta(days=28)
    out = {}
    for (name,), group in _group(rows, lambda r: (r[f"{kind}_name"],)).items():
        out[(name,)] = {
            f"{kind}_name": name, **{k: smax(r.get(v) for r in group) for k, v in extra.items()},
            "first_used_date": min(r["date"] for r in group), "last_used_date": max(r["date"] for r in group),
            "days_used": len({r["date"] for r in group}),
            "user_days": sum(r["distinct_user_count"] for r in group),
            "user_days_last_28d": sum(r["distinct_user_count"] for r in group if r["date"] > recent_from),
            "peak_daily_users": max(r["distinct_user_count"] for r in group),
            **{k: ssum(r.get(v) for r in group) for k, v in sums.items()},
        }
    ranked = sorted(out.values(), key=lambda r: (-r["user_days_last_28d"], -r["user_days"], r[f"{kind}_name"]))
    for rank, row in enumerate(ranked, 1):
        row["popularity_rank"] = rank
    return out


def top_skills(sim, days) -> dict[tuple, dict]:
    return _top(_rows(sim, "skills", days), "skill", {"skill_display_name": "skill_display_name"}, {
        "chat_conversations": "chat_distinct_conversation_skill_used_count",
        "claude_code_sessions": "claude_code_distinct_session_skill_used_count",
        "cowork_sessions": "cowork_distinct_session_skill_used_count", "invocations": "invocation_count",
        "estimated_overage_spend": "estimated_overage_spend", "attributed_list_price": "attributed_list_price"})


def top_connectors(sim, days) -> dict[tuple, dict]:
    return _top(_rows(sim, "connectors", days), "connector", {"connector_display_name": "connector_display_name"}, {
        "chat_conversations": "chat_distinct_conversation_connector_used_count",
        "claude_code_sessions": "claude_code_distinct_session_connector_used_count",
        "cowork_sessions": "cowork_distinct_session_connector_used_count", "read_calls": "read_call_count",
        "write_calls": "write_call_count", "unclassified_calls": "unclassified_call_count"})


def chat_project_activity(sim, days) -> dict[tuple, dict]:
    out = {}
    rows = _rows(sim, "chat_projects", days)
    for (week, project), group in _group(rows, lambda r: (monday(r["date"]), r["project_id"])).items():
        out[(week, project)] = {
            "week_start": week, "project_id": project, "project_name": smax(r.get("project_name") for r in group),
            "created_at": smax(r.get("created_at") for r in group),
            "created_by_email": smax(r.get("created_by_email") for r in group),
            "active_days": len({r["date"] for r in group}),
            "peak_daily_users": smax(r.get("distinct_user_count") for r in group),
            "user_days": ssum(r.get("distinct_user_count") for r in group),
            "conversations": ssum(r.get("distinct_conversation_count") for r in group),
            "messages": ssum(r.get("message_count") for r in group),
        }
    return out


EXPECTED = {
    "v_daily_adoption": daily_adoption,
    "v_daily_active_users_by_product": daily_active_users_by_product,
    "v_weekly_user_engagement": weekly_user_engagement,
    "v_claude_code_weekly_output": claude_code_weekly_output,
    "v_top_skills": top_skills,
    "v_top_connectors": top_connectors,
    "v_chat_project_activity": chat_project_activity,
}


def rank_groups(expected: dict[tuple, dict]) -> dict[tuple, set[int]]:
    """Ranks each tie group may take (ties in both sort keys are ordered by name, which collations differ on)."""
    groups: dict[tuple, set[int]] = defaultdict(set)
    for row in expected.values():
        groups[(row["user_days_last_28d"], row["user_days"])].add(row["popularity_rank"])
    return groups


def assert_view_equals(view: str, actual_rows: list[dict], expected: dict[tuple, dict]) -> None:
    """Same keys, same columns, equal values (Decimal/int/float exact; ranks up to name ties)."""
    keys = VIEW_KEYS[view]
    actual = {}
    for row in actual_rows:
        key = tuple(row[k] for k in keys)
        assert key not in actual, f"{view}: duplicate row for {key}"
        actual[key] = row
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    assert not missing and not extra, f"{view}: missing {missing[:3]}, unexpected {extra[:3]}"
    groups = rank_groups(expected) if "popularity_rank" in next(iter(expected.values()), {}) else None
    for key, want in expected.items():
        got = actual[key]
        assert set(got) == set(want), f"{view}: columns {sorted(set(got) ^ set(want))} differ"
        for column, value in want.items():
            if column == "popularity_rank" and groups is not None:
                assert got[column] in groups[(want["user_days_last_28d"], want["user_days"])], \
                    f"{view} {key}: rank {got[column]} outside its tie group"
                continue
            assert got[column] == value, f"{view} {key} {column}: {got[column]!r} != {value!r}"
            if value is not None and not isinstance(value, dt.datetime):
                assert type(got[column]) is type(value), f"{view} {key} {column}: {type(got[column])} vs {type(value)}"
