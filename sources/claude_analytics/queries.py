"""How a unit of days is asked for and where its rows are in the answers, per endpoint kind.

One small class per kind (see `endpoints.py`); each fetches one unit through the client and turns its
lists of raw row dicts, page by page, into what the caller keeps (`shape`, a pure function: a query
restarted from page 1 drops what its earlier pages gave), with what a row needs of its envelope stamped on:
- `DayQuery`: `?date=D&limit=…`; rows in `data`; the day is the requested one.
- `SummaryQuery`: `?starting_date&ending_date` (end exclusive); rows in `data` (newer envelope) or
  `summaries` (older); each row names its day (`starting_at` or `starting_date`).
- `BucketReportQuery`: daily buckets of a ≤ 31-day RFC 3339 window; a bucket that reports the API's cap of
  100 groups may have lost groups, so that day is fetched again by the hour (and a capped hour by the
  minute) and the finer buckets are summed back per group: time splits keep every group, including those
  whose product is null or `other`, which no `products[]` filter selects.
- `UserReportQuery`: one day, `limit` rows per page; `actor.email` (deprecated) fills a missing
  `actor.email_address`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

import pendulum

from .client import AnalyticsClient, UnexpectedResponse
from .days import ONE_DAY, Unit
from .endpoints import Endpoint

log = logging.getLogger("claude_analytics.queries")

Rows = list[dict[str, Any]]
T = TypeVar("T")
Shape = Callable[[Rows], T]

GROUP_CAP = 100  # a report bucket holds at most this many groups (its top ones)
MAX_BUCKETS_PER_PAGE = {"1d": 31, "1h": 24, "1m": 60}  # one page per window, hour or day being split
SPLIT_WORKERS = 8  # capped buckets of one query fetched again side by side
FINER = {"1d": ("1h", dt.timedelta(days=1)), "1h": ("1m", dt.timedelta(hours=1))}
DIMENSIONS = ("product", "model", "context_window", "inference_geo", "speed", "cost_type", "token_type")
ENVELOPE_KEYS = ("data_refreshed_at", "organization_id")


def rfc3339(moment: dt.date | dt.datetime) -> str:
    """UTC midnight of a day (or an instant) as the reports take it: 2026-03-01T00:00:00Z."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.timezone.utc)
    return pendulum.instance(moment).in_timezone("UTC").to_iso8601_string()


def parse_instant(text: str) -> dt.datetime:
    """An RFC 3339 instant as an aware datetime (pendulum reads every variant the API may send)."""
    moment = pendulum.parse(text)
    if not isinstance(moment, dt.datetime):
        raise UnexpectedResponse(f"{text!r} is not an instant; the API may have changed", status=200)
    return moment


def _list(body: dict, keys: tuple[str, ...], where: str) -> list:
    for key in keys:
        value = body.get(key)
        if isinstance(value, list):
            return value
    found = ", ".join(sorted(body)) or "none"
    raise UnexpectedResponse(
        f"{where}: the answer has no {' or '.join(repr(k) for k in keys)} list (keys: {found}); "
        "the API may have changed — please report it with this message",
        status=200,
    )


def _stamp(rows: Rows, body: dict) -> Rows:
    """Copy the report envelope's refresh time and organization onto its rows."""
    stamps = {k: body.get(k) for k in ENVELOPE_KEYS if body.get(k) is not None}
    if stamps:
        for row in rows:
            if isinstance(row, dict):
                row.update(stamps)
    return rows


class Query(Protocol):
    def fetch(
        self,
        client: AnalyticsClient,
        endpoint: Endpoint,
        unit: Unit,
        page_size: int,
        shape: Shape[T],
        max_pages: int | None = None,
    ) -> list[T]: ...


class DayQuery:
    def fetch(
        self,
        client: AnalyticsClient,
        endpoint: Endpoint,
        unit: Unit,
        page_size: int,
        shape: Shape[T],
        max_pages: int | None = None,
    ) -> list[T]:
        where = f"{endpoint.path} {unit}"
        params = {"date": unit.first.isoformat(), "limit": page_size}
        return client.pages(
            endpoint.path,
            params,
            lambda body: shape(_list(body, ("data",), where)),
            where=where,
            day=unit.first,
            max_pages=max_pages,
        )


