"""Vectorised load of plain CSV and NDJSON files: tokenise in C-level string operations, parse in SQL.

A batch of landed files of one feed is read once: each file is decoded in the spec's encoding (which also
validates it), split into lines and cells, and handed to DuckDB as one frame; every parse rule then runs
as SQL (:mod:`borderwatch.ingest.sqlnorm`) into a temp table. Each file still commits in its own
transaction (its rows, its ``raw._files`` row and the cursor advance together) through the loader.

Only *plain* files take this path: no quotes, no blank lines, no stray carriage returns, every row as wide
as the header, NDJSON objects with text/integer values and no unknown keys. Anything else (and every
file-level error: encoding, over-long lines, schema drift, empty files) returns ``None`` from
:func:`prepare`, and the loader uses the Python path, which raises or quarantines exactly as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.parsers import _norm_header, expected_sources
from borderwatch.ingest.sqlnorm import supported
from borderwatch.specs import FeedSpec, TableSpec


@dataclass
class Prepared:
    """One file tokenised: its cells column-wise in spec order, and the raw lines for quarantine reasons."""

    landed: LandedFile
    columns: list[list[Any]]  # one list per spec column (str or None)
    raw_lines: list[str]  # raw text per data row (index = row number - 1)
    line_numbers: list[int]  # physical line per data row
    quarantine: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.raw_lines)


def eligible(spec: FeedSpec) -> bool:
    """Whether a feed can use the vectorised path: one CSV/NDJSON table whose rules all have SQL forms."""
    return (
        spec.format.type in ("csv", "ndjson")
        and len(spec.tables) == 1
        and spec.cursor.kind == "file_name"
        and all(supported(c) for c in spec.tables[0].columns)
    )


def _read_text(spec: FeedSpec, path: Path) -> str | None:
    """The decoded file, or None if the Python path must handle it (size, encoding, long lines)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data or len(data) > spec.format.max_file_bytes:
        return None
    limit = spec.format.max_line_bytes
    if len(data) > limit and max(map(len, data.split(b"\n"))) + 1 > limit:
        return None
    try:
        text = data.decode(spec.format.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if "\x00" in text or ("\r" in text and text.count("\r") != text.count("\r\n")):
        return None
    return text


def _lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _prepare_csv(spec: FeedSpec, table: TableSpec, landed: LandedFile, text: str) -> Prepared | None:
    if '"' in text:
        return None
    lines = _lines(text)
    if not lines:
        return None
    delimiter = spec.format.delimiter
    header = [_norm_header(h).lstrip("\ufeff") for h in lines[0].split(delimiter)]
    present = [h for h in header if h]
    if len(set(present)) != len(present) or set(present) != set(expected_sources(table)):
        return None
    width = len(header)
    records = [line.split(delimiter) for line in lines[1:]]
    if any(len(r) != width for r in records):
        return None
    if any(not line.replace(delimiter, "").strip() for line in lines):  # the csv path skips blank records
        return None
    position = {h: i for i, h in enumerate(header) if h}
    transposed = list(zip(*records, strict=True)) if records else [() for _ in header]
    columns = [list(transposed[position[c.source_key]]) for c in table.columns]
    return Prepared(landed, columns, lines[1:], list(range(2, len(lines) + 1)))


def _prepare_ndjson(spec: FeedSpec, table: TableSpec, landed: LandedFile, text: str) -> Prepared | None:
    lines = _lines(text)
    if not lines or any(not line.strip() for line in lines):
        return None
    try:
        records = [json.loads(line) for line in lines]
    except json.JSONDecodeError:
        return None
    expected = set(expected_sources(table))
    ints = {c.source_key for c in table.columns if c.parse == "int"}
    columns: list[list[Any]] = [[] for _ in table.columns]
    keys = [c.source_key for c in table.columns]
    for record in records:
        if not isinstance(record, dict) or not record.keys() <= expected:
            return None
        for key, out in zip(keys, columns, strict=True):
            value = record.get(key)
            if value is None or isinstance(value, str):
                out.append(value)
            elif key in ints and isinstance(value, int) and not isinstance(value, bool):
                out.append(str(value))
            else:
                return None
    return Prepared(landed, columns, lines, list(range(1, len(lines) + 1)))


def prepare(spec: FeedSpec, table: TableSpec, landed: LandedFile) -> Prepared | None:
    """Tokenise one landed file for the SQL path, or None when only the Python path can load it."""
    text = _read_text(spec, landed.path)
    if text is None:
        return None
    if spec.format.type == "csv":
        return _prepare_csv(spec, table, landed, text)
    return _prepare_ndjson(spec, table, landed, text)
