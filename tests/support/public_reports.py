"""Public 2025 reports that are NOT in the simulator's sample, as files in the documented wire formats.

Issue 9 tried these as a new user would: deliver them by dropping files into the inbox and check that every
figure comes back exactly and every disagreement between the reports is flagged with both sides. Each
figure below names its publisher and date. Report / plan / movement ids are invented (agencies publish no
ids in news statements); every number is as published, except where a comment says "derived".

Meant for a home WITHOUT the simulator's files: the 1 March Poipet handover lands in S6's month and
checkpoint, and the February Chinese flights are the sample's P4/P5 flights, so mixing both double counts.

API (``pythonpath = ["tests/support"]`` in pyproject: ``import public_reports``):
- ``public_report_files() -> list[PublicFile]``: (feed, inbox name, bytes), one per payload.
- ``write_to_inbox(inbox) -> list[Path]``: writes them all into a drop inbox.
- ``FIGURES``: figure id -> what the warehouse must reproduce exactly (feed, keys, metric, value, source).
- ``DISAGREEMENTS``: what it must flag (rule, subject, both sides with values and sources).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from borderwatch.simulator.scenario import (
    KH_HEADER,
    KH_OPTIONAL,
    MFA_MOVEMENTS_HEADER,
    MFA_MOVEMENTS_OPTIONAL,
    MFA_SUMMARY_HEADER,
    MFA_SUMMARY_OPTIONAL,
    NCCT_HEADER,
    TH_ENCODING,
    TH_HEADER,
    TH_OPTIONAL,
)

RTP_POIPET_ID = "RTP-2025-000222"
NCCT_POIPET_ID = "KH-NCCT-2025-0222"
GDI_BULLETIN = "GDI/2025/060"
TH_RECEPTION = "ARP680301-0001"
PLAN_CHN = "PLAN-PUB-CHN-2025-02"
PLAN_IND = "PLAN-PUB-IND-2025-03"


@dataclass(frozen=True)
class PublicFile:
    """One payload, named so the feed's ``inbox_glob`` claims it."""

    feed: str
    name: str
    data: bytes


# --------------------------------------------------------------------------------------------------
# The Poipet raid of 22-23 February 2025 and its deportations
# --------------------------------------------------------------------------------------------------


def poipet_raid_rtp_page() -> dict[str, Any]:
    """RTP's report, as one API page (the shape a dropped ``rtp_raids*.json`` file has).

    Thai government spokesman Jirayu Houngsub, 2025-02-23 (Reuters via Geo TV; The Nation 2025-02-23):
    215 foreigners freed in a joint Thai-Cambodian raid on a three-storey building in Poipet: 109 Thais
    (54 of them women), 50 Pakistanis, 48 Indians, 5 Taiwanese, 3 Indonesians. Bangkok Post: the raid
    was on Saturday 22 February.
    """
    breakdown = [
        {"nationality": "Thai", "sex": "F", "count": 54},
        {"nationality": "Thai", "sex": None, "count": 55},  # 109 - 54: sex not stated
        {"nationality": "Pakistani", "sex": None, "count": 50},
        {"nationality": "Indian", "sex": None, "count": 48},
        {"nationality": "Taiwanese", "sex": None, "count": 5},
        {"nationality": "Indonesian", "sex": None, "count": 3},
    ]
    record = {
        "operation_id": RTP_POIPET_ID,
        "updated_at": "2025-02-23T12:00:00+07:00",
        "report_date": "2025-02-23",
        "operation_date": "2025-02-22",
        "operation_end_date": "2025-02-23",
        "date_precision": "day",
        "country": "KHM",
        "province": "Banteay Meanchey",
        "district": "Poipet",
        "site_name": "Poipet compounds",
        "lead_agency": "CNP/RTP joint",
        "persons_detained": None,
        "persons_rescued": 215,
        "suspects_arrested": None,
        "nationality_breakdown": breakdown,
        "summary": "Joint Thai-Cambodian raid on a three-storey building in a plaza compound in Poi Pet, "
        "opposite Rong Klua market; 215 foreigners freed, 109 of them Thai (54 women)",
    }
    return {"data": [record], "next_page": None}


