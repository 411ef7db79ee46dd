"""The deterministic dataset the feed simulator serves, built from ``random.Random(seed)`` and ``scale``.

The fixed *scenario* reproduces the public figures in ``/work/shared/reference/public_figures.csv``
(S1–S6 and the P-figures that fit a feed); ``scale`` adds background records that never touch those
figures. File payloads are rendered lazily, chunk by chunk, so scale 100+ streams millions of rows to
disk with bounded memory. Every file is a pure function of (seed, scale, file), so any one file can be
re-rendered on its own and two runs with the same arguments give identical bytes.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import Any

TZ_BANGKOK = timezone(timedelta(hours=7))
DEFAULT_UNTIL = date(2025, 12, 31)
FILE_FEEDS: tuple[str, ...] = ("kh_gdi_deportations", "th_imm_receptions", "mfa_assistance", "nbtc_telecom")
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
NBTC_ACTIONS = ("sims_suspended", "numbers_suspended", "cross_border_links_suspended", "towers_removed")

KH_BOM = "\ufeff"
CSV_NEWLINE = "\r\n"
TH_ENCODING = "cp874"
CHUNK_ROWS = 4000

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
THAI_MONTHS_ABBR = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
THAI_MONTHS_FULL = (
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
# Places and labels
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    """A Cambodia–Thailand border crossing: Khmer-side spellings and the Thai immigration checkpoint."""

    kh_names: tuple[str, ...]
    kh_provinces: tuple[str, ...]
    th_checkpoint: str
    th_code: str  # prefix of reception numbers
    th_abbr: str  # Thai province abbreviation used in TM.35 numbers


CROSSINGS: tuple[Crossing, ...] = (
    Crossing(
        ("Poipet", "Poi Pet", "Paoy Paet", "ប៉ោយប៉ែត"),
        ("Banteay Meanchey", "បន្ទាយមានជ័យ"),
        "ด่านอรัญประเทศ",
        "ARP",
        "สก",
    ),
    Crossing(("Cham Yeam", "ចាំយាម"), ("Koh Kong", "កោះកុង"), "ด่านหาดเล็ก", "HLK", "ตร"),
    Crossing(("O'Smach", "O Smach", "អូរស្មាច់"), ("Oddar Meanchey", "ឧត្តរមានជ័យ"), "ด่านช่องจอม", "CJM", "สร"),
    Crossing(("Psar Prum", "Prum", "ព្រំ"), ("Pailin", "ប៉ៃលិន"), "ด่านบ้านผักกาด", "BPK", "จบ"),
    Crossing(("Doung", "Daung", "ដូង"), ("Battambang", "បាត់ដំបង"), "ด่านบ้านแหลม", "BLM", "จบ"),
)
POIPET = 0

# Thai checkpoints that receive Thai nationals from Myanmar, Laos and Malaysia (never from Cambodia).
TH_OTHER_CHECKPOINTS: tuple[tuple[str, str, str, str], ...] = (
    ("ด่านแม่สอด", "MST", "ตก", "เมียนมา"),
    ("ด่านแม่สอด", "MST", "ตก", "เมียนมา"),
    ("ด่านแม่สาย", "MSI", "ชร", "เมียนมา"),
    ("ด่านหนองคาย", "NKI", "นค", "ลาว"),
    ("ด่านสะเดา", "SDO", "สข", "มาเลเซีย"),
    ("ด่านระนอง", "RNG", "รน", "เมียนมา"),
    ("ด่านแม่สอด", "MST", "ตก", "เมียนมา"),
    ("ด่านแม่สาย", "MSI", "ชร", "เมียนมา"),
)
TH_REMARKS = ("", "", "", "", "", "", "ส่งดำเนินคดี", "คัดกรองผู้เสียหายจากการค้ามนุษย์")

# Foreign nationals Cambodia deports by air or to third countries: (English, Khmer, destination, places).
_KH_FOREIGN: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Chinese",
        "ចិន",
        "China",
        (("Phnom Penh International Airport", "Phnom Penh"), ("Techo International Airport", "Kandal")),
    ),
    ("Vietnamese", "វៀតណាម", "Vietnam", (("Bavet", "Svay Rieng"), ("បាវិត", "ស្វាយរៀង"))),
    ("Indonesian", "ឥណ្ឌូនេស៊ី", "Indonesia", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Malaysian", "ម៉ាឡេស៊ី", "Malaysia", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Korean", "កូរ៉េ", "South Korea", (("Techo International Airport", "Kandal"),)),
    ("Filipino", "ហ្វីលីពីន", "Philippines", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Myanmar", "មីយ៉ាន់ម៉ា", "Myanmar", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Lao", "ឡាវ", "Laos", (("Trapeang Kriel", "Stung Treng"),)),
)
_KH_FOREIGN_WEIGHTS = (0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 0)  # 16 slots → index into _KH_FOREIGN
KH_REMARKS = (
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "Online scam",
    "Illegal stay",
    "Overstay",
    "បោកប្រាស់តាមអនឡាញ",
    "Court order",
    "Expelled",
    "",
)

# Thai provinces for NBTC and RTP: (English name as in ISO 3166-2 / common use, Thai name).
PROVINCES: tuple[tuple[str, str], ...] = (
    ("Bangkok", "กรุงเทพมหานคร"),
    ("Sa Kaeo", "สระแก้ว"),
    ("Chiang Rai", "เชียงราย"),
    ("Nong Khai", "หนองคาย"),
    ("Narathiwat", "นราธิวาส"),
    ("Tak", "ตาก"),
    ("Chanthaburi", "จันทบุรี"),
    ("Trat", "ตราด"),
    ("Buri Ram", "บุรีรัมย์"),
    ("Surin", "สุรินทร์"),
    ("Si Sa Ket", "ศรีสะเกษ"),
    ("Ranong", "ระนอง"),
    ("Chiang Mai", "เชียงใหม่"),
    ("Chon Buri", "ชลบุรี"),
    ("Nonthaburi", "นนทบุรี"),
    ("Pathum Thani", "ปทุมธานี"),
    ("Samut Prakan", "สมุทรปราการ"),
    ("Khon Kaen", "ขอนแก่น"),
    ("Udon Thani", "อุดรธานี"),
    ("Nakhon Ratchasima", "นครราชสีมา"),
    ("Ubon Ratchathani", "อุบลราชธานี"),
    ("Songkhla", "สงขลา"),
    ("Phuket", "ภูเก็ต"),
    ("Yala", "ยะลา"),
    ("Pattani", "ปัตตานี"),
    ("Mukdahan", "มุกดาหาร"),
    ("Nakhon Phanom", "นครพนม"),
    ("Loei", "เลย"),
    ("Kanchanaburi", "กาญจนบุรี"),
    ("Prachin Buri", "ปราจีนบุรี"),
    ("Mae Hong Son", "แม่ฮ่องสอน"),
    ("Satun", "สตูล"),
    ("Bueng Kan", "บึงกาฬ"),
    ("Phitsanulok", "พิษณุโลก"),
    ("Rayong", "ระยอง"),
)


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


# --------------------------------------------------------------------------------------------------
# KH / TH: handover batches of Thai nationals at Cambodia–Thailand crossings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One handover of Thai nationals at one crossing, as Cambodia and (maybe) Thailand report it."""

    kh_day: date
    crossing: int
    male: int
    female: int
    kh_reported: bool = True
    th_day: date | None = None  # None: Thailand did not report it
    th_male: int | None = None  # set only where Thailand's count disagrees
    th_female: int | None = None
    kh_name: int = 0  # index into Crossing.kh_names
    kh_province: int = 0
    kh_khmer_nationality: bool = False
    kh_khmer_numbers: bool = False
    kh_khmer_date: bool = False
    th_date_style: str = "abbr"
    th_remark: str = ""

    @property
    def total(self) -> int:
        return self.male + self.female


