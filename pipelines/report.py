"""`claude-analytics report`: one self-contained HTML file with charts, built from the warehouse's views.

No JavaScript, no fonts, no images, no network: charts are inline SVG drawn here, styles are inline CSS,
so the file opens anywhere (a mail attachment, a CI artifact, an air-gapped laptop) and prints cleanly.

Sections: headline figures, adoption trend (daily/weekly/monthly active users and seats), active users by
product, top skills, top connectors, Claude Code output per week, most active chat projects, spend (when the
cost & usage reports are loaded: month to date against list price, spend per product and per model over time,
the top users by spend, cost per active user), org units (when an org chart is loaded: adoption and spend
ranked per org unit, and a heat map of adoption per org unit and week), and the pipeline's health (the
`status` checks and the latest runs from `pipeline_runs`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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
    # spend: None when the cost & usage reports are not loaded (the section is left out)
    daily_spend: list[dict[str, Any]] | None = None  # v_daily_spend
    top_spenders: list[dict[str, Any]] = field(default_factory=list)  # v_user_spend_monthly, newest month, top N
    cost_per_user: list[dict[str, Any]] = field(default_factory=list)  # v_cost_per_active_user
    # org units: None when no org chart is loaded
    org_adoption: list[dict[str, Any]] | None = None  # v_org_adoption_weekly
    org_spend: list[dict[str, Any]] | None = None  # v_org_spend_monthly
    org_unit_attribute: str = "department"


def _rows(warehouse: Warehouse, view: str, data: ReportData, query: str) -> list[dict[str, Any]]:
    if not warehouse.exists(view):
        data.missing.append(view)
        return []
    return warehouse.query(query.format(t=warehouse.table(view), c=warehouse.column))


def _optional_rows(
    warehouse: Warehouse, view: str, data: ReportData, query: str, source: str
) -> list[dict[str, Any]] | None:
    """A view of an optional section: None when its source table was never loaded (the section is left out),
    and a missing view only when its source is there (then the view should have been created)."""
    if not warehouse.exists(view):
        if warehouse.exists(source):
            data.missing.append(view)
            return []
        return None
    return warehouse.query(query.format(t=warehouse.table(view), c=warehouse.column))


def gather(
    warehouse: Warehouse,
    endpoints: list,
    settings: Any,
    *,
    title: str = "Claude usage report",
    today: dt.date | None = None,
) -> ReportData:
    data = ReportData(title, dt.datetime.now(dt.timezone.utc), warehouse.destination, warehouse.dataset_name)
    c = warehouse.column
    data.adoption = _rows(warehouse, "v_daily_adoption", data, f"SELECT * FROM {{t}} ORDER BY {c('date')}")
    data.by_product = _rows(
        warehouse, "v_daily_active_users_by_product", data, f"SELECT * FROM {{t}} ORDER BY {c('date')}, {c('product')}"
    )
    data.skills = _rows(
        warehouse,
        "v_top_skills",
        data,
        f"SELECT * FROM {{t}} WHERE {c('popularity_rank')} <= {TOP_N} ORDER BY {c('popularity_rank')}",
    )
    data.connectors = _rows(
        warehouse,
        "v_top_connectors",
        data,
        f"SELECT * FROM {{t}} WHERE {c('popularity_rank')} <= {TOP_N} ORDER BY {c('popularity_rank')}",
    )
    code = _rows(warehouse, "v_claude_code_weekly_output", data, "SELECT * FROM {t}")
    data.code_weeks = weekly_code_totals(code)
    projects = _rows(warehouse, "v_chat_project_activity", data, "SELECT * FROM {t}")
    data.projects = recent_projects(projects)
    gather_spend(warehouse, data)
    gather_org_units(warehouse, data, getattr(settings, "org_unit_attribute", None) or "department")
    if warehouse.exists(RUN_LOG_TABLE):
        data.runs = sorted(
            warehouse.query(f"SELECT * FROM {warehouse.table(RUN_LOG_TABLE)}"),
            key=lambda r: str(r.get("started_at")),
            reverse=True,
        )[:10]
    data.status = read_status(warehouse, endpoints, settings, today=today)
    return data


def gather_spend(warehouse: Warehouse, data: ReportData) -> None:
    c = warehouse.column
    data.daily_spend = _optional_rows(
        warehouse, "v_daily_spend", data, f"SELECT * FROM {{t}} ORDER BY {c('date')}", "cost_report"
    )
    months = _optional_rows(warehouse, "v_user_spend_monthly", data, "SELECT * FROM {t}", "user_cost_report") or []
    data.top_spenders = top_spenders(months)
    data.cost_per_user = (
        _optional_rows(
            warehouse, "v_cost_per_active_user", data, f"SELECT * FROM {{t}} ORDER BY {c('week_start')}", "cost_report"
        )
        or []
    )


def gather_org_units(warehouse: Warehouse, data: ReportData, org_unit_attribute: str) -> None:
    c = warehouse.column
    data.org_unit_attribute = org_unit_attribute
    data.org_adoption = _optional_rows(
        warehouse, "v_org_adoption_weekly", data, f"SELECT * FROM {{t}} ORDER BY {c('week_start')}", "org_chart"
    )
    data.org_spend = _optional_rows(
        warehouse, "v_org_spend_monthly", data, f"SELECT * FROM {{t}} ORDER BY {c('month_start')}", "org_chart"
    )


def top_spenders(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The users who spent most in the newest month loaded."""
    if not rows:
        return []
    newest = max(r["month_start"] for r in rows)
    ranked = sorted(
        (r for r in rows if r["month_start"] == newest and r.get("amount") is not None),
        key=lambda r: (-r["amount"], r["user_id"]),
    )
    return [{**r, "user": r.get("user_email") or r.get("user_name") or r["user_id"]} for r in ranked[:TOP_N]]


