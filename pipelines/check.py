"""`claude-analytics check`: configuration, key access per endpoint, latest day, and the next run's plan.

Costs one request per endpoint (a one-row page of the latest day) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import math

from sources.claude_analytics import days as day_math
from sources.claude_analytics.budget import shared_budget
from sources.claude_analytics.client import AnalyticsAPIError, AnalyticsClient, DayNotAvailable, SetupError
from sources.claude_analytics.endpoints import Endpoint, select
from sources.claude_analytics.settings import ClaudeAnalyticsSettings

from .runner import UsageError, build_plan, first_line, make_pipeline, resource_cursors

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _probe(client: AnalyticsClient, endpoint: Endpoint, day: dt.date) -> dict:
    if endpoint.date_mode == "window":
        params = {"starting_date": day.isoformat(), "ending_date": (day + dt.timedelta(days=1)).isoformat()}
    else:
        params = {"date": day.isoformat(), "limit": 1}
    body = client.get(endpoint.path, params, day=day)
    rows = body.get("data") if isinstance(body.get("data"), list) else body.get("summaries") or []
    return rows[0] if rows else {}


def estimate_requests(plan: list, users_per_day: int, page_size: int) -> int:
    """Requests for a plan: one per unit, `users` days need one per page of active users."""
    pages = max(1, math.ceil(users_per_day / page_size))
    return sum(pages if endpoint.name == "users" else 1 for endpoint, _ in plan)


def run_check(settings: ClaudeAnalyticsSettings, destination: str, dataset_name: str,
              endpoints: str | None) -> int:
    try:
        chosen = select(endpoints)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    today = day_math.utc_today()
    earliest = day_math.earliest_day(today, settings.history_days, settings.start_day())
    latest = day_math.latest_day(today, settings.availability_lag_days)
    print(f"configuration: base_url {settings.base_url}, api_key configured, {settings.requests_per_minute} "
          f"requests/minute, availability lag {settings.availability_lag_days} d, lookback "
          f"{settings.lookback_days} d, history {settings.history_days} d, start_date {settings.start_date or '-'}")
    budget = shared_budget(settings.base_url, settings.api_key, settings.requests_per_minute)
    status = EXIT_OK
    active_users = 0
    with AnalyticsClient(settings.base_url, settings.api_key, budget, max_attempts=3) as client:
        for endpoint in chosen:
            try:
                try:
                    row = _probe(client, endpoint, latest)
                except DayNotAvailable as exc:
                    learned = exc.latest or latest - dt.timedelta(days=1)
                    print(f"  latest available day: {learned} (the API rejected {latest})")
                    latest = learned
                    row = _probe(client, endpoint, latest)
            except SetupError as exc:
                print(f"  {endpoint.name:<14} DENIED  {exc}")
                status = EXIT_USAGE
                continue
            except AnalyticsAPIError as exc:
                print(f"  {endpoint.name:<14} ERROR   {exc}")
                status = max(status, EXIT_FAILED)
                continue
            if endpoint.name == "summaries":
                active_users = int(row.get("daily_active_user_count") or 0)
            print(f"  {endpoint.name:<14} ok      {endpoint.path} answers for {latest}")
    print(f"latest available day: {latest}; earliest day the API serves: {earliest}")
    try:
        pipeline = make_pipeline(destination, dataset_name)
        pipeline.sync_destination()
    except Exception as exc:
        print(f"destination {destination}: UNREACHABLE — {first_line(exc)}")
        return EXIT_USAGE
    cursors = resource_cursors(pipeline)
    plan = build_plan(chosen, cursors, earliest=earliest, latest=latest, lookback_days=settings.lookback_days,
                      start=None, end=None)
    requests = estimate_requests(plan, active_users or settings.page_size, settings.page_size)
    minutes = requests / settings.requests_per_minute
    print(f"destination {destination}: reachable, dataset {dataset_name}")
    for endpoint in chosen:
        units = [u for e, u in plan if e is endpoint]
        since = cursors.get(endpoint.table)
        span = f"{units[0].first} .. {units[-1].last}" if units else "nothing to load"
        print(f"  next run {endpoint.table:<20} {span:<24} ({len(units)} request unit(s); loaded through "
              f"{since or 'nothing yet'})")
    print(f"plan: about {requests} requests, about {math.ceil(minutes * 61 / 60)} min at "
          f"{settings.requests_per_minute} requests/minute")
    return status
