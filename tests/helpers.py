"""Test helpers: settings for a simulator, and the simulator's truth in table form.

The expected rows are built here from the simulator's raw JSON with a flattener of the tests' own;
only the column naming function (part of the contract) is shared with the code under test.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pipelines.destinations import Target
from pipelines.runlog import RunSummary
from pipelines.runner import CommitPolicy, RunOptions, run_load
from sources.claude_analytics.days import day_range
from sources.claude_analytics.endpoints import Endpoint
from sources.claude_analytics.naming import column_name
from sources.claude_analytics.settings import ClaudeAnalyticsSettings, make_settings

PERIOD_KEYS = {"starting_at", "ending_at", "starting_date", "ending_date"}


WAREHOUSE = "warehouse.duckdb"
EVERY_UNIT = CommitPolicy(max_requests=1, max_seconds=0, min_seconds=0)  # a commit after every request unit


def sim_env(sim, *, days: int | None = None, **settings: Any) -> dict[str, str]:
    """The dlt environment variables that configure the source for a simulator: its key and URL, no budget to
    speak of, `start_date` `days` before the simulator's today (both families start there), and `settings`."""
    env: dict[str, Any] = {"api_key": sim.api_key, "base_url": sim.base_url, "requests_per_minute": 100_000}
    if days is not None:
        env["start_date"] = (sim.today() - dt.timedelta(days=days)).isoformat()
    env.update(settings)
    return {f"SOURCES__CLAUDE_ANALYTICS__{key.upper()}": str(value) for key, value in env.items()}


def configure(monkeypatch, sim, **kw: Any) -> None:
    """`sim_env` into this test's environment (where `claude-analytics` and `claude_analytics()` read it)."""
    for name, value in sim_env(sim, **kw).items():
        monkeypatch.setenv(name, value)


def settings_for(sim, **overrides: Any) -> ClaudeAnalyticsSettings:
    """Settings for a simulator: its key and URL, no client-side budget to speak of, learnt edges."""
    values: dict[str, Any] = dict(api_key=sim.api_key, base_url=sim.base_url, requests_per_minute=100_000)
    values.update(overrides)
    return make_settings(**values)


def load(
    sim,
    command: str = "run",
    *,
    target: Target | None = None,
    range_start: dt.date | None = None,
    range_end: dt.date | None = None,
    **kw: Any,
) -> RunSummary:
    """`run` (or `backfill` of [range_start, range_end]) into ./warehouse.duckdb; `kw` are settings (start_date
    among them), except RunOptions' own fields (endpoints, commit, observer, wait_for_lock)."""
    options = {k: kw.pop(k) for k in ("endpoints", "commit", "observer", "wait_for_lock") if k in kw}
    return run_load(
        RunOptions(
            settings_for(sim, **kw),
            command=command,
            start_date=range_start,
            end_date=range_end,
            target=target or Target(duckdb_file=WAREHOUSE),
            **options,
        )
    )


def _walk(obj: dict, path: tuple[str, ...], out: dict) -> None:
    for key, value in obj.items():
        if isinstance(value, dict):
            _walk(value, path + (key,), out)
        else:
            out[path + (key,)] = value


def flatten(raw: dict, convert=lambda path, value: value, renamed=None) -> dict[str, Any]:
    """A raw API row as {column: value}, flattened here (independently of the shaper) by the naming rule
    (and the catalogue's explicit column names, part of the contract)."""
    leaves: dict[tuple[str, ...], Any] = {}
    _walk(raw, (), leaves)
    renamed = renamed or {}
    return {renamed.get(p) or column_name(p): convert(p, v) for p, v in leaves.items()}


def _typed(endpoint: Endpoint, path: tuple[str, ...], value: Any) -> Any:
    spec = next((f for f in endpoint.fields if f.path == path), None)
    if value is None or spec is None:
        return value
    if spec.money_in_cents:
        return Decimal(value).scaleb(-2)
    if spec.data_type == "date":
        return dt.date.fromisoformat(value)
    if spec.data_type == "timestamp":
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def served_rows(sim, endpoint: Endpoint, day: dt.date) -> list[dict]:
    """The simulator's raw rows of one day, as the API serves them (reports: uncapped, envelope stamped)."""
    if endpoint.kind == "day" or endpoint.kind == "summary":
        return sim.expected(endpoint.path, day)
    envelope = sim.report_envelope()
    rows = []
    for raw in sim.expected_report(endpoint.path, day, group_by=endpoint.group_by):
        actor = raw.get("actor")
        if isinstance(actor, dict):  # the deprecated duplicate fills a missing email_address
            email = actor.pop("email", None)
            if actor.get("email_address") is None:
                actor["email_address"] = email
        rows.append({**raw, **envelope})
    return rows


