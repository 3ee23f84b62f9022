"""What runs in the measured child process: one run of the pipeline, or one load-path run. `python -m bench.child JSON`.

The child is a fresh interpreter that runs the pipeline and nothing else (the API simulator lives in the
parent), so its peak RSS is the pipeline's. It uses the pipeline's public seams only, the ones the tests use:

- "today" is pinned by replacing `sources.claude_analytics.days.utc_today` (the project's one clock);
- a time-scaled budget is installed with `sources.claude_analytics.budget.install_budget` (the same
  `RequestBudget`, over a window of W s with a guard of g s instead of 60 s and 1 s);
- the run is `pipelines.runner.run_load(RunOptions(settings, command, target=Target(...), commit=CommitPolicy(...),
  observer=...))`; a `RunObserver` times the fetched batches and the commits.

It prints one line `BENCH-RESULT {json}` at the end.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
import resource
import sys
import threading
import time
import tracemalloc
from typing import Any

RESULT_MARK = "BENCH-RESULT "
DATASET = "claude_analytics"
WAREHOUSE = "warehouse.duckdb"
PIPELINE = "bench"


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far.

    Linux: VmHWM of /proc/self/status — this process image's own high-water mark. (`ru_maxrss` is not
    used there: at exec it keeps the high-water mark of the image it replaced, i.e. of the forking
    parent, here the benchmark with the simulator in it.) Elsewhere: ru_maxrss (bytes on macOS).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def current_rss() -> tuple[int, int, int] | None:
    """(RSS, anonymous, file-backed) bytes of this process now, or None (not Linux: no timeline)."""
    try:
        fields = {}
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "RssAnon:", "RssFile:", "RssShmem:")):
                    name, value = line.split()[:2]
                    fields[name] = int(value) * 1024
        return fields["VmRSS:"], fields["RssAnon:"], fields["RssFile:"] + fields.get("RssShmem:", 0)
    except (OSError, ValueError, KeyError):
        return None


class _MallInfo2:
    """glibc's `struct mallinfo2` (glibc ≥ 2.33)."""

    @staticmethod
    def read() -> dict[str, int] | None:
        import ctypes

        class Info(ctypes.Structure):
            _fields_ = [
                (name, ctypes.c_size_t)
                for name in (
                    "arena",
                    "ordblks",
                    "smblks",
                    "hblks",
                    "hblkhd",
                    "usmblks",
                    "fsmblks",
                    "uordblks",
                    "fordblks",
                    "keepcost",
                )
            ]

        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallinfo2.restype = Info
        except (OSError, AttributeError):
            return None
        info = libc.mallinfo2()
        return {"heap": info.arena, "heap_in_use": info.uordblks, "heap_free": info.fordblks, "mmapped": info.hblkhd}


def allocators() -> dict[str, int]:
    """Who holds the memory now: glibc's heaps (in use / free but kept) and mmapped blocks, Arrow's pool."""
    out: dict[str, int] = {}
    glibc = _MallInfo2.read()
    if glibc:
        out.update(glibc)
    if "pyarrow" in sys.modules:
        import pyarrow as pa

        pool = pa.default_memory_pool()
        out["arrow_allocated"] = pool.bytes_allocated()
        out["arrow_max"] = pool.max_memory()
    if tracemalloc.is_tracing():
        out["python_traced"] = tracemalloc.get_traced_memory()[0]
    return out


