"""The cost & usage reports' answers: traffic slices summed into groups, rendered, capped, paged.

A *bucket* is one [start, end) window of an answer (a day, an hour or a minute; for a per-user
report without `bucket_width`, the whole range). Its rows are computed once per view and cached
as JSON text, so later pages and `Simulator.expected_report` are slices of the same strings.
"""

from __future__ import annotations

import bisect
import datetime
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .report_query import ReportQuery, View, instant, midnight
from .reports import COMPONENTS, DIMENSIONS, OUTPUT, REQUESTS, TOKENS, UNCACHED, Cell, ReportData, money

ONE_DAY = datetime.timedelta(days=1)
_COMPACT = (",", ":")
# Rows kept serialized in memory across buckets (a per-user row is about 400 bytes: some 40 MB).
# An empty bucket counts as one row, so walking 1m buckets cannot grow the cache without bound.
ROW_CACHE_BUDGET = 100_000
DIMENSION_FILTERS = (
    ("products[]", 0),
    ("models[]", 1),
    ("context_windows[]", 2),
    ("inference_geos[]", 3),
    ("speeds[]", 4),
)


@dataclass(frozen=True)
class Settings:
    """What the configuration says about the served report data, read once per request."""

    today: datetime.date
    cap: int | None  # None: uncapped (the truth of expected_report)
    samples: tuple[str, ...]
    revision: int
    revision_days: int

    def revision_for(self, day: datetime.date) -> int:
        """Only the last `revision_days` days before today are revised; older days never change."""
        if self.revision > 0 and self.today - datetime.timedelta(days=self.revision_days) <= day < self.today:
            return self.revision
        return 0

    @property
    def horizon(self) -> datetime.datetime:
        return midnight(self.today)


# ---- summing traffic into groups ------------------------------------------------------------------


def aggregate(entries: Iterable[tuple[Cell, tuple]], view: View, data: ReportData) -> dict[tuple, list[int]]:
    """{group key: sums}. Keys: (actor index,)? + the five dimensions (None unless grouped) + for
    cost split by cost_type/token_type, (cost_type, token_type). Sums: usage → the quantity vector;
    cost → [list, amount, requests], or [list, amount] per cost component when split."""
    grouped = [d in view.group_by for d in DIMENSIONS]
    by_cost, by_token = "cost_type" in view.group_by, "token_type" in view.group_by
    accept = _acceptor(view, data)
    out: dict[tuple, list[int]] = {}
    for cell, q in entries:
        if not accept(cell):
            continue
        key = tuple(v if on else None for v, on in zip(cell.dims, grouped))
        if view.per_user:
            key = (cell.actor, *key)
        if not view.cost:
            acc = out.get(key)
            if acc is None:
                out[key] = list(q)
            else:
                for i, v in enumerate(q):
                    acc[i] += v
        elif not (by_cost or by_token):
            listed = amount = 0
            for (_, _, i), (list_price, price) in zip(COMPONENTS, cell.prices):
                listed += q[i] * list_price
                amount += q[i] * price
            acc = out.setdefault(key, [0, 0, 0])
            acc[0] += listed
            acc[1] += amount
            acc[2] += q[REQUESTS]
        else:
            for (cost_type, token_type, i), (list_price, price) in zip(COMPONENTS, cell.prices):
                if q[i]:
                    acc = out.setdefault(
                        (*key, cost_type if by_cost else None, token_type if by_token else None), [0, 0]
                    )
                    acc[0] += q[i] * list_price
                    acc[1] += q[i] * price
    return out


def _acceptor(view: View, data: ReportData) -> Callable[[Cell], bool]:
    """A predicate on cells for the view's filters (products, models, … user ids, deleted users)."""
    tests: list[Callable[[Cell], bool]] = []
    for name, dim in DIMENSION_FILTERS:
        values = view.filter(name)
        if values is not None:
            tests.append(_has(dim, values))
    actors: set[int] | None = None
    wanted = view.filter("user_ids[]")
    if wanted is not None:
        actors = {i for i, a in enumerate(data.actors) if a.user_id in wanted}
    if view.per_user and view.exclude_deleted:
        keep = {i for i, a in enumerate(data.actors) if not a.deleted}
        actors = keep if actors is None else actors & keep
    if actors is not None:
        tests.append(lambda c: c.actor in actors)  # unattributed traffic (-1) is never in the set
    elif view.per_user:
        tests.append(lambda c: c.actor >= 0)  # unattributed traffic has no row of its own here
    return lambda c: all(t(c) for t in tests)


def _has(dim: int, values: frozenset[str]) -> Callable[[Cell], bool]:
    return lambda c: c.dims[dim] in values


# ---- rendering ------------------------------------------------------------------------------------


