"""The spec's parse rules as DuckDB SQL: one ``_rule_*`` per ``specs.ParseRule`` (a test checks none is
missing), compiled into one statement by :func:`borderwatch.normalize.normalise_sql`.

A rule sees one cleaned text cell ``k<i>`` (NFC, trimmed, NULL when blank) and gives SQL for its typed
value, the notes it earns and why a refused cell was refused. Nothing here raises on a value: a
5,000-digit number or a year-1 timestamp is a reason, never a crash. Thai/Khmer digits become ASCII
(noted), Buddhist Era years CE (``be_year``; a ``calendar: BE`` feed notes ``ce_year`` and quarantines
e.g. the typo 2168). Timestamps need an offset and are stored UTC-naive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from borderwatch.specs import ColumnSpec
from borderwatch.thai_calendar import BE_OFFSET, THAI_DIGITS, thai_month_table

BE_YEAR_RANGE = range(2400, 2701)  # a year in here is Buddhist Era (2400 BE = 1857 CE)
CE_YEAR_RANGE = range(1900, 2201)  # plausible Gregorian years for this data
BE_FEED_CE_YEARS = range(1900, 2101)  # a BE feed's CE years; 2168 is a typo of 2568, not a CE year
KHMER_DIGITS = "០១២៣៤៥៦៧៨៩"
QUALIFIERS = (
    "^(about|approx\\.?|approximately|around|circa|ca\\.?|more than|over|at least|up to|less than|under|"
    "nearly|almost|some|~|>|<|≥|≤|ประมาณ|กว่า|มากกว่า|ราว|อย่างน้อย)"
)
TRUE_WORDS = ("true", "t", "yes", "y", "1", "ใช่", "จริง", "total", "subtotal", "grand total", "รวม")
FALSE_WORDS = ("false", "f", "no", "n", "0", "ไม่ใช่", "ไม่", "เท็จ", "nationality", "detail", "data", "row")
INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _in(expr: str, years: range) -> str:
    return f"({expr} BETWEEN {years.start} AND {years.stop - 1})"


def shown(k: str) -> str:
    """The offending text in a reason: quoted, at most 80 characters (a 5,000-digit value stays short)."""
    return f"('''' || left({k}, 80) || CASE WHEN length({k}) > 80 THEN '…' ELSE '' END || '''')"


def _groups(pattern: str, a: str, names: list[str]) -> str:
    """STRUCT of the named capture groups of a full match ('' each when the text does not match)."""
    fields = ", ".join(lit(n) for n in names)
    return f"regexp_extract({a}, {lit('^(?:' + pattern + ')$')}, [{fields}])"


def _int(text: str) -> str:
    return f"try_cast(NULLIF({text}, '') AS INTEGER)"


def _date(y: str, m: str, d: str) -> str:
    """A DATE from integer parts, NULL when not a real calendar date."""
    return f"try(make_date({y}, {m}, {d}))"


Note = tuple[str, str]  # a normalisation note, and the SQL condition under which a cell earns it


def _year(y: str, calendar: str) -> tuple[str, list[Note], str]:
    """(CE year or NULL, notes, why-not text) for a year that may be Buddhist Era."""
    ce = BE_FEED_CE_YEARS if calendar == "BE" else CE_YEAR_RANGE
    value = f"CASE WHEN {_in(y, BE_YEAR_RANGE)} THEN {y} - {BE_OFFSET} WHEN {_in(y, ce)} THEN {y} END"
    notes = [("be_year", _in(y, BE_YEAR_RANGE))] + ([("ce_year", _in(y, ce))] if calendar == "BE" else [])
    be = f"{BE_YEAR_RANGE.start}–{BE_YEAR_RANGE.stop - 1}"
    why = (
        f"'year ' || {y} || ' is neither a Buddhist Era year ({be}) nor a plausible CE year "
        f"({ce.start}–{ce.stop - 1}) for a calendar: {calendar} feed; probably a typo: ask the agency to "
        "confirm the date'"
    )
    return value, notes, why


class Rule(NamedTuple):
    """One column's rule in SQL: prepared expressions, the typed value, notes and the why-not text."""

    prep: dict[str, str]  # alias -> expression over k{i}; evaluated one layer before value
    value: str  # typed value or NULL (for a non-blank cell, NULL means refused)
    notes: list[Note]  # notes the rule can give a non-blank cell
    why: str  # text expression: why a non-blank cell was refused
    # (pattern, value): the common plain-ASCII shape, typed without ``prep`` (which then runs only for
    # the other cells); the shape's cells must get exactly the value, and no note, of the full rule
    fast: tuple[str, str] | None = None


