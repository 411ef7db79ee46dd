"""The marts built from the hand-written raw fixture: matching, conflicts, revisions, privacy, incremental."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from conftest import WarehouseRun, query

pytestmark = pytest.mark.slow


def test_both_builds_pass_every_dbt_test(wh_run: WarehouseRun) -> None:
    for build in (wh_run.first, wh_run.second):
        assert build.ok, build.failed_tests or [r for r in build.results if r["status"] == "error"]
        assert build.failed_tests == []
        # the fixture holds every disagreement class: conflicts warn (never block), and nothing else does
        assert [w.split(".")[2] for w in build.warned_tests] == ["reconciliation_checks_agree"], (
            build.warned_tests
        )
    statuses = {r["resource_type"] for r in wh_run.first.results}
    assert {"model", "seed", "test", "unit_test"} <= statuses
    unit = [r for r in wh_run.first.results if r["resource_type"] == "unit_test"]
    assert len(unit) >= 4 and all(r["status"] == "pass" for r in unit)
    # the second build runs on the same code and seeds: its unit tests and seed loads are not repeated
    assert {"model", "test"} <= {r["resource_type"] for r in wh_run.second.results}
    assert not [r for r in wh_run.second.results if r["resource_type"] in ("unit_test", "seed")]
    assert wh_run.first.not_rerun == []
    skipped = {uid.split(".")[0] for uid in wh_run.second.not_rerun}
    assert skipped == {"unit_test", "seed", "test"}, wh_run.second.not_rerun  # tests reading only seeds
    ran = {r["unique_id"] for r in wh_run.second.results}
    assert not ran & set(wh_run.second.not_rerun)
    assert "test.borderwatch.unique_countries_iso3" in {u.rsplit(".", 1)[0] for u in wh_run.second.not_rerun}
    assert wh_run.second.manifest_path and wh_run.second.manifest_path.exists()
    # freshness: one result per dbt source table, never the project's on-run hooks
    fresh = [r["unique_id"] for r in wh_run.second.results if r["resource_type"] == "source"]
    assert fresh and all(uid.startswith("source.borderwatch.") for uid in fresh), fresh
    # incidents: two agencies' reports of one raid are one row
    assert wh_run.second.row_counts["fct_raids"] == 8
    assert wh_run.second.row_counts["fct_raid_reports"] == 11
    assert wh_run.second.elapsed_s < 120


def test_schemas_are_exactly_the_layer_names(wh_run: WarehouseRun) -> None:
    schemas = {
        r["table_schema"] for r in wh_run.query("select distinct table_schema from information_schema.tables")
    }
    assert {"raw", "staging", "intermediate", "marts", "reference"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_matched_batch_is_one_row_and_gives_93_thais_at_poipet(wh_run: WarehouseRun) -> None:
    rows = wh_run.query(
        "select * from marts.fct_deportations where nationality_iso3 = 'THA' "
        "and crossing_site_id = 'xing_poipet_aranyaprathet' and from_country_iso3 = 'KHM' "
        "and handover_date between date '2025-03-01' and date '2025-03-31'"
    )
    assert len(rows) == 1
    assert rows[0]["persons_total"] == 93 and rows[0]["reported_by"] == "both"
    assert rows[0]["received_date"] == date(2025, 3, 15) and rows[0]["incident_id"] == "RTP-2025-000102"
    assert not rows[0]["has_conflict"]


def test_disagreeing_batch_is_flagged_and_both_claims_kept(wh_run: WarehouseRun) -> None:
    (dep,) = wh_run.query("select * from marts.fct_deportations where deportation_id = 'KH-GDI-032-1'")
    assert dep["has_conflict"] and dep["reported_by"] == "both"
    assert (dep["sending_persons_total"], dep["receiving_persons_total"], dep["persons_total"]) == (
        40,
        42,
        42,
    )
    claims = wh_run.query(
        "select source_feed, value, is_used, has_conflict, resolution from marts.fct_figure_claims "
        "where conflict_group_id = 'fct_deportations:KH-GDI-032-1:persons_deported:T' order by source_feed"
    )
    assert [(c["source_feed"], c["value"], c["is_used"]) for c in claims] == [
        ("kh_gdi_deportations", 40, False),
        ("th_imm_receptions", 42, True),
    ]
    assert all(c["has_conflict"] for c in claims)
    assert "receiving_checkpoint_count" in claims[1]["resolution"]


def test_incremental_build_matches_a_late_reception_and_drops_the_one_sided_row(wh_run: WarehouseRun) -> None:
    assert wh_run.first_deportations["KH-GDI-031-2"]["reported_by"] == "sending"
    (dep,) = wh_run.query("select * from marts.fct_deportations where deportation_id = 'KH-GDI-031-2'")
    assert dep["reported_by"] == "both" and dep["received_date"] == date(2025, 3, 15)
    assert wh_run.query("select * from marts.fct_deportations where deportation_id = 'TH-IMM-68-0004'") == []


def test_incremental_marts_equal_a_full_refresh(wh_run: WarehouseRun) -> None:
    for mart, key in (
        ("fct_deportations", "deportation_id"),
        ("fct_telecom_actions", "telecom_action_id"),
        ("fct_figure_claims", "claim_id"),
    ):
        sql = f"select * exclude (_loaded_at) from marts.{mart} order by {key}"
        assert wh_run.query(sql) == query(wh_run.full_refresh_copy, sql), mart


def test_revision_updates_the_fact_and_history_keeps_the_old_value(wh_run: WarehouseRun) -> None:
    (raid,) = wh_run.query("select * from marts.fct_raids where incident_id = 'RTP-2025-000101'")
    assert raid["persons_detained"] == 125 and raid["revision_count"] == 2
    assert raid["first_reported_at"] == datetime(2025, 2, 20, 3, 15)
    assert raid["last_revised_at"] == datetime(2025, 2, 22, 9, 0)
    assert (raid["admin1_iso"], raid["country_iso3"], raid["lead_agency_id"]) == ("TH-63", "THA", "RTP")
    (as_of_feb_21,) = wh_run.query(
        "select persons_detained from marts.fct_raids_history where raid_id = 'RTP-2025-000101' "
        "and valid_from <= timestamp '2025-02-21' "
        "and (valid_to > timestamp '2025-02-21' or valid_to is null) "
        "and not is_deleted"
    )
    assert as_of_feb_21["persons_detained"] == 120
    # every version names the incident fct_raids serves, so history joins the other agencies' reports
    incidents = wh_run.query(
        "select distinct incident_id from marts.fct_raids_history where raid_id = 'RTP-2025-000101'"
    )
    assert incidents == [{"incident_id": raid["incident_id"]}]


def test_khmer_labels_resolve_to_codes(wh_run: WarehouseRun) -> None:
    (raid,) = wh_run.query("select * from marts.fct_raids where incident_id = 'RTP-2025-000102'")
    assert (raid["country_iso3"], raid["admin1_iso"], raid["site_id"]) == ("KHM", "KH-1", "cmp_poipet")
    # RTP + KH-NCCT report the raid, KH-GDI and TH-IMM cite it in a batch's remarks
    assert raid["date_precision"] == "month" and raid["source_count"] == 4


def test_tombstoned_raid_leaves_current_marts_but_not_history(wh_run: WarehouseRun) -> None:
    op = "RTP-2025-000103"
    assert wh_run.query("select * from marts.fct_raids where incident_id = ?", [op]) == []
    assert wh_run.query("select * from marts.fct_raid_reports where report_id = ?", [op]) == []
    assert wh_run.query("select * from marts.fct_figure_claims where fact_key = ?", [op]) == []
    history = wh_run.query(
        "select is_deleted, incident_id from marts.fct_raids_history where raid_id = ? order by 1", [op]
    )
    assert [h["is_deleted"] for h in history] == [False, True]
    assert {h["incident_id"] for h in history} == {None}, "a withdrawn operation belongs to no incident"


def test_small_cell_is_hidden_with_a_secondary_cell(wh_run: WarehouseRun) -> None:
    rows = {
        (r["nationality_iso3"], r["sex"]): r
        for r in wh_run.query("select * from marts.fct_raid_persons where incident_id = 'RTP-2025-000101'")
    }
    assert rows[("TWN", "F")]["persons"] is None and rows[("TWN", "F")]["is_suppressed"]
    assert rows[("XXU", "U")]["persons"] is None and rows[("XXU", "U")]["is_suppressed"]
    assert rows[("IDN", "M")]["persons"] == 25 and not rows[("IDN", "M")]["is_suppressed"]
    (leaks,) = wh_run.query(
        "select (select count(*) from marts.fct_raid_persons where persons < 11)"
        " + (select count(*) from marts.fct_figure_claims where sex is not null and value < 11)"
        " + (select count(*) from marts.fct_deportations where least(persons_male, persons_female) < 11)"
        " + (select count(*) from marts.fct_deportations where persons_minor < 11)"
        " + (select count(*) from marts.fct_reconciliation where is_suppressed and"
        "    (value_left < 11 or value_right < 11 or delta is not null)) as n"
    )
    assert leaks["n"] == 0
    (hidden,) = wh_run.query(
        "select persons_male, persons_female, is_suppressed from marts.fct_deportations "
        "where deportation_id = 'KH-GDI-031-2'"
    )
    assert hidden == {"persons_male": None, "persons_female": None, "is_suppressed": True}


def test_assistance_snapshots_give_the_public_figures(wh_run: WarehouseRun) -> None:
    latest = {
        r["nationality_iso3"]: r for r in wh_run.query("select * from marts.fct_assistance_snapshots_latest")
    }
    assert {r["as_of_date"] for r in latest.values()} == {date(2025, 3, 31)}
    # totals live apart: a SUM over the latest rows never adds a total to its parts
    assert "ALL" not in latest
    (total,) = wh_run.query(
        "select * from marts.fct_assistance_totals where as_of_date = (select max(as_of_date) "
        "from marts.fct_assistance_totals)"
    )
    assert (total["persons_assisted_cumulative"], total["persons_repatriated_cumulative"]) == (7372, 4895)
    assert total["figure_origin"] == "stated"
    assert (latest["CHN"]["persons_assisted_cumulative"], latest["IDN"]["persons_assisted_cumulative"]) == (
        3634,
        653,
    )
    assert latest["IND"]["persons_assisted_cumulative"] == 549
    assert "TWN" in latest and "XXU" in latest
    dates = wh_run.query("select distinct as_of_date from marts.fct_assistance_snapshots order by 1")
    assert [d["as_of_date"] for d in dates] == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]


def test_repatriations_resolve_sites_by_mode(wh_run: WarehouseRun) -> None:
    rows = {r["repatriation_id"]: r for r in wh_run.query("select * from marts.fct_repatriations")}
    assert rows["MOV-0001"]["departure_site_id"] == "apt_mae_sot"
    assert rows["MOV-0002"]["departure_site_id"] == "xing_mae_sot_myawaddy"
    assert rows["MOV-0004"]["status"] == "planned"
    assert (rows["MOV-0001"]["held_in_country_iso3"], rows["MOV-0001"]["destination_country_iso3"]) == (
        "MMR",
        "CHN",
    )


def test_telecom_national_row_and_thai_spelling_correction(wh_run: WarehouseRun) -> None:
    rows = {r["admin1_iso"]: r for r in wh_run.query("select * from marts.fct_telecom_actions")}
    assert rows["TH"]["is_national"] and rows["TH"]["count"] == 28112
    assert rows["TH-27"]["count"] == 7400 and rows["TH-57"]["count"] == 4231
    claims = wh_run.query(
        "select value, is_used from marts.fct_figure_claims where fact_table = 'fct_telecom_actions' "
        "and fact_key = '2025-01|TH-27|numbers_suspended' order by value"
    )
    assert [(c["value"], c["is_used"]) for c in claims] == [(7331, False), (7400, True)]


def test_dim_date_thai_calendars(wh_run: WarehouseRun) -> None:
    rows = {
        r["date_day"]: r
        for r in wh_run.query(
            "select * from marts.dim_date "
            "where date_day in (date '2024-09-30', date '2024-10-01', date '2025-09-30')"
        )
    }
    assert rows[date(2024, 10, 1)]["thai_fiscal_year_be"] == 2568
    assert rows[date(2025, 9, 30)]["thai_fiscal_year_be"] == 2568
    assert rows[date(2024, 9, 30)]["thai_fiscal_year_be"] == 2567
    assert rows[date(2024, 9, 30)]["be_year"] == 2567
