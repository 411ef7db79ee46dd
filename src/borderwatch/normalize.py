"""Pure normalisers for the values agencies in Thailand, Cambodia and Myanmar actually send.

Every function takes the raw cell (text, or a native number/date from an XLSX cell) and returns a typed
Python value, or raises :class:`NormaliseError` (a ``ValueError``) whose message says what was wrong and
what would be accepted. The ``*_noted`` variants also report which normalisations were applied
(``thai_digits``, ``khmer_digits``, ``be_year``, ...) so the loader can record them in ``_normalisations``.

Timestamps: ``parse_iso_timestamp`` converts to UTC and drops the offset (UTC-naive ``datetime``), which
is what a DuckDB ``TIMESTAMP`` column stores; the raw text with its offset can be kept beside it with
``keep_raw``. We chose this over ``TIMESTAMPTZ`` because DuckDB renders TIMESTAMPTZ in the session time
zone, which makes the warehouse's output depend on the machine it runs on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = [
    "FALLBACK_THAI_MONTHS_ABBREVIATED",
    "FALLBACK_THAI_MONTHS_WIDE",
    "NormaliseError",
    "format_thai_date",
    "parse_bool",
    "parse_dmy_date",
    "parse_float",
    "parse_int",
    "parse_iso_date",
    "parse_iso_timestamp",
    "parse_json",
    "parse_text",
    "parse_thai_date",
    "parse_value",
    "parse_year_month",
    "thai_month_table",
    "to_ascii_digits",
]

BE_OFFSET = 543
BE_YEAR_RANGE = range(2400, 2701)  # a year in here is Buddhist Era (2400 BE = 1857 CE)
CE_YEAR_RANGE = range(1900, 2201)  # plausible Gregorian years for this data

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
KHMER_DIGITS = "០១២៣៤៥៦៧៨៩"
_DIGIT_MAP = {ord(ch): str(i) for i, ch in enumerate(THAI_DIGITS)} | {
    ord(ch): str(i) for i, ch in enumerate(KHMER_DIGITS)
}
_THAI_SET = frozenset(THAI_DIGITS)
_KHMER_SET = frozenset(KHMER_DIGITS)

# Fixed copy of CLDR's Thai month names (``babel.dates.get_month_names(..., locale='th')``), used when
# babel is unavailable and pinned by a test that compares it with babel. Note ม.ค. (January) versus
# มี.ค. (March): they differ by one vowel mark, and web tables get this wrong.
FALLBACK_THAI_MONTHS_ABBREVIATED: dict[int, str] = {
    1: "ม.ค.",
    2: "ก.พ.",
    3: "มี.ค.",
    4: "เม.ย.",
    5: "พ.ค.",
    6: "มิ.ย.",
    7: "ก.ค.",
    8: "ส.ค.",
    9: "ก.ย.",
    10: "ต.ค.",
    11: "พ.ย.",
    12: "ธ.ค.",
}
FALLBACK_THAI_MONTHS_WIDE: dict[int, str] = {
    1: "มกราคม",
    2: "กุมภาพันธ์",
    3: "มีนาคม",
    4: "เมษายน",
    5: "พฤษภาคม",
    6: "มิถุนายน",
    7: "กรกฎาคม",
    8: "สิงหาคม",
    9: "กันยายน",
    10: "ตุลาคม",
    11: "พฤศจิกายน",
    12: "ธันวาคม",
}

Notes = list[str]


class NormaliseError(ValueError):
    """A raw value cannot be turned into the requested type; the message says why and what is accepted."""


# --------------------------------------------------------------------------------------------- digits


def to_ascii_digits(s: str) -> tuple[str, list[str]]:
    """Replace Thai (๐–๙) and Khmer (០–៩) digits with ASCII and say which were found.

    Python's ``int()`` silently accepts these digits but DuckDB casts do not, so we normalise first and
    record the fact (``['thai_digits']``, ``['khmer_digits']`` or both, in that order).
    """
    if s.isascii():
        return s, []
    chars = set(s)
    notes: list[str] = []
    if chars & _THAI_SET:
        notes.append("thai_digits")
    if chars & _KHMER_SET:
        notes.append("khmer_digits")
    if not notes:
        return s, []
    return s.translate(_DIGIT_MAP), notes


def _clean(value: Any) -> str:
    """Text form of a cell: NFC-normalised, stripped (NBSP included)."""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return text.strip()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------------------------------------- text


def parse_text(value: Any) -> str | None:
    """Strip and NFC-normalise; an empty cell is NULL, not an empty string."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = _clean(value)
    return text or None


