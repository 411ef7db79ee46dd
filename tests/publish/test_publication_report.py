"""Every publication carries an offline report: figures and charts a browser shows with the network off.

The page is rendered by headless Chromium with every network path closed; a probe script (added to a
copy of the page, never to the published file) reads, from the rendered DOM, which figures and charts
have a visible box and what they say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
from offline_browser import dump_dom

from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.publish import Publication, sha256_file

PROBE = """
<script>
const box = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
const out = {
  figures: [...document.querySelectorAll('[data-figure]')].map(el => ({
    key: el.dataset.figure, visible: box(el),
    value: el.querySelector('.value').textContent,
    note: (el.querySelector('.note') || {}).textContent || ''})),
  charts: [...document.querySelectorAll('figure[data-chart]')].map(el => {
    const svg = el.querySelector('svg');
    const marks = svg ? [...svg.querySelectorAll('path, rect, line, use')].filter(m => {
      const b = m.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length : 0;
    return {key: el.dataset.chart, visible: !!svg && box(svg), marks: marks,
            caption: el.querySelector('figcaption').textContent}; }),
  sections: [...document.querySelectorAll('[data-section]')].map(el => el.dataset.section),
  failed_loads: performance.getEntriesByType('resource').map(e => e.name),
};
const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>
"""


class _Probe(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = tag == "pre" and ("id", "probe") in attrs

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data


def render(report: Path, workdir: Path) -> dict[str, Any]:
    """What the browser shows: the probe's JSON from the DOM of a copy of ``report``, network off."""
    page = workdir / "rendered.html"
    text = report.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)  # let the probe run
    page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = dump_dom(
        page,
        workdir / "profile",
        extra_args=["--window-size=1200,3000", "--virtual-time-budget=5000"],
        timeout=120,
    )
    parser = _Probe()
    parser.feed(dom)
    assert parser.text, f"the probe did not run; rendered DOM: {dom[-2000:]}"
    return json.loads(parser.text)


@pytest.fixture
def suppressed_home(home: Settings) -> Settings:
    """The synthetic build with three raids whose detained count the privacy rules suppressed (null)."""
    with duckdb.connect(str(home.build_db)) as con:
        con.execute(
            "update marts.fct_raids set persons_detained = null "
            "where raid_id in ('R000001', 'R000002', 'R000003')"
        )
    return home


def test_every_publication_links_its_offline_report(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    pub = publish_now(home, passed)
    manifest = json.loads(pub.manifest_path.read_text())
    assert manifest["report"] == "report.html"
    assert manifest["files"]["report.html"] == sha256_file(pub.report_path)
    html = pub.report_path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b", html), "the page must need nothing from anywhere"
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)


def test_the_report_renders_figures_and_charts_offline(
    suppressed_home: Settings,
    passed: GateResult,
    publish_now: Callable[..., Publication],
    tmp_path: Path,
) -> None:
    pub = publish_now(suppressed_home, passed)
    seen = render(pub.report_path, tmp_path)
    assert seen["failed_loads"] == [], "the page tried to load something"
    figures = {f["key"]: f for f in seen["figures"]}
    assert {"raids", "raids_detained", "deportations", "repatriations", "assistance"} <= set(figures)
    assert all(f["visible"] for f in figures.values()), figures
    with duckdb.connect(str(pub.database_path), read_only=True) as con:
        detained, raids = con.execute(
            "select sum(persons_detained), count(*) from marts.fct_raids"
        ).fetchone()
        deported = con.execute("select sum(persons_total) from marts.fct_deportations").fetchone()[0]
    assert figures["raids"]["value"] == f"{raids:,}"
    assert figures["raids_detained"]["value"] == f"{detained:,}", "suppressed cells stay out of the sum"
    assert "3 suppressed" in figures["raids_detained"]["note"]
    assert figures["deportations"]["value"] == f"{deported:,}"
    charts = {c["key"]: c for c in seen["charts"]}
    assert {"raids_monthly", "deportations_monthly", "repatriations_monthly", "assistance_cumulative"} <= set(
        charts
    )
    for chart in charts.values():
        assert chart["visible"] and chart["marks"] >= 3, chart
    assert "reconciliation" not in seen["sections"], "no reconciliation mart, no section"


def test_reconciliation_findings_appear_when_the_mart_exists(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication], tmp_path: Path
) -> None:
    with duckdb.connect(str(home.build_db)) as con:
        con.execute(
            """
            create table marts.fct_reconciliation as
            select 'C' || i as check_id, 'deportation_totals' as rule, date '2025-03-01' as check_date,
                   'crossing ' || i as subject, 10 as value_left, 10 + (i % 3) as value_right,
                   -(i % 3) as delta, case when i % 3 = 0 then 'agree' else 'conflict' end as status,
                   'sending vs receiving totals' as detail
            from range(9) r(i)
            """
        )
    pub = publish_now(home, passed)
    seen = render(pub.report_path, tmp_path)
    assert "reconciliation" in seen["sections"]
    figures = {f["key"]: f for f in seen["figures"]}
    assert figures["reconciliation"]["value"] == "9" and figures["reconciliation"]["visible"]
    chart = next(c for c in seen["charts"] if c["key"] == "reconciliation_findings")
    assert chart["visible"] and chart["marks"] >= 2


def test_the_report_names_what_each_chart_shows(synthetic: ModuleType, tmp_path: Path) -> None:
    from borderwatch.report import gather_report

    db = synthetic.make_build(tmp_path / "b.duckdb", raids=40)
    data = gather_report(db, version="v", created_at="now")
    raids = next(c for c in data.charts if c.key == "raids_monthly")
    with duckdb.connect(str(db), read_only=True) as con:
        assert sum(raids.y) == con.execute("select sum(persons_detained) from marts.fct_raids").fetchone()[0]
    assert raids.x == sorted(raids.x) and len(raids.x) == len(set(raids.x))
