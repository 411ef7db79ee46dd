"""KH-NCCT raid reports: daily CSV files, one line per report x breakdown cell (``feeds/kh_ncct_raids.yaml``).

The designed reports live in ``incidents`` (they pair with RTP operations); ``scale`` adds background
reports at Cambodian sites no RTP operation uses, with every accepted spelling of the sex and age labels.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from functools import partial

from borderwatch.simulator.scenario.common import (
    KH_BOM,
    NCCT_HEADER,
    YEAR_END,
    YEAR_START,
    Chunks,
    ScenarioFile,
    _rng,
    _ts,
    dmy,
)
from borderwatch.simulator.scenario.deportations import _chunked
from borderwatch.simulator.scenario.incidents import SCENARIO_NCCT_REPORTS, NcctReport

FEED = "kh_ncct_raids"
PUBLISH_HOUR = 19
# Provinces and site kinds of background reports: never a site of a designed incident.
_BG_PLACES = (
    ("Preah Sihanouk", "Sihanoukville"),
    ("ព្រះសីហនុ", "Sihanoukville"),
    ("Phnom Penh", "Phnom Penh"),
    ("Svay Rieng", "Bavet"),
    ("Kampot", "Kampot"),
)
_BG_SITES = ("rented villa", "hotel floor", "office tower", "apartment block", "warehouse compound")
_BG_NATIONALITIES = ("Chinese", "Vietnamese", "Indonesian", "Thai", "Myanmar", "ចិន", "វៀតណាម")
_SEX_LABELS = {"M": ("M", "male", "Male", "ប្រុស"), "F": ("F", "female", "ស្រី"), "U": ("U", "unknown")}
_AGE_LABELS = {
    "adult": ("adult", "Adult", "ពេញវ័យ"),
    "minor": ("minor", "child", "អនីតិជន"),
    "unknown": ("unknown",),
}
BACKGROUND_PER_UNIT = 12  # background reports per year at scale 1


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


def report_rows(report: NcctReport) -> list[list[str]]:
    """The CSV cells of one report: raid-level figures repeated on every line; one empty line if no cells."""
    head = [
        dmy(report.day, report.khmer_date),
        report.province,
        report.site,
        _num(report.rescued),
        _num(report.detained),
        _num(report.arrested),
    ]
    cells = report.cells or (("", "", "", None),)
    return [
        [report.report_id, str(n), *head, nat, sex, age, _num(persons), report.ref, report.summary]
        for n, (nat, sex, age, persons) in enumerate(cells, 1)
    ]


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def background_reports(seed: int, scale: float) -> list[NcctReport]:
    """Small reports across the year; ids from KH-NCCT-2025-1001 (designed ids stay under 1000)."""
    count = round(BACKGROUND_PER_UNIT * max(scale, 0.0))
    rng = _rng(seed, "ncct")
    span = (YEAR_END - YEAR_START).days - 3
    out = []
    for i in range(count):
        day = YEAR_START + timedelta(days=rng.randint(0, span))
        cells = []
        for _ in range(rng.randint(1, 4)):
            sex = rng.choice(("M", "M", "F", "U"))
            age = rng.choice(("adult", "adult", "adult", "minor", "unknown"))
            cells.append(
                (
                    rng.choice(_BG_NATIONALITIES),
                    rng.choice(_SEX_LABELS[sex]),
                    rng.choice(_AGE_LABELS[age]),
                    rng.randint(1, 25),
                )
            )
        found = sum(c[3] for c in cells)
        province, town = rng.choice(_BG_PLACES)
        out.append(
            NcctReport(
                f"KH-NCCT-{day.year}-{1001 + i:04d}",
                day,
                province,
                f"{town} {rng.choice(_BG_SITES)}",
                rescued=found,
                detained=rng.choice((None, 0, rng.randint(0, 5))),
                arrested=rng.randint(0, 8),
                cells=tuple(cells),
                summary=rng.choice(("", "", "victims referred to the provincial social affairs department")),
                khmer_date=rng.random() < 0.1,
                lag_days=rng.randint(1, 3),
            )
        )
    return out


def _ncct_file(reports: list[NcctReport]) -> Chunks:
    lines: Iterator[str] = (_csv_line(row) for r in reports for row in report_rows(r))
    return _chunked(",".join(NCCT_HEADER), lines, "utf-8", prefix=KH_BOM)


def _ncct_files(seed: int, scale: float) -> list[ScenarioFile]:
    """One ``kh_ncct_raids_<day>.csv`` per publication day, reports in id order."""
    by_day: dict[date, list[NcctReport]] = {}
    for report in (*SCENARIO_NCCT_REPORTS, *background_reports(seed, scale)):
        by_day.setdefault(report.published, []).append(report)
    files = []
    for day, reports in sorted(by_day.items()):
        ordered = sorted(reports, key=lambda r: r.report_id)
        render = partial(_ncct_file, ordered)
        files.append(ScenarioFile(FEED, f"{FEED}_{day.isoformat()}.csv", _ts(day, PUBLISH_HOUR), render))
    return files