# ------------------------------------------------------------------------------------------- numbers

_INT_RE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+|[+-]?\d+")
_QUALIFIER_RE = re.compile(
    r"^(about|approx\.?|approximately|around|circa|ca\.?|more than|over|at least|up to|less than|under|"
    r"nearly|almost|some|~|>|<|≥|≤|ประมาณ|กว่า|มากกว่า|ราว|อย่างน้อย)\s*",
    re.IGNORECASE,
)


def parse_int_noted(value: Any) -> tuple[int, Notes]:
    """``parse_int`` that also reports digit normalisation."""
    if isinstance(value, bool):
        raise NormaliseError(f"expected an integer, got a boolean {value!r}")
    if isinstance(value, int):
        return value, []
    if isinstance(value, float):
        if value.is_integer():
            return int(value), []
        raise NormaliseError(f"expected a whole number, got {value!r}")
    text = _clean(value)
    if text.isascii() and text.isdigit():
        return int(text), []
    ascii_text, notes = to_ascii_digits(text)
    compact = ascii_text.replace(" ", "").replace("\u202f", "")
    if _INT_RE.fullmatch(compact):
        return int(compact.replace(",", "")), notes
    if re.fullmatch(r"[+-]?\d+\.0+", compact):
        return int(compact.split(".")[0]), notes
    if _QUALIFIER_RE.match(ascii_text):
        raise NormaliseError(
            f"{text!r} is a qualified figure, not an exact integer: qualifiers ('about', 'more than', ...) "
            "belong in claims (value + qualifier), never in a raw integer column"
        )
    raise NormaliseError(
        f"{text!r} is not an integer (accepted: digits in ASCII, Thai or Khmer, optional thousands commas)"
    )


def parse_int(value: Any) -> int:
    """Integer from '7,372', '๗๓๗๒', '៧៣៧២' or a numeric cell; qualified figures are refused."""
    return parse_int_noted(value)[0]


def parse_float_noted(value: Any) -> tuple[float, Notes]:
    """Float from ASCII/Thai/Khmer digits with optional thousands separators."""
    if isinstance(value, bool):
        raise NormaliseError(f"expected a number, got a boolean {value!r}")
    if isinstance(value, int | float):
        return float(value), []
    ascii_text, notes = to_ascii_digits(_clean(value))
    compact = ascii_text.replace(" ", "")
    if re.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|[+-]?\.\d+", compact):
        return float(compact.replace(",", "")), notes
    raise NormaliseError(f"{value!r} is not a number (accepted: 1,234.5 in ASCII, Thai or Khmer digits)")


def parse_float(value: Any) -> float:
    """Float from ASCII, Thai or Khmer digits; thousands commas allowed."""
    return parse_float_noted(value)[0]


# --------------------------------------------------------------------------------------------- dates


def _be_to_ce(year: int, notes: Notes, what: str) -> int:
    """Convert a Buddhist Era year (2400–2700) to CE; pass plausible CE years through; refuse the rest."""
    if year in BE_YEAR_RANGE:
        notes.append("be_year")
        return year - BE_OFFSET
    if year in CE_YEAR_RANGE:
        return year
    raise NormaliseError(
        f"{what}: year {year} is neither a Buddhist Era year "
        f"({BE_YEAR_RANGE.start}–{BE_YEAR_RANGE.stop - 1}) "
        f"nor a plausible CE year ({CE_YEAR_RANGE.start}–{CE_YEAR_RANGE.stop - 1})"
    )


