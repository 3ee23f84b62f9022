"""`claude-analytics status`: what the warehouse holds, what is missing, and what is about to be lost.

Reads only the destination — the tables' days and the run log `pipeline_runs` — so it works from any
machine (an ephemeral CI runner, a laptop) and costs no API request.

The days the API serves come from the run log: each run records the edges it learnt (or was pinned to),
and status projects them to today (a learnt lag stays the same lag, a learnt history window keeps its
length; one that reached back to 2026-01-01 does not slide). Pinned settings win.

Per table:
- days loaded: days with rows, plus the days a run covered without rows ("empty": a day with no skill
  used is loaded, just empty): every run row records its earliest day and the cursor
  (`<table>_loaded_through`), and a cursor only moves over days loaded, or listed as missing
  (`days_missing`: the next run fetches them first);
- gaps: days missing between the first and the last loaded day; for `activity_summary`, which has a row
  for every day, a day without its row is a gap even inside a covered range;
- behind: days after the last loaded day up to the latest day the API serves (the next run loads them);
- at risk: days not loaded that leave the API's history within 7 days — lost for good unless loaded
  before then;
- not available: the last run found the endpoint not offered to this organization (a 403/404 on it
  while the key works): not a gap, nothing to do;
- the last successful run that loaded the table.

Exit codes: 0 healthy; 3 attention needed (EXIT_ATTENTION: a table never loaded, gaps, days at risk,
more than `--max-days-behind` days behind, the last run failed, or no run recorded); 2 there is no
warehouse to read, it cannot be read, or the configuration is invalid.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from sources.claude_analytics import days
from sources.claude_analytics.calendar import COST_HISTORY_DAYS
from sources.claude_analytics.days import Edges, day_range, describe, earliest_day
from sources.claude_analytics.endpoints import Endpoint, select
from sources.claude_analytics.settings import ClaudeAnalyticsSettings

from .destinations import Target
from .errors import EXIT_ATTENTION, EXIT_OK
from .runlog import RUN_LOG_TABLE
from .warehouse import Warehouse, read_only

RISK_HORIZON_DAYS = 7
DEFAULT_MAX_DAYS_BEHIND = 1
_MISSING = re.compile(r"(\w+) ([0-9., -]+)")


@dataclass
class TableStatus:
    table: str
    endpoint: str
    exists: bool = False
    available: bool = True
    unavailable_reason: str | None = None
    rows: int = 0
    days_with_rows: int = 0
    days_loaded: int = 0
    empty_days: int = 0  # loaded days without rows
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    gaps: list[dt.date] = field(default_factory=list)
    days_behind: int = 0
    at_risk: list[dt.date] = field(default_factory=list)
    last_loaded_at: dt.datetime | None = None
    last_loaded_by: str | None = None


@dataclass
class Status:
    destination: str
    dataset_name: str
    today: dt.date
    edges: dict[str, Edges]
    tables: list[TableStatus]
    last_run: dict[str, Any] | None = None
    last_successful_run: dict[str, Any] | None = None
    runs_recorded: int = 0
    attention: list[str] = field(default_factory=list)

    @property
    def earliest_available_day(self) -> dt.date:
        return self.edges["engagement"].earliest

    @property
    def latest_available_day(self) -> dt.date:
        return self.edges["engagement"].latest

    @property
    def exit_code(self) -> int:
        return EXIT_ATTENTION if self.attention else EXIT_OK

    def to_json(self) -> str:
        data = asdict(self)
        data["earliest_available_day"] = self.earliest_available_day
        data["latest_available_day"] = self.latest_available_day
        data["exit_code"] = self.exit_code
        return json.dumps(data, default=str, indent=2)


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def ranges(days: list[dt.date]) -> str:
    return describe(days)


def _sorted_runs(runs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return sorted(
        runs or [],
        key=lambda r: (
            _as_datetime(r.get("finished_at") or r.get("started_at")) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        ),
    )


def served_days(
    settings: ClaudeAnalyticsSettings, runs: list[dict[str, Any]] | None, today: dt.date
) -> dict[str, Edges]:
    """The days the API serves today per family, from pinned settings or the newest runs' learnt edges."""
    runs = [r for r in _sorted_runs(runs) if r.get("latest_available_day")]
    newest = runs[-1] if runs else None
    lag = settings.lag_days
    if lag is None and newest is not None:
        run_day = _as_date(newest.get("finished_at") or newest.get("started_at")) or today
        lag = (run_day - _as_date(newest["latest_available_day"])).days  # type: ignore[operator]
    latest = today - dt.timedelta(days=1 if lag is None else lag)
    start = settings.start_day()
    history = settings.pinned_history_days
    if history is None and newest is not None and newest.get("history_days"):
        history = int(newest["history_days"])
    engagement = Edges(earliest_day(today, history, start), latest, history)
    cost = Edges(earliest_day(today, COST_HISTORY_DAYS, start), today - dt.timedelta(days=1), COST_HISTORY_DAYS)
    return {"engagement": engagement, "cost": cost}