def expected_table(sim, endpoint: Endpoint, days: Iterable[dt.date]) -> dict[tuple, dict[str, Any]]:
    """{primary key: {column: value}} of what the simulator serves for `days`."""
    out: dict[tuple, dict[str, Any]] = {}
    for day in days:
        for raw in served_rows(sim, endpoint, day):
            row = {
                name: value
                for name, value in flatten(raw, lambda p, v: _typed(endpoint, p, v), endpoint.renamed).items()
                if name not in PERIOD_KEYS
            }
            row["date"] = day
            key = tuple(row.get(k) for k in endpoint.primary_key)
            assert key not in out, f"{endpoint.table}: the simulator serves {key} twice"
            out[key] = row
    return out


def family_days(summary: RunSummary, endpoint: Endpoint) -> list[dt.date]:
    """The days a run loaded for an endpoint's family: [earliest, latest] of the engagement or cost calendar."""
    if endpoint.family == "cost":
        first, last = summary.cost_earliest_day, summary.cost_latest_day
    else:
        first, last = summary.earliest_day, summary.latest_available_day
    assert first is not None and last is not None, f"{endpoint.table}: the run recorded no {endpoint.family} days"
    return list(day_range(first, last))


def table_rows(con, dataset: str, endpoint: Endpoint) -> dict[tuple, dict[str, Any]]:
    """{primary key: {column: value}} of a loaded table, without dlt's bookkeeping columns."""
    cur = con.execute(f"select * from {dataset}.{endpoint.table}")
    names = [d[0] for d in cur.description]
    out = {}
    for values in cur.fetchall():
        row = {n: v for n, v in zip(names, values) if not n.startswith("_dlt")}
        key = tuple(row.get(k) for k in endpoint.primary_key)
        assert key not in out, f"duplicate key {key} in {endpoint.table}"
        out[key] = row
    return out


def table_rows_dbapi(con, dataset: str, endpoint: Endpoint) -> dict[tuple, dict[str, Any]]:
    """`table_rows` over any DB-API connection (psycopg2, snowflake, ...): execute on a cursor."""
    cur = con.cursor()
    try:
        cur.execute(f"select * from {dataset}.{endpoint.table}")
        names = [d[0].lower() for d in cur.description]
        fetched = cur.fetchall()
    finally:
        cur.close()
    out = {}
    for values in fetched:
        row = {n: v for n, v in zip(names, values) if not n.startswith("_dlt")}
        key = tuple(row.get(k) for k in endpoint.primary_key)
        assert key not in out, f"duplicate key {key} in {endpoint.table}"
        out[key] = row
    return out


def assert_table_equals(actual: dict, expected: dict, table: str, *, ignore: tuple[str, ...] = ()) -> None:
    """Same keys; every expected value equal; every other column NULL (never an invented 0).

    `ignore`: columns only checked to be set (a report's `data_refreshed_at` is the API's refresh time of
    the night the day was fetched, not of today)."""
    extra, missing = sorted(set(actual) - set(expected)), sorted(set(expected) - set(actual))
    assert not extra and not missing, f"{table}: unexpected keys {extra[:5]}, missing keys {missing[:5]}"
    for key, want in expected.items():
        got = actual[key]
        missing_columns = set(want) - set(got)
        assert not missing_columns, f"{table}: columns missing: {sorted(missing_columns)}"
        for column, value in got.items():
            if column in ignore and column in want:
                assert value is not None, f"{table} {key} {column} is NULL"
                continue
            expect = want.get(column)
            assert value == expect and type(value) is type(expect), f"{table} {key} {column}: {value!r} != {expect!r}"


def clear_of_midnight(margin_seconds: float = 180.0) -> None:
    """Waits out the last minutes of a UTC day: a test whose pipeline runs in another process (so its clock cannot
    be pinned) and that compares against the simulator's days must not see the day change halfway."""
    now = dt.datetime.now(dt.timezone.utc)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    left = (midnight - now).total_seconds()
    if left < margin_seconds:
        time.sleep(left + 1.0)