def _make_date(year: int, month: int, day: int, raw: Any) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise NormaliseError(f"{raw!r} is not a real calendar date ({exc})") from exc


_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?")


@lru_cache(maxsize=4096)
def _parse_iso_date_text(text: str) -> tuple[dt.date, tuple[str, ...]]:
    ascii_text, notes = to_ascii_digits(text)
    m = _ISO_DATE_RE.fullmatch(ascii_text)
    if not m:
        raise NormaliseError(f"{text!r} is not an ISO date (expected YYYY-MM-DD, CE)")
    year, month, day = (int(g) for g in m.groups())
    if year not in CE_YEAR_RANGE:
        raise NormaliseError(
            f"{text!r}: year {year} is outside {CE_YEAR_RANGE.start}–{CE_YEAR_RANGE.stop - 1}; "
            "iso_date columns "
            "are CE (use thai_date or year_month for Buddhist Era values)"
        )
    return _make_date(year, month, day, text), tuple(notes)


def parse_iso_date_noted(value: Any) -> tuple[dt.date, Notes]:
    """``parse_iso_date`` that also reports digit normalisation."""
    if isinstance(value, dt.datetime):
        return value.date(), []
    if isinstance(value, dt.date):
        return value, []
    parsed, notes = _parse_iso_date_text(_clean(value))
    return parsed, list(notes)


def parse_iso_date(value: Any) -> dt.date:
    """CE date from 'YYYY-MM-DD' text (a trailing time is ignored) or a date/datetime cell."""
    return parse_iso_date_noted(value)[0]


_DMY_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@lru_cache(maxsize=4096)
def _parse_dmy_text(text: str) -> tuple[dt.date, tuple[str, ...]]:
    ascii_text, notes = to_ascii_digits(text)
    m = _DMY_RE.fullmatch(ascii_text)
    if not m:
        raise NormaliseError(f"{text!r} is not a DD/MM/YYYY date")
    day, month, year = (int(g) for g in m.groups())
    if year in BE_YEAR_RANGE:
        raise NormaliseError(
            f"{text!r}: year {year} looks like a Buddhist Era year. Khmer BE years do not roll over on "
            "1 January, so +543 is never applied blindly to DD/MM/YYYY dates: ask the agency for the "
            "Gregorian (CE) date"
        )
    if year not in CE_YEAR_RANGE:
        raise NormaliseError(f"{text!r}: year {year} is not a plausible CE year")
    return _make_date(year, month, day, text), tuple(notes)


def parse_dmy_date_noted(value: Any) -> tuple[dt.date, Notes]:
    """``parse_dmy_date`` that also reports digit normalisation."""
    if isinstance(value, dt.datetime):
        return value.date(), []
    if isinstance(value, dt.date):
        return value, []
    parsed, notes = _parse_dmy_text(_clean(value))
    return parsed, list(notes)


def parse_dmy_date(value: Any) -> dt.date:
    """CE date from 'DD/MM/YYYY' (ASCII or Khmer/Thai digits); Buddhist Era years are refused."""
    return parse_dmy_date_noted(value)[0]


def _month_key(name: str) -> str:
    """Month lookup key: dots and spaces removed, so 'มี.ค.' and 'มีค' match but ม.ค. ≠ มี.ค."""
    return unicodedata.normalize("NFC", name).replace(".", "").replace(" ", "")


