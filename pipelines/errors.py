"""What can end a command, and the exit code each one means (one table for every command)."""

from __future__ import annotations

EXIT_OK = 0  # success
EXIT_FAILED = 1  # the run failed: days committed before the failure stay committed; run again to continue
EXIT_USAGE = 2  # bad usage or configuration (a rejected key included), detected before anything is written
EXIT_ATTENTION = 3  # `status` only: something needs attention
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad usage or configuration (exit 2): detected before anything is written."""


class RunFailed(Exception):
    """The run failed (exit 1); every chunk committed before the failure stays committed."""


def first_line(exc: BaseException) -> str:
    """The most specific one-line reason of an exception chain.

    Follows `raise … from exc` (dlt wraps drivers' errors that way) and implicit context, but stops where
    the code said `from None`: there the outer message is the real reason.
    """
    while True:
        inner = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if inner is None:
            break
        exc = inner
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
