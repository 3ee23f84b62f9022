"""The HTTP side of the simulator: routes, auth, date rules, pagination, rate limit, faults, stats.

Everything here follows the project's working reference of the API (analytics-api.md, §1–§6),
and nothing else: the simulator must stay an independent witness of the pipeline. The organization's
rows come from `data.Organization`, the cost & usage reports from `report_answers`. Standard library only.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import hashlib
import hmac
import json
import math
import re
import secrets
import socket
import threading
import time
import traceback
from collections import OrderedDict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .config import BASE_PATH, DATA_FLOOR, ENGAGEMENT_PATHS, REPORT_PATHS, SERVED_PATHS, SimulatorConfig
from .data import Organization
from .errors import ApiError, shown
from .people import identities, org_chart
from .report_answers import ReportBook, Settings
from .report_query import PER_USER, ReportQuery, View, group_by_values, instant, midnight, parse_report_query
from .reports import ReportData

MAX_LIMIT = 1000
OTHER_DEFAULT_LIMIT = 100  # default `limit` of every per-day endpoint except /users
MAX_SUMMARY_DAYS = 31
SERVER_ERRORS = (500, 502, 503, 504)
# Rows kept serialized in memory (about 2 KB per /users row: some 100 MB, or ~8 days of 10,000 users).
ROW_CACHE_BUDGET = 50_000
DROPPED = 0  # the status recorded for a dropped connection: nothing was sent

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LIMIT_RE = re.compile(r"^[0-9]+$")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    410: "not_found_error",
    429: "rate_limit_error",
}
_SERVER_ERROR_MESSAGES = {
    500: "Internal server error.",
    502: "Bad gateway: the upstream analytics service did not answer.",
    503: "The analytics service is temporarily unavailable. Please retry.",
    504: "Gateway timeout: the analytics query took too long. Please retry.",
}
ONE_DAY = datetime.timedelta(days=1)


def _unit(*parts: object) -> float:
    """A stable uniform float in [0, 1): how faults and latency are decided per request."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _max_in_window(times: list[float], window: float) -> int:
    """The largest number of arrivals in any window (t - window, t]."""
    best = i = 0
    for j, t in enumerate(times):
        while i < j and times[i] <= t - window:
            i += 1
        best = max(best, j - i + 1)
    return best


