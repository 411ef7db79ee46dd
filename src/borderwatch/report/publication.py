"""Headline figures and charts of one published version, as a single self-contained HTML file.

Reads only the published DuckDB file (the marts BI reads, privacy rules already applied: suppressed cells
are null and stay null; sums skip them and the page says how many were left out). Charts are inline SVG
drawn by matplotlib with text kept as text, no scripts and no external resources, so the page opens from
disk on a closed network. The reconciliation section appears when ``marts.fct_reconciliation`` exists.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from borderwatch import duck

RECONCILIATION = "fct_reconciliation"
_CATEGORY_COLUMNS = ("status", "finding", "finding_type", "outcome", "severity", "rule", "kind")
_FINDING_COLUMNS = (
    "check_date",
    "rule",
    "subject",
    "nationality_iso3",
    "value_left",
    "value_right",
    "delta",
    "status",
    "detail",
)
_MAX_FINDING_ROWS = 25


class ReportError(RuntimeError):
    """The report could not be drawn (the data itself is unaffected)."""


@dataclass
class Figure:
    """One headline number; ``value`` None means the published data has none (shown as a dash)."""

    key: str
    label: str
    value: int | None
    note: str = ""


@dataclass
class Chart:
    """One bar or line chart of a published mart, with the numbers it draws."""

    key: str
    title: str
    y_label: str
    x: list[str]
    y: list[int]
    kind: str = "bar"
    note: str = ""


@dataclass
class Findings:
    """Rows of ``marts.fct_reconciliation`` (first few) and counts by its category column."""

    total: int
    columns: list[str]
    rows: list[tuple[Any, ...]]
    by_category: Chart | None = None


@dataclass
class ReportData:
    version: str
    created_at: str
    period: tuple[str | None, str | None]
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    findings: Findings | None = None


def render_publication_report(db_path: Path, out: Path, *, version: str, created_at: str) -> Path:
    """Gather the figures from ``db_path`` and write ``out`` (one HTML file)."""
    data = gather_report(db_path, version=version, created_at=created_at)
    out.write_text(render_html(data), encoding="utf-8")
    return out


def gather_report(db_path: Path, *, version: str, created_at: str) -> ReportData:
    """Every number the report shows, read from the published marts."""
    con = duck.connect(db_path, read_only=True)
    try:
        columns = _columns(con)
        data = ReportData(version=version, created_at=created_at, period=_period(con, columns))
        _raids(con, columns, data)
        _deportations(con, columns, data)
        _repatriations(con, columns, data)
        _assistance(con, columns, data)
        data.findings = _findings(con, columns)
        return data
    finally:
        con.close()


# ------------------------------------------------------------------------------------------------ queries


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def _has(columns: dict[str, set[str]], table: str, *needed: str) -> bool:
    return table in columns and set(needed) <= columns[table]


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    return row if row is not None else ()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _period(con: duckdb.DuckDBPyConnection, columns: dict[str, set[str]]) -> tuple[str | None, str | None]:
    parts = [
        f"select min({col}) as lo, max({col}) as hi from marts.{table}"
        for table, col in (
            ("fct_raids", "date_start"),
            ("fct_deportations", "handover_date"),
            ("fct_repatriations", "movement_date"),
        )
        if _has(columns, table, col)
    ]
    if not parts:
        return None, None
    lo, hi = _one(con, f"select min(lo), max(hi) from ({' union all '.join(parts)})")
    return (str(lo) if lo else None, str(hi) if hi else None)


def _monthly(
    con: duckdb.DuckDBPyConnection, table: str, date_col: str, value_col: str, where: str = "true"
) -> tuple[list[str], list[int]]:
    """Sum per calendar month, every month of the span shown (a month without records draws as 0)."""
    rows = con.execute(
        f"with per_month as (select date_trunc('month', {date_col})::timestamp as month, "
        f"sum({value_col}) as total from marts.{table} where {date_col} is not null and {where} group by 1), "
        "span as (select unnest(generate_series(min(month), max(month), interval 1 month)) as month "
        "from per_month) "
        "select strftime(span.month, '%Y-%m'), coalesce(per_month.total, 0) "
        "from span left join per_month using (month) order by 1"
    ).fetchall()
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def _nulls(con: duckdb.DuckDBPyConnection, table: str, column: str, where: str = "true") -> int:
    return int(_one(con, f"select count(*) from marts.{table} where {column} is null and {where}")[0])


def _suppressed_note(count: int) -> str:
    return f"{count:,} suppressed or unreported cells are left out, never estimated." if count else ""


def _raids(con: duckdb.DuckDBPyConnection, columns: dict[str, set[str]], data: ReportData) -> None:
    if "fct_raids" not in columns:
        return
    count = _one(con, "select count(*) from marts.fct_raids")[0]
    data.figures.append(Figure("raids", "Raid operations", int(count)))
    if _has(columns, "fct_raids", "persons_detained"):
        total = _one(con, "select sum(persons_detained) from marts.fct_raids")[0]
        note = _suppressed_note(_nulls(con, "fct_raids", "persons_detained"))
        data.figures.append(Figure("raids_detained", "People detained in raids", _int(total), note))
        if _has(columns, "fct_raids", "date_start"):
            x, y = _monthly(con, "fct_raids", "date_start", "persons_detained")
            data.charts.append(
                Chart("raids_monthly", "People detained in raids, by month", "people", x, y, note=note)
            )
    if _has(columns, "fct_raids", "persons_rescued"):
        total = _one(con, "select sum(persons_rescued) from marts.fct_raids")[0]
        note = _suppressed_note(_nulls(con, "fct_raids", "persons_rescued"))
        data.figures.append(Figure("raids_rescued", "People rescued in raids", _int(total), note))


def _deportations(con: duckdb.DuckDBPyConnection, columns: dict[str, set[str]], data: ReportData) -> None:
    if not _has(columns, "fct_deportations", "persons_total"):
        return
    total = _one(con, "select sum(persons_total) from marts.fct_deportations")[0]
    note = _suppressed_note(_nulls(con, "fct_deportations", "persons_total"))
    data.figures.append(Figure("deportations", "People deported", _int(total), note))
    if _has(columns, "fct_deportations", "handover_date"):
        x, y = _monthly(con, "fct_deportations", "handover_date", "persons_total")
        data.charts.append(
            Chart("deportations_monthly", "People deported, by month of handover", "people", x, y, note=note)
        )


def _repatriations(con: duckdb.DuckDBPyConnection, columns: dict[str, set[str]], data: ReportData) -> None:
    if not _has(columns, "fct_repatriations", "persons"):
        return
    executed = _has(columns, "fct_repatriations", "status")
    where = "status = 'executed'" if executed else "true"
    total = _one(con, f"select sum(persons) from marts.fct_repatriations where {where}")[0]
    note = _suppressed_note(_nulls(con, "fct_repatriations", "persons", where))
    label = "People repatriated (executed movements)" if executed else "People repatriated"
    data.figures.append(Figure("repatriations", label, _int(total), note))
    if _has(columns, "fct_repatriations", "movement_date"):
        x, y = _monthly(con, "fct_repatriations", "movement_date", "persons", where)
        data.charts.append(Chart("repatriations_monthly", f"{label}, by month", "people", x, y, note=note))


def _assistance_totals(columns: dict[str, set[str]]) -> tuple[str, str] | None:
    """Where the stated all-nationality totals live: a totals mart, else the snapshots' total rows."""
    if _has(columns, "fct_assistance_totals", "as_of_date", "persons_assisted_cumulative"):
        return "fct_assistance_totals", "true"
    table = "fct_assistance_snapshots"
    if not _has(columns, table, "as_of_date", "persons_assisted_cumulative"):
        return None
    if "is_total" in columns[table]:
        return table, "is_total"
    if "nationality_iso3" in columns[table]:
        return table, "nationality_iso3 = 'ALL'"
    return None


