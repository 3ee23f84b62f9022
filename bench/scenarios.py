"""The benchmark's scenarios, run from the parent process: the simulator here, the pipeline in a child.

- `run_scenario(...)`: one full run (the backfill of an empty warehouse: `claude-analytics run`), and
  optionally the next night's run, against the simulator enforcing the same budget as the client (so a
  429 would be real); the parent reads the simulator's request log and compares with the minimal plan.
- `loadpath(...)`: the load path of full-width `user_activity` rows into one destination (no network).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from .child import RESULT_MARK
from .plan import API_FLOOR, CHECKSUMS, ENGAGEMENT, ONE_DAY, TABLES, MinimalPlan, cached_plan, floors

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".bench" / "cache"
# A fixed "today" (UTC), so the organization is the same on every machine. On it the engagement endpoints serve
# their 90 days of history and the cost & usage reports reach back to 2026-01-01, their earliest allowed day:
# both families load 2026-01-01 … 2026-03-31.
TODAY = dt.date(2026, 4, 1)
SEED = 42
HISTORY_DAYS = 90  # the simulator's engagement history (the pipeline learns it: history_days = auto)
COST_HISTORY_DAYS = 365
LOOKBACK_DAYS, COST_LOOKBACK_DAYS = 3, 30  # the product's defaults: the nightly run re-fetches these


@dataclass(frozen=True)
class RunConfig:
    """One organization and one run of the pipeline against it (and optionally the next night's)."""

    label: str
    users: int
    days: int | None = None  # None: everything the API serves; else start_date = the last day − days + 1
    budget: int = 60  # requests per window, enforced by the simulator and the client alike
    window_seconds: float = 12.0  # time-scaled: 60 s ÷ 5 (a 0.25 s guard is then ~2 % of a window)
    latency: float | None = None  # server latency; None: 1 s scaled like the window
    seed: int = SEED
    today: dt.date = TODAY
    report_models: int = 5
    nightly: bool = False  # also run the next day's nightly job against the same warehouse
    commit: dict[str, float] | None = None  # CommitPolicy fields; None: the runner's defaults
    env: dict[str, str] = field(default_factory=dict)  # environment of the child (MALLOC_ARENA_MAX=2, …)
    count_plan: bool = True  # count the minimal plan from the simulator (and check the warehouse against it)
    endpoints: str | None = None  # None: all eleven (experiments only: the plan counts all)
    tracemalloc: bool = False
    page_size: int = 1000
    guard: float | None = None  # the client's guard; None: 1 s per 60 s, scaled like the window
    memory_role: str | None = None  # "target" | "fewer_days" | "more_users": its verdict in the memory table

    @property
    def scale(self) -> float:
        return self.window_seconds / 60.0

    @property
    def guard_seconds(self) -> float:
        """The client's guard: the runner's 1 s per 60 s window, scaled like the window (unless set), but never
        below 0.25 s: it covers the jitter between a request's send and its arrival at the simulator, which does
        not shrink with the time scale (the simulator shares the benchmark's process with its own CPU work)."""
        return self.guard if self.guard is not None else max(self.window_seconds / 60.0, 0.25)

    @property
    def server_latency(self) -> float:
        return self.latency if self.latency is not None else round(1.0 * self.scale, 3)

    @property
    def last_day(self) -> dt.date:
        return self.today - ONE_DAY

    @property
    def start_date(self) -> dt.date | None:
        return None if self.days is None else self.last_day - dt.timedelta(days=self.days - 1)

    def ranges(self) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
        """(engagement days, cost days) a run on an empty warehouse loads: every served day (from start_date)."""
        start = self.start_date or API_FLOOR
        engagement = max(API_FLOOR, self.today - dt.timedelta(days=HISTORY_DAYS), start)
        cost = max(API_FLOOR, self.today - dt.timedelta(days=COST_HISTORY_DAYS), start)
        return (engagement, self.last_day), (cost, self.last_day)

    def nightly_ranges(self) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
        """The next day's nightly run: the new day plus the re-fetch windows (lookback from each cursor)."""
        loaded = self.last_day
        tomorrow = self.last_day + ONE_DAY
        start = self.start_date or API_FLOOR
        return (
            (max(start, loaded + dt.timedelta(days=1 - LOOKBACK_DAYS)), tomorrow),
            (max(start, loaded + dt.timedelta(days=1 - COST_LOOKBACK_DAYS)), tomorrow),
        )

    def simulator_config(self, latency: float = 0.0, rate_limited: bool = True):
        from claude_analytics_simulator import FaultConfig, SimulatorConfig

        return SimulatorConfig(
            users=self.users,
            seed=self.seed,
            today=self.today,
            availability_lag_days=1,
            history_days=HISTORY_DAYS,
            report_models=self.report_models,
            rate_limit=self.budget if rate_limited else 0,
            rate_window_seconds=self.window_seconds,
            faults=FaultConfig(latency_min=latency, latency_max=latency),
        )

    def settings(self) -> dict[str, Any]:
        """The source's settings besides key, URL and budget: the product's defaults (edges learnt: auto)."""
        values: dict[str, Any] = {
            "availability_lag_days": "auto",
            "history_days": "auto",
            "lookback_days": LOOKBACK_DAYS,
            "cost_lookback_days": COST_LOOKBACK_DAYS,
            "page_size": self.page_size,
        }
        if self.start_date is not None:
            values["start_date"] = self.start_date.isoformat()
        return values


class ChildFailed(RuntimeError):
    pass


def child_env(workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "RUNTIME__"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["DLT_DATA_DIR"] = str(workdir / "dlt")
    env["RUNTIME__LOG_LEVEL"] = "WARNING"
    env.update(extra or {})
    return env


def run_child(
    params: dict[str, Any], workdir: Path, *, timeout: float, env: dict[str, str] | None = None, name: str = "child"
) -> dict[str, Any]:
    """Run `python -m bench.child` in `workdir`; its result, or ChildFailed with the tail of its stderr."""
    workdir.mkdir(parents=True, exist_ok=True)
    stderr_path = workdir / f"{name}.stderr"
    with open(stderr_path, "w") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "bench.child", json.dumps(params, default=str)],
            cwd=workdir,
            env=env or child_env(workdir),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not lines:
        tail = "\n".join(stderr_path.read_text(errors="replace").splitlines()[-25:])
        raise ChildFailed(f"bench child {params.get('job')} exited {done.returncode}:\n{tail}")
    result = json.loads(lines[-1][len(RESULT_MARK) :])
    warnings = [line for line in stderr_path.read_text(errors="replace").splitlines() if " WARNING " in line]
    result["warnings"] = len(warnings)
    result["warning_sample"] = sorted({w.split(": ", 1)[-1][:160] for w in warnings})[:3]
    return result


def plans_for(config: RunConfig, progress: Callable[[str], None] = print) -> tuple[MinimalPlan, MinimalPlan | None]:
    """The minimal plans of the run and of the next night's (counted from the simulator; cached)."""
    from claude_analytics_simulator import Simulator

    sim = Simulator(config.simulator_config(rate_limited=False))  # data only: never started
    engagement, cost = config.ranges()
    plan = cached_plan(CACHE, sim, config.today, engagement, cost, page_size=config.page_size, progress=progress)
    nightly = None
    if config.nightly:
        sim.config.today = config.today + ONE_DAY
        nightly = cached_plan(
            CACHE, sim, config.today + ONE_DAY, *config.nightly_ranges(), page_size=config.page_size, progress=progress
        )
    return plan, nightly


def _checks(plan: MinimalPlan) -> list[list[str]]:
    out = []
    for path, table in TABLES.items():
        first, last = plan.engagement if path in ENGAGEMENT else plan.cost
        out.append([table, CHECKSUMS[path][0], first.isoformat(), last.isoformat()])
    return out


def _child_params(config: RunConfig, sim, today: dt.date, plan: MinimalPlan | None) -> dict[str, Any]:
    return {
        "job": "run",
        "base_url": sim.base_url,
        "api_key": sim.api_key,
        "budget": config.budget,
        "window_seconds": config.window_seconds,
        "guard_seconds": config.guard_seconds,
        "today": today.isoformat(),
        "settings": config.settings(),
        "commit": config.commit,
        "checks": _checks(plan) if plan else [],
        "tracemalloc": config.tracemalloc,
        "allocators": True,
        "endpoints": config.endpoints,
    }


def _figures(
    config: RunConfig,
    result: dict[str, Any],
    log: list[dict],
    stats: dict[str, Any],
    plan: MinimalPlan | None,
    sim_cpu: float,
) -> dict[str, Any]:
    """The run's figures: requests against the plan, wall against the floors, commits, memory."""
    arrivals = sorted(e["t"] for e in log)
    by_path: dict[str, int] = {}
    for e in log:
        by_path[e["path"]] = by_path.get(e["path"], 0) + 1
    calendar = 0  # the run's first requests: the calendar's one-day /summaries probes
    while calendar < len(log) and log[calendar]["path"] == "/summaries" and _is_probe(log[calendar]):
        calendar += 1
    commits = result["commits"]
    wall = result["wall"]
    started = result["started"]
    out: dict[str, Any] = {
        "label": config.label,
        "users": config.users,
        "budget": config.budget,
        "window": config.window_seconds,
        "guard": config.guard_seconds,
        "latency": config.server_latency,
        "requests": stats["total"],
        "requests_by_path": by_path,
        "calendar_requests": calendar,
        "client_requests": result["requests"],
        "retries": result["retries"],
        "rate_limited": stats["rate_limited"],
        "max_in_window": stats["max_in_window"],
        "max_in_flight": stats.get("max_in_flight"),
        "wall": wall,
        "outcome": result["outcome"],
        "error": result.get("error"),
        "days": result["days"],
        "chunks": result["chunks"],
        "rows_loaded": result["rows_loaded"],
        "unavailable": result["unavailable"],
        "workers": result["workers"],
        "first_request_after": (arrivals[0] - started) if arrivals else None,
        "last_request_at": (arrivals[-1] - started) if arrivals else None,
        "tail_after_last_request": (result["finished"] - arrivals[-1]) if arrivals else None,
        "commits": len(commits),
        "commit_seconds": sum(c["end"] - c["start"] for c in commits),
        "commit_log": [
            {
                "at": round(c["start"] - started, 2),
                "seconds": round(c["end"] - c["start"], 2),
                **{k: c[k] for k in ("rows", "units", "pages", "rss_after", "traced_after") if k in c},
            }
            for c in commits
        ],
        "max_commit_seconds": max((c["end"] - c["start"] for c in commits), default=0.0),
        "requests_during_commits": sum(1 for t in arrivals for c in commits if c["start"] <= t <= c["end"]),
        "arrivals": [round(t - started, 3) for t in arrivals],
        "cpu_seconds": result["cpu_seconds"],
        "simulator_cpu_seconds": sim_cpu,
        "peak_rss": result["peak_rss"],
        "baseline_rss": result["baseline_rss"],
        "after_imports_rss": result["after_imports_rss"],
        "peak_phase": result.get("peak_phase"),
        "samples": result.get("samples"),
        "traced_peak": result.get("traced_peak"),
        "arrow_top": result.get("arrow_top"),
        "traced_growth": result.get("traced_growth"),
        "allocators_at_peak": result.get("allocators_at_peak"),
        "allocators_at_end": result.get("allocators_at_end"),
        "warnings": result.get("warnings", 0),
        "warning_sample": result.get("warning_sample", []),
        "env": config.env,
        "commit_policy": config.commit,
    }
    idle = _idle_windows(arrivals, config.window_seconds, config.budget)
    out["underused_windows"] = idle
    out["cost_chains"] = chains = _report_chains(log, started)
    out["cost_chain"] = max(chains, key=lambda c: c["requests"]) if chains else None
    if plan is not None:
        f = floors(plan.requests, config.budget, config.window_seconds, config.server_latency, config.guard_seconds)
        out.update(
            planned=plan.requests,
            planned_by_path=plan.requests_by_path,
            floor_rate=f.rate,
            floor_burst=f.burst,
            floor_design=f.design,
            wall_over_floor=wall / f.rate,
            wall_over_burst=wall / f.burst,
            wall_over_design=wall / f.design,
            achieved_over_budget=(stats["total"] / wall * config.window_seconds) / config.budget,
        )
        tables = {}
        warehouse = result.get("warehouse") or {}
        for path, table in TABLES.items():
            want = plan.paths[path]
            got = warehouse.get(table)
            if got is None:
                continue
            tables[table] = {
                "rows": got["rows"],
                "expected_rows": want.rows,
                "checksum": got["checksum"],
                "expected_checksum": str(want.checksum),
                "equal": got["rows"] == want.rows and Decimal(got["checksum"]) == want.checksum,
            }
        out["tables"] = tables
        out["tables_equal"] = bool(tables) and all(t["equal"] for t in tables.values())
    return out


def _report_chains(log: list[dict], started: float, path: str = "/cost_report") -> list[dict[str, Any]]:
    """The bucketed report's requests, one chain per ≤ 31-day window (its daily buckets, then its hour and minute
    re-queries): how many, over how long, and for how long nothing but the chain was being sent."""
    entries = sorted(log, key=lambda e: e["t"])
    windows: list[dict[str, Any]] = []
    for e in entries:
        if e["path"] != path:
            continue
        p = e["params"]
        if p.get("bucket_width") == "1d" and "page" not in p:
            windows.append({"start": p["starting_at"], "end": p["ending_at"], "times": [e["t"]]})
        else:
            for w in windows:
                if w["start"] <= p.get("starting_at", "") < w["end"]:
                    w["times"].append(e["t"])
                    break
    out = []
    for w in windows:
        first, last = w["times"][0], w["times"][-1]
        others = [e["t"] for e in entries if e["path"] != path and first <= e["t"] <= last]
        alone_from = max(others) if others else first
        out.append(
            {
                "window": f"{w['start'][:10]}..{w['end'][:10]}",
                "requests": len(w["times"]),
                "from": first - started,
                "seconds": last - first,
                "per_second": (len(w["times"]) - 1) / (last - first) if last > first else None,
                "alone_seconds": last - alone_from,
            }
        )
    return out


def _is_probe(entry: dict) -> bool:
    """A calendar probe: a one-day /summaries request (the run's data windows span more days, or start later)."""
    p = entry["params"]
    try:
        first, end = dt.date.fromisoformat(p["starting_date"]), dt.date.fromisoformat(p["ending_date"])
    except (KeyError, ValueError):
        return False
    return (end - first).days == 1


def _idle_windows(arrivals: list[float], window: float, budget: int) -> dict[str, Any]:
    """How full the budget's windows were: consecutive windows of W s from the first request, and how many of
    them (the last one aside) carried fewer than 90 % of the budget."""
    if not arrivals:
        return {"windows": 0, "under_90": 0}
    start = arrivals[0]
    counts: dict[int, int] = {}
    for t in arrivals:
        counts[int((t - start) // window)] = counts.get(int((t - start) // window), 0) + 1
    last = max(counts)
    full = [counts.get(i, 0) for i in range(last)]  # the last, partial window aside
    return {
        "windows": last + 1,
        "under_90": sum(1 for c in full if c < 0.9 * budget),
        "lowest": min(full) if full else None,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def roomy_caches(sim, users: int) -> None:
    """Size the simulator's caches (in this process) for `users`: several days of rows and report cells.

    The simulator keeps ~50,000 engagement rows, 100,000 report rows and 150,000 report cells (a few days of 10,000
    users); at 50,000 users one day of `/user_usage_report` is 57,000 rows, so pages fetched concurrently for
    different days evict each other and every page regenerates its day (minutes each). The simulator's speed is not
    what is measured: give it room.
    """
    from claude_analytics_simulator import report_answers, server

    scale = max(1.0, users / 10_000)
    server.ROW_CACHE_BUDGET = max(server.ROW_CACHE_BUDGET, int(50_000 * 3 * scale))
    report_answers.ROW_CACHE_BUDGET = max(report_answers.ROW_CACHE_BUDGET, int(100_000 * 3 * scale))
    sim._reports().data._cache_cells = max(sim._reports().data._cache_cells, int(150_000 * 3 * scale))


def run_scenario(
    config: RunConfig,
    workdir: Path,
    plan: MinimalPlan | None = None,
    nightly_plan: MinimalPlan | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """The run of `config` (and the next night's, when asked), each in a child process; their figures."""
    from claude_analytics_simulator import Simulator

    sim = Simulator(config.simulator_config(config.server_latency))
    if config.users > 10_000:
        roomy_caches(sim, config.users)
    sim.start()
    env = child_env(workdir, config.env)
    load0 = os.getloadavg()
    try:
        estimate = (plan.requests if plan else 10_000) / config.budget * config.window_seconds
        limit = timeout or max(900.0, 4 * estimate + 600)
        cpu0 = _cpu()
        result = run_child(_child_params(config, sim, config.today, plan), workdir, timeout=limit, env=env, name="run")
        out = _figures(config, result, sim.request_log(), sim.stats(), plan, _cpu() - cpu0)
        out["load_average"] = [load0, os.getloadavg()]
        if config.nightly:
            time.sleep(config.window_seconds + 1.0)  # the server's window empties: the next night starts afresh
            sim.config.today = config.today + ONE_DAY
            sim.reset_stats()
            night = replace(config, today=config.today + ONE_DAY)
            cpu0 = _cpu()
            # the same settings (start_date included) on the next day
            result = run_child(
                _child_params(config, sim, night.today, nightly_plan), workdir, timeout=limit, env=env, name="nightly"
            )
            nightly = _figures(night, result, sim.request_log(), sim.stats(), nightly_plan, _cpu() - cpu0)
            nightly["label"] = f"{config.label}, next night"
            for key in ("arrivals", "samples"):
                nightly.pop(key, None)
            out["nightly"] = nightly
    finally:
        sim.stop()
    return out


@dataclass(frozen=True)
class LoadConfig:
    users: int = 10_000
    days: int = 30
    chunk_days: int = 10
    page_size: int = 1000
    seed: int = SEED
    today: dt.date = TODAY


def loadpath(
    config: LoadConfig, destination: str, workdir: Path, dsn: str | None = None, timeout: float = 1800
) -> dict[str, Any]:
    params = {
        "job": "loadpath",
        "destination": destination,
        "users": config.users,
        "days": config.days,
        "chunk_days": config.chunk_days,
        "page_size": config.page_size,
        "seed": config.seed,
        "today": config.today.isoformat(),
    }
    extra = {"DESTINATION__POSTGRES__CREDENTIALS": dsn} if dsn else {}
    result = run_child(params, workdir, timeout=timeout, env=child_env(workdir, extra), name="loadpath")
    timed = result["shape_s"] + result["commit_s"]
    result.update(
        rows_per_s=result["rows"] / timed,
        shape_rows_per_s=result["rows"] / result["shape_s"],
        commit_rows_per_s=result["rows"] / result["commit_s"],
        rows_match=result["rows"] == result["rows_in_destination"],
    )
    return result


class PostgresForBench:
    """A throwaway PostgreSQL cluster (the tests' helper, durable defaults: fsync on), or why there is none."""

    def __init__(self) -> None:
        self.cluster: Any = None
        self.unavailable: str | None = None
        self.version: str | None = None

    def __enter__(self) -> PostgresForBench:
        try:
            from tests.postgres.cluster import ClusterUnavailable, PostgresCluster
        except ImportError as exc:
            self.unavailable = f"tests/postgres/cluster.py not importable ({exc})"
            return self
        try:
            self.cluster = PostgresCluster(durable=True).start()
            con = self.cluster.connect()
            try:
                with con.cursor() as cur:
                    cur.execute("show server_version")
                    self.version = cur.fetchone()[0]
            finally:
                con.close()
        except ClusterUnavailable as exc:
            self.unavailable = str(exc)
        except Exception as exc:  # initdb/pg_ctl failed: report, don't abort the other sections
            self.unavailable = f"could not start a throwaway cluster: {str(exc).splitlines()[0]}"
            if self.cluster is not None:
                self.cluster.stop()
                self.cluster = None
        return self

    def database(self, name: str) -> str:
        assert self.cluster is not None
        return self.cluster.create_database(name)

    def __exit__(self, *exc: object) -> None:
        if self.cluster is not None:
            self.cluster.stop()


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="claude-analytics-bench-"))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
