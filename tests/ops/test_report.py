"""`claude-analytics report`: a self-contained HTML file with charts, checked as text and rendered by Chromium."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.report import heat_map, money, percent
from sources.claude_analytics.endpoints import BY_NAME
from tests.helpers import expected_table, load
from tests.ops.view_expectations import (
    NOT_IN_ORG_CHART,
    Truth,
    cost_per_active_user,
    daily_adoption,
    org_adoption_weekly,
    org_spend_monthly,
    top_connectors,
    top_skills,
    user_spend_monthly,
)


def write_report(monkeypatch, tmp_path, duckdb_file: str, lag_days: int = 1) -> str:
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__HISTORY_DAYS", "40")
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__AVAILABILITY_LAG_DAYS", str(lag_days))
    out = tmp_path / "report.html"
    assert main(["report", "--duckdb-file", duckdb_file, "--output", str(out), "--log-level", "WARNING"]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture
def report(loaded, monkeypatch, tmp_path) -> str:
    return write_report(monkeypatch, tmp_path, loaded.duckdb_file, loaded.sim.config.availability_lag_days)


def section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert match, f"no section {name}"
    return match.group(1)


def truth(loaded) -> Truth:
    return Truth(loaded.sim, loaded.days, loaded.cost_days, loaded.org_chart)


def test_report_is_self_contained_and_shows_the_warehouse_figures(loaded, report):
    html = report
    assert html.startswith("<!DOCTYPE html>")
    # nothing to fetch: no scripts, stylesheets, images, fonts or any URL
    assert not re.search(r"<script|<link|<img|<iframe|url\(|@import|https?:|//[a-z]", html, re.I)
    for name in (
        "adoption",
        "products",
        "skills",
        "connectors",
        "claude-code",
        "projects",
        "spend",
        "org-units",
        "health",
    ):
        assert f'<section id="{name}">' in html
    assert "Views not found" not in html
    assert html.count("<svg") == 12 and html.count("<polyline") >= 8 and html.count("<rect") > 40
    adoption = daily_adoption(loaded.sim, loaded.days)
    latest = adoption[(loaded.summary.latest_available_day,)]
    assert f"<b>{latest['daily_active_users']:,}</b>" in html and f"<b>{latest['monthly_active_users']:,}</b>" in html
    skills = sorted(top_skills(loaded.sim, loaded.days).values(), key=lambda r: r["popularity_rank"])
    connectors = sorted(top_connectors(loaded.sim, loaded.days).values(), key=lambda r: r["popularity_rank"])
    for row, name in ((skills[0], "skill"), (connectors[0], "connector")):
        label = row[f"{name}_display_name"] or row[f"{name}_name"]
        assert f">{label}</text>" in html
    for product in ("chat", "claude_code", "cowork"):
        assert f"</i>{product}</span>" in html  # legend of active users by product
    assert "Healthy: loaded without gaps" in html
    assert "<td>run</td>" in html and "<td>succeeded</td>" in html


def test_spend_section_shows_month_to_date_top_users_and_cost_per_active_user(loaded, report):
    spend = section(report, "spend")
    costs = expected_table(loaded.sim, BY_NAME["cost_report"], loaded.cost_days).values()
    newest = max(loaded.cost_days)
    month = [r for r in costs if r["date"] >= newest.replace(day=1)]
    assert month, "the newest cost month has no rows to compare"
    amount, list_amount = sum(r["amount"] for r in month), sum(r["list_amount"] for r in month)
    assert f"<b>{money(amount)}</b>" in spend and f"<b>{money(list_amount)}</b>" in spend
    assert f"<b>{percent((1 - float(amount) / float(list_amount)) * 100)}</b>" in spend
    assert spend.count("<svg") == 3 and "</i>(unattributed)</span>" in spend  # per product, per model, per user
    # the top users of the newest month, biggest first
    users = [r for r in user_spend_monthly(truth(loaded)).values() if r["month_start"] == newest.replace(day=1)]
    ranked = sorted(users, key=lambda r: (-r["amount"], r["user_id"]))[:3]
    where = [spend.index(f"<td>{r['user_email'] or r['user_name'] or r['user_id']}</td>") for r in ranked]
    assert where == sorted(where)
    assert f"<td class=n>{money(ranked[0]['amount'])}</td>" in spend
    # cost per active user of the newest week with both
    per_user = [r for r in cost_per_active_user(truth(loaded)).values() if r["cost_per_active_user"] is not None]
    week = max(r["week_start"] for r in per_user)
    chat = next(r for r in per_user if r["week_start"] == week and r["product"] == "chat")
    assert f"Week of {week}" in spend and f"<td class=n>{money(chat['cost_per_active_user'])}</td>" in spend


def test_org_section_ranks_org_units_and_maps_adoption_per_week(loaded, report):
    org = section(report, "org-units")
    assert "<h2>By department</h2>" in org and org.count("<svg") == 3
    adoption = org_adoption_weekly(truth(loaded))
    newest = loaded.summary.latest_available_day
    weeks = sorted({w for w, _ in adoption})
    week = max(w for w in weeks if w + dt.timedelta(days=6) <= newest)
    ranked = sorted(
        (r for r in adoption.values() if r["week_start"] == week and r["adoption_rate"] is not None),
        key=lambda r: (-r["adoption_rate"], r["org_unit"]),
    )
    ranking = org.split(f"Adoption, week of {week}</h2>", 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'class="label" text-anchor="end">([^<]+)</text>', ranking) == [r["org_unit"] for r in ranked]
    assert f">{percent(ranked[0]['adoption_rate'])}</text>" in ranking
    # the heat map: a cell per org unit with a headcount and week, shaded by adoption
    heat = org.split("Adoption per week</h2>", 1)[1].split("</svg>", 1)[0]
    units = sorted({u for (_, u), r in adoption.items() if r["headcount"]})
    assert heat.count("<rect") == len(units) * min(16, len(weeks))
    for unit in units:
        rate = adoption[(weeks[-1], unit)]["adoption_rate"]
        assert f"<title>{unit.replace('&', '&amp;')}, {weeks[-1]}: {rate:.0f}%</title>" in heat
    # spend of the newest month, people missing from the org chart included
    spend = org_spend_monthly(truth(loaded))
    month = max(m for m, _ in spend)
    assert f"<td>{NOT_IN_ORG_CHART}</td>" in org
    top = max((r for r in spend.values() if r["month_start"] == month), key=lambda r: (r["amount"], r["org_unit"]))
    assert f"<td class=n>{money(top['amount'])}</td>" in org


def test_a_report_without_cost_reports_or_org_chart_leaves_their_sections_out(start_simulator, monkeypatch, tmp_path):
    sim = start_simulator(users=10, seed=2)
    load(sim, history_days=5, endpoints="users,summaries")
    html = write_report(monkeypatch, tmp_path, "warehouse.duckdb")
    assert '<section id="spend">' not in html and '<section id="org-units">' not in html
    assert "v_daily_spend" not in html and "v_org_adoption_weekly" not in html  # not "missing": never loaded


def test_a_spend_view_missing_beside_its_loaded_table_is_reported(loaded, monkeypatch, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(loaded.duckdb_file, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop view claude_analytics.v_daily_spend")
    html = write_report(monkeypatch, tmp_path, str(copy))
    assert re.search(r"Views not found: [^<]*v_daily_spend", html)
    assert '<section id="org-units">' in html


def test_heat_map_shades_cells_from_white_to_blue_and_greys_missing_ones():
    svg = heat_map(
        ["Sales", "R&D"], ["w1", "w2"], {("Sales", "w1"): 100.0, ("Sales", "w2"): 0.0, ("R&D", "w1"): 50.0}, "adoption"
    )
    fills = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"><title>([^<]+)</title>', svg)
    assert fills == [
        ("#2563eb", "Sales, w1: 100%"),
        ("#ffffff", "Sales, w2: 0%"),
        ("#92b1f5", "R&amp;D, w1: 50%"),
        ("#e5e7eb", "R&amp;D, w2: no value"),
    ]
    assert ">R&amp;D</text>" in svg


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG: enough to look at a screenshot."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    header: tuple[int, ...] | None = None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None, "no IHDR chunk"
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6)
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def test_report_renders_in_headless_chromium(report, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine (CI installs the Debian package `chromium` in .ci/run)")
    page = tmp_path / "report.html"
    page.write_text(report, encoding="utf-8")
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    profile.mkdir()
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            "--window-size=1000,2400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1000, 2400)
    bpp = len(rows[0]) // width
    blue = sum(
        1 for row in rows[::4] for i in range(0, len(row), bpp * 4) if row[i : i + 3] == bytes((0x25, 0x63, 0xEB))
    )
    colors = {row[i : i + 3] for row in rows[::8] for i in range(0, len(row), bpp * 8)}
    assert blue > 200, "the charts' blue lines and bars are not on the screenshot"
    assert len(colors) > 50, "the screenshot is nearly uniform: the page did not render"
    if keep := os.environ.get("REPORT_SCREENSHOT"):  # REPORT_SCREENSHOT=/tmp/report.png pytest … to look at it
        shutil.copy(shot, keep)


def test_the_org_spend_heading_says_to_date_only_for_a_partial_month():
    from decimal import Decimal

    from pipelines.report import org_spend_part

    def rows(month: dt.date) -> list[dict]:
        unit = {"org_unit": "Sales", "headcount": 3, "users_with_usage": 2, "amount": Decimal("1.5")}
        return [{**unit, "month_start": month, "amount_per_head": Decimal("0.5"), "total_tokens": 10}]

    assert "Spend, December 2026 to date (through 2026-12-01)" in org_spend_part(
        rows(dt.date(2026, 12, 1)), dt.date(2026, 12, 1)
    )
    complete = org_spend_part(rows(dt.date(2026, 11, 1)), dt.date(2026, 11, 30))
    assert "Spend, November 2026<" in complete and "to date" not in complete
