"""A small hand-written raw schema for warehouse tests, shaped exactly like the ingest contract.

Table DDL comes from the feed specs through the ingest loader's own column list (columns, keep_raw,
lineage), so a spec change that the models do not follow breaks these tests. Two loads: the second brings
a raid revision, a tombstone, the Thai reception of a batch that was one-sided, the March MFA workbook and
a corrected telecom figure in Thai script.

Every disagreement class of issue 9 is in here, with invented numbers (see ``CLASSES``): the tests in
test_reconciliation.py assert the row each one produces in fct_reconciliation and the marts.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from borderwatch.ingest.contract import ensure_control_tables, table_columns
from borderwatch.specs import FeedSpec, load_specs


def raw_columns(spec: FeedSpec, table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a raw table per the shared contract (the ingest loader's own list)."""
    tspec = next(t for t in spec.tables if t.table == table)
    return list(table_columns(tspec))


def create_raw_schema(con: duckdb.DuckDBPyConnection, feeds_dir: Path) -> dict[str, tuple[str, list]]:
    """Create every raw table and the control tables; returns table → (feed, columns)."""
    con.execute("create schema if not exists raw")
    tables: dict[str, tuple[str, list]] = {}
    for spec in load_specs(feeds_dir).values():
        for tspec in spec.tables:
            cols = raw_columns(spec, tspec.table)
            ddl = ", ".join(f'"{name}" {typ}' for name, typ in cols)
            con.execute(f"create table raw.{tspec.table} ({ddl})")
            tables[tspec.table] = (spec.name, cols)
    ensure_control_tables(con)  # the control tables exactly as the loader declares them
    return tables


