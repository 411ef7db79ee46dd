"""Load one landed file into ``raw.<table>`` in a single DuckDB transaction.

Rows are parsed with the spec's ``parse`` rules in Python, staged in batches through a pandas frame (no
row-by-row executes), and inserted with an anti-join on ``_row_hash`` so the same row delivered twice is
counted, not stored. Bad rows go to ``raw._quarantine``; if a file's reject rate is above the spec's
threshold the whole transaction is rolled back. The same transaction records ``raw._files`` and advances
``raw._cursors``, so a crash at any point leaves either the whole file loaded or none of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from borderwatch.ingest.errors import IngestError, RejectRateExceeded
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.parsers import ParsedRow, iter_rows
from borderwatch.normalize import PARSERS, NormaliseError, parse_iso_timestamp, parse_text
from borderwatch.specs import ColumnSpec, FeedSpec, TableSpec

BATCH_ROWS = 50_000
TEST_PAUSE_ENV = "BORDERWATCH_TEST_LOAD_PAUSE"  # "<marker file>:<seconds>": pause inside the transaction

SQL_TYPES = {
    "varchar": "VARCHAR",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "json": "JSON",
}
INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
LINEAGE_COLUMNS = [
    ("_feed", "VARCHAR"),
    ("_file_sha256", "VARCHAR"),
    ("_row_number", "INTEGER"),
    ("_row_hash", "VARCHAR"),
    ("_load_id", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
    ("_normalisations", "VARCHAR[]"),
]
CONTROL_DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    """CREATE TABLE IF NOT EXISTS raw._files (feed VARCHAR, file_sha256 VARCHAR, file_name VARCHAR,
        status VARCHAR, load_id VARCHAR, rows_in BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
        rows_duplicate BIGINT, loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS raw._quarantine (feed VARCHAR, table_name VARCHAR, file_sha256 VARCHAR,
        file_name VARCHAR, row_number INTEGER, raw_text VARCHAR, reason VARCHAR, load_id VARCHAR,
        quarantined_at TIMESTAMP)""",
    "CREATE TABLE IF NOT EXISTS raw._cursors (feed VARCHAR, cursor_value VARCHAR, updated_at TIMESTAMP)",
    """CREATE TABLE IF NOT EXISTS raw._loads (load_id VARCHAR, feed VARCHAR, started_at TIMESTAMP,
        finished_at TIMESTAMP, report JSON)""",
]


@dataclass
class TableLoadResult:
    """What one file contributed to one raw table."""

    feed: str
    table: str
    file_name: str
    file_sha256: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    duplicate_file: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileLoadResult:
    """One landed file across all of its feed's tables."""

    feed: str
    file_name: str
    file_sha256: str
    status: str  # 'loaded' | 'duplicate'
    tables: list[TableLoadResult] = field(default_factory=list)
    cursor_value: str | None = None

    @property
    def rows_in(self) -> int:
        return sum(t.rows_in for t in self.tables)

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    @property
    def rows_duplicate(self) -> int:
        return sum(t.rows_duplicate for t in self.tables)


def utc_now() -> dt.datetime:
    """UTC-naive now: every TIMESTAMP we write is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_load_id(feed: str) -> str:
    return f"{utc_now():%Y%m%dT%H%M%S}-{feed}-{uuid.uuid4().hex[:8]}"


def ensure_control_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and its control tables if missing (idempotent)."""
    for ddl in CONTROL_DDL:
        con.execute(ddl)


def table_columns(table: TableSpec) -> list[tuple[str, str]]:
    """(name, SQL type) of a raw table: spec columns, ``<name>_raw`` for keep_raw, lineage columns."""
    cols: list[tuple[str, str]] = []
    for c in table.columns:
        cols.append((c.name, SQL_TYPES[c.type]))
        if c.keep_raw:
            cols.append((f"{c.name}_raw", "VARCHAR"))
    return cols + LINEAGE_COLUMNS


def ensure_table(con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
    """Create ``raw.<table>``; a column added to the spec later is added to the table."""
    ensure_control_tables(con)
    cols = table_columns(table)
    ddl = ", ".join(f'"{name}" {sql}' for name, sql in cols)
    con.execute(f'CREATE TABLE IF NOT EXISTS raw."{table.table}" ({ddl})')
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = ?",
            [table.table],
        ).fetchall()
    }
    for name, sql in cols:
        if name not in existing:
            con.execute(f'ALTER TABLE raw."{table.table}" ADD COLUMN "{name}" {sql}')


# ------------------------------------------------------------------------------------- row building


