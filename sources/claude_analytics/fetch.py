"""Fetching one request unit of one endpoint into an Arrow batch, and what became of it.

`UnitFetcher` is safe to call from many threads (a driver may run it on a pool); every outcome that is
not an error to stop on comes back as a `Batch`:

| outcome          | when                                                    | rows | the cursor            |
|------------------|---------------------------------------------------------|------|-----------------------|
| `loaded`         | fetched (a window cut at the newest day the API serves) | yes  | moves over `covered`  |
| `too_old`        | the API no longer serves the days (400 "too old")       | no   | moves over them       |
| `failed`         | the page cursor kept expiring, restarts exhausted       | no   | moves; days missing   |
| `not_available`  | newer than the API serves yet (400, `latest` learnt)    | no   | stays                 |
| `unavailable`    | 403/404 on this endpoint while the key works elsewhere  | no   | stays                 |

Anything else (a rejected key, retries exhausted, an unexpected answer) is raised.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from .client import AnalyticsClient, CursorRejected, DayNotAvailable, DayTooOld, EndpointUnavailable
from .days import ONE_DAY, Unit
from .endpoints import Endpoint
from .queries import QUERIES
from .rows import Pseudonymize, TableShaper

log = logging.getLogger("claude_analytics.fetch")

Outcome = Literal["loaded", "too_old", "failed", "not_available", "unavailable"]


@dataclass
class Batch:
    endpoint: Endpoint
    unit: Unit  # as planned
    table: pa.Table | None = None
    covered: Unit | None = None  # the days this batch speaks for (loaded: replaced whole in the table)
    outcome: Outcome = "loaded"
    reason: str = ""  # why it was not loaded
    latest: dt.date | None = None  # not_available (or a cut window): the newest day the endpoint serves
    pages: int = 0  # answers it took

    @property
    def rows(self) -> int:
        return self.table.num_rows if self.table is not None else 0

    @property
    def nbytes(self) -> int:
        """What its Arrow table holds in memory."""
        return self.table.nbytes if self.table is not None else 0


class UnitFetcher:
    """Fetches one unit of one endpoint: every page, shaped page by page, as one Arrow table."""

    def __init__(
        self,
        client: AnalyticsClient,
        endpoints: list[Endpoint],
        page_size: int,
        known_types: dict[str, dict[str, str]] | None = None,
        pseudonymize: Pseudonymize | None = None,
    ) -> None:
        self.client = client
        self.page_size = page_size
        known_types = known_types or {}
        self.shapers = {e.table: TableShaper(e, known_types.get(e.table), pseudonymize) for e in endpoints}
        self._locks = {e.table: threading.Lock() for e in endpoints}

    def __call__(self, endpoint: Endpoint, unit: Unit, *, max_pages: int | None = None) -> Batch:
        """The unit's batch (`max_pages`: only its first pages, a probe)."""
        where = f"{endpoint.path} {unit}"
        try:
            return self._fetch(endpoint, unit, max_pages)
        except DayNotAvailable as exc:
            newest = exc.latest if exc.latest is not None and exc.latest < unit.last else unit.last - ONE_DAY
            if unit.first <= newest:  # a window: the part the API serves
                log.info("%s: the API serves days up to %s; loading %s..%s", where, newest, unit.first, newest)
                cut = self(endpoint, Unit(unit.first, newest), max_pages=max_pages)
                cut.unit, cut.latest = unit, cut.latest or newest
                return cut
            return Batch(endpoint, unit, outcome="not_available", reason=str(exc), latest=newest)
        except DayTooOld as exc:
            log.warning("%s: skipped: %s", where, exc)
            return Batch(endpoint, unit, covered=unit, outcome="too_old", reason=str(exc))
        except CursorRejected as exc:
            log.warning("%s: not loaded, left for the next run: %s", where, exc)
            return Batch(endpoint, unit, covered=unit, outcome="failed", reason=str(exc))
        except EndpointUnavailable as exc:
            return Batch(endpoint, unit, outcome="unavailable", reason=str(exc))

    def _fetch(self, endpoint: Endpoint, unit: Unit, max_pages: int | None) -> Batch:
        shaper, lock = self.shapers[endpoint.table], self._locks[endpoint.table]
        where = f"{endpoint.path} {unit}"
        day = unit.first if endpoint.kind == "day" else None

        def shape(rows: list[dict]) -> pa.Table:
            with lock:  # the shaper learns column types; keep that consistent across threads
                return shaper.shape(rows, day, where=where)

        tables = QUERIES[endpoint.kind].fetch(self.client, endpoint, unit, self.page_size, shape, max_pages)
        table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
        with lock:
            table = shaper.finish(table, unit.first, unit.last, where=where)
        return Batch(endpoint, unit, table, covered=unit, pages=len(tables))


Fetch = Callable[[Endpoint, Unit], Batch]
