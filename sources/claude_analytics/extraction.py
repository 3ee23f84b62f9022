"""One load's machinery, made once per extraction: the client, the learnt calendar, the plan, the fetcher.

The plain source makes one per dlt extraction (a new load id, a new `Extraction`: nothing learnt from the
API is remembered between runs); a driver such as `pipelines.runner` makes one per run and shares it
between its chunks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Any

import dlt

from . import days
from .budget import shared_budget
from .calendar import Calendar, learn_calendar
from .client import AnalyticsClient, RetryPolicy
from .days import API_FLOOR, Progress, Unit, parse_day, plan_units
from .endpoints import Endpoint
from .fetch import UnitFetcher
from .privacy import Pseudonymizer
from .settings import ClaudeAnalyticsSettings


class RangeError(ValueError):
    """An explicit range of days is invalid; the message says how to fix it."""


def parse_range(start: str | dt.date | None, end: str | dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """An explicit [start, end] range (either may be None), checked; RangeError otherwise."""
    try:
        first = parse_day(start, "start date") if start else None
        last = parse_day(end, "end date") if end else None
    except ValueError as exc:
        raise RangeError(str(exc)) from None
    if first and last and first > last:
        raise RangeError(f"the start date {first} is after the end date {last}: swap them")
    if first and first < API_FLOOR:
        raise RangeError(f"the start date {first} is before {API_FLOOR}, the first day the API serves")
    return first, last


def schema_types(schema: Any) -> dict[str, dict[str, str]]:
    """table → column → dlt type, as the destination has them (a dlt schema; {} before the first load)."""
    if schema is None:
        return {}
    return {
        name: {c: col["data_type"] for c, col in table.get("columns", {}).items() if col.get("data_type")}
        for name, table in schema.tables.items()
    }


def pseudonymizer_of(settings: ClaudeAnalyticsSettings) -> Pseudonymizer | None:
    key = settings.pseudonym_key
    return Pseudonymizer(str(key)) if settings.pseudonymize and key else None


class Extraction:
    def __init__(
        self,
        settings: ClaudeAnalyticsSettings,
        endpoints: list[Endpoint],
        *,
        known_types: dict[str, dict[str, str]] | None = None,
        today: dt.date | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.known_types = known_types or {}
        self.today = today or days.utc_today()
        self.retry = retry

    @cached_property
    def client(self) -> AnalyticsClient:
        s = self.settings
        return AnalyticsClient(
            s.base_url, s.api_key, shared_budget(s.base_url, s.api_key or "", s.requests_per_minute), retry=self.retry
        )

    @cached_property
    def calendar(self) -> Calendar:
        return learn_calendar(self.client, self.settings, {e.family for e in self.endpoints}, self.today)

    @cached_property
    def pseudonymizer(self) -> Pseudonymizer | None:
        return pseudonymizer_of(self.settings)

    @cached_property
    def fetch(self) -> UnitFetcher:
        return UnitFetcher(self.client, self.endpoints, self.settings.page_size, self.known_types, self.pseudonymizer)

    def plan(
        self, endpoint: Endpoint, progress: Progress, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[Unit]:
        """The units `endpoint` loads this run: an explicit range, or the nightly range from its cursor."""
        return plan_units(
            endpoint.max_window_days,
            progress,
            self.calendar.edges_of(endpoint),
            self.calendar.lookback_of(endpoint),
            start,
            end,
        )

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()


class PerLoad:
    """The `Extraction` of the dlt extraction in progress: a new one for every load id."""

    def __init__(self, make: Callable[[], Extraction]) -> None:
        self._make = make
        self._load_id: str | None = None
        self._current: Extraction | None = None

    def current(self) -> Extraction:
        try:
            load_id = dlt.current.load_package_state()["load_id"]
        except Exception:  # outside an extraction (a test calling a resource directly): one of its own
            load_id = None
        if self._current is None or load_id is None or load_id != self._load_id:
            if self._current is not None:
                self._current.close()
            self._current, self._load_id = self._make(), load_id
        return self._current