# S6 (93 Thai nationals deported at Poipet in March 2025) and the designed conflicts / one-sided batches.
SCENARIO_BATCHES: tuple[Batch, ...] = (
    Batch(date(2025, 3, 8), POIPET, 28, 7, th_day=date(2025, 3, 8), kh_name=1),
    Batch(
        date(2025, 3, 14),
        POIPET,
        33,
        8,
        th_day=date(2025, 3, 15),
        kh_name=2,
        kh_province=1,
        kh_khmer_nationality=True,
        kh_khmer_numbers=True,
        th_date_style="thai_digits",
        th_remark="ส่งดำเนินคดี",
    ),
    Batch(
        date(2025, 3, 21),
        POIPET,
        12,
        5,
        th_day=date(2025, 3, 21),
        kh_name=3,
        kh_khmer_date=True,
        th_date_style="be5",
        th_remark="ส่งดำเนินคดี",
    ),
    # Conflict: Cambodia says 41, Thailand received 39.
    Batch(date(2025, 4, 10), 1, 34, 7, th_day=date(2025, 4, 11), th_male=32, th_female=7),
    # Reported by only one side.
    Batch(date(2025, 5, 20), 2, 9, 3, th_day=None, kh_name=1),
    Batch(date(2025, 6, 11), POIPET, 17, 5, kh_reported=False, th_day=date(2025, 6, 11)),
)
S6_WINDOW = (date(2025, 2, 25), date(2025, 4, 5))  # no background Thai batches at Poipet in here
KH_RESEND = (date(2025, 3, 14), "kh_gdi_deportations_2025-03-14_resend.csv")
KH_CRACKDOWN_DAY = date(2025, 7, 18)  # mass deportation of foreigners: the largest KH file
TH_CRACKDOWN_DAY = date(2025, 10, 23)  # KK Park aftermath: many receptions at Mae Sot
KH_CRACKDOWN_ROWS = 60
TH_CRACKDOWN_ROWS = 45


