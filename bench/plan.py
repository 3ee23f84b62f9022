"""The minimal request plan of a run and the time floors it implies: the simulator's truth plus arithmetic.

Counted from the simulator's own data (never from the pipeline's plan, so "requests made = minimal plan"
has an independent witness), by the rules of the API reference (analytics-api.md §2, §4, §5) and the
product contract (which query each table takes):

Minimal requests per endpoint:

- calendar: 1 for the newest day (a 400 names it) + 1 for the earliest with `history_days = auto` (ditto);
- `/users`, `/apps/chat/projects`, `/skills`, `/connectors`, `/plugins`, `/user_usage_report`,
  `/user_cost_report`: per day ⌈rows ÷ 1000⌉, at least 1 (an empty day still costs its request);
- `/artifacts`: 1 per day (ungrouped, the whole cube on one page);
- `/summaries`: ⌈days ÷ 31⌉ windows;
- `/usage_report`, `/cost_report`: ⌈days ÷ 31⌉ windows of daily buckets (`limit` = 31 buckets: one page each);
  a day whose bucket holds the cap of 100 groups (it may have lost some) is asked again by the hour (24
  buckets, one page), and each such hour again by the minute (60 buckets, one page).

Floors, for N minimal requests, a budget of B requests per sliding window of W seconds, server latency L:

- `rate floor` = N / B × W — the issue's floor: the budget's steady rate, every request at B/W per second.
  This is the figure the target (wall ≤ 1.05 × floor) is measured against.
- `burst floor` = ⌊(N − 1) / B⌋ × W + L — the hard lower bound of *any* client under a sliding window:
  B requests may arrive at t = 0, the next B no earlier than t = W, …, and the last one still takes L.
- `design floor` = ⌊(N − 1) / B⌋ × (W + g) + L — the same for our budget, which counts sends over W + g
  seconds (g: the guard against arrival jitter, 1 s per 60 s), so B / (W + g) per second in the long run.

Counting a 10,000-user organization takes minutes (the simulator generates every report day, hour and
capped minute), so plans are cached in `.bench/cache/` under a key made of the organization, the days and
the simulator's source code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sources.claude_analytics.days import day_range

PAGE_SIZE = 1000
WINDOW_DAYS = 31
GROUP_CAP = 100
API_FLOOR = dt.date(2026, 1, 1)
ONE_DAY = dt.timedelta(days=1)

CALENDAR = "calendar"
DAY_PATHS = ("/users", "/apps/chat/projects", "/skills", "/connectors", "/plugins", "/artifacts")
SUMMARIES = "/summaries"
BUCKETED = ("/usage_report", "/cost_report")
PER_USER = ("/user_usage_report", "/user_cost_report")
ENGAGEMENT = DAY_PATHS[:1] + (SUMMARIES,) + DAY_PATHS[1:]
COST = BUCKETED + PER_USER
PATHS = ENGAGEMENT + COST
# the contract's group_by[] per report (product.md, "The whole API")
GROUP_BY = {
    "/usage_report": ("product", "model"),
    "/cost_report": ("product", "model", "cost_type", "token_type"),
    "/user_usage_report": ("product", "model"),
    "/user_cost_report": ("product", "model"),
}
# the contract's table per endpoint (product.md)
TABLES = {
    "/users": "user_activity",
    "/summaries": "activity_summary",
    "/apps/chat/projects": "chat_project_usage",
    "/skills": "skill_usage",
    "/connectors": "connector_usage",
    "/plugins": "plugin_usage",
    "/artifacts": "artifact_activity",
    "/usage_report": "usage_report",
    "/cost_report": "cost_report",
    "/user_usage_report": "user_usage_report",
    "/user_cost_report": "user_cost_report",
}


def _get(*keys: str) -> Callable[[dict], Any]:
    def get(row: dict) -> Any:
        value: Any = row
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return get


def _cents(row: dict) -> Decimal | None:
    return None if row.get("amount") is None else Decimal(row["amount"]).scaleb(-2)


# One numeric column per table, summed over the run's days on both sides: a loaded table must hold the
# simulator's rows (count) and their values (this sum; money exactly, in dollars as the contract loads it).
CHECKSUMS: dict[str, tuple[str, Callable[[dict], Any]]] = {
    "/users": ("chat_message_count", _get("chat_metrics", "message_count")),
    "/summaries": ("daily_active_user_count", _get("daily_active_user_count")),
    "/apps/chat/projects": ("message_count", _get("message_count")),
    "/skills": ("distinct_user_count", _get("distinct_user_count")),
    "/connectors": ("distinct_user_count", _get("distinct_user_count")),
    "/plugins": ("invocation_count", _get("invocation_count")),
    "/artifacts": ("artifacts_created_count", _get("artifacts_created_count")),
    "/usage_report": ("output_tokens", _get("output_tokens")),
    "/cost_report": ("amount", _cents),
    "/user_usage_report": ("output_tokens", _get("output_tokens")),
    "/user_cost_report": ("amount", _cents),
}


@dataclass
class PathPlan:
    requests: int = 0
    rows: int = 0
    checksum: Decimal = Decimal(0)
    capped_days: int = 0  # report days at the group cap: asked again by the hour
    capped_hours: int = 0  # …and those hours again by the minute
    capped_minutes: int = 0  # minutes at the cap: no finer bucket exists
    overfull_minutes: int = 0  # minutes with more groups than the cap: groups the API cannot return
    lost_groups: int = 0  # group-minutes beyond the cap in those minutes


@dataclass
class MinimalPlan:
    """The fewest requests a run of [engagement] and [cost] days needs, per endpoint, and what it loads."""

    today: dt.date
    engagement: tuple[dt.date, dt.date]
    cost: tuple[dt.date, dt.date]
    calendar: int
    paths: dict[str, PathPlan] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return self.calendar + sum(p.requests for p in self.paths.values())

    @property
    def requests_by_path(self) -> dict[str, int]:
        return {CALENDAR: self.calendar, **{path: p.requests for path, p in self.paths.items()}}

    @property
    def rows_by_table(self) -> dict[str, int]:
        return {TABLES[path]: p.rows for path, p in self.paths.items()}

    def days(self, family: str) -> int:
        first, last = self.engagement if family == "engagement" else self.cost
        return max(0, (last - first).days + 1)

    def to_json(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "engagement": [d.isoformat() for d in self.engagement],
            "cost": [d.isoformat() for d in self.cost],
            "calendar": self.calendar,
            "paths": {p: {**dataclasses.asdict(v), "checksum": str(v.checksum)} for p, v in self.paths.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> MinimalPlan:
        paths = {p: PathPlan(**{**v, "checksum": Decimal(v["checksum"])}) for p, v in data["paths"].items()}
        return cls(
            dt.date.fromisoformat(data["today"]),
            tuple(dt.date.fromisoformat(d) for d in data["engagement"]),  # type: ignore[arg-type]
            tuple(dt.date.fromisoformat(d) for d in data["cost"]),  # type: ignore[arg-type]
            data["calendar"],
            paths,
        )


def windows(days: int) -> int:
    return math.ceil(days / WINDOW_DAYS) if days > 0 else 0


def _sum(rows: list[dict], value: Callable[[dict], Any]) -> Decimal:
    return sum((Decimal(v) for v in map(value, rows) if v is not None), Decimal(0))


def bucket_sizes(sim, path: str, start: dt.datetime, end: dt.datetime, width: str) -> list[int]:
    """Groups per bucket of [start, end) at `width`, uncapped: the simulator's truth for a finer query.

    (`Simulator.expected_report` serves whole days only; hours and minutes come from the same report book
    the simulator answers from, with the cap lifted.)
    """
    from claude_analytics_simulator.report_query import instant, parse_report_query

    settings = dataclasses.replace(sim._report_settings(), cap=None)
    query = parse_report_query(
        path,
        {
            "starting_at": instant(start),
            "ending_at": instant(end),
            "bucket_width": width,
            "group_by[]": list(GROUP_BY[path]),
        },
        settings.today,
    )
    book = sim._reports()
    return [len(book.rows(query, settings, b, samples=False)[0]) for b in range(book.bucket_count(query, settings))]


def _bucketed_day(sim, path: str, day: dt.date, plan: PathPlan) -> None:
    results = sim.expected_report(path, day, group_by=GROUP_BY[path])
    plan.rows += len(results)
    plan.checksum += _sum(results, CHECKSUMS[path][1])
    if len(results) < GROUP_CAP:
        return
    plan.capped_days += 1
    plan.requests += 1  # the day again, by the hour
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    for hour, groups in enumerate(bucket_sizes(sim, path, midnight, midnight + ONE_DAY, "1h")):
        if groups < GROUP_CAP:
            continue
        plan.capped_hours += 1
        plan.requests += 1  # the hour again, by the minute
        start = midnight + dt.timedelta(hours=hour)
        for minute in bucket_sizes(sim, path, start, start + dt.timedelta(hours=1), "1m"):
            plan.capped_minutes += minute >= GROUP_CAP
            plan.overfull_minutes += minute > GROUP_CAP
            plan.lost_groups += max(0, minute - GROUP_CAP)


def count_plan(
    sim,
    today: dt.date,
    engagement: tuple[dt.date, dt.date],
    cost: tuple[dt.date, dt.date],
    *,
    calendar: int = 2,
    page_size: int = PAGE_SIZE,
    progress: Callable[[str], None] | None = None,
) -> MinimalPlan:
    """The minimal plan of a run that loads `engagement` days of the engagement endpoints and `cost` days of the
    cost & usage reports from simulator `sim` (not started; its `today` is the run's)."""
    plan = MinimalPlan(today, engagement, cost, calendar, {path: PathPlan() for path in PATHS})
    e_days = list(day_range(*engagement))
    c_days = list(day_range(*cost))
    plan.paths[SUMMARIES].requests = windows(len(e_days))
    for path in BUCKETED:
        plan.paths[path].requests = windows(len(c_days))
    for day in e_days:
        for path in (*DAY_PATHS, SUMMARIES):
            rows = sim.expected(path, day)
            p = plan.paths[path]
            p.rows += len(rows)
            p.checksum += _sum(rows, CHECKSUMS[path][1])
            if path in DAY_PATHS:
                p.requests += 1 if path == "/artifacts" else max(1, math.ceil(len(rows) / page_size))
    for n, day in enumerate(c_days, 1):
        for path in BUCKETED:
            _bucketed_day(sim, path, day, plan.paths[path])
        for path in PER_USER:
            rows = sim.expected_report(path, day, group_by=GROUP_BY[path])
            p = plan.paths[path]
            p.rows += len(rows)
            p.checksum += _sum(rows, CHECKSUMS[path][1])
            p.requests += max(1, math.ceil(len(rows) / page_size))
        if progress and n % 15 == 0:
            progress(f"  counted {n} of {len(c_days)} report days")
    return plan


def _source_digest() -> str:
    import claude_analytics_simulator

    digest = hashlib.sha256()
    for path in sorted(Path(claude_analytics_simulator.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached_plan(
    cache_dir: Path | None,
    sim,
    today: dt.date,
    engagement: tuple[dt.date, dt.date],
    cost: tuple[dt.date, dt.date],
    *,
    calendar: int = 2,
    page_size: int = PAGE_SIZE,
    progress: Callable[[str], None] | None = None,
) -> MinimalPlan:
    """`count_plan`, kept in `cache_dir` under the organization, the days and the simulator's code."""
    cfg = sim.config
    parts = [
        cfg.users,
        cfg.seed,
        cfg.report_models,
        cfg.report_group_cap,
        cfg.history_days,
        cfg.availability_lag_days,
        today.isoformat(),
        [d.isoformat() for d in engagement],
        [d.isoformat() for d in cost],
        calendar,
        _source_digest(),
    ]
    key = json.dumps(parts + ([page_size] if page_size != PAGE_SIZE else []))
    path = None
    if cache_dir is not None:
        path = cache_dir / f"plan-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
        if path.exists():
            try:
                return MinimalPlan.from_json(json.loads(path.read_text()))
            except (ValueError, KeyError, TypeError):
                pass
    started = time.monotonic()
    plan = count_plan(sim, today, engagement, cost, calendar=calendar, page_size=page_size, progress=progress)
    if path is not None and time.monotonic() - started > 2:  # small plans are recounted: no clutter
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(plan.to_json()))
    return plan


@dataclass(frozen=True)
class Floors:
    rate: float  # N / B × W
    burst: float  # ⌊(N − 1) / B⌋ × W + L
    design: float  # ⌊(N − 1) / B⌋ × (W + g) + L


def floors(requests: int, budget: int, window: float, latency: float, guard: float) -> Floors:
    if requests < 1 or budget < 1:
        raise ValueError("requests and budget must be at least 1")
    full_windows = (requests - 1) // budget
    return Floors(
        rate=requests / budget * window,
        burst=full_windows * window + latency,
        design=full_windows * (window + guard) + latency,
    )
