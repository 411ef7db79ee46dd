"""KH-GDI deportation bulletins and TH-IMM receptions: handover batches of Thai nationals at the border."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from itertools import chain, islice

from borderwatch.simulator.scenario.common import (
    CHUNK_ROWS,
    CSV_NEWLINE,
    KH_BOM,
    KH_HEADER,
    KH_OPTIONAL,
    KHMER_DIGITS,
    TH_ENCODING,
    TH_HEADER,
    TH_OPTIONAL,
    THAI_DIGITS,
    YEAR_END,
    YEAR_START,
    Chunks,
    ScenarioFile,
    _active_share,
    _days,
    _rng,
    _ts,
    background_rows_per_year,
    dmy,
    thai_date,
)
from borderwatch.simulator.scenario.places import (
    _KH_FOREIGN,
    _KH_FOREIGN_WEIGHTS,
    CROSSINGS,
    KH_REMARKS,
    POIPET,
    TH_OTHER_CHECKPOINTS,
    TH_REMARKS,
)

POIPET_RAID_REF = "RTP-2025-000031"  # the raid behind the S6 deportations (rtp.POIPET_RAID_ID)
C2_RAID_REF = "RTP-2025-000044"  # the Cham Yeam raid (rtp.C2_RAID_ID)

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
    kh_remark: str = ""  # may name the raid the batch comes from (an RTP operation id)
    minors: int | None = None  # how many of the total are minors (both sides); None = not stated

    @property
    def total(self) -> int:
        return self.male + self.female


# S6 (93 Thai nationals deported at Poipet in March 2025) and the designed conflicts / one-sided batches.
SCENARIO_BATCHES: tuple[Batch, ...] = (
    Batch(
        date(2025, 3, 8),
        POIPET,
        28,
        7,
        th_day=date(2025, 3, 8),
        kh_name=1,
        kh_remark=POIPET_RAID_REF,
        minors=0,
    ),
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
        kh_remark=POIPET_RAID_REF,
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
        kh_remark=POIPET_RAID_REF,
    ),
    # Conflict: Cambodia says 41, Thailand received 39. C2: the batch names raid RTP-2025-000044, which
    # found only 30 Thai nationals (41 deported > 30 found). C7: 3 minors (under k = 11).
    Batch(
        date(2025, 4, 10),
        1,
        34,
        7,
        th_day=date(2025, 4, 11),
        th_male=32,
        th_female=7,
        kh_remark=C2_RAID_REF,
        minors=3,
    ),
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
    nums: tuple[str, ...] = (str(b.male), str(b.female), str(b.total))
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
            b.kh_remark,
            "" if b.minors is None else str(b.minors),
        )
    )


def _th_batch_cells(b: Batch, reception_no: str, tm35: str) -> str:
    assert b.th_day is not None
    crossing = CROSSINGS[b.crossing]
    male = b.male if b.th_male is None else b.th_male
    female = b.female if b.th_female is None else b.th_female
    nums: tuple[str, ...] = (str(male), str(female), str(male + female))
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
            "" if b.minors is None else str(b.minors),
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
        yield f"{bulletin},{line},{when},{checkpoint},{province},{label},{nums},{dest},{remark},"


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
        yield f"{rec_prefix}{seq:04d},{styles[sel]}{middle}{nums}{tm35_prefix}{seq:04d}/{be},{remark},"


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
    return _chunked(",".join(KH_HEADER + KH_OPTIONAL), lines, "utf-8", prefix=KH_BOM)


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
    return _chunked(",".join(TH_HEADER + TH_OPTIONAL), lines, TH_ENCODING)


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
