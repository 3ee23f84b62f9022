"""dlt loader file formats on PostgreSQL for a large `user_activity` load: rows/s per format, checked exact.

Synthetic, full-width `/users` API rows (every documented field, gated ones NULL, some counters NULL)
are shaped by the pipeline's own `TableShaper` into one Arrow table per day, then loaded through the
pipeline's own dlt resource (merge, delete-insert on (date, user_id), merge_key date) exactly as the
runner does, once per loader file format:

- round 1 "backfill": every day into an empty table;
- round 2 "re-merge": the same days again with revised values, so every day is deleted and re-inserted.

After each round the whole table is read back and compared with the Arrow data value by value.
Timings are wall-clock per dlt step (extract, normalize, load) from the pipeline trace.

    .venv/bin/python -m bench.load_formats                       # 200,000 rows, a throwaway PG cluster
    .venv/bin/python -m bench.load_formats --rows 300000 --formats csv,parquet
    .venv/bin/python -m bench.load_formats --credentials postgresql://user:pw@host:5432/db

The throwaway cluster (tests/postgres/cluster.py) keeps PostgreSQL's durable defaults (fsync on).
`parquet` on Postgres needs the ADBC driver (`adbc-driver-postgresql`); without it dlt falls back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from typing import Any, cast

import dlt
import pyarrow as pa
from dlt.common.destination import TLoaderFileFormat

from sources.claude_analytics import Calendar, claude_analytics_batches
from sources.claude_analytics.days import Edges, Unit
from sources.claude_analytics.endpoints import BY_NAME, Field
from sources.claude_analytics.fetch import Batch
from sources.claude_analytics.rows import TableShaper

ENDPOINT = BY_NAME["users"]
DATASET = "claude_analytics"
FIRST_DAY = dt.date(2026, 3, 1)


def _value(field: Field, rng: random.Random, user: int, day: dt.date, revision: int) -> Any:
    name = field.path[-1]
    if field.path == ("user", "id"):
        return f"user_{user:024x}"
    if field.path == ("user", "email_address"):
        return f"person.{user}@example.com"
    if field.path == ("user", "type"):
        return "user"
    if field.data_type == "date":
        return (day - dt.timedelta(days=rng.randrange(3))).isoformat()
    if "feature-gated" in field.description:
        return None  # gated counters: NULL while not enabled
    if name.endswith("_count") or field.data_type == "bigint":
        if rng.random() < 0.1:
            return None
        return rng.randrange(0, 400) + revision
    raise AssertionError(f"no synthetic value for {field.path} ({field.data_type})")


def api_rows(users: int, day: dt.date, revision: int, seed: int = 7) -> list[dict]:
    """One day of `/users` rows as the API sends them (nested objects), deterministic per (day, revision)."""
    rng = random.Random(f"{seed}-{day}-{revision}")
    rows = []
    for user in range(users):
        row: dict[str, Any] = {}
        for field in ENDPOINT.fields:
            node = row
            for key in field.path[:-1]:
                node = node.setdefault(key, {})
            node[field.path[-1]] = _value(field, rng, user, day, revision)
        rows.append(row)
    return rows


def batches(days: int, users: int, revision: int) -> list[Batch]:
    shaper = TableShaper(ENDPOINT)
    out = []
    for i in range(days):
        day = FIRST_DAY + dt.timedelta(days=i)
        table = shaper.finish(shaper.shape(api_rows(users, day, revision), day), day, day)
        out.append(Batch(ENDPOINT, Unit(day, day), table, covered=Unit(day, day)))
    return out


def check_exact(dsn_or_credentials: Any, dataset: str, tables: list[pa.Table]) -> None:
    """The loaded table equals the Arrow batches: same rows, every value equal (NULLs included)."""
    import psycopg2

    expected = pa.concat_tables(tables).sort_by([("date", "ascending"), ("user_id", "ascending")])
    columns = expected.column_names
    con = psycopg2.connect(dsn_or_credentials)
    try:
        with con.cursor() as cur:
            listed = ", ".join(f'"{c}"' for c in columns)
            cur.execute(f'select {listed} from {dataset}.user_activity order by "date", "user_id"')
            got = cur.fetchall()
    finally:
        con.close()
    assert len(got) == expected.num_rows, f"{len(got)} rows loaded, {expected.num_rows} expected"
    want = list(zip(*(expected.column(c).to_pylist() for c in columns)))
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            bad = [(c, x, y) for c, x, y in zip(columns, a, b) if x != y]
            raise AssertionError(f"row {i} differs: {bad[:5]}")


def load_round(pipeline: dlt.Pipeline, data: list[Batch], file_format: TLoaderFileFormat) -> dict[str, Any]:
    last = data[-1].unit.last
    calendar = Calendar(
        last + dt.timedelta(days=1),
        {"engagement": Edges(FIRST_DAY, last, 90), "cost": Edges(FIRST_DAY, last, 365)},
        {"engagement": 3, "cost": 30},
    )
    source = claude_analytics_batches(data, calendar, "off", None)
    started = time.perf_counter()
    pipeline.run(source, loader_file_format=file_format)
    total = time.perf_counter() - started
    trace = pipeline.last_trace
    assert trace is not None and trace.last_load_info is not None
    steps = {
        s.step: (s.finished_at - s.started_at).total_seconds() for s in trace.steps if s.started_at and s.finished_at
    }
    # the format dlt actually wrote (a format the destination cannot take would be swapped silently)
    written = {
        j.job_file_info.file_format
        for pkg in trace.last_load_info.load_packages
        for j in pkg.jobs["completed_jobs"]
        if j.job_file_info.table_name == "user_activity" and j.job_file_info.file_format != "sql"
    }
    return {
        "total": total,
        **{k: steps.get(k, 0.0) for k in ("extract", "normalize", "load")},
        "written": ",".join(sorted(written)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows per round (days × users)")
    parser.add_argument("--users", type=int, default=5_000, help="users per day (rows per day)")
    parser.add_argument("--formats", default="insert_values,csv,parquet")
    parser.add_argument(
        "--credentials",
        help="an existing Postgres (a dataset per format is created there); default: a throwaway local cluster",
    )
    parser.add_argument("--no-check", action="store_true", help="skip the exact read-back comparison")
    args = parser.parse_args(argv)

    days = max(1, args.rows // args.users)
    formats = [cast(TLoaderFileFormat, f.strip()) for f in args.formats.split(",") if f.strip()]
    workdir = tempfile.mkdtemp(prefix="load-formats-")
    os.environ["DLT_DATA_DIR"] = os.path.join(workdir, "dlt")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")

    print(f"shaping {days} days × {args.users} users of /users rows ...", flush=True)
    t = time.perf_counter()
    round1, round2 = batches(days, args.users, 0), batches(days, args.users, 1)
    rows = sum(b.rows for b in round1)
    width = max(b.table.num_columns for b in round1 if b.table is not None)
    print(f"  {rows} rows × {width} columns per round, shaped in {time.perf_counter() - t:.1f} s", flush=True)

    cluster = None
    if not args.credentials:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from tests.postgres.cluster import PostgresCluster

        cluster = PostgresCluster(durable=True).start()
    results: list[tuple[str, str, dict[str, Any], str]] = []
    try:
        for file_format in formats:
            if cluster is not None:
                dsn, dataset = cluster.create_database(f"bench_{file_format}"), DATASET
            else:
                dsn, dataset = args.credentials, f"bench_{file_format}"
            pipeline = dlt.pipeline(
                f"bench_load_formats_{file_format}",
                destination=dlt.destinations.postgres(credentials=dsn),
                dataset_name=dataset,
            )
            for label, data in (("backfill", round1), ("re-merge", round2)):
                print(f"{file_format:>13} {label:<8} ...", end=" ", flush=True)
                timing = load_round(pipeline, data, file_format)
                checked = "not checked"
                if not args.no_check:
                    check_exact(dsn, dataset, [b.table for b in data if b.table is not None])
                    checked = "exact"
                results.append((file_format, label, timing, checked))
                print(
                    f"{timing['total']:7.1f} s  {rows / timing['total']:>9,.0f} rows/s  (extract "
                    f"{timing['extract']:.1f}, normalize {timing['normalize']:.1f}, load {timing['load']:.1f}; "
                    f"wrote {timing['written']}; {checked})",
                    flush=True,
                )
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"dlt {dlt.__version__}, pyarrow {pa.__version__}"
    )
    print(f"{rows} rows × {width} columns (user_activity), merge delete-insert")
    print()
    print("| format | round | total s | rows/s | extract s | normalize s | load s | read back |")
    print("|---|---|---|---|---|---|---|---|")
    for written_format, label, timing, checked in results:
        print(
            f"| {written_format} | {label} | {timing['total']:.1f} | {rows / timing['total']:,.0f} | "
            f"{timing['extract']:.1f} | {timing['normalize']:.1f} | {timing['load']:.1f} | {checked} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
