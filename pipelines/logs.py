"""Logging for the command line: one format, and redaction of the API key from every log record.

Redaction happens where records are made (a record factory), so it covers every logger and handler,
including dlt's own and httpx/httpcore debug output, whatever their configuration.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "***"
_secrets: list[str] = []
_base_factory = logging.getLogRecordFactory()


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if _secrets:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
    return record


def add_secret(secret: str | None) -> None:
    """Never let `secret` appear in any log record from now on."""
    if secret and secret not in _secrets:
        _secrets.append(secret)
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)


def configure(level: str = "INFO", *secrets: str | None) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_claude_analytics", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._claude_analytics = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("claude_analytics").setLevel(level)
    # httpx logs one INFO line per request; keep that for DEBUG runs only
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    for secret in secrets:
        add_secret(secret)
