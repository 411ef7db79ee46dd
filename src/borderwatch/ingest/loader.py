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
import gc
import json
import os
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from borderwatch.ingest import fastpath, sqlnorm
from borderwatch.ingest.errors import IngestError, RejectRateExceeded
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.parsers import ParsedRow, iter_rows
from borderwatch.normalize import PARSERS, NormaliseError, parse_iso_timestamp, parse_text
from borderwatch.specs import ColumnSpec, FeedSpec, TableSpec

BATCH_ROWS = 50_000
TEST_PAUSE_ENV = "BORDERWATCH_TEST_LOAD_PAUSE"  # crash tests: pause inside the transaction

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


# DDL already run on a connection: a load runs CREATE/ALTER once per table per connection, not per file.
_READY: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, set[Any]] = weakref.WeakKeyDictionary()


def _ready(con: duckdb.DuckDBPyConnection) -> set[Any]:
    """The DDL keys already applied on this connection (forgotten with the connection)."""
    ready = _READY.get(con)
    if ready is None:
        ready = _READY[con] = set()
    return ready


def ensure_control_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and its control tables if missing (idempotent; once per connection)."""
    ready = _ready(con)
    if "control" in ready:
        return
    for ddl in CONTROL_DDL:
        con.execute(ddl)
    ready.add("control")


def table_columns(table: TableSpec) -> list[tuple[str, str]]:
    """(name, SQL type) of a raw table: spec columns, ``<name>_raw`` for keep_raw, lineage columns."""
    cols: list[tuple[str, str]] = []
    for c in table.columns:
        cols.append((c.name, SQL_TYPES[c.type]))
        if c.keep_raw:
            cols.append((f"{c.name}_raw", "VARCHAR"))
    return cols + LINEAGE_COLUMNS


def ensure_table(con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
    """Create ``raw.<table>``; a column added to the spec later is added to the table.

    Runs once per table layout per connection (cached), so a run of many files pays the DDL once.
    """
    ensure_control_tables(con)
    cols = table_columns(table)
    key = ("table", table.table, tuple(cols))
    ready = _ready(con)
    if key in ready:
        return
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
    ready.add(key)


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


_CACHE_LIMIT = 65_536
Converted = tuple[str | None, tuple[str, ...], str | None]  # (canonical cell, normalisations, error)


class _Memo(dict[str, Converted]):
    """Per-file memo of text cell → conversion; dates, checkpoints, nationalities repeat on every row."""

    def __init__(self, convert: Callable[[Any], Converted]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, key: str) -> Converted:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        value = self[key] = self.convert(key)
        return value


class _Col:
    """One spec column compiled for the hot loop: raw cell → (canonical text, normalisations, error)."""

    __slots__ = ("int_range", "is_text", "keep_raw", "label", "memo", "name", "parse", "required", "source")

    def __init__(self, c: ColumnSpec) -> None:
        self.name = c.name
        self.source = c.source_key
        self.label = f"{c.name} ({c.source_key!r})"
        self.parse = PARSERS[c.parse]
        self.is_text = c.parse == "text"
        self.required = c.required
        self.keep_raw = c.keep_raw
        self.int_range = INT_RANGES.get(c.type)
        self.memo = _Memo(self.convert)

    def convert(self, raw: Any) -> Converted:
        """Parse one cell into its canonical text, or say why it cannot be parsed."""
        notes: tuple[str, ...] = ()
        if self.is_text:
            cell = (
                parse_text(raw) if not isinstance(raw, dict | list) else json.dumps(raw, ensure_ascii=False)
            )
        else:
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                value = None
            else:
                try:
                    value, found = self.parse(raw)
                except NormaliseError as exc:
                    return None, (), f"{self.label}: {exc}"
                notes = tuple(found)
            if self.int_range is not None and value is not None:
                low, high = self.int_range
                if not low <= value <= high:
                    return None, (), f"{self.label}: {value} is out of range for its column type"
            cell = _canonical(value)
        if cell is None and self.required:
            return None, (), f"{self.label}: required but empty"
        return cell, notes, None

    def convert_all(self, values: list[Any]) -> list[Converted]:
        """Convert one column of a batch; text cells go through the memo (one dict lookup each)."""
        memo, convert = self.memo, self.convert
        return [memo[v] if v.__class__ is str else convert(v) for v in values]


def _raw_text_of(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _canonical(value)


@dataclass
class _Batch:
    """Parsed, converted rows of a batch, column-wise, ready to stage."""

    columns: list[list[str | None]]  # one list per staged data column (keep_raw columns included)
    row_numbers: list[int]
    normalisations: list[str]
    rejected: list[tuple[int, str, str]]  # (row number, raw text, reason)


def convert_batch(cols: list[_Col], rows: list[ParsedRow]) -> _Batch:
    """Column-wise conversion of a batch: per-cell work is a memo lookup, not a function call chain."""
    dicts = [r.values for r in rows]
    columns: list[list[str | None]] = []
    notes_columns: list[list[tuple[str, ...]]] = []
    errors: dict[int, list[str]] = {}
    for col in cols:
        source = col.source
        values = [d.get(source) for d in dicts]
        converted = col.convert_all(values)
        columns.append([c[0] for c in converted])
        if col.keep_raw:
            columns.append([v if v is None or v.__class__ is str else _raw_text_of(v) for v in values])
        found = [c[1] for c in converted]
        if any(found):
            notes_columns.append(found)
        problems = [c[2] for c in converted]
        if any(problems):
            for i, problem in enumerate(problems):
                if problem:
                    errors.setdefault(i, []).append(problem)
    normalisations = [""] * len(rows)
    if notes_columns:
        for i, parts in enumerate(zip(*notes_columns, strict=True)):
            if any(parts):
                normalisations[i] = ",".join(sorted({n for part in parts for n in part}))
    row_numbers = [r.row_number for r in rows]
    rejected: list[tuple[int, str, str]] = []
    if errors:
        rejected = [
            (rows[i].row_number, rows[i].raw_text, f"line {rows[i].line}: " + "; ".join(errs))
            for i, errs in sorted(errors.items())
        ]
        keep = [i for i in range(len(rows)) if i not in errors]
        columns = [[column[i] for i in keep] for column in columns]
        row_numbers = [row_numbers[i] for i in keep]
        normalisations = [normalisations[i] for i in keep]
    return _Batch(columns, row_numbers, normalisations, rejected)


def hashed_columns(table: TableSpec) -> list[str]:
    """Columns the row hash covers: the parsed values (not ``<name>_raw``, not lineage)."""
    return [c.name for c in table.columns]


# ------------------------------------------------------------------------------------------ staging


class _Stager:
    """Stages converted batches and quarantined rows in temp tables through pandas frames.

    ``_row_hash`` is computed here by DuckDB: sha256 of the JSON array of the canonical text of the
    spec's columns, in spec order (``sha256(to_json([c1, c2, ...]))``), so equal rows hash equally
    whatever file, format or digit script they came in.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
        self.con = con
        self.token = uuid.uuid4().hex[:12]
        self.stage = f"_bw_stage_{self.token}"
        self.qstage = f"_bw_quar_{self.token}"
        self.data_cols = [(n, t) for n, t in table_columns(table) if not n.startswith("_")]
        self.hashed = hashed_columns(table)
        typed = ", ".join(f'"{n}" {t}' for n, t in self.data_cols)
        con.execute(
            f"CREATE TEMP TABLE {self.stage} ({typed}, _row_number INTEGER, _row_hash VARCHAR, "
            "_normalisations VARCHAR[])"
        )
        con.execute(f"CREATE TEMP TABLE {self.qstage} (row_number INTEGER, raw_text VARCHAR, reason VARCHAR)")
        self.staged = 0
        self.n_quarantined = 0
        self.first_bad: tuple[int, str] | None = None

    def add(self, batch: _Batch) -> None:
        self.reject_many(batch.rejected)
        if not batch.row_numbers:
            return
        index = {name: i for i, (name, _t) in enumerate(self.data_cols)}
        frame = pd.DataFrame(
            {f"c{i}": column for i, column in enumerate(batch.columns)}
            | {"rn": batch.row_numbers, "nz": batch.normalisations},
            dtype=object,
        )
        casts = [f'CAST(c{i} AS {t}) AS "{n}"' for i, (n, t) in enumerate(self.data_cols)]
        hashed = ", ".join(f"CAST(c{index[name]} AS VARCHAR)" for name in self.hashed)
        casts += [
            "CAST(rn AS INTEGER)",
            f"sha256(to_json([{hashed}]))",
            "CASE WHEN nz IS NULL OR nz = '' THEN []::VARCHAR[] ELSE string_split(nz, ',') END",
        ]
        self.con.register(f"{self.stage}_df", frame)
        try:
            self.con.execute(f"INSERT INTO {self.stage} SELECT {', '.join(casts)} FROM {self.stage}_df")
        finally:
            self.con.unregister(f"{self.stage}_df")
        self.staged += len(batch.row_numbers)

    def reject(self, row_number: int, raw_text: str, reason: str) -> None:
        self.reject_many([(row_number, raw_text, reason)])

    def reject_many(self, rejected: list[tuple[int, str, str]]) -> None:
        if not rejected:
            return
        first = min(rejected)
        if self.first_bad is None or first[0] < self.first_bad[0]:
            self.first_bad = (first[0], first[2])
        self.n_quarantined += len(rejected)
        frame = pd.DataFrame(rejected, columns=["row_number", "raw_text", "reason"], dtype=object)
        self.con.register(f"{self.qstage}_df", frame)
        try:
            self.con.execute(
                f"INSERT INTO {self.qstage} SELECT CAST(row_number AS INTEGER), "
                "CAST(raw_text AS VARCHAR), "
                f"CAST(reason AS VARCHAR) FROM {self.qstage}_df"
            )
        finally:
            self.con.unregister(f"{self.qstage}_df")

    def drop(self) -> None:
        for name in (self.stage, self.qstage):
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while parsing: the batch of row lists it keeps scanning halves throughput.

    Rows hold no reference cycles, so nothing is leaked; the GC is restored even on errors.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _pause_for_tests(file_name: str) -> None:
    """Crash-safety tests SIGKILL the loader here, inside the open transaction.

    ``BORDERWATCH_TEST_LOAD_PAUSE`` is JSON: ``{"marker": path, "seconds": 30, "file_name": optional}``;
    the marker file is written when the pause starts so the test knows when to kill.
    """
    raw = os.environ.get(TEST_PAUSE_ENV)
    if not raw:
        return
    hook = json.loads(raw)
    if hook.get("file_name") not in (None, file_name):
        return
    Path(hook["marker"]).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(hook.get("seconds", 30)))


