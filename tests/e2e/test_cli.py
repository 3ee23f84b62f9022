"""The command line: exit codes, one-line messages, zero requests for errors known up front, data unchanged."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys

import duckdb
import pytest

from pipelines.cli import main
from sources.claude_analytics.endpoints import ENDPOINTS
from tests.helpers import configure

TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture
def configured(start_simulator, monkeypatch):
    """A simulator, env configuration pointing at it, and a warehouse already holding 6 days."""
    sim = start_simulator(users=15, seed=11)
    configure(monkeypatch, sim, days=6, availability_lag_days=1, history_days=6)
    assert main(["run", "--log-level", "WARNING"]) == 0
    sim.reset_stats()
    return sim


def snapshot() -> dict:
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        return {
            e.table: con.execute(f"select * from claude_analytics.{e.table} order by all").fetchall() for e in ENDPOINTS
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FUTURE = (TODAY + dt.timedelta(days=3)).isoformat()

BAD_INPUT = [
    # (case, argv, env overrides, message fragment, requests allowed)
    ("malformed date", ["backfill", "--start-date", "2026-13-01"], {}, "YYYY-MM-DD", 0),
    ("malformed date form", ["backfill", "--end-date", "01/02/2026"], {}, "YYYY-MM-DD", 0),
    ("start after end", ["backfill", "--start-date", "2026-11-10", "--end-date", "2026-11-01"], {}, "after", 0),
    ("before the floor", ["backfill", "--start-date", "2025-12-31"], {}, "2026-01-01", 0),
    ("in the future", ["backfill", "--end-date", FUTURE], {}, "not available yet", 0),
    ("unknown endpoint", ["run", "--endpoints", "users,plugin"], {}, "unknown endpoint plugin: choose from", 0),
    ("missing key", ["run"], {"SOURCES__CLAUDE_ANALYTICS__API_KEY": None}, "no API key", 0),
    ("rejected key", ["run"], {"SOURCES__CLAUDE_ANALYTICS__API_KEY": "sk-ant-wrong"}, "read:analytics", 1),
    (
        "unreachable base URL",
        ["run"],
        {"SOURCES__CLAUDE_ANALYTICS__BASE_URL": "http://127.0.0.1:{port}/v1/organizations/analytics"},
        "cannot connect",
        0,
    ),
    (
        "destination down",
        ["run", "--destination", "postgres"],
        {"DESTINATION__POSTGRES__CREDENTIALS": "postgresql://postgres@127.0.0.1:{port}/nope"},
        "cannot use destination postgres",
        0,
    ),
    (
        "invalid requests_per_minute",
        ["run"],
        {"SOURCES__CLAUDE_ANALYTICS__REQUESTS_PER_MINUTE": "0"},
        "requests_per_minute",
        0,
    ),
    (
        "non-numeric requests_per_minute",
        ["run"],
        {"SOURCES__CLAUDE_ANALYTICS__REQUESTS_PER_MINUTE": "fast"},
        "requests_per_minute",
        0,
    ),
    ("invalid start_date setting", ["run"], {"SOURCES__CLAUDE_ANALYTICS__START_DATE": "March"}, "YYYY-MM-DD", 0),
    ("unknown destination", ["run", "--destination", "oracle"], {}, "invalid choice", 0),
    ("bad page_size", ["run"], {"SOURCES__CLAUDE_ANALYTICS__PAGE_SIZE": "5000"}, "page_size", 0),
    ("bad history_days", ["run"], {"SOURCES__CLAUDE_ANALYTICS__HISTORY_DAYS": "forever"}, "or auto", 0),
    ("pseudonymize without a key", ["run"], {"SOURCES__CLAUDE_ANALYTICS__PSEUDONYMIZE": "true"}, "pseudonym_key", 0),
]


@pytest.mark.parametrize("case,argv,env,fragment,max_requests", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    configured, monkeypatch, capsys, case, argv, env, fragment, max_requests
):
    before = snapshot()
    port = free_port()
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key)
        else:
            monkeypatch.setenv(key, value.format(port=port))
    with (
        pytest.raises(SystemExit)
        if case in ("malformed date", "malformed date form", "unknown destination")
        else _no_raise() as exited
    ):
        code: int | str | None = main(argv)  # or SystemExit's code
    if exited is not None and getattr(exited, "value", None) is not None:
        code = exited.value.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert fragment in err
    assert len(err.splitlines()) == 1, err
    assert configured.api_key not in err
    assert configured.stats()["total"] <= max_requests
    assert snapshot() == before


class _no_raise:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_malformed_config_toml_exits_2(configured, tmp_path):
    # dlt reads .dlt/config.toml once per process: a fresh process, as a scheduler would start it
    before = snapshot()
    (tmp_path / ".dlt").mkdir(exist_ok=True)
    (tmp_path / ".dlt" / "config.toml").write_text("[sources.claude_analytics\nrequests_per_minute = 60\n")
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    err = done.stderr.strip()
    assert "config.toml" in err and "line 1" in err and len(err.splitlines()) == 1
    assert configured.stats()["total"] == 0
    assert snapshot() == before


def test_unwritable_duckdb_path_exits_2(configured, monkeypatch, capsys):
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", "/proc/no-such-dir/warehouse.duckdb")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "cannot use destination duckdb" in err
    assert configured.stats()["total"] == 0


def test_too_recent_days_end_the_run_cleanly(configured, monkeypatch, capsys):
    # pinned at a 1-day lag, the API is 3 days behind: learnt from its answer, loaded to its latest day, exit 0
    configured.config.availability_lag_days = 3
    assert main(["run", "--log-level", "WARNING"]) == 0
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        newest = con.execute("select max(date) from claude_analytics.user_activity").fetchall()[0][0]
        runs = con.execute(
            "select outcome, latest_available_day from claude_analytics.pipeline_runs order by started_at desc limit 1"
        ).fetchone()
    assert newest == TODAY - dt.timedelta(days=1)  # rows already loaded stay
    assert runs == ("succeeded", TODAY - dt.timedelta(days=3))
    assert "loaded up to " + (TODAY - dt.timedelta(days=3)).isoformat() in capsys.readouterr().out


def test_backfill_merges_a_range_and_never_moves_the_cursor_back(configured, capsys):
    from pipelines.destinations import Target
    from pipelines.state import resource_progress

    cursor_before = resource_progress(Target().pipeline())
    first = TODAY - dt.timedelta(days=5)
    assert main(["backfill", "--start-date", first.isoformat(), "--end-date", first.isoformat()]) == 0
    assert configured.stats()["total"] == 1 + len(ENDPOINTS)  # the newest-day probe, then one day × 11 endpoints
    assert resource_progress(Target().pipeline()) == cursor_before


def test_check_reports_access_latest_day_and_plan(configured, capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    for endpoint in ENDPOINTS:
        assert f"{endpoint.name}" in out
    assert "ok" in out and "plan: about" in out
    assert configured.stats()["total"] == 1 + len(ENDPOINTS)  # the newest-day probe, one page per endpoint


def test_check_with_a_rejected_key_exits_2(configured, monkeypatch, capsys):
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__API_KEY", "wrong")
    assert main(["check"]) == 2
    assert "DENIED" in capsys.readouterr().out


def test_duckdb_out_of_memory_says_how_to_raise_the_limit(configured, monkeypatch, capsys):
    before = snapshot()
    capsys.readouterr()
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG", '{"memory_limit": "4MB"}')
    assert main(["run", "--log-level", "ERROR"]) == 2  # opening the warehouse already fails: before any request
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Out of Memory Error" in err and """GLOBAL_CONFIG='{"memory_limit": "512MB"}'""" in err
    assert configured.stats()["total"] == 0
    monkeypatch.delenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG")
    assert snapshot() == before  # nothing loaded was lost or changed
