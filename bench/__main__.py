"""`python -m bench [--quick]`: run the benchmark, print the tables, write docs/benchmarks.md.

    .venv/bin/python -m bench                    # the full run (make bench): about 15 minutes
    .venv/bin/python -m bench --quick            # scaled down, a few minutes → .bench/benchmarks-quick.md
    .venv/bin/python -m bench --skip-backfill    # only the load path
    .venv/bin/python -m bench --latencies 1 --no-postgres
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from . import report
from .scenarios import REPO, BackfillConfig, ChildFailed, LoadConfig, PostgresForBench, backfill, loadpath, plan_for, \
    remove, scratch_dir

FULL_BACKFILL = BackfillConfig()  # 10,000 users × 30 days, 60 requests per 60 s
QUICK_BACKFILL = BackfillConfig(users=3_000, days=7, budget=10, window_seconds=10.0)
FULL_LOAD = LoadConfig()  # 10,000 users × 30 days in chunks of 10 days
QUICK_LOAD = LoadConfig(days=6, chunk_days=3)
LATENCIES = (0.1, 1.0, 2.0)


def run_bench(backfill_config: BackfillConfig | None, latencies: tuple[float, ...], load_config: LoadConfig | None,
              destinations: tuple[str, ...], output: Path | None, *, quick: bool = False, command: str = "python -m bench",
              progress: Callable[[str], None] = print, keep: bool = False) -> dict[str, Any]:
    """Run the chosen sections; returns the context the report is made of (and writes it to `output`)."""
    ctx: dict[str, Any] = {
        "command": command, "date": report.now_utc(), "quick": quick, "machine": report.machine(REPO),
        "load_start": report.load_average(), "backfill_config": backfill_config or FULL_BACKFILL,
        "load_config": load_config or FULL_LOAD, "backfills": [], "loads": [], "notes": [],
    }
    if backfill_config is not None and latencies:
        started = time.monotonic()
        plan = plan_for(backfill_config)
        ctx["plan"] = plan
        progress(f"minimal plan: {plan.requests} requests for {backfill_config.users:,} users × {plan.days} days "
                 f"({time.monotonic() - started:.0f} s to count)")
        for latency in latencies:
            progress(f"backfill at {latency:g} s server latency, budget {backfill_config.budget} per "
                     f"{backfill_config.window_seconds:g} s ...")
            workdir = scratch_dir()
            try:
                r = backfill(backfill_config, latency, plan, workdir)
            except (ChildFailed, OSError) as exc:
                r = {"latency": latency, "error": str(exc).splitlines()[0]}
                progress(f"  FAILED: {exc}")
            else:
                progress(f"  {r['requests']} requests (plan {r['planned']}), {r['rate_limited']} × 429, wall "
                         f"{r['wall']:.1f} s = {r['wall_over_floor']:.3f} × floor {r['floor_rate']:.1f} s, peak RSS "
                         f"{r['peak_rss'] / report.MB:.0f} MB")
            finally:
                if not keep:
                    remove(workdir)
            ctx["backfills"].append(r)
    if load_config is not None and destinations:
        postgres = PostgresForBench() if "postgres" in destinations else None
        try:
            if postgres is not None:
                postgres.__enter__()
                ctx["postgres_version"] = postgres.version
            for destination in destinations:
                progress(f"load path into {destination}: {load_config.users:,} users × {load_config.days} days ...")
                workdir = scratch_dir()
                try:
                    dsn = None
                    if destination == "postgres":
                        if postgres is None or postgres.cluster is None:
                            raise ChildFailed(f"skipped: {postgres.unavailable if postgres else 'not requested'}")
                        dsn = postgres.database("bench_load")
                    r = loadpath(load_config, destination, workdir, dsn)
                except (ChildFailed, OSError) as exc:
                    r = {"destination": destination, "error": str(exc).splitlines()[0]}
                    progress(f"  FAILED: {exc}")
                else:
                    progress(f"  {r['rows']:,} rows × {r['columns']} columns ({r['file_format']}): {r['rows_per_s']:,.0f} "
                             f"rows/s end to end (shaping {r['shape_rows_per_s']:,.0f}, commit "
                             f"{r['commit_rows_per_s']:,.0f})")
                finally:
                    if not keep:
                        remove(workdir)
                ctx["loads"].append(r)
        finally:
            if postgres is not None:
                postgres.__exit__(None, None, None)
    ctx["load_end"] = report.load_average()
    text = report.markdown(ctx)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        # every figure of the run, request times included; not into docs/ (kept out of git in .bench/)
        docs = output.resolve().parent == (REPO / "docs").resolve()
        raw = REPO / ".bench" / f"{output.stem}.json" if docs else output.with_suffix(".json")
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(ctx, default=lambda o: getattr(o, "__dict__", str(o)), indent=1))
    return ctx


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaled down (3,000 users × 7 days, 10 requests per "
                        "10 s; load path 6 days): a few minutes, written to .bench/benchmarks-quick.md")
    parser.add_argument("--latencies", type=_floats, help="server latencies in seconds (default 0.1,1,2)")
    parser.add_argument("--users", type=int, help="organization size of the backfill (default 10000)")
    parser.add_argument("--days", type=int, help="days of the backfill (default 30)")
    parser.add_argument("--budget", type=int, help="requests per window, server and client (default 60)")
    parser.add_argument("--window", type=float, help="the budget's window in seconds (default 60; other values "
                        "scale the client's window too)")
    parser.add_argument("--load-users", type=int, help="users per day of the load path (default 10000)")
    parser.add_argument("--load-days", type=int, help="days of the load path (default 30)")
    parser.add_argument("--chunk-days", type=int, help="days per commit on the load path (default 10)")
    parser.add_argument("--skip-backfill", action="store_true", help="no backfill (and so no memory figure)")
    parser.add_argument("--skip-load", action="store_true", help="no load path")
    parser.add_argument("--no-postgres", action="store_true", help="load path into DuckDB only")
    parser.add_argument("--output", type=Path, help="where to write the Markdown report (default "
                        "docs/benchmarks.md, or .bench/benchmarks-quick.md with --quick)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories (warehouses, logs)")
    args = parser.parse_args(argv)

    b = QUICK_BACKFILL if args.quick else FULL_BACKFILL
    b = replace(b, **{k: v for k, v in (("users", args.users), ("days", args.days), ("budget", args.budget),
                                       ("window_seconds", args.window)) if v is not None})
    lc = QUICK_LOAD if args.quick else FULL_LOAD
    lc = replace(lc, **{k: v for k, v in (("users", args.load_users), ("days", args.load_days),
                                        ("chunk_days", args.chunk_days)) if v is not None})
    output = args.output or (REPO / ".bench" / "benchmarks-quick.md" if args.quick else REPO / "docs" / "benchmarks.md")
    destinations = ("duckdb",) if args.no_postgres else ("duckdb", "postgres")
    command = "python -m bench" + ("" if not sys.argv[1:] else " " + shlex.join(sys.argv[1:]))
    if argv is None and sys.argv[1:] == []:
        command = "make bench (python -m bench)"
    ctx = run_bench(None if args.skip_backfill else b, args.latencies or LATENCIES, None if args.skip_load else lc,
                    destinations, output, quick=args.quick, command=command, progress=lambda s: print(s, flush=True),
                    keep=args.keep)
    print()
    print(output.read_text())
    print(f"written to {output}")
    failed = [r for r in ctx["backfills"] + ctx["loads"] if "error" in r and not r["error"].startswith("skipped")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
