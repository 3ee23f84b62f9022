"""`claude-analytics report`: one self-contained HTML file with charts, built from the warehouse's views.

No JavaScript, no fonts, no images, no network: charts are inline SVG drawn here, styles are inline CSS,
so the file opens anywhere (a mail attachment, a CI artifact, an air-gapped laptop) and prints cleanly.

Sections: headline figures, adoption trend (daily/weekly/monthly active users and seats), active users by
product, top skills, top connectors, Claude Code output per week, most active chat projects, and the
pipeline's health (the `status` checks and the latest runs from `pipeline_runs`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from sources.claude_analytics.endpoints import select

from .destinations import Target
from .runlog import RUN_LOG_TABLE
from .status import Status, format_status, read_status
from .warehouse import Warehouse, read_only

PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d")
TOP_N = 10


# -- data -------------------------------------------------------------------------------------------


@dataclass
class ReportData:
    title: str
    generated_at: dt.datetime
    destination: str
    dataset_name: str
    adoption: list[dict[str, Any]] = field(default_factory=list)  # v_daily_adoption
    by_product: list[dict[str, Any]] = field(default_factory=list)  # v_daily_active_users_by_product
    skills: list[dict[str, Any]] = field(default_factory=list)  # v_top_skills, top N
    connectors: list[dict[str, Any]] = field(default_factory=list)  # v_top_connectors, top N
    code_weeks: list[dict[str, Any]] = field(default_factory=list)  # v_claude_code_weekly_output per week
    projects: list[dict[str, Any]] = field(default_factory=list)  # v_chat_project_activity, last 4 weeks
    runs: list[dict[str, Any]] = field(default_factory=list)  # pipeline_runs, newest first
    status: Status | None = None
    missing: list[str] = field(default_factory=list)  # views not found


def _rows(warehouse: Warehouse, view: str, data: ReportData, query: str) -> list[dict[str, Any]]:
    if not warehouse.exists(view):
        data.missing.append(view)
        return []
    return warehouse.query(query.format(t=warehouse.table(view), c=warehouse.column))


def gather(warehouse: Warehouse, endpoints: list, settings: Any, *, title: str = "Claude usage report",
           today: dt.date | None = None) -> ReportData:
    data = ReportData(title, dt.datetime.now(dt.timezone.utc), warehouse.destination, warehouse.dataset_name)
    c = warehouse.column
    data.adoption = _rows(warehouse, "v_daily_adoption", data, f"SELECT * FROM {{t}} ORDER BY {c('date')}")
    data.by_product = _rows(warehouse, "v_daily_active_users_by_product", data,
                            f"SELECT * FROM {{t}} ORDER BY {c('date')}, {c('product')}")
    data.skills = _rows(warehouse, "v_top_skills", data,
                        f"SELECT * FROM {{t}} WHERE {c('popularity_rank')} <= {TOP_N} ORDER BY {c('popularity_rank')}")
    data.connectors = _rows(warehouse, "v_top_connectors", data,
                            f"SELECT * FROM {{t}} WHERE {c('popularity_rank')} <= {TOP_N} "
                            f"ORDER BY {c('popularity_rank')}")
    code = _rows(warehouse, "v_claude_code_weekly_output", data, "SELECT * FROM {t}")
    data.code_weeks = weekly_code_totals(code)
    projects = _rows(warehouse, "v_chat_project_activity", data, "SELECT * FROM {t}")
    data.projects = recent_projects(projects)
    if warehouse.exists(RUN_LOG_TABLE):
        data.runs = sorted(warehouse.query(f"SELECT * FROM {warehouse.table(RUN_LOG_TABLE)}"),
                           key=lambda r: str(r.get("started_at")), reverse=True)[:10]
    data.status = read_status(warehouse, endpoints, settings, today=today)
    return data


def weekly_code_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Organization-wide Claude Code output per week from the per-user weekly rows."""
    weeks: dict[Any, dict[str, Any]] = {}
    for r in rows:
        w = weeks.setdefault(r["week_start"], {"week_start": r["week_start"], "users": 0, "commits": 0,
                                                "pull_requests": 0, "lines_added": 0, "lines_removed": 0,
                                                "accepted": 0, "rejected": 0})
        w["users"] += 1
        for key, source in (("commits", "commits"), ("pull_requests", "pull_requests"),
                            ("lines_added", "lines_added"), ("lines_removed", "lines_removed"),
                            ("accepted", "tool_suggestions_accepted"), ("rejected", "tool_suggestions_rejected")):
            w[key] += int(r.get(source) or 0)
    out = [weeks[k] for k in sorted(weeks)]
    for w in out:
        decided = w["accepted"] + w["rejected"]
        w["acceptance_rate"] = w["accepted"] / decided if decided else None
    return out


