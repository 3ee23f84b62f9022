"""The scheduling recipes: the GitHub Actions workflow and the cron line run commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from croniter import croniter

from pipelines.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
DOCS = ROOT / "docs" / "scheduling.md"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def cli_commands(script: str, env: dict[str, str]) -> list[list[str]]:
    """Every `claude-analytics …` invocation in a shell script, with $VARS substituted."""
    out = []
    for line in script.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|\|\||;", line):
            words = shlex.split(part.split(">>")[0], comments=True)
            words = [re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), w) for w in words]
            if words and words[0].rsplit("/", 1)[-1] == "claude-analytics":
                out.append(words[1:])
    return out


def assert_parses(args: list[str]) -> None:
    try:
        build_parser().parse_args(args)
    except SystemExit as exc:  # argparse exits on an unknown command or option
        pytest.fail(f"`claude-analytics {' '.join(args)}` is not a valid command line (exit {exc.code})")


def test_workflow_runs_nightly_and_on_demand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    [schedule] = triggers["schedule"]
    assert croniter.is_valid(schedule["cron"])
    minute, hour, dom, month, dow = schedule["cron"].split()
    assert (dom, month, dow) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()  # once a day
    assert "workflow_dispatch" in triggers
    assert workflow["concurrency"]["cancel-in-progress"] is False  # never kill a load midway
    assert "CLAUDE_ANALYTICS_DESTINATION" in workflow["concurrency"]["group"]
    assert workflow["permissions"] == {"contents": "read"}


def test_workflow_takes_every_credential_from_secrets(workflow):
    [job] = workflow["jobs"].values()
    env = job["env"]
    assert env["SOURCES__CLAUDE_ANALYTICS__API_KEY"] == "${{ secrets.SOURCES__CLAUDE_ANALYTICS__API_KEY }}"
    for destination in ("POSTGRES", "BIGQUERY", "SNOWFLAKE"):
        name = f"DESTINATION__{destination}__CREDENTIALS"
        assert env[name] == f"${{{{ secrets.{name} }}}}"
    text = WORKFLOW.read_text(encoding="utf-8")
    assert not re.search(r"sk-ant|password\s*[:=]\s*\w", text, re.I)
    assert "duckdb" not in env["CLAUDE_ANALYTICS_DESTINATION"]  # an ephemeral runner needs a persistent warehouse


def test_workflow_installs_the_project_then_loads_then_checks_status(workflow):
    [job] = workflow["jobs"].values()
    assert job["runs-on"].startswith("ubuntu") and job["timeout-minutes"] >= 60
    steps = [s.get("run", "") for s in job["steps"]]
    install = next(i for i, s in enumerate(steps) if "pip install" in s)
    assert re.search(r"pip install -e \"?\.\[", steps[install])
    extras_match = re.search(r"\[(.+?)\]", steps[install])
    assert extras_match is not None
    extras = extras_match.group(1)
    assert extras == "${CLAUDE_ANALYTICS_DESTINATION}"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for destination in ("postgres", "bigquery", "snowflake"):  # every value of the variable is an extra
        assert re.search(rf"^{destination} = \[", pyproject, re.M)
    commands = [c for s in steps for c in cli_commands(s, {"CLAUDE_ANALYTICS_DESTINATION": "postgres"})]
    assert [c[0] for c in commands] == ["run", "status", "report"]
    for args in commands:
        assert_parses(args)
        assert args[args.index("--destination") + 1] == "postgres"
    report_step = next(s for s in job["steps"] if "report" in s.get("run", ""))
    upload = job["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "report.html"
    assert report_step["if"] == upload["if"] == "always()"


def test_the_documented_cron_line_is_valid():
    text = DOCS.read_text(encoding="utf-8")
    block_match = re.search(r"```cron\n(.*?)```", text, re.S)
    assert block_match is not None, "no cron block in docs/scheduling.md"
    block = block_match.group(1)
    [line] = [line for line in block.splitlines() if line and not line.startswith("#")]
    fields = line.split(None, 5)
    assert croniter.is_valid(" ".join(fields[:5]))
    commands = cli_commands(fields[5], {})
    assert [c[0] for c in commands] == ["run", "status"]
    for args in commands:
        assert_parses(args)
    for topic in ("GitHub Actions", "Airflow", "Dagster", "nightly.yml", "exit code"):
        assert topic in text


def test_the_dagster_recipe_materializes_every_table(start_simulator, monkeypatch):
    """The first Dagster recipe of docs/scheduling.md, as written (its destination swapped for DuckDB)."""
    import dagster as dg
    import duckdb

    from sources.claude_analytics.endpoints import ENDPOINTS

    text = DOCS.read_text(encoding="utf-8")
    recipe = re.search(r"## Dagster.*?```python\n(.*?)```", text, re.S)
    assert recipe is not None, "no Dagster recipe in docs/scheduling.md"
    code = recipe.group(1)
    assert 'destination="postgres"' in code
    code = code.replace('destination="postgres"', 'destination=dlt.destinations.duckdb("warehouse.duckdb")')
    from tests.helpers import configure

    sim = start_simulator(users=10, seed=71)
    configure(monkeypatch, sim, days=3)
    namespace: dict = {}
    # dont_inherit: not this module's `from __future__ import annotations` (Dagster reads the annotations)
    exec(compile(code, "docs/scheduling.md", "exec", dont_inherit=True), namespace)
    assert sim.stats()["total"] == 0  # defining the assets asks the API nothing
    defs = namespace["defs"]
    result = dg.materialize(list(defs.assets), resources={"dlt": namespace["DagsterDltResource"]()})
    assert result.success
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'claude_analytics'"
            ).fetchall()
        }
    assert {e.table for e in ENDPOINTS} <= tables