class SummaryQuery:
    def fetch(
        self,
        client: AnalyticsClient,
        endpoint: Endpoint,
        unit: Unit,
        page_size: int,
        shape: Shape[T],
        max_pages: int | None = None,
    ) -> list[T]:
        where = f"{endpoint.path} {unit}"
        params = {"starting_date": unit.first.isoformat(), "ending_date": (unit.last + ONE_DAY).isoformat()}
        return client.pages(
            endpoint.path,
            params,
            lambda body: shape(_list(body, ("data", "summaries"), where)),
            where=where,
            day=unit.last,
            max_pages=max_pages,
        )


class UserReportQuery:
    def fetch(
        self,
        client: AnalyticsClient,
        endpoint: Endpoint,
        unit: Unit,
        page_size: int,
        shape: Shape[T],
        max_pages: int | None = None,
    ) -> list[T]:
        where = f"{endpoint.path} {unit}"
        params = {
            "starting_at": rfc3339(unit.first),
            "ending_at": rfc3339(unit.last + ONE_DAY),
            "bucket_width": "1d",
            "group_by[]": list(endpoint.group_by),
            "limit": page_size,
        }

        def page(body: dict) -> T:
            rows = _stamp(_list(body, ("data",), where), body)
            for row in rows:
                actor = row.get("actor") if isinstance(row, dict) else None
                if isinstance(actor, dict):
                    deprecated = actor.pop("email", None)
                    if actor.get("email_address") is None and deprecated is not None:
                        actor["email_address"] = deprecated
            return shape(rows)

        return client.pages(endpoint.path, params, page, where=where, day=unit.last, max_pages=max_pages)


class BucketReportQuery:
    def fetch(
        self,
        client: AnalyticsClient,
        endpoint: Endpoint,
        unit: Unit,
        page_size: int,
        shape: Shape[T],
        max_pages: int | None = None,
    ) -> list[T]:
        first, end = rfc3339(unit.first), rfc3339(unit.last + ONE_DAY)
        where = _where(endpoint, first, end, "1d")
        buckets = [
            bucket
            for page in client.pages(
                endpoint.path,
                _params(endpoint, first, end, "1d"),
                lambda body: list(_buckets_of(body, where)),
                where=where,
                max_pages=max_pages,
            )
            for bucket in page
        ]
        overfull: list[str] = []  # one-minute buckets still at the cap
        capped = [b["starting_at"] for b in buckets if len(b["results"]) >= GROUP_CAP] if max_pages is None else []
        split = self._split(client, endpoint, capped, "1d", overfull) if capped else {}
        if overfull:  # one line per query, not per minute: a large org can have thousands a day
            log.warning(
                "%s %s: %d one-minute bucket(s) still report %d groups, the API's cap (the first at %s): "
                "groups beyond it cannot be fetched",
                endpoint.path,
                unit,
                len(overfull),
                GROUP_CAP,
                min(overfull),
            )
        rows: Rows = []
        for bucket in buckets:
            start = bucket["starting_at"]
            rows.extend({**r, "starting_at": start} for r in split.get(start, bucket["results"]))
        return [shape(rows)]

    def _split(
        self, client: AnalyticsClient, endpoint: Endpoint, starts: list[str], width: str, overfull: list[str]
    ) -> dict[str, Rows]:
        """Each capped bucket's groups (by its start), from finer buckets summed back per group.

        One pool of SPLIT_WORKERS threads per query, fed as answers arrive: a capped hour is queued as soon as
        its day's hours are in. Side by side (under the shared budget) because one after the other, a month of
        capped days would hold its window's unit, and the commits waiting on it in plan order, for one round
        trip per request; summed page by page, because a page of minutes holds up to 6,000 rows, and a query
        that kept its pages would keep them all while it waits for the budget.
        """
        sums = {start: GroupSums() for start in starts}  # summed as parts arrive: a month of days × 24 hours of
        # parts, kept until the end, would be 24 times the month's groups
        with ThreadPoolExecutor(max_workers=SPLIT_WORKERS, thread_name_prefix="split") as pool:
            pending = {pool.submit(self._finer, client, endpoint, s, width): (s, width) for s in starts}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        owner, asked = pending.pop(future)
                        summed, deeper, still_capped = future.result()
                        sums[owner].add(summed)
                        overfull.extend(still_capped)
                        finer = FINER[asked][0]  # the width the deeper starts were reported at
                        for start in deeper:
                            pending[pool.submit(self._finer, client, endpoint, start, finer)] = (owner, finer)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return {start: groups.rows() for start, groups in sums.items()}

    def _finer(
        self, client: AnalyticsClient, endpoint: Endpoint, start: str, width: str
    ) -> tuple[Rows, list[str], list[str]]:
        """A capped bucket asked again by the next finer width: (its groups summed over the finer buckets that
        are not capped, the starts of those still capped and finer still, the one-minute ones still capped)."""
        finer, span = FINER[width]
        moment = parse_instant(start)
        first, end = rfc3339(moment), rfc3339(moment + span)
        where = _where(endpoint, first, end, finer)
        log.info(
            "%s: the bucket at %s reports %d groups (the API's cap); fetching it by %s",
            endpoint.path,
            start,
            GROUP_CAP,
            finer,
        )

        def page(body: dict) -> tuple[Rows, list[str], list[str]]:
            kept = GroupSums()
            deeper: list[str] = []
            capped: list[str] = []
            for bucket in _buckets_of(body, where):
                if len(bucket["results"]) >= GROUP_CAP:
                    if finer in FINER:
                        deeper.append(bucket["starting_at"])
                        continue
                    capped.append(bucket["starting_at"])  # a minute is as fine as it gets: what came is all there is
                kept.add(bucket["results"])
            return kept.rows(), deeper, capped

        pages = client.pages(endpoint.path, _params(endpoint, first, end, finer), page, where=where)
        return (
            sum_groups(row for summed, _, _ in pages for row in summed),
            [s for _, deeper, _ in pages for s in deeper],
            [s for _, _, capped in pages for s in capped],
        )