def recent_projects(rows: list[dict[str, Any]], weeks: int = 4) -> list[dict[str, Any]]:
    """The most active chat projects over the last `weeks` weeks loaded, by messages."""
    if not rows:
        return []
    starts = sorted({r["week_start"] for r in rows})[-weeks:]
    keep = set(starts)
    totals: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["week_start"] not in keep:
            continue
        p = totals.setdefault(r["project_id"], {"project_id": r["project_id"], "project_name": r["project_name"],
                                                "created_by_email": r.get("created_by_email"), "active_days": 0,
                                                "messages": 0, "peak_daily_users": 0})
        p["active_days"] += int(r.get("active_days") or 0)
        p["messages"] += int(r.get("messages") or 0)
        p["peak_daily_users"] = max(p["peak_daily_users"], int(r.get("peak_daily_users") or 0))
    ranked = sorted(totals.values(), key=lambda p: (-p["messages"], p["project_id"]))[:TOP_N]
    for p in ranked:
        p["since"] = starts[0]
    return ranked


# -- SVG charts ---------------------------------------------------------------------------------------

W, H = 860, 300
PAD_L, PAD_R, PAD_T, PAD_B = 56, 16, 16, 40


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: float) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k" if float(value / 1000).is_integer() or abs(value) >= 100_000 \
            else f"{value / 1000:.1f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:g}" if isinstance(value, float) and not float(value).is_integer() else f"{int(value)}"


def nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp10 = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp10:
            return step * exp10
    return 10 * exp10


def _frame(ymax: float, label: str) -> list[str]:
    parts = []
    for i in range(5):
        v = ymax * i / 4
        y = H - PAD_B - (H - PAD_T - PAD_B) * i / 4
        parts.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{W - PAD_R}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{_fmt(v)}</text>')
    parts.append(f'<text x="12" y="{PAD_T + 4}" class="axis" transform="rotate(-90 12 {PAD_T + 4})" '
                 f'text-anchor="end">{_e(label)}</text>')
    return parts


def _legend(names: Sequence[str], colors: Sequence[str]) -> str:
    items = "".join(f'<span class="key"><i style="background:{c}"></i>{_e(n)}</span>' for n, c in zip(names, colors))
    return f'<div class="legend">{items}</div>'


def _empty(message: str) -> str:
    return f'<p class="empty">{_e(message)}</p>'


def line_chart(x: Sequence[Any], series: dict[str, Sequence[float | None]], label: str,
               dashed: Sequence[str] = ()) -> str:
    """A multi-series line chart over the x values (days); gaps (None) break a line."""
    if not x or not series:
        return _empty("No data loaded yet.")
    values = [v for s in series.values() for v in s if v is not None]
    ymax = nice_max(max(values) if values else 1)
    n = len(x)
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def px(i: int) -> float:
        return PAD_L + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def py(v: float) -> float:
        return PAD_T + plot_h - plot_h * v / ymax

    parts = _frame(ymax, label)
    for k in range(min(n, 7)):
        i = round(k * (n - 1) / max(1, min(n, 7) - 1)) if n > 1 else 0
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        parts.append(f'<text x="{px(i):.1f}" y="{H - PAD_B + 18}" class="tick" text-anchor="{anchor}">'
                     f'{_e(x[i])}</text>')
    colors = []
    for index, (name, ys) in enumerate(series.items()):
        color = PALETTE[index % len(PALETTE)]
        colors.append(color)
        segments, current = [], []
        for i, v in enumerate(ys):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{px(i):.1f},{py(v):.1f}")
        if current:
            segments.append(current)
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
            else:
                parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" '
                             f'stroke-width="2"{dash}><title>{_e(name)}</title></polyline>')
    svg = f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{_e(label)}">{"".join(parts)}</svg>'
    return svg + _legend(list(series), colors)


