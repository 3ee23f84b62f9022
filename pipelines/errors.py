"""What can end a command, and the exit code each one means (one table for every command)."""

from __future__ import annotations

from sources.claude_analytics.client import first_line

__all__ = [
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_ATTENTION",
    "EXIT_INTERRUPTED",
    "UsageError",
    "RunFailed",
    "first_line",
    "duckdb_memory_help",
]

EXIT_OK = 0  # success
EXIT_FAILED = 1  # the run failed: days committed before the failure stay committed; run again to continue
EXIT_USAGE = 2  # bad usage or configuration (a rejected key included), detected before anything is written
EXIT_ATTENTION = 3  # `status` only: something needs attention
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad usage or configuration (exit 2): detected before anything is written."""


class RunFailed(Exception):
    """The run failed (exit 1); every chunk committed before the failure stays committed."""


def duckdb_memory_help(reason: str) -> str | None:
    """What to do when DuckDB ran out of memory (its memory_limit is set low on purpose: docs/destinations.md)."""
    if not reason.startswith("Out of Memory Error"):  # DuckDB's words
        return None
    return (
        "raise DuckDB's memory_limit, e.g. "
        """DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG='{"memory_limit": "512MB"}' (docs/destinations.md), """
        "and run again; days committed before are kept"
    )