def _rule_text(i: int, c: ColumnSpec, calendar: str) -> Rule:
    return Rule({}, f"k{i}", [], "'is empty'")


def _rule_int(i: int, c: ColumnSpec, calendar: str) -> Rule:
    low, high = INT_BOUNDS.get(c.type, INT_BOUNDS["bigint"])
    a = f"a{i}"
    number = f"try_cast(regexp_replace(replace({a}, ',', ''), '\\.0+$', '') AS HUGEINT)"
    shape = "[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\\.0+)?"
    prep = {a: f"replace(replace({_digits(f'k{i}')}, ' ', ''), chr(8239), '')"}
    prep[f"ok{i}"] = f"regexp_full_match({a}, {lit(shape)})"
    prep[f"n{i}"] = f"CASE WHEN regexp_full_match({a}, {lit(shape)}) THEN {number} END"
    value = f"CASE WHEN n{i} BETWEEN {low} AND {high} THEN n{i} END"
    digits = 9 if c.type == "integer" else 18  # always within the type's bounds
    fast = (f"[0-9{THAI_DIGITS}{KHMER_DIGITS}]{{1,{digits}}}", f"CAST({_digits(f'k{i}')} AS BIGINT)")
    why = (
        f"CASE WHEN ok{i} THEN 'is out of range for a {c.type} column' "
        f"WHEN regexp_matches(lower(k{i}), {lit(QUALIFIERS)}) THEN 'is a qualified figure, not an exact "
        "integer: qualifiers (about, more than, ...) belong in claims, never in a raw integer column' "
        "ELSE 'is not an integer (accepted: digits in ASCII, Thai or Khmer, optional thousands commas)' END"
    )
    return Rule(prep, value, [], why, fast)


def _rule_float(i: int, c: ColumnSpec, calendar: str) -> Rule:
    a = f"a{i}"
    shape = "[+-]?(([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\\.[0-9]+)?|\\.[0-9]+)"
    prep = {a: f"replace({_digits(f'k{i}')}, ' ', '')"}
    prep[f"n{i}"] = (
        f"CASE WHEN regexp_full_match({a}, {lit(shape)}) THEN try_cast(replace({a}, ',', '') AS DOUBLE) END"
    )
    value = f"CASE WHEN isfinite(n{i}) THEN n{i} END"
    return Rule(prep, value, [], "'is not a number (accepted: 1,234.5 in ASCII, Thai or Khmer digits)'")


def _rule_bool(i: int, c: ColumnSpec, calendar: str) -> Rule:
    words = f"lower(k{i})"
    value = (
        f"CASE WHEN {words} IN ({', '.join(map(lit, TRUE_WORDS))}) THEN true "
        f"WHEN {words} IN ({', '.join(map(lit, FALSE_WORDS))}) THEN false END"
    )
    return Rule({}, value, [], "'is not a boolean (accepted: true/false, yes/no, 1/0, total/nationality)'")


def _rule_json(i: int, c: ColumnSpec, calendar: str) -> Rule:
    return Rule(
        {}, f"CASE WHEN json_valid(k{i}) THEN CAST(json(k{i}) AS VARCHAR) END", [], "'is not valid JSON'"
    )


def _digits(k: str) -> str:
    """Thai and Khmer digits to ASCII; ASCII text (byte length = character length) skips the translate."""
    return (
        f"CASE WHEN strlen({k}) = length({k}) THEN {k} "
        f"ELSE translate({k}, {lit(THAI_DIGITS + KHMER_DIGITS)}, {lit('0123456789' * 2)}) END"
    )


def _rule_iso_date(i: int, c: ColumnSpec, calendar: str) -> Rule:
    g = f"g{i}"
    prep = {g: _groups("([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?", _digits(f"k{i}"), ["y", "m", "d"])}
    y = _int(f"{g}.y")
    value = f"CASE WHEN {_in(y, CE_YEAR_RANGE)} THEN {_date(y, _int(f'{g}.m'), _int(f'{g}.d'))} END"
    why = (
        f"CASE WHEN {g}.y = '' THEN 'is not an ISO date (expected YYYY-MM-DD, CE)' "
        f"WHEN NOT {_in(y, CE_YEAR_RANGE)} THEN 'has year ' || {g}.y || ' outside "
        f"{CE_YEAR_RANGE.start}–{CE_YEAR_RANGE.stop - 1}; iso_date columns are CE (use thai_date or "
        "year_month for Buddhist Era values)' ELSE 'is not a real calendar date' END"
    )
    return Rule(prep, value, [], why, ("(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}", f"try_cast(k{i} AS DATE)"))


