"""`claude-analytics status`: what the warehouse holds, what is missing, and what is about to be lost.

Reads only the destination — the tables' days and the run log `pipeline_runs` — so it works from any
machine (an ephemeral CI runner, a laptop) and costs no API request.

Per table:
- days loaded: days with rows, plus the days a run covered without rows ("empty": a day with no skill
  used is loaded, just empty): every run row records the earliest day and the cursor
  (`<table>_loaded_through`), and a cursor only moves over days loaded contiguously;
- gaps: days missing between the first and the last loaded day; for `activity_summary`, which has a row
  for every day, a day without its row is a gap even inside a covered range;
- behind: days after the last loaded day up to the latest day the API serves (the next run loads them);
- at risk: days not loaded that leave the API's history window (`history_days`) within 7 days — lost
  for good unless loaded before then;
- the last successful run that loaded the table.

Exit codes: 0 healthy; 3 attention needed (EXIT_ATTENTION: a table never loaded, gaps, days at risk,
more than `--max-days-behind` days behind, the last run failed, or no run recorded); 2 the destination
cannot be read or the configuration is invalid.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sources.claude_analytics import days as day_math
from sources.claude_analytics.endpoints import Endpoint, select
from sources.claude_analytics.settings import ClaudeAnalyticsSettings

from .runlog import RUN_LOG_TABLE
from .runner import UsageError
from .warehouse import Warehouse, open_warehouse

EXIT_OK, EXIT_USAGE, EXIT_ATTENTION = 0, 2, 3
RISK_HORIZON_DAYS = 7
DEFAULT_MAX_DAYS_BEHIND = 1


@dataclass
class TableStatus:
    table: str
    endpoint: str
    exists: bool = False
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
    earliest_available_day: dt.date
    latest_available_day: dt.date
    history_days: int
    tables: list[TableStatus]
    last_run: dict[str, Any] | None = None
    last_successful_run: dict[str, Any] | None = None
    runs_recorded: int = 0
    attention: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_ATTENTION if self.attention else EXIT_OK

    def to_json(self) -> str:
        data = asdict(self)
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
    """2026-03-01..2026-03-03, 2026-03-07 — consecutive days folded."""
    out: list[str] = []
    for day in sorted(days):
        if out and out[-1][1] == day - dt.timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))  # type: ignore[arg-type]
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in out)  # type: ignore[misc]


def assess(endpoints: list[Endpoint], *, today: dt.date, earliest: dt.date, latest: dt.date, history_days: int,
           day_rows: dict[str, dict[dt.date, int] | None], runs: list[dict[str, Any]] | None,
           max_days_behind: int = DEFAULT_MAX_DAYS_BEHIND, destination: str = "", dataset_name: str = ""
           ) -> Status:
    """The status from what the warehouse holds (pure: tests feed it directly).

    `day_rows[table]` maps each day with rows to its row count (None: the table does not exist); `runs` are
    the run log's rows (None: no run log).
    """
    runs = sorted(runs or [], key=lambda r: _as_datetime(r.get("finished_at") or r.get("started_at"))
                  or dt.datetime.min.replace(tzinfo=dt.timezone.utc))
    status = Status(destination, dataset_name, today, earliest, latest, history_days, [], runs_recorded=len(runs))
    if runs:
        status.last_run = _run_summary(runs[-1])
        succeeded = [r for r in runs if r.get("outcome") == "succeeded"]
        status.last_successful_run = _run_summary(succeeded[-1]) if succeeded else None
    risk_before = today - dt.timedelta(days=history_days - RISK_HORIZON_DAYS)  # leaves the window within 7 days
    for endpoint in endpoints:
        t = TableStatus(endpoint.table, endpoint.name)
        counts = day_rows.get(endpoint.table)
        t.exists = counts is not None
        counts = counts or {}
        t.rows = sum(counts.values())
        t.days_with_rows = len(counts)
        covered: set[dt.date] = set()
        for run in runs:  # days a run covered: from its earliest day through its cursor for this table
            start, through = _as_date(run.get("earliest_day")), _as_date(run.get(f"{endpoint.table}_loaded_through"))
            if start and through and t.exists:
                covered.update(day_math.day_range(start, through))
        every_day_has_a_row = not endpoint.entity_key  # activity_summary
        loaded = set(counts) if every_day_has_a_row else set(counts) | covered
        if loaded or covered:
            t.first_day, t.last_day = min(loaded | covered), max(loaded | covered)
            t.gaps = [d for d in day_math.day_range(t.first_day, t.last_day) if d not in loaded]
        t.days_loaded = len(loaded)
        t.empty_days = len(loaded - set(counts))
        t.days_behind = (latest - t.last_day).days if t.last_day else (latest - earliest).days + 1
        t.days_behind = max(0, t.days_behind)
        t.at_risk = [d for d in day_math.day_range(earliest, min(latest, risk_before - dt.timedelta(days=1)))
                     if d not in loaded]
        for run in reversed(runs):
            if run.get("outcome") == "succeeded" and (run.get(f"{endpoint.table}_days") or 0) > 0:
                t.last_loaded_at = _as_datetime(run.get("finished_at"))
                t.last_loaded_by = run.get("command")
                break
        status.tables.append(t)
        _attention(status, t, max_days_behind)
    if not runs:
        status.attention.append(f"no run recorded in {RUN_LOG_TABLE}: run `claude-analytics run`")
    elif status.last_run and status.last_run["outcome"] != "succeeded":
        status.attention.append(f"the last run ({status.last_run['command']}, finished "
                                f"{status.last_run['finished_at']}) {status.last_run['outcome']}: "
                                f"{status.last_run.get('error') or 'see its log'}")
    return status


def _attention(status: Status, t: TableStatus, max_days_behind: int) -> None:
    if not t.exists or not t.days_loaded:
        status.attention.append(f"{t.table}: nothing loaded yet")
    if t.gaps:
        status.attention.append(f"{t.table}: {len(t.gaps)} day(s) missing: {ranges(t.gaps)} — load them with "
                                f"`claude-analytics backfill --endpoints {t.endpoint} --start-date "
                                f"{min(t.gaps)} --end-date {max(t.gaps)}`")
    if t.at_risk:
        status.attention.append(f"{t.table}: {len(t.at_risk)} unloaded day(s) leave the API's history within "
                                f"{RISK_HORIZON_DAYS} days and are then lost for good: {ranges(t.at_risk)} — run "
                                f"`claude-analytics backfill --endpoints {t.endpoint} --start-date "
                                f"{min(t.at_risk)} --end-date {max(t.at_risk)}` now")
    if t.exists and t.days_loaded and t.days_behind > max_days_behind:
        status.attention.append(f"{t.table}: {t.days_behind} day(s) behind the latest available day "
                                f"{status.latest_available_day} (more than {max_days_behind}): is the nightly "
                                "run scheduled and succeeding?")


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    return {k: run.get(k) for k in ("command", "started_at", "finished_at", "outcome", "error", "requests",
                                     "rate_limited", "retries", "days_behind")}


def read_status(warehouse: Warehouse, endpoints: list[Endpoint], settings: ClaudeAnalyticsSettings, *,
                today: dt.date | None = None, max_days_behind: int = DEFAULT_MAX_DAYS_BEHIND) -> Status:
    today = today or day_math.utc_today()
    earliest = day_math.earliest_day(today, settings.history_days, settings.start_day())
    latest = day_math.latest_day(today, settings.availability_lag_days)
    day_rows: dict[str, dict[dt.date, int] | None] = {}
    date = warehouse.column("date")
    for endpoint in endpoints:
        if not warehouse.exists(endpoint.table):
            day_rows[endpoint.table] = None
            continue
        rows = warehouse.query(f"SELECT {date} AS day, COUNT(*) AS n FROM {warehouse.table(endpoint.table)} "
                               f"GROUP BY {date}")
        day_rows[endpoint.table] = {_as_date(r["day"]): int(r["n"]) for r in rows}  # type: ignore[misc]
    runs = warehouse.query(f"SELECT * FROM {warehouse.table(RUN_LOG_TABLE)}") \
        if warehouse.exists(RUN_LOG_TABLE) else None
    return assess(endpoints, today=today, earliest=earliest, latest=latest, history_days=settings.history_days,
                  day_rows=day_rows, runs=runs, max_days_behind=max_days_behind,
                  destination=warehouse.destination, dataset_name=warehouse.dataset_name)


def _when(value: Any) -> str:
    stamp = _as_datetime(value)
    return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if stamp else "-"


def format_status(status: Status) -> str:
    lines = [f"status of {status.destination} dataset {status.dataset_name}: today {status.today} (UTC); the API "
             f"serves {status.earliest_available_day} .. {status.latest_available_day} "
             f"(history {status.history_days} days)"]
    run, ok = status.last_run, status.last_successful_run
    if run:
        lines.append(f"last run: {run['command']} {run['outcome']} at {_when(run['finished_at'])}"
                     + (f" — {run['error']}" if run.get("error") else ""))
        lines.append(f"last successful run: {ok['command']} at {_when(ok['finished_at'])}" if ok
                     else "last successful run: none")
    else:
        lines.append(f"runs: none recorded ({RUN_LOG_TABLE} is empty or missing)")
    lines.append("")
    lines.append(f"{'table':<20} {'days':>5} {'empty':>5} {'rows':>9}  {'first day':<10}  {'last day':<10}  "
                 f"{'gaps':>4}  {'behind':>6}  {'at risk':>7}  last loaded")
    for t in status.tables:
        if not t.exists:
            lines.append(f"{t.table:<20} {'-':>5} {'-':>9}  {'not loaded':<10}")
            continue
        lines.append(f"{t.table:<20} {t.days_loaded:>5} {t.empty_days:>5} {t.rows:>9}  {str(t.first_day or '-'):<10}  "
                     f"{str(t.last_day or '-'):<10}  {len(t.gaps):>4}  {t.days_behind:>6}  {len(t.at_risk):>7}  "
                     f"{_when(t.last_loaded_at)}{' (' + t.last_loaded_by + ')' if t.last_loaded_by else ''}")
    lines.append("")
    if status.attention:
        lines.append(f"ATTENTION ({len(status.attention)}): exit code {EXIT_ATTENTION}")
        lines.extend(f"  - {item}" for item in status.attention)
    else:
        lines.append("OK: every table is loaded without gaps through the latest available day, nothing at risk")
    return "\n".join(lines)


def run_status(settings: ClaudeAnalyticsSettings, destination: str, dataset_name: str, endpoints: str | None,
               *, duckdb_file: str | None = None, max_days_behind: int = DEFAULT_MAX_DAYS_BEHIND,
               output_format: str = "text", today: dt.date | None = None) -> int:
    try:
        chosen = select(endpoints)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with open_warehouse(destination, dataset_name, duckdb_file) as warehouse:
        status = read_status(warehouse, chosen, settings, today=today, max_days_behind=max_days_behind)
    print(status.to_json() if output_format == "json" else format_status(status))
    return status.exit_code
