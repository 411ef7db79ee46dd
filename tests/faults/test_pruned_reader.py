"""Fault class: retention prunes the version a BI reader still has open (held in issue 10's run; guarded).

Expected fate: the reader that opened ``current.duckdb`` keeps reading its own version, complete and
unchanged, after that version's directory is deleted by retention (POSIX keeps an open file alive); a
reader connecting afterwards gets the newest version. No error, no mix.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from publish_support import load_synthetic

from borderwatch import pipeline
from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.publish import Publication, list_versions


def _publish(settings: Settings, raids: int) -> Publication:
    load_synthetic().make_build(settings.build_db, raids=raids)
    audited = pipeline.Audited(candidate=pipeline.snapshot(settings), gate=GateResult(passed=True))
    return pipeline.publish(settings, audited, notify=False)


def _raids(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("select count(*) from marts.fct_raids").fetchone()
    return int(row[0]) if row else -1


def test_open_reader_survives_its_version_being_pruned(tmp_path: Path) -> None:
    """Fate: the open reader still sees all 100 raids of v1 after v1 is deleted; a new reader sees v4."""
    settings = load_synthetic().make_settings(tmp_path / "home", keep_versions=2)
    first = _publish(settings, raids=100)
    reader = duckdb.connect(str(settings.current_db), read_only=True)
    try:
        assert _raids(reader) == 100
        for raids in (150, 200, 250):
            last = _publish(settings, raids=raids)
        assert first.version not in list_versions(settings)  # pruned by retention
        assert not (settings.published_dir / first.version).exists()
        assert _raids(reader) == 100
        assert reader.execute("select count(distinct raid_id) from marts.fct_raids").fetchone() == (100,)
    finally:
        reader.close()
    fresh = duckdb.connect(str(settings.current_db), read_only=True)
    try:
        assert _raids(fresh) == 250 and last.row_counts["marts.fct_raids"] == 250
    finally:
        fresh.close()
