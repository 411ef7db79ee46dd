"""Fault class: feed text written as SQL (held in issue 10's hostile run; guarded here).

Expected fate: values, cursors and file metadata from a feed travel as bound parameters or data, never as
SQL text: hostile cells are stored verbatim as data, no statement in them runs, the control tables are intact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
from hostile_http import HostileServer

from borderwatch.config import Settings
from borderwatch.ingest import ingest_feed
from borderwatch.specs import FeedSpec


def _payloads(tmp_path: Path) -> list[str]:
    canary = tmp_path / "pwned.csv"
    return [
        "R1'); DROP TABLE raw._files; --",
        '"; DELETE FROM raw._cursors; --',
        f"x'); COPY (SELECT 42) TO '{canary}'; --",
        "$$; ATTACH '/tmp/evil.duckdb'; $$",
        "\\'; SELECT * FROM read_csv('/etc/passwd'); --",
    ]


def _table(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_hostile_cells_in_a_file_are_data(
    hostile: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
    tmp_path: Path,
) -> None:
    """Fate: every hostile cell is loaded verbatim as a value; raw._files and raw._cursors survive."""
    values = _payloads(tmp_path)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "updated_at", "note"])
    for i, value in enumerate(values):
        writer.writerow([value, "2025-01-01", f"{value} #{i}"])
    hostile.routes["/files/"] = lambda h: h.body(b'{"files": ["a.csv"]}')
    hostile.routes["/files/a.csv"] = lambda h: h.body(out.getvalue().encode())

    report = ingest_feed(fault_settings, make_files_spec())

    assert report.status == "loaded", report.error
    assert sorted(r[0] for r in _table(fault_settings, "select id from raw.hostile_files")) == sorted(values)
    assert _table(fault_settings, "select file_name from raw._files") == [("a.csv",)]
    assert _table(fault_settings, "select feed from raw._cursors") == [("hostile_files",)]
    assert not (tmp_path / "pwned.csv").exists()


def test_hostile_values_and_cursor_in_an_api_page_are_data(
    hostile: HostileServer,
    fault_settings: Settings,
    make_api_spec: Callable[..., FeedSpec],
    tmp_path: Path,
) -> None:
    """Fate: API values and an unparseable cursor field are data; the cursor query stays parameterised."""
    values = _payloads(tmp_path)
    records = [
        {"id": v, "updated_at": "2025-01-01T00:00:00+00:00'; DROP TABLE raw._loads; --"} for v in values
    ]
    records.append({"id": "ok", "updated_at": "2025-01-02T00:00:00+00:00"})
    hostile.routes["/api"] = lambda h: h.body(json.dumps({"data": records, "next_page": None}).encode())

    report = ingest_feed(fault_settings, make_api_spec())

    assert report.status == "loaded", report.error
    assert sorted(r[0] for r in _table(fault_settings, "select id from raw.hostile_api")) == sorted(
        [*values, "ok"]
    )
    assert _table(fault_settings, "select cursor_value from raw._cursors where feed = 'hostile_api'") == [
        ("2025-01-02T00:00:00+00:00",)
    ]
    assert len(_table(fault_settings, "select * from raw._loads")) == 1
    assert not (tmp_path / "pwned.csv").exists()