def _canonical(value: Any) -> str | None:
    """Text form of a typed value that DuckDB casts back exactly; also what the row hash is built from."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class _Col:
    name: str
    source: str
    parse: Callable[[Any], tuple[Any, list[str]]]
    is_text: bool
    required: bool
    keep_raw: bool
    int_range: tuple[int, int] | None

    @classmethod
    def of(cls, c: ColumnSpec) -> _Col:
        return cls(
            name=c.name,
            source=c.source_key,
            parse=PARSERS[c.parse],
            is_text=c.parse == "text",
            required=c.required,
            keep_raw=c.keep_raw,
            int_range=INT_RANGES.get(c.type),
        )


def _raw_text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _canonical(value)


def build_row(cols: list[_Col], values: dict[str, Any]) -> tuple[list[str | None], list[str], list[str]]:
    """Parse one row: (canonical cells incl. keep_raw cells, normalisations, errors)."""
    out: list[str | None] = []
    notes: list[str] = []
    errors: list[str] = []
    for col in cols:
        raw = values.get(col.source)
        if col.is_text:
            value = (
                parse_text(raw) if not isinstance(raw, dict | list) else json.dumps(raw, ensure_ascii=False)
            )
            cell = value
        else:
            try:
                if raw is None or (isinstance(raw, str) and not raw.strip()):
                    value, found = None, []
                else:
                    value, found = col.parse(raw)
            except NormaliseError as exc:
                errors.append(f"{col.name} ({col.source!r}): {exc}")
                value, found = None, []
            if found:
                notes.extend(found)
            if (
                col.int_range is not None
                and value is not None
                and not col.int_range[0] <= value <= col.int_range[1]
            ):
                errors.append(f"{col.name} ({col.source!r}): {value} is out of range for its column type")
            cell = _canonical(value)
        if cell is None and col.required and not errors:
            errors.append(f"{col.name} ({col.source!r}): required but empty")
        out.append(cell)
        if col.keep_raw:
            out.append(_raw_text_of(raw))
    return out, sorted(set(notes)), errors


def _hashed_positions(table: TableSpec) -> list[int]:
    """Positions of the parsed (not ``keep_raw``) cells in a built row: only those are hashed."""
    positions: list[int] = []
    i = 0
    for c in table.columns:
        positions.append(i)
        i += 2 if c.keep_raw else 1
    return positions


def row_hash(cells: Iterable[str | None]) -> str:
    """sha256 of a row's normalised values (lineage excluded), so re-deliveries are recognised."""
    return hashlib.sha256(json.dumps(list(cells), ensure_ascii=False).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------ staging


class _Stager:
    """Batches parsed rows and quarantined rows into temp tables through pandas frames."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
        self.con = con
        self.token = uuid.uuid4().hex[:12]
        self.stage = f"_bw_stage_{self.token}"
        self.qstage = f"_bw_quar_{self.token}"
        self.data_cols = [(n, t) for n, t in table_columns(table) if not n.startswith("_")]
        typed = ", ".join(f'"{n}" {t}' for n, t in self.data_cols)
        con.execute(
            f"CREATE TEMP TABLE {self.stage} ({typed}, _row_number INTEGER, _row_hash VARCHAR, "
            "_normalisations VARCHAR[])"
        )
        con.execute(f"CREATE TEMP TABLE {self.qstage} (row_number INTEGER, raw_text VARCHAR, reason VARCHAR)")
        self.rows: list[list[str | None]] = []
        self.quarantined: list[tuple[int, str, str]] = []
        self.staged = 0
        self.n_quarantined = 0
        self.first_bad: tuple[int, str] | None = None

    def add(self, cells: list[str | None], row_number: int, digest: str, notes: list[str]) -> None:
        self.rows.append([*cells, str(row_number), digest, ",".join(notes)])
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def reject(self, row_number: int, raw_text: str, reason: str) -> None:
        if self.first_bad is None:
            self.first_bad = (row_number, reason)
        self.quarantined.append((row_number, raw_text, reason))
        self.n_quarantined += 1
        if len(self.quarantined) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            names = [n for n, _ in self.data_cols] + ["_row_number", "_row_hash", "_normalisations"]
            frame = pd.DataFrame(self.rows, columns=[f"c{i}" for i in range(len(names))], dtype=object)
            casts = [f'CAST(c{i} AS {t}) AS "{n}"' for i, (n, t) in enumerate(self.data_cols)]
            k = len(self.data_cols)
            casts += [
                f"CAST(c{k} AS INTEGER)",
                f"CAST(c{k + 1} AS VARCHAR)",
                f"CASE WHEN c{k + 2} IS NULL OR c{k + 2} = '' THEN []::VARCHAR[] "
                f"ELSE string_split(c{k + 2}, ',') END",
            ]
            self.con.register(f"{self.stage}_df", frame)
            try:
                self.con.execute(f"INSERT INTO {self.stage} SELECT {', '.join(casts)} FROM {self.stage}_df")
            finally:
                self.con.unregister(f"{self.stage}_df")
            self.staged += len(self.rows)
            self.rows = []
        if self.quarantined:
            frame = pd.DataFrame(self.quarantined, columns=["row_number", "raw_text", "reason"], dtype=object)
            self.con.register(f"{self.qstage}_df", frame)
            try:
                self.con.execute(
                    f"INSERT INTO {self.qstage} SELECT CAST(row_number AS INTEGER), "
                    "CAST(raw_text AS VARCHAR), "
                    f"CAST(reason AS VARCHAR) FROM {self.qstage}_df"
                )
            finally:
                self.con.unregister(f"{self.qstage}_df")
            self.quarantined = []

    def drop(self) -> None:
        for name in (self.stage, self.qstage):
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")


def _pause_for_tests() -> None:
    """Crash-safety tests SIGKILL the loader here, inside the open transaction."""
    spec = os.environ.get(TEST_PAUSE_ENV)
    if not spec:
        return
    marker, _, seconds = spec.rpartition(":")
    Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(seconds or "30"))


# --------------------------------------------------------------------------------------------- load


def _load_table(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    table: TableSpec,
    landed: LandedFile,
    load_id: str,
    loaded_at: dt.datetime,
    meta: dict[str, Any],
    cursor_values: list[str],
) -> TableLoadResult:
    started = time.perf_counter()
    ensure_table(con, table)
    result = TableLoadResult(spec.name, table.table, landed.file_name, landed.sha256)
    cols = [_Col.of(c) for c in table.columns]
    cursor_field = spec.cursor.field if spec.cursor.kind == "updated_since" else None
    stager = _Stager(con, table)
    hash_idx = _hashed_positions(table)
    try:
        rows: Iterable[ParsedRow] = iter_rows(spec, table, landed.path, file_name=landed.file_name, meta=meta)
        for parsed in rows:
            result.rows_in += 1
            if cursor_field and isinstance(parsed.values.get(cursor_field), str):
                cursor_values.append(parsed.values[cursor_field])
            if parsed.error:
                stager.reject(parsed.row_number, parsed.raw_text, f"line {parsed.line}: {parsed.error}")
                continue
            cells, notes, errors = build_row(cols, parsed.values)
            if errors:
                stager.reject(parsed.row_number, parsed.raw_text, f"line {parsed.line}: " + "; ".join(errors))
                continue
            stager.add(cells, parsed.row_number, row_hash([cells[i] for i in hash_idx]), notes)
        stager.flush()
        result.rows_quarantined = stager.n_quarantined
        if (
            result.rows_in
            and stager.first_bad is not None
            and result.rows_quarantined / result.rows_in > spec.reject_rate_threshold
        ):
            raise RejectRateExceeded(
                feed=spec.name,
                file_name=landed.file_name,
                table=table.table,
                rows_in=result.rows_in,
                rows_rejected=result.rows_quarantined,
                threshold=spec.reject_rate_threshold,
                first_bad_row=stager.first_bad[0],
                first_reason=stager.first_bad[1],
            )
        names = [n for n, _ in stager.data_cols] + ["_row_number", "_row_hash", "_normalisations"]
        select = ", ".join(f's."{n}"' for n in names)
        inserted = con.execute(
            f'INSERT INTO raw."{table.table}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}, '
            '"_feed", "_file_sha256", "_load_id", "_loaded_at") '
            f"SELECT {select}, ?, ?, ?, ? FROM {stager.stage} s "
            f'WHERE NOT EXISTS (SELECT 1 FROM raw."{table.table}" x WHERE x._row_hash = s._row_hash) '
            "QUALIFY row_number() OVER (PARTITION BY s._row_hash ORDER BY s._row_number) = 1",
            [spec.name, landed.sha256, load_id, loaded_at],
        ).fetchone()
        result.rows_loaded = int(inserted[0]) if inserted else 0
        result.rows_duplicate = stager.staged - result.rows_loaded
        con.execute(
            "INSERT INTO raw._quarantine SELECT ?, ?, ?, ?, row_number, raw_text, reason, ?, ? "
            f"FROM {stager.qstage} ORDER BY row_number",
            [spec.name, table.table, landed.sha256, landed.file_name, load_id, loaded_at],
        )
    finally:
        stager.drop()
    result.seconds = time.perf_counter() - started
    return result


def cursor_key(spec: FeedSpec, landed: LandedFile) -> str:
    """Cursor row name: the feed, or ``<feed>:deletions`` for the tombstone stream of an API feed."""
    if spec.source.kind == "http_api" and landed.file_name.startswith("deletions"):
        return f"{spec.name}:deletions"
    return spec.name


def get_cursor(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    ensure_control_tables(con)
    row = con.execute("SELECT cursor_value FROM raw._cursors WHERE feed = ?", [key]).fetchone()
    return row[0] if row else None


def _set_cursor(con: duckdb.DuckDBPyConnection, key: str, value: str, now: dt.datetime) -> None:
    con.execute("DELETE FROM raw._cursors WHERE feed = ?", [key])
    con.execute("INSERT INTO raw._cursors VALUES (?, ?, ?)", [key, value, now])


def _ts(value: str) -> dt.datetime | None:
    try:
        return parse_iso_timestamp(value)
    except NormaliseError:
        return None


def _page_cursor(values: list[str], meta: dict[str, Any]) -> str | None:
    """Highest ``updated_at`` that is complete after this page.

    Records are ordered by (updated_at, id) and the server's ``updated_since`` is exclusive, so when more
    pages follow, the last timestamp of this page may continue on the next one: we stop just below it.
    """
    stamped = [(ts, v) for v in values if (ts := _ts(v)) is not None]
    if not stamped:
        return None
    top = max(stamped)[0]
    if meta.get("next_page") in (None, 0, ""):
        return max(stamped)[1]
    below = [pair for pair in stamped if pair[0] < top]
    return max(below)[1] if below else None


def _advance_cursor(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    landed: LandedFile,
    meta: dict[str, Any],
    cursor_values: list[str],
    now: dt.datetime,
) -> str | None:
    if landed.from_inbox:
        return None
    key = cursor_key(spec, landed)
    current = get_cursor(con, key)
    if spec.cursor.kind == "file_name":
        if current is None or landed.file_name > current:
            _set_cursor(con, key, landed.file_name, now)
            return landed.file_name
        return current
    candidate = _page_cursor(cursor_values, meta)
    if candidate is None:
        return current
    current_ts = _ts(current) if current else None
    candidate_ts = _ts(candidate)
    if current_ts is None or (candidate_ts is not None and candidate_ts > current_ts):
        _set_cursor(con, key, candidate, now)
        return candidate
    return current


def already_loaded(con: duckdb.DuckDBPyConnection, feed: str, sha: str) -> bool:
    ensure_control_tables(con)
    row = con.execute(
        "SELECT 1 FROM raw._files WHERE feed = ? AND file_sha256 = ? AND status = 'loaded' LIMIT 1",
        [feed, sha],
    ).fetchone()
    return row is not None


def load_landed_file(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    landed: LandedFile,
    load_id: str,
    *,
    tables: list[TableSpec] | None = None,
) -> FileLoadResult:
    """Load every table of one landed file in one transaction (or skip it if its sha is already loaded).

    Raises SchemaDriftError, RejectRateExceeded or FileFormatError with the transaction rolled back.
    """
    ensure_control_tables(con)
    now = utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        meta: dict[str, Any] = {}
        cursor_values: list[str] = []
        if already_loaded(con, spec.name, landed.sha256):
            result = FileLoadResult(spec.name, landed.file_name, landed.sha256, "duplicate")
            result.tables = [
                TableLoadResult(spec.name, t.table, landed.file_name, landed.sha256, duplicate_file=True)
                for t in tables or spec.tables
            ]
        else:
            result = FileLoadResult(spec.name, landed.file_name, landed.sha256, "loaded")
            for table in tables or spec.tables:
                result.tables.append(_load_table(con, spec, table, landed, load_id, now, meta, cursor_values))
        con.execute(
            "INSERT INTO raw._files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                spec.name,
                landed.sha256,
                landed.file_name,
                result.status,
                load_id,
                result.rows_in,
                result.rows_loaded,
                result.rows_quarantined,
                result.rows_duplicate,
                now,
            ],
        )
        if result.status == "loaded" or spec.cursor.kind == "file_name":
            result.cursor_value = _advance_cursor(con, spec, landed, meta, cursor_values, now)
        _pause_for_tests()
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return result


def load_file(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    table_spec: TableSpec,
    landed_file: LandedFile,
    load_id: str,
) -> TableLoadResult:
    """Load one table of a landed file in its own transaction (single-table feeds).

    Multi-table feeds (one XLSX, several sheets) must use ``load_landed_file`` so the file is recorded
    in ``raw._files`` once, after all of its tables.
    """
    if len(spec.tables) > 1:
        raise IngestError(
            f"feed {spec.name!r} fills {len(spec.tables)} tables from one file; use load_landed_file so the "
            "file is loaded (and deduplicated) as a whole"
        )
    return load_landed_file(con, spec, landed_file, load_id, tables=[table_spec]).tables[0]


def record_load(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    feed: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    report: dict[str, Any],
) -> None:
    """Store a load report in ``raw._loads`` (its own small transaction)."""
    ensure_control_tables(con)
    con.execute(
        "INSERT INTO raw._loads VALUES (?, ?, ?, ?, ?)",
        [load_id, feed, started_at, finished_at, json.dumps(report, ensure_ascii=False, default=str)],
    )
