"""`python -m bench [--quick]`: run the benchmark, print the tables, write docs/benchmarks.md.

.venv/bin/python -m bench                    # the full run (make bench): about an hour
.venv/bin/python -m bench --quick            # scaled down, a few minutes → .bench/benchmarks-quick.md
.venv/bin/python -m bench --skip-memory --skip-load --users 2300
.venv/bin/python -m bench --window 6         # a faster time scale (60 requests per 6 s)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import report
from .scenarios import (
    REPO,
    ChildFailed,
    LoadConfig,
    PostgresForBench,
    RunConfig,
    loadpath,
    plans_for,
    remove,
    run_scenario,
    scratch_dir,
)

WINDOW = 12.0  # the time scale: 60 requests per 12 s, five times the real pace (RunConfig.window_seconds)
FULL_ORGS: tuple[RunConfig, ...] = (
    RunConfig("2,300 users × 90 days", 2_300, nightly=True),
    RunConfig("10,000 users × 90 days", 10_000, nightly=True, memory_role="target"),
)
FULL_MEMORY: tuple[RunConfig, ...] = (
    RunConfig("10,000 users × 30 days", 10_000, days=30, memory_role="fewer_days"),
    RunConfig(
        "50,000 users × 30 days", 50_000, days=30, window_seconds=1.0, count_plan=False, memory_role="more_users"
    ),
)
QUICK_ORGS: tuple[RunConfig, ...] = (
    RunConfig("2,300 users × 14 days", 2_300, days=14, window_seconds=3.0, nightly=True, memory_role="target"),
)
QUICK_MEMORY: tuple[RunConfig, ...] = (
    RunConfig("2,300 users × 7 days", 2_300, days=7, window_seconds=3.0, memory_role="fewer_days"),
    RunConfig("10,000 users × 7 days", 10_000, days=7, window_seconds=1.0, count_plan=False, memory_role="more_users"),
)
FULL_LOAD = LoadConfig()  # 10,000 users × 30 days in chunks of 10 days
QUICK_LOAD = LoadConfig(days=6, chunk_days=3)


def _run_one(config: RunConfig, progress: Callable[[str], None], keep: bool, plan=None, nightly=None) -> dict[str, Any]:
    workdir = scratch_dir()
    progress(
        f"{config.label}: {config.budget} requests per {config.window_seconds:g} s ..."
        + (
            f" (plan: {plan.requests:,} requests, floor {plan.requests / config.budget * config.window_seconds:,.0f} s)"
            if plan
            else ""
        )
    )
    try:
        r = run_scenario(config, workdir, plan, nightly)
    except (ChildFailed, OSError) as exc:
        progress(f"  FAILED: {exc}")
        return {
            "label": config.label,
            "users": config.users,
            "error_text": str(exc).splitlines()[0],
            "memory_role": config.memory_role,
        }
    finally:
        if keep:
            progress(f"  kept {workdir}")
        else:
            remove(workdir)
    r["memory_role"] = config.memory_role
    for run in (r, r.get("nightly")):
        if run:
            progress(
                f"  {run['label']}{'' if run is r else ' (next night)'}: {run['requests']:,} requests (plan "
                f"{run.get('planned', '–')}), {run['rate_limited']} × 429, wall {run['wall']:.1f} s"
                + (
                    f" = {run['wall_over_floor']:.3f} × floor {run['floor_rate']:.1f} s"
                    if run.get("floor_rate")
                    else ""
                )
                + f", peak RSS {run['peak_rss'] / report.MB:.0f} MB"
                + ("" if not run.get("tables") else f", tables equal: {report._equal(run)}")
            )
    return r


def _plans(ctx: dict[str, Any], config: RunConfig) -> tuple[Any, Any]:
    return ctx["plans"].get(config.label, (None, None))


def run_bench(
    orgs: tuple[RunConfig, ...],
    memory: tuple[RunConfig, ...],
    load_config: LoadConfig | None,
    destinations: tuple[str, ...],
    output: Path | None,
    *,
    quick: bool = False,
    command: str = "python -m bench",
    progress: Callable[[str], None] = print,
    keep: bool = False,
) -> dict[str, Any]:
    """Run the chosen sections; returns the context the report is made of (and writes it to `output`)."""
    started = time.monotonic()
    ctx: dict[str, Any] = {
        "command": command,
        "date": report.now_utc(),
        "quick": quick,
        "machine": report.machine(REPO),
        "load_start": report.load_average(),
        "load_config": load_config or FULL_LOAD,
        "orgs": [],
        "backfills": [],
        "memory": [],
        "loads": [],
        "plans": {},
        "notes": [],
        "real_today": dt.datetime.now(dt.timezone.utc).date(),
    }
    for config in orgs:
        t0 = time.monotonic()
        progress(f"counting the minimal plan of {config.label} (cached in .bench/cache) ...")
        plan, nightly = plans_for(config, progress=progress)
        ctx["orgs"].append({"users": config.users, "label": config.label, "plan": plan, "nightly_plan": nightly})
        ctx["plans"][config.label] = (plan, None)
        progress(
            f"  {plan.requests:,} requests; the next night {nightly.requests if nightly else '–'} "
            f"({time.monotonic() - t0:.0f} s)"
        )
    for config, org in zip(orgs, ctx["orgs"]):
        ctx["backfills"].append(_run_one(config, progress, keep, org["plan"], org["nightly_plan"]))
    ctx["memory"] = [r for r in ctx["backfills"] if r.get("memory_role")]
    for config in memory:
        counted = plans_for(config, progress=progress)[0] if config.count_plan else None
        ctx["plans"][config.label] = (counted, None)
        ctx["memory"].append(_run_one(config, progress, keep, counted))
    reference = next((r for r in ctx["memory"] if r.get("memory_role") == "target" and "error_text" not in r), None)
    ctx["memory_reference"] = reference["peak_rss"] if reference else None
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
                    progress(
                        f"  {r['rows']:,} rows × {r['columns']} columns ({r['file_format']}): {r['rows_per_s']:,.0f} "
                        f"rows/s end to end (shaping {r['shape_rows_per_s']:,.0f}, commit "
                        f"{r['commit_rows_per_s']:,.0f})"
                    )
                finally:
                    if not keep:
                        remove(workdir)
                ctx["loads"].append(r)
        finally:
            if postgres is not None:
                postgres.__exit__(None, None, None)
    ctx["load_end"] = report.load_average()
    ctx["elapsed"] = time.monotonic() - started
    text = report.markdown(ctx)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        # every figure of the run, request times included; not into docs/ (kept out of git in .bench/)
        docs = output.resolve().parent == (REPO / "docs").resolve()
        raw = REPO / ".bench" / f"{output.stem}.json" if docs else output.with_suffix(".json")
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(
            json.dumps(
                ctx,
                default=lambda o: o.to_json() if hasattr(o, "to_json") else getattr(o, "__dict__", str(o)),
                indent=1,
            )
        )
    return ctx


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="scaled down (2,300 users × 14 days at 60 requests per "
        "3 s; memory 2,300 × 7 and 10,000 × 7 days; load path 6 days): a few minutes, written to "
        ".bench/benchmarks-quick.md",
    )
    parser.add_argument("--users", type=_ints, help="organization sizes of the backfills (default 2300,10000)")
    parser.add_argument("--days", type=int, help="days of the backfills (default: everything the API serves, 90)")
    parser.add_argument(
        "--window",
        type=float,
        help=f"the budget's window in seconds, server and client (default "
        f"{WINDOW:g}: 60 requests per {WINDOW:g} s; the guard and the latency scale with it)",
    )
    parser.add_argument("--skip-backfill", action="store_true", help="no backfills (nor the plan)")
    parser.add_argument("--skip-memory", action="store_true", help="no extra memory scenarios")
    parser.add_argument("--skip-load", action="store_true", help="no load path")
    parser.add_argument("--no-postgres", action="store_true", help="load path into DuckDB only")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the Markdown report (default "
        "docs/benchmarks.md, or .bench/benchmarks-quick.md with --quick)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories (warehouses, logs)")
    args = parser.parse_args(argv)

    orgs = QUICK_ORGS if args.quick else FULL_ORGS
    memory = QUICK_MEMORY if args.quick else FULL_MEMORY
    if args.users:
        template = orgs[-1]
        orgs = tuple(
            replace(template, label=f"{u:,} users", users=u, memory_role="target" if u == max(args.users) else None)
            for u in args.users
        )
    if args.days:
        orgs = tuple(replace(o, days=args.days, label=f"{o.users:,} users × {args.days} days") for o in orgs)
    if args.window:
        orgs = tuple(replace(o, window_seconds=args.window) for o in orgs)
        memory = tuple(replace(m, window_seconds=args.window) if m.count_plan else m for m in memory)
    lc = QUICK_LOAD if args.quick else FULL_LOAD
    output = args.output or (REPO / ".bench" / "benchmarks-quick.md" if args.quick else REPO / "docs" / "benchmarks.md")
    destinations = ("duckdb",) if args.no_postgres else ("duckdb", "postgres")
    command = "python -m bench" + ("" if not sys.argv[1:] else " " + shlex.join(sys.argv[1:]))
    if argv is None and sys.argv[1:] == []:
        command = "make bench (python -m bench)"
    ctx = run_bench(
        () if args.skip_backfill else orgs,
        () if args.skip_memory else memory,
        None if args.skip_load else lc,
        destinations,
        output,
        quick=args.quick,
        command=command,
        progress=lambda s: print(s, flush=True),
        keep=args.keep,
    )
    print()
    print(output.read_text())
    print(f"written to {output}")
    failed = [r for r in ctx["backfills"] + ctx["memory"] if "error_text" in r]
    failed += [r for r in ctx["loads"] if "error" in r and not r["error"].startswith("skipped")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
