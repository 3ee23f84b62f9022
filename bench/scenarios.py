"""The benchmark's scenarios, run from the parent process: the simulator here, the pipeline in a child.

- `backfill(...)`: one budget-bound backfill at one server latency; the parent serves the simulator
  (enforcing the same budget as the client, so 429s are real) and reads its request log.
- `loadpath(...)`: the load path of full-width `user_activity` rows into one destination.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .child import RESULT_MARK
from .plan import MinimalPlan, floors, minimal_plan

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 1)  # a fixed "today" (UTC): the same synthetic organization on every machine
LAG_DAYS = 1
SEED = 42


@dataclass(frozen=True)
class BackfillConfig:
    users: int = 10_000
    days: int = 30
    budget: int = 60  # requests per window, enforced by the simulator and the client alike
    window_seconds: float = 60.0
    page_size: int = 1000
    seed: int = SEED
    today: dt.date = TODAY
    guard: float | None = None  # the client's guard; default: the runner's 1 s per 60 s, at least 0.25 s

    @property
    def guard_seconds(self) -> float:
        return self.guard if self.guard is not None else max(self.window_seconds / 60.0, 0.25)

    @property
    def last_day(self) -> dt.date:
        return self.today - dt.timedelta(days=LAG_DAYS)

    @property
    def first_day(self) -> dt.date:
        return self.last_day - dt.timedelta(days=self.days - 1)

    def simulator_config(self, latency: float = 0.0, rate_limited: bool = True):
        from claude_analytics_simulator import FaultConfig, SimulatorConfig

        return SimulatorConfig(users=self.users, seed=self.seed, today=self.today, availability_lag_days=LAG_DAYS,
                               rate_limit=self.budget if rate_limited else 0,
                               rate_window_seconds=self.window_seconds,
                               faults=FaultConfig(latency_min=latency, latency_max=latency))


class ChildFailed(RuntimeError):
    pass


def child_env(workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "RUNTIME__"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["DLT_DATA_DIR"] = str(workdir / "dlt")
    env["RUNTIME__LOG_LEVEL"] = "WARNING"
    env.update(extra or {})
    return env


def run_child(params: dict[str, Any], workdir: Path, *, timeout: float, env: dict[str, str] | None = None
              ) -> dict[str, Any]:
    """Run `python -m bench.child` in `workdir`; its result, or ChildFailed with the tail of its stderr."""
    workdir.mkdir(parents=True, exist_ok=True)
    stderr_path = workdir / "child.stderr"
    with open(stderr_path, "w") as stderr:
        done = subprocess.run([sys.executable, "-m", "bench.child", json.dumps(params, default=str)], cwd=workdir,
                              env=env or child_env(workdir), stdout=subprocess.PIPE, stderr=stderr, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not lines:
        tail = "\n".join(stderr_path.read_text(errors="replace").splitlines()[-25:])
        raise ChildFailed(f"bench child {params.get('job')} exited {done.returncode}:\n{tail}")
    return json.loads(lines[-1][len(RESULT_MARK):])


def plan_for(config: BackfillConfig) -> MinimalPlan:
    from claude_analytics_simulator import Simulator

    sim = Simulator(config.simulator_config(rate_limited=False))  # data only: never started
    return minimal_plan(sim, config.first_day, config.last_day, config.page_size)


def backfill(config: BackfillConfig, latency: float, plan: MinimalPlan, workdir: Path,
             timeout: float | None = None) -> dict[str, Any]:
    """One backfill of `config` at server latency `latency`; the figures of the issue's table 1."""
    from claude_analytics_simulator import Simulator

    from sources.claude_analytics.endpoints import ENDPOINTS

    sim = Simulator(config.simulator_config(latency))
    base_url = sim.start()
    f = floors(plan.requests, config.budget, config.window_seconds, latency, config.guard_seconds)
    params = {"job": "backfill", "base_url": base_url, "api_key": sim.api_key, "budget": config.budget,
              "window_seconds": config.window_seconds, "guard_seconds": config.guard_seconds,
              "page_size": config.page_size, "lag_days": LAG_DAYS, "today": config.today.isoformat(),
              "start": config.first_day.isoformat(), "end": config.last_day.isoformat()}
    try:
        result = run_child(params, workdir, timeout=timeout or max(600.0, 4 * f.rate + 300))
        stats = sim.stats()
        arrivals = sorted(entry["t"] for entry in sim.request_log())
    finally:
        sim.stop()
    wall = result["wall"]
    commits = result["commits"]
    during_commits = sum(1 for t in arrivals for c in commits if c["start"] <= t <= c["end"])
    by_table = {e.path: e.table for e in ENDPOINTS}
    expected_rows = {by_table[p]: n for p, n in plan.rows_by_path.items() if p in by_table}
    return {
        "latency": latency,
        "requests": stats["total"],
        "client_requests": result["requests"],
        "planned": plan.requests,
        "retries": result["retries"],
        "rate_limited": stats["rate_limited"],
        "max_in_window": stats["max_in_window"],
        "wall": wall,
        "floor_rate": f.rate,
        "floor_burst": f.burst,
        "floor_design": f.design,
        "wall_over_floor": wall / f.rate,
        "wall_over_burst": wall / f.burst,
        "achieved_over_budget": (stats["total"] / wall * config.window_seconds) / config.budget,
        "first_request_after": (arrivals[0] - result["started"]) if arrivals else None,
        "last_request_at": (arrivals[-1] - result["started"]) if arrivals else None,
        "tail_after_last_request": (result["finished"] - arrivals[-1]) if arrivals else None,
        "final_commit_s": (commits[-1]["end"] - commits[-1]["start"]) if commits else None,
        "after_last_commit_s": (result["finished"] - commits[-1]["end"]) if commits else None,
        "arrivals": [round(t - result["started"], 3) for t in arrivals],
        "commits": len(commits),
        "commit_seconds": sum(c["end"] - c["start"] for c in commits),
        "requests_during_commits": during_commits,
        "cpu_seconds": result["cpu_seconds"],
        "peak_rss": result["peak_rss"],
        "baseline_rss": result["baseline_rss"],
        "peak_phase": result.get("peak_phase"),
        "rows_in_warehouse": result["rows_in_warehouse"],
        "rows_expected": expected_rows,
        "rows_match": all(result["rows_in_warehouse"].get(t) == n for t, n in expected_rows.items()),
        "scaled_budget_used": result["scaled_budget_used"],
    }