def _usage_fields(v: list[int], total: bool) -> dict:
    fields = {
        "uncached_input_tokens": v[UNCACHED],
        "cache_creation": {"ephemeral_5m_input_tokens": v[1], "ephemeral_1h_input_tokens": v[2]},
        "cache_read_input_tokens": v[3],
        "output_tokens": v[OUTPUT],
    }
    if total:
        fields["total_tokens"] = sum(v[i] for i in TOKENS)
    fields["server_tool_use"] = {"web_search_requests": v[5]}
    fields["requests"] = v[REQUESTS]
    return fields


def _cost_fields(view: View, key: tuple, v: list[int], bucketed: bool) -> dict:
    split = "cost_type" in view.group_by or "token_type" in view.group_by
    fields: dict = {}
    if bucketed or "cost_type" in view.group_by:
        fields["cost_type"] = key[-2] if split else None
    if bucketed or "token_type" in view.group_by:
        fields["token_type"] = key[-1] if split else None
    fields["currency"] = "USD"
    fields["amount"] = money(v[1])
    fields["list_amount"] = money(v[0])
    fields["requests"] = None if split else v[2]
    return fields


def _dims(key: tuple, per_user: bool) -> dict:
    values = key[1:6] if per_user else key[:5]
    return dict(zip(DIMENSIONS, values))


def _metric(view: View, v: list[int]) -> int:
    """What ranks groups: amount for cost, total tokens for usage; `order_by` for per-user rows."""
    if view.order_by == "list_amount":
        return v[0]
    if view.cost:
        return v[1]
    by = view.order_by or "total_tokens"
    if by == "total_tokens":
        return sum(v[i] for i in TOKENS)
    index = {
        "uncached_input_tokens": 0,
        "cache_creation.ephemeral_5m_input_tokens": 1,
        "cache_creation.ephemeral_1h_input_tokens": 2,
        "cache_read_input_tokens": 3,
        "output_tokens": 4,
    }[by]
    return v[index]


def _sortable(key: tuple) -> tuple:
    return tuple(["" if k is None else k for k in key])  # nulls first


def bucket_results(groups: dict[tuple, list[int]], view: View, cap: int | None) -> list[dict]:
    """A bucket of /usage_report or /cost_report: the top groups by amount / total tokens, ties by key."""
    ranked = sorted(groups.items(), key=lambda kv: (-_metric(view, kv[1]), _sortable(kv[0])))
    if cap is not None:
        ranked = ranked[:cap]
    if view.cost:
        return [{**_dims(k, False), **_cost_fields(view, k, v, True)} for k, v in ranked]
    return [{**_dims(k, False), **_usage_fields(v, False)} for k, v in ranked]


def user_rows(
    groups: dict[tuple, list[int]], view: View, data: ReportData, period: tuple[str, str] | None
) -> tuple[list[str], list[int]]:
    """A bucket of a per-user report as JSON rows, and the end index of each unit (rows that differ
    only by cost_type/token_type form one unit: a page never splits it)."""
    ids = [a.user_id for a in data.actors]
    if view.order_by:
        sign = 1 if view.order == "asc" else -1
        order = sorted(groups, key=lambda k: (sign * _metric(view, groups[k]), ids[k[0]], _sortable(k[1:])))
    else:
        order = sorted(groups, key=lambda k: (ids[k[0]], _sortable(k[1:])))
    # Rows are many: the fixed head (period and actor) is serialized once per actor, not per row.
    head = f'{{"starting_at":"{period[0]}","ending_at":"{period[1]}",' if period else "{"
    actors: dict[int, str] = {}
    rows, ends = [], []
    for n, key in enumerate(order):
        actor = actors.get(key[0])
        if actor is None:
            actor = actors[key[0]] = head + '"actor":' + json.dumps(data.actors[key[0]].as_json(), separators=_COMPACT)
        v = groups[key]
        tail = _cost_fields(view, key, v, False) if view.cost else _usage_fields(v, True)
        rows.append(actor + "," + json.dumps({**_dims(key, True), **tail}, separators=_COMPACT)[1:])
        if n + 1 == len(order) or order[n + 1][:6] != key[:6]:
            ends.append(n + 1)
    return rows, ends


def with_samples(rows: list[str], samples: tuple[str, ...], already: int) -> list[str]:
    """The first cost results of a day carry the literal sample strings (`already` served earlier that day)."""
    if already >= len(samples):
        return rows
    out = list(rows)
    for i in range(min(len(rows), len(samples) - already)):
        row = json.loads(rows[i])
        row["amount"] = row["list_amount"] = samples[already + i]
        out[i] = json.dumps(row, separators=_COMPACT)
    return out


# ---- buckets and pages ----------------------------------------------------------------------------