def _blocked(crossing: int, day: date) -> bool:
    """Background must not disturb the scenario batches: keep their crossings quiet around them."""
    if crossing == POIPET and S6_WINDOW[0] <= day <= S6_WINDOW[1]:
        return True
    for b in SCENARIO_BATCHES:
        if b.crossing != crossing:
            continue
        near = [b.kh_day] + ([b.th_day] if b.th_day is not None else [])
        if any(abs((d - day).days) <= 3 for d in near):
            return True
    return False


def background_batches(seed: int, scale: float, day: date) -> list[Batch]:
    """Background Thai-national batches handed over on ``day``: at most one per crossing, reported by both."""
    if scale <= 0 or not YEAR_START <= day <= YEAR_END:
        return []
    rng = _rng(seed, "batches", day.isoformat())
    chance = min(0.6, 0.06 * scale)
    out: list[Batch] = []
    for idx, crossing in enumerate(CROSSINGS):
        draw = rng.random()
        male, female = rng.randint(2, 45), rng.randint(0, 15)
        offset = rng.random() < 0.5 and day < YEAR_END
        variant = rng.randrange(len(crossing.kh_names))
        prov = rng.randrange(len(crossing.kh_provinces))
        flags = rng.random()
        style = rng.choices(("abbr", "full", "thai_digits", "be5"), weights=(80, 10, 7, 3))[0]
        if draw >= chance or _blocked(idx, day):
            continue
        out.append(
            Batch(
                day,
                idx,
                male,
                female,
                th_day=day + timedelta(days=1) if offset else day,
                kh_name=variant,
                kh_province=prov,
                kh_khmer_nationality=flags < 0.2,
                kh_khmer_numbers=flags < 0.04,
                kh_khmer_date=0.9 < flags < 0.94,
                th_date_style=style,
            )
        )
    return out


def _kh_batch_cells(b: Batch) -> str:
    crossing = CROSSINGS[b.crossing]
    nums = (str(b.male), str(b.female), str(b.total))
    if b.kh_khmer_numbers:
        nums = tuple(n.translate(KHMER_DIGITS) for n in nums)
    nationality = "ថៃ" if b.kh_khmer_nationality else "Thai"
    return ",".join(
        (
            dmy(b.kh_day, b.kh_khmer_date),
            crossing.kh_names[b.kh_name],
            crossing.kh_provinces[b.kh_province],
            nationality,
            *nums,
            "Thailand",
            "",
        )
    )


def _th_batch_cells(b: Batch, reception_no: str, tm35: str) -> str:
    assert b.th_day is not None
    crossing = CROSSINGS[b.crossing]
    male = b.male if b.th_male is None else b.th_male
    female = b.female if b.th_female is None else b.th_female
    nums = (str(male), str(female), str(male + female))
    if b.th_date_style == "thai_digits":
        nums = tuple(n.translate(THAI_DIGITS) for n in nums)
    return ",".join(
        (
            reception_no,
            thai_date(b.th_day, b.th_date_style),
            crossing.th_checkpoint,
            "ไทย",
            *nums,
            "กัมพูชา",
            tm35,
            b.th_remark,
        )
    )


def _background_row_count(
    seed: int, scale: float, day: date, stream: str, base: int, crackdown: tuple[date, int]
) -> int:
    """Background rows on ``day``: fixed on the crackdown day, else a random size on a share of the days."""
    crackdown_day, crackdown_rows = crackdown
    if day == crackdown_day:
        return crackdown_rows
    if scale <= 0:
        return 0
    rng = _rng(seed, stream, day.isoformat())
    share = _active_share(scale)
    if rng.random() >= share:
        return 0
    mean = background_rows_per_year(scale, base, 9000) / (365 * share)
    return rng.randint(int(mean * 0.5), int(mean * 1.5) + 1)


