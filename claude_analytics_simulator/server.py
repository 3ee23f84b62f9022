"""The HTTP side of the simulator: routes, auth, date rules, pagination, rate limit, faults, stats.

Everything here follows the project's working reference of the API (analytics-api.md, §1–§4),
and nothing else: the simulator must stay an independent witness of the pipeline. The organization's
rows come from `data.Organization`. Standard library only.
"""

from __future__ import annotations

import base64
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

from .config import BASE_PATH, DATA_FLOOR, ENDPOINT_PATHS, SimulatorConfig
from .data import Organization

MAX_LIMIT = 1000
OTHER_DEFAULT_LIMIT = 100  # default `limit` of every per-day endpoint except /users
MAX_SUMMARY_DAYS = 31
SERVER_ERRORS = (500, 502, 503, 504)
# Rows kept serialized in memory (about 2 KB per /users row: some 100 MB, or ~8 days of 10,000 users).
ROW_CACHE_BUDGET = 50_000
DROPPED = 0  # the status recorded for a dropped connection: nothing was sent

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LIMIT_RE = re.compile(r"^[0-9]+$")
_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error", 405: "invalid_request_error",
                410: "not_found_error", 429: "rate_limit_error"}
_SERVER_ERROR_MESSAGES = {
    500: "Internal server error.",
    502: "Bad gateway: the upstream analytics service did not answer.",
    503: "The analytics service is temporarily unavailable. Please retry.",
    504: "Gateway timeout: the analytics query took too long. Please retry.",
}
ONE_DAY = datetime.timedelta(days=1)


