"""End to end: the simulator on loopback → ingest → dbt build → audit → publish, then the published
warehouse is checked the way a BI user would read it (read-only, through ``current.duckdb``).

One refresh for the module (dbt and GX start-up dominate), then many assertions on its result.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import Settings, get_settings
from borderwatch.simulator.server import SimulatorServer

pytestmark = pytest.mark.slow


@dataclasses.dataclass
class Run:
    settings: Settings
    first: pipeline.RefreshSummary
    second: pipeline.RefreshSummary
    sim_url: str


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    home = tmp_path_factory.mktemp("e2e") / "home"
    with SimulatorServer(port=0, seed=7, scale=1.0) as sim:
        settings = dataclasses.replace(get_settings(home), simulator_url=sim.url)
        first = pipeline.refresh(settings)
        second = pipeline.refresh(settings)
        yield Run(settings, first, second, sim.url)


def _query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.current_db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_every_feed_loaded_and_every_report_balances(refreshed: Run) -> None:
    loads = {r.feed: r for r in refreshed.first.loads if r.source == "pull"}
    assert set(loads) == {
        "rtp_raids",
        "kh_ncct_raids",
        "kh_gdi_deportations",
        "th_imm_receptions",
        "mfa_assistance",
        "nbtc_telecom",
    }
    for report in loads.values():
        assert report.status == "loaded", report.error
        assert report.rows_loaded > 0
        assert report.balanced
    assert loads["kh_gdi_deportations"].files_duplicate >= 1  # the re-sent bulletin is recognised


def test_second_run_adds_zero_rows_and_publishes_the_same_marts(refreshed: Run) -> None:
    assert refreshed.second.new_rows == 0
    assert all(r.status in ("unchanged", "loaded") and r.rows_loaded == 0 for r in refreshed.second.loads)
    assert refreshed.first.publication is not None and refreshed.second.publication is not None
    assert refreshed.first.publication.row_counts == refreshed.second.publication.row_counts
    # Nothing new: no new version is written, the one being served stays (and keeps its retention slot).
    assert refreshed.second.publication.unchanged is True
    assert refreshed.second.publication.version == refreshed.first.publication.version


def test_current_points_at_a_complete_read_only_publication(refreshed: Run) -> None:
    settings = refreshed.settings
    pub = refreshed.second.publication
    assert pub is not None
    manifest = json.loads((settings.current_dir / "manifest.json").read_text())
    assert manifest["version"] == pub.version
    for table, rows in manifest["row_counts"].items():
        assert _query(settings, f"select count(*) from {table}")[0][0] == rows
        assert (
            settings.current_dir / "parquet" / table.split(".")[-1] / f"{pub.version}.parquet"
        ).exists() or table.startswith("reference.")
    with pytest.raises(duckdb.Error):
        con = duckdb.connect(str(settings.current_db), read_only=True)
        try:
            con.execute("create table intruder as select 1")
        finally:
            con.close()


def test_public_figures_come_out_of_the_marts(refreshed: Run) -> None:
    s = refreshed.settings
    snap = dict(
        _query(
            s,
            "select nationality_iso3, persons_assisted_cumulative from marts.fct_assistance_snapshots "
            "where as_of_date = date '2025-03-31'",
        )
    )
    assert "ALL" not in snap  # totals live in their own mart: a BI SUM never adds a total to its parts
    assert (snap["CHN"], snap["IDN"], snap["IND"]) == (3634, 653, 549)
    total = _query(
        s,
        "select persons_assisted_cumulative, persons_repatriated_cumulative, figure_origin "
        "from marts.fct_assistance_totals where as_of_date = date '2025-03-31'",
    )
    assert total == [(7372, 4895, "stated")]
    thai_from_poipet = _query(
        s,
        """
        select sum(persons_total) from marts.fct_deportations as d
        join marts.dim_site as s on s.site_id = d.crossing_site_id
        where d.nationality_iso3 = 'THA' and d.from_country_iso3 = 'KHM'
          and d.handover_date between date '2025-03-01' and date '2025-03-31'
          and s.name ilike '%poipet%'
        """,
    )
    assert thai_from_poipet == [(93,)]


def test_the_cambodian_and_thai_reports_of_one_batch_are_one_row(refreshed: Run) -> None:
    rows = _query(
        refreshed.settings,
        """
        select reported_by, count(*) from marts.fct_deportations
        where nationality_iso3 = 'THA' and handover_date between date '2025-03-01' and date '2025-03-31'
          and crossing_site_id = 'xing_poipet_aranyaprathet' and from_country_iso3 = 'KHM'
        group by all
        """,
    )
    assert dict(rows) == {"both": 3}  # three batches, each reported by Cambodia and by Thailand
    conflicts = _query(refreshed.settings, "select count(*) from marts.fct_deportations where has_conflict")
    assert conflicts[0][0] >= 1


def test_latest_snapshot_view_has_one_row_per_nationality(refreshed: Run) -> None:
    rows = _query(
        refreshed.settings,
        "select nationality_iso3, count(*) from marts.fct_assistance_snapshots_latest "
        "group by all having count(*) > 1",
    )
    assert rows == []


def test_gate_summary_and_data_docs_are_kept(refreshed: Run) -> None:
    gate = refreshed.second.gate
    assert gate is not None and gate.passed
    assert gate.summary_path is not None and Path(gate.summary_path).exists()
    assert gate.data_docs_path is not None and Path(gate.data_docs_path).exists()


def test_a_bi_tool_reads_current_through_sqlalchemy_while_the_build_file_is_held(refreshed: Run) -> None:
    """The README's connection string works, read-only, even while the pipeline writes its build file."""
    import sqlalchemy as sa

    settings = refreshed.settings
    writer = duckdb.connect(str(settings.build_db))  # the pipeline holding its single-writer file
    try:
        engine = sa.create_engine(f"duckdb:///{settings.current_db}?access_mode=read_only")
        with engine.connect() as con:
            rows = con.execute(sa.text("select count(*) from marts.fct_deportations")).scalar_one()
            assert rows == refreshed.second.publication.row_counts["marts.fct_deportations"]
            with pytest.raises(sa.exc.DBAPIError):
                con.execute(sa.text("create table intruder as select 1"))
        engine.dispose()
        parquet = duckdb.sql(
            f"select count(*) from '{settings.current_dir / 'parquet' / 'fct_deportations' / '*.parquet'}'"
        ).fetchall()
        assert parquet == [(rows,)]
    finally:
        writer.close()


