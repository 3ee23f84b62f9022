"""Configuration of the simulator: plain dataclasses, mutable while a simulator runs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

# Endpoint paths relative to the base path, in the order of the spec (§4).
ENDPOINT_PATHS = ("/users", "/summaries", "/apps/chat/projects", "/skills", "/connectors")

BASE_PATH = "/v1/organizations/analytics"

# Nothing is served before this day (spec §1, "data floor").
DATA_FLOOR = datetime.date(2026, 1, 1)


@dataclass
class FaultConfig:
    """Injected faults. Rates are probabilities in [0, 1], decided deterministically per request."""

    server_error_rate: float = 0.0  # 500/502/503/504
    rate_limit_rate: float = 0.0  # spurious 429, as if another tool used the org budget
    drop_rate: float = 0.0  # close the connection without any response
    truncate_rate: float = 0.0  # 200, full Content-Length, about half the body, then close
    expired_cursor_rate: float = 0.0  # 410 on requests that carry a `page` cursor
    latency_min: float = 0.0  # seconds; every request sleeps uniform(latency_min, latency_max)
    latency_max: float = 0.0
    retry_after_seconds: float = 1.0  # `retry-after` of spurious 429s (integer string, rounded up)


@dataclass
class SimulatorConfig:
    users: int = 50
    seed: int = 42
    api_key: str = "sim-test-key"
    today: datetime.date | None = None  # None: the current UTC date, read at each request
    availability_lag_days: int = 1  # latest available day = today - lag
    history_days: int | None = 90  # earliest day = max(2026-01-01, today - history_days); None: floor only
    rate_limit: int = 60  # accepted requests per rate_window_seconds; 0 disables the limiter
    rate_window_seconds: float = 60.0  # sliding window
    summaries_envelope: str = "data"  # "data" | "summaries" | "both"
    summaries_period_keys: str = "starting_at"  # "starting_at" | "starting_date"
    users_default_limit: int = 20  # default `limit` of /users (100 on the other endpoints)
    growth_from: datetime.date | None = None  # from this day on rows carry newer fields
    revision: int = 0  # > 0 revises the most recent `revision_days` available days
    revision_days: int = 3
    cursor_ttl_seconds: float = 600.0  # an older cursor answers 410
    # upstream oddities on chosen days of the per-day endpoints: day → "empty" | "duplicate" |
    # "null_key" | "type_drift" | "bad_envelope" (see server.apply_quirk)
    quirks: dict[datetime.date, str] = field(default_factory=dict)
    faults: FaultConfig = field(default_factory=FaultConfig)