def month_to_date(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Spend and list spend of the newest month in v_daily_spend (through its newest day), and of the month before."""
    newest = max(r["date"] for r in rows)
    first = newest.replace(day=1)
    before = (first - dt.timedelta(days=1)).replace(day=1)

    def total(column: str, start: dt.date, end: dt.date) -> Decimal:
        return sum((r[column] or Decimal(0) for r in rows if start <= r["date"] < end), Decimal(0))

    return {
        "through": newest,
        "month": first,
        "amount": total("amount", first, newest + dt.timedelta(days=1)),
        "list_amount": total("list_amount", first, newest + dt.timedelta(days=1)),
        "previous_month": before,
        "previous_amount": total("amount", before, first),
        "previous_loaded": any(r["date"] <= before for r in rows),
    }


def spend_over_time(
    rows: list[dict[str, Any]], dimension: str, top: int = len(PALETTE)
) -> tuple[list[str], dict[str, Sequence[float | None]]]:
    """(days, {product or model: dollars per day}) for the `top` biggest spenders of that dimension; a day
    without a row for one spent nothing on it."""
    days = sorted({r["date"] for r in rows})
    per: dict[str, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        per[r[dimension]][r["date"]] += float(r["amount"] or 0)
    biggest = sorted(per, key=lambda k: (-sum(per[k].values()), k))[:top]
    return [str(d) for d in days], {k: [per[k].get(d, 0.0) for d in days] for k in biggest}


def last_complete(periods: Sequence[dt.date], length_days: int, newest_day: dt.date | None) -> dt.date | None:
    """The newest period (a week) that ends on or before the newest loaded day, else the newest one."""
    if not periods:
        return None
    complete = [p for p in periods if newest_day is None or p + dt.timedelta(days=length_days - 1) <= newest_day]
    return max(complete or periods)


def weekly_code_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Organization-wide Claude Code output per week from the per-user weekly rows."""
    weeks: dict[Any, dict[str, Any]] = {}
    for r in rows:
        w = weeks.setdefault(
            r["week_start"],
            {
                "week_start": r["week_start"],
                "users": 0,
                "commits": 0,
                "pull_requests": 0,
                "lines_added": 0,
                "lines_removed": 0,
                "accepted": 0,
                "rejected": 0,
            },
        )
        w["users"] += 1
        for key, source in (
            ("commits", "commits"),
            ("pull_requests", "pull_requests"),
            ("lines_added", "lines_added"),
            ("lines_removed", "lines_removed"),
            ("accepted", "tool_suggestions_accepted"),
            ("rejected", "tool_suggestions_rejected"),
        ):
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
        p = totals.setdefault(
            r["project_id"],
            {
                "project_id": r["project_id"],
                "project_name": r["project_name"],
                "created_by_email": r.get("created_by_email"),
                "active_days": 0,
                "messages": 0,
                "peak_daily_users": 0,
            },
        )
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
        return (
            f"{value / 1000:.0f}k"
            if float(value / 1000).is_integer() or abs(value) >= 100_000
            else f"{value / 1000:.1f}k"
        )
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
    parts.append(
        f'<text x="12" y="{PAD_T + 4}" class="axis" transform="rotate(-90 12 {PAD_T + 4})" '
        f'text-anchor="end">{_e(label)}</text>'
    )
    return parts


def _legend(names: Sequence[str], colors: Sequence[str]) -> str:
    items = "".join(f'<span class="key"><i style="background:{c}"></i>{_e(n)}</span>' for n, c in zip(names, colors))
    return f'<div class="legend">{items}</div>'


def _empty(message: str) -> str:
    return f'<p class="empty">{_e(message)}</p>'


def line_chart(
    x: Sequence[Any], series: dict[str, Sequence[float | None]], label: str, dashed: Sequence[str] = ()
) -> str:
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
        parts.append(
            f'<text x="{px(i):.1f}" y="{H - PAD_B + 18}" class="tick" text-anchor="{anchor}">{_e(x[i])}</text>'
        )
    colors = []
    for index, (name, ys) in enumerate(series.items()):
        color = PALETTE[index % len(PALETTE)]
        colors.append(color)
        segments: list[list[str]] = []
        current: list[str] = []
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
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" '
                    f'stroke-width="2"{dash}><title>{_e(name)}</title></polyline>'
                )
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
            parts.append(
                f'<rect x="{x0 + si * bar_w:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colors[si]}"><title>{_e(category)} {_e(name)}: '
                f"{_e(_fmt(v))}</title></rect>"
            )
        if ci % step == 0:
            parts.append(
                f'<text x="{x0 + group_w * 0.4:.1f}" y="{H - PAD_B + 18}" class="tick" '
                f'text-anchor="middle">{_e(category)}</text>'
            )
    svg = f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{_e(label)}">{"".join(parts)}</svg>'
    return svg + _legend(list(series), colors)