def _where(endpoint: Endpoint, start: str, end: str, width: str) -> str:
    if width == "1d":
        return f"{endpoint.path} {start[:10]}..{end[:10]} (end exclusive)"
    return f"{endpoint.path} {start[:10]} {start[11:16]} by {width}"


def _params(endpoint: Endpoint, start: str, end: str, width: str) -> dict[str, Any]:
    return {
        "starting_at": start,
        "ending_at": end,
        "bucket_width": width,
        "group_by[]": list(endpoint.group_by),
        "limit": MAX_BUCKETS_PER_PAGE[width],
    }


def _buckets_of(body: dict, where: str) -> Iterator[dict[str, Any]]:
    """A report page's buckets, checked, with the envelope's stamps on their rows."""
    for bucket in _list(body, ("data",), where):
        if (
            not isinstance(bucket, dict)
            or not isinstance(bucket.get("results"), list)
            or not isinstance(bucket.get("starting_at"), str)
        ):
            raise UnexpectedResponse(
                f"{where}: a bucket has no starting_at or results list; the API may "
                "have changed — please report it with this message",
                status=200,
            )
        yield {**bucket, "results": _stamp(bucket["results"], body)}


def _add(total: Any, value: Any) -> Any:
    if value is None:
        return total
    if total is None:
        return value
    if isinstance(total, dict) and isinstance(value, dict):
        return {k: _add(total.get(k), value.get(k)) for k in {**total, **value}}
    if isinstance(value, (str, Decimal)):  # money: decimal strings or their sums, exact (other text: the first one's)
        try:
            return Decimal(total) + Decimal(value)
        except (InvalidOperation, TypeError):
            return total
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return total + value
    return total  # a text field other than a dimension: the first one's


class GroupSums:
    """Rows summed per group (equal dimensions), field by field (money exactly), as they arrive."""

    def __init__(self) -> None:
        self._groups: dict[tuple, dict[str, Any]] = {}

    def add(self, rows: Iterable[dict[str, Any]]) -> GroupSums:
        groups = self._groups
        for row in rows:
            key = tuple(row.get(k) for k in DIMENSIONS)
            total = groups.get(key)
            if total is None:
                groups[key] = dict(row)
                continue
            for name, value in row.items():
                if name in DIMENSIONS or name in ("currency", *ENVELOPE_KEYS):
                    continue
                total[name] = _add(total.get(name), value)
        return self

    def rows(self) -> Rows:
        return list(self._groups.values())


def sum_groups(rows: Iterable[dict[str, Any]]) -> Rows:
    """Rows of the same group (equal dimensions) summed into one, field by field (money exactly)."""
    return GroupSums().add(rows).rows()


QUERIES: dict[str, Query] = {
    "day": DayQuery(),
    "summary": SummaryQuery(),
    "bucket_report": BucketReportQuery(),
    "user_report": UserReportQuery(),
}
