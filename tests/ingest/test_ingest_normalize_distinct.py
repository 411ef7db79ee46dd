"""The normaliser types a repeating column once per distinct cell and joins it back (``distinct=``):
every row, value, note, hash, reason and kept raw text must be exactly what the per-row layers give."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from borderwatch.normalize import normalise_sql, stored_row_hash
from borderwatch.specs import ColumnSpec, TableSpec

COLUMNS = [
    ColumnSpec(name="report_id", required=True),
    ColumnSpec(name="place"),
    ColumnSpec(name="total", type="integer", parse="int", required=True),
    ColumnSpec(name="big", type="bigint", parse="int"),
    ColumnSpec(name="share", type="double", parse="float"),
    ColumnSpec(name="is_total", type="boolean", parse="bool"),
    ColumnSpec(name="extra", type="json", parse="json"),
    ColumnSpec(name="day", type="date", parse="iso_date"),
    ColumnSpec(name="handover", type="date", parse="dmy_date", keep_raw=True),
    ColumnSpec(name="month", type="date", parse="year_month"),
    ColumnSpec(name="received", type="date", parse="thai_date", keep_raw=True),
    ColumnSpec(name="reported_at", type="timestamp", parse="iso_timestamp"),
    ColumnSpec(name="sex", parse="label", labels={"M": ["M", "male", "ប្រុស"], "F": ["F", "female"]}),
]
TABLE = TableSpec(table="t", primary_key=["report_id"], columns=COLUMNS)
# quirks per column (a pool each, so cells repeat): blanks, padding, Thai/Khmer digits, BE years, refusals
POOLS: list[list[str | None]] = [
    ["R-1", "R-2", " R-3 ", "R\u202e-4", "R\x1b5", "R" * 201, None, ""],
    ["แม่สอด\u00a0", "Poipet", "  ", None, "e\u0301"],
    ["12", "0", "-3", "007", "1,234", "๑๒", "១២", "about 40", "12a", "99999999999", "+5", None],
    ["9223372036854775807", "9223372036854775808", "18", None, "1.0"],
    ["1.5", ".5", "1,234.5", "๑.๕", "nan", "x", None],
    ["yes", "No", "total", "รวม", "maybe", None],
    ['{"a": 1}', "[1, 2]", "{bad", None],
    ["2025-03-15", "2025-02-30", "2568-03-15", "1899-01-01", "๒๐๒๕-๐๓-๑๕", "x", None],
    ["15/03/2025", "31/02/2025", "15/03/2568", "1/3/2025", "១៥/០៣/២០២៥", None],
    ["2025-03", "2568-03", "2025-13", "2168-01", "2025-3", None],
    ["15 มี.ค. 2568", "๑๕ มีนาคม ๒๕๖๘", "15 มี.ค. พ.ศ. 2568", "15 ฟฟ. 2568", "15 มี.ค. 02568", "x", None],
    ["2025-02-05T09:00:00+07:00", "2025-02-05 09:00", "2025-02-05T02:00:00Z", "0001-01-01T00:00Z", None],
    [" Male ", "ប្រុស", "f", "?", None],
]


def _source(con: duckdb.DuckDBPyConnection, rows: list[list[str | None]], *, error_row: int = 0) -> None:
    """A reader's text relation ``src`` holding ``rows``; row ``error_row`` carries a reader's error."""
    n = len(COLUMNS)
    cells = ", ".join(f"c{i} TEXT" for i in range(n))
    con.execute(
        f"CREATE TABLE src (_f INT, _row_number INT, _line INT, _raw_text TEXT, _error TEXT, {cells})"
    )
    con.executemany(
        f"INSERT INTO src VALUES (0, ?, ?, NULL, ?, {', '.join('?' * n)})",
        [(j, j + 1, "row has 3 fields" if j == error_row else None, *row) for j, row in enumerate(rows, 1)],
    )


def _normalise(rows: list[list[str | None]], distinct: list[int]) -> list[tuple[Any, ...]]:
    with duckdb.connect() as con:
        _source(con, rows, error_row=2)
        sql = normalise_sql(TABLE, "src", calendar="BE", distinct=distinct)
        return con.execute(f"SELECT * FROM ({sql}) ORDER BY _row_number").fetchall()


def test_every_quirk_types_the_same_per_distinct_cell_as_per_row() -> None:
    width = max(map(len, POOLS))
    rows = [[pool[j % len(pool)] for pool in POOLS] for j in range(width * 3)]  # each cell thrice or more
    per_row = _normalise(rows, [])
    assert len(per_row) == len(rows)
    assert any(r[-2] is not None for r in per_row) and any(r[-2] is None for r in per_row)  # both fates
    assert _normalise(rows, list(range(len(COLUMNS)))) == per_row
    assert _normalise(rows, [2, 8, 10]) == per_row


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(*(st.one_of(st.sampled_from(pool), st.text(max_size=12)) for pool in POOLS)),
        min_size=1,
        max_size=30,
    ),
    st.sets(st.integers(0, len(COLUMNS) - 1)),
)
def test_any_cells_type_the_same_per_distinct_cell(
    rows: list[tuple[str | None, ...]], distinct: set[int]
) -> None:
    cells = [list(row) for row in rows]
    assert _normalise(cells, sorted(distinct)) == _normalise(cells, [])


def _hashes_against_definition(rows: list[list[str | None]], distinct: list[int]) -> list[tuple[Any, ...]]:
    """Each row's ``_row_hash`` beside the stored definition (``stored_row_hash``, over its typed values):
    rows already in raw tables, and rows re-hashed on upgrade, were hashed that way, and a delivery
    repeating them must hash the same to count as a duplicate."""
    with duckdb.connect() as con:
        _source(con, rows)
        sql = normalise_sql(TABLE, "src", calendar="BE", distinct=distinct)
        return con.execute(
            f"SELECT _row_hash, {stored_row_hash(TABLE)} FROM ({sql}) ORDER BY _row_number"
        ).fetchall()


def test_row_hash_keeps_its_stored_definition() -> None:
    width = max(map(len, POOLS))
    rows = [[pool[j % len(pool)] for pool in POOLS] for j in range(width * 3)]
    rows.append(['R-"q"\\', 'tab\there "quoted" \\ back', "1", None, None, None, None] + [None] * 6)
    for distinct in ([], list(range(len(COLUMNS)))):
        pairs = _hashes_against_definition(rows, distinct)
        assert len(pairs) == len(rows)
        assert all(ours == stored for ours, stored in pairs), distinct


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(*(st.text(max_size=12) for _ in POOLS)), min_size=1, max_size=20))
def test_row_hash_of_any_cells_keeps_its_stored_definition(rows: list[tuple[str, ...]]) -> None:
    cells: list[list[str | None]] = [list(row) for row in rows]
    for distinct in ([], [0, 1, 2, 7]):
        assert all(ours == stored for ours, stored in _hashes_against_definition(cells, distinct))


def test_row_hash_is_the_md5_of_the_values_as_a_json_list() -> None:
    """The definition pinned outside DuckDB: md5 of ``["v0","v1",null,...]`` (typed values as text, JSON
    escapes, no spaces), read as a little-endian 128-bit integer. Changing it strands every stored row."""
    values = ['R-"1"', "ป๋อยเปต", None, "2025-03-06"]
    table = TableSpec(table="t", primary_key=["v0"], columns=[ColumnSpec(name=f"v{i}") for i in range(4)])
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t ({', '.join(f'v{i} VARCHAR' for i in range(len(values)))})")
        con.execute("INSERT INTO t VALUES (?, ?, ?, ?)", values)
        (ours,) = con.execute(f"SELECT {stored_row_hash(table)} FROM t").fetchone()  # type: ignore[misc]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
    assert ours == int.from_bytes(hashlib.md5(text).digest(), "little")