def _check(settings: Settings, check_id: str) -> tuple:
    rows = _query(
        settings,
        "select value_left, value_right, status, left_sources, right_sources from marts.fct_reconciliation "
        f"where check_id = '{check_id}'",
    )
    assert len(rows) == 1, check_id
    return rows[0]


def test_every_disagreement_class_of_the_default_scenario_is_a_reconciliation_row(refreshed: Run) -> None:
    """Issue 9's note: the row each class (C1-C10) produces in the default run."""
    s = refreshed.settings
    incidents = dict(_query(s, "select report_id, incident_id from marts.fct_raid_reports"))
    # C1: explicit ref, rule only, analyst unlink, analyst link
    assert incidents["KH-NCCT-2025-0031"] == incidents["RTP-2025-000031"] == "RTP-2025-000031"
    assert incidents["KH-NCCT-2025-0044"] == "RTP-2025-000044"
    assert incidents["KH-NCCT-2025-0901"] != incidents["RTP-2025-000901"]
    assert incidents["KH-NCCT-2025-0902"] == "RTP-2025-000902"
    found = _check(s, "raid_reports_disagree:RTP-2025-000031:KH-NCCT-2025-0031:people_found")
    assert found[:3] == (215, 228, "conflict")
    assert found[3:] == ("rtp_raids:RTP-2025-000031", "kh_ncct_raids:KH-NCCT-2025-0031")
    assert _check(s, "raid_reports_disagree:RTP-2025-000044:KH-NCCT-2025-0044:people_found")[:3] == (
        36,
        38,
        "conflict",
    )
    # C2: more Thai deported in a batch citing the raid than the raid found
    # (the receiving checkpoint counted 39 of the bulletin's 41; the raid's 30 Thai include a minors cell
    # under 11, so the found side is published as NULL: status and sources stay)
    deported = _check(s, "raid_vs_deportation:RTP-2025-000044:THA")
    assert (deported[0], deported[1], deported[2]) == (39, None, "conflict")
    assert "kh_gdi_deportations:" in deported[3] and "_raids:" in deported[4]
    # C3: the VNM legs add up to 25 less than the April snapshot change
    legs = _check(s, "legs_vs_snapshot:VNM:2025-04-30")
    assert legs[0] - legs[1] == -25 and legs[2] == "conflict"
    # C4, C5
    period = _query(
        s,
        "select value_left, value_right, status from marts.fct_reconciliation where rule = 'period_vs_legs' "
        "and nationality_iso3 = 'CHN' and check_id like '%:persons' and check_date = date '2025-03-14'",
    )
    assert period == [(806, 810, "conflict")]
    assert _check(s, "plan_vs_execution:PLAN-IDN-2025-03:persons")[:3] == (554, 400, "conflict")
    assert _check(s, "plan_vs_schedule:PLAN-CHN-2025-R3:flights")[:3] == (11, 10, "conflict")
    # C6: a workbook without a total row gives a derived total
    assert ("derived",) in _query(s, "select distinct figure_origin from marts.fct_assistance_totals")
    # C7: minors cells and minors on batches, under k = 11
    assert _query(s, "select count(*) from marts.fct_raid_persons where age_group = 'minor'")[0][0] >= 1
    assert _query(s, "select count(*) from marts.fct_raid_persons where persons < 11")[0][0] == 0
    assert _query(s, "select count(*) from marts.fct_deportations where is_minor_suppressed")[0][0] >= 1
    # C8: arrest-only raids are never a conflict
    assert _query(s, "select has_conflict from marts.fct_raids where incident_id = 'RTP-2025-000060'") == [
        (False,)
    ]
    # C9: the unknown labels are listed (the RTP cell and the quarantined KH-NCCT line), never mapped
    labels = _query(
        s, "select subject_type, detail from marts.fct_reconciliation where rule = 'unknown_label'"
    )
    assert {kind for kind, _ in labels} == {"incident", "file"}
    assert any("teen" in detail for _, detail in labels)
    # C10: summaries and notes published as text
    assert (
        "228 victims rescued"
        in _query(s, "select notes from marts.fct_raid_reports where report_id = 'KH-NCCT-2025-0031'")[0][0]
    )
    assert _query(s, "select count(*) from marts.fct_repatriation_periods where note is not null")[0][0] >= 1
