"""pipelines.memory: the glibc calls it relies on exist and succeed here (Linux), and are no-ops elsewhere."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

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


def test_arrow_internals_allocate_with_malloc_when_run_through_the_driver():
    """Parquet reading and writing (dlt's normalize) use Arrow's C++ default pool, not the Python-level one."""
    probe = (
        "import io, pipelines.runner, pyarrow as pa, pyarrow.parquet as pq\n"
        "t = pa.table({'a': list(range(200_000)), 'b': [str(i) for i in range(200_000)]})\n"
        "buf = io.BytesIO(); pq.write_table(t, buf); buf.seek(0); pq.read_table(buf)\n"
        "print(pa.default_memory_pool().backend_name, pa.mimalloc_memory_pool().max_memory())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["system", "0"]  # before: mimalloc held 32 MB at most, the Python pool 16
    # The user's choice wins. mimalloc, not jemalloc: pyarrow's jemalloc aborted on a CI machine (SIGABRT),
    # and only the choice is checked here, so the probe allocates nothing.
    choice = "import pipelines.runner, pyarrow as pa\nprint(pa.default_memory_pool().backend_name)\n"
    out = subprocess.run(
        [sys.executable, "-c", choice],
        env={**env, "ARROW_DEFAULT_MEMORY_POOL": "mimalloc"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["mimalloc"]