def missing_days(run: dict[str, Any] | None, table: str) -> set[dt.date]:
    """Days ≤ the cursor the run left missing (retried first by the next run), from `days_missing`."""
    text = (run or {}).get("days_missing") or ""
    found: set[dt.date] = set()
    for part in text.split(";"):
        match = _MISSING.match(part.strip())
        if match and match.group(1) == table:
            for piece in match.group(2).split(","):
                first, _, last = piece.strip().partition("..")
                found.update(day_range(dt.date.fromisoformat(first), dt.date.fromisoformat(last or first)))
    return found


def assess(
    endpoints: list[Endpoint],
    *,
    today: dt.date,
    edges: dict[str, Edges],
    day_rows: dict[str, dict[dt.date, int] | None],
    runs: list[dict[str, Any]] | None,
    max_days_behind: int = DEFAULT_MAX_DAYS_BEHIND,
    destination: str = "",
    dataset_name: str = "",
) -> Status:
    """The status from what the warehouse holds (pure: tests feed it directly).

    `day_rows[table]` maps each day with rows to its row count (None: the table does not exist); `runs` are
    the run log's rows (None: no run log).
    """
    runs = _sorted_runs(runs)
    status = Status(destination, dataset_name, today, edges, [], runs_recorded=len(runs))
    if runs:
        status.last_run = _run_summary(runs[-1])
        succeeded = [r for r in runs if r.get("outcome") == "succeeded"]
        status.last_successful_run = _run_summary(succeeded[-1]) if succeeded else None
    for endpoint in endpoints:
        t = _table_status(endpoint, today, edges[endpoint.family], day_rows.get(endpoint.table), runs)
        status.tables.append(t)
        _attention(status, t, edges[endpoint.family], max_days_behind)
    if not runs:
        status.attention.append(f"no run recorded in {RUN_LOG_TABLE}: run `claude-analytics run`")
    elif status.last_run and status.last_run["outcome"] != "succeeded":
        status.attention.append(
            f"the last run ({status.last_run['command']}, finished "
            f"{status.last_run['finished_at']}) {status.last_run['outcome']}: "
            f"{status.last_run.get('error') or 'see its log'}"
        )
    return status


def _table_status(
    endpoint: Endpoint, today: dt.date, edges: Edges, counts: dict[dt.date, int] | None, runs: list[dict[str, Any]]
) -> TableStatus:
    t = TableStatus(endpoint.table, endpoint.name, exists=counts is not None)
    reason = runs[-1].get(f"{endpoint.table}_unavailable") if runs else None
    if reason:
        t.available, t.unavailable_reason = False, str(reason)
    counts = counts or {}
    t.rows, t.days_with_rows = sum(counts.values()), len(counts)
    covered: set[dt.date] = set()
    earliest_key = "cost_earliest_day" if endpoint.family == "cost" else "earliest_day"
    for run in runs:  # days a run covered: from its earliest day through its cursor for this table
        start, through = _as_date(run.get(earliest_key)), _as_date(run.get(f"{endpoint.table}_loaded_through"))
        if start and through and t.exists:
            covered.update(day_range(start, through))
    covered -= missing_days(runs[-1] if runs else None, endpoint.table)
    every_day_has_a_row = not endpoint.entity_key  # activity_summary
    loaded = set(counts) if every_day_has_a_row else set(counts) | covered
    if loaded or covered:
        t.first_day, t.last_day = min(loaded | covered), max(loaded | covered)
        t.gaps = [d for d in day_range(t.first_day, t.last_day) if d not in loaded]
    t.days_loaded = len(loaded)
    t.empty_days = len(loaded - set(counts))
    t.days_behind = max(0, (edges.latest - t.last_day).days if t.last_day else (edges.latest - edges.earliest).days + 1)
    t.at_risk = [d for d in edges.leaving_by(today + dt.timedelta(days=RISK_HORIZON_DAYS)) if d not in loaded]
    for run in reversed(runs):
        if run.get("outcome") == "succeeded" and (run.get(f"{endpoint.table}_days") or 0) > 0:
            t.last_loaded_at = _as_datetime(run.get("finished_at"))
            t.last_loaded_by = run.get("command")
            break
    return t


