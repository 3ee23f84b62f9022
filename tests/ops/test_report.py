"""`claude-analytics report`: a self-contained HTML file with charts, checked as text and rendered by Chromium."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.ops.view_expectations import daily_adoption, top_connectors, top_skills


@pytest.fixture
def report(loaded, monkeypatch, tmp_path) -> str:
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__HISTORY_DAYS", "40")
    monkeypatch.setenv("SOURCES__CLAUDE_ANALYTICS__AVAILABILITY_LAG_DAYS", str(loaded.sim.config.availability_lag_days))
    out = tmp_path / "report.html"
    assert main(["report", "--duckdb-file", loaded.duckdb_file, "--output", str(out), "--log-level", "WARNING"]) == 0
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained_and_shows_the_warehouse_figures(loaded, report):
    html = report
    assert html.startswith("<!DOCTYPE html>")
    # nothing to fetch: no scripts, stylesheets, images, fonts or any URL
    assert not re.search(r"<script|<link|<img|<iframe|url\(|@import|https?:|//[a-z]", html, re.I)
    for section in ("adoption", "products", "skills", "connectors", "claude-code", "projects", "health"):
        assert f'<section id="{section}">' in html
    assert html.count("<svg") == 6 and html.count("<polyline") >= 4 and html.count("<rect") > 40
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


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG: enough to look at a screenshot."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6)
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
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
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--hide-scrollbars", "--window-size=1000,2400",
                    f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1000, 2400)
    bpp = len(rows[0]) // width
    blue = sum(1 for row in rows[::4] for i in range(0, len(row), bpp * 4) if row[i:i + 3] == bytes((0x25, 0x63, 0xEB)))
    colors = {row[i:i + 3] for row in rows[::8] for i in range(0, len(row), bpp * 8)}
    assert blue > 200, "the charts' blue lines and bars are not on the screenshot"
    assert len(colors) > 50, "the screenshot is nearly uniform: the page did not render"
    if keep := os.environ.get("REPORT_SCREENSHOT"):  # REPORT_SCREENSHOT=/tmp/report.png pytest … to look at it
        shutil.copy(shot, keep)
