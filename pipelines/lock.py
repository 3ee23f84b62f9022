"""One run at a time per pipeline: an exclusive lock file (flock, released by the OS if the process dies)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dlt.common.pipeline import get_dlt_pipelines_dir

from .errors import UsageError


class RunLocked(UsageError):
    """Another run holds this pipeline."""


class RunLock:
    def __init__(self, name: str, wait: bool) -> None:
        directory = Path(get_dlt_pipelines_dir())
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{name}.lock"
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(self._fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(self._fd)
            raise RunLocked(
                f"another run of pipeline {self.path.stem} is active ({holder}): wait for it to "
                "finish, or pass --wait to queue behind it"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"pid {os.getpid()}".encode(), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