@lru_cache(maxsize=1)
def thai_month_table() -> dict[str, int]:
    """Thai month name/abbreviation → month number, from CLDR via babel (fallback: the fixed tables)."""
    try:
        from babel.dates import get_month_names

        abbreviated = dict(get_month_names("abbreviated", locale="th"))
        wide = dict(get_month_names("wide", locale="th"))
        if len(abbreviated) != 12 or len(wide) != 12:
            raise LookupError("incomplete CLDR month data")
    except (ImportError, LookupError):
        abbreviated, wide = FALLBACK_THAI_MONTHS_ABBREVIATED, FALLBACK_THAI_MONTHS_WIDE
    table: dict[str, int] = {}
    for names in (abbreviated, wide):
        for number, name in names.items():
            table[_month_key(name)] = int(number)
    if len(table) != 24:
        raise RuntimeError("Thai month table has colliding names; check the CLDR data")
    return table


_THAI_DATE_RE = re.compile(
    r"(?P<day>\d{1,2})\s*(?P<month>[\u0E00-\u0E7F.\s]+?)\s*(?:พ\.?\s*ศ\.?\s*)?(?P<year>\d{4,5})"
    r"(?:\s+\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*น\.?)?)?"
)


@lru_cache(maxsize=4096)
def _parse_thai_text(text: str) -> tuple[dt.date, tuple[str, ...]]:
    ascii_text, notes = to_ascii_digits(text)
    m = _THAI_DATE_RE.fullmatch(ascii_text)
    if not m:
        raise NormaliseError(
            f"{text!r} is not a Thai date (expected e.g. '15 มี.ค. 2568' or '15 มีนาคม 2568', BE or CE year)"
        )
    month = thai_month_table().get(_month_key(m["month"]))
    if month is None:
        raise NormaliseError(f"{text!r}: unknown Thai month {m['month'].strip()!r}")
    year_text = m["year"]
    if len(year_text) == 5:
        if not year_text.startswith("0"):
            raise NormaliseError(f"{text!r}: five-digit year {year_text!r} must be a zero-padded BE year")
        notes.append("padded_year")
    year = _be_to_ce(int(year_text), notes, repr(text))
    return _make_date(year, month, int(m["day"]), text), tuple(notes)


def parse_thai_date_noted(value: Any) -> tuple[dt.date, Notes]:
    """``parse_thai_date`` that also reports normalisations (digits, be_year, padded_year)."""
    if isinstance(value, dt.datetime):
        return value.date(), []
    if isinstance(value, dt.date):
        return value, []
    parsed, notes = _parse_thai_text(_clean(value))
    return parsed, list(notes)


def parse_thai_date(value: Any) -> dt.date:
    """CE date from '15 มี.ค. 2568', '๑๕ มีนาคม ๒๕๖๘' or '18 ก.ย. 02568 11:20' (BE → CE)."""
    return parse_thai_date_noted(value)[0]


def format_thai_date(value: dt.date, *, wide: bool = False, thai_digits: bool = False) -> str:
    """'15 มี.ค. 2568' for a date: the inverse of ``parse_thai_date``, used by tests and the simulator."""
    names = FALLBACK_THAI_MONTHS_WIDE if wide else FALLBACK_THAI_MONTHS_ABBREVIATED
    text = f"{value.day} {names[value.month]} {value.year + BE_OFFSET}"
    if thai_digits:
        text = text.translate({ord(str(i)): THAI_DIGITS[i] for i in range(10)})
    return text


_YEAR_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")


@lru_cache(maxsize=1024)
def _parse_year_month_text(text: str) -> tuple[dt.date, tuple[str, ...]]:
    ascii_text, notes = to_ascii_digits(text)
    m = _YEAR_MONTH_RE.fullmatch(ascii_text)
    if not m:
        raise NormaliseError(f"{text!r} is not a year-month (expected 'YYYY-MM', CE or BE)")
    year = _be_to_ce(int(m.group(1)), notes, repr(text))
    return _make_date(year, int(m.group(2)), 1, text), tuple(notes)


def parse_year_month_noted(value: Any) -> tuple[dt.date, Notes]:
    """``parse_year_month`` that also reports normalisations."""
    if isinstance(value, dt.datetime | dt.date):
        return dt.date(value.year, value.month, 1), []
    parsed, notes = _parse_year_month_text(_clean(value))
    return parsed, list(notes)