def _kh_foreign_count(seed: int, scale: float, day: date) -> int:
    return _background_row_count(seed, scale, day, "kh-count", 450, (KH_CRACKDOWN_DAY, KH_CRACKDOWN_ROWS))


def _th_other_count(seed: int, scale: float, day: date) -> int:
    return _background_row_count(seed, scale, day, "th-count", 300, (TH_CRACKDOWN_DAY, TH_CRACKDOWN_ROWS))


def _kh_foreign_rows(seed: int, day: date, count: int, bulletin: str, first_line: int) -> Iterator[str]:
    """Bulk rows of foreigners deported by air or to third countries; one getrandbits call per row."""
    rng = _rng(seed, "kh-rows", day.isoformat())
    date_plain, date_khmer = dmy(day), dmy(day, khmer=True)
    for line in range(first_line, first_line + count):
        bits = rng.getrandbits(48)
        nat, km_name, dest, places = _KH_FOREIGN[_KH_FOREIGN_WEIGHTS[bits & 15]]
        checkpoint, province = places[(bits >> 4 & 15) % len(places)]
        male = 1 + (bits >> 8 & 31)
        female = bits >> 13 & 15
        nums = f"{male},{female},{male + female}"
        flags = bits >> 17 & 127
        if flags < 3:
            nums = nums.translate(KHMER_DIGITS)
        label = km_name if bits >> 24 & 3 == 0 else nat
        when = date_khmer if 3 <= flags < 6 else date_plain
        remark = KH_REMARKS[bits >> 26 & 15]
        yield f"{bulletin},{line},{when},{checkpoint},{province},{label},{nums},{dest},{remark}"


def _th_other_rows(seed: int, day: date, count: int, start_seq: int) -> Iterator[str]:
    """Bulk receptions of Thai nationals from Myanmar, Laos and Malaysia (never from Cambodia)."""
    rng = _rng(seed, "th-rows", day.isoformat())
    be = day.year + 543
    ymd, md = f"{be % 100:02d}{day.month:02d}{day.day:02d}", f"{day.month:02d}{day.day:02d}"
    places = [
        (f"{code}{ymd}-", f",{checkpoint},ไทย,", f",{origin},{abbr}{md}")
        for checkpoint, code, abbr, origin in TH_OTHER_CHECKPOINTS
    ]
    # 128 slots: thai digits 5, five-digit year 3, full month name 12, abbreviation the rest
    styles = [thai_date(day, "thai_digits")] * 5 + [thai_date(day, "be5")] * 3 + [thai_date(day, "full")] * 12
    styles += [thai_date(day, "abbr")] * (128 - len(styles))
    for seq in range(start_seq, start_seq + count):
        bits = rng.getrandbits(40)
        rec_prefix, middle, tm35_prefix = places[bits & 7]
        male = 1 + (bits >> 3 & 31)
        female = bits >> 8 & 15
        sel = bits >> 12 & 127
        nums = f"{male},{female},{male + female}"
        if sel < 5:
            nums = nums.translate(THAI_DIGITS)
        remark = TH_REMARKS[bits >> 19 & 7]
        yield f"{rec_prefix}{seq:04d},{styles[sel]}{middle}{nums}{tm35_prefix}{seq:04d}/{be},{remark}"


def _chunked(header: str, lines: Iterator[str], encoding: str, prefix: str = "") -> Chunks:
    """Header plus lines as encoded chunks of ``CHUNK_ROWS`` rows: fast to write, bounded in memory."""
    first = f"{prefix}{header}{CSV_NEWLINE}"
    while batch := list(islice(lines, CHUNK_ROWS)):
        yield (first + CSV_NEWLINE.join(batch) + CSV_NEWLINE).encode(encoding), len(batch)
        first = ""
    if first:
        yield first.encode(encoding), 0


class _DayIndex:
    """Which batches Cambodia hands over / Thailand receives on each day, across scenario and background."""

    def __init__(self, seed: int, scale: float) -> None:
        self.seed, self.scale = seed, scale
        self.kh: dict[date, list[Batch]] = {}
        self.th: dict[date, list[Batch]] = {}
        for day in _days(YEAR_START, YEAR_END):
            for b in background_batches(seed, scale, day):
                self._add(b)
        for b in SCENARIO_BATCHES:
            self._add(b)

    def _add(self, b: Batch) -> None:
        if b.kh_reported:
            self.kh.setdefault(b.kh_day, []).append(b)
        if b.th_day is not None:
            self.th.setdefault(b.th_day, []).append(b)


