"""The minimal request plan of a backfill and the time floors it implies. Pure arithmetic plus the simulator's truth.

Minimal plan (what `page_size` pages and ≤ 31-day summaries windows require, nothing else):

    for every day:  ceil(rows / page_size) requests per per-day endpoint (at least 1, an empty day still
                    costs one request)
    plus            ceil(days / 31) requests for /summaries

Floors, for N minimal requests, a budget of B requests per sliding window of W seconds, server latency L:

- `rate floor` = N / B × W — the issue's floor: the budget's steady rate, every request at B/W per second.
  This is the figure the target (wall ≤ 1.05 × floor) is measured against.
- `burst floor` = ⌊(N − 1) / B⌋ × W + L — the hard lower bound of *any* client under a sliding window:
  B requests may arrive at t = 0, the next B no earlier than t = W, …, and the last one still takes L.
  It is below the rate floor (a full burst at t = 0 is free), so wall ÷ rate floor can be < 1.
- `design floor` = ⌊(N − 1) / B⌋ × (W + g) + L — the same for our budget, which counts sends over W + g
  seconds (g = 1 s guard against arrival jitter at the server), i.e. at most B / (W + g) per second in the
  long run: 60 / 61 ≈ 98.4 % of the budget is the design ceiling.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

SUMMARIES_WINDOW_DAYS = 31


@dataclass
class MinimalPlan:
    first: dt.date
    last: dt.date
    page_size: int
    requests_by_path: dict[str, int] = field(default_factory=dict)
    rows_by_path: dict[str, int] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def requests(self) -> int:
        return sum(self.requests_by_path.values())


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def minimal_plan(sim, first: dt.date, last: dt.date, page_size: int = 1000) -> MinimalPlan:
    """The fewest requests that fetch [first, last] from simulator `sim`, counted from its own data.

    Uses only the simulator (its endpoint list and `expected()` rows), never the pipeline's plan, so the
    comparison "requests made = minimal plan" has an independent witness.
    """
    from claude_analytics_simulator import ENDPOINT_PATHS

    plan = MinimalPlan(first, last, page_size)
    for path in ENDPOINT_PATHS:
        if path == "/summaries":
            plan.requests_by_path[path] = math.ceil(plan.days / SUMMARIES_WINDOW_DAYS)
            plan.rows_by_path[path] = plan.days
            continue
        requests = rows = 0
        for day in days_between(first, last):
            count = len(sim.expected(path, day))
            rows += count
            requests += max(1, math.ceil(count / page_size))
        plan.requests_by_path[path] = requests
        plan.rows_by_path[path] = rows
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
    return Floors(rate=requests / budget * window,
                  burst=full_windows * window + latency,
                  design=full_windows * (window + guard) + latency)
