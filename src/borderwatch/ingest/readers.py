"""Readers: landed files of one feed → one DuckDB relation of text cells, ready for the normaliser.

Each reader fills a temp table ``(_f, _row_number, _line, _raw_text, _error, c0 .. cN)``: ``_f`` is the
file's index in the batch, ``c<i>`` the text of spec column ``i`` (NULL when absent), ``_error`` a
row-level reason (wrong field count, invalid JSON). CSV is read by DuckDB's ``read_csv`` (cp874 and other
non-UTF-8 encodings transcoded first), NDJSON as lines by DuckDB and taken apart with its JSON functions;
JSON API pages in :mod:`~borderwatch.ingest.json_pages`, XLSX in :mod:`~borderwatch.ingest.xlsx`.
File-level problems (encoding, size, over-long lines, schema drift, a broken workbook) are returned per
file, never raised, so one bad file never stops the others.
"""

from __future__ import annotations

import codecs
import json
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from borderwatch.duck import insert_rows
from borderwatch.ingest.errors import FileFormatError, IngestError, SchemaDriftError
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.preflight import check_size, csv_header, too_long, undecodable
from borderwatch.parse_rules import lit
from borderwatch.specs import FeedSpec, TableSpec

UTF8 = ("utf-8", "utf-8-sig", "utf8")


@dataclass
class Batch:
    """What the readers made of a batch: the text relation's name, file-level errors, page metadata."""

    relation: str
    errors: dict[int, IngestError] = field(default_factory=dict)
    meta: dict[int, dict[str, Any]] = field(default_factory=dict)  # JSON API: next_page per page


def _utf8_copy(spec: FeedSpec, landed: LandedFile, tmp: Path) -> Path:
    """A UTF-8 copy of a file in another encoding (DuckDB reads UTF-8 only; extensions never install).
    Its cells are put in NFC by the normaliser, once per distinct value of a repeating column: cheaper
    than checking the whole text here (0.12 s per 80 MB of cp874)."""
    decoder = codecs.getincrementaldecoder(spec.format.encoding)()
    out = tmp / f"{uuid.uuid4().hex}.csv"
    offset = 0
    with open(landed.path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(1 << 22):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise undecodable(spec, landed.file_name, landed.path.read_bytes(), offset, exc) from None
            dst.write(text)
            offset += len(chunk)
        dst.write(decoder.decode(b"", final=True))
    return out


def _renumber_around(
    con: duckdb.DuckDBPyConnection, relation: str, bad: list[tuple[int, int, int, str, str]]
) -> None:
    """The reader's scan skips refused rows, so a file's good rows after one were numbered one short:
    the ``r``-th good row is row ``r + #{refused row j : (its number - j) < r}`` (``j`` counting the
    file's refused rows from 1), so that every row keeps the number of its own place in the file."""
    gaps: dict[int, list[int]] = {}
    for i, number, *_ in sorted(bad):
        gaps.setdefault(i, []).append(number - len(gaps.get(i, [])) - 1)
    for i, before in gaps.items():
        shift = "len(list_filter(?::INTEGER[], lambda g: g < _row_number))"
        con.execute(
            f"UPDATE {relation} SET _row_number = _row_number + {shift}, _line = _line + {shift} "
            "WHERE _f = ? AND _error IS NULL",
            [before, before, i],
        )


def _scan_in_order(con: duckdb.DuckDBPyConnection, ids: list[int]) -> str:
    """SQL of ``_f`` for a scan of ``ids``' files (``file_index`` → batch index). Before the scan, DuckDB
    is told to keep row order on insert (a global setting dbt's profile turns off): a scanned row's
    ``rowid`` then follows file and line order, and :func:`_first_rowids` numbers rows from it, which
    ``WITH ORDINALITY`` would do at twice the cost of the read (it scans one thread at a time)."""
    con.execute("SET preserve_insertion_order = true")
    return f"[{', '.join(map(str, ids))}][file_index::BIGINT + 1]"


def _first_rowids(relation: str, where: str = "true") -> str:
    """``(_f, o0)``: the ``rowid`` before each file's first row in ``relation``, so that a row's number
    within its file is ``rowid - o0`` (see :func:`_scan_in_order`)."""
    return f"(SELECT _f, min(rowid) - 1 AS o0 FROM {relation} WHERE {where} GROUP BY _f)"


def _rejects(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, int, str, str, str]]:
    return con.execute(
        "SELECT s.file_path, e.line, first(e.error_type ORDER BY e.column_idx), first(e.csv_line), "
        f"first(e.error_message ORDER BY e.column_idx) FROM {name}_e e JOIN {name}_s s USING (scan_id, "
        "file_id) GROUP BY ALL ORDER BY s.file_path, e.line"
    ).fetchall()