def _kh_file(seed: int, day: date, batches: list[Batch], foreign: int) -> Chunks:
    bulletin = f"GDI/{day.year}/{day.timetuple().tm_yday:03d}"
    ordered = sorted(batches, key=lambda b: b.crossing)
    scenario_lines = [f"{bulletin},{n},{_kh_batch_cells(b)}" for n, b in enumerate(ordered, 1)]
    lines = chain(scenario_lines, _kh_foreign_rows(seed, day, foreign, bulletin, len(scenario_lines) + 1))
    return _chunked(",".join(KH_HEADER), lines, "utf-8", prefix=KH_BOM)


def _th_file(seed: int, day: date, batches: list[Batch], other: int) -> Chunks:
    be = day.year + 543
    ymd, md = f"{be % 100:02d}{day.month:02d}{day.day:02d}", f"{day.month:02d}{day.day:02d}"
    rows: list[str] = []
    for seq, b in enumerate(sorted(batches, key=lambda b: (b.crossing, b.kh_day)), 1):
        crossing = CROSSINGS[b.crossing]
        rows.append(
            _th_batch_cells(b, f"{crossing.th_code}{ymd}-{seq:04d}", f"{crossing.th_abbr}{md}{seq:04d}/{be}")
        )
    lines = chain(rows, _th_other_rows(seed, day, other, len(rows) + 1))
    return _chunked(",".join(TH_HEADER), lines, TH_ENCODING)


def _daily_files(
    feed: str,
    hour: int,
    batches_by_day: dict[date, list[Batch]],
    background_rows: Callable[[date], int],
    render_file: Callable[[date, list[Batch], int], Chunks],
) -> list[ScenarioFile]:
    """One ``<feed>_<day>.csv`` for each day with batches or background rows, published at ``hour``."""
    files: list[ScenarioFile] = []
    for day in _days(YEAR_START, YEAR_END):
        batches = batches_by_day.get(day, [])
        rows = background_rows(day)
        if batches or rows:
            render = partial(render_file, day, batches, rows)
            files.append(ScenarioFile(feed, f"{feed}_{day.isoformat()}.csv", _ts(day, hour), render))
    return files


def _kh_files(seed: int, scale: float, index: _DayIndex) -> list[ScenarioFile]:
    feed = "kh_gdi_deportations"
    files = _daily_files(feed, 18, index.kh, partial(_kh_foreign_count, seed, scale), partial(_kh_file, seed))
    # Cambodia sends the 14 March bulletin twice: the same bytes under a second name that evening.
    resend_day, resend_name = KH_RESEND
    original = next(f for f in files if f.day == resend_day)
    files.append(ScenarioFile(feed, resend_name, _ts(resend_day, 21, 30), original.render))
    return sorted(files, key=lambda f: f.name)


