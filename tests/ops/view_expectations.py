"""What each BI view must contain, computed in Python from the simulator's raw rows (tests only).

Shared by the DuckDB tests (tests/ops) and the Postgres tests (tests/postgres/test_views_postgres.py).
SQL semantics are mirrored on purpose: SUM skips NULLs and is NULL when every value is NULL; a comparison
with NULL is false; weeks start on Monday. The org views' expectations read the org chart file's rows as
written and match people the way the contract says (user_id first, else the email lower-cased).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sources.claude_analytics.endpoints import BY_NAME
from tests.helpers import expected_table

PRODUCTS = {
    "all": "",
    "chat": "chat_",
    "claude_code": "claude_code_",
    "cowork": "cowork_",
    "claude_design": "claude_design_",
    "office_agent": "office_agent_",
    "science": "science_",
    "chat_cowork_unified": "chat_cowork_unified_",
}
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
    "v_top_plugins": ("plugin_name",),
    "v_daily_spend": ("date", "product", "model"),
    "v_user_spend_monthly": ("month_start", "user_id"),
    "v_cost_per_active_user": ("week_start", "product"),
    "v_org_adoption_weekly": ("week_start", "org_unit"),
    "v_org_spend_monthly": ("month_start", "org_unit"),
}

# Values a warehouse computes through a double (a ratio of decimals, or a decimal divided by a count): equal up
# to the last bits of a double, or to the 9th decimal of a DECIMAL(38,9) rounded from one
CLOSE = {"discount_percent", "cost_per_active_user", "amount_per_head"}
UNATTRIBUTED, NOT_IN_ORG_CHART, UNASSIGNED = "(unattributed)", "(not in org chart)", "(unassigned)"
NINE_PLACES = Decimal("0.000000001")


@dataclass
class Truth:
    """What was served and loaded: the simulator, the days of each calendar, and the org chart file's rows."""

    sim: Any
    days: list[dt.date]  # engagement endpoints
    cost_days: list[dt.date]  # cost & usage reports
    org_chart: list[dict] | None = None
    org_unit_attribute: str = "department"
    org_chart_keys: tuple[str, ...] = ("email", "user_id")  # key columns of the loaded org chart


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


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
            "date": r["date"],
            "daily_active_users": g("daily_active_user_count"),
            "weekly_active_users": g("weekly_active_user_count"),
            "monthly_active_users": g("monthly_active_user_count"),
            "assigned_seats": g("assigned_seat_count"),
            "pending_invites": g("pending_invite_count"),
            "daily_adoption_rate": g("daily_adoption_rate"),
            "weekly_adoption_rate": g("weekly_adoption_rate"),
            "monthly_adoption_rate": g("monthly_adoption_rate"),
            "dau_mau_ratio": ratio(g("daily_active_user_count"), g("monthly_active_user_count")),
            **{
                f"{p}_daily_active_users": g(f"{p}_daily_active_user_count")
                for p in ("chat", "claude_code", "cowork", "claude_design", "office_agent", "science")
            },
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
                "date": r["date"],
                "product": product,
                "daily_active_users": daily,
                "weekly_active_users": weekly,
                "monthly_active_users": monthly,
                "assigned_seats": seats,
                "daily_adoption_rate": ratio(daily, seats, 100.0),
                "weekly_adoption_rate": ratio(weekly, seats, 100.0),
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

        def total(column: str, rows: list = rows) -> Any:
            return ssum(r.get(column) for r in rows)

        code_cols = (
            "claude_code_lines_of_code_added_count",
            "claude_code_lines_of_code_removed_count",
            "claude_code_commit_count",
            "claude_code_pull_request_count",
            "claude_code_distinct_session_count",
        )
        out[(week, user)] = {
            "week_start": week,
            "user_id": user,
            "user_email": smax(r.get("user_email") for r in rows),
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
        day = {
            "date": r["date"],
            "user_id": r["user_id"],
            "user_email": r.get("user_email"),
            "sessions": r.get("claude_code_distinct_session_count"),
            "commits": r.get("claude_code_commit_count"),
            "pull_requests": r.get("claude_code_pull_request_count"),
            "lines_added": r.get("claude_code_lines_of_code_added_count"),
            "lines_removed": r.get("claude_code_lines_of_code_removed_count"),
            "accepted": accepted,
            "rejected": rejected,
        }
        if (
            any(gt0(day[c]) for c in ("lines_added", "lines_removed", "commits", "pull_requests", "sessions"))
            or accepted + rejected > 0
        ):
            per_day.append(day)
    out = {}
    for (week, user), rows in _group(per_day, lambda r: (monday(r["date"]), r["user_id"])).items():
        accepted, rejected = sum(r["accepted"] for r in rows), sum(r["rejected"] for r in rows)
        out[(week, user)] = {
            "week_start": week,
            "user_id": user,
            "user_email": smax(r["user_email"] for r in rows),
            "active_days": len({r["date"] for r in rows}),
            **{
                c: ssum(r[c] for r in rows)
                for c in ("sessions", "commits", "pull_requests", "lines_added", "lines_removed")
            },
            "tool_suggestions_accepted": accepted,
            "tool_suggestions_rejected": rejected,
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
            f"{kind}_name": name,
            **{k: smax(r.get(v) for r in group) for k, v in extra.items()},
            "first_used_date": min(r["date"] for r in group),
            "last_used_date": max(r["date"] for r in group),
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
    return _top(
        _rows(sim, "skills", days),
        "skill",
        {"skill_display_name": "skill_display_name"},
        {
            "chat_conversations": "chat_distinct_conversation_skill_used_count",
            "claude_code_sessions": "claude_code_distinct_session_skill_used_count",
            "cowork_sessions": "cowork_distinct_session_skill_used_count",
            "invocations": "invocation_count",
            "estimated_overage_spend": "estimated_overage_spend",
            "attributed_list_price": "attributed_list_price",
        },
    )


def top_connectors(sim, days) -> dict[tuple, dict]:
    return _top(
        _rows(sim, "connectors", days),
        "connector",
        {"connector_display_name": "connector_display_name"},
        {
            "chat_conversations": "chat_distinct_conversation_connector_used_count",
            "claude_code_sessions": "claude_code_distinct_session_connector_used_count",
            "cowork_sessions": "cowork_distinct_session_connector_used_count",
            "read_calls": "read_call_count",
            "write_calls": "write_call_count",
            "unclassified_calls": "unclassified_call_count",
        },
    )


def chat_project_activity(sim, days) -> dict[tuple, dict]:
    out = {}
    rows = _rows(sim, "chat_projects", days)
    for (week, project), group in _group(rows, lambda r: (monday(r["date"]), r["project_id"])).items():
        out[(week, project)] = {
            "week_start": week,
            "project_id": project,
            "project_name": smax(r.get("project_name") for r in group),
            "created_at": smax(r.get("created_at") for r in group),
            "created_by_email": smax(r.get("created_by_email") for r in group),
            "active_days": len({r["date"] for r in group}),
            "peak_daily_users": smax(r.get("distinct_user_count") for r in group),
            "user_days": ssum(r.get("distinct_user_count") for r in group),
            "conversations": ssum(r.get("distinct_conversation_count") for r in group),
            "messages": ssum(r.get("message_count") for r in group),
        }
    return out


def top_plugins(sim, days) -> dict[tuple, dict]:
    return _top(
        _rows(sim, "plugins", days),
        "plugin",
        {"plugin_id": "plugin_id"},
        {
            "installs": "install_count",
            "invocations": "invocation_count",
            "claude_code_sessions": "claude_code_distinct_session_plugin_used_count",
            "cowork_sessions": "cowork_distinct_session_plugin_used_count",
        },
    )


# -- spend -------------------------------------------------------------------------------------------


def _label(value: str | None) -> str:
    return UNATTRIBUTED if value is None else value


def _per_dollar(amount: Decimal | None, count: int | None) -> Decimal | None:
    return (amount / count).quantize(NINE_PLACES) if amount is not None and count else None


def _discount(amount: Decimal | None, list_amount: Decimal | None) -> float | None:
    if amount is None or not list_amount:
        return None
    return (1 - float(amount) / float(list_amount)) * 100


def _tokens(r: dict) -> dict[str, int]:
    """A usage row's token counts as the spend views add them (a type the API did not report counts as none)."""
    return {
        "input_tokens": r.get("uncached_input_tokens") or 0,
        "cache_creation_tokens": (r.get("cache_creation_ephemeral_5m_input_tokens") or 0)
        + (r.get("cache_creation_ephemeral_1h_input_tokens") or 0),
        "cache_read_tokens": r.get("cache_read_input_tokens") or 0,
        "output_tokens": r.get("output_tokens") or 0,
    }


def daily_spend(truth: Truth) -> dict[tuple, dict]:
    def key(r: dict) -> tuple:
        return (r["date"], _label(r.get("product")), _label(r.get("model")))

    cost = _group(_rows(truth.sim, "cost_report", truth.cost_days), key)
    usage = _group(_rows(truth.sim, "usage_report", truth.cost_days), key)
    out = {}
    for k in set(cost) | set(usage):
        costs, uses = cost.get(k, []), usage.get(k, [])
        amount = ssum(r.get("amount") for r in costs)
        list_amount = ssum(r.get("list_amount") for r in costs)
        token_sums = {
            name: sum(_tokens(r)[name] for r in uses)
            for name in ("input_tokens", "cache_creation_tokens", "cache_read_tokens", "output_tokens")
        }
        tokens: dict[str, int | None] = dict(token_sums) if uses else dict.fromkeys(token_sums)
        out[k] = {
            "date": k[0],
            "product": k[1],
            "model": k[2],
            "amount": amount,
            "list_amount": list_amount,
            "discount_percent": _discount(amount, list_amount),
            "requests": ssum(r.get("requests") for r in uses),
            **tokens,
            "total_tokens": sum(token_sums.values()) if uses else None,
            "web_search_requests": ssum(r.get("server_tool_use_web_search_requests") for r in uses),
        }
    return out


def user_spend_monthly(truth: Truth) -> dict[tuple, dict]:
    costs = _rows(truth.sim, "user_cost_report", truth.cost_days)
    uses = _rows(truth.sim, "user_usage_report", truth.cost_days)
    both = _group(
        [{**r, "is_cost": True} for r in costs] + [{**r, "is_cost": False} for r in uses],
        lambda r: (month_start(r["date"]), r["user_id"]),
    )
    out = {}
    for (month, user), rows in both.items():
        cost_rows, use_rows = [r for r in rows if r["is_cost"]], [r for r in rows if not r["is_cost"]]
        out[(month, user)] = {
            "month_start": month,
            "user_id": user,
            "user_email": smax(r.get("user_email") for r in rows),
            "user_name": smax(r.get("user_name") for r in rows),
            "amount": ssum(r.get("amount") for r in cost_rows),
            "list_amount": ssum(r.get("list_amount") for r in cost_rows),
            "total_tokens": ssum(r.get("total_tokens") for r in use_rows),
            "requests": ssum(r.get("requests") for r in use_rows),
            "products_used": len({r.get("product") for r in rows} - {None}),
        }
    return out


CODE_COLUMNS = (
    "claude_code_lines_of_code_added_count",
    "claude_code_lines_of_code_removed_count",
    "claude_code_commit_count",
    "claude_code_pull_request_count",
    "claude_code_distinct_session_count",
)

# v_cost_per_active_user: the product of the reports → when a user_activity row counts as active in it
ACTIVE_IN: dict[str, Callable[[dict], bool]] = {
    "chat": lambda r: gt0(r.get("chat_message_count")),
    "claude_code": lambda r: any(gt0(r.get(c)) for c in CODE_COLUMNS),
    "cowork": lambda r: gt0(r.get("cowork_distinct_session_count")),
    "office_agent": lambda r: (
        gt0(r.get("office_excel_distinct_session_count")) or gt0(r.get("office_powerpoint_distinct_session_count"))
    ),
    "claude_design": lambda r: gt0(r.get("design_distinct_session_count")),
}


def cost_per_active_user(truth: Truth) -> dict[tuple, dict]:
    spend = _group(
        _rows(truth.sim, "cost_report", truth.cost_days), lambda r: (monday(r["date"]), _label(r.get("product")))
    )
    weeks = _group(_rows(truth.sim, "users", truth.days), lambda r: (monday(r["date"]),))
    active = {
        (week, product): len({r["user_id"] for r in rows if test(r)})
        for (week,), rows in weeks.items()
        for product, test in ACTIVE_IN.items()
    }
    out = {}
    for week, product in set(spend) | set(active):
        rows = spend.get((week, product))
        amount = ssum(r.get("amount") for r in rows) if rows else None
        users = active.get((week, product))
        out[(week, product)] = {
            "week_start": week,
            "product": product,
            "amount": amount,
            "list_amount": ssum(r.get("list_amount") for r in rows) if rows else None,
            "active_users": users,
            "cost_per_active_user": _per_dollar(amount, users),
        }
    return out


def write_org_chart(sim, path: Path, left_out: int = 4) -> list[dict]:
    """Write the simulator's org chart as a CSV an HR system might export, and return its rows.

    `left_out` more seat users are missing than the simulator leaves out (their activity goes under
    `(not in org chart)`), one person has no department (`(unassigned)`), some emails are in upper case (the
    org chart is matched case-insensitively) and people without a seat have an empty user_id.
    """
    seated = [p for p in sim.org_chart() if p["user_id"]]
    dropped = {p["email"] for p in seated[:: len(seated) // left_out][:left_out]}
    rows = []
    for index, person in enumerate(p for p in sim.org_chart() if p["email"] not in dropped):
        row = {k: ("" if v is None else v) for k, v in person.items()}
        if index % 5 == 0:
            row["email"] = row["email"].upper()
        if index == 3:
            row["department"] = ""
        rows.append(row)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


# -- org units ----------------------------------------------------------------------------------------


class OrgUnits:
    """The org chart file's people by unit, matched as the contract says: user_id first, else the email,
    compared lower-cased; people it does not list are under `(not in org chart)`."""

    def __init__(self, truth: Truth) -> None:
        assert truth.org_chart is not None, "the org views need the org chart that was loaded"
        self.headcount: Counter = Counter()
        self.by_id: dict[str, str] = {}
        self.by_email: dict[str, str] = {}
        for person in truth.org_chart:
            unit = person.get(truth.org_unit_attribute) or UNASSIGNED
            self.headcount[unit] += 1
            if "user_id" in truth.org_chart_keys and person.get("user_id"):
                self.by_id[person["user_id"]] = unit
            if "email" in truth.org_chart_keys and person.get("email"):
                self.by_email[person["email"].strip().lower()] = unit

    def of(self, row: dict) -> str:
        email = row.get("user_email")
        return (
            self.by_id.get(row["user_id"]) or (self.by_email.get(email.lower()) if email else None) or NOT_IN_ORG_CHART
        )

    def grid(self, periods: Iterable[dt.date], placed: dict[tuple, list]) -> list[tuple[dt.date, str]]:
        """Every unit in every period, and `(not in org chart)` where someone it does not list shows up."""
        return [(p, unit) for p in sorted(set(periods)) for unit in self.headcount] + [
            k for k in placed if k[1] == NOT_IN_ORG_CHART
        ]


def org_adoption_weekly(truth: Truth) -> dict[tuple, dict]:
    units = OrgUnits(truth)
    rows = _rows(truth.sim, "users", truth.days)
    placed = _group(rows, lambda r: (monday(r["date"]), units.of(r)))
    out = {}
    for week, unit in units.grid((monday(r["date"]) for r in rows), placed):
        out[(week, unit)] = _unit_week(week, unit, units.headcount.get(unit), placed.get((week, unit), []))
    return out


def _unit_week(week: dt.date, unit: str, headcount: int | None, group: list[dict]) -> dict:
    """One row of v_org_adoption_weekly: the unit's members' activity rows of the week."""

    def users(test: Callable[[dict], bool] = lambda r: True) -> int:
        return len({r["user_id"] for r in group if test(r)})

    def total(column: str) -> Any:  # 0 when no member was active, NULL when the API sent no value
        return ssum(r.get(column) for r in group) if group else 0

    return {
        "week_start": week,
        "org_unit": unit,
        "headcount": headcount,
        "active_users": users(),
        "chat_active_users": users(ACTIVE_IN["chat"]),
        "claude_code_active_users": users(ACTIVE_IN["claude_code"]),
        "cowork_active_users": users(ACTIVE_IN["cowork"]),
        "adoption_rate": ratio(users(), headcount, 100.0),
        "claude_code_lines_added": total("claude_code_lines_of_code_added_count"),
        "claude_code_lines_removed": total("claude_code_lines_of_code_removed_count"),
        "claude_code_commits": total("claude_code_commit_count"),
        "claude_code_pull_requests": total("claude_code_pull_request_count"),
        "chat_messages": total("chat_message_count"),
        "cowork_messages": total("cowork_message_count"),
    }


def org_spend_monthly(truth: Truth) -> dict[tuple, dict]:
    units = OrgUnits(truth)
    costs = _rows(truth.sim, "user_cost_report", truth.cost_days)
    uses = _rows(truth.sim, "user_usage_report", truth.cost_days)
    placed_costs = _group(costs, lambda r: (month_start(r["date"]), units.of(r)))
    placed_uses = _group(uses, lambda r: (month_start(r["date"]), units.of(r)))
    placed = {k: placed_costs.get(k, []) + placed_uses.get(k, []) for k in set(placed_costs) | set(placed_uses)}
    out = {}
    for month, unit in units.grid((month_start(r["date"]) for r in costs + uses), placed):
        cost_rows, use_rows = placed_costs.get((month, unit), []), placed_uses.get((month, unit), [])
        amount = ssum(r.get("amount") for r in cost_rows) or Decimal(0)
        headcount = units.headcount.get(unit)
        out[(month, unit)] = {
            "month_start": month,
            "org_unit": unit,
            "headcount": headcount,
            "users_with_usage": len({r["user_id"] for r in cost_rows + use_rows}),
            "amount": amount,
            "list_amount": ssum(r.get("list_amount") for r in cost_rows) or Decimal(0),
            "total_tokens": ssum(r.get("total_tokens") for r in use_rows) or 0,
            "amount_per_head": _per_dollar(amount, headcount),
        }
    return out


def _engagement(compute: Callable[[Any, list[dt.date]], dict]) -> Callable[[Truth], dict]:
    return lambda truth: compute(truth.sim, truth.days)


EXPECTED: dict[str, Callable[[Truth], dict[tuple, dict]]] = {
    "v_daily_adoption": _engagement(daily_adoption),
    "v_daily_active_users_by_product": _engagement(daily_active_users_by_product),
    "v_weekly_user_engagement": _engagement(weekly_user_engagement),
    "v_claude_code_weekly_output": _engagement(claude_code_weekly_output),
    "v_top_skills": _engagement(top_skills),
    "v_top_connectors": _engagement(top_connectors),
    "v_top_plugins": _engagement(top_plugins),
    "v_chat_project_activity": _engagement(chat_project_activity),
    "v_daily_spend": daily_spend,
    "v_user_spend_monthly": user_spend_monthly,
    "v_cost_per_active_user": cost_per_active_user,
    "v_org_adoption_weekly": org_adoption_weekly,
    "v_org_spend_monthly": org_spend_monthly,
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
                assert got[column] in groups[(want["user_days_last_28d"], want["user_days"])], (
                    f"{view} {key}: rank {got[column]} outside its tie group"
                )
                continue
            if column in CLOSE and value is not None and got[column] is not None:
                assert _close(got[column], value), f"{view} {key} {column}: {got[column]!r} != {value!r}"
            else:
                assert got[column] == value, f"{view} {key} {column}: {got[column]!r} != {value!r}"
            if value is not None and not isinstance(value, dt.datetime):
                assert type(got[column]) is type(value), f"{view} {key} {column}: {type(got[column])} vs {type(value)}"


def _close(got: Any, want: Any) -> bool:
    if isinstance(want, Decimal):
        return abs(got - want) <= NINE_PLACES
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
