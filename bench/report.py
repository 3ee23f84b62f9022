"""The benchmark's report: machine facts, the three tables, the verdict on each target, as Markdown."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

MB = 1024 * 1024

TARGETS = {
    "wall_over_floor": 1.05,  # wall ≤ 1.05 × floor at every latency
    "duckdb_rows_per_s": 20_000,
    "postgres_rows_per_s": 10_000,
    "peak_rss_mb": 500,
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(repo: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine(repo: Path) -> dict[str, str]:
    return {
        "cpu": f"{_cpu_model()}, {os.cpu_count()} logical CPUs",
        "memory": _memory_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": ", ".join(f"{p} {_version(p)}" for p in ("dlt", "duckdb", "pyarrow", "httpx", "psycopg2-binary",
                                                                "adbc-driver-postgresql")),
        "commit": _git(repo),
    }


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _yes(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**NOT met**")


def _s(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def backfill_table(rows: list[dict[str, Any]], budget: int, window: float) -> list[str]:
    win = f"{window:g} s"
    out = [
        f"| server latency | requests (minimal plan) | retries | 429s | max in any {win} | wall s | floor s "
        f"(N÷B×W) | wall ÷ floor | burst floor s | wall ÷ burst floor | achieved ÷ budget | last request at s | "
        f"then to the end s | commits: load s, requests sent meanwhile | pipeline CPU s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['latency']:g} s | failed: {r['error']} |" + " |" * 14)
            continue
        out.append(
            f"| {r['latency']:g} s | {r['requests']} ({r['planned']}) | {r['retries']} | {r['rate_limited']} | "
            f"{r['max_in_window']} of {budget} | {_s(r['wall'])} | {_s(r['floor_rate'])} | "
            f"{r['wall_over_floor']:.3f} | {_s(r['floor_burst'])} | {r['wall_over_burst']:.3f} | "
            f"{r['achieved_over_budget']:.1%} | {_s(r.get('last_request_at'))} | {_s(r.get('tail_after_last_request'))} | "
            f"{r['commits']}: {_s(r['commit_seconds'])} s, "
            f"{r['requests_during_commits']} | {_s(r['cpu_seconds'])} | {r['peak_rss'] / MB:,.0f} |")
    return out


def load_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| destination | loader format | rows × columns | commits | shaping s (rows/s) | "
           "extract + normalize + load s (rows/s) | **rows/s, end to end** | target | verdict | rows read back |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        target = TARGETS[f"{r['destination']}_rows_per_s"]
        if "error" in r:
            out.append(f"| {r['destination']} | – | – | – | – | – | – | ≥ {target:,} | {r['error']} | – |")
            continue
        out.append(
            f"| {r['destination']} | {r['file_format']} | {r['rows']:,} × {r['columns']} | {len(r['chunks'])} | "
            f"{_s(r['shape_s'])} ({r['shape_rows_per_s']:,.0f}) | {_s(r['commit_s'])} ({r['commit_rows_per_s']:,.0f}) | "
            f"**{r['rows_per_s']:,.0f}** | ≥ {target:,} | {_yes(r['rows_per_s'] >= target)} | "
            f"{'equal' if r['rows_match'] else 'DIFFERENT: ' + str(r['rows_in_destination'])} |")
    return out


def verdicts(backfills: list[dict], loads: list[dict]) -> list[str]:
    ok_runs = [r for r in backfills if "error" not in r]
    lines = []
    if backfills:
        plan_ok = bool(ok_runs) and all(r["requests"] == r["planned"] + r["retries"] for r in ok_runs) \
            and len(ok_runs) == len(backfills)
        no_429 = bool(ok_runs) and all(r["rate_limited"] == 0 for r in ok_runs)
        worst = max((r["wall_over_floor"] for r in ok_runs), default=None)
        peak = max((r["peak_rss"] for r in ok_runs), default=None)
        rows_ok = bool(ok_runs) and all(r["rows_match"] for r in ok_runs)
        lines += [
            f"- requests made = minimal plan (+ retries only): {_yes(plan_ok)}",
            f"- 0 × 429: {_yes(no_429)}",
            f"- wall ≤ {TARGETS['wall_over_floor']} × floor at every latency: "
            f"{_yes(None if worst is None else worst <= TARGETS['wall_over_floor'])} (worst {_s(worst, 3)})",
            f"- peak RSS of the backfill ≤ {TARGETS['peak_rss_mb']} MB: "
            f"{_yes(None if peak is None else peak / MB <= TARGETS['peak_rss_mb'])} "
            f"({'–' if peak is None else f'{peak / MB:,.0f} MB'})",
            f"- every table holds exactly the simulator's rows: {_yes(rows_ok)}",
        ]
    for r in loads:
        target = TARGETS[f"{r['destination']}_rows_per_s"]
        got = None if "error" in r else r["rows_per_s"]
        lines.append(f"- ≥ {target:,} full-width user_activity rows/s into {r['destination']}: "
                     f"{_yes(None if got is None else got >= target)}"
                     f"{'' if got is None else f' ({got:,.0f} rows/s)'}"
                     f"{'' if 'error' not in r else ' — ' + r['error']}")
    return lines


def _range(values: list[float], digits: int = 1) -> str:
    low, high = min(values), max(values)
    return _s(low, digits) if f"{low:.{digits}f}" == f"{high:.{digits}f}" else f"{_s(low, digits)}–{_s(high, digits)}"


def findings(ctx: dict[str, Any]) -> list[str]:
    """The why behind the figures: computed from this run where possible, plus dated measurements."""
    b = ctx["backfill_config"]
    runs = [r for r in ctx["backfills"] if "error" not in r]
    out: list[str] = []
    if runs:
        plan = ctx.get("plan")
        windows = (plan.requests - 1) // b.budget if plan else None
        last_window = None if windows is None else windows * (b.window_seconds + b.guard_seconds)
        out.append(
            f"**Where the wall time goes.** The last request leaves at {_range([r['last_request_at'] for r in runs])} s "
            f"after the start: the budget's last window opens at ⌊(N−1) ÷ B⌋ × (W + guard) = {_s(last_window)} s, and "
            "its requests go out in the slots the previous windows' sends free up — a sliding window repeats the spacing "
            "of the first window's sends in every later one. After the last request: one round trip, the last commit, "
            "the run log and the BI views (column *then to the end*).")
        load_s = [r["commit_seconds"] for r in runs]
        cpu = [r["cpu_seconds"] for r in runs]
        out.append(
            f"**Loading hides behind the budget.** Commits took {_range(load_s)} s per run and the "
            f"whole pipeline process used {_range(cpu)} s of CPU in runs of "
            f"{_range([r['wall'] for r in runs])} s; the prefetcher kept sending while "
            "commits ran (*requests sent meanwhile*)."
            + (f" At this budget a backfill delivers at most {need:,.0f} rows/s (B ÷ W × page size); the load path into "
               f"DuckDB does {duck / need:,.0f} times that." if (need := b.budget / b.window_seconds * b.page_size)
               and (duck := next((r["rows_per_s"] for r in ctx["loads"] if r.get("destination") == "duckdb"
                                  and "error" not in r), None)) else ""))
        peak = max(runs, key=lambda r: r["peak_rss"])
        when = peak.get("peak_phase") or {}
        if peak["peak_rss"] / MB > TARGETS["peak_rss_mb"] and when.get("anon") is not None:
            median = when.get("median_outside_commits")
            out.append(
                f"**Why peak RSS is above {TARGETS['peak_rss_mb']} MB.** The highest peak, {peak['peak_rss'] / MB:,.0f} MB "
                f"(at {peak['latency']:g} s latency), came during {when['phase']}. Of it {when['file'] / MB:,.0f} MB are "
                f"file-backed pages (the mapped shared libraries: DuckDB, Arrow, Python; RSS right after the imports is "
                f"already {peak['baseline_rss'] / MB:,.0f} MB) and {when['anon'] / MB:,.0f} MB anonymous memory. Outside "
                f"commits the process sits around {'–' if median is None else f'{median / MB:,.0f}'} MB: 8 fetch threads, "
                "each holding a 1,000-row page as JSON text and Python objects (~8 MB each) while shaping it, the prefetch "
                "buffer of Arrow batches, and what the allocators (glibc's per-thread arenas, Arrow's mimalloc) keep after "
                "freeing. A commit adds DuckDB's working memory for the staging insert and the delete-insert merge and "
                "dlt's parquet extract"
                + ("" if median is None else f": this peak is {(peak['peak_rss'] - median) / MB:,.0f} MB above that median")
                + ". (Python objects themselves peak at about 85 MB, by tracemalloc on the scaled copy below.)")
            out.append(
                "Levers, measured on a 10× time-scaled copy of this backfill on 2026-11-27 (peaks 555–625 MB without any): "
                "Arrow's system allocator instead of mimalloc (`pa.set_memory_pool(pa.system_memory_pool())`) −30…60 MB; "
                "glibc's mmap threshold pinned at 128 KiB (`MALLOC_MMAP_THRESHOLD_=131072`, so freed page-sized buffers "
                "go back to the OS) −20…40 MB; `MALLOC_ARENA_MAX=2` −20…30 MB; all three together 460–490 MB; 4 fetch "
                "workers instead of 8 about −30 MB. None is applied: they are process-wide allocator settings (a "
                "decision for the command line or the deployment, e.g. a systemd unit or the CI job's environment), and "
                "even together they leave little margin.")
    out.append(
        "**Changes made for this benchmark** (measured when they were made, 2026-11-27, same machine): shaping gathers "
        "columns directly instead of building a dict per row (`rows.py`): full-width shaping 33,500 → 53,000 rows/s and "
        "the load path into DuckDB 21,200 → 27,600 rows/s (best of 10 on one day: 27,500 → 65,200 rows/s); the first "
        "unit goes alone only until its first page is answered, not through all its pages (`fetch.py`): at 2 s latency "
        "wall ÷ floor 1.035–1.060 → 1.011, because a first /users day paging alone spread every later window's sends, "
        "the last one's included.")
    return out


def markdown(ctx: dict[str, Any]) -> str:
    m = ctx["machine"]
    b = ctx["backfill_config"]
    lc = ctx["load_config"]
    plan = ctx.get("plan")
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{ctx['command']}` on {ctx['date']} (UTC){' — QUICK run: scaled down, indicative only' if ctx['quick'] else ''}.",
        "Regenerate with `make bench` (about 15 minutes) or `.venv/bin/python -m bench --quick` (a few minutes,",
        "written to `.bench/benchmarks-quick.md`). The benchmark asserts nothing; `tests/test_bench_smoke.py` runs",
        "a miniature of it in the test suite and checks behaviour (requests = minimal plan, no 429), never time.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}; memory {m['memory']}",
        f"- OS: {m['os']}; Python {m['python']}",
        f"- {m['packages']}; PostgreSQL server {ctx.get('postgres_version') or 'not used'}",
        f"- code: commit {m['commit']}",
        f"- load average (1/5/15 min) at start {ctx['load_start']}, at end {ctx['load_end']} — the machine is shared;",
        "  CPU-bound figures (the load path) move with it, budget-bound ones (the backfill) hardly do.",
        "",
    ]
    if ctx["backfills"]:
        lines += [
            "## 1. Budget-bound backfill",
            "",
            f"`claude-analytics backfill` (`run_load`, all five endpoints) of an organization of {b.users:,} users over "
            f"{b.days} days ({b.first_day} … {b.last_day}) from the bundled simulator into a fresh DuckDB file. The "
            f"simulator enforces **{b.budget} requests per sliding {b.window_seconds:g} s window** and the client's "
            f"`requests_per_minute` is the same {b.budget}, so a 429 would be real"
            + (" (the real API's budget: with this organization the minimal plan already spans several windows, so no "
               "scaling is needed)." if b.budget == 60 and b.window_seconds == 60 else
               f" (time-scaled: the client's budget window is {b.window_seconds:g} s + {b.guard_seconds:g} s guard)."),
            "The simulator runs in the benchmark's process, the pipeline in a child process (its own CPU and memory).",
            "",
        ]
        if plan is not None:
            per = ", ".join(f"`{p}` {n}" for p, n in plan.requests_by_path.items())
            lines += [f"Minimal plan, counted from the simulator's own data: **N = {plan.requests} requests** ({per}); "
                      f"{plan.rows_by_path.get('/users', 0):,} `user_activity` rows.", ""]
        lines += backfill_table(ctx["backfills"], b.budget, b.window_seconds)
        lines += [
            "",
            "- *floor* = N ÷ B × W, the issue's definition (the budget's steady rate). *burst floor* = ⌊(N−1) ÷ B⌋ × W + "
            "latency, the hard lower bound of any client under a sliding window (B requests may go at t = 0); it is "
            "lower, which is why wall ÷ floor can be below 1. Our budget counts sends over W + 1 s (a guard against "
            "arrival jitter), so ⌊(N−1) ÷ B⌋ × (W + 1) + latency is the design floor and 60/61 ≈ 98.4 % of the budget the "
            "design ceiling for long runs.",
            "- *achieved ÷ budget* = requests ÷ wall × W ÷ B over the whole run (including start-up and the final commit).",
            "- *commits*: chunk commits (dlt extract + normalize + load) in the main thread, their total time, and how many "
            "requests the prefetcher sent while they ran — fetching does not stop for loading.",
            "- *wall* is `run_load` from call to return: lock, destination sync, planning, fetching, every commit, the run "
            "log and the BI views.",
            "",
        ]
    if ctx["loads"]:
        lines += [
            "## 2. Load path (no network)",
            "",
            f"{lc.days} days × {lc.users:,} users of `/users` pages (1,000 rows each, every nested field, as Python objects "
            "the way the client's JSON decoder returns them) → the pipeline's `UnitFetcher` + `TableShaper` (flatten, type, "
            f"Arrow) → the runner's chunk commit (`Load._commit`: dlt extract, normalize, load; merge delete-insert on "
            f"(date, user_id)), in chunks of {lc.chunk_days} days — the first into an empty table, the rest merged into it. "
            "Generating the pages is not timed; everything after is, sequentially, in one thread (in a real run shaping "
            "happens in the fetch threads while the main thread loads, so this is conservative). Rows read back with "
            "COUNT(*).",
            "",
        ]
        lines += load_table(ctx["loads"])
        lines += [""]
    if ctx["backfills"]:
        lines += [
            "## 3. Memory",
            "",
            "Peak RSS (VmHWM) of the child process that ran each backfill above — the whole pipeline process: "
            "Python, dlt, DuckDB, pyarrow, the prefetch buffer and the pending chunk. The simulator is not in it.",
            "",
            "| server latency | peak RSS MB | of which anonymous / file-backed MB | RSS after imports MB | median RSS "
            "outside commits MB | when the peak happened (sampled every 0.2 s) | target |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in ctx["backfills"]:
            if "error" not in r:
                when = r.get("peak_phase") or {}
                at = (f"{when['phase']}, {when['seconds_before_end']:.0f} s before the end" if when else "–")
                parts = (f"{when['anon'] / MB:,.0f} / {when['file'] / MB:,.0f}" if when.get("anon") is not None else "–")
                median = when.get("median_outside_commits")
                lines.append(f"| {r['latency']:g} s | {r['peak_rss'] / MB:,.0f} | {parts} | {r['baseline_rss'] / MB:,.0f} | "
                             f"{'–' if median is None else f'{median / MB:,.0f}'} | {at} | ≤ {TARGETS['peak_rss_mb']} MB |")
        lines += [""]
    lines += ["## Targets", ""] + verdicts(ctx["backfills"], ctx["loads"]) + [""]
    lines += ["## Findings", ""] + [f"- {n}" for n in findings(ctx)] + [""]
    if ctx.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in ctx["notes"]] + [""]
    return "\n".join(lines)


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