def poipet_raid_ncct_csv() -> bytes:
    """Cambodia's report of the same raids.

    Cambodia's immigration department (AFP via SEA Business News, 2025-03-01): the 119 Thais deported on
    1 March "were among 230 foreigners detained during raids on alleged cyberscam centres in the border
    city of Poipet on Feb 22 and 23". So: 230 detained, of whom 119 Thai (sex split of the raid not given).
    """
    summary = "230 foreigners detained in raids on cyberscam centres in Poipet on 22 and 23 February"
    row = [
        NCCT_POIPET_ID,
        "1",
        "22/02/2025",
        "Banteay Meanchey",
        "Poipet compounds",
        "",
        "230",
        "",
        "Thai",
        "",
        "",
        "119",
        "",
        summary,
    ]
    return _csv_bytes(NCCT_HEADER, [row], "utf-8-sig")


def poipet_deportation_kh_csv() -> bytes:
    """KH-GDI: 119 Thais (61 men, 58 women) deported via the Poipet checkpoint on 1 March 2025.

    Cambodia's General Department of Immigration, Facebook post of 2025-03-01 (AFP via SEA Business News,
    2025-03-01). The remark cites the raid report it followed (invented id).
    """
    row = [
        GDI_BULLETIN,
        "1",
        "01/03/2025",
        "Poipet",
        "Banteay Meanchey",
        "Thai",
        "61",
        "58",
        "119",
        "Thailand",
        f"{NCCT_POIPET_ID}: detained in Poipet raids 22-23 Feb",
        "",
    ]
    return _csv_bytes((*KH_HEADER, *KH_OPTIONAL), [row], "utf-8-sig")


def poipet_reception_th_csv() -> bytes:
    """TH-IMM: the same 119 Thais received at Aranyaprathet on 1 March 2025.

    Deputy Prime Minister Phumtham Wechayachai, post on X of 2025-03-01 (AFP via SEA Business News,
    2025-03-01): the 119 Thais had been returned from Cambodia (no sex split given).
    """
    row = [TH_RECEPTION, "1 มี.ค. 2568", "ด่านอรัญประเทศ", "ไทย", "", "", "119", "กัมพูชา", "", "", ""]
    return _csv_bytes((*TH_HEADER, *TH_OPTIONAL), [row], TH_ENCODING)


# --------------------------------------------------------------------------------------------------
# Chinese and Indian repatriation flights from Mae Sot (Thai MFA Movements sheet)
# --------------------------------------------------------------------------------------------------


def _move(
    mid: str,
    day: date,
    status: str,
    nat: str,
    dest: str,
    persons: int,
    note: str,
    *,
    row_type: str = "leg",
    plan_id: str = "",
    flights: int | None = None,
    female: int | None = None,
    period_start: date | None = None,
) -> list[Any]:
    return [
        mid,
        day,
        status,
        "MMR",
        "THA",
        dest,
        nat,
        "flight",
        "Mae Sot Airport",
        persons,
        note,
        row_type,
        plan_id or None,
        flights,
        None,
        female,
        period_start,
    ]


