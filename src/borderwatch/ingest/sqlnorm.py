"""The spec's parse rules as DuckDB SQL expressions, for the vectorised CSV/NDJSON load path.

Every constant comes from :mod:`borderwatch.normalize` (digits, Buddhist Era and CE year ranges, the Thai
month table), so the Python and SQL paths share one source of truth. Each rule compiles to a
query computing the typed value, its canonical text (what ``_row_hash`` is built from, identical to the
Python path's ``_canonical``), the normalisations applied, and a ``_bad`` flag per row.

The SQL rules are deliberately *stricter* than the Python ones (RE2's ``\\s`` and ``[0-9]`` instead of
Python's Unicode classes, a narrow ISO 8601 shape): a cell the SQL refuses is handed to the Python
normaliser for its reason, and if Python accepts it the loader falls back to the Python path for that
file. The SQL path may therefore be slower on odd inputs, never different.
"""

from __future__ import annotations

import sys

from borderwatch.normalize import (
    BE_OFFSET,
    BE_YEAR_RANGE,
    CE_YEAR_RANGE,
    KHMER_DIGITS,
    THAI_DIGITS,
    thai_month_table,
)
from borderwatch.specs import ColumnSpec

# Python's str.strip() characters, so SQL trims exactly what _clean() strips.
PY_WHITESPACE = "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())
SQL_RULES = {
    "text": ("varchar",),
    "int": ("integer", "bigint"),
    "dmy_date": ("date",),
    "iso_date": ("date",),
    "thai_date": ("date",),
    "year_month": ("date",),
    "iso_timestamp": ("timestamp",),
}
INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
SQL_TYPES = {"varchar": "VARCHAR", "integer": "INTEGER", "bigint": "BIGINT", "date": "DATE"}
SQL_TYPES["timestamp"] = "TIMESTAMP"


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def supported(column: ColumnSpec) -> bool:
    """Whether a column's parse rule (and its type) has a SQL form."""
    return column.type in SQL_RULES.get(column.parse, ())


def _strip(v: str) -> str:
    """Python's ``str.strip()``; the multi-character trim runs only when an edge character is whitespace."""
    ws = lit(PY_WHITESPACE)
    return (
        f"(CASE WHEN contains({ws}, left({v}, 1)) OR contains({ws}, right({v}, 1)) "
        f"THEN trim({v}, {ws}) ELSE {v} END)"
    )


def _clean(v: str) -> str:
    return _strip(f"replace(nfc_normalize({v}), chr(160), ' ')")


def _blank(v: str) -> str:
    return f"({v} IS NULL OR {_strip(v)} = '')"


def _ascii(clean: str) -> str:
    return f"translate({clean}, {lit(THAI_DIGITS + KHMER_DIGITS)}, {lit('0123456789' * 2)})"


def _in(expr: str, years: range) -> str:
    return f"({expr} BETWEEN {years.start} AND {years.stop - 1})"


def _make_date(y: str, m: str, d: str) -> str:
    """A DATE from integer parts, NULL if not a real calendar date."""
    return f"CAST(try_strptime(printf('%04d-%02d-%02d', {y}, {m}, {d}), '%Y-%m-%d') AS DATE)"


def _ce_year(y: str) -> str:
    """CE year from a CE or Buddhist Era year; NULL outside both ranges (as ``normalize._be_to_ce``)."""
    return (
        f"CASE WHEN {_in(y, BE_YEAR_RANGE)} THEN {y} - {BE_OFFSET} WHEN {_in(y, CE_YEAR_RANGE)} THEN {y} END"
    )


