"""Readers over a batch of several files: row and line numbers start again in each file, the NDJSON
reader's blank lines, leading whitespace and drift are placed on the right line of the right file, and
only a quarantined row keeps its raw text after normalising."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from ingest_payloads import kh_csv, kh_rows, nbtc_lines, ndjson_bytes

from borderwatch.ingest.errors import SchemaDriftError
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.load import READERS
from borderwatch.normalize import normalise_sql
from borderwatch.specs import FeedSpec

BASE = ["_f", "_row_number", "_line", "_raw_text", "_error"]


def _landed(path: Path, spec: FeedSpec) -> LandedFile:
    return LandedFile(
        spec.name, f"test:{path.name}", path.name, None, {}, "", path.stat().st_size, "0" * 64, path
    )


def _read(
    spec: FeedSpec, paths: list[Path], *, unordered: bool = False
) -> tuple[list[dict[str, Any]], dict[int, Exception], list[tuple]]:  # type: ignore[type-arg]
    """Text rows of the batch (by source key), file errors, and the normalised (_f, _row_number,
    _raw_text, _reason) of every row. ``unordered``: the connection starts with insertion order off, as
    dbt's profile leaves it, and eight threads (enough to interleave a scan's row groups when order is
    not kept)."""
    table = spec.tables[0]
    with duckdb.connect() as con:
        if unordered:
            con.execute("SET preserve_insertion_order = false; SET threads = 8")
        cells = ", ".join(f"c{i} VARCHAR" for i in range(len(table.columns)))
        con.execute(f"CREATE TEMP TABLE t ({', '.join(f'{b} VARCHAR' for b in BASE)}, {cells})")
        con.execute("ALTER TABLE t ALTER _f TYPE INTEGER; ALTER TABLE t ALTER _row_number TYPE INTEGER")
        con.execute("ALTER TABLE t ALTER _line TYPE INTEGER")
        batch = READERS[spec.format.type](con, spec, table, [_landed(p, spec) for p in paths], "t")
        columns = BASE + [f"c{i}" for i in range(len(table.columns))]
        names = BASE + [c.source_key for c in table.columns]
        query = f"SELECT {', '.join(columns)} FROM {batch.relation} ORDER BY _f, _row_number"
        rows = [dict(zip(names, r, strict=True)) for r in con.execute(query).fetchall()]
        sql = normalise_sql(table, batch.relation, calendar=spec.calendar)
        normalised = con.execute(
            f"SELECT _f, _row_number, _raw_text, _reason FROM ({sql}) ORDER BY _f, _row_number"
        ).fetchall()
    return rows, dict(batch.errors), normalised


def test_csv_rows_are_numbered_within_each_file(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    paths = []
    for name, n in (("a.csv", 3), ("b.csv", 5), ("c.csv", 2)):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(kh_csv(kh_rows(n, bulletin=name)))
    rows, errors, _ = _read(spec, paths)
    assert not errors
    numbered = [(r["_f"], r["_row_number"], r["_line"], r["Line"]) for r in rows]
    expected = [(f, n, n + 1, str(n)) for f, count in enumerate((3, 5, 2)) for n in range(1, count + 1)]
    assert numbered == expected


def test_large_files_read_in_parallel_keep_their_row_numbers(
    tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    """Rows are numbered from their place in the scan, so the scan must keep file and line order while
    DuckDB reads several row groups at once, even on a connection that had insertion order turned off."""
    sizes = (70_000, 3, 150_000, 1, 90_000)
    csv_paths, ndjson_paths = [], []
    for k, n in enumerate(sizes):
        csv_paths.append(tmp_path / f"{k}.csv")
        csv_paths[-1].write_bytes(kh_csv(kh_rows(n, bulletin=f"B-{k}")))
        ndjson_paths.append(tmp_path / f"{k}.ndjson")
        ndjson_paths[-1].write_bytes(ndjson_bytes(nbtc_lines(n)))
    rows, errors, _ = _read(specs["kh_gdi_deportations"], csv_paths, unordered=True)
    assert not errors and len(rows) == sum(sizes)
    # the Line column holds the row's own number, the bulletin its file
    assert all(r["Line"] == str(r["_row_number"]) and r["Bulletin No"] == f"B-{r['_f']}" for r in rows)
    assert all(r["_line"] == r["_row_number"] + 1 for r in rows)
    rows, errors, _ = _read(specs["nbtc_telecom"], ndjson_paths, unordered=True)
    assert not errors and len(rows) == sum(sizes)
    assert all(r["action_type"].endswith(f"_{r['_line'] - 1}") for r in rows)
    assert [sum(r["_f"] == k for r in rows) for k in range(len(sizes))] == list(sizes)


def test_ndjson_lines_blank_lines_and_whitespace_across_files(
    tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["nbtc_telecom"]
    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    first.write_bytes(ndjson_bytes(nbtc_lines(2)))
    records = [json.dumps(r) for r in nbtc_lines(3)]
    second.write_text(f"{records[0]}\n\n   \n \t{records[1]}\n[1]\n{records[2]}\n", encoding="utf-8")
    rows, errors, normalised = _read(spec, [first, second])
    assert not errors
    placed = [(r["_f"], r["_line"], r["_error"]) for r in rows]
    # blank and space-only lines are skipped but keep their line numbers; leading whitespace is allowed
    assert placed == [
        (0, 1, None),
        (0, 2, None),
        (1, 1, None),
        (1, 4, None),
        (1, 5, "line is not a JSON object"),
        (1, 6, None),
    ]
    assert rows[3]["count"] == "1001"
    # after normalising, only the quarantined row keeps its text
    assert [(f, n, raw) for f, n, raw, reason in normalised if raw is not None] == [(1, 5, "[1]")]
    assert [reason for *_, reason in normalised if reason] == ["line 5: line is not a JSON object"]


def test_ndjson_drift_names_its_file_and_first_line(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    good, drifted = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    good.write_bytes(ndjson_bytes(nbtc_lines(2)))
    records = nbtc_lines(4)
    records[2]["Count"] = records[2].pop("count")
    records[3]["extra"] = 1
    drifted.write_bytes(ndjson_bytes(records))
    rows, errors, normalised = _read(spec, [good, drifted])
    assert list(errors) == [1]
    error = errors[1]
    assert isinstance(error, SchemaDriftError)
    assert error.added == ["Count", "extra"]
    assert "b.ndjson line 3" in str(error)
    # the drifted file's rows go no further; the good file's are untouched
    assert {r["_f"] for r in rows} == {0} and len(normalised) == 2


def test_csv_rows_after_a_refused_row_keep_their_own_line(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    """The reader skips a row with the wrong number of fields; the rows after it must still be numbered
    by their own place in the file (lineage points at the line), not shifted onto the refused one."""
    spec = specs["kh_gdi_deportations"]
    header, *good = kh_csv(kh_rows(4, bulletin="a")).decode("utf-8-sig").splitlines()
    layouts = {
        "a.csv": [header, "x,y", *good],  # first data row refused
        "b.csv": [header, good[0], "x,y", good[1], "p,q,r", "s", good[2], good[3]],  # three refused
        "c.csv": [header, *good],
    }
    paths = []
    for name, lines in layouts.items():
        paths.append(tmp_path / name)
        paths[-1].write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    rows, errors, normalised = _read(spec, paths)
    assert not errors
    for f, lines in enumerate(layouts.values()):
        placed = {(r["_row_number"], r["_line"]): r for r in rows if r["_f"] == f}
        assert len(placed) == len(lines) - 1  # one row per data line, no number given twice
        for line, text in enumerate(lines[1:], 2):
            row = placed[(line - 1, line)]
            if text in good:
                assert row["_error"] is None and row["Line"] == text.split(",")[1]
            else:
                assert "different number of fields" in row["_error"]
    refused = sorted((f, n) for f, n, _raw, reason in normalised if reason)
    assert refused == [(0, 1), (1, 2), (1, 4), (1, 5)]


def test_ndjson_file_starting_with_blank_lines(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    records = [json.dumps(r) for r in nbtc_lines(2)]
    first.write_text(f"\n  \n{records[0]}\n\n{records[1]}\n", encoding="utf-8")
    second.write_text("\n\n", encoding="utf-8")  # nothing but blank lines: no rows
    rows, errors, _ = _read(spec, [first, second])
    assert not errors
    assert [(r["_f"], r["_row_number"], r["_line"], r["_error"]) for r in rows] == [
        (0, 3, 3, None),
        (0, 5, 5, None),
    ]
