"""The one normaliser: the spec's parse rules (:mod:`borderwatch.parse_rules`) compiled to one DuckDB
statement.

Every reader hands the loader a relation of *text* cells (``c0 .. cN``, one per spec column, plus
``_f, _row_number, _line, _raw_text, _error``); :func:`normalise_sql` turns it into typed values, the
``<name>_raw`` text beside ``keep_raw`` columns, ``_normalisations``, ``_row_hash`` and ``_reason`` (NULL
for a good row, else why it goes to quarantine). Adding a rule: the spec's ``ParseRule``, one ``_rule_*``
in :mod:`borderwatch.parse_rules`, one test.
"""

from __future__ import annotations

from collections.abc import Collection

from borderwatch.parse_rules import KHMER_DIGITS, RULES, lit, shown
from borderwatch.specs import ColumnSpec, TableSpec
from borderwatch.thai_calendar import THAI_DIGITS

__all__ = ["RULES", "SQL_TYPES", "lit", "normalise_sql", "quote", "stored_row_hash"]

MAX_KEY_CHARS = 200
WHITESPACE = "".join(filter(str.isspace, map(chr, range(0x3001))))  # trim as str.strip() does
# Control characters and bidirectional overrides: invisible, and able to make two keys look alike.
UNSAFE_KEY_CHARS = "[\\x00-\\x1f\\x7f-\\x9f\\x{200e}\\x{200f}\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}\\x{061c}]"
SQL_TYPES = {"varchar": "VARCHAR", "integer": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE"}
SQL_TYPES |= {"date": "DATE", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN", "json": "JSON"}


def _is_key(c: ColumnSpec, table: TableSpec) -> bool:
    """Columns that become keys downstream: the primary key and id-like columns."""
    return c.name in table.primary_key or c.name.endswith(("_id", "_no"))


def normalise_sql(
    table: TableSpec,
    source: str,
    *,
    calendar: str = "CE",
    cursor: str | None = None,
    distinct: Collection[int] = (),
) -> str:
    """SQL over ``source`` (``_f, _row_number, _line, _raw_text, _error, c0..cN`` text) → typed rows.

    Yields ``_f, _row_number, _line``, each spec column typed (and ``<name>_raw``), ``_raw_text`` (of
    a quarantined row only), ``_normalisations``, ``_row_hash`` and ``_reason``. Layers so each cell is
    cleaned once, a cell of the common shape is typed by one cast (``Rule.fast``), each regex runs at
    most once per other cell, and reasons and notes are only spelled out for the rows that have them.
    ``distinct``: columns whose cells repeat; their layers run once per distinct cell and are joined back
    (a date, a count or a checkpoint name recurs thousands of times in a batch), the same expressions
    either way.
    """
    shared: list[list[str]] = [["*"] for _ in range(6)]  # nfc, clean, fast, prep, values, flags: every row
    own: dict[int, list[list[str]]] = {i: [[f"c{i}"]] + [["*"] for _ in range(5)] for i in distinct}
    out = ["_f", "_row_number", "_line"]
    hashed: list[str] = []
    notes: dict[str, list[str]] = {}  # note -> conditions (any column)
    reasons: list[str] = []
    bad, noted = ["_error IS NOT NULL"], []
    ws = lit(WHITESPACE)
    for i, c in enumerate(table.columns):
        k, value, label = f"k{i}", f"v{i}", lit(f"{c.name} ({c.source_key!r}): ")
        nfc_cells, clean, fast, prep, values, flags = own.get(i, shared)
        col_bad: list[str] = []  # quarantine conditions; they and the notes become flags of the cell
        nfc_cells.append(f"{_nfc(f'c{i}')} AS u{i}")
        clean.append(f"NULLIF({_strip(f'u{i}', ws)}, '') AS {k}")
        rule = RULES[c.parse](i, c, calendar)
        typed = rule.value
        if rule.fast is not None:
            pattern, cast = rule.fast
            fast.append(f"CASE WHEN regexp_full_match({k}, {lit(pattern)}) THEN {cast} END AS f{i}")
            prep += [f"CASE WHEN f{i} IS NULL THEN {e} END AS {a}" for a, e in rule.prep.items()]
            typed = f"coalesce(f{i}, {rule.value})"
        else:
            prep += [f"{expr} AS {alias}" for alias, expr in rule.prep.items()]
        values.append(f"CASE WHEN {k} IS NOT NULL THEN {typed} END AS {value}")
        problems = [
            f"WHEN {k} IS NULL THEN " + (f"{label} || 'required but empty'" if c.required else "NULL")
        ]
        if c.required:
            col_bad.append(f"{k} IS NULL")
        if c.parse == "text" and _is_key(c, table):
            unsafe = f"regexp_matches({k}, {lit(UNSAFE_KEY_CHARS)})"
            problems.append(
                f"WHEN {unsafe} THEN {label} || {shown(k)} || "
                "' contains control or bidirectional-override characters, which never reach keys'"
            )
            problems.append(
                f"WHEN length({k}) > {MAX_KEY_CHARS} THEN {label} || 'is ' || length({k}) || "
                f"' characters long; keys are at most {MAX_KEY_CHARS}'"
            )
            col_bad.append(f"{unsafe} OR length({k}) > {MAX_KEY_CHARS}")
        if c.parse == "label":
            problems.append(f"WHEN {value} IS NULL THEN {rule.why}")
        elif c.parse != "text":
            problems.append(f"WHEN {value} IS NULL THEN {label} || {shown(k)} || ' ' || ({rule.why})")
            wide = f"strlen({k}) <> length({k})"
            noted.append("true" if rule.notes else f"w{i}")
            flags += [] if rule.notes else [f"{wide} AS w{i}"]
            conditions = [(name, f"{k} IS NOT NULL AND {when}") for name, when in rule.notes]
            for name, digits in (("thai_digits", THAI_DIGITS), ("khmer_digits", KHMER_DIGITS)):
                conditions.append((name, f"{wide} AND regexp_matches({k}, {lit('[' + digits + ']')})"))
            for j, (name, when) in enumerate(conditions):
                flags.append(f"({when}) AS t{i}_{j}")
                notes.setdefault(name, []).append(f"t{i}_{j}")
        if c.parse != "text":
            col_bad.append(f"({k} IS NOT NULL AND {value} IS NULL)")
        if col_bad:
            flags.append(f"({' OR '.join(col_bad)}) AS b{i}")
            bad.append(f"b{i}")
        reasons.append(f"CASE {' '.join(problems)} END")
        out.append(f"CAST({value} AS {SQL_TYPES[c.type]}) AS {quote(c.name)}")
        if c.keep_raw:
            out.append(f"c{i} AS {quote(c.name + '_raw')}")
        # the row hash's JSON element for this cell, in its column's layers: once per distinct cell
        flags.append(f"coalesce(to_json(CAST({value} AS VARCHAR)), 'null') AS j{i}")
        hashed.append(f"j{i}")
        if cursor is not None and cursor in (c.name, c.source_key):
            out += [f"{value} AS _cursor_ts", f"c{i} AS _cursor_text"]
    # one CASE per note in name order (no list sort per row), only for a rule that notes or a non-ASCII cell
    cases = ", ".join(f"CASE WHEN ({') OR ('.join(notes[n])}) THEN {lit(n)} END" for n in sorted(notes))
    note_list = f"list_filter([{cases}]::VARCHAR[], lambda n: n IS NOT NULL)"
    noted_sql = " OR ".join(noted or ["false"])
    out.append(f"CASE WHEN {noted_sql} THEN {note_list} ELSE []::VARCHAR[] END AS _normalisations")
    # = stored_row_hash(table) over the typed values, built from per-cell elements
    elements = ", ',', ".join(hashed)
    out.append(f"md5_number(concat('[', {elements}, ']')) AS _row_hash")
    why = f"coalesce(_error, concat_ws('; ', {', '.join(reasons)}))"
    is_bad = " OR ".join(bad)
    out.append(f"CASE WHEN {is_bad} THEN 'line ' || _line || ': ' || {why} END AS _reason")
    # only a quarantined row keeps its text (CSV rows carry none: rebuilt from the cells, spec order)
    cells = ", ".join(f"coalesce(c{i}, '')" for i in range(len(table.columns)))
    out.append(f"CASE WHEN {is_bad} THEN coalesce(_raw_text, concat_ws(',', {cells})) END AS _raw_text")
    query = f"SELECT * FROM {source}"
    for i, (first, *rest) in own.items():  # each distinct cell of column i typed once, joined back
        typed = _layered(f"SELECT {', '.join(first)} FROM (SELECT DISTINCT c{i} FROM {source})", rest)
        query = (
            f"SELECT s.*, d.* EXCLUDE (c{i}) FROM ({query}) s LEFT JOIN ({typed}) d "
            f"ON s.c{i} IS NOT DISTINCT FROM d.c{i}"
        )
    return _layered(query, [*shared, out])


def stored_row_hash(table: TableSpec) -> str:
    """The row hash's definition over a raw table's typed columns: the 128-bit ``md5_number`` of the JSON
    list of its values as text. Equal rows hash equal, so a row delivered again is counted, not stored;
    :func:`normalise_sql` computes the same value from its per-cell elements, and
    :func:`borderwatch.ingest.contract.ensure_feed_tables` re-hashes rows stored under an older one."""
    typed = ", ".join(f"CAST({quote(c.name)} AS VARCHAR)" for c in table.columns)
    return f"md5_number(to_json([{typed}]))"


def _layered(query: str, layers: list[list[str]]) -> str:
    """Each layer a projection over the one before (a layer's aliases are visible to the next)."""
    for layer in layers:
        if layer != ["*"]:
            query = f"SELECT {', '.join(layer)} FROM ({query})"
    return query


def _nfc(v: str) -> str:
    """NFC with NBSP as a space; ASCII cells (most) are already both."""
    return f"CASE WHEN strlen({v}) = length({v}) THEN {v} ELSE replace(nfc_normalize({v}), chr(160), ' ') END"


def _strip(u: str, ws: str) -> str:
    """Python's ``str.strip()``: printable ASCII at both ends settles most cells by two range tests;
    ``trim`` (costly with a set) runs only for a cell with whitespace at an end."""
    codes = ", ".join(str(ord(ch)) for ch in WHITESPACE if ord(ch) > 32)
    first, last = f"ascii({u})", f"ascii({u}[-1])"
    plain = f"{first} BETWEEN 33 AND 126 AND {last} BETWEEN 33 AND 126"
    edge = " OR ".join(f"{end} <= 32 OR {end} IN ({codes})" for end in (first, last))
    return f"CASE WHEN {plain} THEN {u} WHEN {edge} THEN trim({u}, {ws}) ELSE {u} END"


def quote(name: str) -> str:
    """A SQL identifier (spec names are validated as ``[a-z][a-z0-9_]*``; quoting is belt and braces)."""
    return '"' + name.replace('"', '""') + '"'