def parse_year_month(value: Any) -> dt.date:
    """First day of the month from '2025-01' or Buddhist Era '2568-01'."""
    return parse_year_month_noted(value)[0]


def parse_iso_timestamp_noted(value: Any) -> tuple[dt.datetime, Notes]:
    """``parse_iso_timestamp`` that also reports normalisations."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise NormaliseError(f"{value!r} has no UTC offset; timestamps must carry one")
        return value.astimezone(dt.UTC).replace(tzinfo=None), []
    ascii_text, notes = to_ascii_digits(_clean(value))
    try:
        parsed = dt.datetime.fromisoformat(ascii_text)
    except ValueError as exc:
        raise NormaliseError(
            f"{value!r} is not an ISO 8601 timestamp (expected e.g. 2025-02-05T09:00:00+07:00)"
        ) from exc
    if parsed.tzinfo is None:
        raise NormaliseError(
            f"{value!r} has no UTC offset: local times in this region differ (UTC+7, UTC+6:30), so an "
            "offset is required"
        )
    return parsed.astimezone(dt.UTC).replace(tzinfo=None), notes


def parse_iso_timestamp(value: Any) -> dt.datetime:
    """UTC-naive datetime from ISO 8601 text with an offset ('...+07:00' or 'Z')."""
    return parse_iso_timestamp_noted(value)[0]


# ---------------------------------------------------------------------------------------------- bool

_TRUE = frozenset({"true", "t", "yes", "y", "1", "ใช่", "จริง"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "ไม่ใช่", "ไม่", "เท็จ"})
# Row-type markers: MFA's "Row type" column says 'total' or 'nationality' and feeds is_total_row.
_ROW_TYPE_TRUE = frozenset({"total", "subtotal", "grand total", "รวม"})
_ROW_TYPE_FALSE = frozenset({"nationality", "detail", "data", "row"})


def parse_bool(value: Any) -> bool:
    """Boolean from true/false, yes/no, 1/0, Thai yes/no; row-type 'total' is true, 'nationality' false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = _clean(value).lower()
    if text in _TRUE or text in _ROW_TYPE_TRUE:
        return True
    if text in _FALSE or text in _ROW_TYPE_FALSE:
        return False
    raise NormaliseError(f"{value!r} is not a boolean (accepted: true/false, yes/no, 1/0, total/nationality)")


# ---------------------------------------------------------------------------------------------- json


def parse_json(value: Any) -> str:
    """Canonical JSON text of a nested value (sorted keys, UTF-8) so equal values hash equally."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise NormaliseError(f"{value[:80]!r} is not valid JSON: {exc}") from exc
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------------------------------ dispatch


def _noted(fn: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, Notes]]:
    def wrapper(value: Any) -> tuple[Any, Notes]:
        return fn(value), []

    return wrapper


_TEXT_NOTED = _noted(parse_text)

PARSERS: dict[str, Callable[[Any], tuple[Any, Notes]]] = {
    "text": _TEXT_NOTED,
    "int": parse_int_noted,
    "float": parse_float_noted,
    "iso_date": parse_iso_date_noted,
    "iso_timestamp": parse_iso_timestamp_noted,
    "dmy_date": parse_dmy_date_noted,
    "thai_date": parse_thai_date_noted,
    "year_month": parse_year_month_noted,
    "bool": _noted(parse_bool),
    "json": _noted(parse_json),
}


def parse_value(rule: str, value: Any) -> tuple[Any, Notes]:
    """Apply a spec ``parse`` rule to one cell: ``(typed value or None, normalisations)``.

    Blank cells become ``None`` for every rule (the loader decides whether the column is required).
    """
    if rule != "json" and _is_blank(value):
        return None, []
    if rule == "json" and value is None:
        return None, []
    try:
        parser = PARSERS[rule]
    except KeyError:
        raise NormaliseError(f"unknown parse rule {rule!r}; known: {sorted(PARSERS)}") from None
    return parser(value)
