"""Independent parsers for the simulator's payloads (csv / openpyxl / json), used to measure its figures.

Deliberately written apart from the generator: the tests compare what these parsers read from the bytes
with the public figures, so a generator bug cannot hide behind shared code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

KHMER = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
THAI = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
ABBR = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
FULL = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
THAI_MONTHS = {m: i for names in (ABBR, FULL) for i, m in enumerate(names, 1)}
POIPET = {"Poipet", "Poi Pet", "Paoy Paet", "ប៉ោយប៉ែត"}
KH_TO_TH = {
    **dict.fromkeys(POIPET, "ด่านอรัญประเทศ"),
    **dict.fromkeys(("Cham Yeam", "ចាំយាម"), "ด่านหาดเล็ก"),
    **dict.fromkeys(("O'Smach", "O Smach", "អូរស្មាច់"), "ด่านช่องจอม"),
    **dict.fromkeys(("Psar Prum", "Prum", "ព្រំ"), "ด่านบ้านผักกาด"),
    **dict.fromkeys(("Doung", "Daung", "ដូង"), "ด่านบ้านแหลม"),
}


def unique_files(directory: Path, pattern: str) -> list[Path]:
    """Files in name order, a re-sent copy (same sha256) counted once."""
    seen: set[str] = set()
    out = []
    for path in sorted(directory.glob(pattern)):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            out.append(path)
    return out


def kh_rows(out: Path) -> list[dict[str, Any]]:
    rows = []
    for path in unique_files(out / "kh_gdi_deportations", "*.csv"):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM"
        for rec in csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))):
            d, m, y = rec["Date"].translate(KHMER).split("/")
            rows.append(
                {
                    **rec,
                    "date": date(int(y), int(m), int(d)),
                    "total": int(rec["Total"].translate(KHMER)),
                    "male": int(rec["Male"].translate(KHMER)),
                    "female": int(rec["Female"].translate(KHMER)),
                }
            )
    return rows


def parse_thai_date(text: str) -> date:
    day, month, year = text.translate(THAI).split()
    return date(int(year) - 543, THAI_MONTHS[month], int(day))


def th_rows(out: Path) -> list[dict[str, Any]]:
    rows = []
    for path in unique_files(out / "th_imm_receptions", "*.csv"):
        for rec in csv.DictReader(io.StringIO(path.read_bytes().decode("cp874"))):
            rows.append(
                {**rec, "date": parse_thai_date(rec["วันที่รับตัว"]), "total": int(rec["รวม"].translate(THAI))}
            )
    return rows


def _int(value: Any) -> int:
    return int(str(value).replace(",", "")) if isinstance(value, str) else int(value)


def mfa_summary(path: Path) -> dict[str, Any]:
    wb = load_workbook(path, read_only=True, data_only=True)
    values = [list(r) for r in wb["Summary"].iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(values) if r and isinstance(r[0], str) and "Nationality" in r[0])
    header = values[header_at]
    out: dict[str, Any] = {
        "titles": [r[0] for r in values[:header_at] if r and r[0]],
        "rows": {},
        "total": None,
    }
    for r in values[header_at + 1 :]:
        rec = dict(zip(header, r, strict=False))
        as_of = rec["As of"]
        as_of = as_of.date() if isinstance(as_of, datetime) else date.fromisoformat(str(as_of))
        item = (as_of, _int(rec["Assisted (cumulative)"]), _int(rec["Repatriated (cumulative)"]))
        if rec["Row type"] == "total":
            out["total"] = item
        else:
            out["rows"][rec["Nationality / สัญชาติ"]] = item
    return out


def mfa_movements(out: Path) -> list[dict[str, Any]]:
    moves = []
    for path in sorted((out / "mfa_assistance").glob("*.xlsx")):
        wb = load_workbook(path, read_only=True, data_only=True)
        values = list(wb["Movements"].iter_rows(values_only=True))
        for r in values[1:]:
            rec = dict(zip(values[0], r, strict=True))
            rec["Date"] = rec["Date"].date() if isinstance(rec["Date"], datetime) else rec["Date"]
            moves.append(rec)
    return moves


def ncct_rows(out: Path) -> list[dict[str, Any]]:
    """KH-NCCT lines with the date parsed (Khmer digits too) and numbers as ints (blank = None)."""
    rows = []
    for path in sorted((out / "kh_ncct_raids").glob("*.csv")):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM"
        for rec in csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))):
            d, m, y = rec["Date"].translate(KHMER).split("/")
            nums = {k: int(rec[k].translate(KHMER)) if rec[k] else None
                    for k in ("Rescued", "Detained", "Arrested", "Persons")}  # fmt: skip
            rows.append({**rec, **nums, "date": date(int(y), int(m), int(d)), "file": path.name})
    return rows


def rtp_records(pages_dir: Path) -> list[dict[str, Any]]:
    """The operations of the written RTP API pages (``operations_page_*.json``)."""
    return [
        r for p in sorted(pages_dir.glob("operations_page_*.json")) for r in json.loads(p.read_text())["data"]
    ]


def nbtc_rows(out: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((out / "nbtc_telecom").glob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            year, month = rec["month"].split("-")
            rec["month_ce"] = f"{int(year) - 543 if int(year) > 2400 else int(year)}-{month}"
            rows.append(rec)
    return rows


def _moves_sum(
    moves: list[dict[str, Any]], nat: str, status: str, first: date, last: date, **match: str
) -> int:
    """People in the rows of one nationality and status in a date range; a period total is never a leg."""
    return sum(
        m["Persons"]
        for m in moves
        if m["Nationality"] == nat
        and m["Status"] == status
        and m.get("Row type") != "period_total"
        and first <= m["Date"] <= last
        and all(m[k] == v for k, v in match.items())
    )


def measure(out: Path) -> dict[str, Any]:
    """The figures as an independent reader of the generated files sees them."""
    march = mfa_summary(out / "mfa_assistance" / "mfa_assistance_2025-03.xlsx")
    by_label = march["rows"]
    kh, th = kh_rows(out), th_rows(out)
    kh_thai_poipet_march = [
        r
        for r in kh
        if r["Nationality"] in ("Thai", "ថៃ")
        and r["Checkpoint"] in POIPET
        and (r["date"].year, r["date"].month) == (2025, 3)
    ]
    th_arp_march = [
        r
        for r in th
        if r["ด่านตรวจคนเข้าเมือง"] == "ด่านอรัญประเทศ"
        and r["ส่งตัวจากประเทศ"] == "กัมพูชา"
        and (r["date"].year, r["date"].month) == (2025, 3)
    ]
    moves = mfa_movements(out)
    nbtc = nbtc_rows(out)
    nbtc_sum: Counter[tuple[str, str]] = Counter()
    for rec in nbtc:
        nbtc_sum[(rec["month_ce"], rec["action_type"])] += rec["count"]
    return {
        "S1": march["total"][1],
        "S2": march["total"][2],
        "S3": by_label["Chinese / จีน"][1],
        "S4": by_label["Indonesian"][1],
        "S5": by_label["Indian / อินเดีย"][1],
        "parts_assisted": sum(v[1] for v in by_label.values()),
        "parts_repatriated": sum(v[2] for v in by_label.values()),
        "S6_kh": sum(r["total"] for r in kh_thai_poipet_march),
        "S6_th": sum(r["total"] for r in th_arp_march),
        "S6_batches": sorted((r["date"], r["total"]) for r in kh_thai_poipet_march),
        "S6_th_batches": sorted((r["date"], r["total"], bool(r["เลขที่ ตม.35"])) for r in th_arp_march),
        "P4": _moves_sum(moves, "Chinese", "executed", date(2025, 2, 20), date(2025, 2, 20)),
        "P5": _moves_sum(moves, "Chinese", "executed", date(2025, 2, 20), date(2025, 2, 22)),
        "P6": _moves_sum(moves, "Chinese", "executed", date(2025, 3, 6), date(2025, 3, 9)),
        "P8": _moves_sum(
            moves, "Indonesian", "executed", date(2025, 2, 27), date(2025, 2, 27), Mode="bridge"
        ),
        "P10_executed": _moves_sum(
            moves,
            "Indonesian",
            "executed",
            date(2025, 3, 18),
            date(2025, 3, 18),
            **{"Departure point": "Don Mueang"},
        ),
        "P10_planned": _moves_sum(moves, "Indonesian", "planned", date(2025, 3, 18), date(2025, 3, 18)),
        "P12": sum(
            r["count"]
            for r in nbtc
            if r["month_ce"] == "2024-07" and r["province"] == "ALL" and r["action_type"] == "sims_suspended"
        ),
        "P13": nbtc_sum[("2025-01", "numbers_suspended")],
        "P13_previous": nbtc_sum[("2024-12", "numbers_suspended")],
        "P13_sa_kaeo": sum(
            r["count"]
            for r in nbtc
            if r["month_ce"] == "2025-01"
            and r["province"] in ("Sa Kaeo", "สระแก้ว")
            and r["action_type"] == "numbers_suspended"
        ),
        "P14": sum(
            r["count"]
            for r in nbtc
            if r["month_ce"] == "2025-06"
            and r["province"] == "ALL"
            and r["action_type"] == "cross_border_links_suspended"
        ),
        "kh_th": pair_batches(kh, th),
    }


def pair_batches(kh: list[dict[str, Any]], th: list[dict[str, Any]]) -> dict[str, Any]:
    """Match Thai-national batches across the border: same crossing, Thai date = KH date or the day after."""
    th_index: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    for r in th:
        if r["ส่งตัวจากประเทศ"] == "กัมพูชา":
            th_index[(r["ด่านตรวจคนเข้าเมือง"], r["date"])].append(r)
    used: set[int] = set()
    conflicts, kh_only = [], []
    for r in kh:
        if r["Nationality"] not in ("Thai", "ថៃ"):
            continue
        checkpoint = KH_TO_TH[r["Checkpoint"]]
        candidates = [
            c
            for d in (r["date"], r["date"] + timedelta(days=1))
            for c in th_index[(checkpoint, d)]
            if id(c) not in used
        ]
        if not candidates:
            kh_only.append((r["date"], r["Checkpoint"], r["total"]))
            continue
        match = next((c for c in candidates if c["total"] == r["total"]), candidates[0])
        used.add(id(match))
        if match["total"] != r["total"]:
            conflicts.append((r["date"], r["Checkpoint"], r["total"], match["total"]))
    th_only = [
        (r["date"], r["ด่านตรวจคนเข้าเมือง"], r["total"])
        for rs in th_index.values()
        for r in rs
        if id(r) not in used
    ]
    return {"conflicts": conflicts, "kh_only": kh_only, "th_only": sorted(th_only)}
