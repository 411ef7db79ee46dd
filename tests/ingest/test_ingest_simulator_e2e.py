"""End to end against the real feed simulator on loopback: all five feeds, reruns, clock, faults, replay."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from test_ingest_replay_crash import snapshot

from borderwatch.config import Settings
from borderwatch.ingest import LoadReport, ingest_all, replay

server = pytest.importorskip("borderwatch.simulator.server")

START = dt.date(2025, 2, 28)
LATER = dt.date(2025, 3, 31)


@pytest.fixture(scope="module")
def sim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("simcache")


@pytest.fixture
def sim(
    sim_cache: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[object, Settings]]:
    # Retry-After is honoured (unit-tested); here its cap is lowered, the simulator asks 1 s per path.
    monkeypatch.setattr("borderwatch.ingest.http.MAX_RETRY_AFTER", 0.01)
    with server.SimulatorServer(cache_dir=sim_cache, until=START) as s:
        yield s, dataclasses.replace(settings, simulator_url=s.url)


def by_feed(reports: list[LoadReport]) -> dict[str, LoadReport]:
    return {r.feed: r for r in reports}


def counts(settings: Settings) -> dict[str, int]:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        tables = ["kh_gdi_deportations", "th_imm_receptions", "mfa_assistance_snapshots",
                  "mfa_assistance_movements", "nbtc_telecom", "rtp_raids"]  # fmt: skip
        return {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in tables}  # type: ignore[index]
    finally:
        con.close()


def records(settings: Settings, table: str) -> list[tuple]:  # type: ignore[type-arg]
    """A table's data columns and row hash, without file lineage."""
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        lineage = "_feed, _file_sha256, _row_number, _load_id, _loaded_at"
        return con.execute(f"SELECT * EXCLUDE ({lineage}) FROM raw.{table} ORDER BY ALL").fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_all_feeds_rerun_clock_and_replay(tmp_path: Path, sim: tuple[object, Settings]) -> None:
    simulator, settings = sim
    first = by_feed(ingest_all(settings))
    assert {r.status for r in first.values()} == {"loaded"}, {f: r.error for f, r in first.items()}
    assert all(r.balanced for r in first.values())
    loaded = counts(settings)
    assert all(loaded.values()), loaded

    rerun = by_feed(ingest_all(settings))
    assert {r.status for r in rerun.values()} == {"unchanged"}
    assert sum(r.rows_loaded for r in rerun.values()) == 0 and counts(settings) == loaded

    simulator.set_clock(LATER)  # type: ignore[attr-defined]
    later = by_feed(ingest_all(settings))
    assert later["kh_gdi_deportations"].rows_loaded > 0 and later["th_imm_receptions"].rows_loaded > 0
    assert all(r.status != "failed" for r in later.values())

    original = snapshot(settings.build_db)
    replay(settings, tmp_path / "replayed.duckdb")
    assert snapshot(tmp_path / "replayed.duckdb") == original


@pytest.mark.slow
def test_transient_faults_and_out_of_order_pages_change_nothing(
    tmp_path: Path, sim: tuple[object, Settings]
) -> None:
    simulator, settings = sim
    simulator.set_faults(["rate_limit", "server_error", "truncated_body", "out_of_order_pages"])  # type: ignore[attr-defined]
    faulty = by_feed(ingest_all(settings))
    assert {r.status for r in faulty.values()} == {"loaded"}, {f: r.error for f, r in faulty.items()}

    clean = dataclasses.replace(settings, home=tmp_path / "clean")
    clean.ensure_dirs()
    simulator.set_faults([])  # type: ignore[attr-defined]
    ingest_all(clean)
    # pages were shuffled, so row numbers and page hashes differ; the rows themselves must not
    assert records(settings, "rtp_raids") == records(clean, "rtp_raids")
    assert counts(settings) == counts(clean)


@pytest.mark.slow
def test_drift_fails_closed_and_duplicates_are_dropped(sim: tuple[object, Settings]) -> None:
    simulator, settings = sim
    simulator.set_faults(["schema_drift_renamed", "duplicate_delivery"])  # type: ignore[attr-defined]
    reports = by_feed(ingest_all(settings))
    for feed in ("kh_gdi_deportations", "th_imm_receptions"):
        assert reports[feed].status == "failed" and "schema drift" in (reports[feed].error or "")
    assert reports["nbtc_telecom"].status == "loaded" and reports["nbtc_telecom"].files_duplicate == 1
    assert reports["rtp_raids"].rows_duplicate >= 1  # each page repeats its first record
    assert all(r.balanced for r in reports.values())