class Simulator:
    """A local, faithful stand-in for the Claude Enterprise Analytics API."""

    def __init__(self, config: SimulatorConfig | None = None, **overrides):
        if config is None:
            config = SimulatorConfig(**overrides)
        elif overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = config
        self._lock = threading.Lock()  # stats, log, limiter, sequence
        self._data_lock = threading.RLock()  # organization and row cache
        self._org: Organization | None = None
        self._book: ReportBook | None = None  # the cost & usage reports of the organization, cached
        # Serialized rows per (endpoint, day), least recently used first, bounded by a row budget.
        self._rows: OrderedDict[tuple, list[str]] = OrderedDict()
        self._rows_cached = 0
        self._log: list[dict] = []
        self._seq = 0
        self._accepted: deque[float] = deque()  # arrival times of requests the limiter let through
        self._in_flight = self._max_in_flight = 0  # requests being answered now / at most at once
        self.clock = time.monotonic  # arrival times of the limiter and the log (tests may replace it)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.base_url = ""

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        if self._server is not None:
            raise RuntimeError("simulator already started")
        handler = type("SimulatorHandler", (_Handler,), {"simulator": self})
        server_cls = _IPv6Server if ":" in host else _Server
        self._server = server_cls((host, port), handler)
        bound_port = self._server.server_address[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown_host}:{bound_port}{BASE_PATH}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"claude-analytics-simulator:{bound_port}",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        # Kept-alive connections live in their own threads: cut them so nothing is served after stop.
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def api_key(self) -> str:
        return self.config.api_key

    # ---- days ------------------------------------------------------------------------------------

    def today(self) -> datetime.date:
        return self.config.today or datetime.datetime.now(datetime.timezone.utc).date()

    def latest_available_day(self) -> datetime.date:
        return self.today() - datetime.timedelta(days=self.config.availability_lag_days)

    def earliest_available_day(self) -> datetime.date:
        if self.config.history_days is None:
            return DATA_FLOOR
        return max(DATA_FLOOR, self.today() - datetime.timedelta(days=self.config.history_days))

    def _revision_for(self, day: datetime.date, latest: datetime.date | None = None) -> int:
        """The revision served for a day: only the most recent `revision_days` available days move."""
        cfg = self.config
        latest = latest or self.latest_available_day()
        if cfg.revision > 0 and latest - datetime.timedelta(days=cfg.revision_days) < day <= latest:
            return cfg.revision
        return 0

    def _growth(self, day: datetime.date) -> bool:
        return self.config.growth_from is not None and day >= self.config.growth_from

    # ---- data ------------------------------------------------------------------------------------

    def organization(self) -> Organization:
        cfg = self.config
        with self._data_lock:
            if self._org is None or (self._org.seed, self._org.size) != (cfg.seed, cfg.users):
                self._org = Organization(cfg.seed, cfg.users)
                self._rows.clear()
                self._rows_cached = 0
                self._book = None
            return self._org

    def _reports(self) -> ReportBook:
        """The report book of the current organization and model count (rebuilt when either changes)."""
        org = self.organization()
        with self._data_lock:
            book = self._book
            if book is None or book.data.org is not org or len(book.data.models) != max(1, self.config.report_models):
                book = self._book = ReportBook(ReportData(org, self.config.report_models))
            return book

    def _report_settings(self) -> Settings:
        cfg = self.config
        return Settings(
            self.today(),
            max(0, cfg.report_group_cap),
            tuple(cfg.money_samples),
            cfg.cost_revision,
            cfg.cost_revision_days,
        )

    def _serialized_rows(self, path: str, day: datetime.date, latest: datetime.date | None = None) -> list[str]:
        """The day's rows as served: the organization's rows with any configured quirk of that day applied."""
        rows = self._organization_rows(path, day, latest)
        quirk = self.config.quirks.get(day)
        if quirk == "empty":
            return []
        if quirk is None or not rows:
            return rows
        return apply_quirk(quirk, path, rows)

    def _organization_rows(self, path: str, day: datetime.date, latest: datetime.date | None = None) -> list[str]:
        """The day's rows of a per-day endpoint as compact JSON strings (cached: pages are slices)."""
        org = self.organization()
        revision, growth = self._revision_for(day, latest), self._growth(day)
        key = (org.seed, org.size, path, day, revision, growth)
        cache = self._rows
        with self._data_lock:
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
                return hit
            make = {
                "/users": org.user_rows,
                "/apps/chat/projects": org.project_rows,
                "/skills": org.skill_rows,
                "/connectors": org.connector_rows,
                "/plugins": org.plugin_rows,
                "/artifacts": org.artifact_rows,
            }[path]
            rows = [json.dumps(r, separators=(",", ":")) for r in make(day, revision, growth)]
            cache[key] = rows
            self._rows_cached += len(rows)
            while self._rows_cached > ROW_CACHE_BUDGET and len(cache) > 1:
                self._rows_cached -= len(cache.popitem(last=False)[1])
            return rows

    def _summary_row(self, day: datetime.date, latest: datetime.date | None = None) -> dict:
        latest = latest or self.latest_available_day()
        return self.organization().summary_row(
            day, lambda d: self._revision_for(d, latest), self.config.summaries_period_keys
        )

    def expected(self, path: str, day: datetime.date) -> list[dict]:
        """The exact rows the API serves for a day (all pages), as fresh Python objects."""
        if path in REPORT_PATHS:
            raise ValueError(f"{path} is a cost & usage report: use expected_report({path!r}, day, group_by=...)")
        if path not in ENGAGEMENT_PATHS:
            raise ValueError(f"unknown endpoint path {path!r}; expected one of {ENGAGEMENT_PATHS}")
        if path == "/summaries":
            return [self._summary_row(day)]
        return [json.loads(r) for r in self._serialized_rows(path, day)]

    def expected_report(self, path: str, day: datetime.date, group_by: tuple[str, ...] = ()) -> list[dict]:
        """The uncapped truth of one UTC day of a cost & usage report at `bucket_width=1d`.

        Bucketed reports: the result dicts of the day's bucket (every group with traffic, in served
        order, as if there were no cap). Per-user reports: the day's rows, default order, with
        `starting_at`/`ending_at`. Revisions and money samples apply as served.
        """
        if path not in REPORT_PATHS:
            raise ValueError(f"unknown report path {path!r}; expected one of {REPORT_PATHS}")
        settings = dataclasses.replace(self._report_settings(), cap=None)
        if not DATA_FLOOR <= day < settings.today:
            raise ValueError(
                f"{day} is not served: reports cover {DATA_FLOOR} up to yesterday ({settings.today} excluded)"
            )
        cost = path in ("/cost_report", "/user_cost_report")
        try:
            grouping = group_by_values({"group_by[]": list(group_by)}, cost)
        except ApiError as err:
            raise ValueError(err.message) from None
        view = View(cost=cost, per_user=path in PER_USER, group_by=grouping)
        start = midnight(day)
        query = ReportQuery(path, view, start, start + ONE_DAY, "1d", 1, True)
        return [json.loads(r) for r in self._reports().rows(query, settings, 0)[0]]

    def report_envelope(self) -> dict:
        """The `data_refreshed_at` and `organization_id` every report answer carries right now."""
        return {"data_refreshed_at": self._refreshed_at(), "organization_id": self._reports().data.organization_id()}

    def org_chart(self) -> list[dict]:
        """The organization's people with their department, team, manager, cost center and location."""
        return org_chart(self.organization())

    def identities(self) -> dict[str, list[str]]:
        """{"emails": [...], "names": [...]}: every email and person name the simulator can show."""
        return identities(self.organization())

    def cache_info(self) -> dict:
        """How much was generated and reused: engagement row days, report days, report bucket hits."""
        book = self._book
        with self._data_lock:
            return {
                "row_days": len(self._rows),
                "rows": self._rows_cached,
                "report_days_generated": book.data.generated if book else 0,
                "report_hits": book.hits if book else 0,
                "report_misses": book.misses if book else 0,
            }

    # ---- observability ---------------------------------------------------------------------------

    def stats(self) -> dict:
        with self._lock:
            log = [dict(e) for e in self._log]
        by_path: dict[str, dict[int, int]] = {}
        faults: dict[str, int] = {}
        for e in log:
            codes = by_path.setdefault(e["path"], {})
            codes[e["status"]] = codes.get(e["status"], 0) + 1
            if e["fault"]:
                faults[e["fault"]] = faults.get(e["fault"], 0) + 1
        times = sorted(e["t"] for e in log)
        return {
            "total": len(log),
            "by_path": by_path,
            "rate_limited": sum(1 for e in log if e["status"] == 429),
            "max_in_window": _max_in_window(times, self.config.rate_window_seconds),
            "max_in_60s": _max_in_window(times, 60.0),
            "faults": faults,
            "max_in_flight": self._max_in_flight,
        }

    def reset_stats(self) -> None:
        """Forget the log and restart the fault sequence (the rate limiter keeps its window)."""
        with self._lock:
            self._log.clear()
            self._seq = 0
            self._max_in_flight = self._in_flight

    def request_log(self) -> list[dict]:
        with self._lock:
            return [
                {**e, "params": {k: list(v) if isinstance(v, list) else v for k, v in e["params"].items()}}
                for e in self._log
            ]

    # ---- request handling ------------------------------------------------------------------------

    def _handle(self, handler: _Handler, method: str) -> None:
        cfg = self.config
        parts = urlsplit(handler.path)
        path = parts.path[len(BASE_PATH) :] if parts.path.startswith(BASE_PATH + "/") else parts.path
        params: dict[str, str | list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.endswith("[]"):
                params.setdefault(key, []).append(value)  # type: ignore[union-attr]
            else:
                params[key] = value  # a repeated scalar: the last one wins
        with self._lock:
            # Arrival time, sequence number and limiter decision are taken together, so they agree.
            arrival = self.clock()
            entry = {"t": arrival, "path": path, "params": params, "status": None, "fault": None}
            seq = self._seq
            self._seq += 1
            wait = self._admit(arrival, cfg)
            self._log.append(entry)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            self._respond(handler, method, path, parts.path, params, entry, seq, wait, cfg)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _respond(
        self,
        handler: _Handler,
        method: str,
        path: str,
        raw_path: str,
        params: dict,
        entry: dict,
        seq: int,
        wait: int | None,
        cfg: SimulatorConfig,
    ) -> None:
        faults = cfg.faults
        rid = "req_" + secrets.token_hex(12)

        if faults.latency_max > 0 or faults.latency_min > 0:
            low, high = faults.latency_min, max(faults.latency_min, faults.latency_max)
            time.sleep(low + (high - low) * _unit(cfg.seed, seq, "latency"))

        truncate = False
        headers: dict[str, str] = {}
        try:
            if wait is not None:
                raise self._rate_limited(wait, cfg)
            if method != "GET":
                handler.close_connection = True  # any request body stays unread
                raise ApiError(
                    405, f"Method {method} is not allowed: the Analytics API only accepts GET.", {"allow": "GET"}
                )
            self._authenticate(handler, cfg, path)
            if path not in SERVED_PATHS:
                raise ApiError(404, f"Not found: {shown(raw_path)} is not an Analytics API endpoint.")
            if path in REPORT_PATHS and not cfg.cost_reports_available:
                raise _plan_without_reports(cfg)

            # Faults only reach requests that passed auth; they still count in the rate window.
            fault = self._pick_fault(seq, cfg, "page" in params)
            entry["fault"] = fault
            if fault == "drop":
                entry["status"] = DROPPED
                handler.close_connection = True  # close without sending a byte
                return
            if fault == "rate_limit":
                raise self._rate_limited(max(0, math.ceil(cfg.faults.retry_after_seconds)), cfg)
            if fault == "server_error":
                code = SERVER_ERRORS[int(_unit(cfg.seed, seq, "5xx-code") * len(SERVER_ERRORS))]
                raise ApiError(code, _SERVER_ERROR_MESSAGES[code])
            if fault == "expired_cursor":
                raise ApiError(410, _CURSOR_EXPIRED)

            status, body = 200, self._answer(path, params, cfg)
            truncate = fault == "truncate"  # only a 200 is truncated; error answers stay whole
        except ApiError as err:
            if entry["fault"] == "truncate":
                entry["fault"] = None  # only a 200 is truncated
            status, headers = err.status, err.headers
            body = _error_body(err.status, err.message, rid)
        except Exception:  # a simulator bug must still look like an API answer, not a hang
            traceback.print_exc()
            status, body = 500, _error_body(500, _SERVER_ERROR_MESSAGES[500], rid)
        entry["status"] = status
        handler.reply(status, body, rid, method, headers=headers, truncate=truncate)

    def _admit(self, arrival: float, cfg: SimulatorConfig) -> int | None:
        """Sliding-window limiter over accepted requests; returns the retry-after if refused."""
        window = cfg.rate_window_seconds
        accepted = self._accepted
        while accepted and accepted[0] <= arrival - window:
            accepted.popleft()
        if cfg.rate_limit > 0 and len(accepted) >= cfg.rate_limit:
            return max(1, math.ceil(accepted[0] + window - arrival))
        accepted.append(arrival)
        return None

    @staticmethod
    def _rate_limited(wait: int, cfg: SimulatorConfig) -> ApiError:
        limit = cfg.rate_limit if cfg.rate_limit > 0 else 60
        return ApiError(
            429,
            f"Rate limit exceeded: this organization may make at most {limit} Analytics API requests "
            f"per {cfg.rate_window_seconds:g} seconds, shared by all keys. Retry after {wait} seconds.",
            {"retry-after": str(wait)},
        )

    @staticmethod
    def _authenticate(handler: _Handler, cfg: SimulatorConfig, path: str) -> None:
        sent = handler.headers.get("x-api-key")
        if path in REPORT_PATHS:
            # The cost & usage reports answer 401 for a missing or invalid key (spec §3).
            if not sent:
                raise ApiError(401, "Authentication failed: no x-api-key header was sent.")
            if not hmac.compare_digest(sent.encode(), cfg.api_key.encode()):
                raise ApiError(
                    401,
                    "Authentication failed: the x-api-key is invalid. Send an Analytics API key "
                    "with the read:analytics scope.",
                )
            return
        # Engagement endpoints answer 404, not 401, for a missing, invalid or under-scoped key (spec §3).
        if not sent:
            raise ApiError(
                404,
                "Not found: no x-api-key header was sent. Analytics API requests need an "
                "Analytics API key with the read:analytics scope.",
            )
        if not hmac.compare_digest(sent.encode(), cfg.api_key.encode()):
            raise ApiError(
                404,
                "Not found: the x-api-key is invalid or lacks the read:analytics scope. "
                "Analytics API keys are created by the Primary Owner in claude.ai "
                "(Analytics → API keys); Admin API keys do not work here.",
            )

    @staticmethod
    def _pick_fault(seq: int, cfg: SimulatorConfig, has_cursor: bool) -> str | None:
        f = cfg.faults
        if f.drop_rate > 0 and _unit(cfg.seed, seq, "drop") < f.drop_rate:
            return "drop"
        if f.rate_limit_rate > 0 and _unit(cfg.seed, seq, "429") < f.rate_limit_rate:
            return "rate_limit"
        if f.server_error_rate > 0 and _unit(cfg.seed, seq, "5xx") < f.server_error_rate:
            return "server_error"
        if has_cursor and f.expired_cursor_rate > 0 and _unit(cfg.seed, seq, "410") < f.expired_cursor_rate:
            return "expired_cursor"
        if f.truncate_rate > 0 and _unit(cfg.seed, seq, "truncate") < f.truncate_rate:
            return "truncate"
        return None

    # ---- answers ------------------------------------------------------------------------------------

    def _answer(self, path: str, params: dict, cfg: SimulatorConfig) -> bytes:
        if path in REPORT_PATHS:
            return self._report(path, params, cfg)
        latest = self.latest_available_day()
        earliest = self.earliest_available_day()
        if path == "/summaries":
            return self._summaries(params, cfg, earliest, latest)

        day = _require_day(params, "date", earliest, latest, cfg)
        default = cfg.users_default_limit if path == "/users" else OTHER_DEFAULT_LIMIT
        limit = _limit(params, default)
        grouping = _artifact_grouping(params) if path == "/artifacts" else ""
        fingerprint = hashlib.sha256(f"{path}|{day.isoformat()}|{limit}|{grouping}".encode()).hexdigest()[:16]
        offset = _int_offset(self._read_cursor(params["page"], fingerprint, cfg)) if "page" in params else 0

        rows = self._serialized_rows(path, day, latest)
        if cfg.quirks.get(day) == "bad_envelope":
            return json.dumps({"results": [json.loads(r) for r in rows]}).encode()
        if path == "/artifacts" and not grouping:
            limit = max(limit, len(rows))  # ungrouped, the whole cube comes back on one page (spec §5.2)
        end = offset + limit
        next_page = self._make_cursor(fingerprint, end, cfg) if end < len(rows) else None
        # Rows are cached as JSON text: a page is a join, not a re-serialization.
        return ('{"data":[' + ",".join(rows[offset:end]) + '],"next_page":' + json.dumps(next_page) + "}").encode()

    def _summaries(self, params: dict, cfg: SimulatorConfig, earliest: datetime.date, latest: datetime.date) -> bytes:
        start = _require_day(params, "starting_date", earliest, latest, cfg)
        if "ending_date" in params:
            end = _parse_day(params, "ending_date")
            if end <= start:
                raise ApiError(
                    400,
                    f"Invalid date range: 'ending_date' ({end}) must be after 'starting_date' "
                    f"({start}); 'ending_date' is exclusive.",
                )
            if (end - start).days > MAX_SUMMARY_DAYS:
                raise ApiError(
                    400,
                    f"Invalid date range: at most {MAX_SUMMARY_DAYS} days can be requested at "
                    f"once, got {(end - start).days} ({start} to {end}, end exclusive).",
                )
            if end > latest + ONE_DAY:
                raise ApiError(400, _not_yet_available(end - ONE_DAY, latest, cfg))
        else:
            # Documented choice: without ending_date, serve the longest allowed window that is available.
            end = min(start + datetime.timedelta(days=MAX_SUMMARY_DAYS), latest + ONE_DAY)
        rows = [self._summary_row(start + datetime.timedelta(days=k), latest) for k in range((end - start).days)]
        envelope = cfg.summaries_envelope
        if envelope == "summaries":
            payload: dict = {"summaries": rows}
        elif envelope == "both":
            payload = {"data": rows, "next_page": None, "summaries": rows}
        else:
            payload = {"data": rows, "next_page": None}
        return json.dumps(payload, separators=(",", ":")).encode()

    # ---- cost & usage reports (spec §5.3) --------------------------------------------------------

    def _report(self, path: str, params: dict, cfg: SimulatorConfig) -> bytes:
        settings = self._report_settings()
        query = parse_report_query(path, params, settings.today, cfg.history_message_names_earliest)
        fingerprint = query.fingerprint()
        start = self._read_cursor(params["page"], fingerprint, cfg) if "page" in params else None
        book = self._reports()
        if query.view.per_user:
            position = _pair_offset(start) if start is not None else (0, 0)
            data, after = book.user_page(query, settings, position)
            nxt: object = list(after) if after is not None else None
        else:
            data, nxt = book.bucketed_page(query, settings, _int_offset(start) if start is not None else 0)
        cursor = self._make_cursor(fingerprint, nxt, cfg) if nxt is not None else None
        tail = {
            "has_more": cursor is not None,
            "next_page": cursor,
            "data_refreshed_at": self._refreshed_at(),
            "organization_id": book.data.organization_id(),
        }
        return ('{"data":' + data + "," + json.dumps(tail, separators=(",", ":"))[1:]).encode()

    def _refreshed_at(self) -> str:
        """The last hourly refresh: the top of the current hour, or 01:00 UTC of a pinned `today`."""
        if self.config.today is not None:
            return instant(midnight(self.config.today) + datetime.timedelta(hours=1))
        now = datetime.datetime.now(datetime.timezone.utc)
        return instant(now.replace(minute=0, second=0, microsecond=0))

    # ---- cursors: opaque, signed, bound to a query fingerprint, with an issue time ---------------

    @staticmethod
    def _signature(payload: str, cfg: SimulatorConfig) -> str:
        key = f"claude-analytics-simulator:{cfg.seed}".encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:16]

    def _make_cursor(self, fingerprint: str, offset: object, cfg: SimulatorConfig) -> str:
        payload = json.dumps(
            {"q": fingerprint, "o": offset, "t": round(time.time(), 3)}, sort_keys=True, separators=(",", ":")
        )
        token = json.dumps({"p": payload, "s": self._signature(payload, cfg)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")

    def _read_cursor(self, cursor: str, fingerprint: str, cfg: SimulatorConfig) -> object:
        """The position a cursor carries (an offset, or [bucket, row] for per-user reports)."""
        try:
            token = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            payload = token["p"]
            if not hmac.compare_digest(token["s"], self._signature(payload, cfg)):
                raise ValueError("bad signature")
            fields = json.loads(payload)
            query, offset, issued = fields["q"], fields["o"], float(fields["t"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ApiError(400, _BAD_CURSOR) from None
        if query != fingerprint:
            raise ApiError(
                400,
                "Invalid value for 'page': this page cursor was issued for a different query. "
                "A cursor is bound to the path and every other parameter that produced it; "
                "restart from the first page.",
            )
        if time.time() - issued > cfg.cursor_ttl_seconds:
            raise ApiError(410, _CURSOR_EXPIRED)
        return offset


_CURSOR_EXPIRED = "The page cursor has expired. Restart this query from the first page (omit 'page')."
_BAD_CURSOR = (
    "Invalid value for 'page': not a page cursor issued by this API. Pass the `next_page` value of "
    "the previous response unchanged, or omit 'page' to start from the first page."
)


def _int_offset(value: object) -> int:
    if type(value) is not int:
        raise ApiError(400, _BAD_CURSOR)
    return max(0, value)


def _pair_offset(value: object) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int and v >= 0 for v in value)):
        raise ApiError(400, _BAD_CURSOR)
    return value[0], value[1]


def _artifact_grouping(params: dict) -> str:
    """`group_by[]` of /artifacts, validated: with it, `limit`/`page` paginate the cube (spec §5.2)."""
    values = params.get("group_by[]", [])
    for value in values:
        if value not in ("artifact_type", "is_shared"):
            raise ApiError(
                400, f"Invalid value for 'group_by[]': expected any of artifact_type, is_shared, got {shown(value)}."
            )
    return ",".join(sorted(set(values)))


def _plan_without_reports(cfg: SimulatorConfig) -> ApiError:
    status = cfg.cost_reports_denied_status
    prefix = "Not found" if status == 404 else "Permission denied"
    return ApiError(
        status,
        f"{prefix}: this organization's plan has no cost & usage reports (they come with "
        f"usage-based Enterprise plans; seat-based plans see usage credits only).",
    )


def _error_body(status: int, message: str, rid: str) -> bytes:
    """Anthropic's error shape."""
    error = {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}
    return json.dumps({"type": "error", "error": error, "request_id": rid}).encode()


QUIRKS = ("empty", "duplicate", "null_key", "type_drift", "bad_envelope")
_ENTITY_KEYS = {
    "/users": ("user", "id"),
    "/apps/chat/projects": ("project_id",),
    "/skills": ("skill_name",),
    "/connectors": ("connector_name",),
    "/plugins": ("plugin_name",),
    "/artifacts": ("artifact_type",),
}


def apply_quirk(quirk: str, path: str, rows: list[str]) -> list[str]:
    """Upstream oddities a loader must survive, on one day's per-day rows (JSON strings).

    duplicate: the first entity appears twice (the copy, last, has message/user counts + 1);
    null_key: the first row's entity key is null; type_drift: a count arrives as a string
    (`web_search_count` on /users, `distinct_user_count` elsewhere); empty: no rows at all;
    bad_envelope: rows under an undocumented key (handled by the answer).
    """
    if quirk not in QUIRKS:
        raise ValueError(f"unknown quirk {quirk!r}; expected one of {QUIRKS}")
    decoded = [json.loads(r) for r in rows]
    first = decoded[0]
    if quirk == "duplicate":
        copy = json.loads(rows[0])
        if path == "/users":
            copy["web_search_count"] = (copy.get("web_search_count") or 0) + 1
        else:
            copy["distinct_user_count"] = (copy.get("distinct_user_count") or 0) + 1
        decoded.append(copy)
    elif quirk == "null_key":
        *parents, leaf = _ENTITY_KEYS[path]
        target = first
        for name in parents:
            target = target[name]
        target[leaf] = None
    elif quirk == "type_drift":
        field = "web_search_count" if path == "/users" else "distinct_user_count"
        first[field] = f"{first.get(field)} (approx.)"
    return [json.dumps(r, separators=(",", ":")) for r in decoded]


def _not_yet_available(day: datetime.date, latest: datetime.date, cfg: SimulatorConfig) -> str:
    if not cfg.not_available_names_latest:
        return "Data for the requested date is not yet available."
    return (
        f"Data for {day.isoformat()} is not yet available. "
        f"The most recent date with available data is {latest.isoformat()}."
    )


def _parse_day(params: dict, name: str) -> datetime.date:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Missing required query parameter '{name}' (a UTC day, YYYY-MM-DD).")
    if not isinstance(value, str) or not _DAY_RE.match(value):
        raise ApiError(
            400, f"Invalid value for '{name}': expected a date in YYYY-MM-DD format, got {shown(str(value))}."
        )
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"Invalid value for '{name}': {shown(value)} is not a valid calendar date.") from None


def _require_day(
    params: dict, name: str, earliest: datetime.date, latest: datetime.date, cfg: SimulatorConfig
) -> datetime.date:
    """A served day: parsed, not before the floor, inside the history window, and already available."""
    day = _parse_day(params, name)
    if day < earliest and not cfg.history_message_names_earliest:
        # No date in the message: a client has to bisect to find the earliest day.
        raise ApiError(400, f"Invalid value for '{name}': the requested date is outside the history window.")
    if day < DATA_FLOOR:
        raise ApiError(
            400,
            f"Invalid value for '{name}': data is not available before "
            f"{DATA_FLOOR.isoformat()} (got {day.isoformat()}).",
        )
    if day < earliest:
        raise ApiError(
            400,
            f"Invalid value for '{name}': {day.isoformat()} is outside the history window. "
            f"The earliest available date is {earliest.isoformat()}.",
        )
    if day > latest:
        raise ApiError(400, _not_yet_available(day, latest, cfg))
    return day


def _limit(params: dict, default: int) -> int:
    value = params.get("limit")
    if value is None:
        return default
    if isinstance(value, str) and _LIMIT_RE.match(value) and 1 <= int(value) <= MAX_LIMIT:
        return int(value)
    raise ApiError(
        400, f"Invalid value for 'limit': expected an integer from 1 to {MAX_LIMIT}, got {shown(str(value))}."
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many pipeline threads may connect at once


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; every answer has a Content-Length
    server_version = "claude-analytics-simulator"
    sys_version = ""
    timeout = 60  # idle kept-alive connections give their thread back
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall

    def setup(self) -> None:
        super().setup()
        with self.simulator._lock:
            self.simulator._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.simulator._lock:
                self.simulator._connections.discard(self.connection)

    def reply(
        self, status: int, body: bytes, rid: str, method: str, *, headers: dict | None = None, truncate: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("request-id", rid)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if truncate or self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        if method == "HEAD":
            return
        if truncate:
            # Full Content-Length announced, about half the body sent, then the connection is closed.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(body)

    def _dispatch(self) -> None:
        try:
            self.simulator._handle(self, self.command)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args) -> None:
        pass  # quiet: tests and demos print their own story; headers (the key) are never logged
