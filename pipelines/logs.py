"""Logging for the command line: one format, and a filter that keeps the API key out of every record."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "***"


class Redact(logging.Filter):
    """Replaces each secret in the formatted message (and traceback text) of every record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self._clean(record.getMessage())
            record.args = ()
            if record.exc_info:
                record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


def configure(level: str = "INFO", secret: str | None = None) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_claude_analytics", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._claude_analytics = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("claude_analytics").setLevel(level)
    # httpx logs one INFO line per request; keep that for DEBUG runs only
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    add_secret(secret)


def add_secret(secret: str | None) -> None:
    """Redact `secret` from every handler of the root and dlt loggers."""
    if not secret:
        return
    for logger in (logging.getLogger(), logging.getLogger("dlt")):
        for handler in logger.handlers:
            redact = next((f for f in handler.filters if isinstance(f, Redact)), None)
            if redact is None:
                handler.addFilter(Redact([secret]))
            elif secret not in redact.secrets:
                redact.secrets.append(secret)