def movements_rows() -> list[list[Any]]:
    """Rows of the Movements sheet, in the documented column order."""
    d = date
    rows = [
        # Bangkok Post, 2025-02-20: China chartered China Southern planes to repatriate 600 nationals
        # from Mae Sot on 16 flights from Thursday to Saturday (20-22 February).
        _move(
            "PUB-2025-02-001",
            d(2025, 2, 20),
            "planned",
            "Chinese",
            "CHN",
            600,
            "600 nationals on 16 China Southern flights, Thu-Sat",
            row_type="plan",
            plan_id=PLAN_CHN,
            flights=16,
        ),
    ]
    # The Nation, 2025-02-20: four China Southern flights on Thursday 20 Feb, 50 passengers each, to
    # Nanjing; TM.35 issued to each.
    rows += [
        _move(
            f"PUB-2025-02-00{i}",
            d(2025, 2, 20),
            "executed",
            "Chinese",
            "CHN",
            50,
            "China Southern to Nanjing; TM.35 issued",
            plan_id=PLAN_CHN,
            flights=1,
        )
        for i in range(2, 6)
    ]
    # Thai army, 2025-02-22 (Reuters via Geo TV, 2025-02-23); Bangkok Post / TNA: 621 Chinese repatriated
    # 20-22 February.
    rows.append(
        _move(
            "PUB-2025-02-006",
            d(2025, 2, 22),
            "executed",
            "Chinese",
            "CHN",
            621,
            "Thai army: 621 repatriated 20-22 Feb",
            row_type="period_total",
            period_start=d(2025, 2, 20),
        )
    )
    # Times of India via nowhyderabad.com, 2025-03-10: India to airlift 540 citizens from Mae Sot on
    # 10-11 March, two flights.
    rows.append(
        _move(
            "PUB-2025-03-001",
            d(2025, 3, 10),
            "planned",
            "Indian",
            "IND",
            540,
            "540 citizens, two flights",
            row_type="plan",
            plan_id=PLAN_IND,
            flights=2,
        )
    )
    # MEA statement, 2025-03-10 (India TV, 2025-03-11): 283 repatriated by an IAF aircraft from Mae Sot.
    rows.append(
        _move(
            "PUB-2025-03-002",
            d(2025, 3, 10),
            "executed",
            "Indian",
            "IND",
            283,
            "Indian Air Force",
            plan_id=PLAN_IND,
            flights=1,
        )
    )
    # New Indian Express, 2025-11-06 (MEA): "In March 2025, India repatriated 549 nationals ... in two
    # IAF flights".
    rows.append(
        _move(
            "PUB-2025-03-003",
            d(2025, 3, 11),
            "executed",
            "Indian",
            "IND",
            549,
            "MEA: 549 in two IAF flights in March",
            row_type="period_total",
            flights=2,
            period_start=d(2025, 3, 10),
        )
    )
    # Embassy of India Bangkok, 2025-11-06 (New Indian Express, 2025-11-06): 270 Indians including 26
    # women, two IAF special flights from Mae Sot.
    rows.append(
        _move(
            "PUB-2025-11-001",
            d(2025, 11, 6),
            "executed",
            "Indian",
            "IND",
            270,
            "two IAF special flights; 26 women",
            flights=2,
            female=26,
        )
    )
    # Indian Witness, 2025-11-10: 197 Indians on two IAF C-130J flights from Mae Sot.
    rows.append(
        _move(
            "PUB-2025-11-002",
            d(2025, 11, 10),
            "executed",
            "Indian",
            "IND",
            197,
            "two IAF C-130J flights",
            flights=2,
        )
    )
    # TCO News, 2025-11-11: the total airlifted from the region this month reaches 467.
    rows.append(
        _move(
            "PUB-2025-11-003",
            d(2025, 11, 10),
            "executed",
            "Indian",
            "IND",
            467,
            "467 airlifted this month",
            row_type="period_total",
            flights=4,
            period_start=d(2025, 11, 1),
        )
    )
    return rows


