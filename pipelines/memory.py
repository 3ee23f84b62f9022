"""Keeping a long run's resident memory flat on glibc (Linux): fewer malloc arenas, freed pages handed back.

A run frees most of what it allocates after every chunk commit (pages of JSON, Arrow tables, dlt's
normalize buffers), but glibc keeps freed memory in up to 8 × cores arenas, one per thread that ever
allocated — the fetch threads, dlt's workers — and returns little of it: RSS then climbs with every
chunk although the live data does not. Two arenas and a trim after each commit cut the peak by about a
tenth in the benchmark (docs/benchmarks.md, section 3). Elsewhere (macOS, musl) both are no-ops.

Arrow's buffers come from malloc too (`pipelines/__init__.py`, and `arrow_on_malloc` when pyarrow was imported
first): pyarrow's default pool, mimalloc, keeps freed segments the trim cannot reach (measured: 10,000 users ×
7 days peaked 46 MB higher on it).
"""

from __future__ import annotations

import ctypes
import functools
import os

import pyarrow as pa

M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 — glibc only
        libc.malloc_trim  # noqa: B018
        return libc
    except (OSError, AttributeError):
        return None


@functools.cache
def limit_arenas() -> bool:
    """At most ARENAS malloc arenas from now on (threads created later share them). Once per process."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, ARENAS))


@functools.cache
def arrow_on_malloc() -> bool:
    """Arrow's Python-level allocations use malloc from now on, unless ARROW_DEFAULT_MEMORY_POOL chose another
    pool or malloc is already the default. Once per process."""
    chosen = os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or "system"
    if chosen != "system" or pa.default_memory_pool().backend_name == "system":
        return False
    pa.set_memory_pool(pa.system_memory_pool())
    return True


def release() -> None:
    """Hand the pages glibc holds free back to the system (after a commit has dropped its chunk)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
