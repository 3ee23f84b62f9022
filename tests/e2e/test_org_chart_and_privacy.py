"""The org chart as table `org_chart` (checked, replaced every run) and pseudonymization (no plaintext person
anywhere a run writes; joins still work; a dataset never mixes plaintext and pseudonyms)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from sources.claude_analytics.privacy import Pseudonymizer
from tests.helpers import configure, sim_env

DATASET = "claude_analytics"
HEADERS = {
    "email": "Email",
    "user_id": "User ID",
    "name": "Name",
    "department": "Department",
    "team": "Team",
    "manager_email": "Manager Email",
    "cost_center": "Cost Center",
    "location": "Location",
}
KEY = "a-long-random-pseudonym-key-0123456789"
API_KEY = "sk-ant-api03-NEVER-IN-A-FILE-987654321"


def write_org_chart(path: Path, people: list[dict], headers: dict[str, str] = HEADERS) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers.values())
        for person in people:
            writer.writerow(["" if person.get(k) is None else person[k] for k in headers])
    return path


@pytest.fixture
def configured(start_simulator, monkeypatch):
    sim = start_simulator(users=30, seed=61)
    configure(monkeypatch, sim, days=4)
    return sim


def org_chart_rows() -> list[dict]:
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        cur = con.execute(f"select * from {DATASET}.org_chart order by email")
        names = [d[0] for d in cur.description]
        return [{k: v for k, v in zip(names, row) if not k.startswith("_dlt")} for row in cur.fetchall()]


def test_the_org_chart_loads_typed_with_normalized_names_and_is_replaced_every_run(configured, monkeypatch, tmp_path):
    people = configured.org_chart()
    people[0] = {**people[0], "email": people[0]["email"].upper()}  # compared lower-cased
    path = write_org_chart(tmp_path / "people.csv", people)
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__ORG_CHART_PATH", str(path))
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 0
    loaded = org_chart_rows()
    assert list(loaded[0]) == list(HEADERS)
    assert loaded == sorted(({**p, "email": p["email"].lower()} for p in people), key=lambda p: p["email"])

    leaver = people.pop(3)
    write_org_chart(path, people)
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 0
    assert leaver["email"] not in {p["email"] for p in org_chart_rows()} and len(org_chart_rows()) == len(people)


BAD = [
    (
        "no key column",
        lambda people: [{k: v for k, v in p.items() if k not in ("email", "user_id")} for p in people],
        "has no email or user_id column",
    ),
    ("a person twice", lambda people: people + [dict(people[5])], "lists the same person twice: email"),
    (
        "a row without a key",
        lambda people: people[:2] + [{**people[2], "email": None, "user_id": None}] + people[3:],
        "row(s) 4 have no email or user_id",
    ),
]


@pytest.mark.parametrize("case,edit,fragment", BAD, ids=[b[0] for b in BAD])
def test_a_bad_org_chart_exits_2_and_changes_nothing(configured, monkeypatch, tmp_path, capsys, case, edit, fragment):
    path = write_org_chart(tmp_path / "people.csv", configured.org_chart())
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__ORG_CHART_PATH", str(path))
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 0
    before = org_chart_rows()
    configured.reset_stats()
    people = edit(configured.org_chart())
    headers = {k: v for k, v in HEADERS.items() if k in people[0]}
    write_org_chart(path, people, headers)
    capsys.readouterr()
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and str(path) in err and len(err.splitlines()) == 1
    assert configured.stats()["total"] == 0  # checked before any request
    assert org_chart_rows() == before


def test_an_unreadable_org_chart_or_a_missing_group_column_exits_2(configured, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__ORG_CHART_PATH", str(tmp_path / "nowhere.csv"))
    assert main(["run", "--log-level", "ERROR"]) == 2
    assert "cannot read the org chart" in capsys.readouterr().err
    path = write_org_chart(tmp_path / "people.csv", configured.org_chart())
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__ORG_CHART_PATH", str(path))
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__ORG_UNIT_ATTRIBUTE", "division")
    assert main(["run", "--log-level", "ERROR"]) == 2
    assert "has no column 'division' to group by" in capsys.readouterr().err
    assert configured.stats()["total"] == 0


def cli(*args: str, env: dict, log: Path) -> int:
    with open(log, "a") as stderr:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args], env=env, stdout=stderr, stderr=stderr, timeout=300
        ).returncode


def test_pseudonymized_no_plaintext_person_reaches_any_file_and_joins_still_work(start_simulator, tmp_path):
    sim = start_simulator(users=30, seed=62, api_key=API_KEY)
    chart = write_org_chart(tmp_path / "people.csv", sim.org_chart())
    env = {
        **os.environ,
        **sim_env(sim, days=4, pseudonymize="true", pseudonym_key=KEY, org_chart_path=chart),
        "RUNTIME__LOG_LEVEL": "DEBUG",
    }
    log = tmp_path / "commands.log"
    assert cli("run", "--log-level", "DEBUG", env=env, log=log) == 0
    assert cli("status", "--log-level", "DEBUG", env=env, log=log) in (0, 3)
    assert cli("report", "--output", str(tmp_path / "report.html"), "--log-level", "DEBUG", env=env, log=log) == 0
    assert "HTTP Request" in log.read_text()  # debug logging really was on
    chart.unlink()  # the input itself holds plaintext, by definition

    identities = sim.identities()
    secrets = [*identities["emails"], *identities["names"], KEY, API_KEY]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    found = {s: [str(p.relative_to(tmp_path)) for p in files if s.encode() in p.read_bytes()] for s in secrets}
    assert {s: where for s, where in found.items() if where} == {}
    assert len(files) > 20 and sum(p.stat().st_size for p in files) > 1_000_000  # the warehouse, packages, state

    hashed = Pseudonymizer(KEY)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        someone = sim.org_chart()[0]
        assert (
            con.execute(
                f"select count(*) from {DATASET}.org_chart where email = ?", [hashed("email", someone["email"])]
            ).fetchall()[0][0]
            == 1
        )
        joined = con.execute(
            f"select count(*) from {DATASET}.user_activity u join {DATASET}.org_chart o on u.user_email = o.email"
        ).fetchall()[0][0]
        per_user = con.execute(
            f"select count(*) from {DATASET}.user_cost_report c join {DATASET}.user_activity u "
            "on c.user_id = u.user_id and c.date = u.date"
        ).fetchall()[0][0]
        names = {r[0] for r in con.execute(f"select distinct user_name from {DATASET}.user_cost_report").fetchall()}
    assert joined > 0 and per_user > 0
    assert all(n is None or n.startswith("p_") for n in names)


def test_switching_pseudonymization_on_for_plaintext_is_refused_with_the_command_that_fixes_it(
    configured, monkeypatch, capsys
):
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 0
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        before = con.execute(f"select * from {DATASET}.user_activity order by all").fetchall()
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__PSEUDONYMIZE", "true")
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__PSEUDONYM_KEY", KEY)
    configured.reset_stats()
    capsys.readouterr()
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 2
    err = capsys.readouterr().err.strip()
    assert "already holds plaintext ids, emails and names" in err and "`claude-analytics reset --yes`" in err
    assert KEY not in err and len(err.splitlines()) == 1 and configured.stats()["total"] == 0
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        assert con.execute(f"select * from {DATASET}.user_activity order by all").fetchall() == before

    assert main(["reset", "--yes", "--log-level", "ERROR"]) == 0  # the command the message gave
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 0
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        emails = {r[0] for r in con.execute(f"select user_email from {DATASET}.user_activity").fetchall()}
    assert emails and all(e.startswith("p_") for e in emails)
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__PSEUDONYM_KEY", KEY + "-rotated")  # another key: refused too
    assert main(["run", "--log-level", "ERROR", "--endpoints", "users"]) == 2
    assert "was pseudonymized with another pseudonym_key" in capsys.readouterr().err