def bar_chart(categories: Sequence[str], series: dict[str, Sequence[float]], label: str) -> str:
    """Vertical grouped bars: one group per category (week), one bar per series."""
    if not categories or not series:
        return _empty("No data loaded yet.")
    values = [v or 0 for s in series.values() for v in s]
    ymax = nice_max(max(values) if values else 1)
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    group_w = plot_w / len(categories)
    bar_w = max(1.0, group_w * 0.8 / len(series))
    parts = _frame(ymax, label)
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    step = max(1, math.ceil(len(categories) / 10))
    for ci, category in enumerate(categories):
        x0 = PAD_L + ci * group_w + group_w * 0.1
        for si, (name, ys) in enumerate(series.items()):
            v = ys[ci] or 0
            h = plot_h * v / ymax
            parts.append(f'<rect x="{x0 + si * bar_w:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{bar_w:.1f}" '
                         f'height="{h:.1f}" fill="{colors[si]}"><title>{_e(category)} {_e(name)}: '
                         f'{_e(_fmt(v))}</title></rect>')
        if ci % step == 0:
            parts.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{H - PAD_B + 18}" class="tick" '
                         f'text-anchor="middle">{_e(category)}</text>')
    svg = f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{_e(label)}">{"".join(parts)}</svg>'
    return svg + _legend(list(series), colors)


def hbar_chart(items: Sequence[tuple[str, float]], label: str) -> str:
    """Horizontal bars, largest first: a ranking."""
    if not items:
        return _empty("Nothing used in the loaded days.")
    row_h, label_w = 26, 220
    height = PAD_T + row_h * len(items) + 8
    vmax = max(v for _, v in items) or 1
    plot_w = W - label_w - 90
    parts = []
    for i, (name, value) in enumerate(items):
        y = PAD_T + i * row_h
        w = plot_w * value / vmax
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" class="label" text-anchor="end">{_e(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="{PALETTE[0]}" rx="2"><title>{_e(name)}: {_e(value)}</title></rect>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="tick">{_e(_fmt(value))}</text>')
    return (f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{_e(label)}">{"".join(parts)}</svg>'
            f'<p class="note">{_e(label)}</p>')


