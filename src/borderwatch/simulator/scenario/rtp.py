"""RTP raid and operation reports: every version of every record, and tombstones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from borderwatch.simulator.scenario.common import DEFAULT_UNTIL, _rng, _ts, iso_ts
from borderwatch.simulator.scenario.places import PROVINCES

# --------------------------------------------------------------------------------------------------
# RTP: raid and operation reports
# --------------------------------------------------------------------------------------------------


def _op(
    op_id: str,
    updated: datetime,
    op_date: date,
    *,
    country: str,
    province: str,
    district: str,
    site: str,
    lead: str,
    detained: int | None = None,
    rescued: int | None = None,
    arrested: int | None = None,
    breakdown: Sequence[Cell] | None = None,
    summary: str = "",
    end: date | None = None,
    precision: str = "day",
    report: date | None = None,
    related: list[str] | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "operation_id": op_id,
        "updated_at": iso_ts(updated),
        "report_date": (report or updated.date()).isoformat(),
        "operation_date": op_date.isoformat(),
        "operation_end_date": end.isoformat() if end else None,
        "date_precision": precision,
        "country": country,
        "province": province,
        "district": district,
        "site_name": site,
        "lead_agency": lead,
        "persons_detained": detained,
        "persons_rescued": rescued,
        "suspects_arrested": arrested,
        "nationality_breakdown": [_cell(c) for c in breakdown or []],
        "summary": summary,
    }
    if related:
        record["related_reports"] = related
    return record


# A breakdown cell: (nationality, sex, count) or (nationality, sex, count, age group); an age group of
# AGE_NULL is sent as an explicit null, a 3-tuple leaves the key out (both mean "not stated").
Cell = tuple[str, str | None, int] | tuple[str, str | None, int, str | None]
AGE_NULL = None


def _cell(cell: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {"nationality": cell[0], "sex": cell[1]}
    if len(cell) == 4:
        out["age_group"] = cell[3]
    out["count"] = cell[2]
    return out


POIPET_RAID_ID = "RTP-2025-000031"
P1_OPERATION_ID = "RTP-2025-000012"
P3_OPERATION_ID = "RTP-2025-000017"
TOMBSTONED_IDS = ("RTP-2025-000032", "RTP-2025-000055")
REVISED_IDS = (POIPET_RAID_ID, "RTP-2025-000040")


def scenario_operations() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Scenario raid reports (all versions) and tombstones; fixed, independent of seed and scale."""
    p1 = [
        ("Filipino", None, 12),
        ("Kenyan", None, 4),
        ("Tanzanian", None, 1),
        ("Brazilian", None, 2),
        ("Ethiopian", None, 21),
        ("Pakistani", None, 5),
        ("Bangladeshi", None, 2),
        ("Nepali", None, 6),
    ]
    poipet_v1 = [
        ("Thai", "M", 62),
        ("Thai", "F", 19),
        ("Chinese", None, 64),
        ("Vietnamese", None, 33),
        ("Indonesian", None, 20),
    ]
    poipet_v2 = [
        ("Thai", "M", 70),
        ("Thai", "F", 23),
        ("Chinese", None, 64),
        ("Vietnamese", None, 38),
        ("Indonesian", None, 20),
    ]
    d = date
    versions = [
        _op(
            P1_OPERATION_ID,
            _ts(d(2025, 2, 12), 20),
            d(2025, 2, 12),
            country="THA",
            province="ตาก",
            district="Phop Phra",
            site="Ban Chong Kaeb checkpoint",
            lead="RTP",
            detained=0,
            rescued=53,
            arrested=0,
            breakdown=p1,
            summary="53 foreign victims from KK Park and Shwe Kokko crossed at Ban Chong Kaeb; "
            "208 more whose nationality is not yet verified",
        ),
        _op(
            P3_OPERATION_ID,
            _ts(d(2025, 2, 17), 21),
            d(2025, 1, 30),
            end=d(2025, 2, 17),
            country="MMR",
            province="Kayin",
            district="Myawaddy",
            site="KK Park",
            lead="BGF",
            detained=1303,
            summary="illegal foreign entrants detained 30 Jan to 17 Feb; 273 on 17 Feb",
        ),
        _op(
            "RTP-2025-000018",
            _ts(d(2025, 2, 21), 10),
            d(2025, 2, 20),
            country="MMR",
            province="Kayin",
            district="Myawaddy",
            site="Shwe Kokko",
            lead="DKBA",
            rescued=260,
            breakdown=[("Chinese", None, 180), ("Indonesian", None, 50), ("Vietnamese", None, 30)],
            summary="foreigners released from Shwe Kokko compounds",
        ),
        _op(
            "RTP-2025-000022",
            _ts(d(2025, 2, 26), 11),
            d(2025, 2, 25),
            country="THA",
            province="Tak",
            district="Mae Sot",
            site="Mae Sot rented house",
            lead="RTP",
            detained=14,
            arrested=5,
            breakdown=[("Thai", "M", 9), ("Thai", "F", 5)],
            summary="recruiters for Myawaddy compounds",
        ),
        _op(
            POIPET_RAID_ID,
            _ts(d(2025, 3, 4), 9),
            d(2025, 3, 3),
            country="KHM",
            province="Banteay Meanchey",
            district="Poipet",
            site="Poipet casino compound",
            lead="CNP/RTP joint",
            detained=198,
            arrested=11,
            breakdown=poipet_v1,
            summary="coordinated raids on Poipet scam centres (first report)",
        ),
        _op(
            "RTP-2025-000032",
            _ts(d(2025, 3, 4), 15),
            d(2025, 3, 3),
            country="KHM",
            province="Banteay Meanchey",
            district="Poipet",
            site="Poipet",
            lead="CNP/RTP joint",
            detained=198,
            summary="duplicate report of RTP-2025-000031",
        ),
        _op(
            POIPET_RAID_ID,
            _ts(d(2025, 3, 6), 14, 30),
            d(2025, 3, 3),
            country="KHM",
            province="Banteay Meanchey",
            district="Poipet",
            site="Poipet casino compound",
            lead="CNP/RTP joint",
            detained=215,
            arrested=11,
            breakdown=poipet_v2,
            summary="coordinated raids on Poipet scam centres; 93 Thai nationals to be deported",
            report=d(2025, 3, 4),
            related=["KH-NCCT-2025-0031"],
        ),
        _op(
            "RTP-2025-000040",
            _ts(d(2025, 3, 27), 19),
            d(2025, 3, 27),
            country="THA",
            province="สระแก้ว",
            district="Aranyaprathet",
            site="Aranyaprathet call-centre house",
            lead="RTP",
            detained=18,
            arrested=6,
            breakdown=[("Thai", None, 18)],
            summary="call-centre house near the border (first report)",
        ),
        _op(
            "RTP-2025-000040",
            _ts(d(2025, 3, 29), 10),
            d(2025, 3, 27),
            country="THA",
            province="สระแก้ว",
            district="Aranyaprathet",
            site="Aranyaprathet call-centre house",
            lead="RTP",
            detained=21,
            arrested=6,
            breakdown=[("Thai", None, 21)],
            summary="call-centre house near the border; count corrected",
            report=d(2025, 3, 27),
        ),
        _op(
            "RTP-2025-000041",
            _ts(d(2025, 4, 2), 12),
            d(2025, 4, 2),
            country="THA",
            province="ตาก",
            district="Mae Sot",
            site="Mae Sot warehouse",
            lead="RTP",
            detained=25,
            arrested=9,
            breakdown=[("Thai", "M", 17), ("Thai", "F", 4), ("Myanmar", None, 4)],
        ),
        _op(
            "RTP-2025-000050",
            _ts(d(2025, 6, 3), 9),
            d(2025, 5, 1),
            precision="month",
            country="THA",
            province="Sa Kaeo",
            district="Khlong Luek",
            site="Rong Kluea market",
            lead="RTP",
            detained=7,
            arrested=7,
            summary="arrests during May (day not given)",
        ),
        _op(
            "RTP-2025-000055",
            _ts(d(2025, 7, 2), 9),
            d(2025, 7, 1),
            country="THA",
            province="Trat",
            district="Khlong Yai",
            site="Hat Lek",
            lead="RTP",
            detained=5,
            summary="report later withdrawn",
        ),
        _op(
            "RTP-2025-000120",
            _ts(d(2025, 10, 29), 18),
            d(2025, 10, 22),
            end=d(2025, 10, 29),
            country="MMR",
            province="Kayin",
            district="Myawaddy",
            site="KK Park",
            lead="Tatmadaw",
            summary="after the KK Park raid more than 1,500 people from 28 countries fled into Mae Sot",
        ),
    ]
    tombstones = [
        {"operation_id": "RTP-2025-000032", "updated_at": iso_ts(_ts(d(2025, 3, 7), 8)), "is_deleted": True},
        {"operation_id": "RTP-2025-000055", "updated_at": iso_ts(_ts(d(2025, 7, 9), 8)), "is_deleted": True},
    ]
    return versions, tombstones