@dataclass(frozen=True)
class LoadConfig:
    users: int = 10_000
    days: int = 30
    chunk_days: int = 10
    page_size: int = 1000
    seed: int = SEED
    today: dt.date = TODAY


def loadpath(config: LoadConfig, destination: str, workdir: Path, dsn: str | None = None,
             timeout: float = 1800) -> dict[str, Any]:
    params = {"job": "loadpath", "destination": destination, "users": config.users, "days": config.days,
              "chunk_days": config.chunk_days, "page_size": config.page_size, "seed": config.seed,
              "today": config.today.isoformat()}
    extra = {"DESTINATION__POSTGRES__CREDENTIALS": dsn} if dsn else {}
    result = run_child(params, workdir, timeout=timeout, env=child_env(workdir, extra))
    timed = result["shape_s"] + result["commit_s"]
    result.update(rows_per_s=result["rows"] / timed, shape_rows_per_s=result["rows"] / result["shape_s"],
                  commit_rows_per_s=result["rows"] / result["commit_s"],
                  rows_match=result["rows"] == result["rows_in_destination"])
    return result


class PostgresForBench:
    """A throwaway PostgreSQL cluster (the tests' helper, durable defaults: fsync on), or why there is none."""

    def __init__(self) -> None:
        self.cluster = None
        self.unavailable: str | None = None
        self.version: str | None = None

    def __enter__(self) -> "PostgresForBench":
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


def scratch_dir(keep: bool = False) -> Path:
    return Path(tempfile.mkdtemp(prefix="claude-analytics-bench-"))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
