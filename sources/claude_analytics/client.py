"""HTTP client for the Analytics API: headers, the shared budget, retries, pagination, precise errors.

Knows nothing of dlt or tables. Every error message is one line that says what to do, and none
contains the API key (we never format headers or the client into messages).

Errors, as a tree:

    AnalyticsAPIError
    ├── SetupError                 a configuration problem the user must fix: exit 2
    │   ├── AccessDenied           the key was rejected (401/403/404 before any endpoint accepted it)
    │   └── Unreachable            nothing answers at base_url
    ├── EndpointUnavailable        403/404 on one endpoint while the key works elsewhere (a plan without it)
    ├── DayNotAvailable            400: the day is newer than the API serves yet (`latest` when it names it)
    ├── DayTooOld                  400: the day is outside the API's history (`earliest` when it names it)
    ├── CursorRejected             410 / 400 about `page`: restart the query from page 1
    ├── RetriesExhausted           429 / 5xx / timeouts / broken bodies outlasted the retry budget
    ├── InvalidRequest             any other 4xx
    └── UnexpectedResponse         a 200 whose body is not the documented shape
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from .budget import RequestBudget

log = logging.getLogger("claude_analytics.client")

T = TypeVar("T")

API_VERSION = "2023-06-01"
USER_AGENT = "claude-analytics/0.2 (+dlt)"
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
KEY_HELP = (
    "use an Analytics API key with the read:analytics scope, created by the organization's Primary Owner "
    "in claude.ai (Analytics → API keys); Admin API keys (sk-ant-admin…) do not work here"
)


class AnalyticsAPIError(Exception):
    """Base of every error the client raises; `str()` is a one-line message."""

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None, path: str | None = None
    ):
        super().__init__(message)
        self.status = status
        self.request_id = request_id
        self.path = path


class SetupError(AnalyticsAPIError):
    """A configuration problem the user must fix (bad key, wrong URL): never retried at length."""


class AccessDenied(SetupError):
    """The key was rejected (401/403/404): fatal, never retried."""


class Unreachable(SetupError):
    """Nothing answers at base_url (connection refused, unknown host) and nothing ever did this run."""


class EndpointUnavailable(AnalyticsAPIError):
    """403/404 on an endpoint that never answered this run while another one accepted the key."""


class DayNotAvailable(AnalyticsAPIError):
    """The requested day is newer than the API serves yet; `latest` is the newest day it named, if any."""

    def __init__(self, message: str, *, latest: dt.date | None, **kw: Any):
        super().__init__(message, **kw)
        self.latest = latest


class DayTooOld(AnalyticsAPIError):
    """The requested day is before 2026-01-01 or outside the API's history; `earliest` if the answer names it."""

    def __init__(self, message: str, *, earliest: dt.date | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.earliest = earliest


class CursorRejected(AnalyticsAPIError):
    """The page cursor expired (410) or no longer matches the query (400): restart the query."""


class RetriesExhausted(AnalyticsAPIError):
    """Transient failures (429, 5xx, timeouts, broken bodies) outlasted the retry budget."""


class InvalidRequest(AnalyticsAPIError):
    """Any other 4xx answer."""


class UnexpectedResponse(AnalyticsAPIError):
    """A 200 answer whose body is not the documented shape."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long the client keeps trying: attempts per request, waits, cursor restarts per query."""

    max_attempts: int = 6  # per request, for 5xx, timeouts, dropped connections, truncated bodies
    max_rate_limited: int = 12  # 429 answers waited out per request
    backoff_base: float = 1.0  # seconds; doubled per attempt, with jitter
    backoff_max: float = 60.0
    max_cursor_restarts: int = 3  # per query, after its page cursor expired or was rejected


DEFAULT_RETRY = RetryPolicy()


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    cursor_restarts: int = 0
    by_status: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status: int | str, *, retry: bool = False) -> None:
        with self._lock:
            self.requests += 1
            self.by_status[status] += 1
            self.retries += retry
            self.rate_limited += status == 429

    def restarted(self) -> None:
        with self._lock:
            self.cursor_restarts += 1


_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b")


def _named_days(message: str) -> list[dt.date]:
    days = []
    for text in _DATE.findall(message):
        with contextlib.suppress(ValueError):
            days.append(dt.date.fromisoformat(text))
    return days


def _error_parts(response: httpx.Response) -> tuple[str, str | None]:
    """(message, request id) from an Anthropic-style error body, tolerating anything else."""
    request_id = response.headers.get("request-id")
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        request_id = body.get("request_id") or request_id
        err = body.get("error")
        if isinstance(err, dict):
            message = str(err.get("message") or "")
        elif isinstance(body.get("message"), str):
            message = body["message"]
    if not message:
        message = response.text[:200].replace("\n", " ").strip()
    return message, request_id


