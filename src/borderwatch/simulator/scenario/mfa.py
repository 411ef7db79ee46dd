"""Thai MFA monthly workbooks: cumulative assistance snapshots and repatriation movements."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime

from borderwatch.simulator.scenario.common import (
    EN_MONTHS,
    MFA_MOVEMENTS_HEADER,
    MFA_SUMMARY_HEADER,
    THAI_MONTHS_FULL,
    Chunks,
    ScenarioFile,
    _month_end,
    _months,
    _rng,
    _ts,
)

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
        grown = []
        for label, code, a, r in current:
            a2 = a + rng.randint(0, max(3, a // 25))
            r2 = min(a2, r + rng.randint(0, max(2, (a2 - r) // 4)))
            grown.append((label, code, a2, r2))
        out[ym] = current = grown
    return out


@dataclass(frozen=True)
class Movement:
    """One repatriation leg in the MFA Movements sheet."""

    movement_id: str
    day: date
    status: str  # planned | executed
    held_in: str
    transit: str
    destination: str
    nationality: str
    mode: str
    departure: str
    persons: int
    note: str = ""


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def scenario_movements() -> list[Movement]:
    """The repatriation legs behind P2, P4, P5, P6, P8, P9 and P10 (plus India's March airlift)."""
    legs: list[tuple[date, str, str, str, str, str, str, int, str]] = []

    def flights(
        day: date, nat: str, dest: str, total: int, n: int, note: str, status: str = "executed"
    ) -> None:
        for persons in _split(total, n):
            legs.append((day, status, "MMR", "THA", dest, nat, "flight", persons, note))

    legs.append(
        (
            date(2025, 2, 13),
            "planned",
            "Myanmar",
            "",
            "THA",
            "Thai",
            "bridge",
            261,
            "Thai nationals to be received at Mae Sot",
        )
    )
    legs.append(
        (
            date(2025, 2, 14),
            "executed",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "flight",
            46,
            "repatriated earlier in February",
        )
    )
    flights(date(2025, 2, 20), "Chinese", "CHN", 200, 4, "China Southern to Nanjing; TM.35 issued to each")
    flights(date(2025, 2, 21), "Chinese", "CHN", 211, 4, "China Southern charter")
    flights(date(2025, 2, 22), "Chinese", "CHN", 210, 4, "China Southern charter")
    legs.append(
        (
            date(2025, 2, 27),
            "executed",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "bridge",
            84,
            "69 male, 15 female (3 pregnant); crossed Friendship Bridge 2, flew that night; reported 1 Mar",
        )
    )
    for day, total in ((6, 360), (7, 360), (8, 360), (9, 359)):
        flights(date(2025, 3, day), "Chinese", "China", total, 6, "round 2")
    flights(date(2025, 3, 11), "Indian", "IND", 283, 2, "Indian Air Force")
    flights(date(2025, 3, 12), "Indian", "IND", 266, 2, "Indian Air Force")
    for day in (13, 14):
        flights(date(2025, 3, day), "Chinese", "CHN", 405, 5, "round 3", status="planned")
        flights(date(2025, 3, day), "Chinese", "CHN", 405, 5, "round 3")
    legs.append(
        (
            date(2025, 3, 18),
            "planned",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "flight",
            554,
            "554 planned in total",
        )
    )
    legs.append(
        (
            date(2025, 3, 18),
            "executed",
            "MMR",
            "THA",
            "Indonesia",
            "Indonesian",
            "flight",
            400,
            "313 male, 87 female",
        )
    )
    out: list[Movement] = []
    counters: dict[str, int] = {}
    for day, status, held, transit, dest, nat, mode, persons, note in legs:
        key = f"{day.year}-{day.month:02d}"
        counters[key] = counters.get(key, 0) + 1
        departure = _departure(nat, day, mode)
        out.append(
            Movement(
                f"MV-{key}-{counters[key]:03d}",
                day,
                status,
                held,
                transit,
                dest,
                nat,
                mode,
                departure,
                persons,
                note,
            )
        )
    return out


def _departure(nationality: str, day: date, mode: str) -> str:
    if mode == "bridge":
        return "Friendship Bridge 2, Mae Sot"
    if nationality == "Indonesian" and day >= date(2025, 3, 1):
        return "Don Mueang"
    return "Mae Sot Airport"


def _background_movements(seed: int, ym: tuple[int, int]) -> list[Movement]:
    """Later months: a few small legs of other nationalities (never CHN/IDN/IND in Feb–Mar)."""
    if ym <= (2025, 3):
        return []
    rng = _rng(seed, "mfa-moves", f"{ym[0]}-{ym[1]:02d}")
    choices = (
        ("Vietnamese", "VNM"),
        ("Filipino", "PHL"),
        ("Ethiopian", "ETH"),
        ("Kenyan", "KEN"),
        ("Chinese", "CHN"),
        ("Indonesian", "IDN"),
    )
    out = []
    for i in range(1, rng.randint(2, 6) + 1):
        nat, dest = rng.choice(choices)
        day = date(ym[0], ym[1], rng.randint(1, 28))
        mode = rng.choice(("flight", "flight", "road"))
        out.append(
            Movement(
                f"MV-{ym[0]}-{ym[1]:02d}-{i:03d}",
                day,
                "executed",
                "MMR",
                "THA",
                dest,
                nat,
                mode,
                "Mae Sot Airport" if mode == "flight" else "Mae Sot",
                rng.randint(5, 120),
            )
        )
    return sorted(out, key=lambda m: (m.day, m.movement_id))


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
    ws.append(list(MFA_SUMMARY_HEADER))
    for i, (label, code, assisted, repatriated) in enumerate(rows):
        as_of_cell: date | str = as_of.isoformat() if i % 4 == 3 else as_of
        a_cell: int | str = f"{assisted:,}" if code in ("CHN", "ETH") else assisted
        r_cell: int | str = f"{repatriated:,}" if code == "CHN" else repatriated
        ws.append([label, as_of_cell, a_cell, r_cell, "nationality"])
    ws.append([MFA_TOTAL_LABEL, as_of, f"{sum(r[2] for r in rows):,}", sum(r[3] for r in rows), "total"])
    for row in ws.iter_rows(min_row=5, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    mv = wb.create_sheet("Movements")
    mv.append(list(MFA_MOVEMENTS_HEADER))
    moves = [m for m in scenario_movements() if (m.day.year, m.day.month) == ym] + _background_movements(
        seed, ym
    )
    for m in moves:
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
            ]
        )
    for row in mv.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
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
            yield _mfa_workbook(seed, ym, rows), len(rows) + 1

        files.append(
            ScenarioFile("mfa_assistance", f"mfa_assistance_{ym[0]}-{ym[1]:02d}.xlsx", _ts(as_of, 16), render)
        )
    return files