def mae_sot_workbook() -> bytes:
    """An MFA workbook: ``Movements`` holds the rows above; ``Summary`` has its header and no rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary"
    ws.append([*MFA_SUMMARY_HEADER, *MFA_SUMMARY_OPTIONAL])
    mv = wb.create_sheet("Movements")
    mv.append([*MFA_MOVEMENTS_HEADER, *MFA_MOVEMENTS_OPTIONAL])
    for row in movements_rows():
        mv.append(row)
    for cells in mv.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Files, expected figures, expected disagreements
# --------------------------------------------------------------------------------------------------


def _csv_bytes(header: tuple[str, ...], rows: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def public_report_files() -> list[PublicFile]:
    """Every payload, named for the drop inbox."""
    page = json.dumps(poipet_raid_rtp_page(), ensure_ascii=False).encode("utf-8")
    return [
        PublicFile("rtp_raids", "rtp_raids_public_2025-02-23.json", page),
        PublicFile("kh_ncct_raids", "kh_ncct_raids_public_2025-02-24.csv", poipet_raid_ncct_csv()),
        PublicFile(
            "kh_gdi_deportations", "kh_gdi_deportations_public_2025-03-01.csv", poipet_deportation_kh_csv()
        ),
        PublicFile("th_imm_receptions", "th_imm_receptions_public_2025-03-01.csv", poipet_reception_th_csv()),
        PublicFile("mfa_assistance", "mfa_assistance_public_mae_sot.xlsx", mae_sot_workbook()),
    ]


def write_to_inbox(inbox: Path) -> list[Path]:
    """Write every payload into ``inbox`` (created if missing); returns the paths in delivery order."""
    inbox.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in public_report_files():
        path = inbox / item.name
        path.write_bytes(item.data)
        paths.append(path)
    return paths


def _src(publisher: str, published: str) -> dict[str, str]:
    return {"publisher": publisher, "published": published}


FIGURES: dict[str, dict[str, Any]] = {
    "poipet_rescued_rtp": {
        "feed": "rtp_raids",
        "report_id": RTP_POIPET_ID,
        "metric": "persons_rescued",
        "value": 215,
        "source": _src("Thai government spokesman (Reuters)", "2025-02-23"),
    },
    "poipet_thai_rtp": {
        "feed": "rtp_raids",
        "report_id": RTP_POIPET_ID,
        "nationality": "THA",
        "metric": "persons_rescued",
        "value": 109,
        "female": 54,
        "source": _src("Thai government spokesman (Reuters)", "2025-02-23"),
    },
    "poipet_detained_ncct": {
        "feed": "kh_ncct_raids",
        "report_id": NCCT_POIPET_ID,
        "metric": "persons_detained",
        "value": 230,
        "source": _src("Cambodia immigration department (AFP)", "2025-03-01"),
    },
    "poipet_thai_deported": {
        "feed": "kh_gdi_deportations",
        "date": "2025-03-01",
        "checkpoint": "Poipet",
        "nationality": "THA",
        "metric": "persons_deported",
        "value": 119,
        "male": 61,
        "female": 58,
        "source": _src("Cambodia immigration department (AFP)", "2025-03-01"),
    },
    "poipet_thai_received": {
        "feed": "th_imm_receptions",
        "date": "2025-03-01",
        "nationality": "THA",
        "metric": "persons_received",
        "value": 119,
        "source": _src("Deputy PM Phumtham on X (AFP)", "2025-03-01"),
    },
    "chn_plan": {
        "feed": "mfa_assistance",
        "plan_id": PLAN_CHN,
        "metric": "persons_planned",
        "value": 600,
        "flights": 16,
        "source": _src("Bangkok Post", "2025-02-20"),
    },
    "chn_legs_2025-02-20": {
        "feed": "mfa_assistance",
        "date": "2025-02-20",
        "nationality": "CHN",
        "metric": "persons_repatriated",
        "value": 200,
        "flights": 4,
        "source": _src("The Nation", "2025-02-20"),
    },
    "chn_period_2025-02-20_22": {
        "feed": "mfa_assistance",
        "period": ["2025-02-20", "2025-02-22"],
        "nationality": "CHN",
        "metric": "persons_repatriated",
        "value": 621,
        "source": _src("Thai army (Reuters)", "2025-02-22"),
    },
    "ind_plan": {
        "feed": "mfa_assistance",
        "plan_id": PLAN_IND,
        "metric": "persons_planned",
        "value": 540,
        "flights": 2,
        "source": _src("Times of India (nowhyderabad.com)", "2025-03-10"),
    },
    "ind_leg_2025-03-10": {
        "feed": "mfa_assistance",
        "date": "2025-03-10",
        "nationality": "IND",
        "metric": "persons_repatriated",
        "value": 283,
        "source": _src("MEA (India TV)", "2025-03-11"),
    },
    "ind_period_2025-03": {
        "feed": "mfa_assistance",
        "period": ["2025-03-10", "2025-03-11"],
        "nationality": "IND",
        "metric": "persons_repatriated",
        "value": 549,
        "flights": 2,
        "source": _src("New Indian Express (MEA)", "2025-11-06"),
    },
    "ind_leg_2025-11-06": {
        "feed": "mfa_assistance",
        "date": "2025-11-06",
        "nationality": "IND",
        "metric": "persons_repatriated",
        "value": 270,
        "female": 26,
        "flights": 2,
        "source": _src("Embassy of India Bangkok (New Indian Express)", "2025-11-06"),
    },
    "ind_leg_2025-11-10": {
        "feed": "mfa_assistance",
        "date": "2025-11-10",
        "nationality": "IND",
        "metric": "persons_repatriated",
        "value": 197,
        "flights": 2,
        "source": _src("Indian Witness", "2025-11-10"),
    },
    "ind_period_2025-11": {
        "feed": "mfa_assistance",
        "period": ["2025-11-01", "2025-11-10"],
        "nationality": "IND",
        "metric": "persons_repatriated",
        "value": 467,
        "flights": 4,
        "source": _src("TCO News", "2025-11-11"),
    },
}

DISAGREEMENTS: list[dict[str, Any]] = [
    {
        "rule": "raid_reports_disagree",
        "subject": [RTP_POIPET_ID, NCCT_POIPET_ID],
        "link": "site_date_nationality",
        "left": ("rtp_raids", "persons_rescued", 215),
        "right": ("kh_ncct_raids", "persons_detained", 230),
    },
    {
        "rule": "raid_reports_disagree",
        "subject": [RTP_POIPET_ID, NCCT_POIPET_ID],
        "nationality": "THA",
        "left": ("rtp_raids", "persons_rescued", 109),
        "right": ("kh_ncct_raids", "persons_detained", 119),
    },
    {
        "rule": "raid_vs_deportation",
        "subject": NCCT_POIPET_ID,
        "nationality": "THA",
        "left": ("rtp_raids", "persons_rescued", 109),
        "right": ("kh_gdi_deportations", "persons_deported", 119),
        "note": "the incident's Thai count per RTP is 109; NCCT's own 119 agrees with the deportation",
    },
    {
        "rule": "period_vs_legs",
        "subject": "CHN 2025-02-20..2025-02-22",
        "left": ("mfa_assistance", "period_total", 621),
        "right": ("mfa_assistance", "legs", 200),
        "note": "only the 20 Feb flights were itemised in public",
    },
    {
        "rule": "plan_vs_execution",
        "subject": PLAN_CHN,
        "left": ("mfa_assistance", "persons_planned", 600),
        "right": ("mfa_assistance", "persons_repatriated", 621),
        "note": "execution by period total; the plan's own legs sum to 200",
    },
    {
        "rule": "plan_vs_execution",
        "subject": PLAN_IND,
        "left": ("mfa_assistance", "persons_planned", 540),
        "right": ("mfa_assistance", "persons_repatriated", 549),
        "note": "execution by period total; the plan's own itemised leg is 283",
    },
    {
        "rule": "period_vs_legs",
        "subject": "IND 2025-03-10..2025-03-11",
        "left": ("mfa_assistance", "period_total", 549),
        "right": ("mfa_assistance", "legs", 283),
    },
    {
        "rule": "period_vs_legs",
        "subject": "IND 2025-11-01..2025-11-10",
        "status": "agree",
        "left": ("mfa_assistance", "period_total", 467),
        "right": ("mfa_assistance", "legs", 467),
    },
]
