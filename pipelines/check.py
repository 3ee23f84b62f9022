"""`claude-analytics check`: configuration, key, what the API serves, access per endpoint, the next run's plan.

Writes nothing and never creates a warehouse. Costs the calendar's requests (the newest and, with
`history_days = auto`, the earliest day) plus one first page of the newest day per endpoint, from which the
plan's requests are estimated: the next run starts from the cursors the run log records.
"""

from __future__ import annotations

import datetime as dt
import math
import os

from sources.claude_analytics import Batch, Extraction, Progress
from sources.claude_analytics.client import AnalyticsAPIError, RetryPolicy, SetupError
from sources.claude_analytics.days import Unit
from sources.claude_analytics.endpoints import Endpoint, select
from sources.claude_analytics.settings import ClaudeAnalyticsSettings

from .destinations import Target
from .errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, first_line
from .runlog import RUN_LOG_TABLE
from .runner import build_plan
from .status import missing_days
from .warehouse import open_warehouse


def _progress(target: Target, endpoints: list[Endpoint]) -> tuple[dict[str, Progress], str]:
    """Each table's cursor as the newest run recorded it, and what was found (never creates anything)."""
    path = target.kind.duckdb_path(target.duckdb_file)
    if path is not None and not os.path.exists(path):
        return {}, f"no warehouse yet at {path}: the first run creates it and loads the full history"
    try:
        with open_warehouse(target) as warehouse:
            if not warehouse.exists(RUN_LOG_TABLE):
                return {}, f"reachable, dataset {target.dataset_name}: nothing loaded yet"
            runs = warehouse.query(f"SELECT * FROM {warehouse.table(RUN_LOG_TABLE)}")
    except Exception as exc:
        return {}, f"UNREACHABLE — {first_line(exc)}"
    newest = max(runs, key=lambda r: str(r.get("finished_at")))
    progress = {}
    for e in endpoints:
        through = newest.get(f"{e.table}_loaded_through")
        progress[e.table] = Progress(
            dt.date.fromisoformat(str(through)[:10]) if through else None, tuple(sorted(missing_days(newest, e.table)))
        )
    return progress, f"reachable, dataset {target.dataset_name}"


def pages_per_unit(endpoint: Endpoint, probe: Batch | None, page_size: int, active_users: int) -> float:
    """Requests one unit of `endpoint` is likely to take, from a probe of its newest day."""
    if endpoint.name == "users":
        return max(1, math.ceil(active_users / page_size))
    if endpoint.kind == "user_report" and probe is not None and probe.rows:
        users = len(set(probe.table.column("user_id").to_pylist()))  # type: ignore[union-attr]
        return max(1, math.ceil(active_users * probe.rows / max(1, users) / page_size))
    return 1


def run_check(settings: ClaudeAnalyticsSettings, target: Target, endpoints: str | None) -> int:
    chosen = select(endpoints)
    print(
        f"configuration: base_url {settings.base_url}, api_key configured, {settings.requests_per_minute} "
        f"requests/minute, availability lag {settings.availability_lag_days}, history {settings.history_days}, "
        f"lookback {settings.lookback_days} d (cost reports {settings.cost_lookback_days} d), start_date "
        f"{settings.start_date or '-'}"
    )
    extraction = Extraction(settings, chosen, retry=RetryPolicy(max_attempts=3))
    try:
        calendar = extraction.calendar
    except SetupError as exc:
        print(f"  key DENIED  {exc}")
        return EXIT_USAGE
    except AnalyticsAPIError as exc:
        print(f"  ERROR   {exc}")
        return EXIT_FAILED
    e, c = calendar.edges["engagement"], calendar.edges["cost"]
    print(
        f"the API serves {e.earliest} .. {e.latest} (engagement endpoints; learnt: "
        f"{', '.join(calendar.learnt) or 'nothing, pinned'}) and {c.earliest} .. {c.latest} (cost & usage reports)"
    )
    status, probes = EXIT_OK, {}
    for endpoint in chosen:
        newest = calendar.edges_of(endpoint).latest
        try:
            probe = extraction.fetch(endpoint, Unit(newest, newest), max_pages=1)
        except SetupError as exc:
            print(f"  {endpoint.name:<18} DENIED  {exc}")
            status = EXIT_USAGE
            continue
        except AnalyticsAPIError as exc:
            print(f"  {endpoint.name:<18} ERROR   {exc}")
            status = max(status, EXIT_FAILED)
            continue
        probes[endpoint.name] = probe
        if probe.outcome == "unavailable":
            print(f"  {endpoint.name:<18} {probe.reason}")
        else:
            print(f"  {endpoint.name:<18} ok      {endpoint.path} answers for {newest}")
    extraction.close()
    summary = probes.get("summaries")
    active = (
        int(summary.table.column("daily_active_user_count")[0].as_py() or 0)
        if summary is not None and summary.table is not None and summary.rows
        else settings.page_size
    )
    progress, found = _progress(target, chosen)
    print(f"destination {target.destination}: {found}")
    usable = [
        endpoint
        for endpoint in chosen
        if probes.get(endpoint.name) is None or probes[endpoint.name].outcome != "unavailable"
    ]
    plan = build_plan(extraction, usable, progress)
    requests = 0
    for endpoint in usable:
        units = [u for e, u in plan if e is endpoint]
        requests += math.ceil(
            len(units) * pages_per_unit(endpoint, probes.get(endpoint.name), settings.page_size, active)
        )
        since = progress.get(endpoint.table, Progress()).last_day
        span = f"{units[0].first} .. {units[-1].last}" if units else "nothing to load"
        print(
            f"  next run {endpoint.table:<20} {span:<24} ({len(units)} request unit(s); loaded through "
            f"{since or 'nothing yet'})"
        )
    minutes = requests / settings.requests_per_minute
    print(
        f"plan: about {requests} requests, about {math.ceil(minutes * 61 / 60)} min at "
        f"{settings.requests_per_minute} requests/minute"
    )
    return status
