"""Configuration of the source: dlt's config providers (env vars, .dlt/config.toml, .dlt/secrets.toml).

Section `[sources.claude_analytics]`, or `SOURCES__CLAUDE_ANALYTICS__<KEY>` in the environment.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from .days import API_FLOOR, parse_day

DEFAULT_BASE_URL = "https://api.anthropic.com/v1/organizations/analytics"
SECTIONS = ("sources", "claude_analytics")
MAX_PAGE_SIZE = 1000


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and how to fix it."""


@configspec
class ClaudeAnalyticsSettings(BaseConfiguration):
    # Not named ClaudeAnalyticsConfiguration: dlt registers the spec it derives from the
    # `claude_analytics` source function under that name in the source's module.
    api_key: Optional[TSecretStrValue] = None
    base_url: str = DEFAULT_BASE_URL
    requests_per_minute: int = 60
    availability_lag_days: int = 3
    lookback_days: int = 3
    history_days: int = 90
    start_date: Optional[str] = None
    page_size: int = MAX_PAGE_SIZE

    def start_day(self) -> dt.date | None:
        return parse_day(self.start_date, "start_date") if self.start_date else None


_RANGES = {
    "requests_per_minute": (1, 100_000),
    "availability_lag_days": (0, 60),
    "lookback_days": (0, 366),
    "history_days": (1, 3660),
    "page_size": (1, MAX_PAGE_SIZE),
}


def load_settings(**overrides: object) -> ClaudeAnalyticsSettings:
    """Resolve and validate the configuration; raises ConfigError with a one-line message."""
    try:
        config = resolve_configuration(ClaudeAnalyticsSettings(), sections=SECTIONS)
    except ConfigurationException as exc:
        reason = " ".join(str(exc).split())[:400] or type(exc).__name__
        raise ConfigError(f"configuration [sources.claude_analytics] is invalid: {reason} — fix the value or the "
                          "file it comes from") from None
    for key, value in overrides.items():
        if value is not None:
            setattr(config, key, value)
    validate(config)
    return config


def validate(config: ClaudeAnalyticsSettings) -> None:
    for key, (low, high) in _RANGES.items():
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{key} = {value!r} is invalid: use a whole number from {low} to {high} "
                f"(SOURCES__CLAUDE_ANALYTICS__{key.upper()} or [sources.claude_analytics] in .dlt/config.toml)")
    if not str(config.base_url).startswith(("http://", "https://")):
        raise ConfigError(f"base_url = {config.base_url!r} is invalid: use an http(s) URL such as {DEFAULT_BASE_URL}")
    try:
        start = config.start_day()
    except ValueError as exc:
        raise ConfigError(f"{exc} (setting start_date)") from None
    if start is not None and start < API_FLOOR:
        raise ConfigError(f"start_date {start} is before {API_FLOOR}, the first day the API serves: use a later day")