def _stage_rows(
    rows: Iterable[ParsedRow],
    cols: list[_Col],
    stager: _Stager,
    result: TableLoadResult,
    cursor_field: str | None,
    cursor_values: list[str],
) -> None:
    """The hot loop: batch rows, quarantine unreadable ones, convert and stage each batch column-wise."""
    batch: list[ParsedRow] = []
    for parsed in rows:
        result.rows_in += 1
        if cursor_field and isinstance(parsed.values.get(cursor_field), str):
            cursor_values.append(parsed.values[cursor_field])
        if parsed.error:
            stager.reject(parsed.row_number, parsed.raw_text, f"line {parsed.line}: {parsed.error}")
            continue
        batch.append(parsed)
        if len(batch) >= BATCH_ROWS:
            stager.add(convert_batch(cols, batch))
            batch = []
    if batch:
        stager.add(convert_batch(cols, batch))


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
    result = TableLoadResult(spec.name, table.table, landed.file_name, landed.sha256)
    cols = [_Col(c) for c in table.columns]
    cursor_field = spec.cursor.field if spec.cursor.kind == "updated_since" else None
    stager = _Stager(con, table)
    try:
        rows: Iterable[ParsedRow] = iter_rows(spec, table, landed.path, file_name=landed.file_name, meta=meta)
        with _gc_paused():
            _stage_rows(rows, cols, stager, result, cursor_field, cursor_values)
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


