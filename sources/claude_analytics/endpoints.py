"""The endpoint catalogue: one entry per API endpoint drives its resource, table, keys and columns.

Adding an endpoint is an entry here, not new code: its `kind` says how a unit of days is asked for and
where the rows are in an answer (`queries.py`), its fields say what the table holds. This module knows
nothing of HTTP or dlt: column types are dlt's type names as plain strings, so the catalogue also feeds
the data dictionary.

Kinds:
- `day`: one request chain per UTC day (`?date=D&limit=…`, paginated on `next_page` alone);
- `summary`: windows of at most 31 days (`?starting_date&ending_date`, end exclusive), rows name their day;
- `bucket_report`: RFC 3339 windows of at most 31 days of daily buckets, `limit` counts buckets, each
  bucket capped at the top 100 groups (a capped day is fetched again at a finer width);
- `user_report`: one day per unit (`bucket_width=1d`), `limit` counts rows, one row per user and group.

Families: the engagement endpoints (`day`, `summary`) share a calendar (history and freshness learnt
from the API); the cost & usage reports (`*_report`) have their own (365 days back, complete days through
yesterday, revised for about 30 days).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .naming import column_name

Kind = Literal["day", "summary", "bucket_report", "user_report"]
Family = Literal["engagement", "cost"]
REPORT_KINDS = ("bucket_report", "user_report")


@dataclass(frozen=True)
class Field:
    """A field the API is documented to send, by its path in the JSON row."""

    path: tuple[str, ...]
    data_type: str  # dlt type name: bigint, double, text, date, timestamp, bool, decimal
    description: str
    money_in_cents: bool = False  # decimal string in cents; loaded as DECIMAL in currency units
    column: str | None = None  # the column's name when the naming rule's would not do
    personal: bool = False  # identifies a person (id, email, name): keyed-hashed when pseudonymizing

    @property
    def name(self) -> str:
        return self.column or column_name(self.path)


@dataclass(frozen=True)
class Endpoint:
    name: str  # the name users pass to --endpoints
    path: str  # relative to the base URL
    table: str
    entity_key: tuple[str, ...]  # column names after naming; with `date` first, the row's logical key
    description: str
    kind: Kind = "day"
    max_window_days: int = 1
    group_by: tuple[str, ...] = ()  # group_by[] of the report kinds
    fields: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return ("date", *self.entity_key)

    @property
    def family(self) -> Family:
        return "cost" if self.kind in REPORT_KINDS else "engagement"

    @property
    def nullable_key(self) -> bool:
        """Report dimensions are NULL for unattributed traffic: such a row is a group of its own."""
        return self.kind in REPORT_KINDS

    @property
    def columns(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def renamed(self) -> dict[tuple[str, ...], str]:
        """JSON paths whose column is named by the catalogue, not by the rule."""
        return {f.path: f.column for f in self.fields if f.column}


def _f(path: str, data_type: str, description: str, **kw: object) -> Field:
    return Field(tuple(path.split(".")), data_type, description, **kw)  # type: ignore[arg-type]


def _counts(prefix: str, names: str, what: str) -> list[Field]:
    return [_f(f"{prefix}.{n}", "bigint", f"{what}: {n.replace('_', ' ')}") for n in names.split()]


_OFFICE_COUNTERS = (
    "distinct_session_count message_count skills_used_count distinct_skills_used_count "
    "connectors_used_count distinct_connectors_used_count"
)

USER_FIELDS: tuple[Field, ...] = (
    _f("user.id", "text", "Tagged user id (user_…); with date, the row's key", personal=True),
    _f("user.email_address", "text", "The user's email address", personal=True),
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
        _f(
            f"claude_code_metrics.tool_actions.{tool}.{outcome}_count",
            "bigint",
            f"Claude Code: {tool.replace('_', ' ')} suggestions {outcome}",
        )
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

_PRODUCTS = {
    "": "",
    "cowork_": "Cowork",
    "chat_": "chat",
    "claude_code_": "Claude Code",
    "claude_design_": "Claude Design",
    "office_agent_": "the Office agent",
    "science_": "Claude for Science",
    "chat_cowork_unified_": "chat and Cowork combined",
}
_SPANS = {"daily": "the day", "weekly": "the 7 days", "monthly": "the 30 days"}

SUMMARY_FIELDS: tuple[Field, ...] = (
    *[
        _f(
            f"{prefix}{period}_active_user_count",
            "bigint",
            f"Distinct active users{' of ' + product if product else ''} over {span} ending on the date",
        )
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
    _f("created_by.id", "text", "Creator's user id", personal=True),
    _f("created_by.email_address", "text", "Creator's email address", personal=True),
)

_OFFICE_PRODUCTS = ("excel", "powerpoint")


def _usage_fields(kind: str) -> list[Field]:
    """The per-product breakdown skills and connectors share."""
    return [
        _f("distinct_user_count", "bigint", f"Distinct users of the {kind} on the date"),
        _f(
            f"chat_metrics.distinct_conversation_{kind}_used_count",
            "bigint",
            f"Chat conversations that used the {kind}",
        ),
        _f(
            f"claude_code_metrics.distinct_session_{kind}_used_count",
            "bigint",
            f"Claude Code sessions that used the {kind}",
        ),
        _f(f"cowork_metrics.distinct_session_{kind}_used_count", "bigint", f"Cowork sessions that used the {kind}"),
        *[
            _f(
                f"office_metrics.{p}.distinct_session_{kind}_used_count",
                "bigint",
                f"Claude in {p.title()} sessions that used the {kind}",
            )
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
    _f(
        "estimated_overage_spend",
        "decimal",
        "Estimated overage spend in currency units (API cents ÷ 100)",
        money_in_cents=True,
    ),
    _f(
        "attributed_list_price",
        "decimal",
        "Attributed list price in currency units (API cents ÷ 100)",
        money_in_cents=True,
    ),
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

PLUGIN_FIELDS: tuple[Field, ...] = (
    _f("plugin_name", "text", "Plugin name (`third-party` aggregates unnamed plugins); with date, the row's key"),
    _f("plugin_id", "text", "Plugin id, e.g. serena@claude-plugins-official (NULL for `third-party`)"),
    _f("install_count", "bigint", "Installs of the plugin on the date"),
    _f("invocation_count", "bigint", "Invocations of the plugin on the date"),
    _f("distinct_user_count", "bigint", "Distinct users of the plugin on the date"),
    _f("claude_code_metrics.distinct_session_plugin_used_count", "bigint", "Claude Code sessions that used the plugin"),
    _f("cowork_metrics.distinct_session_plugin_used_count", "bigint", "Cowork sessions that used the plugin"),
)

ARTIFACT_FIELDS: tuple[Field, ...] = (
    _f("artifact_type", "text", "Artifact type: a MIME type, or `other`; with date and is_shared, the row's key"),
    _f("is_shared", "bool", "Whether the artifacts were shared"),
    _f("artifacts_created_count", "bigint", "Artifacts created on the date"),
    _f("published_artifacts_created_count", "bigint", "Published artifacts created on the date"),
    _f("distinct_user_count", "bigint", "Distinct users who created such artifacts on the date"),
)

_DIMENSIONS: tuple[Field, ...] = (
    _f(
        "product",
        "text",
        "Product (chat, claude_code, cowork, office_agent, claude_in_chrome, claude_design, "
        "claude_tag, other); NULL for traffic not attributed to a product",
    ),
    _f("model", "text", "Model"),
    _f("context_window", "text", "Context window (0-200k, 200k-1M); NULL unless grouped by it"),
    _f("inference_geo", "text", "Inference geography (global, us); NULL unless grouped by it"),
    _f("speed", "text", "Speed (fast, standard); NULL unless grouped by it"),
)
_COST_DIMENSIONS: tuple[Field, ...] = (
    _f("cost_type", "text", "Cost type: tokens, web_search, code_execution"),
    _f(
        "token_type",
        "text",
        "Token type (uncached_input_tokens, output_tokens, cache_read_input_tokens, "
        "cache_creation.ephemeral_5m_input_tokens, cache_creation.ephemeral_1h_input_tokens); NULL unless the cost "
        "type is tokens",
    ),
)
_TOKENS: tuple[Field, ...] = (
    _f("uncached_input_tokens", "bigint", "Input tokens not read from the cache"),
    _f("cache_creation.ephemeral_5m_input_tokens", "bigint", "Input tokens written to the 5-minute cache"),
    _f("cache_creation.ephemeral_1h_input_tokens", "bigint", "Input tokens written to the 1-hour cache"),
    _f("cache_read_input_tokens", "bigint", "Input tokens read from the cache"),
    _f("output_tokens", "bigint", "Output tokens"),
)
_TOOLS_AND_REQUESTS: tuple[Field, ...] = (
    _f("server_tool_use.web_search_requests", "bigint", "Web search requests"),
    _f("requests", "bigint", "Requests"),
)
_MONEY: tuple[Field, ...] = (
    _f("currency", "text", "Currency of the money columns (USD)"),
    _f(
        "amount",
        "decimal",
        "Cost in US dollars after negotiated discounts, before credits (API cents ÷ 100, exact)",
        money_in_cents=True,
    ),
    _f("list_amount", "decimal", "Cost at list price in US dollars (API cents ÷ 100, exact)", money_in_cents=True),
    _f("requests", "bigint", "Requests (NULL when grouped by cost type or token type)"),
)
_ENVELOPE: tuple[Field, ...] = (
    _f("data_refreshed_at", "timestamp", "When the API last refreshed this report's data (UTC)"),
    _f("organization_id", "text", "The organization the report describes"),
)
_ACTOR: tuple[Field, ...] = (
    _f(
        "actor.user_id",
        "text",
        "User id (user_…) of the person the usage is attributed to",
        column="user_id",
        personal=True,
    ),
    _f(
        "actor.email_address",
        "text",
        "Their email address (the deprecated actor.email where that is all the API "
        "sends); NULL for deleted accounts and service accounts",
        column="user_email",
        personal=True,
    ),
    _f(
        "actor.name",
        "text",
        "Their name; `Deleted User` or NULL for removed accounts",
        column="user_name",
        personal=True,
    ),
    _f("actor.deleted", "bool", "Whether the account was removed or deleted", column="user_deleted"),
    _f("actor.type", "text", "Kind of actor (user_actor)", column="actor_type"),
)

USAGE_REPORT_FIELDS = (*_DIMENSIONS, *_TOKENS, *_TOOLS_AND_REQUESTS, *_ENVELOPE)
COST_REPORT_FIELDS = (*_DIMENSIONS, *_COST_DIMENSIONS, *_MONEY, *_ENVELOPE)
USER_USAGE_REPORT_FIELDS = (
    *_ACTOR,
    *_DIMENSIONS,
    *_TOKENS,
    _f("total_tokens", "bigint", "All tokens: uncached input, cache creation, cache reads and output"),
    *_TOOLS_AND_REQUESTS,
    *_ENVELOPE,
)
USER_COST_REPORT_FIELDS = (*_ACTOR, *_DIMENSIONS, *_COST_DIMENSIONS, *_MONEY, *_ENVELOPE)

_REPORT = dict(max_window_days=31)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "users",
        "/users",
        "user_activity",
        ("user_id",),
        "Per-user activity for one UTC day: one row per active user",
        fields=USER_FIELDS,
    ),
    Endpoint(
        "summaries",
        "/summaries",
        "activity_summary",
        (),
        "Organization-wide active users, seats and adoption per UTC day: one row per day",
        kind="summary",
        max_window_days=31,
        fields=SUMMARY_FIELDS,
    ),
    Endpoint(
        "chat_projects",
        "/apps/chat/projects",
        "chat_project_usage",
        ("project_id",),
        "Chat project usage per UTC day: one row per project used that day",
        fields=PROJECT_FIELDS,
    ),
    Endpoint(
        "skills",
        "/skills",
        "skill_usage",
        ("skill_name",),
        "Skill usage per UTC day: one row per skill used that day",
        fields=SKILL_FIELDS,
    ),
    Endpoint(
        "connectors",
        "/connectors",
        "connector_usage",
        ("connector_name",),
        "Connector (MCP) usage per UTC day: one row per connector used that day",
        fields=CONNECTOR_FIELDS,
    ),
    Endpoint(
        "plugins",
        "/plugins",
        "plugin_usage",
        ("plugin_name",),
        "Plugin usage per UTC day: one row per plugin used that day",
        fields=PLUGIN_FIELDS,
    ),
    Endpoint(
        "artifacts",
        "/artifacts",
        "artifact_activity",
        ("artifact_type", "is_shared"),
        "Artifact creation per UTC day: one row per artifact type and shared flag",
        fields=ARTIFACT_FIELDS,
    ),
    Endpoint(
        "usage_report",
        "/usage_report",
        "usage_report",
        ("product", "model"),
        "Organization-wide token usage per UTC day, product and model (API keys and automation included)",
        kind="bucket_report",
        group_by=("product", "model"),
        fields=USAGE_REPORT_FIELDS,
        **_REPORT,
    ),
    Endpoint(
        "cost_report",
        "/cost_report",
        "cost_report",
        ("product", "model", "cost_type", "token_type"),
        "Organization-wide cost per UTC day, product, model, cost type and token type",
        kind="bucket_report",
        group_by=("product", "model", "cost_type", "token_type"),
        fields=COST_REPORT_FIELDS,
        **_REPORT,
    ),
    Endpoint(
        "user_usage_report",
        "/user_usage_report",
        "user_usage_report",
        ("user_id", "product", "model"),
        "Token usage per UTC day, user, product and model",
        kind="user_report",
        group_by=("product", "model"),
        fields=USER_USAGE_REPORT_FIELDS,
    ),
    Endpoint(
        "user_cost_report",
        "/user_cost_report",
        "user_cost_report",
        ("user_id", "product", "model"),
        "Cost per UTC day, user, product and model",
        kind="user_report",
        group_by=("product", "model"),
        fields=USER_COST_REPORT_FIELDS,
    ),
)

BY_NAME: dict[str, Endpoint] = {e.name: e for e in ENDPOINTS}
BY_TABLE: dict[str, Endpoint] = {e.table: e for e in ENDPOINTS}
NAMES = ", ".join(BY_NAME)


class UnknownEndpoint(ValueError):
    """An endpoint name that is not in the catalogue; the message lists the choices."""


def select(names: str | list[str] | None) -> list[Endpoint]:
    """Endpoints by user-facing name (comma-separated or a list), in catalogue order; None or 'all' = all.

    Raises UnknownEndpoint with a one-line message naming the unknown ones and the choices.
    """
    if isinstance(names, str):
        names = names.split(",")
    wanted = {n.strip() for n in names or [] if n.strip()}
    if not wanted or wanted == {"all"}:
        return list(ENDPOINTS)
    unknown = sorted(wanted - BY_NAME.keys())
    if unknown:
        raise UnknownEndpoint(f"unknown endpoint {', '.join(unknown)}: choose from {','.join(BY_NAME)}")
    return [e for e in ENDPOINTS if e.name in wanted]