class RssSampler:
    """Samples this process's RSS every `interval` s, to say *when* the peak happened (Linux only)."""

    def __init__(self, interval: float = 0.2, allocators: bool = False) -> None:
        self.samples: list[tuple[float, int, int, int]] = []  # (time, RSS, anonymous, file-backed)
        self.allocators: bool | None = allocators or None
        self.peak: tuple[float, int, dict[str, int]] | None = None  # with allocators: their state at the peak
        self.arrow: list[int] = []  # with allocators: Arrow's allocated bytes at each sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="bench-rss", daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            rss = current_rss()
            if rss is None:
                return
            self.samples.append((time.monotonic(), *rss))
            if self.allocators:
                pool = sys.modules.get("pyarrow")
                self.arrow.append(pool.default_memory_pool().bytes_allocated() if pool else 0)
            if self.allocators is not None and (not self.peak or rss[0] > self.peak[1]):
                self.peak = (time.monotonic(), rss[0], allocators())
            self._stop.wait(interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def peak_phase(
    samples: list[tuple[float, int, int, int]], commits: list[dict], finished: float
) -> dict[str, Any] | None:
    """When the sampled peak happened (during a chunk commit, while fetching, at the end) and what it was made of."""
    if not samples:
        return None
    at, rss, anon, file_backed = max(samples, key=lambda s: s[1])
    inside = [s[1] for s in samples if any(c["start"] <= s[0] <= c["end"] for c in commits)]
    between = sorted(s[1] for s in samples if not any(c["start"] <= s[0] <= c["end"] for c in commits))
    phase = "fetching (between commits)"
    for number, c in enumerate(commits, 1):
        if c["start"] <= at <= c["end"]:
            phase = f"commit {number} of {len(commits)} ({c['rows']:,} rows, {c['units']} units)"
            break
    else:
        if commits and at > commits[-1]["end"]:
            phase = "after the last commit (views, run log)"
    third = len(samples) // 3
    return {
        "rss": rss,
        "anon": anon,
        "file": file_backed,
        "phase": phase,
        "seconds_before_end": finished - at,
        "median_outside_commits": between[len(between) // 2] if between else None,
        "max_outside_commits": between[-1] if between else None,
        "max_inside_commits": max(inside) if inside else None,
        # the peak of each third of the run: flat when memory does not grow with the days loaded
        "thirds": [
            max(s[1] for s in part)
            for part in (samples[:third], samples[third : 2 * third], samples[2 * third :])
            if part
        ]
        if third
        else None,
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---- the run --------------------------------------------------------------------------------------------


def pin_today(day: dt.date) -> None:
    """What the project believes today (UTC) is, in this process (monkeypatch-style, as the tests' `clock`)."""
    from sources.claude_analytics import days

    days.utc_today = lambda: day


class Timeline:
    """When each batch reached the consumer and each commit ended, told by the runner's `RunObserver`.

    A commit starts right after the batch that made it due was handed over (the runner checks its commit policy
    after telling the observer), so its start is the last `fetched` call before it.
    """

    def __init__(self) -> None:
        self.fetched: list[tuple[float, str, int, int]] = []  # (time, table, pages, rows)
        self.commits: list[dict[str, Any]] = []
        self.snapshots: list[Any] = []
        self._rows = self._units = self._pages = 0  # since the last commit

    def growth(self, top: int = 12) -> list[str]:
        """The allocation sites that grew most from the first commit to the last (tracemalloc)."""
        if len(self.snapshots) < 2:
            return []
        diff = self.snapshots[-1].compare_to(self.snapshots[0], "lineno")
        return [str(d) for d in diff[:top]]

    def fetched_batch(self, summary: Any, batch: Any) -> None:
        self.fetched.append((time.monotonic(), batch.endpoint.table, batch.pages, batch.rows))
        self._rows += batch.rows
        self._units += 1
        self._pages += batch.pages

    def committed(self, summary: Any) -> None:
        started = self.fetched[-1][0] if self.fetched else time.monotonic()
        record: dict[str, Any] = {
            "start": started,
            "end": time.monotonic(),
            "rows": self._rows,
            "units": self._units,
            "pages": self._pages,
        }
        self._rows = self._units = self._pages = 0
        rss = current_rss()
        if rss:
            record["rss_after"] = rss[0]
        if tracemalloc.is_tracing():  # where Python memory grows, commit after commit
            record["traced_after"] = tracemalloc.get_traced_memory()[0]
            self.snapshots[1 if len(self.snapshots) > 1 else len(self.snapshots) :] = [tracemalloc.take_snapshot()]
        self.commits.append(record)


class Observer:
    """The RunObserver handed to RunOptions: feeds the timeline."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    def fetched(self, summary: Any, batch: Any) -> None:
        self.timeline.fetched_batch(summary, batch)

    def committed(self, summary: Any) -> None:
        self.timeline.committed(summary)


def warehouse_checks(path: str, checks: list[list]) -> dict[str, dict[str, Any]]:
    """Per table: rows and the checksum column's sum over [first, last] (read-only, after the run)."""
    import duckdb

    out: dict[str, dict[str, Any]] = {}
    with duckdb.connect(path, read_only=True) as con:
        for table, column, first, last in checks:
            try:
                found = con.execute(
                    f'select count(*), sum("{column}") from {DATASET}."{table}" where "date" between ? and ?',
                    [dt.date.fromisoformat(first), dt.date.fromisoformat(last)],
                ).fetchone()
                rows, total = found if found else (0, None)
            except duckdb.Error:  # never created: no rows
                rows, total = 0, None
            out[table] = {"rows": int(rows), "checksum": str(total or 0)}
    return out


def run(params: dict[str, Any]) -> dict[str, Any]:
    """One `claude-analytics run` (or backfill) through `run_load` into the DuckDB file of the working directory."""
    baseline_rss = current_rss()
    today = dt.date.fromisoformat(params["today"])
    pin_today(today)
    from pipelines.destinations import Target
    from pipelines.runner import CommitPolicy, RunOptions, run_load
    from sources.claude_analytics.budget import RequestBudget, install_budget
    from sources.claude_analytics.settings import make_settings

    settings = make_settings(
        api_key=params["api_key"],
        base_url=params["base_url"],
        requests_per_minute=int(params["budget"]),
        **params.get("settings", {}),
    )
    install_budget(
        settings.base_url,
        settings.api_key or "",
        RequestBudget(
            settings.requests_per_minute,
            window_seconds=float(params["window_seconds"]),
            guard_seconds=float(params["guard_seconds"]),
        ),
    )
    timeline = Timeline()
    duckdb_file = os.path.abspath(WAREHOUSE)
    options = RunOptions(
        settings,
        command=params.get("command", "run"),
        target=Target(destination="duckdb", dataset_name=DATASET, pipeline_name=PIPELINE, duckdb_file=duckdb_file),
        endpoints=params.get("endpoints"),
        commit=CommitPolicy(**params["commit"]) if params.get("commit") else CommitPolicy(),
        observer=Observer(timeline),
    )
    trace = bool(params.get("tracemalloc"))
    if trace:
        tracemalloc.start(1)
    after_imports = current_rss()
    cpu0 = cpu_seconds()
    with RssSampler(float(params.get("sample_seconds", 0.2)), bool(params.get("allocators"))) as sampler:
        started = time.monotonic()
        summary = run_load(options)
        finished = time.monotonic()
    cpu = cpu_seconds() - cpu0
    peak = peak_rss_bytes()
    traced, growth = None, []
    if trace:
        traced = tracemalloc.get_traced_memory()[1]
        growth = timeline.growth()
        timeline.snapshots.clear()
        tracemalloc.stop()
    gc.collect()
    checks = warehouse_checks(duckdb_file, params.get("checks") or [])
    from pipelines.runner import fetch_workers

    return {
        "started": started,
        "finished": finished,
        "wall": finished - started,
        "cpu_seconds": cpu,
        "outcome": summary.outcome,
        "error": summary.error,
        "requests": summary.requests,
        "retries": summary.retries,
        "rate_limited": summary.rate_limited,
        "cursor_restarts": summary.cursor_restarts,
        "chunks": summary.chunks,
        "planned_units": summary.planned_units,
        "rows_loaded": summary.rows_loaded,
        "days_loaded": summary.days_loaded,
        "unavailable": summary.unavailable,
        "days": {
            "engagement": [str(summary.earliest_day), str(summary.latest_available_day)],
            "cost": [str(summary.cost_earliest_day), str(summary.cost_latest_day)],
        },
        "commits": timeline.commits,
        "fetched": timeline.fetched,
        "peak_rss": peak,
        "baseline_rss": baseline_rss[0] if baseline_rss else None,
        "after_imports_rss": after_imports[0] if after_imports else None,
        "peak_phase": peak_phase(sampler.samples, timeline.commits, finished),
        "samples": [(round(t - started, 2), r // 1024**2, a // 1024**2) for t, r, a, _ in sampler.samples[::5]],
        "arrow_top": sorted(
            ((round(sampler.samples[i][0] - started, 1), b // 1024**2) for i, b in enumerate(sampler.arrow)),
            key=lambda x: -x[1],
        )[:10],
        "traced_peak": traced,
        "traced_growth": growth,
        "allocators_at_peak": sampler.peak[2] if sampler.peak else None,
        "allocators_at_end": allocators(),
        "warehouse": checks,
        "workers": fetch_workers(settings.requests_per_minute),
    }


# ---- the load path --------------------------------------------------------------------------------------


class PagesClient:
    """Stands in for AnalyticsClient (the one method UnitFetcher's queries call): serves already-built pages of
    /users, so no network and no JSON decoding."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.rows: dict[str, list[dict]] = {}

    def pages(self, path: str, params: dict, on_page, *, where=None, day=None, max_pages=None) -> list:
        rows = self.rows.pop(params["date"])
        size = self.page_size
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]
        out = []
        for n, chunk in enumerate(chunks):
            out.append(on_page({"data": chunk, "next_page": None if n + 1 == len(chunks) else f"page-{n + 1}"}))
            if len(out) == max_pages:
                break
        return out


def loadpath(params: dict[str, Any]) -> dict[str, Any]:
    """Full-width `user_activity` pages → the pipeline's UnitFetcher (shaping) → the runner's Committer.

    Pages come from the simulator's data (as Python objects, the way the client's JSON decoder yields
    them), generated before each chunk and not timed. Timed: shaping (UnitFetcher → Arrow) and the
    commit (`Committer`: one `pipeline.run` — dlt extract, normalize, load; merge delete-insert).
    """
    from claude_analytics_simulator import Simulator, SimulatorConfig
    from pipelines.destinations import Target
    from pipelines.runner import Committer, RunSummary
    from sources.claude_analytics import Calendar, Extraction
    from sources.claude_analytics.days import Edges, Unit, day_range
    from sources.claude_analytics.endpoints import BY_NAME
    from sources.claude_analytics.fetch import UnitFetcher
    from sources.claude_analytics.settings import make_settings

    destination = params["destination"]
    endpoint = BY_NAME["users"]
    page_size = int(params.get("page_size", 1000))
    today = dt.date.fromisoformat(params["today"])
    pin_today(today)
    sim = Simulator(
        SimulatorConfig(users=int(params["users"]), seed=int(params["seed"]), today=today, rate_limit=0)
    )  # data only: never started
    last = sim.latest_available_day()
    days = list(day_range(last - dt.timedelta(days=int(params["days"]) - 1), last))
    settings = make_settings(api_key="bench-unused-key", base_url="http://127.0.0.1:9/unused")
    extraction = Extraction(settings, [endpoint])
    extraction.calendar = Calendar(
        today,
        {"engagement": Edges(days[0], last, 90), "cost": Edges(days[0], last, 365)},
        {"engagement": 3, "cost": 30},
    )
    client = PagesClient(page_size)
    fetch = UnitFetcher(client, [endpoint], page_size)  # type: ignore[arg-type]
    target = Target(
        destination=destination,
        dataset_name=DATASET,
        pipeline_name=f"bench_load_{destination}",
        duckdb_file=os.path.abspath(WAREHOUSE) if destination == "duckdb" else None,
    )
    pipeline = target.pipeline()
    summary = RunSummary(
        "backfill", target.destination, target.dataset_name, started_at=dt.datetime.now(dt.timezone.utc)
    )
    commit = Committer(pipeline, extraction, target.kind, summary, None, None)
    chunk_days = max(1, int(params["chunk_days"]))
    shape_s = commit_s = 0.0
    rows = columns = 0
    chunks = []
    for i in range(0, len(days), chunk_days):
        chunk = days[i : i + chunk_days]
        for day in chunk:  # not timed: the "already-fetched" pages
            client.rows[day.isoformat()] = sim.expected("/users", day)
        gc.collect()
        t0 = time.perf_counter()
        batches = [fetch(endpoint, Unit(day, day)) for day in chunk]
        t1 = time.perf_counter()
        commit(batches)
        t2 = time.perf_counter()
        chunk_rows = sum(b.rows for b in batches)
        rows += chunk_rows
        columns = max(columns, *(b.table.num_columns for b in batches if b.table is not None))
        shape_s += t1 - t0
        commit_s += t2 - t1
        chunks.append({"rows": chunk_rows, "shape_s": t1 - t0, "commit_s": t2 - t1})
        del batches
    with pipeline.sql_client() as sql:
        table = sql.make_qualified_table_name(endpoint.table)
        counted = sql.execute_sql(f"SELECT COUNT(*) FROM {table}")
        in_destination = int(counted[0][0]) if counted else 0
    return {
        "destination": destination,
        "file_format": target.kind.file_format,
        "rows": rows,
        "columns": columns,
        "rows_in_destination": in_destination,
        "days": len(days),
        "shape_s": shape_s,
        "commit_s": commit_s,
        "chunks": chunks,
        "peak_rss": peak_rss_bytes(),
        "commits": summary.chunks,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    params = json.loads(argv[0])
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    job = {"run": run, "loadpath": loadpath}[params["job"]]
    result = job(params)
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