def _latest(values: list[str | None]) -> str | None:
    """The latest ISO timestamp among values (compared in UTC; the source's own text is kept)."""
    stamped = [(ts, v) for v in values if v and (ts := _ts(v)) is not None]
    return max(stamped)[1] if stamped else None


def _advance_cursor(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    landed: LandedFile,
    meta: dict[str, Any],
    cursor_values: list[str],
    now: dt.datetime,
) -> str | None:
    """Move the feed's cursor inside the file's transaction.

    File feeds: the greatest file name loaded. API feeds: pages may come in any order (newest first
    when the server pages out of order), so a page only raises ``<key>~pending``; the last page of a
    stream (``next_page`` null) commits the greatest ``updated_at`` seen as the cursor. A run that dies
    midway therefore never skips records of the pages it did not load.
    """
    if landed.from_inbox:
        return None
    key = cursor_key(spec, landed)
    current = get_cursor(con, key)
    if spec.cursor.kind == "file_name":
        if current is None or landed.file_name > current:
            _set_cursor(con, key, landed.file_name, now)
            return landed.file_name
        return current
    pending_key = f"{key}~pending"
    best = _latest([*cursor_values, get_cursor(con, pending_key)])
    if meta.get("next_page") not in (None, 0, ""):
        if best is not None:
            _set_cursor(con, pending_key, best, now)
        return current
    con.execute("DELETE FROM raw._cursors WHERE feed = ?", [pending_key])
    if best is not None and (
        current is None or (_ts(best) or dt.datetime.min) > (_ts(current) or dt.datetime.min)
    ):
        _set_cursor(con, key, best, now)
        return best
    return current