def _attention(status: Status, t: TableStatus, edges: Edges, max_days_behind: int) -> None:
    if not t.available:
        return  # not offered to this organization: nothing is missing
    if not t.exists or not t.days_loaded:
        status.attention.append(f"{t.table}: nothing loaded yet")
    if t.gaps:
        status.attention.append(
            f"{t.table}: {len(t.gaps)} day(s) missing: {ranges(t.gaps)} — load them with "
            f"`claude-analytics backfill --endpoints {t.endpoint} --start-date "
            f"{min(t.gaps)} --end-date {max(t.gaps)}`"
        )
    if t.at_risk:
        status.attention.append(
            f"{t.table}: {len(t.at_risk)} unloaded day(s) leave the API's history within "
            f"{RISK_HORIZON_DAYS} days and are then lost for good: {ranges(t.at_risk)} — run "
            f"`claude-analytics backfill --endpoints {t.endpoint} --start-date "
            f"{min(t.at_risk)} --end-date {max(t.at_risk)}` now"
        )
    if t.exists and t.days_loaded and t.days_behind > max_days_behind:
        status.attention.append(
            f"{t.table}: {t.days_behind} day(s) behind the latest available day "
            f"{edges.latest} (more than {max_days_behind}): is the nightly run scheduled and "
            "succeeding?"
        )


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    return {
        k: run.get(k)
        for k in (
            "command",
            "started_at",
            "finished_at",
            "outcome",
            "error",
            "requests",
            "rate_limited",
            "retries",
            "days_behind",
        )
    }


def read_status(
    warehouse: Warehouse,
    endpoints: list[Endpoint],
    settings: ClaudeAnalyticsSettings,
    *,
    today: dt.date | None = None,
    max_days_behind: int = DEFAULT_MAX_DAYS_BEHIND,
) -> Status:
    today = today or days.utc_today()
    day_rows: dict[str, dict[dt.date, int] | None] = {}
    date = warehouse.column("date")
    for endpoint in endpoints:
        if not warehouse.exists(endpoint.table):
            day_rows[endpoint.table] = None
            continue
        rows = warehouse.query(
            f"SELECT {date} AS day, COUNT(*) AS n FROM {warehouse.table(endpoint.table)} GROUP BY {date}"
        )
        day_rows[endpoint.table] = {_as_date(r["day"]): int(r["n"]) for r in rows}  # type: ignore[misc]
    runs = (
        warehouse.query(f"SELECT * FROM {warehouse.table(RUN_LOG_TABLE)}") if warehouse.exists(RUN_LOG_TABLE) else None
    )
    return assess(
        endpoints,
        today=today,
        edges=served_days(settings, runs, today),
        day_rows=day_rows,
        runs=runs,
        max_days_behind=max_days_behind,
        destination=warehouse.destination,
        dataset_name=warehouse.dataset_name,
    )


def _when(value: Any) -> str:
    stamp = _as_datetime(value)
    return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if stamp else "-"


def format_status(status: Status) -> str:
    e, c = status.edges["engagement"], status.edges["cost"]
    lines = [
        f"status of {status.destination} dataset {status.dataset_name}: today {status.today} (UTC); the API "
        f"serves {e.earliest} .. {e.latest} (engagement) and {c.earliest} .. {c.latest} (cost & usage reports)"
    ]
    run, ok = status.last_run, status.last_successful_run
    if run:
        lines.append(
            f"last run: {run['command']} {run['outcome']} at {_when(run['finished_at'])}"
            + (f" — {run['error']}" if run.get("error") else "")
        )
        lines.append(
            f"last successful run: {ok['command']} at {_when(ok['finished_at'])}" if ok else "last successful run: none"
        )
    else:
        lines.append(f"runs: none recorded ({RUN_LOG_TABLE} is empty or missing)")
    lines.append("")
    lines.append(
        f"{'table':<20} {'days':>5} {'empty':>5} {'rows':>9}  {'first day':<10}  {'last day':<10}  "
        f"{'gaps':>4}  {'behind':>6}  {'at risk':>7}  last loaded"
    )
    for t in status.tables:
        if not t.available:
            lines.append(f"{t.table:<20} {t.unavailable_reason}")
            continue
        if not t.exists:
            lines.append(f"{t.table:<20} {'-':>5} {'-':>9}  {'not loaded':<10}")
            continue
        lines.append(
            f"{t.table:<20} {t.days_loaded:>5} {t.empty_days:>5} {t.rows:>9}  {str(t.first_day or '-'):<10}  "
            f"{str(t.last_day or '-'):<10}  {len(t.gaps):>4}  {t.days_behind:>6}  {len(t.at_risk):>7}  "
            f"{_when(t.last_loaded_at)}{' (' + t.last_loaded_by + ')' if t.last_loaded_by else ''}"
        )
    lines.append("")
    if status.attention:
        lines.append(f"ATTENTION ({len(status.attention)}): exit code {EXIT_ATTENTION}")
        lines.extend(f"  - {item}" for item in status.attention)
    else:
        lines.append("OK: every table is loaded without gaps through the latest available day, nothing at risk")
    return "\n".join(lines)


def run_status(
    settings: ClaudeAnalyticsSettings,
    target: Target,
    endpoints: str | None,
    *,
    max_days_behind: int = DEFAULT_MAX_DAYS_BEHIND,
    output_format: str = "text",
) -> int:
    chosen = select(endpoints)
    with read_only(target) as warehouse:
        status = read_status(warehouse, chosen, settings, max_days_behind=max_days_behind)
    print(status.to_json() if output_format == "json" else format_status(status))
    return status.exit_code
