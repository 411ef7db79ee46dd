"""The Thai calendar as agencies write it: month names (CLDR via babel) and Buddhist Era years.

Used by the ``thai_date`` rule of :mod:`borderwatch.parse_rules` (its month lookup) and by tests and the
simulator to write Thai dates.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import lru_cache

BE_OFFSET = 543
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"

# Fixed copy of CLDR's Thai month names (``babel.dates.get_month_names(..., locale='th')``), used when
# babel is unavailable and pinned by a test that compares it with babel. ม.ค. (January) and มี.ค. (March)
# differ by one vowel mark, and web tables get this wrong.
FALLBACK_THAI_MONTHS_ABBREVIATED = dict(
    enumerate(
        ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."], 1
    )
)
_WIDE = "มกราคม กุมภาพันธ์ มีนาคม เมษายน พฤษภาคม มิถุนายน กรกฎาคม สิงหาคม กันยายน ตุลาคม พฤศจิกายน ธันวาคม"
FALLBACK_THAI_MONTHS_WIDE = dict(enumerate(_WIDE.split(), 1))


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
    table = {_month_key(name): int(n) for names in (abbreviated, wide) for n, name in names.items()}
    if len(table) != 24:
        raise RuntimeError("Thai month table has colliding names; check the CLDR data")
    return table


def format_thai_date(value: dt.date, *, wide: bool = False, thai_digits: bool = False) -> str:
    """'15 มี.ค. 2568' for a date: the inverse of the thai_date rule (tests and the simulator use it)."""
    names = FALLBACK_THAI_MONTHS_WIDE if wide else FALLBACK_THAI_MONTHS_ABBREVIATED
    text = f"{value.day} {names[value.month]} {value.year + BE_OFFSET}"
    return text.translate({ord(str(i)): THAI_DIGITS[i] for i in range(10)}) if thai_digits else text