def already_loaded(con: duckdb.DuckDBPyConnection, feed: str, sha: str) -> bool:
    row = con.execute(
        "SELECT 1 FROM raw._files WHERE feed = ? AND file_sha256 = ? AND status = 'loaded' LIMIT 1",
        [feed, sha],
    ).fetchone()
    return row is not None


def _record_file(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    landed: LandedFile,
    result: FileLoadResult,
    load_id: str,
    now: dt.datetime,
    meta: dict[str, Any],
    cursor_values: list[str],
) -> None:
    """Inside the file's transaction: its ``raw._files`` row and the cursor advance."""
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
    _pause_for_tests(landed.file_name)


def load_landed_file(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    landed: LandedFile,
    load_id: str,
    *,
    tables: list[TableSpec] | None = None,
    vectorised: bool | None = None,
) -> FileLoadResult:
    """Load every table of one landed file in one transaction (or skip it if its sha is already loaded).

    Plain CSV/NDJSON files go through the SQL path (``vectorised=None`` decides by the spec; ``False``
    forces the Python path, which the SQL path must match). Raises SchemaDriftError, RejectRateExceeded
    or FileFormatError with the transaction rolled back.
    """
    if vectorised is not False and tables is None and fastpath.eligible(spec):
        outcome = load_landed_files(con, spec, [landed], load_id)[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
    for table in tables or spec.tables:
        ensure_table(con, table)  # outside the transaction: the (empty) table exists even if this file fails
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
        _record_file(con, spec, landed, result, load_id, now, meta, cursor_values)
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return result


# ------------------------------------------------------------------------------- vectorised batches


class _SqlBatch:
    """A batch of plain files of one single-table feed, normalised in SQL into one temp table."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, spec: FeedSpec, prepared: dict[int, fastpath.Prepared]
    ):
        self.con = con
        self.spec = spec
        self.table = spec.tables[0]
        self.prepared = prepared
        self.stage = f"_bw_batch_{uuid.uuid4().hex[:12]}"
        frame: dict[str, list[Any]] = {"f": [], "rn": []}
        for i, p in prepared.items():
            frame["f"] += [i] * p.rows
            frame["rn"] += range(1, p.rows + 1)
        for j in range(len(self.table.columns)):
            frame[f"c{j}"] = [cell for p in prepared.values() for cell in p.columns[j]]
        self.con.register(f"{self.stage}_df", pd.DataFrame(frame, dtype=object))
        try:
            source = (
                "(SELECT CAST(f AS INTEGER) AS f, CAST(rn AS INTEGER) AS rn, "
                + ", ".join(f"CAST(c{j} AS VARCHAR) AS c{j}" for j in range(len(self.table.columns)))
                + f" FROM {self.stage}_df)"
            )
            query = sqlnorm.normalise_query(list(self.table.columns), source)
            self.con.execute(f"CREATE TEMP TABLE {self.stage} AS {query}")
        finally:
            self.con.unregister(f"{self.stage}_df")

    def bad_rows(self) -> dict[int, list[int]]:
        """Row numbers per file that the SQL rules refuse."""
        out: dict[int, list[int]] = {}
        for f, rn in self.con.execute(f"SELECT f, rn FROM {self.stage} WHERE _bad ORDER BY f, rn").fetchall():
            out.setdefault(f, []).append(rn)
        return out

    def mark_keep(self, files: list[int]) -> None:
        """Flag the rows each file will insert: good, new to the raw table, first in (file, row) order."""
        t = self.table.table
        self.con.execute(
            f"CREATE TEMP TABLE {self.stage}_keep AS SELECT f, rn FROM {self.stage} s "
            "WHERE NOT _bad AND list_contains(?, f) "
            f'AND NOT EXISTS (SELECT 1 FROM raw."{t}" x WHERE x._row_hash = s._row_hash) '
            "QUALIFY row_number() OVER (PARTITION BY _row_hash ORDER BY f, rn) = 1",
            [files],
        )
        self.con.execute(
            f"CREATE TEMP TABLE {self.stage}_k AS SELECT s.*, k.rn IS NOT NULL AS _keep "
            f"FROM {self.stage} s LEFT JOIN {self.stage}_keep k USING (f, rn)"
        )

    def insert(self, i: int, landed: LandedFile, load_id: str, now: dt.datetime, *, recheck: bool) -> int:
        """Insert file ``i``'s rows; ``recheck`` re-runs the anti-join (rows loaded since ``mark_keep``)."""
        t = self.table.table
        names = [n for n, _ in table_columns(self.table) if not n.startswith("_")]
        names += ["_row_number", "_row_hash", "_normalisations"]
        select = ", ".join(f'"{n}"' for n in names[:-3]) + ", rn, _row_hash, _normalisations"
        quoted = ", ".join(f'"{n}"' for n in names)
        if recheck:
            where = (
                f'WHERE f = ? AND NOT _bad AND NOT EXISTS (SELECT 1 FROM raw."{t}" x '
                "WHERE x._row_hash = s._row_hash) "
                "QUALIFY row_number() OVER (PARTITION BY _row_hash ORDER BY rn) = 1"
            )
        else:
            where = "WHERE f = ? AND _keep"
        row = self.con.execute(
            f'INSERT INTO raw."{t}" ({quoted}, "_feed", "_file_sha256", "_load_id", "_loaded_at") '
            f"SELECT {select}, ?, ?, ?, ? FROM {self.stage}_k s {where}",
            [self.spec.name, landed.sha256, load_id, now, i],
        ).fetchone()
        return int(row[0]) if row else 0

    def drop(self) -> None:
        for name in (self.stage, f"{self.stage}_keep", f"{self.stage}_k"):
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")


def _quarantine_reasons(table: TableSpec, p: fastpath.Prepared, rows: list[int]) -> bool:
    """Fill ``p.quarantine`` with the Python normalisers' reasons; False if Python accepts a refused row."""
    cols = [_Col(c) for c in table.columns]
    for rn in rows:
        errors = [
            err for col, cells in zip(cols, p.columns, strict=True) if (err := col.convert(cells[rn - 1])[2])
        ]
        if not errors:
            return False
        p.quarantine.append((rn, p.raw_lines[rn - 1], f"line {p.line_numbers[rn - 1]}: " + "; ".join(errors)))
    return True


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    landed: LandedFile,
    p: fastpath.Prepared,
    load_id: str,
    now: dt.datetime,
) -> None:
    if not p.quarantine:
        return
    frame = pd.DataFrame(p.quarantine, columns=["row_number", "raw_text", "reason"], dtype=object)
    name = f"_bw_q_{uuid.uuid4().hex[:12]}"
    con.register(name, frame)
    try:
        con.execute(
            "INSERT INTO raw._quarantine SELECT ?, ?, ?, ?, CAST(row_number AS INTEGER), "
            f"CAST(raw_text AS VARCHAR), CAST(reason AS VARCHAR), ?, ? FROM {name} ORDER BY row_number",
            [spec.name, spec.tables[0].table, landed.sha256, landed.file_name, load_id, now],
        )
    finally:
        con.unregister(name)


