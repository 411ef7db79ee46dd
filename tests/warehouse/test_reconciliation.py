"""Issue 9: every disagreement class of the raw fixture (C1-C10) produces its row in fct_reconciliation and
the marts, and the sums the README calls safe give the right numbers the way a BI tool sums them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from conftest import WarehouseRun

pytestmark = pytest.mark.slow


def _check(wh_run: WarehouseRun, check_id: str) -> dict[str, Any]:
    rows = wh_run.query("select * from marts.fct_reconciliation where check_id = ?", [check_id])
    assert len(rows) == 1, (
        check_id,
        wh_run.query("select check_id from marts.fct_reconciliation order by 1"),
    )
    return rows[0]


def _sides(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["value_left"], row["value_right"], row["delta"], row["status"]


def _one(wh_run: WarehouseRun, sql: str, params: list[Any] | None = None) -> Any:
    ((value,),) = [tuple(r.values()) for r in wh_run.query(sql, params)]
    return value


def test_c1_two_agencies_one_raid_is_one_incident_with_each_disagreement_flagged(
    wh_run: WarehouseRun,
) -> None:
    reports = {
        r["report_id"]: r
        for r in wh_run.query("select * from marts.fct_raid_reports where incident_id = 'RTP-2025-000102'")
    }
    assert set(reports) == {"RTP-2025-000102", "KH-NCCT-2025-0001"}
    assert reports["KH-NCCT-2025-0001"]["link_rule"] == "explicit_ref"
    assert "KH-NCCT-2025-0001 cites RTP-2025-000102" in reports["KH-NCCT-2025-0001"]["link_reason"]
    # one says 280 rescued, the other 300 detained: the same people found, compared as a family
    row = _check(wh_run, "raid_reports_disagree:RTP-2025-000102:KH-NCCT-2025-0001:people_found")
    assert _sides(row) == (300, 280, 20, "conflict")
    assert (row["metric_left"], row["metric_right"]) == (
        "persons_detained+persons_rescued",
        "persons_rescued",
    )
    assert (row["left_sources"], row["right_sources"]) == (
        "rtp_raids:RTP-2025-000102",
        "kh_ncct_raids:KH-NCCT-2025-0001",
    )
    (raid,) = wh_run.query("select * from marts.fct_raids where incident_id = 'RTP-2025-000102'")
    assert (raid["report_count"], raid["reported_by"], raid["has_conflict"]) == (2, "KH-NCCT, RTP", True)
    # figures come from one report (the one that found the most people), never mixed across agencies
    assert (raid["persons_detained"], raid["persons_rescued"], raid["figure_report_id"]) == (
        300,
        0,
        "RTP-2025-000102",
    )


def test_c1_breakdowns_of_two_reports_are_compared_by_nationality(wh_run: WarehouseRun) -> None:
    thai = _check(wh_run, "raid_reports_disagree:RTP-2025-000104:KH-NCCT-2025-0002:THA")
    assert _sides(thai) == (40, 42, -2, "conflict")
    # the Vietnamese cells of the published breakdown include a hidden one: both sides hidden, status kept
    vnm = _check(wh_run, "raid_reports_disagree:RTP-2025-000104:KH-NCCT-2025-0002:VNM")
    assert _sides(vnm) == (None, None, None, "conflict") and vnm["is_suppressed"]


def test_c1_rule_only_link_and_the_analyst_seed(wh_run: WarehouseRun) -> None:
    (ncct,) = wh_run.query("select * from marts.fct_raid_reports where report_id = 'KH-NCCT-2025-0002'")
    assert (ncct["incident_id"], ncct["link_rule"]) == ("RTP-2025-000104", "site_date_nationality")
    assert "same site cmp_poipet" in ncct["link_reason"] and "THA" in ncct["link_reason"]
    assert _sides(
        _check(wh_run, "raid_reports_disagree:RTP-2025-000104:KH-NCCT-2025-0002:persons_detained")
    ) == (
        60,
        61,
        -1,
        "conflict",
    )
    # unlinked by the analyst although the rule matches: two incidents, the reason kept on both reports
    unlinked = {
        r["report_id"]: r
        for r in wh_run.query(
            "select * from marts.fct_raid_reports where report_id in ('RTP-2025-000901', 'KH-NCCT-2025-0901')"
        )
    }
    assert {r["incident_id"] for r in unlinked.values()} == {"RTP-2025-000901", "KH-NCCT-2025-0901"}
    assert all(r["link_rule"] == "singleton" for r in unlinked.values())
    assert all(
        "analyst_unlink" in r["link_reason"] and "two operations" in r["link_reason"]
        for r in unlinked.values()
    )
    # linked by the analyst: the KH-NCCT site spelling is unknown, so no rule could
    (linked,) = wh_run.query("select * from marts.fct_raid_reports where report_id = 'KH-NCCT-2025-0902'")
    assert (linked["incident_id"], linked["link_rule"], linked["site_id"]) == (
        "RTP-2025-000902",
        "analyst_link",
        None,
    )


def test_c2_more_deported_than_the_raid_found(wh_run: WarehouseRun) -> None:
    row = _check(wh_run, "raid_vs_deportation:RTP-2025-000104:THA")
    assert _sides(row) == (45, 42, 3, "conflict")
    assert row["left_sources"] == "kh_gdi_deportations:KH-GDI-040-1"
    assert row["right_sources"] == "kh_ncct_raids:KH-NCCT-2025-0002"
    assert _check(wh_run, "raid_vs_deportation:RTP-2025-000102:THA")["status"] == "agree"
    (dep,) = wh_run.query("select * from marts.fct_deportations where deportation_id = 'KH-GDI-040-1'")
    assert (dep["raid_report_id"], dep["incident_id"]) == ("RTP-2025-000104", "RTP-2025-000104")


def test_c3_legs_add_up_to_less_than_the_snapshot_change(wh_run: WarehouseRun) -> None:
    row = _check(wh_run, "legs_vs_snapshot:CHN:2025-03-31")
    assert _sides(row) == (450, 500, -50, "conflict")
    assert row["left_sources"] == "mfa_assistance_movements:MOV-0005"
    assert "2025-02-28|CHN" in row["right_sources"] and "2025-03-31|CHN" in row["right_sources"]
    assert _check(wh_run, "legs_vs_snapshot:CHN:2025-02-28")["status"] == "agree"
    assert _check(wh_run, "legs_vs_snapshot:IDN:2025-03-31")["status"] == "agree"


def test_c4_period_total_is_its_own_grain_and_disagrees_with_its_legs(wh_run: WarehouseRun) -> None:
    (period,) = wh_run.query("select * from marts.fct_repatriation_periods")
    assert (period["period_id"], period["period_start"], period["period_end"], period["persons"]) == (
        "MOV-P01",
        date(2025, 3, 6),
        date(2025, 3, 9),
        455,
    )
    assert wh_run.query("select * from marts.fct_repatriations where repatriation_id = 'MOV-P01'") == []
    assert _sides(_check(wh_run, "period_vs_legs:MOV-P01:persons")) == (455, 450, 5, "conflict")


def test_c5_plan_vs_execution_and_plan_vs_schedule(wh_run: WarehouseRun) -> None:
    (plan,) = wh_run.query("select * from marts.fct_repatriation_plans where plan_id = 'PLAN-IDN-01'")
    assert (plan["persons_planned"], plan["flights_planned"], plan["figure_origin"]) == (554, 4, "stated")
    assert (plan["scheduled_legs"], plan["scheduled_flights"], plan["executed_persons"]) == (3, 3, 400)
    assert _sides(_check(wh_run, "plan_vs_schedule:PLAN-IDN-01:flights")) == (4, 3, 1, "conflict")
    assert _sides(_check(wh_run, "plan_vs_execution:PLAN-IDN-01:persons")) == (554, 400, 154, "conflict")
    leg = wh_run.query("select * from marts.fct_repatriations where repatriation_id = 'MOV-0003'")[0]
    assert (leg["plan_id"], leg["flights"], leg["persons_male"], leg["persons_female"]) == (
        "PLAN-IDN-01",
        2,
        313,
        87,
    )


def test_c6_a_workbook_without_total_row_gives_a_derived_total(wh_run: WarehouseRun) -> None:
    totals = {r["as_of_date"]: r for r in wh_run.query("select * from marts.fct_assistance_totals")}
    jan = totals[date(2025, 1, 31)]
    assert (jan["persons_assisted_cumulative"], jan["persons_repatriated_cumulative"]) == (4040, 2166)
    assert jan["figure_origin"] == "derived"
    assert totals[date(2025, 3, 31)]["figure_origin"] == "stated"
    assert (
        _check(wh_run, "derived_vs_stated_total:2025-03-31:persons_assisted_cumulative")["status"] == "agree"
    )


def test_c7_age_cells_and_minors_follow_k11(wh_run: WarehouseRun) -> None:
    cells = {
        (r["nationality_iso3"], r["sex"], r["age_group"]): r
        for r in wh_run.query("select * from marts.fct_raid_persons where incident_id = 'RTP-2025-000104'")
    }
    # the incident's breakdown is KH-NCCT's (61 people), never RTP's added to it
    assert {r["report_id"] for r in cells.values()} == {"KH-NCCT-2025-0002"}
    assert cells[("THA", "M", "minor")]["persons"] == 12
    assert cells[("VNM", "F", "minor")]["persons"] is None and cells[("VNM", "F", "minor")]["is_suppressed"]
    assert cells[("VNM", "M", "adult")]["is_suppressed"]  # secondary: the incident total would reveal the 8
    deps = {r["deportation_id"]: r for r in wh_run.query("select * from marts.fct_deportations")}
    assert (deps["KH-GDI-031-1"]["persons_minor"], deps["KH-GDI-031-1"]["is_minor_suppressed"]) == (14, False)
    assert (deps["KH-GDI-040-1"]["persons_minor"], deps["KH-GDI-040-1"]["is_minor_suppressed"]) == (
        None,
        True,
    )


def test_c8_arrest_only_raids_are_no_conflict(wh_run: WarehouseRun) -> None:
    raids = {
        r["incident_id"]: r
        for r in wh_run.query(
            "select * from marts.fct_raids where incident_id in ('RTP-2025-000105', 'RTP-2025-000106')"
        )
    }
    assert not raids["RTP-2025-000105"]["has_conflict"] and not raids["RTP-2025-000106"]["has_conflict"]
    # 12 arrested suspects named in the breakdown: arrests count as people found
    assert _check(wh_run, "breakdown_vs_total:RTP-2025-000106:RTP-2025-000106")["status"] == "agree"
    assert (
        wh_run.query(
            "select * from marts.fct_reconciliation "
            "where subject_id in ('RTP-2025-000105', 'RTP-2025-000106') "
            "and status = 'conflict'"
        )
        == []
    )


def test_c9_unknown_label_is_listed_never_mapped(wh_run: WarehouseRun) -> None:
    rows = {
        r["subject_type"]: r
        for r in wh_run.query("select * from marts.fct_reconciliation where rule = 'unknown_label'")
    }
    assert set(rows) == {"incident", "file"}
    cell = rows["incident"]  # a JSON breakdown cell: excluded from the facts and listed
    assert cell["subject_id"] == "RTP-2025-000104" and cell["status"] == "conflict"
    assert (
        "unknown age label 'teen'" in cell["detail"] and cell["left_sources"] == "rtp_raids:RTP-2025-000104"
    )
    assert cell["value_left"] is None and cell["is_suppressed"]  # 3 people: under k = 11
    # the 3 are in no fact: the RTP report's breakdown counts 60, not 63
    assert _check(wh_run, "breakdown_vs_total:RTP-2025-000104:RTP-2025-000104")["value_left"] == 60
    line = rows["file"]  # a KH-NCCT line the loader quarantined
    assert line["subject_id"] == "kh_ncct_raids_2025-03-21.csv#14"
    assert "unknown label 'teen' for age_group" in line["detail"]
    assert line["left_sources"] == "kh_ncct_raids:kh_ncct_raids_2025-03-21.csv row 14"


def test_c10_notes_and_summaries_are_published_as_text(wh_run: WarehouseRun) -> None:
    notes = _one(wh_run, "select notes from marts.fct_raids where incident_id = 'RTP-2025-000104'")
    assert "KH-NCCT: NCCT: casino compound" in notes and "RTP: RTP summary: night raid" in notes
    assert _one(wh_run, "select notes from marts.fct_raid_reports where report_id = 'KH-NCCT-2025-0001'") == (
        "NCCT: victims identified after the Poipet operation"
    )
    assert _one(wh_run, "select note from marts.fct_repatriation_plans") == "554 planned in total"
    assert (
        _one(
            wh_run,
            "select note from marts.fct_assistance_snapshots where snapshot_id = '2025-01-31|XXU'",
        )
        == "nationality checks ongoing"
    )
    assert "KH-GDI: after raid RTP-2025-000102" in _one(
        wh_run, "select notes from marts.fct_deportations where deportation_id = 'KH-GDI-031-1'"
    )


def test_every_fact_and_claim_says_where_its_figure_comes_from(wh_run: WarehouseRun) -> None:
    for mart in (
        "fct_raids",
        "fct_raid_reports",
        "fct_raid_persons",
        "fct_deportations",
        "fct_repatriations",
        "fct_repatriation_periods",
        "fct_repatriation_plans",
        "fct_assistance_snapshots",
        "fct_assistance_totals",
        "fct_figure_claims",
    ):
        origins = {
            r["figure_origin"] for r in wh_run.query(f"select distinct figure_origin from marts.{mart}")
        }
        assert origins and origins <= {"stated", "derived", "inferred"}, mart


# What a BI tool does: `select sum(x) from mart` with a filter, and the number it must show.
SAFE_SUMS = [
    # two agencies report the Poipet casino raid: counted once (61, the report that found the most people)
    ("select sum(persons_detained) from marts.fct_raids where incident_id = 'RTP-2025-000104'", 61),
    (
        "select sum(persons_detained) from marts.fct_raids where site_id = 'cmp_poipet'",
        300 + 61 + 30 + 41 + 25,
    ),
    # the latest snapshot holds nationality rows only: the itemised nationalities, not twice the total
    (
        "select sum(persons_assisted_cumulative) from marts.fct_assistance_snapshots_latest",
        3634 + 653 + 549 + 120 + 250,
    ),
    (
        "select persons_assisted_cumulative from marts.fct_assistance_totals "
        "where as_of_date = (select max(as_of_date) from marts.fct_assistance_totals)",
        7372,
    ),
    # executed legs of March: the period total (455) is not added to its own legs
    (
        "select sum(persons) from marts.fct_repatriations where status = 'executed' "
        "and nationality_iso3 = 'CHN' and movement_date between date '2025-03-01' and date '2025-03-31'",
        450,
    ),
    ("select sum(persons_planned) from marts.fct_repatriation_plans", 554),
    (
        "select sum(persons) from marts.fct_raid_persons "
        "where incident_id = 'RTP-2025-000102' and nationality_iso3 = 'THA'",
        250,
    ),
    (
        "select sum(persons_total) from marts.fct_deportations where nationality_iso3 = 'THA' "
        "and from_country_iso3 = 'KHM' and crossing_site_id = 'xing_poipet_aranyaprathet' "
        "and handover_date between date '2025-03-01' and date '2025-03-31'",
        93,
    ),
]


@pytest.mark.parametrize(("sql", "expected"), SAFE_SUMS)
def test_safe_sums_give_the_right_numbers(wh_run: WarehouseRun, sql: str, expected: int) -> None:
    assert _one(wh_run, sql) == expected


def test_a_raid_figure_its_figure_report_does_not_state_has_no_used_claim(wh_run: WarehouseRun) -> None:
    """The incident takes every figure from one report (NCCT's, 61 detained, no rescued figure): the RTP
    report's rescued figure is a claim, but not the one the fact uses, so fact and claims agree."""
    fact = _one(wh_run, "select persons_rescued from marts.fct_raids where incident_id = 'RTP-2025-000104'")
    assert fact is None
    claims = wh_run.query(
        "select source_feed, value, is_used, resolution from marts.fct_figure_claims "
        "where fact_table = 'fct_raids' and fact_key = 'RTP-2025-000104' and metric = 'persons_rescued'"
    )
    assert claims and not any(c["is_used"] for c in claims)
    assert {c["source_feed"] for c in claims} == {"rtp_raids"}
    assert all("from a report that does not state it" in c["resolution"] for c in claims)
    detained = wh_run.query(
        "select source_feed, value from marts.fct_figure_claims where fact_table = 'fct_raids' "
        "and fact_key = 'RTP-2025-000104' and metric = 'persons_detained' and is_used"
    )
    assert detained == [{"source_feed": "kh_ncct_raids", "value": 61}]
