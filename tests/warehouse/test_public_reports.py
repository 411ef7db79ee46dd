"""Public 2025 reports that are not in the sample, delivered as a new user would (files dropped into the
inbox of a fresh home, no HTTP source): every figure comes back exactly, every disagreement between them is
a row of fct_reconciliation with both sides and their sources, and no BI-style sum double counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from public_reports import (
    NCCT_POIPET_ID,
    PLAN_CHN,
    PLAN_IND,
    RTP_POIPET_ID,
    write_to_inbox,
)

from borderwatch import pipeline
from borderwatch.config import Settings, get_settings
from borderwatch.warehouse import BuildResult, build_warehouse
from conftest import query

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, BuildResult]]:
    settings = get_settings(tmp_path_factory.mktemp("public") / "home")
    settings.ensure_dirs()
    write_to_inbox(settings.inbox_dir)
    reports = pipeline.ingest(settings, feeds=[], include_inbox=True)
    assert reports and all(r.status == "loaded" for r in reports), [
        (r.feed, r.status, r.error) for r in reports
    ]
    yield settings, build_warehouse(settings, full_refresh=True)


def _rows(public: tuple[Settings, BuildResult], sql: str, params: list[Any] | None = None) -> list[dict]:
    return query(public[0].build_db, sql, params)


def _value(public: tuple[Settings, BuildResult], sql: str, params: list[Any] | None = None) -> Any:
    ((value,),) = [tuple(r.values()) for r in _rows(public, sql, params)]
    return value


def _check(public: tuple[Settings, BuildResult], check_id: str) -> dict[str, Any]:
    rows = _rows(public, "select * from marts.fct_reconciliation where check_id = ?", [check_id])
    assert len(rows) == 1, (check_id, _rows(public, "select check_id from marts.fct_reconciliation"))
    return rows[0]


def test_the_build_passes_with_conflicts_as_warnings(public: tuple[Settings, BuildResult]) -> None:
    build = public[1]
    assert build.ok and build.failed_tests == [], build.failed_tests
    assert [w.split(".")[2] for w in build.warned_tests] == ["reconciliation_checks_agree"]


def test_raid_figures_reproduce_exactly(public: tuple[Settings, BuildResult]) -> None:
    reports = {r["report_id"]: r for r in _rows(public, "select * from marts.fct_raid_reports")}
    assert reports[RTP_POIPET_ID]["persons_rescued"] == 215
    assert reports[NCCT_POIPET_ID]["persons_detained"] == 230
    thai = _rows(
        public,
        "select sex, sum(persons) as persons from marts.fct_raid_persons "
        "where nationality_iso3 = 'THA' and report_id = ? group by sex",
        [RTP_POIPET_ID],
    )
    assert {r["sex"]: r["persons"] for r in thai} == {"F": 54, "U": 55}  # 109 Thai, 54 of them women


def test_deportation_figures_reproduce_exactly(public: tuple[Settings, BuildResult]) -> None:
    (batch,) = _rows(
        public,
        "select * from marts.fct_deportations where nationality_iso3 = 'THA' "
        "and handover_date = date '2025-03-01'",
    )
    assert (batch["sending_persons_total"], batch["receiving_persons_total"]) == (119, 119)
    assert batch["reported_by"] == "both" and batch["incident_id"] == RTP_POIPET_ID


def test_movement_figures_reproduce_exactly(public: tuple[Settings, BuildResult]) -> None:
    plans = {r["plan_id"]: r for r in _rows(public, "select * from marts.fct_repatriation_plans")}
    assert (plans[PLAN_CHN]["persons_planned"], plans[PLAN_CHN]["flights_planned"]) == (600, 16)
    assert (plans[PLAN_IND]["persons_planned"], plans[PLAN_IND]["flights_planned"]) == (540, 2)
    legs = {
        (r["nationality_iso3"], r["movement_date"]): r
        for r in _rows(
            public,
            "select nationality_iso3, movement_date, sum(persons) as persons, sum(flights) as flights, "
            "sum(persons_female) as female from marts.fct_repatriations where status = 'executed' "
            "group by all",
        )
    }
    assert (legs[("CHN", date(2025, 2, 20))]["persons"], legs[("CHN", date(2025, 2, 20))]["flights"]) == (
        200,
        4,
    )
    assert legs[("IND", date(2025, 3, 10))]["persons"] == 283
    assert (legs[("IND", date(2025, 11, 6))]["persons"], legs[("IND", date(2025, 11, 6))]["female"]) == (
        270,
        26,
    )
    assert (legs[("IND", date(2025, 11, 10))]["persons"], legs[("IND", date(2025, 11, 10))]["flights"]) == (
        197,
        2,
    )
    periods = {
        (r["nationality_iso3"], r["period_start"], r["period_end"]): (r["persons"], r["flights"])
        for r in _rows(public, "select * from marts.fct_repatriation_periods")
    }
    assert periods[("CHN", date(2025, 2, 20), date(2025, 2, 22))][0] == 621
    assert periods[("IND", date(2025, 3, 10), date(2025, 3, 11))] == (549, 2)
    assert periods[("IND", date(2025, 11, 1), date(2025, 11, 10))] == (467, 4)


def test_the_two_raid_reports_are_one_incident_and_their_disagreements_are_flagged(
    public: tuple[Settings, BuildResult],
) -> None:
    (ncct,) = _rows(public, "select * from marts.fct_raid_reports where report_id = ?", [NCCT_POIPET_ID])
    assert (ncct["incident_id"], ncct["link_rule"]) == (RTP_POIPET_ID, "site_date_nationality")
    found = _check(public, f"raid_reports_disagree:{RTP_POIPET_ID}:{NCCT_POIPET_ID}:people_found")
    assert (found["metric_left"], found["value_left"], found["metric_right"], found["value_right"]) == (
        "persons_rescued",
        215,
        "persons_detained",
        230,
    )
    assert (found["left_sources"], found["right_sources"], found["status"]) == (
        f"rtp_raids:{RTP_POIPET_ID}",
        f"kh_ncct_raids:{NCCT_POIPET_ID}",
        "conflict",
    )
    thai = _check(public, f"raid_reports_disagree:{RTP_POIPET_ID}:{NCCT_POIPET_ID}:THA")
    assert (thai["value_left"], thai["value_right"], thai["status"]) == (109, 119, "conflict")
    deported = _check(public, f"raid_vs_deportation:{RTP_POIPET_ID}:THA")
    assert (deported["value_left"], deported["value_right"], deported["status"]) == (119, 109, "conflict")
    assert (
        "kh_gdi_deportations:" in deported["left_sources"]
        and "th_imm_receptions:" in deported["left_sources"]
    )
    assert deported["right_sources"] == f"rtp_raids:{RTP_POIPET_ID}"


@pytest.mark.parametrize(
    ("rule", "nationality", "left", "right", "status"),
    [
        ("period_vs_legs", "CHN", 621, 200, "conflict"),
        ("period_vs_legs", "IND", 549, 283, "conflict"),
        ("period_vs_legs", "IND", 467, 467, "agree"),
        ("plan_vs_execution", "CHN", 600, 621, "conflict"),
        ("plan_vs_execution", "IND", 540, 549, "conflict"),
    ],
)
def test_movement_disagreements_are_flagged_with_both_sides(
    public: tuple[Settings, BuildResult], rule: str, nationality: str, left: int, right: int, status: str
) -> None:
    rows = _rows(
        public,
        "select * from marts.fct_reconciliation where rule = ? and nationality_iso3 = ? "
        "and check_id like '%:persons' and value_left = ?",
        [rule, nationality, left],
    )
    assert [(r["value_right"], r["status"]) for r in rows] == [(right, status)]
    assert rows[0]["left_sources"].startswith("mfa_assistance_movements:")
    assert rows[0]["right_sources"].startswith("mfa_assistance_movements:")


def test_bi_sums_count_each_raid_once(public: tuple[Settings, BuildResult]) -> None:
    # two agencies report the Poipet raid: one incident, its figures from one report (NCCT found 230)
    assert _value(public, "select count(*) from marts.fct_raids") == 1
    assert (
        _value(
            public,
            "select coalesce(sum(persons_detained), 0) + coalesce(sum(persons_rescued), 0) "
            "from marts.fct_raids",
        )
        == 230
    )
    assert (
        _value(public, "select sum(persons) from marts.fct_raid_persons where nationality_iso3 = 'THA'")
        == 109
    )
    # legs only: the period totals (621, 549, 467) are never added to the legs they summarise
    assert (
        _value(
            public,
            "select sum(persons) from marts.fct_repatriations "
            "where status = 'executed' and nationality_iso3 = 'IND'",
        )
        == 283 + 270 + 197
    )
