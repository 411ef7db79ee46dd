"""explain(): the feed rows and landing files behind one mart row, read under the build-file writer lock."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from borderwatch.config import Settings
from borderwatch.explain import ExplainError, explain
from borderwatch.locking import BuildLocked

if TYPE_CHECKING:  # the fixture's type only: importing conftest by name clashes across test folders
    from conftest import WarehouseRun

REPO = Path(__file__).resolve().parents[2]

# A refresh step in another process: holds the writer lock, then (when told) writes the build file.
WRITER = r"""
import sys
from pathlib import Path

import duckdb

from borderwatch.config import Settings
from borderwatch.locking import build_writer_lock

home, repo = Path(sys.argv[1]), Path(sys.argv[2])  # argv[3]: the SQL it writes
settings = Settings(home, repo / "feeds", repo / "dbt_project", repo / "expectations", "http://127.0.0.1:9")
with build_writer_lock(settings):
    print("locked", flush=True)
    sys.stdin.readline()
    con = duckdb.connect(str(settings.build_db))
    con.execute(sys.argv[3])
    con.close()
    print("wrote", flush=True)
"""


def _revision_sql(sha: str, load_id: str, detained: int) -> str:
    """One landed file holding one revision of raid RTP-1, with its lineage row."""
    return (
        "insert into intermediate.int_lineage values "
        f"('fct_raids', 'RTP-1', 'rtp_raids', 'rtp_raids', '{sha}', 1);"
        f"insert into raw._files values ('{sha}', 'rtp_raids', '{sha}.json', 'loaded', '{load_id}', now());"
        f"insert into raw.rtp_raids values ('RTP-1', {detained}, '{sha}', 1)"
    )


def _tiny_build(tmp_path: Path) -> Settings:
    """A build file with just the lineage, file and raw tables explain reads (no dbt run needed)."""
    settings = Settings(
        tmp_path / "home", REPO / "feeds", REPO / "dbt_project", REPO / "expectations", "http://127.0.0.1:9"
    )
    settings.build_db.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.build_db))
    con.execute("create schema intermediate; create schema raw")
    con.execute(
        "create table intermediate.int_lineage (mart varchar, mart_key varchar, feed varchar, "
        "raw_table varchar, file_sha256 varchar, row_number bigint)"
    )
    con.execute(
        "create table raw._files (file_sha256 varchar, feed varchar, file_name varchar, status varchar, "
        "load_id varchar, loaded_at timestamp)"
    )
    con.execute(
        "create table raw.rtp_raids (operation_id varchar, persons_detained integer, "
        "_file_sha256 varchar, _row_number bigint)"
    )
    con.execute(_revision_sql("sha1", "load-1", 120))
    con.close()
    return settings


def _start_writer(settings: Settings) -> subprocess.Popen[str]:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.home), str(REPO), _revision_sql("sha2", "load-2", 125)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
    return writer


def _finish_writer(writer: subprocess.Popen[str]) -> None:
    """Let the writer write the build file; it must succeed (nobody else has the file open)."""
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.write("go\n")
    writer.stdin.flush()
    assert writer.stdout.readline().strip() == "wrote"
    assert writer.wait(timeout=60) == 0


def test_explain_waits_for_a_running_writer_and_never_breaks_it(tmp_path: Path) -> None:
    """Fate (issue 10 item 10): explain started during a refresh step waits for it, then sees its rows.

    Before, explain opened the build file regardless; a DuckDB reader holding the file makes the refresh's
    next write fail with "Could not set lock on file".
    """
    settings = _tiny_build(tmp_path)
    writer = _start_writer(settings)
    result: dict[str, Any] = {}
    reader = threading.Thread(target=lambda: result.update(rows=explain(settings, "fct_raids", "RTP-1")))
    try:
        reader.start()
        reader.join(timeout=1.0)
        assert reader.is_alive()  # waiting for the lock, not reading the file
        _finish_writer(writer)
        reader.join(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert [r["row"]["persons_detained"] for r in result["rows"]] == [120, 125]


def test_explain_gives_up_naming_the_writer(tmp_path: Path) -> None:
    """Fate: past the lock timeout, BuildLocked names the holding process; the writer is undisturbed."""
    settings = _tiny_build(tmp_path)
    writer = _start_writer(settings)
    try:
        with pytest.raises(BuildLocked, match=f"pid {writer.pid}"):
            explain(settings, "fct_raids", "RTP-1", lock_timeout=0.2)
        _finish_writer(writer)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert len(explain(settings, "fct_raids", "RTP-1")) == 2


@pytest.mark.slow
def test_matched_deportation_lists_both_countries_files(wh_run: WarehouseRun) -> None:
    rows = explain(wh_run.settings, "fct_deportations", "KH-GDI-031-1")
    assert {(r["feed"], r["file_name"]) for r in rows} == {
        ("kh_gdi_deportations", "kh_gdi_deportations_2025-03-20.csv"),
        ("th_imm_receptions", "th_imm_receptions_2025-03-21.csv"),
    }
    by_feed = {r["feed"]: r for r in rows}
    assert by_feed["kh_gdi_deportations"]["row"]["nationality"] == "ថៃ"
    assert by_feed["th_imm_receptions"]["row"]["received_date_raw"] == "๑๕ มี.ค. ๒๕๖๘"
    assert by_feed["kh_gdi_deportations"]["row_number"] == 1


@pytest.mark.slow
def test_revised_raid_lists_every_version(wh_run: WarehouseRun) -> None:
    rows = explain(wh_run.settings, "marts.fct_raids", "RTP-2025-000101")
    assert [r["row"]["persons_detained"] for r in rows] == [120, 125]
    assert [r["load_id"] for r in rows] == ["load-1", "load-2"]


@pytest.mark.slow
def test_snapshot_and_claim_lineage(wh_run: WarehouseRun) -> None:
    rows = explain(wh_run.settings, "fct_assistance_snapshots_latest", "2025-03-31|CHN")
    assert [r["row"]["nationality_label"] for r in rows] == ["Chinese / จีน"]
    (claim,) = wh_run.query(
        "select claim_id, _file_sha256, _row_number from marts.fct_figure_claims "
        "where source_feed = 'nbtc_telecom' "
        "and value = 7400"
    )
    (row,) = explain(wh_run.settings, "fct_figure_claims", claim["claim_id"])
    assert (row["file_sha256"], row["row_number"]) == (claim["_file_sha256"], claim["_row_number"])
    assert row["row"]["province"] == "สระแก้ว"


@pytest.mark.slow
def test_unknown_key_and_table(wh_run: WarehouseRun) -> None:
    assert explain(wh_run.settings, "fct_raids", "RTP-NOPE") == []
    with pytest.raises(ExplainError, match="not a public mart"):
        explain(wh_run.settings, "raw.rtp_raids", "x")