THAI_DATE_RE = (
    "([0-9]{1,2})\\s*([\\x{0E00}-\\x{0E7F}.\\s]+?)\\s*(?:พ\\.?\\s*ศ\\.?\\s*)?([0-9]{4,5})"
    "(?:\\s+[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2})?(?:\\s*น\\.?)?)?"
)
PATTERNS = {  # rule -> RE2 pattern on digit-normalised text; group 1 is mandatory (non-empty iff matched)
    "int": "([+-]?[0-9]{1,3}(?:,[0-9]{3})+|[+-]?[0-9]+)|([+-]?[0-9]+)\\.0+",
    "dmy_date": "([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})",
    "iso_date": "([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?",
    "year_month": "([0-9]{4})-([0-9]{1,2})",
    "thai_date": THAI_DATE_RE,
    "iso_timestamp": (
        "([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?)"
        "(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
    ),
}


def _groups(rule: str, a: str) -> str:
    """STRUCT(g1, g2, ...) of the rule's capture groups ('' when the text does not match)."""
    pattern = PATTERNS[rule]
    n = pattern.count("(") - pattern.count("(?")
    names = ", ".join(lit(f"g{i}") for i in range(1, n + 1))
    return f"regexp_extract({a}, {lit('^(?:' + pattern + ')$')}, [{names}])"


def _int_of(text: str) -> str:
    return f"CAST(NULLIF({text}, '') AS INTEGER)"


def _parsed(column: ColumnSpec, a: str, g: str) -> tuple[str, list[str]]:
    """(parsed value or NULL, note expressions) from digit-normalised text ``a`` and its groups ``g``."""
    rule = column.parse
    matched = f"({g}.g1 <> '')"
    if rule == "int":  # thousands commas, or a whole number written with a zero fraction
        number = f"({g}.g1 || {g}.g2)"
        return f"CASE WHEN {number} <> '' THEN try_cast(replace({number}, ',', '') AS HUGEINT) END", []
    if rule == "dmy_date":
        y = _int_of(f"{g}.g3")
        date = _make_date(y, _int_of(f"{g}.g2"), _int_of(f"{g}.g1"))
        return f"CASE WHEN {matched} AND {_in(y, CE_YEAR_RANGE)} THEN {date} END", []
    if rule == "iso_date":
        y = _int_of(f"{g}.g1")
        date = _make_date(y, _int_of(f"{g}.g2"), _int_of(f"{g}.g3"))
        return f"CASE WHEN {matched} AND {_in(y, CE_YEAR_RANGE)} THEN {date} END", []
    if rule == "year_month":
        y = _int_of(f"{g}.g1")
        value = f"CASE WHEN {matched} THEN {_make_date(_ce_year(y), _int_of(f'{g}.g2'), '1')} END"
        return value, [f"CASE WHEN {matched} AND {_in(y, BE_YEAR_RANGE)} THEN 'be_year' END"]
    if rule == "thai_date":
        key = f"replace(replace({g}.g2, '.', ''), ' ', '')"
        months = " ".join(f"WHEN {lit(name)} THEN {n}" for name, n in sorted(thai_month_table().items()))
        year_text = f"{g}.g3"
        y = _int_of(year_text)
        padded_ok = f"(length({year_text}) = 4 OR starts_with({year_text}, '0'))"
        value = (
            f"CASE WHEN {matched} AND {padded_ok} THEN "
            f"{_make_date(_ce_year(y), f'(CASE {key} {months} END)', _int_of(f'{g}.g1'))} END"
        )
        return value, [
            f"CASE WHEN {matched} AND {_in(y, BE_YEAR_RANGE)} THEN 'be_year' END",
            f"CASE WHEN {matched} AND length({year_text}) = 5 THEN 'padded_year' END",
        ]
    # iso_timestamp: local time minus the offset, UTC-naive
    zone = f"{g}.g3"
    minutes = (
        f"(CASE WHEN {zone} = 'Z' THEN 0 ELSE (CASE WHEN starts_with({zone}, '-') THEN -1 ELSE 1 END) * "
        f"(CAST(substr({zone}, 2, 2) AS INTEGER) * 60 + CAST(substr({zone}, 5, 2) AS INTEGER)) END)"
    )
    local = f"try_cast({g}.g1 || ' ' || {g}.g2 AS TIMESTAMP)"
    return f"CASE WHEN {matched} THEN {local} - to_minutes({minutes}) END", []


