"""pipelines.memory: the glibc calls it relies on exist and succeed here (Linux), and are no-ops elsewhere."""

from __future__ import annotations

import platform

import pytest

from pipelines import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_arenas_are_limited_and_trimming_works_on_glibc():
    assert memory.limit_arenas() is True  # mallopt(M_ARENA_MAX, 2) accepted
    assert memory._glibc() is not None
    memory.release()


def test_without_glibc_both_are_no_ops(monkeypatch):
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    memory.limit_arenas.cache_clear()
    try:
        assert memory.limit_arenas() is False
        memory.release()
    finally:
        memory.limit_arenas.cache_clear()


def test_arrow_allocates_with_malloc_unless_the_environment_chose(monkeypatch):
    import pyarrow as pa

    before = pa.default_memory_pool()
    memory.arrow_on_malloc.cache_clear()
    pa.set_memory_pool(pa.mimalloc_memory_pool())  # pyarrow's default, whatever an earlier test in this process did
    try:
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
        assert memory.arrow_on_malloc() is False
        assert pa.default_memory_pool().backend_name == "mimalloc"
        memory.arrow_on_malloc.cache_clear()
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
        assert memory.arrow_on_malloc() is True
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(before)
        memory.arrow_on_malloc.cache_clear()