def _th_files(seed: int, scale: float, index: _DayIndex) -> list[ScenarioFile]:
    return _daily_files(
        "th_imm_receptions", 17, index.th, partial(_th_other_count, seed, scale), partial(_th_file, seed)
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


# --------------------------------------------------------------------------------------------------
# NBTC: monthly NDJSON
# --------------------------------------------------------------------------------------------------

NBTC_MONTHS = tuple(_months((2024, 1), (2025, 11)))
P13_NAMED = {"Sa Kaeo": 7331, "Chiang Rai": 4231, "Nong Khai": 3898, "Narathiwat": 2534, "Bangkok": 511}
P13_TOTAL = 28112
P13_PREVIOUS_TOTAL = 23057
P12_SIMS = 2141317
P14_LINKS = 14
# (month, action) pairs the scenario owns: background never adds rows to them.
NBTC_SCENARIO_KEYS = {
    ((2024, 7), "sims_suspended"),
    ((2024, 12), "numbers_suspended"),
    ((2025, 1), "numbers_suspended"),
    ((2025, 6), "cross_border_links_suspended"),
}


def _spread(total: int, names: list[str], rng: random.Random) -> dict[str, int]:
    """Split ``total`` over ``names`` with positive parts that sum exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in names]
    parts = [max(1, int(total * w / sum(weights))) for w in weights]
    parts[0] += total - sum(parts)
    return dict(zip(names, parts, strict=True))


def _nbtc_scenario_rows(ym: tuple[int, int]) -> list[tuple[str, str, int, bool]]:
    """(province label, action, count, BE month?) rows behind P12, P13 and P14; fixed, not seed-dependent."""
    others = [en for en, _th in PROVINCES if en not in P13_NAMED]
    thai = dict(PROVINCES)
    if ym == (2024, 7):
        return [("ALL", "sims_suspended", P12_SIMS, False)]
    if ym == (2024, 12):
        parts = _spread(P13_PREVIOUS_TOTAL, [en for en, _ in PROVINCES[:25]], random.Random("P13-previous"))
        return [(p, "numbers_suspended", n, False) for p, n in parts.items()]
    if ym == (2025, 1):
        rest = _spread(P13_TOTAL - sum(P13_NAMED.values()), others[:20], random.Random("P13-rest"))
        rows = [(p, "numbers_suspended", n, False) for p, n in {**P13_NAMED, **rest}.items()]
        # Some labels in Thai script and some months in Buddhist Era, as NBTC sends them.
        return [
            (thai[p] if p in ("Chiang Rai", "Surin") else p, a, n, p in ("Nong Khai", "Loei", "Yala"))
            for p, a, n, _be in rows
        ]
    if ym == (2025, 6):
        return [("ALL", "cross_border_links_suspended", P14_LINKS, False)]
    return []


_NBTC_RANGES = {
    "sims_suspended": (500, 60000),
    "numbers_suspended": (50, 6000),
    "cross_border_links_suspended": (0, 4),
    "towers_removed": (0, 30),
}


def _nbtc_lines(seed: int, scale: float, ym: tuple[int, int], reported_at: str) -> Iterator[str]:
    month_ce = f"{ym[0]}-{ym[1]:02d}"
    month_be = f"{ym[0] + 543}-{ym[1]:02d}"

    def line(province: str, action: str, count: int, be: bool) -> str:
        record = {
            "month": month_be if be else month_ce,
            "province": province,
            "action_type": action,
            "count": count,
            "reported_at": reported_at,
        }
        return json.dumps(record, ensure_ascii=False)

    for province, action, count, be in _nbtc_scenario_rows(ym):
        yield line(province, action, count, be)
    if scale <= 0:
        return
    rng = _rng(seed, "nbtc", month_ce)
    per_action = min(len(PROVINCES), max(1, round(8 * scale)))
    be_month = rng.random() < 0.25  # whole files sometimes come in BE
    for action in NBTC_ACTIONS:
        if (ym, action) in NBTC_SCENARIO_KEYS:
            continue
        low, high = _NBTC_RANGES[action]
        for en, th in sorted(rng.sample(PROVINCES, per_action)):
            label = th if rng.random() < 0.15 else en
            yield line(label, action, rng.randint(low, high), be_month)


def _nbtc_files(seed: int, scale: float) -> list[ScenarioFile]:
    files = []
    for ym in NBTC_MONTHS:
        if scale <= 0 and not _nbtc_scenario_rows(ym):
            continue  # no background at scale 0: no empty monthly files either
        published = _ts(date(ym[0] + ym[1] // 12, ym[1] % 12 + 1, 5), 9)

        def render(ym: tuple[int, int] = ym, published: datetime = published) -> Chunks:
            lines = _nbtc_lines(seed, scale, ym, iso_ts(published))
            buf, rows = [], 0
            for text in lines:
                buf.append(text + "\n")
                rows += 1
            yield "".join(buf).encode("utf-8"), rows

        files.append(
            ScenarioFile("nbtc_telecom", f"nbtc_telecom_{ym[0]}-{ym[1]:02d}.ndjson", published, render)
        )
    return files


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
    breakdown: list[tuple[str, str | None, int]] | None = None,
    summary: str = "",
    end: date | None = None,
    precision: str = "day",
    report: date | None = None,
) -> dict[str, Any]:
    return {
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
        "nationality_breakdown": [{"nationality": n, "sex": s, "count": c} for n, s, c in breakdown or []],
        "summary": summary,
    }


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


# --------------------------------------------------------------------------------------------------
# Building and writing
# --------------------------------------------------------------------------------------------------


def build_scenario(seed: int = 7, scale: float = 1.0) -> Scenario:
    """The whole dataset for (seed, scale): file descriptors (bodies render lazily) and API records."""
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    index = _DayIndex(seed, scale)
    files = {
        "kh_gdi_deportations": _kh_files(seed, scale, index),
        "th_imm_receptions": _th_files(seed, scale, index),
        "mfa_assistance": _mfa_files(seed),
        "nbtc_telecom": _nbtc_files(seed, scale),
    }
    versions, tombstones = scenario_operations()
    versions = sorted([*versions, *background_operations(seed, scale)], key=rtp_sort_key)
    return Scenario(seed, scale, files, versions, sorted(tombstones, key=rtp_sort_key))


@dataclass(frozen=True)
class WrittenFile:
    """What ``write_feed_files`` records about each payload (also in ``manifest.json``)."""

    feed: str
    name: str
    path: Path
    published: datetime
    size: int
    sha256: str
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "name": self.name,
            "path": str(self.path),
            "published": iso_ts(self.published),
            "size": self.size,
            "sha256": self.sha256,
            "rows": self.rows,
        }


MANIFEST_NAME = "manifest.json"


def write_scenario_files(
    scenario: Scenario,
    out_dir: Path,
    until: date | None = None,
    progress: Callable[[WrittenFile], None] | None = None,
) -> list[WrittenFile]:
    """Stream each payload dated on or before ``until`` to ``out_dir/<feed>/<name>``, plus a manifest."""
    import hashlib

    written: list[WrittenFile] = []
    for feed in FILE_FEEDS:
        feed_dir = out_dir / feed
        feed_dir.mkdir(parents=True, exist_ok=True)
        for item in scenario.files_until(feed, until):
            path = feed_dir / item.name
            digest, size, rows = hashlib.sha256(), 0, 0
            with path.open("wb") as fh:
                for chunk, n in item.render():
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    rows += n
            record = WrittenFile(feed, item.name, path, item.published, size, digest.hexdigest(), rows)
            written.append(record)
            if progress is not None:
                progress(record)
    manifest = {
        "seed": scenario.seed,
        "scale": scenario.scale,
        "until": until.isoformat() if until else None,
        "files": [w.as_dict() for w in written],
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return written


def write_feed_files(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    until: date | None = None,
    progress: Callable[[WrittenFile], None] | None = None,
) -> dict[str, list[Path]]:
    """Write every file-feed payload exactly as served (one subdirectory per feed); returns paths per feed."""
    written = write_scenario_files(build_scenario(seed, scale), Path(out_dir), until, progress)
    out: dict[str, list[Path]] = {feed: [] for feed in FILE_FEEDS}
    for w in written:
        out[w.feed].append(w.path)
    return out


def rtp_page(
    records: list[dict[str, Any]], page: int, page_size: int, *, include_paging: bool = True
) -> dict[str, Any]:
    """One API page over already filtered and ordered records (``next_page`` null on the last page)."""
    start = (page - 1) * page_size
    data = records[start : start + page_size]
    has_next = start + page_size < len(records)
    body: dict[str, Any] = {"data": data}
    if include_paging:
        body.update(page=page, page_size=page_size, total=len(records))
    body["next_page"] = page + 1 if has_next else None
    return body


def write_rtp_pages(
    out_dir: Path, seed: int = 7, scale: float = 1.0, until: date | None = None, page_size: int = 500
) -> list[Path]:
    """The RTP API as JSON files (``operations_page_0001.json``, ``deletions_page_0001.json``, ...)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ops, tombs = build_scenario(seed, scale).rtp_state(until or DEFAULT_UNTIL)
    paths = []
    for kind, records in (("operations", ops), ("deletions", tombs)):
        pages = max(1, -(-len(records) // page_size))
        for page in range(1, pages + 1):
            path = out_dir / f"{kind}_page_{page:04d}.json"
            path.write_text(
                json.dumps(rtp_page(records, page, page_size), ensure_ascii=False), encoding="utf-8"
            )
            paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------------
# Figures the warehouse must reproduce
# --------------------------------------------------------------------------------------------------


def expected_figures() -> dict[str, Any]:
    """The public figures the scenario encodes, where each lives, and the designed data problems.

    Independent of seed and scale (background never touches them). Keys are the ``ref_id`` of
    ``public_figures.csv`` plus a few scenario facts (conflicts, one-sided batches, revisions).
    """
    march = {code: (label, a, r) for label, code, a, r in MFA_MARCH}
    mfa = "mfa_assistance_2025-03.xlsx"
    return {
        "S1": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "ALL",
            "metric": "persons_assisted_cumulative",
            "value": 7372,
        },
        "S2": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "ALL",
            "metric": "persons_repatriated_cumulative",
            "value": 4895,
        },
        "S3": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "CHN",
            "label": march["CHN"][0],
            "metric": "persons_assisted_cumulative",
            "value": 3634,
        },
        "S4": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "IDN",
            "label": march["IDN"][0],
            "metric": "persons_assisted_cumulative",
            "value": 653,
        },
        "S5": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "IND",
            "label": march["IND"][0],
            "metric": "persons_assisted_cumulative",
            "value": 549,
        },
        "S6": {
            "feeds": ["kh_gdi_deportations", "th_imm_receptions"],
            "month": "2025-03",
            "nationality": "THA",
            "kh_checkpoint": "Poipet (KH-1)",
            "th_checkpoint": "ด่านอรัญประเทศ (TH-27)",
            "metric": "persons_deported",
            "value": 93,
            "batches": [
                {
                    "kh_date": b.kh_day.isoformat(),
                    "th_date": b.th_day.isoformat() if b.th_day else None,
                    "total": b.total,
                }
                for b in SCENARIO_BATCHES[:3]
            ],
        },
        "mfa_2025-03_by_nationality": {
            code: {"label": label, "assisted": a, "repatriated": r} for code, (label, a, r) in march.items()
        },
        "P1": {
            "feed": "rtp_raids",
            "operation_id": P1_OPERATION_ID,
            "metric": "persons_rescued",
            "value": 53,
        },
        "P3": {
            "feed": "rtp_raids",
            "operation_id": P3_OPERATION_ID,
            "metric": "persons_detained",
            "value": 1303,
        },
        "P4": {
            "feed": "mfa_assistance",
            "date": "2025-02-20",
            "nationality": "CHN",
            "status": "executed",
            "metric": "persons_repatriated",
            "value": 200,
            "legs": 4,
        },
        "P5": {
            "feed": "mfa_assistance",
            "from": "2025-02-20",
            "to": "2025-02-22",
            "nationality": "CHN",
            "status": "executed",
            "metric": "persons_repatriated",
            "value": 621,
        },
        "P6": {
            "feed": "mfa_assistance",
            "from": "2025-03-06",
            "to": "2025-03-09",
            "nationality": "CHN",
            "status": "executed",
            "metric": "persons_repatriated",
            "value": 1439,
        },
        "P8": {
            "feed": "mfa_assistance",
            "date": "2025-02-27",
            "nationality": "IDN",
            "status": "executed",
            "mode": "bridge",
            "metric": "persons_crossed",
            "value": 84,
        },
        "P9": {
            "feed": "mfa_assistance",
            "to": "2025-03-06",
            "nationality": "IDN",
            "status": "executed",
            "metric": "persons_repatriated_cumulative",
            "value": 130,
        },
        "P10": {
            "feed": "mfa_assistance",
            "date": "2025-03-18",
            "nationality": "IDN",
            "departure": "Don Mueang",
            "executed": 400,
            "planned": 554,
            "value": 400,
        },
        "P12": {
            "feed": "nbtc_telecom",
            "month": "2024-07",
            "province": "ALL",
            "action_type": "sims_suspended",
            "value": P12_SIMS,
        },
        "P13": {
            "feed": "nbtc_telecom",
            "month": "2025-01",
            "action_type": "numbers_suspended",
            "value": P13_TOTAL,
            "by_province": dict(P13_NAMED),
            "previous_month": "2024-12",
            "previous_value": P13_PREVIOUS_TOTAL,
        },
        "P14": {
            "feed": "nbtc_telecom",
            "month": "2025-06",
            "province": "ALL",
            "action_type": "cross_border_links_suspended",
            "value": P14_LINKS,
        },
        "poipet_raid": {
            "feed": "rtp_raids",
            "operation_id": POIPET_RAID_ID,
            "country": "KHM",
            "persons_detained": 215,
            "thai_in_breakdown": 93,
            "revisions": 2,
        },
        "kh_th_conflict": {
            "kh_date": "2025-04-10",
            "th_date": "2025-04-11",
            "kh_checkpoint": "Cham Yeam",
            "th_checkpoint": "ด่านหาดเล็ก",
            "kh_total": 41,
            "th_total": 39,
        },
        "kh_only_batches": [{"kh_date": "2025-05-20", "kh_checkpoint": "O Smach", "total": 12}],
        "th_only_batches": [{"th_date": "2025-06-11", "th_checkpoint": "ด่านอรัญประเทศ", "total": 22}],
        "duplicate_delivery": {
            "feed": "kh_gdi_deportations",
            "original": "kh_gdi_deportations_2025-03-14.csv",
            "resend": KH_RESEND[1],
        },
        "rtp_revised_ids": list(REVISED_IDS),
        "rtp_tombstoned_ids": list(TOMBSTONED_IDS),
    }
