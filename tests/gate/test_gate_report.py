"""The gate report as a person sees it: rendered by headless Chromium with networking off, read from the DOM.

The page must show every check of every owner (dbt contract, dbt test, dbt freshness, gx) with no
network at all, runs must be named, and an index must list the history of runs.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest
from offline_browser import dump_dom

from borderwatch.gate import GateResult, run_gate

pytestmark = pytest.mark.slow


class _Rows(HTMLParser):
    """Rows of the rendered tables as lists of cell texts, keyed by the table's id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]
        if tag == "table":
            self._table = found.get("id") or "?"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rendered(page: Path, profile: Path) -> _Rows:
    """Chromium loads the page with every network request refused, and dumps the DOM it rendered."""
    dom = dump_dom(page, profile, timeout=120)
    parser = _Rows()
    parser.feed(dom)
    return parser


@pytest.fixture(scope="module")
def two_runs(
    tmp_path_factory: pytest.TempPathFactory, synthetic: ModuleType
) -> tuple[GateResult, GateResult]:
    """A passing run, then a blocked one (a mart shrank; a dbt test failed) in the same home."""
    settings = synthetic.make_settings(tmp_path_factory.mktemp("report") / "home")
    synthetic.make_build(settings.build_db)
    model = {
        "unique_id": "model.bw.fct_raids",
        "resource_type": "model",
        "status": "success",
        "constraints": [{"column": "raid_id", "type": "primary_key", "expression": None}],
    }
    source = {"unique_id": "source.bw.rtp.rtp_raids", "resource_type": "source", "status": "pass"}
    first = run_gate(settings, synthetic.FakeBuildResult(results=[model, source]))
    version = settings.published_dir / "20250101T000000.000000Z-deadbeef"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text('{"row_counts": {"marts.fct_raids": 3000}}')
    settings.current_dir.symlink_to(version.relative_to(settings.warehouse_dir))
    failing = {
        "unique_id": "test.bw.unique_fct_raids_raid_id",
        "resource_type": "test",
        "status": "fail",
        "failures": 3,
        "attached_node": "model.bw.fct_raids",
        "column_name": "raid_id",
    }
    second = run_gate(settings, synthetic.FakeBuildResult(ok=False, results=[model, source, failing]))
    return first, second


def test_report_page_shows_every_check_offline(
    two_runs: tuple[GateResult, GateResult], tmp_path: Path
) -> None:
    _, blocked = two_runs
    page = Path(blocked.data_docs_path)
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the report must not load anything remote"
    dom = rendered(page, tmp_path / "profile")
    rows = dom.tables["checks"][1:]  # header first
    assert len(rows) == len(blocked.checks) > 15
    by_name = {row[3]: row for row in rows}
    assert by_name["test.bw.unique_fct_raids_raid_id"][:3] == ["FAIL", "block", "dbt test"]
    assert by_name["test.bw.unique_fct_raids_raid_id"][5] == "3"
    assert by_name["fct_raids.volume_vs_published"][:3] == ["FAIL", "block", "gx"]
    assert by_name["contract.fct_raids.raid_id.primary_key"][:3] == ["pass", "block", "dbt contract"]
    assert by_name["freshness.rtp.rtp_raids"][2] == "dbt freshness"
    assert rows[0][0] == "FAIL"  # failures first
    owners = {row[0] for row in dom.tables["owners"][1:]}
    assert owners == {"dbt contract", "dbt test", "dbt freshness", "gx"}


def test_index_lists_named_runs_newest_first(two_runs: tuple[GateResult, GateResult], tmp_path: Path) -> None:
    first, blocked = two_runs
    index = Path(blocked.data_docs_path).parents[1] / "index.html"
    dom = rendered(index, tmp_path / "profile")
    runs = dom.tables["runs"][1:]
    assert [row[0] for row in runs] == [blocked.run_id, first.run_id]
    assert "__none__" not in {row[0] for row in runs}
    assert [row[2] for row in runs] == ["blocked", "passed"]
    assert f"{first.run_id}/index.html" in dom.urls