def hbar_chart(items: Sequence[tuple[str, float]], label: str, fmt: Callable[[float], str] | None = None) -> str:
    """Horizontal bars, largest first: a ranking (`fmt` writes a bar's value; default: a short number)."""
    fmt = fmt or _fmt
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
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}" rx="2"><title>{_e(name)}: {_e(fmt(value))}</title></rect>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="tick">{_e(fmt(value))}</text>')
    return (
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{_e(label)}">{"".join(parts)}</svg>'
        f'<p class="note">{_e(label)}</p>'
    )


def _blend(share: float) -> str:
    """White → the palette's blue, by share (0–1)."""
    share = min(1.0, max(0.0, share))
    white, blue = (255, 255, 255), (0x25, 0x63, 0xEB)
    return "#" + "".join(f"{round(w + (b - w) * share):02x}" for w, b in zip(white, blue))


def heat_map(
    rows: Sequence[str],
    columns: Sequence[str],
    values: dict[tuple[str, str], float | None],
    label: str,
    vmax: float = 100.0,
) -> str:
    """A grid of cells (row × column) shaded by value from white (0) to blue (vmax); no value: grey."""
    if not rows or not columns:
        return _empty("No data loaded yet.")
    label_w, head_h, row_h = 200, 28, 24
    cell_w = (W - label_w - PAD_R) / len(columns)
    height = head_h + row_h * len(rows) + 8
    parts = []
    step = max(1, math.ceil(len(columns) / 10))
    for ci, column in enumerate(columns):
        if ci % step == 0:
            parts.append(
                f'<text x="{label_w + ci * cell_w + cell_w / 2:.1f}" y="{head_h - 10}" class="tick" '
                f'text-anchor="middle">{_e(column)}</text>'
            )
    for ri, row in enumerate(rows):
        y = head_h + ri * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" class="label" text-anchor="end">{_e(row)}</text>')
        for ci, column in enumerate(columns):
            value = values.get((row, column))
            fill = "#e5e7eb" if value is None else _blend(value / vmax)
            shown = "no value" if value is None else f"{value:.0f}%"
            parts.append(
                f'<rect x="{label_w + ci * cell_w:.1f}" y="{y}" width="{max(1.0, cell_w - 2):.1f}" '
                f'height="{row_h - 2}" fill="{fill}">'
                f"<title>{_e(row)}, {_e(column)}: {_e(shown)}</title></rect>"
            )
            if value is not None and cell_w >= 34:
                color = "#ffffff" if value / vmax > 0.55 else "#111827"
                parts.append(
                    f'<text x="{label_w + ci * cell_w + cell_w / 2 - 1:.1f}" y="{y + 16}" class="cell" '
                    f'fill="{color}" text-anchor="middle">{value:.0f}</text>'
                )
    svg = f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{_e(label)}">{"".join(parts)}</svg>'
    scale = "".join(f'<span class="key"><i style="background:{_blend(k / 4)}"></i>{k * 25}%</span>' for k in range(5))
    return (
        svg + f'<div class="legend">{scale}<span class="key"><i style="background:#e5e7eb"></i>no headcount</span>'
        f'</div><p class="note">{_e(label)}</p>'
    )


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
.cell{font-size:10px}
"""


def money(value: Any) -> str:
    """US dollars to the cent: $1,234.57 (– for none)."""
    return "–" if value is None else f"${Decimal(value):,.2f}"


def percent(value: Any) -> str:
    """A percentage (0–100) as 45.2% (– for none)."""
    return "–" if value is None else f"{float(value):.1f}%"


def _shown(key: str, v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(v, Decimal):
        return money(v)  # the only decimals the views hold are US dollars
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if key.endswith("rate") and isinstance(v, float):
        return f"{v:.1%}"
    return v


def _table(
    rows: list[dict[str, Any]], columns: list[tuple[str, str]], formats: dict[str, Callable[[Any], str]] | None = None
) -> str:
    """An HTML table of `rows`; `formats` writes a column's values its own way (default: by type)."""
    if not rows:
        return _empty("No rows.")
    formats = formats or {}
    head = "".join(f"<th>{_e(title)}</th>" for _, title in columns)
    body = []
    for r in rows:
        cells = []
        for key, _ in columns:
            v = r.get(key)
            numeric = isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)
            shown = "–" if v is None else formats[key](v) if key in formats else _shown(key, v)
            cells.append(f"<td{' class=n' if numeric else ''}>{_e(shown)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kpis(data: ReportData) -> str:
    latest = data.adoption[-1] if data.adoption else {}
    rate = latest.get("monthly_adoption_rate")
    recent = data.code_weeks[-4:]
    tiles = [
        ("Daily active users", latest.get("daily_active_users"), f"on {latest.get('date', '–')}"),
        (
            "Monthly active users",
            latest.get("monthly_active_users"),
            f"{rate:.1f}% of {latest.get('assigned_seats')} seats" if rate is not None else "seats unknown",
        ),
        ("Lines added with Claude Code", sum(w["lines_added"] for w in recent) if recent else None, "last 4 weeks"),
        (
            "Commits · pull requests",
            f"{sum(w['commits'] for w in recent):,} · {sum(w['pull_requests'] for w in recent):,}" if recent else None,
            "last 4 weeks",
        ),
    ]
    return _kpi_tiles(
        [
            (title, "–" if value is None else (f"{value:,}" if isinstance(value, int) else value), note)
            for title, value, note in tiles
        ]
    )


def _kpi_tiles(tiles: Sequence[tuple[str, str, str]]) -> str:
    out = [f'<div class="kpi"><span>{_e(t)}</span><b>{_e(v)}</b><span>{_e(n)}</span></div>' for t, v, n in tiles]
    return f'<div class="kpis">{"".join(out)}</div>'


def spend_section(data: ReportData) -> str:
    """Month to date against list price, spend per product and model per day, top users, cost per active user."""
    if data.daily_spend is None:
        return ""
    if not data.daily_spend:
        return f'<section id="spend"><h2>Spend</h2>{_empty("No spend loaded yet.")}</section>'
    mtd = month_to_date(data.daily_spend)
    discount = (1 - float(mtd["amount"]) / float(mtd["list_amount"])) * 100 if mtd["list_amount"] else None
    previous = money(mtd["previous_amount"]) if mtd["previous_loaded"] else "–"
    tiles = _kpi_tiles(
        [
            ("Spend this month", money(mtd["amount"]), f"{mtd['month']:%B %Y}, through {mtd['through']}"),
            ("At list price", money(mtd["list_amount"]), "same days"),
            ("Discount", percent(discount), "1 − spend ÷ list price"),
            (
                "Spend last month",
                previous,
                f"{mtd['previous_month']:%B %Y}" if mtd["previous_loaded"] else "not loaded",
            ),
        ]
    )
    days, by_product = spend_over_time(data.daily_spend, "product")
    _, by_model = spend_over_time(data.daily_spend, "model")
    spenders = _table(
        data.top_spenders,
        [
            ("user", "user"),
            ("amount", "spend"),
            ("list_amount", "at list price"),
            ("total_tokens", "tokens"),
            ("requests", "requests"),
            ("products_used", "products"),
        ],
    )
    month = f" in {data.top_spenders[0]['month_start']:%B %Y}" if data.top_spenders else ""
    return f"""<section id="spend"><h2>Spend</h2>{tiles}
<h2>Spend per product per day</h2>{line_chart(days, by_product, "US dollars")}
<h2>Spend per model per day</h2>{line_chart(days, by_model, "US dollars")}
<p class="note">Organization-wide, after negotiated discounts (cost_report); (unattributed) is traffic the API ties
to no product or model (API keys).</p>
<h2>Top {TOP_N} users by spend{_e(month)}</h2>{spenders}
<h2>Cost per active user</h2>{cost_per_user_part(data.cost_per_user)}</section>"""


def cost_per_user_part(rows: list[dict[str, Any]], weeks: int = 8) -> str:
    """Per week, each product's spend ÷ its active users (products without a per-user measure left out)."""
    measured = [r for r in rows if r.get("cost_per_active_user") is not None]
    if not measured:
        return _empty("No week with both spend and active users loaded.")
    starts = sorted({r["week_start"] for r in measured})[-weeks:]
    products = sorted({r["product"] for r in measured if r["week_start"] in starts})
    value = {(r["week_start"], r["product"]): float(r["cost_per_active_user"]) for r in measured}
    chart = bar_chart(
        [str(w) for w in starts],
        {p: [value.get((w, p), 0.0) for w in starts] for p in products},
        "US dollars per active user",
    )
    latest = sorted((r for r in rows if r["week_start"] == starts[-1]), key=lambda r: r["product"])
    table = _table(
        latest,
        [
            ("product", "product"),
            ("amount", "spend"),
            ("active_users", "active users"),
            ("cost_per_active_user", "per active user"),
        ],
    )
    return (
        f'{chart}<p class="note">Weeks start on Monday. Active users from user_activity (chat, Claude Code, '
        f"Cowork, Office agent, Claude Design); a partial week at either end reads low.</p>"
        f"<h2>Week of {_e(starts[-1])}</h2>{table}"
    )


def org_section(data: ReportData) -> str:
    """Adoption and spend ranked per org unit, and adoption per org unit and week as a heat map."""
    if data.org_adoption is None and data.org_spend is None:
        return ""
    attribute = data.org_unit_attribute.replace("_", " ")
    parts = [f'<section id="org-units"><h2>By {_e(attribute)}</h2>']
    if data.org_adoption:
        parts.append(org_adoption_part(data))
    if data.org_spend:
        through = month_to_date(data.daily_spend)["through"] if data.daily_spend else None
        parts.append(org_spend_part(data.org_spend, through))
    if not data.org_adoption and not data.org_spend:
        parts.append(_empty("Nothing loaded for the org chart's people yet."))
    parts.append(
        '<p class="note">People are grouped by the org chart (org_unit_attribute); those it does not list '
        "are under (not in org chart), without a headcount.</p></section>"
    )
    return "".join(parts)


def org_adoption_part(data: ReportData) -> str:
    rows = data.org_adoption or []
    newest_day = max((r["date"] for r in data.adoption), default=None)
    weeks = sorted({r["week_start"] for r in rows})
    week = last_complete(weeks, 7, newest_day)
    ranked = sorted(
        (r for r in rows if r["week_start"] == week and r.get("adoption_rate") is not None),
        key=lambda r: (-r["adoption_rate"], r["org_unit"]),
    )
    ranking = hbar_chart(
        [(r["org_unit"], float(r["adoption_rate"])) for r in ranked],
        f"active users ÷ headcount, week of {week}",
        fmt=percent,
    )
    units = sorted({r["org_unit"] for r in rows if r.get("headcount")})
    recent = weeks[-16:]
    values = {(r["org_unit"], str(r["week_start"])): r.get("adoption_rate") for r in rows}
    grid = heat_map(units, [str(w) for w in recent], values, "weekly adoption: active users ÷ headcount × 100")
    return f"<h2>Adoption, week of {_e(week)}</h2>{ranking}<h2>Adoption per week</h2>{grid}"


def org_spend_part(rows: list[dict[str, Any]], through: dt.date | None = None) -> str:
    """The latest month's spend per org unit; `through`: the last day loaded, when that month is not complete."""
    month = max(r["month_start"] for r in rows)
    ranked = sorted((r for r in rows if r["month_start"] == month), key=lambda r: (-r["amount"], r["org_unit"]))
    ranking = hbar_chart(
        [(r["org_unit"], float(r["amount"])) for r in ranked], f"spend in {month:%B %Y}, US dollars", fmt=money
    )
    table = _table(
        ranked,
        [
            ("org_unit", "org unit"),
            ("headcount", "headcount"),
            ("users_with_usage", "users with usage"),
            ("amount", "spend"),
            ("amount_per_head", "spend per head"),
            ("total_tokens", "tokens"),
        ],
    )
    partial = through is not None and (through + dt.timedelta(days=1)).month == through.month == month.month
    to_date = f" to date (through {through})" if partial else ""
    return f"<h2>Spend, {_e(f'{month:%B %Y}{to_date}')}</h2>{ranking}{table}"


def render(data: ReportData) -> str:
    a = data.adoption
    days = [str(r["date"]) for r in a]
    adoption = line_chart(
        days,
        {
            "daily active users": [r["daily_active_users"] for r in a],
            "weekly active users": [r["weekly_active_users"] for r in a],
            "monthly active users": [r["monthly_active_users"] for r in a],
            "assigned seats": [r["assigned_seats"] for r in a],
        },
        "users",
        dashed=("assigned seats",),
    )

    per_day: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in data.by_product:
        if r["product"] != "all":
            per_day[r["product"]][str(r["date"])] = r["daily_active_users"]
    products = (
        line_chart(days, {p: [per_day[p].get(d) for d in days] for p in sorted(per_day)}, "daily active users")
        if per_day
        else _empty("The API sent no per-product breakdown for the loaded days.")
    )

    skills = hbar_chart(
        [(r.get("skill_display_name") or r["skill_name"], int(r["user_days_last_28d"] or 0)) for r in data.skills],
        "user-days in the last 28 loaded days (a user on 3 days counts 3)",
    )
    connectors = hbar_chart(
        [
            (r.get("connector_display_name") or r["connector_name"], int(r["user_days_last_28d"] or 0))
            for r in data.connectors
        ],
        "user-days in the last 28 loaded days (a user on 3 days counts 3)",
    )
    weeks = [str(w["week_start"]) for w in data.code_weeks]
    code_lines = bar_chart(
        weeks,
        {
            "lines added": [w["lines_added"] for w in data.code_weeks],
            "lines removed": [w["lines_removed"] for w in data.code_weeks],
        },
        "lines of code",
    )
    code_commits = bar_chart(
        weeks,
        {
            "commits": [w["commits"] for w in data.code_weeks],
            "pull requests": [w["pull_requests"] for w in data.code_weeks],
        },
        "count",
    )
    code_table = _table(
        list(reversed(data.code_weeks))[:8],
        [
            ("week_start", "week of"),
            ("users", "users"),
            ("lines_added", "lines added"),
            ("lines_removed", "lines removed"),
            ("commits", "commits"),
            ("pull_requests", "pull requests"),
            ("acceptance_rate", "tool acceptance rate"),
        ],
    )
    projects = _table(
        data.projects,
        [
            ("project_name", "project"),
            ("created_by_email", "created by"),
            ("active_days", "active days"),
            ("peak_daily_users", "peak daily users"),
            ("messages", "messages"),
        ],
    )
    since = f" since the week of {data.projects[0]['since']}" if data.projects else ""
    runs = _table(
        data.runs,
        [
            ("command", "command"),
            ("started_at", "started"),
            ("outcome", "outcome"),
            ("requests", "requests"),
            ("rate_limited", "429s"),
            ("retries", "retries"),
            ("latest_available_day", "latest day"),
            ("days_behind", "days behind"),
        ],
    )
    health = ""
    if data.status is not None:
        verdict = (
            f'<p class="warn">Needs attention ({len(data.status.attention)})</p>'
            if data.status.attention
            else '<p class="ok">Healthy: loaded without gaps through the latest available day.</p>'
        )
        health = verdict + f"<pre>{_e(format_status(data.status))}</pre>"
    missing = (
        (
            f'<p class="warn">Views not found: {_e(", ".join(data.missing))} — run '
            "<code>claude-analytics run</code> to create them.</p>"
        )
        if data.missing
        else ""
    )
    span = f"{days[0]} to {days[-1]}" if days else "no days loaded"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(data.title)}</title><style>{CSS}</style></head>
<body><main>
<h1>{_e(data.title)}</h1>
<p class="meta">{_e(data.destination)} dataset <b>{_e(data.dataset_name)}</b> · {_e(span)} ·
generated {_e(data.generated_at.strftime("%Y-%m-%d %H:%M UTC"))} by claude-analytics</p>
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
{spend_section(data)}
{org_section(data)}
<section id="health"><h2>Pipeline health</h2>{health}<h2>Latest runs</h2>{runs}</section>
</main></body></html>
"""


def run_report(
    settings: Any, target: Target, endpoints: str | None, output: str, *, title: str = "Claude usage report"
) -> int:
    chosen = select(endpoints)
    with read_only(target) as warehouse:
        data = gather(warehouse, chosen, settings, title=title)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(render(data))
    print(
        f"report: wrote {output} ({len(data.adoption)} days, {len(data.skills)} skills, "
        f"{len(data.connectors)} connectors, {len(data.code_weeks)} weeks of Claude Code)"
    )
    return 0