def classify_bad_request(message: str, requested: dt.date | None) -> str:
    """'not_available' | 'too_old' | 'cursor' | 'other' for a 400 answer's message.

    Public docs show no wording, so match the usual phrases, then fall back on the days the message
    names: a rejected day whose message names only older days was too new, only newer days too old.
    """
    text = message.lower()
    if "cursor" in text or "page token" in text or "'page'" in text:
        return "cursor"
    if any(
        k in text
        for k in (
            "not yet available",
            "not available yet",
            "most recent",
            "latest available",
            "in the future",
            "too recent",
            "not yet been",
        )
    ):
        return "not_available"
    if any(
        k in text
        for k in (
            "too old",
            "older than",
            "history window",
            "retention",
            "earliest available",
            "before 2026-01-01",
            "no longer available",
            "within the last",
            "earliest allowed",
        )
    ):
        return "too_old"
    named = set(_named_days(message)) - {requested}
    if requested is not None and named:
        if all(d < requested for d in named):
            return "not_available"
        if all(d > requested for d in named):
            return "too_old"
    return "other"


def latest_named(message: str, requested: dt.date | None) -> dt.date | None:
    """The latest available day a not-yet-available message names (the newest day before `requested`)."""
    days = [d for d in _named_days(message) if requested is None or d < requested]
    return max(days) if days else None


def earliest_named(message: str, requested: dt.date | None) -> dt.date | None:
    """The earliest available day a too-old message names (the oldest day after `requested`)."""
    days = [d for d in _named_days(message) if requested is None or d > requested]
    return min(days) if days else None


def first_line(exc: BaseException) -> str:
    """The most specific one-line reason of an exception chain.

    Follows `raise … from exc` (libraries wrap drivers' errors that way) and implicit context, but stops
    where the code said `from None`: there the outer message is the real reason.
    """
    while True:
        inner = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if inner is None:
            break
        exc = inner
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None


class AnalyticsClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        budget: RequestBudget,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        max_connections: int = 64,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise AccessDenied(
                f"no API key is configured: set SOURCES__CLAUDE_ANALYTICS__API_KEY or "
                f"api_key in .dlt/secrets.toml; {KEY_HELP}"
            )
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.retry = retry or DEFAULT_RETRY
        self.stats = ClientStats()
        self._sleep = sleep
        self._answered = False  # has any HTTP answer arrived? (tells a wrong URL from a network blip)
        self._accepted: set[str] = set()  # paths that answered 200 this run (the key works there)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"x-api-key": api_key, "anthropic-version": API_VERSION, "user-agent": USER_AGENT},
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )

    def __repr__(self) -> str:  # never show headers
        return f"AnalyticsClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AnalyticsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def key_accepted(self) -> bool:
        return bool(self._accepted)

    # -- one request, with retries ---------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return min(self.retry.backoff_max, self.retry.backoff_base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)

    def get(
        self,
        path: str,
        params: dict[str, Any],
        *,
        where: str | None = None,
        day: dt.date | None = None,
        priority: bool = False,
    ) -> dict:
        """GET one page as a JSON object; retries transient failures within the retry budget.

        `day` is the day the request is about (to read 400 answers); `priority` jumps the budget's queue.
        """
        failures = rate_limited = 0
        where = where or path
        while True:
            self.budget.acquire(priority=priority)
            retry = failures + rate_limited > 0
            try:
                response, content = self._fetch(path, params)
            except httpx.TimeoutException:
                self.stats.count("timeout", retry=retry)
                reason = "timed out"
            except httpx.TransportError as exc:
                self.stats.count("connection", retry=retry)
                reason = f"connection failed ({type(exc).__name__})"
                if isinstance(exc, httpx.ConnectError) and not self._answered and failures >= 1:
                    raise Unreachable(
                        f"cannot connect to {self.base_url} ({first_line(exc)}): check base_url "
                        "(SOURCES__CLAUDE_ANALYTICS__BASE_URL) and the network",
                        path=path,
                    ) from None
            else:
                self._answered = True
                status = response.status_code
                self.stats.count(status, retry=retry)
                if status == 200:
                    body = self._json(content, where, path)
                    if body is not None:
                        self._accepted.add(path)
                        return body
                    reason = "answered with a body that is not complete JSON"
                elif status == 429:
                    rate_limited += 1
                    self._wait_rate_limited(response, where, path, rate_limited)
                    continue
                elif status in RETRYABLE_STATUSES:
                    reason = f"HTTP {status}"
                else:
                    raise self._error(response, path, where, day)
            failures += 1
            if failures >= self.retry.max_attempts:
                raise RetriesExhausted(
                    f"{where}: {reason} on {failures} attempts; the API or the network is failing — "
                    "run again later (days loaded so far are kept)",
                    path=path,
                )
            wait = self._backoff(failures)
            log.info(
                "%s: %s, retrying in %.1f s (attempt %d of %d)",
                where,
                reason,
                wait,
                failures + 1,
                self.retry.max_attempts,
            )
            self._sleep(wait)

    def _fetch(self, path: str, params: dict[str, Any]) -> tuple[httpx.Response, bytes]:
        """One answer and, for a 200, its body apart from the response object.

        httpx ties every response into a reference cycle (response -> stream -> response), so a body kept on
        the response lives until the cyclic collector's next full pass: measured at ~100 pages (105 MB) alive
        at once during a backfill. A 200's body is read into a local that is freed as soon as it is parsed.
        """
        with self._http.stream("GET", path, params=params) as response:
            if response.status_code == 200:
                return response, b"".join(response.iter_bytes())
            response.read()  # error answers are small and read by _error
            return response, b""

    def _json(self, content: bytes, where: str, path: str) -> dict | None:
        try:
            body = json.loads(content)
        except ValueError:
            return None  # truncated: retried
        if not isinstance(body, dict):
            raise UnexpectedResponse(
                f"{where}: the API answered with a JSON {type(body).__name__}, not an object; "
                f"check base_url ({self.base_url})",
                status=200,
                path=path,
            )
        return body

    def _wait_rate_limited(self, response: httpx.Response, where: str, path: str, times: int) -> None:
        if times > self.retry.max_rate_limited:
            raise RetriesExhausted(
                f"{where}: still rate limited (HTTP 429) after {times - 1} waits; another tool may be using "
                "the organization's 60 requests/minute: lower requests_per_minute or run later",
                status=429,
                path=path,
            )
        wait = _retry_after(response) or self._backoff(times)
        log.warning("%s: rate limited (HTTP 429), all requests wait %.1f s", where, wait)
        self.budget.pause(wait)

    def _error(self, response: httpx.Response, path: str, where: str, day: dt.date | None) -> AnalyticsAPIError:
        status = response.status_code
        message, request_id = _error_parts(response)
        rid = f" (request id {request_id})" if request_id else ""
        kw: dict[str, Any] = dict(status=status, request_id=request_id, path=path)
        if status in (401, 403, 404):
            if self._accepted and path not in self._accepted:
                return EndpointUnavailable(
                    f"{path} is not available to this organization (HTTP {status}: {message}){rid}", **kw
                )
            return AccessDenied(
                f"the Analytics API rejected the key (HTTP {status} on {path}): {KEY_HELP}; "
                f"if the key is right, check base_url ({self.base_url})",
                **kw,
            )
        if status == 410:
            return CursorRejected(f"{where}: the page cursor expired (HTTP 410){rid}", **kw)
        if status == 400:
            kind = classify_bad_request(message, day)
            if kind == "not_available":
                return DayNotAvailable(
                    f"{where}: not available yet: {message}{rid}", latest=latest_named(message, day), **kw
                )
            if kind == "too_old":
                return DayTooOld(
                    f"{where}: outside the days the API serves: {message}{rid}",
                    earliest=earliest_named(message, day),
                    **kw,
                )
            if kind == "cursor":
                return CursorRejected(f"{where}: the page cursor was rejected: {message}{rid}", **kw)
        return InvalidRequest(f"{where}: the API answered HTTP {status}: {message}{rid}", **kw)

    # -- pagination ---------------------------------------------------------------------------------

    def pages(
        self,
        path: str,
        params: dict[str, Any],
        on_page: Callable[[dict], T],
        *,
        where: str | None = None,
        day: dt.date | None = None,
        max_pages: int | None = None,
    ) -> list[T]:
        """Every page of one query, each turned by `on_page` into what the caller keeps (raw JSON is dropped).

        Follows `next_page` while it is set, whatever `has_more` says (the engagement endpoints send none; the
        reports' is false exactly when `next_page` is null). A rejected or expired cursor restarts the query from
        page 1, at most `max_cursor_restarts` times, with priority so that its pages go back to back.
        `max_pages` stops early (a probe).
        """
        where = where or path
        restarts = 0
        while True:
            kept: list[T] = []
            query = dict(params)
            try:
                while True:
                    body = self.get(path, query, where=where, day=day, priority=restarts > 0)
                    kept.append(on_page(body))
                    cursor = body.get("next_page")
                    if not cursor or len(kept) == max_pages:
                        return kept
                    query = {**params, "page": cursor}
            except CursorRejected as exc:
                restarts += 1
                self.stats.restarted()
                if restarts > self.retry.max_cursor_restarts:
                    raise CursorRejected(
                        f"{where}: the API rejected or expired the page cursor on {restarts} attempts in a row "
                        f"({exc.status and f'HTTP {exc.status}'}); restarted from page 1 {restarts - 1} times",
                        status=exc.status,
                        request_id=exc.request_id,
                        path=path,
                    ) from None
                log.info("%s: %s; restarting from page 1 with priority", where, exc)
