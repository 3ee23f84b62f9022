"""What runs in the measured child process: one backfill, or one load-path run. `python -m bench.child JSON`.

The child is a fresh interpreter that runs the pipeline and nothing else (the API simulator lives in the
parent), so its peak RSS is the pipeline's. It prints one line `BENCH-RESULT {json}` at the end.
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
from typing import Any

RESULT_MARK = "BENCH-RESULT "
DATASET = "claude_analytics"


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


class RssSampler:
    """Samples this process's RSS every `interval` s, to say *when* the peak happened (Linux only)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.samples: list[tuple[float, int, int, int]] = []  # (time, RSS, anonymous, file-backed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="bench-rss", daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            rss = current_rss()
            if rss is None:
                return
            self.samples.append((time.monotonic(), *rss))
            self._stop.wait(interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def peak_phase(samples: list[tuple[float, int, int, int]], commits: list[dict], finished: float
               ) -> dict[str, Any] | None:
    """When the sampled peak happened (during a chunk commit, while fetching, at the end) and what it was made of."""
    if not samples:
        return None
    at, rss, anon, file_backed = max(samples, key=lambda s: s[1])
    between = sorted(s[1] for s in samples if not any(c["start"] <= s[0] <= c["end"] for c in commits))
    phase = "fetching (between commits)"
    for number, c in enumerate(commits, 1):
        if c["start"] <= at <= c["end"]:
            phase = f"commit {number} of {len(commits)} ({c['rows']:,} rows)"
            break
    else:
        if commits and at > commits[-1]["end"]:
            phase = "after the last commit (views, run log)"
    return {"rss": rss, "anon": anon, "file": file_backed, "phase": phase, "seconds_before_end": finished - at,
            "median_outside_commits": between[len(between) // 2] if between else None}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _settings(params: dict[str, Any]):
    from sources.claude_analytics.settings import ClaudeAnalyticsSettings, validate

    s = ClaudeAnalyticsSettings()
    s.api_key = params.get("api_key") or "bench-unused-key"
    s.base_url = params.get("base_url") or "http://127.0.0.1:9/unused"
    s.requests_per_minute = int(params.get("budget", 60))
    s.availability_lag_days = int(params.get("lag_days", 1))
    s.history_days = int(params.get("history_days", 90))
    s.page_size = int(params.get("page_size", 1000))
    validate(s)
    return s


def _count_rows(pipeline, tables: list[str]) -> dict[str, int]:
    counts = {}
    with pipeline.sql_client() as sql:
        for table in tables:
            try:
                rows = sql.execute_sql(f"SELECT COUNT(*) FROM {sql.make_qualified_table_name(table)}")
                counts[table] = int(rows[0][0])
            except Exception:  # the table was never created (no rows)
                counts[table] = 0
    return counts


def _timed_commits(records: list[dict]) -> None:
    """Record start, end and rows of every chunk commit of the runner (wraps `Load._commit`)."""
    from pipelines.runner import Load

    original = getattr(Load, "_commit", None)
    if original is None:  # the runner changed: run without the breakdown
        return

    def timed(self, pipeline, batches, *args, **kwargs):
        started = time.monotonic()
        try:
            return original(self, pipeline, batches, *args, **kwargs)
        finally:
            records.append({"start": started, "end": time.monotonic(), "rows": sum(b.rows for b in batches)})

    Load._commit = timed


def backfill(params: dict[str, Any]) -> dict[str, Any]:
    """`claude-analytics backfill` of [start, end] through `run_load`, into a fresh DuckDB file."""
    from pipelines import runner
    from pipelines.runner import RunOptions, run_load
    from sources.claude_analytics.budget import RequestBudget
    from sources.claude_analytics.endpoints import ENDPOINTS

    baseline_rss = peak_rss_bytes()
    settings = _settings(params)
    window, guard = float(params["window_seconds"]), float(params["guard_seconds"])
    budget_used: dict[str, Any] = {}
    if window != 60.0:
        # A time-scaled budget (quick runs and the smoke test): the same RequestBudget over a shorter
        # window. The runner takes its budget from `shared_budget`; hand it this one instead.
        scaled = RequestBudget(settings.requests_per_minute, window_seconds=window, guard_seconds=guard)

        def scaled_budget(base_url: str, api_key: str, requests_per_minute: int) -> RequestBudget:
            budget_used["scaled"] = True
            return scaled

        runner.shared_budget = scaled_budget
    commits: list[dict] = []
    _timed_commits(commits)
    duckdb_file = os.path.abspath("warehouse.duckdb")
    options = RunOptions(settings, command="backfill", destination="duckdb", dataset_name=DATASET,
                         start_date=dt.date.fromisoformat(params["start"]),
                         end_date=dt.date.fromisoformat(params["end"]),
                         today=dt.date.fromisoformat(params["today"]), pipeline_name="bench_backfill",
                         duckdb_file=duckdb_file)
    cpu0 = cpu_seconds()
    with RssSampler() as sampler:
        started = time.monotonic()
        summary = run_load(options)
        finished = time.monotonic()
    cpu = cpu_seconds() - cpu0
    peak = peak_rss_bytes()
    from pipelines.runner import make_pipeline

    pipeline = make_pipeline("duckdb", DATASET, "bench_backfill", duckdb_file)
    rows = _count_rows(pipeline, [e.table for e in ENDPOINTS])
    return {
        "started": started, "finished": finished, "wall": finished - started, "cpu_seconds": cpu,
        "outcome": summary.outcome, "requests": summary.requests, "retries": summary.retries,
        "rate_limited": summary.rate_limited, "chunks": summary.chunks, "rows_loaded": summary.rows_loaded,
        "rows_in_warehouse": rows, "commits": commits, "peak_rss": peak, "baseline_rss": baseline_rss,
        "peak_phase": peak_phase(sampler.samples, commits, finished),
        "scaled_budget_used": bool(budget_used.get("scaled")), "window_seconds": window,
    }


class _PagesClient:
    """Stands in for AnalyticsClient: serves already-fetched pages, so no network and no JSON decoding."""

    def __init__(self) -> None:
        self.pages: dict[dt.date, list[list[dict]]] = {}

    def fetch_pages(self, path: str, params: dict, *, day: dt.date | None = None, on_page=None) -> list:
        pages = self.pages.pop(day)
        return [on_page(page) if on_page else page for page in pages]


def loadpath(params: dict[str, Any]) -> dict[str, Any]:
    """Full-width `user_activity` pages → the pipeline's UnitFetcher (shaping) → the runner's chunk commit.

    Pages come from the simulator's data (as Python objects, the way the client's JSON decoder yields
    them), generated before each chunk and not timed. Timed: shaping (UnitFetcher → Arrow) and the
    commit (dlt extract, normalize, load; merge delete-insert) — the path every fetched page takes.
    """
    from claude_analytics_simulator import Simulator, SimulatorConfig
    from pipelines.runner import Load, RunOptions, make_pipeline
    from sources.claude_analytics.days import Unit
    from sources.claude_analytics.endpoints import BY_NAME
    from sources.claude_analytics.fetch import UnitFetcher
    from sources.claude_analytics.rows import TableShaper

    from .plan import days_between

    destination = params["destination"]
    endpoint = BY_NAME["users"]
    page_size = int(params.get("page_size", 1000))
    today = dt.date.fromisoformat(params["today"])
    sim = Simulator(SimulatorConfig(users=int(params["users"]), seed=int(params["seed"]), today=today,
                                    availability_lag_days=1, rate_limit=0))  # data only: never started
    last = sim.latest_available_day()
    days = days_between(last - dt.timedelta(days=int(params["days"]) - 1), last)
    client = _PagesClient()
    fetch = UnitFetcher(client, {endpoint.table: TableShaper(endpoint)}, page_size)
    name = f"bench_load_{destination}"
    duckdb_file = os.path.abspath("warehouse.duckdb") if destination == "duckdb" else None
    load = Load(RunOptions(_settings(params), command="backfill", destination=destination, dataset_name=DATASET,
                           endpoints="users", today=today, pipeline_name=name, duckdb_file=duckdb_file))
    pipeline = make_pipeline(destination, DATASET, name, duckdb_file)
    load.pipeline = pipeline
    chunk_days = max(1, int(params["chunk_days"]))
    shape_s = commit_s = 0.0
    rows = columns = 0
    chunks = []
    for i in range(0, len(days), chunk_days):
        chunk = days[i:i + chunk_days]
        for day in chunk:  # not timed: the "already-fetched" pages
            day_rows = sim.expected("/users", day)
            client.pages[day] = [day_rows[j:j + page_size] for j in range(0, len(day_rows), page_size)]
        del day_rows
        gc.collect()
        t0 = time.perf_counter()
        batches = [fetch(endpoint, Unit(day, day)) for day in chunk]
        t1 = time.perf_counter()
        load._commit(pipeline, batches)
        t2 = time.perf_counter()
        chunk_rows = sum(b.rows for b in batches)
        rows += chunk_rows
        columns = max(columns, *(b.table.num_columns for b in batches if b.table is not None))
        shape_s += t1 - t0
        commit_s += t2 - t1
        chunks.append({"rows": chunk_rows, "shape_s": t1 - t0, "commit_s": t2 - t1})
        del batches
    in_destination = _count_rows(pipeline, [endpoint.table])[endpoint.table]
    return {"destination": destination, "file_format": load.destination.file_format, "rows": rows,
            "columns": columns, "rows_in_destination": in_destination, "days": len(days),
            "shape_s": shape_s, "commit_s": commit_s, "chunks": chunks, "peak_rss": peak_rss_bytes()}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    params = json.loads(argv[0])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    job = {"backfill": backfill, "loadpath": loadpath}[params["job"]]
    result = job(params)
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