def _timestamp_text(ts: str) -> str:
    """Python's ``datetime.isoformat(sep=' ')``: microseconds only when non-zero, six digits."""
    us = f"((epoch_us({ts}) % 1000000 + 1000000) % 1000000)"
    return (
        f"strftime({ts}, '%Y-%m-%d %H:%M:%S') || "
        f"CASE WHEN {us} > 0 THEN '.' || lpad(CAST({us} AS VARCHAR), 6, '0') ELSE '' END"
    )


def normalise_query(columns: list[ColumnSpec], source: str) -> str:
    """SQL over ``source`` (columns f, rn, c0..cN VARCHAR, one per spec column in order).

    Yields f, rn, each spec column typed (and ``<name>_raw``), ``_row_hash``, ``_normalisations`` and
    ``_bad`` (the row must go to quarantine). Four layers so that cleaning and each regex run once per cell.
    """
    l1 = ["f", "rn"]
    l2 = ["*"]
    l3 = ["*"]
    out = ["f", "rn"]
    hashed: list[str] = []
    notes: list[str] = []
    bad: list[str] = []
    for i, column in enumerate(columns):
        c, k, b = f"c{i}", f"k{i}", f"b{i}"
        l1 += [c, f"{_clean(c)} AS {k}", f"{_blank(c)} AS {b}"]
        required = "TRUE" if column.required else "FALSE"
        if column.parse == "text":
            value = f"NULLIF({k}, '')"
            out.append(f'{value} AS "{column.name}"')
            hashed.append(value)
            bad.append(f"({required} AND {value} IS NULL)")
        else:
            a, g, p = f"a{i}", f"g{i}", f"p{i}"
            compact = (
                f"replace(replace({_ascii(k)}, ' ', ''), chr(8239), '')"
                if column.parse == "int"
                else _ascii(k)
            )
            l2.append(f"{compact} AS {a}")
            l2.append(f"{_groups(column.parse, a)} AS {g}")
            parsed, extra = _parsed(column, a, g)
            value = p
            if column.parse == "int":
                low, high = INT_BOUNDS[column.type]
                value = f"CASE WHEN {p} BETWEEN {low} AND {high} THEN {p} END"
            l3.append(f"CASE WHEN NOT {b} THEN {parsed} END AS {p}")
            typed = SQL_TYPES[column.type]
            out.append(f'CAST({value} AS {typed}) AS "{column.name}"')
            canonical = (
                _timestamp_text(value) if column.parse == "iso_timestamp" else f"CAST({value} AS VARCHAR)"
            )
            hashed.append(f"CASE WHEN NOT {b} THEN {canonical} END")
            for found, script in ((THAI_DIGITS, "thai_digits"), (KHMER_DIGITS, "khmer_digits")):
                notes.append(
                    f"CASE WHEN NOT {b} AND regexp_matches({k}, {lit('[' + found + ']')}) THEN '{script}' END"
                )
            notes += [f"CASE WHEN NOT {b} THEN {n} END" for n in extra]
            bad.append(f"(CASE WHEN {b} THEN {required} ELSE ({value}) IS NULL END)")
        if column.keep_raw:
            out.append(f'{c} AS "{column.name}_raw"')
    out.append(f"sha256(to_json([{', '.join(hashed)}])) AS _row_hash")
    note_list = f"list_sort(list_distinct([{', '.join(notes)}]::VARCHAR[]))" if notes else "[]::VARCHAR[]"
    out.append(f"{note_list} AS _normalisations")
    out.append(f"({' OR '.join(bad)}) AS _bad")
    return (
        f"SELECT {', '.join(out)} FROM (SELECT {', '.join(l3)} FROM (SELECT {', '.join(l2)} FROM "
        f"(SELECT {', '.join(l1)} FROM {source})))"
    )
