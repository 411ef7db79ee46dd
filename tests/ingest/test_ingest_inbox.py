"""The drop inbox: accepted files land and load; hostile ones are refused without touching anything else."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import tracemalloc
from pathlib import Path

import duckdb
import pytest
from ingest_payloads import kh_csv, kh_rows, mfa_xlsx, nbtc_lines, ndjson_bytes
from test_ingest_readers import make_zip_bomb

from borderwatch.config import Settings
from borderwatch.ingest import LandingArchive, UnsafeInboxFileError, ingest_inbox, safe_inbox_path


def rejected(settings: Settings) -> dict[str, str]:
    folder = settings.inbox_dir / ".rejected"
    if not folder.exists():
        return {}
    return {p.name: p.read_text() for p in folder.iterdir() if p.name.endswith(".error.txt")}


def count(settings: Settings, table: str) -> int:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()


def test_accepted_files_are_landed_loaded_and_removed(tmp_path: Path, settings: Settings) -> None:
    (settings.inbox_dir / "kh_gdi_deportations_2025-03-20.csv").write_bytes(kh_csv(kh_rows(4)))
    mfa_xlsx(settings.inbox_dir / "mfa_assistance_2025-03.xlsx")
    (settings.inbox_dir / ".upload-in-progress.csv").write_bytes(b"partial")
    reports = {r.feed: r for r in ingest_inbox(settings)}
    assert reports["kh_gdi_deportations"].rows_loaded == 4
    assert reports["mfa_assistance"].rows_loaded == 7
    assert sorted(p.name for p in settings.inbox_dir.iterdir()) == [".upload-in-progress.csv"]
    assert count(settings, "mfa_assistance_movements") == 2
    manifest = list(LandingArchive(settings.landing_dir).iter_manifest())
    assert {m.source_url for m in manifest} == {
        "inbox:kh_gdi_deportations_2025-03-20.csv",
        "inbox:mfa_assistance_2025-03.xlsx",
    }
    # inbox deliveries do not move the pull cursor (they may arrive in any order)
    con = duckdb.connect(str(settings.build_db), read_only=True)
    assert con.execute("SELECT count(*) FROM raw._cursors").fetchone() == (0,)
    con.close()


def test_many_files_land_two_at_a_time_and_are_recorded_in_name_order(settings: Settings) -> None:
    """Files are stored by two threads at once (``LANDING_THREADS``), but deliveries are recorded one by
    one in name order: the manifest, and so replay, never depends on which copy finished first. Identical
    bytes are stored once; a bad file among them is refused without taking the others down."""
    names = [f"kh_gdi_deportations_2025-03-{day:02d}.csv" for day in range(1, 21)]
    for day, name in enumerate(names, start=1):
        rows = kh_rows(3 + day % 10, bulletin=f"B{day % 10}")  # days 1 and 11 deliver the same bytes
        (settings.inbox_dir / name).write_bytes(kh_csv(rows))
    (settings.inbox_dir / "kh_gdi_deportations_2025-03-07b.csv").symlink_to(settings.inbox_dir / names[0])
    reports = {r.feed: r for r in ingest_inbox(settings)}
    assert reports["inbox"].files_rejected == 1 and "symbolic link" in (reports["inbox"].error or "")
    assert reports["kh_gdi_deportations"].status == "loaded"
    manifest = list(LandingArchive(settings.landing_dir).iter_manifest())
    assert [m.file_name for m in manifest] == names
    assert manifest[0].sha256 == manifest[10].sha256
    objects = [p for p in settings.landing_dir.rglob("*") if p.is_file() and len(p.name) == 64]
    assert len(objects) == len({m.sha256 for m in manifest}) == 10
    assert sorted(p.name for p in settings.inbox_dir.iterdir()) == [".rejected"]


@pytest.mark.parametrize(
    "name", ["../kh_gdi_deportations.csv", "a/b.csv", "..", ".", "", "x\\y.csv", "..kh.csv"]
)
def test_safe_inbox_path_refuses_path_tricks(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeInboxFileError, match="refused"):
        safe_inbox_path(tmp_path, name)
    assert safe_inbox_path(tmp_path, "kh_gdi_deportations_1.csv") == tmp_path / "kh_gdi_deportations_1.csv"


def test_dotdot_name_in_inbox_is_rejected(settings: Settings) -> None:
    (settings.inbox_dir / "..kh_gdi_deportations_2025.csv").write_bytes(kh_csv(kh_rows(2)))
    (report,) = ingest_inbox(settings)
    assert report.status == "failed" and report.files_rejected == 1
    assert "refused" in next(iter(rejected(settings).values()))
    assert not (settings.inbox_dir / "..kh_gdi_deportations_2025.csv").exists()


def test_symlink_to_outside_file_is_refused_and_target_untouched(tmp_path: Path, settings: Settings) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_bytes(kh_csv(kh_rows(3)))
    before = (outside.read_bytes(), outside.stat().st_mtime_ns, oct(outside.stat().st_mode))
    link = settings.inbox_dir / "kh_gdi_deportations_2025-03-21.csv"
    link.symlink_to(outside)
    (report,) = ingest_inbox(settings)
    assert report.status == "failed" and "symbolic link" in (report.error or "")
    assert (outside.read_bytes(), outside.stat().st_mtime_ns, oct(outside.stat().st_mode)) == before
    moved = settings.inbox_dir / ".rejected" / link.name
    assert moved.is_symlink() and os.readlink(moved) == str(outside)
    assert not list(LandingArchive(settings.landing_dir).iter_manifest())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "secret.csv"]


def test_unknown_file_and_directory_are_rejected_with_globs_named(settings: Settings) -> None:
    (settings.inbox_dir / "holiday_photos.jpg").write_bytes(b"\xff\xd8")
    (settings.inbox_dir / "kh_gdi_deportations_dir.csv").mkdir()
    (report,) = ingest_inbox(settings)
    errors = rejected(settings)
    assert "kh_gdi_deportations*.csv" in errors["holiday_photos.jpg.error.txt"]
    assert "not a regular file" in errors["kh_gdi_deportations_dir.csv.error.txt"]
    assert report.files_rejected == 2 and not any(settings.inbox_dir.glob("*.jpg"))


def test_rejected_names_never_overwrite(settings: Settings) -> None:
    for _ in range(2):
        (settings.inbox_dir / "unknown.txt").write_bytes(b"x")
        ingest_inbox(settings)
    assert sorted(rejected(settings)) == ["unknown.txt.1.error.txt", "unknown.txt.error.txt"]


def test_schema_drift_in_inbox_file_is_rejected(settings: Settings) -> None:
    body = kh_csv(kh_rows(2)).decode("utf-8-sig").replace("Total", "Sum").encode("utf-8-sig")
    (settings.inbox_dir / "kh_gdi_deportations_x.csv").write_bytes(body)
    (report,) = ingest_inbox(settings)
    assert report.status == "failed" and "['Sum']" in (report.error or "")
    assert "schema drift" in rejected(settings)["kh_gdi_deportations_x.csv.error.txt"]


def _feeds_with(tmp_path: Path, settings: Settings, feed: str, old: str, new: str) -> Settings:
    feeds = tmp_path / "feeds"
    shutil.copytree(settings.feeds_dir, feeds)
    path = feeds / f"{feed}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return dataclasses.replace(settings, feeds_dir=feeds)


def test_file_over_max_file_bytes_is_rejected(tmp_path: Path, settings: Settings) -> None:
    small = _feeds_with(
        tmp_path, settings, "nbtc_telecom", "type: ndjson", "type: ndjson\n  max_file_bytes: 100"
    )
    (small.inbox_dir / "nbtc_telecom_2025-01.ndjson").write_bytes(ndjson_bytes(nbtc_lines(5)))
    (report,) = ingest_inbox(small)
    assert report.files_rejected == 1 and "max_file_bytes" in (report.error or "")


@pytest.mark.slow
def test_zip_bomb_refused_quickly_with_bounded_memory(tmp_path: Path, settings: Settings) -> None:
    bomb = make_zip_bomb(settings.inbox_dir / "mfa_assistance_2025-04.xlsx", 300)
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    started = time.process_time()
    (report,) = ingest_inbox(settings)
    elapsed = time.process_time() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.files_rejected == 1 and "zip bomb" in (report.error or "")
    assert elapsed < 5 and peak < 32 << 20
    assert not list(LandingArchive(settings.landing_dir).iter_manifest())  # never landed


def test_line_over_64_mib_in_inbox_is_rejected(settings: Settings) -> None:
    path = settings.inbox_dir / "nbtc_telecom_2025-02.ndjson"
    with open(path, "wb") as fh:
        fh.write(b'{"month": "2025-02", "province": "')
        for _ in range(65):
            fh.write(b"y" * (1 << 20))
        fh.write(b'"}\n')
    (report,) = ingest_inbox(settings)
    assert (
        report.files_rejected == 1 and "line 1" in (report.error or "") and "max_line_bytes" in report.error
    )
    assert (settings.inbox_dir / ".rejected" / path.name).exists()
    assert report.rows_in == 0 and report.files_loaded == 0  # landed as delivered, nothing of it loaded
