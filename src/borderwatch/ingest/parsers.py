"""Streaming, memory-bounded readers for each wire format, yielding one ``ParsedRow`` per data row.

Readers never hold a whole file in memory (JSON API pages excepted: they are bounded by
``format.max_file_bytes``), refuse over-long lines before reading them whole, guard XLSX archives against
zip bombs, and compare the file's columns with the spec: drift raises :class:`SchemaDriftError` so the feed
fails closed instead of loading misaligned data.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from borderwatch.ingest.errors import FileFormatError, LineTooLongError, SchemaDriftError, ZipBombError
from borderwatch.specs import FeedSpec, TableSpec

MAX_ZIP_RATIO = 200  # deflate of real spreadsheets stays well below this; zip bombs reach 1000+
ZIP_RATIO_MIN_BYTES = 8 * 1_048_576  # tiny members may compress absurdly well (blank sheets)
ENCODING_CANDIDATES = ("utf-8-sig", "cp874", "utf-8", "cp1252")


class ParsedRow(NamedTuple):
    """One data row: 1-based data row number, its raw text, source values by header/key, and a row error."""

    row_number: int
    raw_text: str
    values: dict[str, Any]
    line: int
    error: str | None = None


def _norm_header(cell: Any) -> str:
    text = "" if cell is None else str(cell)
    return unicodedata.normalize("NFC", text).replace("\u00a0", " ").strip()


def expected_sources(table: TableSpec) -> list[str]:
    return [c.source_key for c in table.columns]


def check_header(spec: FeedSpec, table: TableSpec, file_name: str, header: list[str], line: int) -> None:
    """Raise SchemaDriftError when the header's columns are not exactly the spec's sources."""
    expected = set(expected_sources(table))
    present = [h for h in header if h]
    dupes = sorted({h for h in present if present.count(h) > 1})
    added = set(present) - expected
    removed = expected - set(present)
    if added or removed or dupes:
        raise SchemaDriftError(
            feed=spec.name,
            file_name=file_name,
            table=table.table,
            added=sorted(added),
            removed=sorted(removed),
            line=line,
            detail=f"duplicate headers {dupes}" if dupes else "",
        )


def _no_header(spec: FeedSpec, table: TableSpec, file_name: str, detail: str) -> SchemaDriftError:
    """Drift when no header can be read at all: every column of the spec counts as removed."""
    return SchemaDriftError(
        feed=spec.name,
        file_name=file_name,
        table=table.table,
        added=[],
        removed=expected_sources(table),
        detail=detail,
    )


def _check_size(spec: FeedSpec, path: Path, file_name: str) -> None:
    """Refuse empty files (nothing to check the schema against) and files over ``max_file_bytes``."""
    size = os.stat(path).st_size
    if size == 0:
        raise FileFormatError(
            f"feed {spec.name!r} file {file_name}: the file is empty (0 bytes); ask the agency to resend it"
        )
    if size > spec.format.max_file_bytes:
        raise FileFormatError(
            f"feed {spec.name!r} file {file_name}: {size} bytes exceeds format.max_file_bytes "
            f"({spec.format.max_file_bytes}); refused. Raise the limit in feeds/{spec.name}.yaml if the file "
            "is genuine."
        )


def _line_too_long(spec: FeedSpec, file_name: str, where: str) -> LineTooLongError:
    return LineTooLongError(
        f"feed {spec.name!r} file {file_name} {where}: line is longer than format.max_line_bytes "
        f"({spec.format.max_line_bytes} bytes); refused without reading it. Split the record or raise "
        f"max_line_bytes in feeds/{spec.name}.yaml."
    )


def _bounded_lines(spec: FeedSpec, fh: BinaryIO, file_name: str) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, raw bytes) per physical line; refuses over-long lines unread."""
    limit = spec.format.max_line_bytes
    offset = 0
    number = 0
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit:
            raise _line_too_long(spec, file_name, f"line {number} (byte {offset})")
        yield number, offset, raw
        offset += len(raw)


def check_line_lengths(spec: FeedSpec, path: Path, *, file_name: str) -> None:
    """Refuse a line-based file with an over-long line before it is landed (chunked scan, bounded memory)."""
    limit = spec.format.max_line_bytes

    def refuse(line: int) -> LineTooLongError:
        return _line_too_long(spec, file_name, f"line {line}")

    run = 0  # bytes of the current line seen so far
    line = 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            parts = chunk.split(b"\n")
            if len(parts) == 1:
                run += len(chunk)
                if run > limit:
                    raise refuse(line)
                continue
            if run + len(parts[0]) + 1 > limit:
                raise refuse(line)
            middle = parts[1:-1]
            if middle and max(map(len, middle)) + 1 > limit:
                raise refuse(line + 1 + next(i for i, part in enumerate(middle) if len(part) + 1 > limit))
            line += len(parts) - 1
            run = len(parts[-1])
            if run > limit:
                raise refuse(line)


