"""Constants, formatting helpers, the scale rule and the data model shared by every feed's generator."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from borderwatch.thai_calendar import FALLBACK_THAI_MONTHS_ABBREVIATED, FALLBACK_THAI_MONTHS_WIDE

TZ_BANGKOK = timezone(timedelta(hours=7))
DEFAULT_UNTIL = date(2025, 12, 31)
FILE_FEEDS: tuple[str, ...] = (
    "kh_gdi_deportations",
    "th_imm_receptions",
    "mfa_assistance",
    "nbtc_telecom",
    "kh_ncct_raids",
)
API_FEEDS: tuple[str, ...] = ("rtp_raids",)

KH_HEADER = (
    "Bulletin No",
    "Line",
    "Date",
    "Checkpoint",
    "Province",
    "Nationality",
    "Male",
    "Female",
    "Total",
    "Destination",
    "Remarks",
)
TH_HEADER = (
    "เลขที่รับตัว",
    "วันที่รับตัว",
    "ด่านตรวจคนเข้าเมือง",
    "สัญชาติ",
    "ชาย",
    "หญิง",
    "รวม",
    "ส่งตัวจากประเทศ",
    "เลขที่ ตม.35",
    "หมายเหตุ",
)
MFA_SUMMARY_HEADER = (
    "Nationality / สัญชาติ",
    "As of",
    "Assisted (cumulative)",
    "Repatriated (cumulative)",
    "Row type",
)
MFA_MOVEMENTS_HEADER = (
    "Movement ID",
    "Date",
    "Status",
    "Held in",
    "Transit",
    "Destination",
    "Nationality",
    "Mode",
    "Departure point",
    "Persons",
    "Note",
)
# Optional trailing columns added by issue 9 (files without them still load); the simulator serves them.
KH_OPTIONAL = ("Minors",)
TH_OPTIONAL = ("เด็ก",)
MFA_SUMMARY_OPTIONAL = ("Note",)
MFA_MOVEMENTS_OPTIONAL = ("Row type", "Plan ID", "Flights", "Male", "Female", "Period start")
NCCT_HEADER = (
    "Report ID",
    "Line",
    "Date",
    "Province",
    "Site",
    "Rescued",
    "Detained",
    "Arrested",
    "Nationality",
    "Sex",
    "Age group",
    "Persons",
    "Ref",
    "Summary",
)
NBTC_ACTIONS = ("sims_suspended", "numbers_suspended", "cross_border_links_suspended", "towers_removed")

KH_BOM = "\ufeff"
CSV_NEWLINE = "\r\n"
TH_ENCODING = "cp874"
CHUNK_ROWS = 4000

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
# the one copy of the Thai month names the warehouse parses with (borderwatch.thai_calendar)
THAI_MONTHS_ABBR = tuple(FALLBACK_THAI_MONTHS_ABBREVIATED.values())
THAI_MONTHS_FULL = tuple(FALLBACK_THAI_MONTHS_WIDE.values())
EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)


# --------------------------------------------------------------------------------------------------
# Small formatting helpers
# --------------------------------------------------------------------------------------------------


def _rng(seed: int, *parts: object) -> random.Random:
    """An independent stream per (seed, purpose, key): files re-render alone and in any order."""
    return random.Random("/".join([str(seed), *map(str, parts)]))


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _ts(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ_BANGKOK)


def iso_ts(moment: datetime) -> str:
    """ISO 8601 with the +07:00 offset, the way the agencies write timestamps."""
    return moment.astimezone(TZ_BANGKOK).isoformat(timespec="seconds")


def dmy(day: date, khmer: bool = False) -> str:
    text = f"{day.day:02d}/{day.month:02d}/{day.year}"
    return text.translate(KHMER_DIGITS) if khmer else text


def thai_date(day: date, style: str = "abbr") -> str:
    """Thai immigration date: ``15 มี.ค. 2568``; styles ``full``, ``thai_digits``, ``be5`` (``02568``)."""
    be = day.year + 543
    if style == "full":
        return f"{day.day} {THAI_MONTHS_FULL[day.month - 1]} {be}"
    if style == "thai_digits":
        return f"{day.day} {THAI_MONTHS_ABBR[day.month - 1]} {be}".translate(THAI_DIGITS)
    if style == "be5":
        return f"{day.day} {THAI_MONTHS_ABBR[day.month - 1]} {be:05d}"
    return f"{day.day} {THAI_MONTHS_ABBR[day.month - 1]} {be}"


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _months(first: tuple[int, int], last: tuple[int, int]) -> Iterator[tuple[int, int]]:
    year, month = first
    while (year, month) <= last:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# --------------------------------------------------------------------------------------------------
# Scale: how much background each feed gets
# --------------------------------------------------------------------------------------------------


def background_rows_per_year(scale: float, base: int, per_unit: int) -> int:
    """Scale 1 is a small sample (``base`` rows); each unit above 1 adds ``per_unit`` rows."""
    if scale <= 1:
        return round(base * max(scale, 0.0))
    return base + round(per_unit * (scale - 1))


def _active_share(scale: float) -> float:
    """Share of days with background bulletins: sparse at the sample scale, daily from scale 4."""
    return min(1.0, 0.25 * max(scale, 0.0))


# --------------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------------

Chunks = Iterator[tuple[bytes, int]]


@dataclass(frozen=True)
class ScenarioFile:
    """One file payload of a file feed, rendered on demand as (bytes chunk, data rows in chunk) pairs."""

    feed: str
    name: str
    published: datetime
    render: Callable[[], Chunks] = field(repr=False, compare=False)

    @property
    def day(self) -> date:
        """The publication date the simulator clock compares with ``until``."""
        return self.published.date()

    def iter_bytes(self) -> Iterator[bytes]:
        for chunk, _rows in self.render():
            yield chunk

    def read_bytes(self) -> bytes:
        return b"".join(self.iter_bytes())


@dataclass(frozen=True)
class Scenario:
    """Every payload of every feed, with publication dates; file bodies render lazily."""

    seed: int
    scale: float
    files: dict[str, list[ScenarioFile]]  # per file feed, sorted by name (= delivery order)
    rtp_versions: list[dict[str, Any]]  # every version of every operation, in (updated_at, id) order
    rtp_tombstones: list[dict[str, Any]]

    def files_until(self, feed: str, until: date | None = None) -> list[ScenarioFile]:
        """Files published on or before ``until`` (all when None)."""
        return [f for f in self.files[feed] if until is None or f.day <= until]

    def rtp_state(self, until: date | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The API on ``until``: the latest version of each live operation, and the tombstones.

        Records are revised in place (``rtp_raids.yaml``), so only the newest version dated on or before
        ``until`` is served; a withdrawn operation leaves ``operations`` once its tombstone is visible.
        """
        latest: dict[str, dict[str, Any]] = {}
        for rec in self.rtp_versions:
            if until is None or _record_day(rec) <= until:
                latest[rec["operation_id"]] = rec
        tombs = [t for t in self.rtp_tombstones if until is None or _record_day(t) <= until]
        dead = {t["operation_id"] for t in tombs}
        ops = sorted((r for k, r in latest.items() if k not in dead), key=rtp_sort_key)
        return ops, sorted(tombs, key=rtp_sort_key)


def _record_day(rec: dict[str, Any]) -> date:
    return datetime.fromisoformat(rec["updated_at"]).astimezone(TZ_BANGKOK).date()


def rtp_sort_key(rec: dict[str, Any]) -> tuple[datetime, str]:
    """API order: (updated_at, operation_id)."""
    return datetime.fromisoformat(rec["updated_at"]), rec["operation_id"]