class ApiError(Exception):
    """An answer in Anthropic's error shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _unit(*parts: object) -> float:
    """A stable uniform float in [0, 1): how faults and latency are decided per request."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _shown(value: str) -> str:
    """A parameter value fit to quote back in a message (short, printable)."""
    value = value if len(value) <= 40 else value[:37] + "..."
    return json.dumps(value)


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
        # Serialized rows per (endpoint, day), least recently used first, bounded by a row budget.
        self._rows: OrderedDict[tuple, list[str]] = OrderedDict()
        self._rows_cached = 0
        self._log: list[dict] = []
        self._seq = 0
        self._accepted: deque[float] = deque()  # arrival times of requests the limiter let through
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
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"claude-analytics-simulator:{bound_port}", daemon=True,
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
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
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
            return self._org

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
        if path not in ENDPOINT_PATHS:
            raise ValueError(f"unknown endpoint path {path!r}; expected one of {ENDPOINT_PATHS}")
        if path == "/summaries":
            return [self._summary_row(day)]
        return [json.loads(r) for r in self._serialized_rows(path, day)]

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
        }

    def reset_stats(self) -> None:
        """Forget the log and restart the fault sequence (the rate limiter keeps its window)."""
        with self._lock:
            self._log.clear()
            self._seq = 0

    def request_log(self) -> list[dict]:
        with self._lock:
            return [
                {**e, "params": {k: list(v) if isinstance(v, list) else v for k, v in e["params"].items()}}
                for e in self._log
            ]

    # ---- request handling ------------------------------------------------------------------------

    def _handle(self, handler: _Handler, method: str) -> None:
        cfg = self.config
        faults = cfg.faults
        parts = urlsplit(handler.path)
        path = parts.path[len(BASE_PATH):] if parts.path.startswith(BASE_PATH + "/") else parts.path
        params: dict[str, str | list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.endswith("[]"):
                params.setdefault(key, []).append(value)  # type: ignore[union-attr]
            else:
                params[key] = value  # a repeated scalar: the last one wins
        with self._lock:
            # Arrival time, sequence number and limiter decision are taken together, so they agree.
            arrival = time.monotonic()
            entry = {"t": arrival, "path": path, "params": params, "status": None, "fault": None}
            seq = self._seq
            self._seq += 1
            wait = self._admit(arrival, cfg)
            self._log.append(entry)
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
                raise ApiError(405, f"Method {method} is not allowed: the Analytics API only accepts GET.",
                               {"allow": "GET"})
            self._authenticate(handler, cfg)
            if path not in ENDPOINT_PATHS:
                raise ApiError(404, f"Not found: {_shown(parts.path)} is not an Analytics API endpoint.")

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
    def _authenticate(handler: _Handler, cfg: SimulatorConfig) -> None:
        # Engagement endpoints answer 404, not 401, for a missing, invalid or under-scoped key (spec §3).
        sent = handler.headers.get("x-api-key")
        if not sent:
            raise ApiError(404, "Not found: no x-api-key header was sent. Analytics API requests need an "
                                "Analytics API key with the read:analytics scope.")
        if not hmac.compare_digest(sent.encode(), cfg.api_key.encode()):
            raise ApiError(404, "Not found: the x-api-key is invalid or lacks the read:analytics scope. "
                                "Analytics API keys are created by the Primary Owner in claude.ai "
                                "(Analytics → API keys); Admin API keys do not work here.")

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
        latest = self.latest_available_day()
        earliest = self.earliest_available_day()
        if path == "/summaries":
            return self._summaries(params, cfg, earliest, latest)

        day = _require_day(params, "date", earliest, latest)
        default = cfg.users_default_limit if path == "/users" else OTHER_DEFAULT_LIMIT
        limit = _limit(params, default)
        fingerprint = hashlib.sha256(f"{path}|{day.isoformat()}|{limit}".encode()).hexdigest()[:16]
        offset = self._read_cursor(params["page"], fingerprint, cfg) if "page" in params else 0

        rows = self._serialized_rows(path, day, latest)
        if cfg.quirks.get(day) == "bad_envelope":
            return json.dumps({"results": [json.loads(r) for r in rows]}).encode()
        end = offset + limit
        next_page = self._make_cursor(fingerprint, end, cfg) if end < len(rows) else None
        # Rows are cached as JSON text: a page is a join, not a re-serialization.
        return ('{"data":[' + ",".join(rows[offset:end]) + '],"next_page":' + json.dumps(next_page) + "}").encode()

    def _summaries(self, params: dict, cfg: SimulatorConfig, earliest: datetime.date, latest: datetime.date) -> bytes:
        start = _require_day(params, "starting_date", earliest, latest)
        if "ending_date" in params:
            end = _parse_day(params, "ending_date")
            if end <= start:
                raise ApiError(400, f"Invalid date range: 'ending_date' ({end}) must be after 'starting_date' "
                                    f"({start}); 'ending_date' is exclusive.")
            if (end - start).days > MAX_SUMMARY_DAYS:
                raise ApiError(400, f"Invalid date range: at most {MAX_SUMMARY_DAYS} days can be requested at "
                                    f"once, got {(end - start).days} ({start} to {end}, end exclusive).")
            if end > latest + ONE_DAY:
                raise ApiError(400, _not_yet_available(end - ONE_DAY, latest))
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

    # ---- cursors: opaque, signed, bound to (path, date, limit), with an issue time ----------------

    @staticmethod
    def _signature(payload: str, cfg: SimulatorConfig) -> str:
        key = f"claude-analytics-simulator:{cfg.seed}".encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:16]

    def _make_cursor(self, fingerprint: str, offset: int, cfg: SimulatorConfig) -> str:
        payload = json.dumps({"q": fingerprint, "o": offset, "t": round(time.time(), 3)}, sort_keys=True,
                             separators=(",", ":"))
        token = json.dumps({"p": payload, "s": self._signature(payload, cfg)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")

    def _read_cursor(self, cursor: str, fingerprint: str, cfg: SimulatorConfig) -> int:
        try:
            token = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            payload = token["p"]
            if not hmac.compare_digest(token["s"], self._signature(payload, cfg)):
                raise ValueError("bad signature")
            fields = json.loads(payload)
            query, offset, issued = fields["q"], int(fields["o"]), float(fields["t"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, "Invalid value for 'page': not a page cursor issued by this API. Pass the "
                                "`next_page` value of the previous response unchanged, or omit 'page' to "
                                "start from the first page.") from None
        if query != fingerprint:
            raise ApiError(400, "Invalid value for 'page': this page cursor was issued for a different query. "
                                "A cursor is bound to the path and parameters (date, limit) that produced it; "
                                "restart from the first page.")
        if time.time() - issued > cfg.cursor_ttl_seconds:
            raise ApiError(410, _CURSOR_EXPIRED)
        return max(0, offset)


_CURSOR_EXPIRED = "The page cursor has expired. Restart this query from the first page (omit 'page')."


def _error_body(status: int, message: str, rid: str) -> bytes:
    """Anthropic's error shape."""
    error = {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}
    return json.dumps({"type": "error", "error": error, "request_id": rid}).encode()


QUIRKS = ("empty", "duplicate", "null_key", "type_drift", "bad_envelope")
_ENTITY_KEYS = {"/users": ("user", "id"), "/apps/chat/projects": ("project_id",), "/skills": ("skill_name",),
                "/connectors": ("connector_name",)}


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


def _not_yet_available(day: datetime.date, latest: datetime.date) -> str:
    return (f"Data for {day.isoformat()} is not yet available. "
            f"The most recent date with available data is {latest.isoformat()}.")


def _parse_day(params: dict, name: str) -> datetime.date:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Missing required query parameter '{name}' (a UTC day, YYYY-MM-DD).")
    if not isinstance(value, str) or not _DAY_RE.match(value):
        raise ApiError(400, f"Invalid value for '{name}': expected a date in YYYY-MM-DD format, "
                            f"got {_shown(str(value))}.")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"Invalid value for '{name}': {_shown(value)} is not a valid calendar date.") from None


def _require_day(params: dict, name: str, earliest: datetime.date, latest: datetime.date) -> datetime.date:
    """A served day: parsed, not before the floor, inside the history window, and already available."""
    day = _parse_day(params, name)
    if day < DATA_FLOOR:
        raise ApiError(400, f"Invalid value for '{name}': data is not available before "
                            f"{DATA_FLOOR.isoformat()} (got {day.isoformat()}).")
    if day < earliest:
        raise ApiError(400, f"Invalid value for '{name}': {day.isoformat()} is outside the history window. "
                            f"The earliest available date is {earliest.isoformat()}.")
    if day > latest:
        raise ApiError(400, _not_yet_available(day, latest))
    return day


def _limit(params: dict, default: int) -> int:
    value = params.get("limit")
    if value is None:
        return default
    if isinstance(value, str) and _LIMIT_RE.match(value) and 1 <= int(value) <= MAX_LIMIT:
        return int(value)
    raise ApiError(400, f"Invalid value for 'limit': expected an integer from 1 to {MAX_LIMIT}, "
                        f"got {_shown(str(value))}.")


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

    def reply(self, status: int, body: bytes, rid: str, method: str, *, headers: dict | None = None,
              truncate: bool = False) -> None:
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

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base-class signature
        pass  # quiet: tests and demos print their own story; headers (the key) are never logged