_RTP_SITES = (
    "rented house",
    "condominium unit",
    "call-centre office",
    "shophouse",
    "resort villa",
    "warehouse",
)
_RTP_NATIONALITIES = ("Thai", "Thai", "Thai", "Chinese", "Myanmar", "Lao", "Cambodian", "ไทย", "จีน")


def background_operations(seed: int, scale: float) -> list[dict[str, Any]]:
    """Domestic Thai raids (country THA only, never a scenario id); about 12 % get one revision."""
    count = round(40 * max(scale, 0.0))
    rng = _rng(seed, "rtp")
    first, span = date(2024, 6, 1), (date(2025, 12, 20) - date(2024, 6, 1)).days
    out: list[dict[str, Any]] = []
    for i in range(count):
        op_day = first + timedelta(days=rng.randint(0, span))
        en, th = rng.choice(PROVINCES)
        province = th if rng.random() < 0.3 else en
        people = [
            (rng.choice(_RTP_NATIONALITIES), rng.choice(("M", "F", None)), rng.randint(1, 20))
            for _ in range(rng.randint(1, 4))
        ]
        detained = sum(c for _n, _s, c in people)
        reported = _ts(
            op_day + timedelta(days=rng.randint(0, 3)), rng.randint(8, 20), rng.choice((0, 15, 30, 45))
        )
        op_id = f"RTP-{op_day.year}-{100001 + i:06d}"
        kwargs: dict[str, Any] = dict(
            country="THA",
            province=province,
            district="",
            lead="RTP",
            site=f"{en} {rng.choice(_RTP_SITES)}",
            arrested=rng.randint(0, detained),
        )
        out.append(_op(op_id, reported, op_day, detained=detained, breakdown=people, **kwargs))
        if rng.random() < 0.12:
            later = reported + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 5))
            if later.date() <= DEFAULT_UNTIL:
                people = [*people, ("Unverified", None, rng.randint(1, 5))]
                out.append(
                    _op(
                        op_id,
                        later,
                        op_day,
                        detained=sum(c for _n, _s, c in people),
                        breakdown=people,
                        summary="count corrected",
                        report=reported.date(),
                        **kwargs,
                    )
                )
    return out