def _sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def insert_file(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, tuple[str, list]],
    table: str,
    file_name: str,
    rows: list[dict[str, Any]],
    *,
    load_id: str,
    loaded_at: datetime,
) -> str:
    """Append one delivered file's rows with lineage, and register the file in raw._files."""
    feed, cols = tables[table]
    sha = _sha(file_name)
    names = [name for name, _ in cols]
    for number, row in enumerate(rows, start=1):
        values = dict(row)
        values.update(
            _feed=feed,
            _file_sha256=sha,
            _row_number=number,
            _row_hash=int(hashlib.md5(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest(), 16),
            _load_id=load_id,
            _loaded_at=loaded_at,
            _normalisations=[],
        )
        for key, value in list(values.items()):
            if isinstance(value, list | dict) and key != "_normalisations":
                values[key] = json.dumps(value, ensure_ascii=False)
        unknown = set(values) - set(names)
        assert not unknown, f"{table}: fixture columns {unknown} are not in the spec"
        placeholders = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{n}"' for n in names)
        con.execute(
            f"insert into raw.{table} ({quoted}) values ({placeholders})",
            [values.get(n) for n in names],
        )
    con.execute(
        "insert into raw._files (feed, file_sha256, file_name, status, load_id, rows_in, rows_loaded, "
        "rows_quarantined, rows_duplicate, loaded_at) values (?, ?, ?, 'loaded', ?, ?, ?, 0, 0, ?)",
        [feed, sha, file_name, load_id, len(rows), len(rows), loaded_at],
    )
    return sha


LOAD1 = datetime(2025, 3, 22, 2, 0)
LOAD2 = datetime(2025, 4, 2, 2, 0)


def _raid(op: str, updated: str, **fields: Any) -> dict[str, Any]:
    return {"operation_id": op, "updated_at": updated, "is_deleted": False, **fields}


RAID_101 = {
    "report_date": "2025-02-20", "operation_date": "2025-02-19", "operation_date_raw": "2025-02-19",
    "operation_end_date": None, "date_precision": "day", "country": "THA", "province": "ตาก",
    "district": "Mae Sot", "site_name": None, "lead_agency": "Royal Thai Police", "persons_detained": 120,
    "persons_rescued": 40, "suspects_arrested": 12,
    "nationality_breakdown": [
        {"nationality": "Thai", "sex": "M", "count": 60},
        {"nationality": "Chinese", "sex": "M", "count": 30},
        {"nationality": "ไต้หวัน", "sex": "F", "count": 5},
        {"nationality": "Unverified", "sex": None, "count": 20},
        {"nationality": "Indonesian", "sex": "M", "count": 25},
    ],
    "summary": "Operation in Mae Sot",
}  # fmt: skip
RAID_102 = {
    "report_date": "2025-03-13", "operation_date": "2025-03-01", "operation_date_raw": "2025-03",
    "operation_end_date": "2025-03-12", "date_precision": "month", "country": "Cambodia",
    "province": "បន្ទាយមានជ័យ", "district": "Poipet", "site_name": "ប៉ោយប៉ែត", "lead_agency": "CNP",
    "persons_detained": 300, "persons_rescued": 0, "suspects_arrested": 25,
    "nationality_breakdown": [
        {"nationality": "ថៃ", "sex": "M", "count": 150},
        {"nationality": "ថៃ", "sex": "F", "count": 100},
        {"nationality": "ចិន", "sex": "M", "count": 50},
    ],
    "summary": "Coordinated raids on Poipet compounds",
}  # fmt: skip
RAID_103 = {
    "report_date": "2025-03-02", "operation_date": "2025-03-01", "operation_date_raw": "2025-03-01",
    "operation_end_date": None, "date_precision": "day", "country": "MMR", "province": "Kayin State",
    "district": "Myawaddy", "site_name": "KK Park", "lead_agency": "RTP", "persons_detained": 15,
    "persons_rescued": 0, "suspects_arrested": 1, "nationality_breakdown": None, "summary": "withdrawn later",
}  # fmt: skip


def _kh_raid(
    site: str, day: str, detained: int | None, rescued: int | None, arrested: int | None,
    breakdown: list[dict[str, Any]] | None, summary: str, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    """An RTP operation at a Cambodian site (one day)."""
    return {
        "report_date": day, "operation_date": day, "operation_date_raw": day, "operation_end_date": None,
        "date_precision": "day", "country": "KHM", "province": "Banteay Meanchey", "district": "Poipet",
        "site_name": site, "lead_agency": "CNP", "persons_detained": detained, "persons_rescued": rescued,
        "suspects_arrested": arrested, "nationality_breakdown": breakdown, "summary": summary, **extra,
    }  # fmt: skip


# C1 (rule only: same compound, one day apart, THA in both), C2 (more THA deported than found), C9 ('teen')
RAID_104 = _kh_raid(
    "Poipet casino compound", "2025-03-20", 60, 0, 4,
    [{"nationality": "Thai", "sex": "M", "count": 40}, {"nationality": "Vietnamese", "sex": "M", "count": 20},
     {"nationality": "Thai", "sex": "M", "age_group": "teen", "count": 3}],
    "RTP summary: night raid on a casino compound in Poipet",
)  # fmt: skip
# C8: arrests only, no breakdown (never a conflict); and arrests that a breakdown names (no false positive)
RAID_105 = {**RAID_103, "operation_date": "2025-03-05", "operation_date_raw": "2025-03-05",
            "report_date": "2025-03-06", "site_name": "Shwe Kokko", "persons_detained": None,
            "persons_rescued": None, "suspects_arrested": 7, "summary": "arrests only"}  # fmt: skip
RAID_106 = {**RAID_105, "operation_date": "2025-03-07", "operation_date_raw": "2025-03-07",
            "persons_detained": 0, "persons_rescued": 0, "suspects_arrested": 12,
            "nationality_breakdown": [
                {"nationality": "Chinese", "sex": "M", "age_group": "adult", "count": 12}
            ],
            "summary": "12 Chinese suspects arrested, nobody detained or rescued"}  # fmt: skip
# C1 analyst seed pairs (seeds/report_links.csv): 901 unlinked from KH-NCCT-2025-0901, 902 linked to 0902
RAID_901 = _kh_raid("Poipet", "2025-03-18", 30, 0, 2, [{"nationality": "Thai", "sex": "F", "count": 30}],
                    "block A, at night")  # fmt: skip
RAID_902 = _kh_raid("Poipet", "2025-03-25", 41, 0, 1, [{"nationality": "Thai", "sex": "M", "count": 41}],
                    "joint raid with NCCT")  # fmt: skip

RAIDS_LOAD1 = [
    _raid("RTP-2025-000101", "2025-02-20 03:15:00", **RAID_101),
    _raid("RTP-2025-000102", "2025-03-13 04:00:00", **RAID_102),
    _raid("RTP-2025-000103", "2025-03-02 05:00:00", **RAID_103),
    _raid("RTP-2025-000104", "2025-03-21 01:00:00", **RAID_104),
    _raid("RTP-2025-000105", "2025-03-06 01:00:00", **RAID_105),
    _raid("RTP-2025-000106", "2025-03-08 01:00:00", **RAID_106),
    _raid("RTP-2025-000901", "2025-03-19 01:00:00", **RAID_901),
    _raid("RTP-2025-000902", "2025-03-26 01:00:00", **RAID_902),
]
RAIDS_LOAD2 = [
    _raid("RTP-2025-000101", "2025-02-22 09:00:00", **{**RAID_101, "persons_detained": 125}),
    {"operation_id": "RTP-2025-000103", "updated_at": "2025-03-25 01:00:00", "is_deleted": True},
]


def _ncct(
    report: str, day: str, site: str | None, detained: int | None, rescued: int | None,
    arrested: int | None, cells: list[tuple[str, str, str, int]], ref: str | None = None,
    summary: str | None = None, province: str | None = "Banteay Meanchey",
) -> list[dict[str, Any]]:  # fmt: skip
    """One KH-NCCT report: one line per breakdown cell, raid-level figures repeated on every line."""
    y, m, d = day.split("-")
    base = {
        "report_id": report, "raid_date": day, "raid_date_raw": f"{d}/{m}/{y}", "province": province,
        "site_name": site, "persons_rescued": rescued, "persons_detained": detained,
        "suspects_arrested": arrested,
        "ref": ref, "summary": summary,
    }  # fmt: skip
    lines = cells or [("", "", "", None)]
    return [
        {**base, "line_no": n, "nationality": nat or None, "sex": sex or None, "age_group": age or None,
         "persons": persons}
        for n, (nat, sex, age, persons) in enumerate(lines, start=1)
    ]  # fmt: skip


# C1 explicit ref: NCCT says 280 rescued where RTP-2025-000102 says 300 detained (family people_found)
NCCT_0001 = _ncct(
    "KH-NCCT-2025-0001", "2025-03-12", "ប៉ោយប៉ែត", None, 280, 25,
    [("ថៃ", "M", "adult", 150), ("ថៃ", "F", "adult", 90), ("ថៃ", "M", "minor", 8), ("ថៃ", "F", "minor", 12),
     ("ចិន", "M", "adult", 20)],
    ref="RTP-2025-000102", summary="NCCT: victims identified after the Poipet operation",
)  # fmt: skip
# C1 rule only (no ref) with RTP-2025-000104; C7 minors cells (8 and 11 hidden, k = 11)
NCCT_0002 = _ncct(
    "KH-NCCT-2025-0002", "2025-03-21", "Poipet", 61, None, 4,
    [("Thai", "M", "adult", 18), ("Thai", "M", "minor", 12), ("Thai", "F", "adult", 12),
     ("Vietnamese", "M", "adult", 11), ("Vietnamese", "F", "minor", 8)],
    summary="NCCT: casino compound, Thai and Vietnamese workers, some minors",
)  # fmt: skip
NCCT_0901 = _ncct("KH-NCCT-2025-0901", "2025-03-18", "Poipet", 25, 0, 0, [("Thai", "F", "adult", 25)],
                  summary="block C, next morning")  # fmt: skip
NCCT_0902 = _ncct("KH-NCCT-2025-0902", "2025-03-25", "Golden Crown", 41, 0, 1, [("Thai", "M", "adult", 41)],
                  province=None, summary="Golden Crown casino")  # fmt: skip
NCCT_LOAD1 = NCCT_0001 + NCCT_0002 + NCCT_0901 + NCCT_0902


def _kh(bulletin: str, line: int, date: str, checkpoint: str, nat: str, male: int | None,
        female: int | None, total: int, dest: str, remarks: str = "", minors: int | None = None
        ) -> dict[str, Any]:  # fmt: skip
    day, month, year = date.split("/")
    return {
        "bulletin_no": bulletin, "line_no": line, "handover_date": f"{year}-{month}-{day}",
        "handover_date_raw": date, "checkpoint": checkpoint, "province": "Banteay Meanchey",
        "nationality": nat, "male": male, "female": female, "total": total, "destination_country": dest,
        "remarks": remarks, "minors": minors,
    }  # fmt: skip


def _th(no: str, date: str, raw: str, checkpoint: str, nat: str, male: int | None, female: int | None,
        total: int, origin: str, minors: int | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "reception_no": no, "received_date": date, "received_date_raw": raw, "checkpoint": checkpoint,
        "nationality": nat, "male": male, "female": female, "total": total, "from_country": origin,
        "tm35_no": f"TM35-{no}", "remarks": None, "minors": minors,
    }  # fmt: skip


KH_LOAD1 = [
    _kh("GDI-031", 1, "14/03/2025", "Poi Pet", "ថៃ", 50, 43, 93, "Thailand", "after raid RTP-2025-000102"),
    _kh("GDI-031", 2, "14/03/2025", "Poipet", "Chinese", 20, 8, 28, "China"),
    _kh("GDI-032", 1, "20/03/2025", "Paoy Paet", "Indonesian", 30, 10, 40, "Indonesia"),
]
TH_LOAD1 = [
    _th("IMM-68-0001", "2025-03-15", "๑๕ มี.ค. ๒๕๖๘", "ด่านอรัญประเทศ", "ไทย", 50, 43, 93, "กัมพูชา", minors=14),
    _th("IMM-68-0002", "2025-03-21", "21 มี.ค. 2568", "อรัญประเทศ", "อินโดนีเซีย", 31, 11, 42, "Cambodia"),
    _th("IMM-68-0003", "2025-03-20", "20 มีนาคม 02568", "ด่านแม่สอด", "จีน", 15, 0, 15, "Myanmar"),
]
# C2: 45 Thai nationals deported citing RTP-2025-000104, whose incident found 42 (C7: 6 minors, hidden)
KH_LOAD2 = [
    _kh(
        "GDI-040",
        1,
        "01/04/2025",
        "Poipet",
        "Thai",
        30,
        15,
        45,
        "Thailand",
        "from raid RTP-2025-000104",
        minors=6,
    ),
]
TH_LOAD2 = [
    _th("IMM-68-0004", "2025-03-15", "15 มี.ค. 2568", "ด่านอรัญประเทศ", "จีน", 20, 8, 28, "กัมพูชา"),
]


def _snap(as_of: str, label: str, assisted: int, repatriated: int, total: bool = False,
          note: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "as_of_date": as_of, "nationality_label": label, "persons_assisted_cumulative": assisted,
        "persons_repatriated_cumulative": repatriated, "is_total_row": total, "note": note,
    }  # fmt: skip


# C6: the January workbook has no total row (ALL is derived: 4040 assisted, 2166 repatriated)
MFA_JAN = [
    _snap("2025-01-31", "Chinese / จีน", 2800, 1800),
    _snap("2025-01-31", "Indonesian", 550, 16),
    _snap("2025-01-31", "Indian / อินเดีย", 450, 300),
    _snap("2025-01-31", "ไต้หวัน", 90, 50),
    _snap("2025-01-31", "Unverified / อยู่ระหว่างพิสูจน์สัญชาติ", 150, 0, note="nationality checks ongoing"),
]


MFA_FEB = [
    _snap("2025-02-28", "Chinese / จีน", 3000, 2000),
    _snap("2025-02-28", "Indonesian", 600, 100),
    _snap("2025-02-28", "Indian / อินเดีย", 500, 300),
    _snap("2025-02-28", "ไต้หวัน", 100, 50),
    _snap("2025-02-28", "Unverified / อยู่ระหว่างพิสูจน์สัญชาติ", 200, 0),
    _snap("2025-02-28", "Total / รวม", 6000, 4000, total=True),
]
MFA_MAR = [
    _snap("2025-03-31", "Chinese / จีน", 3634, 2500),
    _snap("2025-03-31", "Indonesian", 653, 500),
    _snap("2025-03-31", "Indian / อินเดีย", 549, 300),
    _snap("2025-03-31", "ไต้หวัน", 120, 50),
    _snap("2025-03-31", "Unverified / อยู่ระหว่างพิสูจน์สัญชาติ", 250, 0),
    _snap("2025-03-31", "Total / รวม", 7372, 4895, total=True),
]


def _move(mid: str, date: str, status: str, held: str, transit: str | None, dest: str, nat: str, mode: str,
          point: str, persons: int, **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "movement_id": mid, "movement_date": date, "status": status, "held_in_country": held,
        "transit_country": transit, "destination_country": dest, "nationality_label": nat, "mode": mode,
        "departure_point": point, "persons": persons, "note": None, **extra,
    }  # fmt: skip


MOVEMENTS_FEB = [
    _move("MOV-0001", "2025-02-20", "executed", "Myanmar", "THA", "CHN", "Chinese / จีน", "flight",
          "Mae Sot airport", 200),
    _move("MOV-0002", "2025-02-27", "executed", "MMR", "Thailand", "Indonesia", "Indonesian", "bridge",
          "Friendship Bridge 2", 84),
]  # fmt: skip
MOVEMENTS_MAR = [
    # C5: plan 554 people / 4 flights; schedule 3 flights (N-1); executed 400 (MOV-0003)
    _move(
        "PLAN-IDN-01",
        "2025-03-15",
        "planned",
        "MMR",
        "THA",
        "IDN",
        "Indonesian",
        "flight",
        "Don Mueang",
        554,
        row_type="plan",
        plan_id="PLAN-IDN-01",
        flights=4,
        note="554 planned in total",
    ),
    *(
        _move(
            f"MOV-S{n}",
            f"2025-03-{15 + n}",
            "scheduled",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "flight",
            "Don Mueang",
            p,
            plan_id="PLAN-IDN-01",
            flights=1,
        )
        for n, p in ((1, 200), (2, 200), (3, 154))
    ),
    _move(
        "MOV-0003",
        "2025-03-18",
        "executed",
        "MMR",
        "THA",
        "IDN",
        "Indonesian",
        "flight",
        "Don Mueang",
        400,
        plan_id="PLAN-IDN-01",
        flights=2,
        persons_male=313,
        persons_female=87,
    ),
    # C3: 450 on legs vs +500 in the cumulative snapshot; C4: the period total says 455 for the same days
    _move(
        "MOV-0005",
        "2025-03-08",
        "executed",
        "MMR",
        "THA",
        "CHN",
        "Chinese / จีน",
        "flight",
        "Mae Sot airport",
        450,
        flights=3,
        note="round 2",
    ),
    _move(
        "MOV-P01",
        "2025-03-09",
        "executed",
        "MMR",
        "THA",
        "CHN",
        "Chinese / จีน",
        "flight",
        "Mae Sot airport",
        455,
        row_type="period_total",
        period_start="2025-03-06",
        flights=3,
        note="round 2, 6-9 Mar",
    ),
    _move(
        "MOV-0004", "2025-04-05", "planned", "MMR", "THA", "IDN", "Indonesian", "flight", "Suvarnabhumi", 154
    ),
]


def _tel(month: str, raw: str, province: str, action: str, count: int) -> dict[str, Any]:
    return {
        "month": month, "month_raw": raw, "province": province, "action_type": action, "count": count,
        "reported_at": "2025-02-05 02:00:00",
    }  # fmt: skip


NBTC_JAN = [
    _tel("2025-01-01", "2025-01", "Sa Kaeo", "numbers_suspended", 7331),
    _tel("2025-01-01", "2568-01", "เชียงราย", "numbers_suspended", 4231),
    _tel("2025-01-01", "2025-01", "ALL", "numbers_suspended", 28112),
]
NBTC_JAN_CORRECTION = [
    _tel("2025-01-01", "2568-01", "สระแก้ว", "numbers_suspended", 7400),
]


def load_first(con: duckdb.DuckDBPyConnection, tables: dict[str, tuple[str, list]]) -> None:
    """Load 1: everything known on 2025-03-22."""
    kw = {"load_id": "load-1", "loaded_at": LOAD1}
    insert_file(con, tables, "rtp_raids", "rtp_raids_page_1.json", RAIDS_LOAD1, **kw)
    insert_file(con, tables, "kh_ncct_raids", "kh_ncct_raids_2025-03-21.csv", NCCT_LOAD1, **kw)
    # C9: the loader quarantined a KH-NCCT line whose age group is 'teen' (never mapped to a default)
    con.execute(
        "insert into raw._quarantine values ('kh_ncct_raids', 'kh_ncct_raids', ?, "
        "'kh_ncct_raids_2025-03-21.csv', 14, 'KH-NCCT-2025-0002,6,21/03/2025,...,Thai,M,teen,3', "
        "?, 'load-1', ?)",
        [
            _sha("kh_ncct_raids_2025-03-21.csv"),
            "unknown label 'teen' for age_group (accepted: adult, minor, unknown)",
            LOAD1,
        ],
    )
    insert_file(con, tables, "mfa_assistance_snapshots", "mfa_assistance_2025-01.xlsx", MFA_JAN, **kw)
    insert_file(con, tables, "kh_gdi_deportations", "kh_gdi_deportations_2025-03-20.csv", KH_LOAD1, **kw)
    insert_file(con, tables, "th_imm_receptions", "th_imm_receptions_2025-03-21.csv", TH_LOAD1, **kw)
    insert_file(con, tables, "mfa_assistance_snapshots", "mfa_assistance_2025-02.xlsx", MFA_FEB, **kw)
    insert_file(con, tables, "mfa_assistance_movements", "mfa_assistance_2025-02.xlsx#m", MOVEMENTS_FEB, **kw)
    insert_file(con, tables, "nbtc_telecom", "nbtc_telecom_2025-01.ndjson", NBTC_JAN, **kw)


def load_second(con: duckdb.DuckDBPyConnection, tables: dict[str, tuple[str, list]]) -> None:
    """Load 2 (2025-04-02): revision, tombstone, the other side of a batch, March workbook, correction."""
    kw = {"load_id": "load-2", "loaded_at": LOAD2}
    insert_file(con, tables, "rtp_raids", "rtp_raids_page_2.json", RAIDS_LOAD2, **kw)
    insert_file(con, tables, "th_imm_receptions", "th_imm_receptions_2025-03-22.csv", TH_LOAD2, **kw)
    insert_file(con, tables, "kh_gdi_deportations", "kh_gdi_deportations_2025-04-01.csv", KH_LOAD2, **kw)
    insert_file(con, tables, "mfa_assistance_snapshots", "mfa_assistance_2025-03.xlsx", MFA_MAR, **kw)
    insert_file(con, tables, "mfa_assistance_movements", "mfa_assistance_2025-03.xlsx#m", MOVEMENTS_MAR, **kw)
    insert_file(con, tables, "nbtc_telecom", "nbtc_telecom_2025-01-corr.ndjson", NBTC_JAN_CORRECTION, **kw)


def built_after_two_loads(settings: Any) -> dict[str, tuple[str, list]]:
    """A home whose build file holds both loads, built as nights do: full after load 1, incremental after
    load 2 (both builds must pass). Returns the raw tables for further loads."""
    from borderwatch.warehouse import build_warehouse

    settings.ensure_dirs()
    con = duckdb.connect(str(settings.build_db))
    tables = create_raw_schema(con, settings.feeds_dir)
    load_first(con, tables)
    con.close()
    assert build_warehouse(settings, full_refresh=True).ok
    con = duckdb.connect(str(settings.build_db))
    load_second(con, tables)
    con.close()
    assert build_warehouse(settings).ok
    return tables