def load_landed_files(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    load_id: str,
    *,
    vectorised: bool | None = None,
    on_result: Callable[[int, FileLoadResult | IngestError], None] | None = None,
) -> list[FileLoadResult | IngestError]:
    """Load landed files of one feed in order, one transaction per file; failures are returned, not raised.

    Plain CSV/NDJSON files are tokenised together and normalised by one SQL statement, then each file
    commits its rows, quarantine, ``raw._files`` row and cursor advance in its own transaction. Other
    files (and every file when ``vectorised`` is False) take the Python path, in the same order, so
    duplicates resolve exactly as if the files were loaded one by one. ``on_result(index, outcome)`` is
    called as soon as each file is committed or refused (the inbox removes a file right after its commit).
    """
    results = _Outcomes(on_result)
    if vectorised is False or not fastpath.eligible(spec):
        for landed in files:
            try:
                results.append(load_landed_file(con, spec, landed, load_id, vectorised=False))
            except IngestError as exc:
                results.append(exc)
        return list(results)
    table = spec.tables[0]
    ensure_table(con, table)
    loaded = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT file_sha256 FROM raw._files WHERE feed = ? AND status = 'loaded' "
            "AND list_contains(?, file_sha256)",
            [spec.name, [f.sha256 for f in files]],
        ).fetchall()
    }
    prepared: dict[int, fastpath.Prepared] = {}
    seen = set(loaded)
    for i, landed in enumerate(files):
        if landed.sha256 not in seen:
            seen.add(landed.sha256)
            if (p := fastpath.prepare(spec, table, landed)) is not None:
                prepared[i] = p
    if not prepared:
        return load_landed_files(con, spec, files, load_id, vectorised=False, on_result=on_result)
    failed: dict[int, IngestError] = {}
    batch = _SqlBatch(con, spec, prepared)
    try:
        for i, rows in batch.bad_rows().items():
            p = prepared[i]
            if not _quarantine_reasons(table, p, rows):
                del prepared[i]  # the SQL rules refused what Python accepts: Python loads this file
                continue
            rejected = len(p.quarantine)
            if p.rows and rejected / p.rows > spec.reject_rate_threshold:
                first = min(p.quarantine)
                failed[i] = RejectRateExceeded(
                    feed=spec.name,
                    file_name=p.landed.file_name,
                    table=table.table,
                    rows_in=p.rows,
                    rows_rejected=rejected,
                    threshold=spec.reject_rate_threshold,
                    first_bad_row=first[0],
                    first_reason=first[2],
                )
        batch.mark_keep([i for i in prepared if i not in failed])
        recheck = False
        for i, landed in enumerate(files):
            p = prepared.get(i)
            if i in failed:
                results.append(failed[i])
                continue
            if p is None:
                recheck = True  # rows loaded here were not seen by mark_keep
                try:
                    results.append(load_landed_file(con, spec, landed, load_id, vectorised=False))
                except IngestError as exc:
                    results.append(exc)
                continue
            results.append(_commit_prepared(con, spec, batch, i, p, load_id, recheck=recheck))
    finally:
        batch.drop()
    return list(results)


