"""The driver around the source: command line, runner, destinations, run log, status and report.

Arrow's C++ code allocates from the pool named by ARROW_DEFAULT_MEMORY_POOL, read once, when pyarrow is
imported; `pyarrow.set_memory_pool` later only moves Python-level allocations. Naming malloc here, before
anything of ours imports pyarrow, puts Parquet reading and writing (dlt's normalize) on malloc too, where
`memory.release` can hand freed pages back (mimalloc kept ~20 MB of them: `pipelines/memory.py`). A pool the
user named still wins.
"""

import os

os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
