"""Replay from the landing archive, and kill -9 in the middle of a load: both give identical raw tables."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from ingest_payloads import (
    FakeAgency,
    kh_csv,
    kh_rows,
    mfa_xlsx,
    nbtc_lines,
    ndjson_bytes,
    rtp_record,
    th_csv,
    th_rows,
)

from borderwatch.config import Settings
from borderwatch.ingest import LandingArchive, ReplayError, ingest_all, ingest_inbox, replay
from borderwatch.ingest.load import TEST_PAUSE_ENV

REPO = Path(__file__).resolve().parents[2]
VOLATILE = {
    "_load_id",
    "_loaded_at",
    "load_id",
    "loaded_at",
    "quarantined_at",
    "updated_at",
    "started_at",
    "finished_at",
}


def snapshot(db: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Every raw table's rows (volatile lineage columns excluded), sorted."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        listing = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1"
        tables = [r[0] for r in con.execute(listing).fetchall()]
        out = {}
        for table in tables:
            if table == "_loads":
                continue
            cols = [r[0] for r in con.execute(f"DESCRIBE raw.{table}").fetchall()]
            keep = ", ".join(
                f'"{c}"' for c in cols if c not in VOLATILE or (table == "rtp_raids" and c == "updated_at")
            )
            out[table] = con.execute(f"SELECT {keep} FROM raw.{table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def populate(settings: Settings) -> None:
    """A realistic history: two pull runs over four feeds, inbox drops, a duplicate, a drifted file."""
    agency = FakeAgency(
        files={
            "/kh-gdi/bulletins/": {"kh_gdi_deportations_2025-03-14.csv": kh_csv(kh_rows(30, khmer_every=4))},
            "/th-imm/receptions/": {"th_imm_receptions_2025-03-15.csv": th_csv(th_rows(12))},
            "/nbtc/enforcement/": {"nbtc_telecom_2025-01.ndjson": ndjson_bytes(nbtc_lines(9))},
        },
        operations=[rtp_record(i, f"2025-02-20T1{i}:00:00+07:00") for i in range(4)],
    )
    bad = kh_rows(30, start=100)
    bad[3][2] = "32/03/2025"  # one quarantined row, under the threshold
    with agency.client() as client:
        ingest_all(
            settings, ["kh_gdi_deportations", "th_imm_receptions", "nbtc_telecom", "rtp_raids"], client=client
        )
        agency.files["/kh-gdi/bulletins/"]["kh_gdi_deportations_2025-03-15.csv"] = kh_csv(bad)
        agency.files["/kh-gdi/bulletins/"]["kh_gdi_deportations_2025-03-16.csv"] = kh_csv(
            kh_rows(30, khmer_every=4)
        )
        agency.operations.append(rtp_record(1, "2025-02-22T08:00:00+07:00", persons_rescued=99))
        agency.deletions.append(
            {"operation_id": "RTP-2025-000002", "updated_at": "2025-02-23T08:00:00+07:00", "is_deleted": True}
        )
        ingest_all(settings, ["kh_gdi_deportations", "rtp_raids"], client=client)
    mfa_xlsx(settings.inbox_dir / "mfa_assistance_2025-03.xlsx")
    drifted = kh_csv(kh_rows(2)).decode("utf-8-sig").replace("Total", "Sum").encode("utf-8-sig")
    (settings.inbox_dir / "kh_gdi_deportations_drop.csv").write_bytes(drifted)
    ingest_inbox(settings)


def test_replay_rebuilds_identical_raw_tables(tmp_path: Path, settings: Settings) -> None:
    populate(settings)
    original = snapshot(settings.build_db)
    assert len(original["rtp_raids"]) == 6 and len(original["_quarantine"]) == 1
    target = tmp_path / "replayed.duckdb"
    reports = replay(settings, target)
    assert snapshot(target) == original
    by_feed = {r.feed: r for r in reports}
    assert by_feed["kh_gdi_deportations"].files_duplicate == 1
    assert by_feed["kh_gdi_deportations"].status == "failed"  # the drifted drop fails again, as it did
    with pytest.raises(ReplayError, match="already exists"):
        replay(settings, target)
    # without a target the fresh file replaces the build file
    settings.build_db.unlink()
    replay(settings)
    assert snapshot(settings.build_db) == original


LOAD_SCRIPT = """
import sys
from pathlib import Path
from borderwatch.config import get_settings
from borderwatch.ingest import ingest_inbox
ingest_inbox(get_settings(sys.argv[1]))
"""


def _drop_files(settings: Settings) -> None:
    (settings.inbox_dir / "kh_gdi_deportations_a.csv").write_bytes(kh_csv(kh_rows(2000, bulletin="A")))
    (settings.inbox_dir / "kh_gdi_deportations_b.csv").write_bytes(
        kh_csv(kh_rows(3000, bulletin="B", khmer_every=3))
    )
    (settings.inbox_dir / "th_imm_receptions_c.csv").write_bytes(th_csv(th_rows(500)))


@pytest.mark.slow
def test_kill_9_mid_load_then_rerun_matches_uninterrupted(tmp_path: Path, settings: Settings) -> None:
    clean = dataclasses.replace(settings, home=tmp_path / "clean")
    clean.ensure_dirs()
    _drop_files(clean)
    ingest_inbox(clean)

    _drop_files(settings)
    marker = tmp_path / "paused"
    env = dict(os.environ)
    env[TEST_PAUSE_ENV] = json.dumps(
        {"marker": str(marker), "seconds": 120, "file_name": "kh_gdi_deportations_b.csv"}
    )
    env["BORDERWATCH_FEEDS_DIR"] = str(settings.feeds_dir)
    proc = subprocess.Popen(
        [sys.executable, "-c", LOAD_SCRIPT, str(settings.home)], env=env, cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "loader exited"
            assert time.monotonic() < deadline, "the loader never reached the pause inside the transaction"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # killed inside the feed's batch transaction: the batch (files a and b) is lost whole, never part of
    # a file; both were landed and still wait in the inbox, so the next run loads them again
    partial = snapshot(settings.build_db)
    assert partial["_files"] == [] and partial["kh_gdi_deportations"] == [] and partial["_cursors"] == []
    assert {p.name for p in settings.inbox_dir.iterdir() if p.is_file()} == {
        "kh_gdi_deportations_a.csv",
        "kh_gdi_deportations_b.csv",
        "th_imm_receptions_c.csv",
    }
    assert len(list(LandingArchive(settings.landing_dir).iter_manifest())) == 3

    ingest_inbox(settings)
    assert snapshot(settings.build_db) == snapshot(clean.build_db)
    assert not [p for p in settings.inbox_dir.iterdir() if p.name != ".rejected"]


def test_replay_of_an_archive_that_once_held_poison_works(tmp_path: Path, settings: Settings) -> None:
    """A 5,000-digit count and a year-1 timestamp were quarantined at ingest, and are again on replay."""
    body = (
        b'{"month": "2025-01", "province": "Tak", "action_type": "a", "count": ' + b"9" * 5000 + b"}\n"
        b'{"month": "2025-01", "province": "Tak", "action_type": "b", "count": 1, '
        b'"reported_at": "0001-01-01T00:00:00+07:00"}\n'
        + b"".join(
            f'{{"month": "2025-01", "province": "Tak", "action_type": "c{i}", "count": {i}}}\n'.encode()
            for i in range(60)
        )
    )
    (settings.inbox_dir / "nbtc_telecom_2025-01.ndjson").write_bytes(body)
    (report,) = ingest_inbox(settings)
    assert (report.status, report.rows_loaded, report.rows_quarantined) == ("loaded", 60, 2)
    reports = replay(settings, tmp_path / "replayed.duckdb")
    assert [(r.feed, r.rows_loaded, r.rows_quarantined) for r in reports] == [("nbtc_telecom", 60, 2)]
    assert snapshot(tmp_path / "replayed.duckdb") == snapshot(settings.build_db)


def test_a_landed_object_torn_by_a_crash_is_repaired_when_the_file_lands_again(tmp_path: Path) -> None:
    """Inbox objects are fsynced in the background (before COMMIT); a crash before that can leave an
    object whose bytes are not its name's. The next landing of the same payload (the file is still in
    the inbox: its batch never committed) replaces it, and the archive serves the right bytes."""
    archive = LandingArchive(tmp_path / "landing")
    data = b"Bulletin No,Line\r\nB1,1\r\n" * 100
    first = archive.put(
        data, feed="f", source_url="inbox:a.csv", status=None, headers={}, file_name="a.csv", defer_sync=True
    )
    archive.sync_in_background()()
    os.chmod(first.path, 0o644)
    first.path.write_bytes(data[:10])  # what a crash before the fsync can leave behind
    again = archive.put(
        data, feed="f", source_url="inbox:a.csv", status=None, headers={}, file_name="a.csv", defer_sync=True
    )
    archive.sync()
    assert again.path == first.path and again.path.read_bytes() == data
    assert [f.sha256 for f in archive.iter_manifest()] == [first.sha256] * 2
