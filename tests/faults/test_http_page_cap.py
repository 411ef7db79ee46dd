"""Fault class: pagination that never ends (item 8 of issue 10).

Expected fate: at most ``source.max_pages`` JSON documents per feed run. The run fails with
PageCapExceeded naming the feed and what to do; the pages before the cap stay loaded (the cursor moves only
when a stream ends, so the next run reads them again as duplicates): nothing lost, nothing loaded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import duckdb
from hostile_http import Handler, HostileServer

from borderwatch.config import Settings
from borderwatch.ingest import ingest_feed
from borderwatch.specs import FeedSpec


def _endless_pages(h: Handler) -> None:
    """Every page has one record and points at the next one, forever."""
    page = int(parse_qs(urlsplit(h.path).query).get("page", ["1"])[0])
    stamp = f"2025-01-01T00:{page // 60:02d}:{page % 60:02d}+00:00"
    doc = f'{{"data": [{{"id": "P{page:05d}", "updated_at": "{stamp}"}}], "next_page": {page + 1}}}'
    h.body(doc.encode(), headers={"Content-Type": "application/json"})


def _ids(settings: Settings) -> list[str]:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return [r[0] for r in con.execute("select id from raw.hostile_api order by id").fetchall()]
    finally:
        con.close()


def test_endless_next_page_stops_at_max_pages_and_resumes(
    hostile: HostileServer, fault_settings: Settings, make_api_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: PageCapExceeded after 5 pages; those 5 rows loaded; a second run loads none of them twice."""
    hostile.routes["/api"] = _endless_pages
    spec = make_api_spec(max_pages=5)

    first = ingest_feed(fault_settings, spec)
    assert first.status == "failed" and "PageCapExceeded" in (first.error or "")
    assert "hostile_api" in (first.error or "") and "source.max_pages (5)" in (first.error or "")
    assert "raise source.max_pages in feeds/hostile_api.yaml" in (first.error or "")
    assert len(hostile.hits) == 5  # the sixth page was never requested
    assert _ids(fault_settings) == [f"P{p:05d}" for p in range(1, 6)]

    second = ingest_feed(fault_settings, spec)
    assert second.status == "failed" and second.files_duplicate == 5 and second.rows_loaded == 0
    assert _ids(fault_settings) == [f"P{p:05d}" for p in range(1, 6)]