def _suggest_encoding(raw: bytes, tried: str) -> str:
    for candidate in ENCODING_CANDIDATES:
        if candidate.replace("-sig", "") == tried.replace("-sig", ""):
            continue
        try:
            raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return "unknown"


def _decoded_lines(
    spec: FeedSpec, fh: BinaryIO, file_name: str, consumed: list[str], position: list[int]
) -> Iterator[str]:
    encoding = spec.format.encoding
    for number, offset, raw in _bounded_lines(spec, fh, file_name):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            suggestion = _suggest_encoding(raw, encoding)
            raise FileFormatError(
                f"feed {spec.name!r} file {file_name} line {number} byte {offset + exc.start}: cannot decode "
                f"{raw[exc.start : exc.start + 4]!r} as {encoding} ({exc.reason}). The file looks like "
                f"{suggestion}: set format.encoding in feeds/{spec.name}.yaml or ask the agency to resend "
                f"it in {encoding}."
            ) from None
        position[0] = number
        consumed.append(text)
        yield text


def iter_csv(spec: FeedSpec, table: TableSpec, path: Path, *, file_name: str) -> Iterator[ParsedRow]:
    """Rows of a delimited text file in the spec's encoding; the first record is the header."""
    _check_size(spec, path, file_name)
    consumed: list[str] = []
    position = [0]
    with open(path, "rb") as fh:
        reader = csv.reader(
            _decoded_lines(spec, fh, file_name, consumed, position),
            delimiter=spec.format.delimiter,
            strict=False,
        )
        header: list[str] | None = None
        row_number = 0
        for record in reader:
            raw_text = "".join(consumed).rstrip("\r\n")
            consumed.clear()
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [_norm_header(h).lstrip("\ufeff") for h in record]
                check_header(spec, table, file_name, header, position[0])
                continue
            row_number += 1
            error = None
            if len(record) != len(header):
                error = f"row has {len(record)} fields, the header has {len(header)}"
            values = dict(zip(header, record, strict=False))
            yield ParsedRow(row_number, raw_text, values, position[0], error)
        if header is None:
            raise _no_header(spec, table, file_name, "the file has no header row")


def _json_drift(
    spec: FeedSpec,
    table: TableSpec,
    file_name: str,
    record: dict[str, Any],
    line: int,
    seen: set[frozenset[str]],
) -> None:
    """Raise SchemaDriftError on keys the spec does not know; each distinct key set is checked once."""
    keys = frozenset(record)
    if keys in seen:
        return
    expected = set(expected_sources(table))
    added = keys - expected
    if added:
        raise SchemaDriftError(
            feed=spec.name,
            file_name=file_name,
            table=table.table,
            added=sorted(added),
            removed=sorted(expected - keys),
            line=line,
        )
    seen.add(keys)


def iter_ndjson(spec: FeedSpec, table: TableSpec, path: Path, *, file_name: str) -> Iterator[ParsedRow]:
    """One JSON object per line. Unknown keys are drift; an absent key is a NULL (required → quarantine)."""
    _check_size(spec, path, file_name)
    encoding = spec.format.encoding
    seen_keys: set[frozenset[str]] = set()
    row_number = 0
    with open(path, "rb") as fh:
        for number, _offset, raw in _bounded_lines(spec, fh, file_name):
            if not raw.strip():
                continue
            row_number += 1
            raw_text = raw.decode(encoding, errors="replace").rstrip("\r\n")
            try:
                record = json.loads(raw.decode(encoding))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                yield ParsedRow(row_number, raw_text, {}, number, f"line is not valid JSON: {exc}")
                continue
            if not isinstance(record, dict):
                yield ParsedRow(row_number, raw_text, {}, number, "line is not a JSON object")
                continue
            _json_drift(spec, table, file_name, record, number, seen_keys)
            yield ParsedRow(row_number, raw_text, record, number)


def read_api_page(spec: FeedSpec, path: Path, *, file_name: str) -> tuple[list[Any], dict[str, Any]]:
    """A JSON API page: (records under ``records_key``, the other page-level keys such as next_page)."""
    _check_size(spec, path, file_name)
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode(spec.format.encoding))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(
            f"feed {spec.name!r} file {file_name}: not a valid JSON page ({exc}); the response was probably "
            "truncated: fetch it again"
        ) from None
    key = spec.format.records_key
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise FileFormatError(
            f"feed {spec.name!r} file {file_name}: expected a JSON object with a list under {key!r} "
            f"(format.records_key in feeds/{spec.name}.yaml)"
        )
    records = doc.pop(key)
    return records, doc