def _assistance(con: duckdb.DuckDBPyConnection, columns: dict[str, set[str]], data: ReportData) -> None:
    source = _assistance_totals(columns)
    if source is None:
        return
    table, total_rows = source
    rows = con.execute(
        f"select strftime(as_of_date, '%Y-%m-%d'), sum(persons_assisted_cumulative) from marts.{table} "
        f"where {total_rows} group by as_of_date order by as_of_date"
    ).fetchall()
    if not rows:
        return
    latest_date, latest = rows[-1]
    data.figures.append(Figure("assistance", f"People assisted (cumulative to {latest_date})", _int(latest)))
    if _has(columns, table, "persons_repatriated_cumulative"):
        repatriated = _one(
            con,
            f"select sum(persons_repatriated_cumulative) from marts.{table} "
            f"where {total_rows} and as_of_date = (select max(as_of_date) from marts.{table})",
        )[0]
        data.figures.append(
            Figure(
                "assistance_repatriated", f"Assisted people repatriated (to {latest_date})", _int(repatriated)
            )
        )
    data.charts.append(
        Chart(
            "assistance_cumulative",
            "People assisted, cumulative, by reporting date",
            "people",
            [r[0] for r in rows],
            [int(r[1] or 0) for r in rows],
            kind="line",
        )
    )


def _findings(con: duckdb.DuckDBPyConnection, columns: dict[str, set[str]]) -> Findings | None:
    """The reconciliation mart when it exists: counts by status, then the open findings first."""
    if RECONCILIATION not in columns:
        return None
    present = columns[RECONCILIATION]
    shown = [c for c in _FINDING_COLUMNS if c in present] or sorted(present)
    category = next((c for c in _CATEGORY_COLUMNS if c in present), None)
    keys = [f"{_ident(category)} in ('agree', 'ok', 'pass')"] if category else []
    keys.append("check_date desc" if "check_date" in present else "1")
    cursor = con.execute(
        f"select {', '.join(map(_ident, shown))} from marts.{RECONCILIATION} "
        f"order by {', '.join(keys)} limit {_MAX_FINDING_ROWS}"
    )
    rows = cursor.fetchall()
    total = int(_one(con, f"select count(*) from marts.{RECONCILIATION}")[0])
    chart = None
    if category:
        counts = con.execute(
            f"select coalesce(\"{category}\"::varchar, '(none)'), count(*) from marts.{RECONCILIATION} "
            "group by 1 order by 2 desc, 1"
        ).fetchall()
        chart = Chart(
            "reconciliation_findings",
            f"Reconciliation findings by {category.replace('_', ' ')}",
            "findings",
            [str(r[0]) for r in counts],
            [int(r[1]) for r in counts],
        )
    return Findings(total=total, columns=shown, rows=rows, by_category=chart)


