"""The endpoint catalogue: one entry per API endpoint drives its resource, table, keys and columns.

Adding an endpoint is an entry here, not new code. This module knows nothing of HTTP or dlt: column
types are dlt's type names as plain strings, so the catalogue also feeds the data dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DateMode = Literal["day", "window"]


@dataclass(frozen=True)
class Field:
    """A field the API is documented to send, by its path in the JSON row."""

    path: tuple[str, ...]
    data_type: str  # dlt type name: bigint, double, text, date, timestamp, bool, decimal
    description: str
    money_in_cents: bool = False  # decimal string in cents; loaded as DECIMAL in currency units


@dataclass(frozen=True)
class Endpoint:
    name: str  # the name users pass to --endpoints
    path: str  # relative to the base URL
    table: str
    entity_key: tuple[str, ...]  # column names after flattening; `date` comes first in the primary key
    description: str
    date_mode: DateMode = "day"  # "day": ?date=D, paginated; "window": ?starting_date&ending_date (exclusive)
    max_window_days: int = 1
    fields: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return ("date", *self.entity_key)


def _f(path: str, data_type: str, description: str, **kw: bool) -> Field:
    return Field(tuple(path.split(".")), data_type, description, **kw)


def _counts(prefix: str, names: str, what: str) -> list[Field]:
    return [_f(f"{prefix}.{n}", "bigint", f"{what}: {n.replace('_', ' ')}") for n in names.split()]


_OFFICE_COUNTERS = (
    "distinct_session_count message_count skills_used_count distinct_skills_used_count "
    "connectors_used_count distinct_connectors_used_count"
)

USER_FIELDS: tuple[Field, ...] = (
    _f("user.id", "text", "Tagged user id (user_…); with date, the row's key"),
    _f("user.email_address", "text", "The user's email address"),
    _f("user.type", "text", "Kind of actor; always 'user' where sent"),
    *_counts(
        "chat_metrics",
        "distinct_conversation_count message_count distinct_projects_created_count "
        "distinct_projects_used_count distinct_files_uploaded_count distinct_artifacts_created_count "
        "thinking_message_count distinct_skills_used_count connectors_used_count "
        "distinct_shared_artifacts_viewed_count shared_conversations_viewed_count "
        "distinct_connectors_used_count",
        "Claude chat",
    ),
    *_counts(
        "claude_code_metrics.core_metrics",
        "commit_count pull_request_count distinct_session_count artifacts_created_count",
        "Claude Code",
    ),
    _f("claude_code_metrics.core_metrics.lines_of_code.added_count", "bigint", "Claude Code: lines of code added"),
    _f("claude_code_metrics.core_metrics.lines_of_code.removed_count", "bigint", "Claude Code: lines of code removed"),
    *[
        _f(f"claude_code_metrics.tool_actions.{tool}.{outcome}_count", "bigint",
           f"Claude Code: {tool.replace('_', ' ')} suggestions {outcome}")
        for tool in ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
        for outcome in ("accepted", "rejected")
    ],
    _f("web_search_count", "bigint", "Web searches in chat and Claude Code"),
    *[
        f
        for product in ("excel", "powerpoint")
        for f in _counts(f"office_metrics.{product}", _OFFICE_COUNTERS, f"Claude in {product.title()}")
    ],
    *_counts(
        "cowork_metrics",
        "distinct_session_count message_count action_count dispatch_turn_count skills_used_count "
        "distinct_skills_used_count connectors_used_count distinct_connectors_used_count",
        "Cowork",
    ),
    *_counts(
        "cowork_metrics",
        "artifacts_created_count distinct_plugins_used_count plugins_used_count file_edit_count "
        "edit_tool_count multi_edit_tool_count write_tool_count notebook_edit_tool_count "
        "sessions_with_file_edits_count",
        "Cowork (feature-gated: NULL while not enabled)",
    ),
    *_counts(
        "design_metrics",
        "distinct_projects_created_count distinct_projects_used_count distinct_session_count message_count",
        "Claude Design",
    ),
    *_counts(
        "science_metrics",
        "delegation_count distinct_session_count message_count remote_compute_job_count skills_used_count",
        "Claude for Science",
    ),
    _f("last_activity_date", "date", "The user's most recent day with any activity (NULL while not offered)"),
)

_PRODUCTS = {"": "", "cowork_": "Cowork", "chat_": "chat", "claude_code_": "Claude Code",
             "claude_design_": "Claude Design", "office_agent_": "the Office agent", "science_": "Claude for Science",
             "chat_cowork_unified_": "chat and Cowork combined"}
_SPANS = {"daily": "the day", "weekly": "the 7 days", "monthly": "the 30 days"}

SUMMARY_FIELDS: tuple[Field, ...] = (
    *[
        _f(f"{prefix}{period}_active_user_count", "bigint",
           f"Distinct active users{' of ' + product if product else ''} over {span} ending on the date")
        for prefix, product in _PRODUCTS.items()
        for period, span in _SPANS.items()
    ],
    _f("assigned_seat_count", "bigint", "Seats assigned on the date"),
    _f("pending_invite_count", "bigint", "Invitations not yet accepted on the date"),
    _f("daily_adoption_rate", "double", "Daily active users ÷ assigned seats × 100 (percent)"),
    _f("weekly_adoption_rate", "double", "Weekly active users ÷ assigned seats × 100 (percent)"),
    _f("monthly_adoption_rate", "double", "Monthly active users ÷ assigned seats × 100 (percent)"),
    _f("science_entitled_user_count", "bigint", "Users entitled to Claude for Science"),
)

PROJECT_FIELDS: tuple[Field, ...] = (
    _f("project_id", "text", "Chat project id (claude_proj_…); with date, the row's key"),
    _f("project_name", "text", "Project name"),
    _f("distinct_user_count", "bigint", "Distinct users of the project on the date"),
    _f("distinct_conversation_count", "bigint", "Distinct conversations in the project on the date"),
    _f("message_count", "bigint", "Messages in the project on the date"),
    _f("created_at", "timestamp", "When the project was created (UTC)"),
    _f("created_by.id", "text", "Creator's user id"),
    _f("created_by.email_address", "text", "Creator's email address"),
)

_OFFICE_PRODUCTS = ("excel", "powerpoint")


def _usage_fields(kind: str) -> list[Field]:
    """The per-product breakdown skills and connectors share."""
    return [
        _f("distinct_user_count", "bigint", f"Distinct users of the {kind} on the date"),
        _f(f"chat_metrics.distinct_conversation_{kind}_used_count", "bigint",
           f"Chat conversations that used the {kind}"),
        _f(f"claude_code_metrics.distinct_session_{kind}_used_count", "bigint",
           f"Claude Code sessions that used the {kind}"),
        _f(f"cowork_metrics.distinct_session_{kind}_used_count", "bigint", f"Cowork sessions that used the {kind}"),
        *[
            _f(f"office_metrics.{p}.distinct_session_{kind}_used_count", "bigint",
               f"Claude in {p.title()} sessions that used the {kind}")
            for p in _OFFICE_PRODUCTS
        ],
    ]


SKILL_FIELDS: tuple[Field, ...] = (
    _f("skill_name", "text", "Skill name (may be an opaque id); with date, the row's key"),
    *_usage_fields("skill"),
    _f("skill_display_name", "text", "Human-readable skill name"),
    _f("share_status", "text", "How the skill is shared"),
    _f("invocation_count", "bigint", "Skill invocations (NULL while not enabled)"),
    _f("enable_count", "bigint", "Times the skill was enabled (NULL while not enabled)"),
    _f("estimated_overage_spend", "decimal", "Estimated overage spend in currency units (API cents ÷ 100)",
       money_in_cents=True),
    _f("attributed_list_price", "decimal", "Attributed list price in currency units (API cents ÷ 100)",
       money_in_cents=True),
    _f("currency", "text", "Currency of the money columns (ISO 4217)"),
)

CONNECTOR_FIELDS: tuple[Field, ...] = (
    _f("connector_name", "text", "Normalized connector (MCP server) name; with date, the row's key"),
    *_usage_fields("connector"),
    _f("connector_display_name", "text", "Human-readable connector name"),
    _f("read_call_count", "bigint", "Read calls (NULL while not enabled)"),
    _f("write_call_count", "bigint", "Write calls (NULL while not enabled)"),
    _f("unclassified_call_count", "bigint", "Calls not classified as read or write (NULL while not enabled)"),
    _f("managed_auth_distinct_user_count", "bigint", "Distinct users authenticated by organization-managed auth"),
    _f("individual_auth_distinct_user_count", "bigint", "Distinct users authenticated individually"),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("users", "/users", "user_activity", ("user_id",),
             "Per-user activity for one UTC day: one row per active user", fields=USER_FIELDS),
    Endpoint("summaries", "/summaries", "activity_summary", (),
             "Organization-wide active users, seats and adoption per UTC day: one row per day",
             date_mode="window", max_window_days=31, fields=SUMMARY_FIELDS),
    Endpoint("chat_projects", "/apps/chat/projects", "chat_project_usage", ("project_id",),
             "Chat project usage per UTC day: one row per project used that day", fields=PROJECT_FIELDS),
    Endpoint("skills", "/skills", "skill_usage", ("skill_name",),
             "Skill usage per UTC day: one row per skill used that day", fields=SKILL_FIELDS),
    Endpoint("connectors", "/connectors", "connector_usage", ("connector_name",),
             "Connector (MCP) usage per UTC day: one row per connector used that day", fields=CONNECTOR_FIELDS),
)

BY_NAME: dict[str, Endpoint] = {e.name: e for e in ENDPOINTS}


def select(names: str | list[str] | None) -> list[Endpoint]:
    """Endpoints by user-facing name (comma-separated or a list), in catalogue order; None or 'all' = all."""
    if names is None:
        return list(ENDPOINTS)
    if isinstance(names, str):
        names = [n for n in names.split(",")]
    wanted = {n.strip() for n in names if n.strip()}
    if not wanted or wanted == {"all"}:
        return list(ENDPOINTS)
    unknown = sorted(wanted - BY_NAME.keys())
    if unknown:
        raise ValueError(
            f"unknown endpoint {', '.join(unknown)}: choose from {','.join(BY_NAME)}"
        )
    return [e for e in ENDPOINTS if e.name in wanted]