class ReportBook:
    """Serves report pages from one organization's traffic, caching each bucket's rows."""

    def __init__(self, data: ReportData):
        self.data = data
        self._rows: OrderedDict[tuple, tuple[list[str], list[int]]] = OrderedDict()
        self._cached = 0
        self._lock = threading.RLock()
        self.hits = self.misses = 0

    # -- buckets of a query --

    @staticmethod
    def bucket_count(q: ReportQuery, s: Settings) -> int:
        end = min(q.end, s.horizon)  # buckets from today 00:00 UTC on are not served
        if end <= q.start:
            return 0
        return 1 if q.step is None else -(-(end - q.start) // q.step)

    @staticmethod
    def bucket(q: ReportQuery, s: Settings, b: int) -> tuple[datetime.datetime, datetime.datetime]:
        if q.step is None:
            return q.start, min(q.end, s.horizon)
        start = q.start + b * q.step
        return start, start + q.step

    def rows(self, q: ReportQuery, s: Settings, b: int, samples: bool = True) -> tuple[list[str], list[int]]:
        """The JSON rows of bucket b (bucketed reports: one per result) and their unit ends."""
        start, end = self.bucket(q, s, b)
        first, last = start.date(), (end - datetime.timedelta(microseconds=1)).date()
        days = [first + ONE_DAY * k for k in range((last - first).days + 1)]
        revisions = tuple(s.revision_for(d) for d in days)
        period = (instant(start), instant(end)) if q.view.per_user and q.step is not None else None
        capped = None if q.view.per_user else s.cap
        key = (q.view, start, end, period is not None, revisions, capped)
        with self._lock:
            hit = self._rows.get(key)
            if hit is not None:
                self.hits += 1
                self._rows.move_to_end(key)
            else:
                self.misses += 1
                hit = self._rows[key] = self._compute(q.view, start, end, days, revisions, period, capped)
                self._cached += max(1, len(hit[0]))
                while self._cached > ROW_CACHE_BUDGET and len(self._rows) > 1:
                    self._cached -= max(1, len(self._rows.popitem(last=False)[1][0]))
        rows, ends = hit
        if samples and q.view.cost and s.samples:
            rows = with_samples(rows, s.samples, self._served_earlier(q, s, b))
        return rows, ends

    def _compute(self, view: View, start, end, days, revisions, period, cap) -> tuple[list[str], list[int]]:
        entries: list = []
        for day, revision in zip(days, revisions):
            day0 = midnight(day)
            entries += self.data.day(day, revision).slices(max(start, day0), min(end, day0 + ONE_DAY))
        groups = aggregate(entries, view, self.data)
        if view.per_user:
            return user_rows(groups, view, self.data, period)
        results = bucket_results(groups, view, cap)
        return [json.dumps(r, separators=_COMPACT) for r in results], list(range(1, len(results) + 1))

    def _served_earlier(self, q: ReportQuery, s: Settings, b: int) -> int:
        """How many cost results the earlier buckets of the same UTC day served (for money samples)."""
        if q.step is None or q.width == "1d":
            return 0
        day0 = midnight(self.bucket(q, s, b)[0].date())
        served, k = 0, b - 1
        while k >= 0 and served < len(s.samples) and self.bucket(q, s, k)[0] >= day0:
            served += len(self.rows(q, s, k, samples=False)[0])
            k -= 1
        return served

    # -- pages --

    def bucketed_page(self, q: ReportQuery, s: Settings, offset: int) -> tuple[str, int | None]:
        """(the data array as JSON, the next bucket offset or None)."""
        n = self.bucket_count(q, s)
        parts = []
        for b in range(offset, min(n, offset + q.limit)):
            start, end = self.bucket(q, s, b)
            rows = self.rows(q, s, b)[0]
            parts.append(
                f'{{"starting_at":"{instant(start)}","ending_at":"{instant(end)}","results":[{",".join(rows)}]}}'
            )
        nxt = offset + q.limit
        return "[" + ",".join(parts) + "]", (nxt if nxt < n else None)

    def user_page(self, q: ReportQuery, s: Settings, position: tuple[int, int]) -> tuple[str, tuple[int, int] | None]:
        """(the data array as JSON, the next (bucket, row) position or None). Whole units only."""
        n = self.bucket_count(q, s)
        b, i = position
        out: list[str] = []
        while b < n and len(out) < q.limit:
            rows, ends = self.rows(q, s, b)
            while i < len(rows) and len(out) < q.limit:
                j = ends[bisect.bisect_right(ends, i)]
                out += rows[i:j]
                i = j
            if i >= len(rows):
                b, i = b + 1, 0
        return "[" + ",".join(out) + "]", self._next_position(q, s, b, i, n)

    def _next_position(self, q: ReportQuery, s: Settings, b: int, i: int, n: int) -> tuple[int, int] | None:
        """The first row left to serve, skipping buckets without rows; None when nothing is left."""
        while b < n:
            if i < len(self.rows(q, s, b)[0]):
                return b, i
            b, i = b + 1, 0
        return None