def iter_json_api(
    spec: FeedSpec, table: TableSpec, path: Path, *, file_name: str, meta: dict[str, Any] | None = None
) -> Iterator[ParsedRow]:
    """Records of one landed API page; page-level keys (next_page, total) go into ``meta``."""
    records, page_meta = read_api_page(spec, path, file_name=file_name)
    if meta is not None:
        meta.update(page_meta)
    seen_keys: set[frozenset[str]] = set()
    for index, record in enumerate(records, start=1):
        raw_text = json.dumps(record, ensure_ascii=False, sort_keys=True)
        if not isinstance(record, dict):
            yield ParsedRow(index, raw_text, {}, index, "record is not a JSON object")
            continue
        _json_drift(spec, table, file_name, record, index, seen_keys)
        yield ParsedRow(index, raw_text, record, index)


def check_zip(spec: FeedSpec, path: Path, *, file_name: str) -> None:
    """Refuse an XLSX whose declared expansion is too big or absurdly compressed, before opening it.

    Only the central directory is read. Python's zipfile never returns more than a member's declared
    size, so checking the declared sizes bounds what openpyxl can inflate.
    """
    limit = spec.format.max_uncompressed_bytes
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileFormatError(
            f"feed {spec.name!r} file {file_name}: not an XLSX workbook (zip): {exc}. Ask the agency to "
            "resend it as .xlsx"
        ) from None
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise ZipBombError(
            f"feed {spec.name!r} file {file_name}: workbook would expand to {total} bytes, more than "
            f"format.max_uncompressed_bytes ({limit}); refused as a possible zip bomb"
        )
    for info in infos:
        if info.file_size > ZIP_RATIO_MIN_BYTES and info.file_size > MAX_ZIP_RATIO * max(
            info.compress_size, 1
        ):
            raise ZipBombError(
                f"feed {spec.name!r} file {file_name}: member {info.filename!r} compresses "
                f"{info.file_size / max(info.compress_size, 1):.0f}:1 (limit {MAX_ZIP_RATIO}:1); "
                "refused as a possible zip bomb"
            )


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date().isoformat()
    if isinstance(cell, dt.date | dt.datetime):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _cell_value(cell: Any) -> Any:
    """XLSX cells: midnight datetimes are dates; integral floats are ints; text stays text."""
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date()
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def iter_xlsx(spec: FeedSpec, table: TableSpec, path: Path, *, file_name: str) -> Iterator[ParsedRow]:
    """Rows of one sheet: title rows above the header are skipped, the header found by its first cell."""
    import openpyxl

    _check_size(spec, path, file_name)
    check_zip(spec, path, file_name=file_name)
    # A file object, not a path: landed objects have no .xlsx suffix for openpyxl to check.
    handle = open(path, "rb")  # noqa: SIM115 - closed in the finally below, after the generator is done
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        handle.close()
        raise FileFormatError(f"feed {spec.name!r} file {file_name}: cannot open workbook: {exc}") from None
    try:
        sheet_name = table.sheet or workbook.sheetnames[0]
        if sheet_name not in workbook.sheetnames:
            raise _no_header(
                spec, table, file_name, f"sheet {sheet_name!r} is missing; sheets are {workbook.sheetnames}"
            )
        skip = (
            re.compile(table.skip_row_if_first_cell_matches) if table.skip_row_if_first_cell_matches else None
        )
        marker = table.header_row_contains
        header: list[str] | None = None
        row_number = 0
        for line, cells in enumerate(workbook[sheet_name].iter_rows(values_only=True), start=1):
            if cells is None or all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if header is None:
                first = _norm_header(cells[0])
                if marker is None or marker in first:
                    header = [_norm_header(c) for c in cells]
                    while header and not header[-1]:
                        header.pop()
                    check_header(spec, table, file_name, header, line)
                continue
            if skip and skip.search(_cell_text(cells[0])):
                continue
            row_number += 1
            raw_text = "\t".join(_cell_text(c) for c in cells).rstrip("\t")
            extra = [c for c in cells[len(header) :] if c is not None and str(c).strip()]
            values = {h: _cell_value(c) for h, c in zip(header, cells, strict=False) if h}
            error = f"row has {len(extra)} values beyond the header" if extra else None
            yield ParsedRow(row_number, raw_text, values, line, error)
        if header is None:
            raise _no_header(
                spec,
                table,
                file_name,
                f"no header row whose first cell contains {marker!r} in sheet {sheet_name!r}",
            )
    finally:
        workbook.close()
        handle.close()


def iter_rows(
    spec: FeedSpec, table: TableSpec, path: Path, *, file_name: str, meta: dict[str, Any] | None = None
) -> Iterator[ParsedRow]:
    """Dispatch on ``format.type``; every reader yields ParsedRow and raises on file-level problems."""
    kind = spec.format.type
    if kind == "csv":
        return iter_csv(spec, table, path, file_name=file_name)
    if kind == "ndjson":
        return iter_ndjson(spec, table, path, file_name=file_name)
    if kind == "xlsx":
        return iter_xlsx(spec, table, path, file_name=file_name)
    if kind == "json_api":
        return iter_json_api(spec, table, path, file_name=file_name, meta=meta)
    raise FileFormatError(f"feed {spec.name!r}: unsupported format.type {kind!r}")
