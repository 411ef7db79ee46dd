"""File-level checks before a batch is read: size, over-long lines, encoding, header against the spec.

Each raises an ``IngestError`` whose message names the feed, the file, the line where known and the fix;
the readers catch it per file, so one bad file never stops the others.
"""

from __future__ import annotations

import csv
import io
import os
import unicodedata
from pathlib import Path
from typing import Any

from borderwatch.ingest.errors import FileFormatError, LineTooLongError, SchemaDriftError
from borderwatch.ingest.landing import LandedFile
from borderwatch.specs import FeedSpec, TableSpec

ENCODING_CANDIDATES = ("utf-8-sig", "cp874", "utf-8", "cp1252")
SCAN_LINES_ABOVE = 16 << 20  # bytes: smaller files cannot hide a line from DuckDB's line-size check


def norm_header(cell: Any) -> str:
    """Header cell as compared with the spec: NFC, NBSP as space, no BOM, trimmed."""
    text = "" if cell is None else str(cell)
    return unicodedata.normalize("NFC", text).replace("\u00a0", " ").strip().lstrip("\ufeff")


def check_header(spec: FeedSpec, table: TableSpec, file_name: str, header: list[str], line: int) -> None:
    """Raise SchemaDriftError when the header's columns are not the spec's sources.

    Optional trailing columns may be absent (specs grow by appending optional columns such as
    ``minors`` or ``note``; files sent before still load, with those columns NULL).
    """
    present = [h for h in header if h]
    absent_tail: set[str] = set()
    for index in range(len(table.columns) - 1, len(present) - 1, -1):
        c = table.columns[index]
        if c.required or c.source_key in present:
            break
        absent_tail.add(c.source_key)
    expected = {c.source_key for c in table.columns}
    dupes = sorted({h for h in present if present.count(h) > 1})
    added, removed = set(present) - expected, expected - set(present) - absent_tail
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


def first_long_line(path: Path, limit: int) -> int | None:
    """The first line longer than ``limit`` bytes (chunked, vectorised scan), or None.

    DuckDB refuses lines over ``max_line_size`` itself, but a line longer than its read buffer
    (tens of MiB) silently disappears, so files that large are scanned first.
    """
    import numpy as np

    carry, line = 0, 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            newlines = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
            if newlines.size == 0:
                carry += len(chunk)
                if carry > limit:
                    return line
                continue
            if carry + int(newlines[0]) > limit:
                return line
            over = np.flatnonzero(np.diff(newlines) - 1 > limit)
            if over.size:
                return line + 1 + int(over[0])
            line += newlines.size
            carry = len(chunk) - int(newlines[-1]) - 1
    return line if carry > limit else None


def check_size(spec: FeedSpec, path: Path, file_name: str) -> None:
    """Refuse empty files (nothing to check the schema against) and files over ``max_file_bytes``."""
    size = os.stat(path).st_size
    if size == 0:
        raise FileFormatError(
            f"feed {spec.name!r} file {file_name}: the file is empty (0 bytes); ask the agency to resend it"
        )
    if size > spec.format.max_file_bytes:
        raise FileFormatError(
            f"feed {spec.name!r} file {file_name}: {size} bytes exceeds format.max_file_bytes "
            f"({spec.format.max_file_bytes}); refused. Raise the limit in feeds/{spec.name}.yaml if genuine."
        )
    if spec.format.type in ("csv", "ndjson") and size > SCAN_LINES_ABOVE:
        line = first_long_line(path, spec.format.max_line_bytes)
        if line is not None:
            raise too_long(spec, file_name, line)


def too_long(spec: FeedSpec, file_name: str, line: int | str) -> LineTooLongError:
    return LineTooLongError(
        f"feed {spec.name!r} file {file_name} line {line}: line is longer than format.max_line_bytes "
        f"({spec.format.max_line_bytes} bytes); refused without reading it. Split the record or raise "
        f"max_line_bytes in feeds/{spec.name}.yaml."
    )


def undecodable(
    spec: FeedSpec, file_name: str, raw: bytes, offset: int, exc: UnicodeDecodeError
) -> FileFormatError:
    at = offset + exc.start
    line = raw.count(b"\n", 0, at) + 1
    text = raw[raw.rfind(b"\n", 0, at) + 1 : (raw.find(b"\n", at) + 1 or len(raw) + 1) - 1]
    suggestion = "unknown"
    for candidate in ENCODING_CANDIDATES:
        if candidate.replace("-sig", "") != spec.format.encoding.replace("-sig", ""):
            try:
                text.decode(candidate)
            except UnicodeDecodeError:
                continue
            suggestion = candidate
            break
    bad = raw[at : at + 4]
    return FileFormatError(
        f"feed {spec.name!r} file {file_name} line {line} byte {at}: cannot decode {bad!r} as "
        f"{spec.format.encoding} ({exc.reason}). The file looks like {suggestion}: set format.encoding in "
        f"feeds/{spec.name}.yaml or ask the agency to resend it in {spec.format.encoding}."
    )


def csv_header(spec: FeedSpec, table: TableSpec, landed: LandedFile, path: Path) -> tuple[list[str], int]:
    """The header record of a CSV (first non-blank line), checked against the spec."""
    limit = spec.format.max_line_bytes
    encoding = "utf-8" if path != landed.path else spec.format.encoding
    with open(path, "rb") as fh:
        for number in range(1, 1000):
            raw = fh.readline(limit + 1)
            if len(raw) > limit:
                raise too_long(spec, landed.file_name, number)
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise undecodable(spec, landed.file_name, raw, 0, exc) from None
            try:
                record = next(csv.reader(io.StringIO(text), delimiter=spec.format.delimiter), [])
            except csv.Error as exc:
                raise FileFormatError(
                    f"feed {spec.name!r} file {landed.file_name} line {number}: the header is not a CSV "
                    f"record ({exc}); ask the agency to resend the file"
                ) from None
            if any(cell.strip().lstrip("\ufeff") for cell in record):
                header = [norm_header(h) for h in record]
                check_header(spec, table, landed.file_name, header, number)
                return header, number
            if not raw:
                break
    raise no_header(spec, table, landed.file_name, "the file has no header row")


def no_header(spec: FeedSpec, table: TableSpec, file_name: str, detail: str) -> SchemaDriftError:
    """Drift with every spec column missing: the file (or sheet) has no header the spec's could match."""
    removed = [c.source_key for c in table.columns]
    return SchemaDriftError(
        feed=spec.name, file_name=file_name, table=table.table, added=[], removed=removed, detail=detail
    )
