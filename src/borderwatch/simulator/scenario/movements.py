"""Rows of the MFA ``Movements`` sheet: repatriation legs, plans, their schedules and stated period totals.

Legs reproduce P4-P6 and P8-P10; the plan, schedule and period-total rows carry the disagreement classes
C4 (a period total vs its legs) and C5 (a plan vs its execution and vs its schedule) of issue 9.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from borderwatch.simulator.scenario.common import _rng

# Nationality label in the sheet -> ISO alpha-3 of the Summary row it counts towards.
LEG_NATIONALITY_CODES = {
    "Chinese": "CHN",
    "Indonesian": "IDN",
    "Indian": "IND",
    "Vietnamese": "VNM",
    "Filipino": "PHL",
    "Ethiopian": "ETH",
    "Kenyan": "KEN",
    "Thai": "THA",
}
PLAN_IDN = "PLAN-IDN-2025-03"  # P10: 554 planned, 400 moved (C5 plan vs execution)
PLAN_CHN_ROUND3 = "PLAN-CHN-2025-R3"  # 11 flights planned, the schedule has 10 (C5 plan vs schedule)
ROUND3_PLANNED_FLIGHTS = 11
ROUND3_STATED_TOTAL = 806  # C4: the stated period total; the legs of 13-14 Mar add up to 810


@dataclass(frozen=True)
class Movement:
    """One row of the Movements sheet (``row_type`` leg, plan or period_total)."""

    movement_id: str
    day: date
    status: str  # planned | scheduled | executed
    held_in: str
    transit: str
    destination: str
    nationality: str
    mode: str
    departure: str
    persons: int
    note: str = ""
    row_type: str = "leg"  # leg | plan | period_total
    plan_id: str = ""
    flights: int | None = None
    male: int | None = None
    female: int | None = None
    period_start: date | None = None

    @property
    def is_executed_leg(self) -> bool:
        return self.row_type in ("leg", "") and self.status == "executed"  # blank row type = leg


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _departure(nationality: str, day: date, mode: str) -> str:
    if mode == "bridge":
        return "Friendship Bridge 2, Mae Sot"
    if nationality == "Indonesian" and day >= date(2025, 3, 1):
        return "Don Mueang"
    return "Mae Sot Airport"


def _row(
    day: date,
    status: str,
    held: str,
    transit: str,
    dest: str,
    nat: str,
    mode: str,
    persons: int,
    note: str = "",
    **extra: Any,
) -> Movement:
    """A row without its id (numbered per month by ``scenario_movements``)."""
    return Movement(
        "", day, status, held, transit, dest, nat, mode, _departure(nat, day, mode), persons, note, **extra
    )


def _flights(
    day: date, nat: str, dest: str, total: int, n: int, note: str, status: str = "executed", **extra: Any
) -> list[Movement]:
    """``n`` flight legs (one flight each) carrying ``total`` people between them."""
    return [
        _row(day, status, "MMR", "THA", dest, nat, "flight", p, note, flights=1, **extra)
        for p in _split(total, n)
    ]


def _scenario_rows() -> list[Movement]:
    d = date
    rows = [
        _row(
            d(2025, 2, 13),
            "planned",
            "Myanmar",
            "",
            "THA",
            "Thai",
            "bridge",
            261,
            "Thai nationals to be received at Mae Sot",
        ),
        _row(
            d(2025, 2, 14),
            "executed",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "flight",
            46,
            "repatriated earlier in February",
        ),
    ]
    rows += _flights(
        d(2025, 2, 20), "Chinese", "CHN", 200, 4, "China Southern to Nanjing; TM.35 issued to each"
    )
    rows += _flights(d(2025, 2, 21), "Chinese", "CHN", 211, 4, "China Southern charter")
    rows += _flights(d(2025, 2, 22), "Chinese", "CHN", 210, 4, "China Southern charter")
    rows.append(
        _row(
            d(2025, 2, 27),
            "executed",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "bridge",
            84,
            "69 male, 15 female (3 pregnant); crossed Friendship Bridge 2, flew that night; reported 1 Mar",
            male=69,
            female=15,
        )
    )
    for day, total in ((6, 360), (7, 360), (8, 360), (9, 359)):
        rows += _flights(d(2025, 3, day), "Chinese", "China", total, 6, "round 2")
    rows.append(
        _row(
            d(2025, 3, 9),
            "planned",
            "MMR",
            "THA",
            "CHN",
            "Chinese",
            "flight",
            810,
            "810 waiting for round 3 (13-14 Mar)",
            row_type="plan",
            plan_id=PLAN_CHN_ROUND3,
            flights=ROUND3_PLANNED_FLIGHTS,
        )
    )
    rows += _flights(d(2025, 3, 11), "Indian", "IND", 283, 2, "Indian Air Force")
    rows += _flights(d(2025, 3, 12), "Indian", "IND", 266, 2, "Indian Air Force")
    for day in (13, 14):
        rows.append(
            _row(
                d(2025, 3, day),
                "scheduled",
                "MMR",
                "THA",
                "CHN",
                "Chinese",
                "flight",
                405,
                "round 3 schedule",
                plan_id=PLAN_CHN_ROUND3,
                flights=5,
            )
        )
        rows += _flights(d(2025, 3, day), "Chinese", "CHN", 405, 5, "round 3", plan_id=PLAN_CHN_ROUND3)
    rows.append(
        _row(
            d(2025, 3, 14),
            "executed",
            "MMR",
            "THA",
            "CHN",
            "Chinese",
            "flight",
            ROUND3_STATED_TOTAL,
            "round 3 total as announced",
            row_type="period_total",
            flights=10,
            period_start=d(2025, 3, 13),
        )
    )
    rows.append(
        _row(
            d(2025, 3, 18),
            "planned",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "flight",
            554,
            "554 planned in total",
            row_type="plan",
            plan_id=PLAN_IDN,
        )
    )
    rows.append(
        _row(
            d(2025, 3, 18),
            "executed",
            "MMR",
            "THA",
            "Indonesia",
            "Indonesian",
            "flight",
            400,
            "313 male, 87 female",
            plan_id=PLAN_IDN,
            male=313,
            female=87,
        )
    )
    rows += c3_legs()
    return rows


def c3_legs() -> list[Movement]:
    """C3: April's Vietnamese legs (75 people); the snapshot's repatriated count grows by 100 (``C3_GAP``)."""
    return [
        _row(
            date(2025, 4, day),
            "executed",
            "MMR",
            "THA",
            "VNM",
            "Vietnamese",
            "flight",
            persons,
            "Vietnam Airlines charter",
            flights=1,
        )
        for day, persons in ((9, 40), (23, 35))
    ]


C3_GAP = {((2025, 4), "VNM"): 25}  # people the April snapshot adds beyond the itemised legs


def _numbered(rows: list[Movement]) -> list[Movement]:
    out: list[Movement] = []
    counters: dict[str, int] = {}
    for m in rows:
        key = f"{m.day.year}-{m.day.month:02d}"
        counters[key] = counters.get(key, 0) + 1
        out.append(replace(m, movement_id=f"MV-{key}-{counters[key]:03d}"))
    return out


def scenario_movements() -> list[Movement]:
    """The rows behind P2, P4-P6, P8-P10 (plus India's March airlift), C3, C4 and C5, ids per month."""
    return _numbered(_scenario_rows())


def _background_movements(seed: int, ym: tuple[int, int]) -> list[Movement]:
    """Later months: a few small legs of other nationalities (never CHN/IDN/IND in Feb-Mar)."""
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
    first = 1 + sum(1 for m in scenario_movements() if (m.day.year, m.day.month) == ym)
    for i in range(first, first + rng.randint(2, 6)):
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
                flights=1 if mode == "flight" else None,
                row_type="",
            )
        )
    return sorted(out, key=lambda m: (m.day, m.movement_id))


def month_movements(seed: int, ym: tuple[int, int]) -> list[Movement]:
    """Every row of one month's Movements sheet: scenario rows, then background legs."""
    return [m for m in scenario_movements() if (m.day.year, m.day.month) == ym] + _background_movements(
        seed, ym
    )


def executed_legs_by_code(seed: int, ym: tuple[int, int]) -> dict[str, int]:
    """People moved by executed legs in a month, per Summary nationality code (what the snapshot adds)."""
    out: dict[str, int] = {}
    for m in month_movements(seed, ym):
        if m.is_executed_leg:
            code = LEG_NATIONALITY_CODES[m.nationality]
            out[code] = out.get(code, 0) + m.persons
    return out