# -- page -----------------------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#111827;
background:#f8fafc;margin:0}
main{max-width:920px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}
.meta,.note{color:#6b7280;font-size:12px}.empty{color:#6b7280;font-style:italic}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 20px;margin:16px 0}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}
.kpi{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px}
.kpi b{display:block;font-size:22px}.kpi span{color:#6b7280;font-size:12px}
svg{width:100%;height:auto;display:block}
.grid{stroke:#e5e7eb;stroke-width:1}.tick{fill:#6b7280;font-size:11px}.axis{fill:#374151;font-size:11px}
.label{fill:#111827;font-size:12px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;margin-top:6px}
.key i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{text-align:left;padding:4px 8px;
border-bottom:1px solid #f1f5f9}th{color:#374151}td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f1f5f9;padding:10px;border-radius:6px;overflow-x:auto;font-size:11px}
.ok{color:#059669;font-weight:600}.warn{color:#b91c1c;font-weight:600}
"""


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return _empty("No rows.")
    head = "".join(f"<th>{_e(title)}</th>" for _, title in columns)
    body = []
    for r in rows:
        cells = []
        for key, _ in columns:
            v = r.get(key)
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            if isinstance(v, dt.datetime):
                v = v.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            shown = "–" if v is None else (f"{v:,}" if isinstance(v, int) else
                                           f"{v:.1%}" if key.endswith("rate") and isinstance(v, float) else v)
            cells.append(f'<td{" class=n" if numeric else ""}>{_e(shown)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kpis(data: ReportData) -> str:
    tiles = []
    latest = data.adoption[-1] if data.adoption else {}
    rate = latest.get("monthly_adoption_rate")
    tiles.append(("Daily active users", latest.get("daily_active_users"), f"on {latest.get('date', '–')}"))
    tiles.append(("Monthly active users", latest.get("monthly_active_users"),
                  f"{rate:.1f}% of {latest.get('assigned_seats')} seats" if rate is not None else "seats unknown"))
    recent = data.code_weeks[-4:]
    tiles.append(("Lines added with Claude Code", sum(w["lines_added"] for w in recent) if recent else None,
                  "last 4 weeks"))
    tiles.append(("Commits · pull requests",
                  f"{sum(w['commits'] for w in recent):,} · {sum(w['pull_requests'] for w in recent):,}"
                  if recent else None, "last 4 weeks"))
    out = []
    for title, value, note in tiles:
        shown = "–" if value is None else (f"{value:,}" if isinstance(value, int) else value)
        out.append(f'<div class="kpi"><span>{_e(title)}</span><b>{_e(shown)}</b><span>{_e(note)}</span></div>')
    return f'<div class="kpis">{"".join(out)}</div>'


def render(data: ReportData) -> str:
    a = data.adoption
    days = [str(r["date"]) for r in a]
    adoption = line_chart(days, {
        "daily active users": [r["daily_active_users"] for r in a],
        "weekly active users": [r["weekly_active_users"] for r in a],
        "monthly active users": [r["monthly_active_users"] for r in a],
        "assigned seats": [r["assigned_seats"] for r in a],
    }, "users", dashed=("assigned seats",))

    per_day: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in data.by_product:
        if r["product"] != "all":
            per_day[r["product"]][str(r["date"])] = r["daily_active_users"]
    products = line_chart(days, {p: [per_day[p].get(d) for d in days] for p in sorted(per_day)},
                          "daily active users") if per_day else _empty(
        "The API sent no per-product breakdown for the loaded days.")

    skills = hbar_chart([(r.get("skill_display_name") or r["skill_name"], int(r["user_days_last_28d"] or 0))
                         for r in data.skills], "user-days in the last 28 loaded days (a user on 3 days counts 3)")
    connectors = hbar_chart([(r.get("connector_display_name") or r["connector_name"],
                              int(r["user_days_last_28d"] or 0)) for r in data.connectors],
                            "user-days in the last 28 loaded days (a user on 3 days counts 3)")
    weeks = [str(w["week_start"]) for w in data.code_weeks]
    code_lines = bar_chart(weeks, {"lines added": [w["lines_added"] for w in data.code_weeks],
                                   "lines removed": [w["lines_removed"] for w in data.code_weeks]}, "lines of code")
    code_commits = bar_chart(weeks, {"commits": [w["commits"] for w in data.code_weeks],
                                     "pull requests": [w["pull_requests"] for w in data.code_weeks]}, "count")
    code_table = _table(list(reversed(data.code_weeks))[:8], [
        ("week_start", "week of"), ("users", "users"), ("lines_added", "lines added"),
        ("lines_removed", "lines removed"), ("commits", "commits"), ("pull_requests", "pull requests"),
        ("acceptance_rate", "tool acceptance rate")])
    projects = _table(data.projects, [("project_name", "project"), ("created_by_email", "created by"),
                                      ("active_days", "active days"), ("peak_daily_users", "peak daily users"),
                                      ("messages", "messages")])
    since = f" since the week of {data.projects[0]['since']}" if data.projects else ""
    runs = _table(data.runs, [("command", "command"), ("started_at", "started"), ("outcome", "outcome"),
                              ("requests", "requests"), ("rate_limited", "429s"), ("retries", "retries"),
                              ("latest_available_day", "latest day"), ("days_behind", "days behind")])
    health = ""
    if data.status is not None:
        verdict = (f'<p class="warn">Needs attention ({len(data.status.attention)})</p>' if data.status.attention
                   else '<p class="ok">Healthy: loaded without gaps through the latest available day.</p>')
        health = verdict + f"<pre>{_e(format_status(data.status))}</pre>"
    missing = (f'<p class="warn">Views not found: {_e(", ".join(data.missing))} — run '
               "<code>claude-analytics run</code> to create them.</p>") if data.missing else ""
    span = f"{days[0]} to {days[-1]}" if days else "no days loaded"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(data.title)}</title><style>{CSS}</style></head>
<body><main>
<h1>{_e(data.title)}</h1>
<p class="meta">{_e(data.destination)} dataset <b>{_e(data.dataset_name)}</b> · {_e(span)} ·
generated {_e(data.generated_at.strftime('%Y-%m-%d %H:%M UTC'))} by claude-analytics</p>
{missing}
{_kpis(data)}
<section id="adoption"><h2>Adoption trend</h2>{adoption}
<p class="note">Active users over the day, the 7 days and the 30 days ending on each day; dashed: assigned seats.</p>
</section>
<section id="products"><h2>Active users by product</h2>{products}</section>
<section id="skills"><h2>Top skills</h2>{skills}</section>
<section id="connectors"><h2>Top connectors</h2>{connectors}</section>
<section id="claude-code"><h2>Claude Code output per week</h2>{code_lines}{code_commits}{code_table}
<p class="note">Weeks start on Monday; a week at either end of the loaded range may be partial.</p></section>
<section id="projects"><h2>Most active chat projects{_e(since)}</h2>{projects}</section>
<section id="health"><h2>Pipeline health</h2>{health}<h2>Latest runs</h2>{runs}</section>
</main></body></html>
"""


def run_report(settings: Any, target: Target, endpoints: str | None, output: str, *,
               title: str = "Claude usage report") -> int:
    chosen = select(endpoints)
    with read_only(target) as warehouse:
        data = gather(warehouse, chosen, settings, title=title)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(render(data))
    print(f"report: wrote {output} ({len(data.adoption)} days, {len(data.skills)} skills, "
          f"{len(data.connectors)} connectors, {len(data.code_weeks)} weeks of Claude Code)")
    return 0