# ------------------------------------------------------------------------------------------------ drawing


def chart_svg(chart: Chart) -> str:
    """The chart as an inline ``<svg>`` element (text stays text, no ids that clash between charts)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure as MplFigure

    with rc_context({"svg.fonttype": "none", "svg.hashsalt": chart.key, "font.size": 9}):
        fig = MplFigure(figsize=(7.2, 2.8), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        positions = list(range(len(chart.x)))
        if chart.kind == "line":
            ax.plot(positions, chart.y, marker="o", color="#1f5f8b")
        else:
            ax.bar(positions, chart.y, color="#1f5f8b")
        step = max(1, len(positions) // 12)
        ax.set_xticks(positions[::step], chart.x[::step], rotation=45, ha="right")
        ax.set_ylabel(chart.y_label)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    start = svg.find("<svg")
    if start < 0:
        raise ReportError(f"chart {chart.key}: matplotlib produced no SVG")
    svg = svg[start:]
    svg = re.sub(r'\sid="([^"]+)"', lambda m: f' id="{chart.key}-{m.group(1)}"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{chart.key}-{m.group(2)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{chart.key}-{m.group(1)})", svg)
    return svg.replace("<svg", f'<svg role="img" aria-label="{html.escape(chart.title)}"', 1)


def _fmt(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _figure_html(figure: Figure) -> str:
    note = f'<p class="note">{html.escape(figure.note)}</p>' if figure.note else ""
    return (
        f'<div class="figure" data-figure="{figure.key}"><p class="label">{html.escape(figure.label)}</p>'
        f'<p class="value">{_fmt(figure.value)}</p>{note}</div>'
    )


def _chart_html(chart: Chart) -> str:
    body = chart_svg(chart) if chart.x else '<p class="empty">No rows in this publication.</p>'
    note = f'<p class="note">{html.escape(chart.note)}</p>' if chart.note else ""
    cells = "".join(
        f"<tr><td>{html.escape(x)}</td><td>{_fmt(y)}</td></tr>" for x, y in zip(chart.x, chart.y, strict=True)
    )
    table = (
        f"<details><summary>The numbers</summary><table><thead><tr><th>period</th>"
        f"<th>{html.escape(chart.y_label)}</th></tr></thead><tbody>{cells}</tbody></table></details>"
    )
    return (
        f'<figure class="chart" data-chart="{chart.key}"><figcaption>{html.escape(chart.title)}</figcaption>'
        f"{body}{note}{table}</figure>"
    )


def _findings_html(findings: Findings | None) -> str:
    if findings is None:
        return ""
    chart = _chart_html(findings.by_category) if findings.by_category else ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in findings.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in findings.rows
    )
    shown = f"first {len(findings.rows)} of {findings.total:,}" if findings.total > len(findings.rows) else ""
    return (
        f'<section id="reconciliation" data-section="reconciliation"><h2>Reconciliation findings</h2>'
        f'<div class="figure" data-figure="reconciliation"><p class="label">Findings</p>'
        f'<p class="value">{findings.total:,}</p></div>{chart}'
        f'<table class="findings"><caption>{html.escape(shown)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}.meta{color:#555;margin-top:0}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:1rem;margin:1.5rem 0}
.figure{border:1px solid #d0d7de;border-radius:6px;padding:.8rem}
.figure .label{margin:0;color:#444}.figure .value{font-size:1.8rem;font-weight:600;margin:.3rem 0}
.note{font-size:.8rem;color:#666}.chart{margin:2rem 0}.chart svg{width:100%;height:auto;display:block}
figcaption{font-weight:600;margin-bottom:.5rem}table{border-collapse:collapse;font-size:.85rem}
td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left}
"""


_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(data: ReportData) -> str:
    """The whole page: no scripts, no external resources."""
    lo, hi = data.period
    period = f"Events from {lo} to {hi}. " if lo and hi else ""
    figures = "".join(_figure_html(f) for f in data.figures)
    charts = "".join(_chart_html(c) for c in data.charts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>BorderWatch publication {html.escape(data.version)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f'<h1>BorderWatch publication</h1><p class="meta">Version {html.escape(data.version)}, published '
        f"{html.escape(data.created_at)}. {html.escape(period)}Only the published marts are shown; cells the "
        "privacy rules suppress stay empty and are never added back.</p>"
        f'<section id="figures" data-section="figures"><h2>Headline figures</h2>'
        f'<div class="figures">{figures}</div></section>'
        f'<section id="charts" data-section="charts"><h2>Over time</h2>{charts}</section>'
        f"{_findings_html(data.findings)}</body></html>\n"
    )
