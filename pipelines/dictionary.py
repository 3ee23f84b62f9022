"""The data dictionary, `docs/data-dictionary.md`, generated from the endpoint catalogue, the run log's
columns and the BI views' SQL files — never edited by hand.

    python -m pipelines.dictionary          # rewrite docs/data-dictionary.md
    python -m pipelines.dictionary --check  # exit 1 when the committed file is stale (the tests do this)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sources.claude_analytics.endpoints import ENDPOINTS, Endpoint
from sources.claude_analytics.org_chart import KEYS as ORG_CHART_KEYS
from sources.claude_analytics.org_chart import TABLE as ORG_CHART_TABLE

from .runlog import COLUMNS as RUN_LOG_COLUMNS
from .runlog import RUN_LOG_TABLE
from .views import load_views

DICTIONARY_PATH = Path(__file__).resolve().parent.parent / "docs" / "data-dictionary.md"

# dlt type → the SQL type dlt creates on each destination (checked on DuckDB and Postgres by the tests)
SQL_TYPES: dict[str, tuple[str, str, str, str]] = {
    "bigint": ("BIGINT", "bigint", "INT64", "NUMBER(19,0)"),
    "double": ("DOUBLE", "double precision", "FLOAT64", "FLOAT"),
    "decimal": ("DECIMAL(38,9)", "numeric(38,9)", "NUMERIC(38,9)", "NUMBER(38,9)"),
    "text": ("VARCHAR", "character varying", "STRING", "VARCHAR"),
    "date": ("DATE", "date", "DATE", "DATE"),
    "timestamp": ("TIMESTAMP WITH TIME ZONE", "timestamp with time zone", "TIMESTAMP", "TIMESTAMP_LTZ"),
    "bool": ("BOOLEAN", "boolean", "BOOL", "BOOLEAN"),
}

RUN_LOG_DESCRIPTIONS: dict[str, str] = {
    "run_id": "Unique id of the run (random hex); the table's key",
    "command": "`run` (nightly, incremental) or `backfill` (explicit range)",
    "destination": "Destination the run loaded into",
    "started_at": "When the run started (UTC)",
    "finished_at": "When the run ended (UTC), whatever the outcome",
    "outcome": "`succeeded` or `failed` (a run rejected before loading — bad key or usage — is not recorded)",
    "error": "Why the run failed (one line, the API key redacted); NULL when it succeeded",
    "earliest_day": "Engagement endpoints: the earliest day the API served on the run's day (learnt from the API, "
    "or max(2026-01-01, today − history_days, start_date) when pinned)",
    "latest_available_day": "Engagement endpoints: the latest day the API served on the run's day (learnt from "
    "the API; at most today − availability_lag_days when that is pinned)",
    "cost_earliest_day": "Cost & usage reports: the earliest day requested (365 days back at most, never before "
    "2026-01-01 or start_date)",
    "cost_latest_day": "Cost & usage reports: the latest complete UTC day (yesterday)",
    "edges_learnt": "Which edges of the engagement history this run learnt from the API's answers (`latest`, "
    "`earliest`, comma-separated); NULL when both were pinned by configuration",
    "history_days": "The engagement history window in days: the run's day − the earliest day the API serves "
    "(learnt, or history_days when pinned); NULL while the API serves everything back to 2026-01-01",
    "days_behind": "Days between the least advanced table's cursor and latest_available_day after the run "
    "(0 = fully caught up; NULL when a table has no cursor yet)",
    "planned_units": "Request units planned (a day of one endpoint, or a window of up to 31 days of summaries or of "
    "a bucketed report)",
    "units_loaded": "Request units committed to the destination",
    "requests": "HTTP requests made to the API, retries included",
    "retries": "Requests retried after a transient failure (5xx, timeout, dropped connection, expired cursor)",
    "rate_limited": "HTTP 429 answers received (each one waited out and retried)",
    "cursor_restarts": "Request chains restarted from their first page because the API's page cursor expired",
    "chunks": "Load packages committed (each one carries rows and cursors together)",
    "days_failed": "Days this run could not load, per table (`<table> <days>; …`: the page cursor kept expiring); "
    "NULL when none",
    "days_missing": "Days still missing after the run, per table (`<table> <days>; …`): the next run fetches them "
    "first; NULL when none",
    **{f"{e.table}_days": f"Days of `{e.table}` loaded by this run" for e in ENDPOINTS},
    **{f"{e.table}_rows": f"Rows of `{e.table}` loaded by this run" for e in ENDPOINTS},
    **{
        f"{e.table}_loaded_through": f"The `{e.table}` cursor after the run: every day from the first load "
        "through this day is loaded"
        for e in ENDPOINTS
    },
    **{
        f"{e.table}_unavailable": f"Why `{e.table}` is not available to this organization (the API answered 403 or "
        "404 on its endpoint alone, e.g. cost reports on a seat-based plan); NULL when it is"
        for e in ENDPOINTS
    },
}

DLT_COLUMNS = (
    ("_dlt_load_id", "text", "Id of the load package that wrote the row (see `_dlt_loads`)"),
    ("_dlt_id", "text", "Unique row id assigned by dlt"),
)

# what one value of a key column is, in "one row per"
_GRAIN_WORDS = {"is_shared": "shared flag"}

_REQUESTS = {
    "day": "one request chain per day (`date=D`, paginated on `next_page`)",
    "summary": "requested in windows of up to {window} days (`starting_date`, exclusive `ending_date`)",
    "bucket_report": "daily buckets (`bucket_width=1d`) requested in windows of up to {window} days, grouped by "
    "{group_by}; a day whose bucket reports the API's cap of 100 groups is fetched again by the hour "
    "(a capped hour by the minute) and summed back per group, so no group is lost",
    "user_report": "one request chain per day (`bucket_width=1d`, paginated on `next_page`), grouped by {group_by}",
}

_DATE_SOURCE = {
    "day": "(the requested day)",
    "summary": "(the row's own day)",
    "bucket_report": "(the bucket's `starting_at`, as a UTC date)",
    "user_report": "(the row's `starting_at`, as a UTC date)",
}

_CALENDARS = {
    "engagement": "Engagement calendar: the newest and the earliest day the API serves are learnt from its answers; "
    "the last `lookback_days` days are re-fetched on every run.",
    "cost": "Cost & usage calendar: up to 365 days back (never before 2026-01-01), complete UTC days through "
    "yesterday; the last `cost_lookback_days` (default 30) days are re-fetched on every run, because the "
    "API revises them.",
}


def _type_legend() -> list[str]:
    lines = ["| type | DuckDB | PostgreSQL | BigQuery | Snowflake |", "|---|---|---|---|---|"]
    for name, sql in SQL_TYPES.items():
        lines.append(f"| `{name}` | {' | '.join(f'`{s}`' for s in sql)} |")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _codes(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _grain(e: Endpoint) -> str:
    words = [_GRAIN_WORDS.get(k, k.removesuffix("_id").removesuffix("_name").replace("_", " ")) for k in e.entity_key]
    return " × ".join(["day", *words])


def _key_cell(e: Endpoint) -> str:
    if e.nullable_key:
        return f"{_codes(e.primary_key)} (logical: NULLs allowed, no primary key)"
    return _codes(e.primary_key)


def _intro() -> list[str]:
    return [
        "# Data dictionary",
        "",
        "<!-- Generated by `python -m pipelines.dictionary` from the endpoint catalogue "
        "(sources/claude_analytics/endpoints.py), the run log (pipelines/runlog.py) and the views "
        "(pipelines/views/*.sql). Do not edit by hand: a test fails when this file is stale. -->",
        "",
        "Every table and view that `claude-analytics` writes to the dataset (default `claude_analytics`), with "
        "each column's type and meaning. Names are identical on every destination (upper case on Snowflake, "
        "which folds unquoted names).",
        "",
        "- **NULL** means the API sent null or nothing for that day: feature-gated counters are NULL, never 0. In "
        "the cost & usage reports a NULL dimension (`product`, `model`, …) is traffic the API does not attribute "
        "(API keys): a group of its own, not a missing value.",
        "- **Money** columns (`amount`, `list_amount`, `estimated_overage_spend`, `attributed_list_price`) are "
        "`decimal` US dollars (currency units), exact: the API's decimal strings in cents ÷ 100, never through a "
        "float.",
        "- **A day is the unit of replacement**: loading a day again replaces every row of that day in that table "
        "(revised values win; entities or groups that vanished upstream are gone).",
        "- A field the API starts sending later becomes a new nullable column on the next run, named by the "
        "same rule (`<x>_metrics` → `<x>`, `core_metrics` dropped, `email_address` → `email`, segments joined "
        "with `_`). A value whose type changes lands in a variant column `<name>__v_<type>`.",
        "- The endpoint tables and `org_chart` carry no dlt bookkeeping columns (rows are loaded as Arrow tables); "
        "`_dlt_loads` records every load.",
        "- With `pseudonymize = true`, every user id, email and name (here and in `org_chart`) is a keyed hash "
        "(`p_` + 32 hex digits): the same person has the same value in every table, so joins keep working.",
        "",
        "## Types",
        "",
        "Column types below are dlt type names; each destination stores them as:",
        "",
        *_type_legend(),
    ]


def _table_index() -> list[str]:
    out = ["", "## Tables", "", "| table | endpoint | one row per | key |", "|---|---|---|---|"]
    for e in ENDPOINTS:
        out.append(f"| [`{e.table}`](#{e.table}) | `{e.path}` | {_grain(e)} | {_key_cell(e)} |")
    out.append(
        f"| [`{ORG_CHART_TABLE}`](#{ORG_CHART_TABLE}) | (the `org_chart_path` file) | person | "
        f"{' and/or '.join(f'`{k}`' for k in ORG_CHART_KEYS)} |"
    )
    out.append(f"| [`{RUN_LOG_TABLE}`](#{RUN_LOG_TABLE}) | — | run | `run_id` |")
    return out


def _loading(e: Endpoint) -> str:
    requests = _REQUESTS[e.kind].format(window=e.max_window_days, group_by=_codes(e.group_by))
    if e.nullable_key:
        merge = (
            f"Logical key ({', '.join(e.primary_key)}), without a dlt primary key: a NULL dimension "
            "(unattributed traffic) is a group of its own. Loading a day again replaces every row of that day."
        )
    else:
        merge = f"Merged on ({', '.join(e.primary_key)}): loading a day again replaces every row of that day."
    ungrouped = [
        f.name
        for f in e.fields
        if f.path[0] in ("context_window", "inference_geo", "speed", "cost_type", "token_type")
        and f.name not in e.group_by
    ]
    note = f" Not grouped by {_codes(ungrouped)}: those columns are NULL." if e.group_by and ungrouped else ""
    return f"{e.description}. Endpoint `GET {e.path}`, {requests}. {merge}{note} {_CALENDARS[e.family]}"


def _endpoint_table(e: Endpoint) -> list[str]:
    out = [
        "",
        f"### {e.table}",
        "",
        _loading(e),
        "",
        "| column | type | API field | meaning |",
        "|---|---|---|---|",
        f"| `date` | `date` | {_DATE_SOURCE[e.kind]} | The UTC day the row describes |",
    ]
    for f in e.fields:
        out.append(f"| `{f.name}` | `{f.data_type}` | `{'.'.join(f.path)}` | {_cell(f.description)} |")
    return out


def _org_chart_table() -> list[str]:
    return [
        "",
        f"### {ORG_CHART_TABLE}",
        "",
        "The org chart: the CSV or Parquet file named by `org_chart_path`, one row per person, loaded on every run "
        "(with the run's first load package) and replaced whole, so leavers disappear. Checked before anything is "
        "loaded: no key column, a person listed twice or a row without a key stops the run with a message. Its key "
        "is `email` and/or `user_id`, whichever the file has; every other column is an attribute taken from the "
        "file as it is (`department`, `team`, `manager_email`, `cost_center`, `location`, …), named by the same "
        "rule as a header (`Cost Center` → `cost_center`; `email_address`, `mail` → `email`), typed as the file "
        "types it. The org views group by the column named by `org_unit_attribute` (default `department`). With "
        "pseudonymization the key columns and every column holding an email or a person's name are keyed hashes, "
        "equal to the API tables' hashes of the same person.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
        "| `email` | `text` | The person's email address, trimmed and lower-cased (matches the API tables' "
        "`user_email`, compared lower-cased) |",
        "| `user_id` | `text` | The person's API user id (user_…), where the file has one (matches `user_id`) |",
        "| (any other column of the file) | as in the file | An attribute of the person: `department`, `team`, "
        "`manager_email`, `cost_center`, `location`, … |",
    ]


def _run_log_table() -> list[str]:
    out = [
        "",
        f"### {RUN_LOG_TABLE}",
        "",
        "The run log: one row per `run`/`backfill`, appended when the run ends, whatever the outcome. "
        "Read it for alerting and freshness dashboards; `claude-analytics status` does.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    for name, spec in RUN_LOG_COLUMNS.items():
        out.append(f"| `{name}` | `{spec['data_type']}` | {_cell(RUN_LOG_DESCRIPTIONS[name])} |")
    for name, data_type, meaning in DLT_COLUMNS:
        out.append(f"| `{name}` | `{data_type}` | {meaning} |")
    return out


def _views() -> list[str]:
    out = [
        "",
        "## Views",
        "",
        "Created or replaced after every successful `run`/`backfill`, on every destination, from one DuckDB "
        "SQL file each in `pipelines/views/` (transpiled with sqlglot; `python -m pipelines.views --dialect "
        "snowflake` prints what is created). A view whose tables were not loaded (`--endpoints`, a cost report "
        "this organization cannot use, no `org_chart_path`) is skipped. The org views group by the org chart "
        "column named by `org_unit_attribute` and join people on `user_id`, else on the email compared "
        "lower-cased, with the key columns the loaded org chart has.",
        "",
        "| view | shows |",
        "|---|---|",
    ]
    for v in load_views():
        out.append(f"| [`{v.name}`](#{v.name}) | {_cell(v.description.split('. ')[0].rstrip('.'))} |")
    for v in load_views():
        out += [
            "",
            f"### {v.name}",
            "",
            f"{v.description}",
            "",
            f"Reads: {_codes(v.tables)}. Source: `pipelines/views/{v.name[2:]}.sql`.",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        for c in v.columns:
            out.append(f"| `{c.name}` | `{c.data_type}` | {_cell(c.description)} |")
    return out


def _dlt_tables() -> list[str]:
    return [
        "",
        "## dlt's own tables",
        "",
        "| table | holds |",
        "|---|---|",
        "| `_dlt_loads` | One row per load package: its id, schema and when it was loaded |",
        "| `_dlt_pipeline_state` | The pipeline state (per-endpoint cursors), restored from here on an "
        "ephemeral runner |",
        "| `_dlt_version` | The dlt schema versions stored in the dataset |",
        "",
    ]


def generate() -> str:
    out = _intro() + _table_index()
    for e in ENDPOINTS:
        out += _endpoint_table(e)
    out += _org_chart_table() + _run_log_table() + _views() + _dlt_tables()
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.dictionary", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from the generated one")
    parser.add_argument("--output", type=Path, default=DICTIONARY_PATH)
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run `python -m pipelines.dictionary`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
