"""Thai MFA monthly workbooks: cumulative assistance snapshots and repatriation movements."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime

from borderwatch.simulator.scenario.common import (
    EN_MONTHS,
    MFA_MOVEMENTS_HEADER,
    MFA_MOVEMENTS_OPTIONAL,
    MFA_SUMMARY_HEADER,
    MFA_SUMMARY_OPTIONAL,
    THAI_MONTHS_FULL,
    Chunks,
    ScenarioFile,
    _month_end,
    _months,
    _rng,
    _ts,
)
from borderwatch.simulator.scenario.movements import C3_GAP, executed_legs_by_code, month_movements

# --------------------------------------------------------------------------------------------------
# MFA: monthly workbooks
# --------------------------------------------------------------------------------------------------

# (label, ISO alpha-3 or UNVERIFIED, assisted 2025-03-31, repatriated 2025-03-31) — S1–S5.
MFA_MARCH: tuple[tuple[str, str, int, int], ...] = (
    ("Chinese / จีน", "CHN", 3634, 2870),
    ("Indonesian", "IDN", 653, 530),
    ("Indian / อินเดีย", "IND", 549, 549),
    ("Vietnamese / เวียดนาม", "VNM", 612, 310),
    ("Filipino", "PHL", 281, 165),
    ("Ethiopian / เอธิโอเปีย", "ETH", 402, 180),
    ("Kenyan", "KEN", 236, 95),
    ("Pakistani / ปากีสถาน", "PAK", 148, 60),
    ("Bangladeshi", "BGD", 126, 48),
    ("Nepali / เนปาล", "NPL", 97, 40),
    ("Sri Lankan", "LKA", 84, 28),
    ("ไต้หวัน", "TWN", 143, 20),
    ("Unverified / อยู่ระหว่างพิสูจน์สัญชาติ", "UNVERIFIED", 407, 0),
)
MFA_TOTAL_LABEL = "Total / รวม"
MFA_MONTHS = tuple(_months((2025, 1), (2025, 12)))
# Cumulative values before March: explicit where movements pin them (CHN 621 and IDN 46+84 by February).
_MFA_EARLY_REPATRIATED = {
    (1, "CHN"): 0,
    (2, "CHN"): 621,
    (1, "IDN"): 0,
    (2, "IDN"): 130,
    (1, "IND"): 0,
    (2, "IND"): 0,
}
_MFA_EARLY_SHARE = {1: 0.35, 2: 0.7}


def mfa_cumulative(seed: int) -> dict[tuple[int, int], list[tuple[str, str, int, int]]]:
    """Per month: (label, code, assisted, repatriated), never decreasing, repatriated ≤ assisted."""
    out: dict[tuple[int, int], list[tuple[str, str, int, int]]] = {}
    for month in (1, 2):
        share = _MFA_EARLY_SHARE[month]
        rows = []
        for label, code, assisted, repatriated in MFA_MARCH:
            a = int(assisted * share)
            r = _MFA_EARLY_REPATRIATED.get((month, code), int(repatriated * share))
            rows.append((label, code, a, min(r, a)))
        out[(2025, month)] = rows
    out[(2025, 3)] = list(MFA_MARCH)
    rng = _rng(seed, "mfa-growth")
    current = list(MFA_MARCH)
    for ym in MFA_MONTHS[3:]:
        legs = executed_legs_by_code(seed, ym)
        grown = []
        for label, code, a, r in current:
            a2 = a + rng.randint(0, max(3, a // 25))
            r2 = min(a2, r + rng.randint(0, max(2, (a2 - r) // 4)))
            if code in legs:  # itemised: the snapshot grows by the legs (plus C3's designed gap)
                r2 = r + legs[code] + C3_GAP.get((ym, code), 0)
                a2 = max(a2, r2)
            grown.append((label, code, a2, r2))
        out[ym] = current = grown
    return out


NO_TOTAL_ROW_MONTH = (2025, 5)  # C6: this workbook has no total row; the warehouse derives ALL
SUMMARY_NOTES = {
    "UNVERIFIED": "nationality screening in progress",
    "TOTAL": "includes persons whose nationality is not yet verified",
}


def _mfa_workbook(seed: int, ym: tuple[int, int], rows: list[tuple[str, str, int, int]]) -> bytes:
    """The monthly workbook; openpyxl output normalised so the bytes depend only on the inputs."""
    from openpyxl import Workbook

    as_of = _month_end(*ym)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary"
    ws.append([f"ข้อมูล ณ วันที่ {as_of.day} {THAI_MONTHS_FULL[as_of.month - 1]} {as_of.year + 543}"])
    ws.append([f"As of {as_of.day} {EN_MONTHS[as_of.month - 1]} {as_of.year}"])
    ws.append([])
    ws.append([*MFA_SUMMARY_HEADER, *MFA_SUMMARY_OPTIONAL])
    for i, (label, code, assisted, repatriated) in enumerate(rows):
        as_of_cell: date | str = as_of.isoformat() if i % 4 == 3 else as_of
        a_cell: int | str = f"{assisted:,}" if code in ("CHN", "ETH") else assisted
        r_cell: int | str = f"{repatriated:,}" if code == "CHN" else repatriated
        ws.append([label, as_of_cell, a_cell, r_cell, "nationality", SUMMARY_NOTES.get(code)])
    if ym != NO_TOTAL_ROW_MONTH:
        assisted_total, repatriated_total = sum(r[2] for r in rows), sum(r[3] for r in rows)
        ws.append(
            [
                MFA_TOTAL_LABEL,
                as_of,
                f"{assisted_total:,}",
                repatriated_total,
                "total",
                SUMMARY_NOTES["TOTAL"],
            ]
        )
    for row in ws.iter_rows(min_row=5, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    mv = wb.create_sheet("Movements")
    mv.append([*MFA_MOVEMENTS_HEADER, *MFA_MOVEMENTS_OPTIONAL])
    for m in month_movements(seed, ym):
        mv.append(
            [
                m.movement_id,
                m.day,
                m.status,
                m.held_in,
                m.transit,
                m.destination,
                m.nationality,
                m.mode,
                m.departure,
                m.persons,
                m.note,
                m.row_type or None,
                m.plan_id or None,
                m.flights,
                m.male,
                m.female,
                m.period_start,
            ]
        )
    for row in mv.iter_rows(min_row=2):
        for cell in (row[1], row[-1]):
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return normalise_zip(buf.getvalue(), _ts(as_of, 16))


_CORE_TS = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalise_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip with fixed entry times and core-property timestamps, so equal inputs give equal bytes."""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_TS.sub(lambda m: m.group(1) + stamp + m.group(3), body)
            entry = zipfile.ZipInfo(info.filename, date_time=(when.year, when.month, when.day, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, body)
    return out.getvalue()


def _mfa_files(seed: int) -> list[ScenarioFile]:
    cumulative = mfa_cumulative(seed)
    files = []
    for ym in MFA_MONTHS:
        as_of = _month_end(*ym)

        def render(ym: tuple[int, int] = ym) -> Chunks:
            rows = cumulative[ym]
            yield _mfa_workbook(seed, ym, rows), len(rows) + (ym != NO_TOTAL_ROW_MONTH)

        files.append(
            ScenarioFile("mfa_assistance", f"mfa_assistance_{ym[0]}-{ym[1]:02d}.xlsx", _ts(as_of, 16), render)
        )
    return files