def _rule_dmy_date(i: int, c: ColumnSpec, calendar: str) -> Rule:
    g = f"g{i}"
    prep = {g: _groups("([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", _digits(f"k{i}"), ["d", "m", "y"])}
    y = _int(f"{g}.y")
    value = f"CASE WHEN {_in(y, CE_YEAR_RANGE)} THEN {_date(y, _int(f'{g}.m'), _int(f'{g}.d'))} END"
    why = (
        f"CASE WHEN {g}.y = '' THEN 'is not a DD/MM/YYYY date' "
        f"WHEN {_in(y, BE_YEAR_RANGE)} THEN 'has year ' || {g}.y || ', which looks like a Buddhist Era year. "
        "Khmer BE years do not roll over on 1 January, so +543 is never applied blindly to DD/MM/YYYY "
        "dates: ask the agency for the Gregorian (CE) date' "
        f"WHEN NOT {_in(y, CE_YEAR_RANGE)} THEN 'has year ' || {g}.y || ', not a plausible CE year' "
        "ELSE 'is not a real calendar date' END"
    )
    fast = ("[0-9]{2}/[0-9]{2}/(19|20|21)[0-9]{2}", f"CAST(try_strptime(k{i}, '%d/%m/%Y') AS DATE)")
    return Rule(prep, value, [], why, fast)


def _rule_year_month(i: int, c: ColumnSpec, calendar: str) -> Rule:
    g = f"g{i}"
    k = f"k{i}"
    split = f"struct_pack(y := left({k}, 4), m := right({k}, 2))"  # the common shape, without the regex
    regex = _groups("([0-9]{4})-([0-9]{1,2})", _digits(k), ["y", "m"])
    prep = {g: f"CASE WHEN regexp_full_match({k}, '[0-9]{{4}}-[0-9]{{2}}') THEN {split} ELSE {regex} END"}
    y = _int(f"{g}.y")
    ce, notes, year_why = _year(y, calendar)
    value = f"CASE WHEN {g}.y <> '' THEN {_date(ce, _int(f'{g}.m'), '1')} END"
    why = (
        f"CASE WHEN {g}.y = '' THEN 'is not a year-month (expected YYYY-MM, CE or BE)' "
        f"WHEN ({ce}) IS NULL THEN {year_why} ELSE 'is not a real month' END"
    )
    return Rule(prep, value, [(name, f"{g}.y <> '' AND {when}") for name, when in notes], why)


THAI_DATE = (
    "([0-9]{1,2})\\s*([\\x{0E00}-\\x{0E7F}.\\s]+?)\\s*(?:พ\\.?\\s*ศ\\.?\\s*)?([0-9]{4,5})"
    "(?:\\s+[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2})?(?:\\s*น\\.?)?)?"
)


def _rule_thai_date(i: int, c: ColumnSpec, calendar: str) -> Rule:
    g, k = f"g{i}", f"k{i}"
    months = "MAP {" + ", ".join(f"{lit(name)}: {n}" for name, n in thai_month_table().items()) + "}"
    # the common shape ("4 ม.ค. 2568", any digits, a known month) is split; the rest goes to the regex
    digit = f"[0-9{THAI_DIGITS}{KHMER_DIGITS}]"
    simple = (
        f"regexp_full_match({k}, {lit(f'{digit}{{1,2}} [^ ]+ {digit}{{4}}')}) AND "
        f"{months}[replace(split_part({k}, ' ', 2), '.', '')] IS NOT NULL"
    )
    parts = {n: _digits(f"split_part({k}, ' ', {j})") for j, n in ((1, "d"), (3, "y"))}
    split = f"struct_pack(d := {parts['d']}, m := split_part({k}, ' ', 2), y := {parts['y']})"
    prep = {g: f"CASE WHEN {simple} THEN {split} ELSE {_groups(THAI_DATE, _digits(k), ['d', 'm', 'y'])} END"}
    month = f"{months}[replace(replace({g}.m, '.', ''), ' ', '')]"
    y = _int(f"{g}.y")
    ce, notes, year_why = _year(y, "BE" if calendar == "BE" else "CE")
    padded_ok = f"(length({g}.y) = 4 OR starts_with({g}.y, '0'))"
    value = f"CASE WHEN {g}.y <> '' AND {padded_ok} THEN {_date(ce, month, _int(f'{g}.d'))} END"
    why = (
        f"CASE WHEN {g}.y = '' THEN 'is not a Thai date (expected e.g. ''15 มี.ค. 2568'' or "
        "''15 มีนาคม 2568'', BE or CE year)' "
        f"WHEN {month} IS NULL THEN 'has an unknown Thai month ''' || trim({g}.m) || '''' "
        f"WHEN NOT {padded_ok} THEN 'has a five-digit year that is not a zero-padded BE year' "
        f"WHEN ({ce}) IS NULL THEN {year_why} ELSE 'is not a real calendar date' END"
    )
    notes = [(name, f"{g}.y <> '' AND {when}") for name, when in notes]
    notes.append(("padded_year", f"length({g}.y) = 5"))
    return Rule(prep, value, notes, why)