def _drop(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def read_csv(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, table: TableSpec, files: list[LandedFile], target: str
) -> Batch:
    """CSV files into ``target``; files with the same header layout are read by one ``read_csv``."""
    batch = Batch(target)
    groups: dict[tuple[tuple[str, ...], int], list[tuple[int, Path]]] = {}
    with tempfile.TemporaryDirectory(prefix="bw-csv-") as tmpdir:
        for i, landed in enumerate(files):
            try:
                check_size(spec, landed.path, landed.file_name)
                path = landed.path
                if spec.format.encoding.lower() not in UTF8:
                    path = _utf8_copy(spec, landed, Path(tmpdir))
                header, line = csv_header(spec, table, landed, path)
            except (IngestError, OSError) as exc:
                batch.errors[i] = exc if isinstance(exc, IngestError) else FileFormatError(str(exc))
                continue
            groups.setdefault((tuple(header), line), []).append((i, path))
        for (header, line), members in groups.items():
            _read_csv_group(con, spec, table, files, header, line, members, batch)
    return batch


def _read_csv_group(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    table: TableSpec,
    files: list[LandedFile],
    header: tuple[str, ...],
    header_line: int,
    members: list[tuple[int, Path]],
    batch: Batch,
) -> None:
    position = {h: j for j, h in enumerate(header) if h}
    columns = "{" + ", ".join(f"'h{j}': 'VARCHAR'" for j in range(len(header))) + "}"
    cells = ", ".join(
        f"h{position[c.source_key]} AS c{i}" if c.source_key in position else f"NULL AS c{i}"
        for i, c in enumerate(table.columns)
    )
    index = {str(path): i for i, path in members}
    name = f"_bw_rej_{uuid.uuid4().hex[:10]}"
    relation = batch.relation
    try:
        file_of = _scan_in_order(con, list(index.values()))
        con.execute(
            f"INSERT INTO {relation} SELECT {file_of}, NULL, NULL, NULL, NULL, {cells} "
            f"FROM read_csv(?, header = true, skip = {header_line - 1}, auto_detect = false, columns = "
            f"{columns}, "
            f"delim = {lit(spec.format.delimiter)}, quote = '\"', escape = '\"', strict_mode = true, "
            f"store_rejects = true, rejects_table = '{name}_e', rejects_scan = '{name}_s', "
            f"max_line_size = {max(spec.format.max_line_bytes, 4096)})",
            [list(index)],
        )
        n = f"{relation}.rowid - f.o0"  # the data row's number in its file; its line is after the header
        con.execute(
            f"UPDATE {relation} SET _row_number = {n}, _line = {n} + {header_line} "
            f"FROM {_first_rowids(relation, '_row_number IS NULL')} f "
            f"WHERE {relation}._f = f._f AND {relation}._row_number IS NULL"
        )
        bad: list[tuple[int, int, int, str, str]] = []  # rows refused by the reader: quarantined
        for path, line, kind, csv_line, message in _rejects(con, name):
            i = index[path]
            if (
                kind in ("INVALID UNICODE", "INVALID ENCODING", "LINE SIZE OVER MAXIMUM")
                and i not in batch.errors
            ):
                landed = files[i]
                if kind == "LINE SIZE OVER MAXIMUM":
                    batch.errors[i] = too_long(spec, landed.file_name, line)
                else:
                    raw = landed.path.read_bytes()
                    try:
                        raw.decode(spec.format.encoding)
                        batch.errors[i] = FileFormatError(
                            f"feed {spec.name!r} file {landed.file_name} line {line}: {message}"
                        )
                    except UnicodeDecodeError as exc:
                        batch.errors[i] = undecodable(spec, landed.file_name, raw, 0, exc)
                continue
            why = (
                f"row has a different number of fields than the header ({message})"
                if "COLUMNS" in kind
                else message
            )
            bad.append((i, line - header_line, line, csv_line, why))
        _renumber_around(con, relation, bad)
        insert_rows(con, relation, ["_f", "_row_number", "_line", "_raw_text", "_error"], bad)
    except duckdb.Error as exc:
        con.execute(f"DELETE FROM {relation} WHERE list_contains(?, _f)", [[i for i, _ in members]])
        if len(members) > 1:  # one unreadable file must not take its batch-mates down: read each alone
            for member in members:
                _read_csv_group(con, spec, table, files, header, header_line, [member], batch)
            return
        for i, _path in members:
            batch.errors.setdefault(
                i,
                FileFormatError(f"feed {spec.name!r} file {files[i].file_name}: not readable as CSV: {exc}"),
            )
    finally:
        _drop(con, f"{name}_e", f"{name}_s")


def _json_drift(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    table: TableSpec,
    files: list[LandedFile],
    batch: Batch,
    keyed: str = "",
) -> None:
    """Unknown keys in any record are drift for that file (absent keys are NULLs), named at the first
    line that has one. ``keyed``: SQL of ``(_f, _line, _keys)`` rows; by default the batch relation's."""
    keyed = keyed or f"SELECT _f, _line, _keys FROM {batch.relation}"
    expected = [c.source_key for c in table.columns]
    rows = con.execute(
        "SELECT _f, min(_line), list_sort(list_distinct(flatten(list(list_filter(_keys, "
        f"lambda k: NOT list_contains(?, k)))))) FROM ({keyed}) WHERE NOT list_has_all(?, _keys) "
        "GROUP BY _f",
        [expected, expected],
    ).fetchall()
    for i, line, added in rows:
        if i not in batch.errors:
            batch.errors[i] = SchemaDriftError(
                feed=spec.name,
                file_name=files[i].file_name,
                table=table.table,
                added=added,
                removed=[],
                line=line,
            )


def read_ndjson(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, table: TableSpec, files: list[LandedFile], target: str
) -> Batch:
    """One JSON object per line, read as lines by DuckDB (raw text and line numbers kept) into cells in one
    statement, in a relation of its own: ``target``'s columns and ``_keys`` (set when a key is unknown)."""
    cells = ", ".join(f"c{i} VARCHAR" for i in range(len(table.columns)))
    batch = Batch(f"{target}_ndjson")
    con.execute(
        f"CREATE TEMP TABLE {batch.relation} (_f INTEGER, _row_number INTEGER, _line INTEGER, "
        f"_raw_text VARCHAR, _error VARCHAR, {cells}, _keys VARCHAR[])"
    )
    ok: dict[str, int] = {}
    for i, landed in enumerate(files):
        try:
            check_size(spec, landed.path, landed.file_name)
            ok[str(landed.path)] = i
        except (IngestError, OSError) as exc:
            batch.errors[i] = exc if isinstance(exc, IngestError) else FileFormatError(str(exc))
    if ok:
        _read_ndjson_group(con, spec, table, files, ok, batch)
        _json_drift(con, spec, table, files, batch)
    if batch.errors:  # a refused file's rows go no further
        con.execute(f"DELETE FROM {batch.relation} WHERE list_contains(?, _f)", [list(batch.errors)])
    return batch


def _ndjson_cells(table: TableSpec, lines: str) -> str:
    """Lines → text cells. A line that starts with ``{`` is parsed once (``try``: NULL when it is not
    valid JSON); only a line that does not is checked with ``json_valid``, to say which it is not. The
    unknown keys (``_keys``) are listed only for a line with more members than values read (a member that
    is null or repeated also counts, so no unknown key is missed)."""
    shape = lit(json.dumps({c.source_key: "VARCHAR" for c in table.columns}))
    expected = "[" + ", ".join(lit(c.source_key) for c in table.columns) + "]::VARCHAR[]"
    cells = ", ".join(f"s[{lit(c.source_key)}] AS c{i}" for i, c in enumerate(table.columns))
    error = (
        "CASE WHEN s IS NULL THEN CASE WHEN NOT json_valid(rec) THEN 'line is not valid JSON' WHEN NOT brace "
        "THEN 'line is not a JSON object' ELSE 'line''s values cannot be read as text' END END"
    )
    # a line can only hold a key the spec lacks if it has more members than values read: counting its
    # members (``len(json_keys)``, repeats included: half the cost of ``json_extract(rec, '$.*')``) is
    # cheaper than testing their names against the spec's, which is done for those lines alone
    read = " + ".join(f"(s[{lit(c.source_key)}] IS NOT NULL)::INTEGER" for c in table.columns)
    keys = (
        f"CASE WHEN s IS NOT NULL AND len(json_keys(rec)) <> {read} AND NOT json_keys(rec) <@ "
        f"{expected} THEN json_keys(rec) END"
    )
    return (
        f"SELECT _f, _line AS _row_number, _line, rec AS _raw_text, {error} AS _error, {cells}, {keys} "
        f"AS _keys FROM (SELECT *, CASE WHEN brace THEN try(from_json(rec, {shape})) END AS s "
        "FROM (SELECT *, ascii(rec) = 123 OR regexp_matches(rec, '^[ \\t\\r\\n]*[{]') AS brace "
        f"FROM ({lines}) WHERE rec <> '' AND (ascii(rec) <> 32 OR trim(rec) <> '')))"
    )


def _read_ndjson_group(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    table: TableSpec,
    files: list[LandedFile],
    ok: dict[str, int],
    batch: Batch,
) -> None:
    name = f"_bw_lines_{uuid.uuid4().hex[:10]}"
    try:
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT {_scan_in_order(con, list(ok.values()))} AS _f, line AS rec "
            "FROM read_csv(?, header = false, auto_detect = false, columns = {'line': 'VARCHAR'}, "
            "delim = '\\0', quote = '', escape = '', strict_mode = false, store_rejects = "
            f"true, rejects_table = '{name}_e', rejects_scan = '{name}_s', max_line_size = "
            f"{max(spec.format.max_line_bytes, 4096)})",
            [list(ok)],
        )
        lines = (
            f"SELECT l._f, l.rowid - f.o0 AS _line, l.rec FROM {name} l JOIN {_first_rowids(name)} f "
            "ON f._f = l._f"
        )
        con.execute(f"INSERT INTO {batch.relation} {_ndjson_cells(table, lines)}")
        for path, line, kind, _csv_line, message in _rejects(con, name):
            i = ok[path]
            if i not in batch.errors:
                batch.errors[i] = (
                    too_long(spec, files[i].file_name, line)
                    if kind == "LINE SIZE OVER MAXIMUM"
                    else FileFormatError(
                        f"feed {spec.name!r} file {files[i].file_name} line {line}: {message}; check "
                        "format.encoding "
                        f"in feeds/{spec.name}.yaml or ask the agency to resend the file"
                    )
                )
    except duckdb.Error as exc:
        con.execute(f"DELETE FROM {batch.relation} WHERE list_contains(?, _f)", [list(ok.values())])
        if len(ok) > 1:  # one unreadable file must not take its batch-mates down: read each alone
            for path, i in ok.items():
                _read_ndjson_group(con, spec, table, files, {path: i}, batch)
            return
        for i in ok.values():
            batch.errors.setdefault(
                i,
                FileFormatError(
                    f"feed {spec.name!r} file {files[i].file_name}: not readable as NDJSON: {exc}"
                ),
            )
    finally:
        _drop(con, name, f"{name}_e", f"{name}_s")