class _Outcomes(list[FileLoadResult | IngestError]):
    """Per-file outcomes in order, reported to a callback as each one is settled."""

    def __init__(self, callback: Callable[[int, FileLoadResult | IngestError], None] | None) -> None:
        super().__init__()
        self.callback = callback

    def append(self, outcome: FileLoadResult | IngestError) -> None:
        super().append(outcome)
        if self.callback is not None:
            self.callback(len(self) - 1, outcome)


def _commit_prepared(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    batch: _SqlBatch,
    i: int,
    p: fastpath.Prepared,
    load_id: str,
    *,
    recheck: bool,
) -> FileLoadResult:
    """One staged file's transaction: rows, quarantine, ``raw._files`` and cursor commit together."""
    started = time.perf_counter()
    landed = p.landed
    now = utc_now()
    table = TableLoadResult(spec.name, spec.tables[0].table, landed.file_name, landed.sha256)
    result = FileLoadResult(spec.name, landed.file_name, landed.sha256, "loaded", [table])
    con.execute("BEGIN TRANSACTION")
    try:
        table.rows_in = p.rows
        table.rows_quarantined = len(p.quarantine)
        table.rows_loaded = batch.insert(i, landed, load_id, now, recheck=recheck)
        table.rows_duplicate = p.rows - table.rows_quarantined - table.rows_loaded
        _insert_quarantine(con, spec, landed, p, load_id, now)
        _record_file(con, spec, landed, result, load_id, now, {}, [])
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    table.seconds = time.perf_counter() - started
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