ISO_TS = (
    "([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,6})[0-9]*)?)?"
    "(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


def _rule_iso_timestamp(i: int, c: ColumnSpec, calendar: str) -> Rule:
    g = f"g{i}"
    prep = {g: _groups(ISO_TS, _digits(f"k{i}"), ["y", "m", "d", "hh", "mi", "ss", "f", "z"])}
    local = (
        f"try_cast({g}.y || '-' || {g}.m || '-' || {g}.d || ' ' || {g}.hh || ':' || {g}.mi || ':' || "
        f"coalesce(NULLIF({g}.ss, ''), '00') || CASE WHEN {g}.f <> '' THEN '.' || {g}.f ELSE '' END "
        "AS TIMESTAMP)"
    )
    zone = f"replace({g}.z, ':', '')"
    minutes = (
        f"(CASE WHEN upper({g}.z) = 'Z' THEN 0 ELSE (CASE WHEN starts_with({g}.z, '-') THEN -1 ELSE 1 END) * "
        f"({_int(f'substr({zone}, 2, 2)')} * 60 + coalesce({_int(f'substr({zone}, 4, 2)')}, 0)) END)"
    )
    y = _int(f"{g}.y")
    value = f"CASE WHEN {g}.z <> '' AND {_in(y, CE_YEAR_RANGE)} THEN {local} - to_minutes({minutes}) END"
    why = (
        f"CASE WHEN {g}.y = '' THEN 'is not an ISO 8601 timestamp (expected e.g. 2025-02-05T09:00:00+07:00)' "
        f"WHEN {g}.z = '' THEN 'has no UTC offset: local times in this region differ (UTC+7, UTC+6:30), so "
        f"an offset is required' WHEN NOT {_in(y, CE_YEAR_RANGE)} THEN 'has year ' || {g}.y || ' outside "
        f"{CE_YEAR_RANGE.start}–{CE_YEAR_RANGE.stop - 1}' ELSE 'is not a real date and time' END"
    )
    k = f"k{i}"
    offset = (
        f"(CASE WHEN {k}[20] = '-' THEN -1 ELSE 1 END) * ({k}[21:22]::INTEGER * 60 + {k}[24:25]::INTEGER)"
    )
    fast = (
        "(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}",
        f"try_cast(left({k}, 19) AS TIMESTAMP) - to_minutes({offset})",
    )
    return Rule(prep, value, [], why, fast)


def _rule_label(i: int, c: ColumnSpec, calendar: str) -> Rule:
    """One of the column's labels (compared NFC, trimmed, case-folded) → its canonical value."""
    whens = " ".join(f"WHEN {lit(key)} THEN {lit(value)}" for key, value in c.label_lookup.items())
    accepted = ", ".join(c.labels or {}).replace("'", "''")
    why = f"'unknown label ' || {shown(f'k{i}')} || ' for {c.name} (accepted: {accepted})'"
    return Rule({}, f"CASE lower(k{i}) {whens} END", [], why)


# every specs.ParseRule ``x`` is compiled by ``_rule_x`` (a test checks that none is missing)
RULES: dict[str, Callable[[int, ColumnSpec, str], Rule]] = {
    name.removeprefix("_rule_"): rule for name, rule in dict(globals()).items() if name.startswith("_rule_")
}
