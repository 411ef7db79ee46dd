"""XLSX reader: one sheet per raw table → the text relation the normaliser reads.

The archive is checked for zip bombs before openpyxl opens it (only the central directory is read).
Title rows above the header are skipped (the header is found by its first cell), rows whose first cell
matches ``skip_row_if_first_cell_matches`` are not data, and a formula cell is a row error: workbooks
written by scripts carry no cached value, so reading it would silently give NULL.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import duckdb

from borderwatch.duck import insert_rows
from borderwatch.ingest.errors import FileFormatError, IngestError, ZipBombError
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.preflight import check_header, check_size, no_header, norm_header
from borderwatch.ingest.readers import Batch
from borderwatch.specs import FeedSpec, TableSpec

MAX_ZIP_RATIO = 200  # deflate of real spreadsheets stays well below this; zip bombs reach 1000+
ZIP_RATIO_MIN_BYTES = 8 * 1_048_576  # tiny members may compress absurdly well (blank sheets)


def check_zip(spec: FeedSpec, path: Path, *, file_name: str) -> None:
    """Refuse an XLSX whose declared expansion is too big or absurdly compressed, before opening it."""
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
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ZIP_RATIO_MIN_BYTES and ratio > MAX_ZIP_RATIO:
            raise ZipBombError(
                f"feed {spec.name!r} file {file_name}: member {info.filename!r} compresses {ratio:.0f}:1 "
                f"(limit {MAX_ZIP_RATIO}:1); refused as a possible zip bomb"
            )


def _text(value: Any) -> str | None:
    """Cell text: midnight datetimes are dates, integral floats integers, booleans true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_rows(spec: FeedSpec, table: TableSpec, landed: LandedFile) -> list[list[Any]]:
    """Data rows of one sheet as [row_number, line, raw_text, error, c0..cN]."""
    import openpyxl

    check_size(spec, landed.path, landed.file_name)
    check_zip(spec, landed.path, file_name=landed.file_name)
    with open(landed.path, "rb") as handle:  # a file object: landed objects have no .xlsx suffix
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many types for broken workbooks
            raise FileFormatError(
                f"feed {spec.name!r} file {landed.file_name}: cannot open workbook: {exc}"
            ) from None
        try:
            return _rows(spec, table, landed, book)
        finally:
            book.close()


def _rows(spec: FeedSpec, table: TableSpec, landed: LandedFile, book: Any) -> list[list[Any]]:
    sheet = table.sheet or book.sheetnames[0]
    if sheet not in book.sheetnames:
        raise no_header(
            spec, table, landed.file_name, f"sheet {sheet!r} is missing; sheets are {book.sheetnames}"
        )
    skip = re.compile(table.skip_row_if_first_cell_matches) if table.skip_row_if_first_cell_matches else None
    header: list[str] | None = None
    out: list[list[Any]] = []
    for line, cells in enumerate(book[sheet].iter_rows(), start=1):
        values = [c.value for c in cells]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if header is None:
            if table.header_row_contains is None or table.header_row_contains in norm_header(values[0]):
                header = [norm_header(v) for v in values]
                while header and not header[-1]:
                    header.pop()
                check_header(spec, table, landed.file_name, header, line)
                position = {h: j for j, h in enumerate(header) if h}
            continue
        if skip and skip.search(_text(values[0]) or ""):
            continue
        texts = [_text(v) for v in values]
        formulas = [
            header[j] for j, c in enumerate(cells[: len(header)]) if getattr(c, "data_type", None) == "f"
        ]
        extra = [t for t in texts[len(header) :] if t and t.strip()]
        error = None
        if formulas:
            error = (
                f"cells {formulas} hold formulas, not values (the workbook stores no computed value): ask "
                "the agency to save the sheet with values (Paste Special → Values)"
            )
        elif extra:
            error = f"row has {len(extra)} values beyond the header"
        row = [len(out) + 1, line, "\t".join(t or "" for t in texts).rstrip("\t"), error]
        cells_of = (position.get(c.source_key) for c in table.columns)
        out.append(row + [texts[j] if j is not None and j < len(texts) else None for j in cells_of])
    if header is None:
        detail = f"no header row whose first cell contains {table.header_row_contains!r} in sheet {sheet!r}"
        raise no_header(spec, table, landed.file_name, detail)
    return out


def read_xlsx(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, table: TableSpec, files: list[LandedFile], target: str
) -> Batch:
    """Workbooks into ``target`` through a pandas frame (one insert for the batch)."""
    batch = Batch(target)
    rows: list[list[Any]] = []
    for i, landed in enumerate(files):
        try:
            rows += [[i, *r] for r in _sheet_rows(spec, table, landed)]
        except (IngestError, OSError) as exc:
            batch.errors[i] = exc if isinstance(exc, IngestError) else FileFormatError(str(exc))
    if rows:
        names = ["_f", "_row_number", "_line", "_raw_text", "_error"] + [
            f"c{j}" for j in range(len(table.columns))
        ]
        insert_rows(con, target, names, rows)
    return batch
