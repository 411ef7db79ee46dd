"""Fault class: a poison value in an API page (item 2 of issue 10), on the HTTP side.

Expected fate: a JSON integer too long for Python's ``int()`` (5,000 digits) does not fail the page: the
page lands whole, the other rows load, and the value reaches the normaliser as text, where a typed column
would quarantine it with its reason. The run succeeds, and a second run adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
from hostile_http import Handler, HostileServer

from borderwatch.config import Settings
from borderwatch.ingest import ingest_feed
from borderwatch.specs import FeedSpec

POISON = "9" * 5000


def _page_with_poison(h: Handler) -> None:
    doc = (
        '{"data": ['
        '{"id": "A1", "updated_at": "2025-01-01T00:00:00+00:00", "note": "fine"},'
        f'{{"id": "A2", "updated_at": "2025-01-01T00:00:01+00:00", "note": {POISON}}}'
        '], "next_page": null}'
    )
    h.body(doc.encode(), headers={"Content-Type": "application/json"})


def test_five_thousand_digit_number_in_a_page_lands_and_loads(
    hostile: HostileServer, fault_settings: Settings, make_api_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: the page lands; both rows load (the long number kept as text); the rerun adds nothing."""
    hostile.routes["/api"] = _page_with_poison
    spec = make_api_spec()

    first = ingest_feed(fault_settings, spec)
    assert first.status != "failed", first.error
    con = duckdb.connect(str(fault_settings.build_db), read_only=True)
    try:
        rows = con.execute("select id, length(note) from raw.hostile_api order by id").fetchall()
    finally:
        con.close()
    assert rows == [("A1", 4), ("A2", 5000)]

    second = ingest_feed(fault_settings, spec)
    assert second.status != "failed" and second.rows_loaded == 0
