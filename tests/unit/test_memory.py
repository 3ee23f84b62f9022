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


def test_arrow_internals_allocate_with_malloc_when_run_through_the_driver(tmp_path):
    """Parquet reading and writing (dlt's normalize) use Arrow's C++ default pool, not the Python-level one."""
    # A file path, as dlt's normalize uses: pyarrow 26 reading a Python file object (BytesIO) with threads
    # aborts at interpreter exit about one run in three ("terminate called without an active exception").
    probe = (
        "import sys, pipelines.runner, pyarrow as pa, pyarrow.parquet as pq\n"
        "t = pa.table({'a': list(range(200_000)), 'b': [str(i) for i in range(200_000)]})\n"
        "pq.write_table(t, sys.argv[1]); pq.read_table(sys.argv[1])\n"
        "print(pa.default_memory_pool().backend_name, pa.mimalloc_memory_pool().max_memory())\n"
    )

    def run(**pool: str) -> list[str]:
        env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"} | pool
        command = [sys.executable, "-c", probe, str(tmp_path / "t.parquet")]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.split()

    assert run() == ["system", "0"]  # before: mimalloc held 32 MB at most, the Python pool 16
    pool, held = run(ARROW_DEFAULT_MEMORY_POOL="mimalloc")  # the user's choice wins
    assert pool == "mimalloc" and int(held) > 0
