"""Raids reported by two agencies: the designed RTP operations and KH-NCCT reports of issue 9.

Each pair is one disagreement class of ``/work/notes/issue9_contract.md`` (C1 same raid, two agencies;
C2 raid vs linked deportations; C7 minors; C8 arrest-only raids; C9 unknown labels; C10 notes). The
numbers are invented; none of them touches a public figure (the Poipet raid keeps its 215 detained).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from borderwatch.simulator.scenario.common import _ts
from borderwatch.simulator.scenario.rtp import AGE_NULL, POIPET_RAID_ID, _op

C1_EXPLICIT = (POIPET_RAID_ID, "KH-NCCT-2025-0031")  # NCCT's Ref names the RTP operation (and back)
C1_RULE = ("RTP-2025-000044", "KH-NCCT-2025-0044")  # same site, one day apart, Thai + Vietnamese
C1_UNLINK = ("RTP-2025-000901", "KH-NCCT-2025-0901")  # rule would link; seeds/report_links.csv unlinks
C1_LINK = ("RTP-2025-000902", "KH-NCCT-2025-0902")  # site spelt differently; the seed links them
C2_RAID_ID = C1_RULE[0]  # found 30 Thai; the KH-GDI batch of 10 Apr naming it deported 41
C8_ARREST_ONLY = ("RTP-2025-000060", "KH-NCCT-2025-0060")
C9_NCCT_REPORT = "KH-NCCT-2025-0057"  # one line says age group "teen": quarantined with its reason
C9_NCCT_LABEL = "teen"
C9_RTP_LABEL = "เด็กชาย?"  # in RTP-2025-000902's breakdown: listed by dbt as unknown_label


@dataclass(frozen=True)
class NcctReport:
    """One KH-NCCT report: raid-level figures and its breakdown cells (one CSV line per cell)."""

    report_id: str
    day: date
    province: str
    site: str
    rescued: int | None
    detained: int | None
    arrested: int | None
    cells: tuple[tuple[str, str, str, int], ...]  # (nationality, sex label, age label, persons)
    ref: str = ""
    summary: str = ""
    khmer_date: bool = False
    lag_days: int = 1  # published this many days after the raid

    @property
    def published(self) -> date:
        return self.day + timedelta(days=self.lag_days)


def _c9_cells() -> tuple[tuple[str, str, str, int], ...]:
    """A large raid: 8 nationalities x (adult men, adult women, minors) = 24 lines, then one bad line.

    Large on purpose: one quarantined line of 25 stays under the 5 % reject threshold of a file.
    """
    counts = {
        "Chinese": (61, 12, 4),
        "Vietnamese": (38, 21, 14),
        "Indonesian": (33, 9, 2),
        "Thai": (27, 8, 3),
        "Myanmar": (25, 11, 6),
        "Filipino": (19, 14, 1),
        "Lao": (12, 7, 5),
        "Malaysian": (10, 3, 2),
    }
    cells: list[tuple[str, str, str, int]] = []
    for nat, (men, women, minors) in counts.items():
        cells += [(nat, "M", "adult", men), (nat, "F", "adult", women), (nat, "F", "minor", minors)]
    return (*cells, ("Indonesian", "M", C9_NCCT_LABEL, 5))


C9_CELLS = _c9_cells()

SCENARIO_NCCT_REPORTS: tuple[NcctReport, ...] = (
    NcctReport(
        C1_EXPLICIT[1],
        date(2025, 3, 3),
        "Banteay Meanchey",
        "Poipet casino compound",
        rescued=228,
        detained=None,
        arrested=14,
        cells=(
            ("Thai", "M", "adult", 70),
            ("Thai", "F", "ពេញវ័យ", 20),
            ("ថៃ", "ស្រី", "អនីតិជន", 3),
            ("Chinese", "male", "adult", 60),
            ("Chinese", "female", "Adult", 8),
            ("Vietnamese", "M", "adult", 30),
            ("Vietnamese", "F", "minor", 9),
            ("Indonesian", "ប្រុស", "adult", 28),
        ),
        ref=POIPET_RAID_ID,
        summary="Joint operation with the Royal Thai Police at a Poipet casino compound: 228 victims "
        "rescued, 14 suspects arrested; Thai victims to be handed over at Poipet",
        lag_days=2,
    ),
    NcctReport(
        C1_RULE[1],
        date(2025, 4, 9),
        "កោះកុង",
        "Cham Yeam casino",
        rescued=38,
        detained=None,
        arrested=5,
        cells=(("Thai", "M", "adult", 17), ("Thai", "F", "adult", 13), ("Vietnamese", "M", "adult", 8)),
        summary="Victims rescued from a casino in Cham Yeam; Thai victims to be handed over at Hat Lek",
    ),
    NcctReport(
        C1_UNLINK[1],
        date(2025, 5, 11),
        "Banteay Meanchey",
        "Poipet casino compound",
        rescued=26,
        detained=None,
        arrested=0,
        cells=(
            ("Thai", "M", "adult", 15),
            ("Thai", "F", "adult", 5),
            ("Thai", "F", "child", 2),
            ("Chinese", "M", "adult", 4),
        ),
        summary="Morning operation at block C of a Poipet compound (no link to the Thai police raid)",
    ),
    NcctReport(
        C1_LINK[1],
        date(2025, 6, 20),
        "",  # no province: with the local casino name, no rule can place it; the analyst links it
        "Golden Crown casino, Ou Smach",
        rescued=41,
        detained=None,
        arrested=6,
        cells=(("Thai", "M", "adult", 30), ("Thai", "F", "adult", 9), ("Thai", "M", "minor", 2)),
        summary="41 Thai nationals rescued at the Golden Crown casino, to be handed over at O'Smach",
    ),
    NcctReport(
        C9_NCCT_REPORT,
        date(2025, 7, 17),
        "Preah Sihanouk",
        "Sihanoukville Chinatown compound",
        rescued=sum(c[3] for c in C9_CELLS),
        detained=0,
        arrested=23,
        cells=C9_CELLS,
        summary="Large rescue in Sihanoukville; one line gives an age group the committee does not use",
        khmer_date=True,
    ),
    NcctReport(
        C8_ARREST_ONLY[1],
        date(2025, 8, 12),
        "Preah Sihanouk",
        "Sihanoukville condominium",
        rescued=None,
        detained=None,
        arrested=6,
        cells=(),
        summary="Six suspects arrested; no victims found on site",
    ),
)


def incident_operations() -> list[dict[str, Any]]:
    """The RTP side of the designed incidents (one version each)."""
    d = date
    joint: dict[str, Any] = {"country": "KHM", "lead": "CNP/RTP joint"}
    return [
        _op(
            C1_RULE[0],
            _ts(d(2025, 4, 8), 20),
            d(2025, 4, 8),
            province="Koh Kong",
            district="Cham Yeam",
            site="Cham Yeam casino",
            detained=36,
            arrested=5,
            breakdown=[  # Thai cells >= 11, so C2 compares a published 30 with the deported batch
                ("Thai", "M", 17, "adult"),
                ("Thai", "F", 13, "ผู้ใหญ่"),
                ("Vietnamese", None, 6, AGE_NULL),
            ],
            summary="Thai nationals held at a Cham Yeam casino; to be handed over at Hat Lek",
            **joint,
        ),
        _op(
            C1_UNLINK[0],
            _ts(d(2025, 5, 11), 9),
            d(2025, 5, 10),
            province="Banteay Meanchey",
            district="Poipet",
            site="Poipet casino compound",
            detained=17,
            arrested=3,
            breakdown=[("Thai", "M", 12, "adult"), ("Thai", "F", 3, "adult"), ("Thai", "F", 2, "เด็ก")],
            summary="Night raid on block A of a Poipet casino compound",
            **joint,
        ),
        _op(
            C1_LINK[0],
            _ts(d(2025, 6, 21), 10),
            d(2025, 6, 20),
            province="Oddar Meanchey",
            district="O'Smach",
            site="O'Smach casino resort",
            detained=41,
            arrested=6,
            breakdown=[("Thai", "M", 30, "adult"), ("Thai", "F", 9, "adult"), ("Thai", "M", 2, C9_RTP_LABEL)],
            summary="41 Thai nationals held at a casino resort in O'Smach; two boys among them",
            **joint,
        ),
        _op(
            C8_ARREST_ONLY[0],
            _ts(d(2025, 8, 5), 18),
            d(2025, 8, 5),
            country="THA",
            province="สระแก้ว",
            district="Aranyaprathet",
            site="Aranyaprathet border market",
            lead="RTP",
            arrested=4,
            summary="Four suspected recruiters arrested; no victims found",
        ),
    ]
