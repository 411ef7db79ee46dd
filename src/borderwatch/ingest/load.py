"""Load: landed files of one feed → raw rows, all of a batch in one transaction.

A batch is read by the format's reader into text cells, normalised by one SQL statement per table
(:mod:`borderwatch.normalize`), and checked before ``BEGIN``: files that cannot be read, drift from the
spec, or reject more rows than ``reject_rate_threshold`` are set aside with their reason. The rest commit
together: their rows (an anti-join on ``_row_hash``, so a row delivered twice is counted, not stored),
quarantined rows with reasons, their ``raw._files`` rows and the cursor.

Crash contract: a crash loses the uncommitted batch, never part of a file; the cursor did not move, so
the next run reloads it from landing (a pull's conditional GET answers 304 and the landed copy is
loaded; an inbox file stays in the inbox until its batch has committed).

Corrections: a file re-sent under a name already loaded, with other content, is a new *revision* of
that file (file feeds): in the same transaction the rows of the revision it supersedes leave the raw
table and ``raw._files`` records ``revision`` and ``supersedes``; the landing archive keeps both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from borderwatch.duck import insert_rows, register
from borderwatch.ingest import cursors
from borderwatch.ingest.contract import (
    CONTROL_TABLES,
    ensure_control_tables,
    ensure_feed_tables,
    quote,
    table_columns,
    utc_now,
)
from borderwatch.ingest.errors import IngestError, RejectRateExceeded
from borderwatch.ingest.json_pages import read_json_pages
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.readers import Batch, read_csv, read_ndjson
from borderwatch.ingest.report import FileLoadResult, TableLoadResult
from borderwatch.ingest.xlsx import read_xlsx
from borderwatch.normalize import normalise_sql
from borderwatch.specs import FeedSpec, TableSpec

TEST_PAUSE_ENV = "BORDERWATCH_TEST_LOAD_PAUSE"  # crash tests: pause inside the transaction
SAMPLE_ROWS = 65536  # a batch of at least this many rows types its repeating columns per distinct cell
READERS: dict[str, Callable[..., Batch]] = {
    "csv": read_csv,
    "ndjson": read_ndjson,
    "json_api": read_json_pages,
    "xlsx": read_xlsx,
}


def load_files(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    load_id: str,
    *,
    durable: Callable[[], None] | None = None,
) -> list[FileLoadResult | IngestError]:
    """Load landed files of one feed in order; failures are returned per file, never raised.

    Files go in batches of one transaction each; a new batch starts where a file name repeats, so two
    revisions of one file never share a batch. ``durable`` (the landing archive's pending fsyncs) is
    waited for before each COMMIT.
    """
    ensure_control_tables(con)
    ensure_feed_tables(con, spec)
    out: list[FileLoadResult | IngestError] = []
    batch: list[LandedFile] = []
    for landed in files:
        if spec.cursor.kind == "file_name" and any(f.file_name == landed.file_name for f in batch):
            out += _load_batch(con, spec, batch, load_id, durable)
            batch = []
        batch.append(landed)
    if batch:
        out += _load_batch(con, spec, batch, load_id, durable)
    return out


def _loaded(con: duckdb.DuckDBPyConnection, spec: FeedSpec) -> tuple[set[str], dict[str, tuple[str, int]]]:
    """Shas already loaded for the feed, and the current revision (sha, number) of each file name."""
    rows = con.execute(
        "SELECT file_sha256, file_name, coalesce(revision, 1) FROM raw._files WHERE feed = ? AND status = "
        "'loaded' "
        "ORDER BY loaded_at, coalesce(revision, 1)",
        [spec.name],
    ).fetchall()
    return {r[0] for r in rows}, {name: (sha, rev) for sha, name, rev in rows}


def _read_table(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, table: TableSpec, files: list[LandedFile], token: str
) -> tuple[str, Batch]:
    """Read a table's text cells and normalise them into a temp table; returns its name and the batch."""
    text = f"_bw_text_{token}_{table.table}"
    cells = ", ".join(f"c{i} VARCHAR" for i in range(len(table.columns)))
    con.execute(
        f"CREATE TEMP TABLE {text} (_f INTEGER, _row_number INTEGER, _line INTEGER, _raw_text VARCHAR, "
        f"_error VARCHAR, {cells})"
    )
    relations = [text]  # a reader may fill a relation of its own (``Batch.relation``) instead
    try:
        batch = READERS[spec.format.type](con, spec, table, files, text)
        relations.append(batch.relation)
        norm = f"_bw_norm_{token}_{table.table}"
        cursor = spec.cursor.field if spec.cursor.kind == "updated_since" else None
        sql = normalise_sql(
            table,
            batch.relation,
            calendar=spec.calendar,
            cursor=cursor,
            distinct=_repeating(con, table, batch.relation),
        )
        con.execute(f"CREATE TEMP TABLE {norm} AS {sql}")
    finally:
        for relation in dict.fromkeys(relations):
            con.execute(f"DROP TABLE IF EXISTS {relation}")
    return norm, batch


def _repeating(con: duckdb.DuckDBPyConnection, table: TableSpec, relation: str) -> list[int]:
    """Columns whose cells repeat (each value four times or more in the first ``SAMPLE_ROWS`` rows): the
    normaliser types each distinct cell of these once and joins it back, instead of once per row. A
    smaller batch is typed per row: planning the joins would cost more than they save."""
    n = len(table.columns)
    counts = ", ".join(f"approx_count_distinct(c{i})" for i in range(n))
    row = con.execute(
        f"SELECT count(*), {counts} FROM (SELECT * FROM {relation} LIMIT {SAMPLE_ROWS})"
    ).fetchone()
    if row is None or row[0] < SAMPLE_ROWS:
        return []
    return [i for i in range(n) if row[i + 1] * 4 <= row[0]]


def _refusals(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, table: TableSpec, norm: str, files: list[LandedFile]
) -> dict[int, IngestError]:
    """Files whose share of quarantined rows is over the feed's threshold."""
    out: dict[int, IngestError] = {}
    rows = con.execute(
        "SELECT _f, count(*), count(_reason), arg_min(_row_number, _row_number) FILTER (_reason IS NOT "
        "NULL), "
        f"arg_min(_reason, _row_number) FILTER (_reason IS NOT NULL) FROM {norm} GROUP BY _f"
    ).fetchall()
    for i, rows_in, bad, first_row, first_reason in rows:
        if bad and bad / rows_in > spec.reject_rate_threshold:
            out[i] = RejectRateExceeded(
                feed=spec.name,
                file_name=files[i].file_name,
                table=table.table,
                rows_in=rows_in,
                rows_rejected=bad,
                threshold=spec.reject_rate_threshold,
                first_bad_row=first_row,
                first_reason=first_reason,
            )
    return out


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    load_id: str,
    durable: Callable[[], None] | None,
) -> list[FileLoadResult | IngestError]:
    token = uuid.uuid4().hex[:10]
    loaded, current = _loaded(con, spec)
    outcomes: dict[int, FileLoadResult | IngestError] = {}
    seen: set[str] = set(loaded)
    todo: list[int] = []
    for i, landed in enumerate(files):
        if landed.sha256 in seen:
            tables = [
                TableLoadResult(spec.name, t.table, landed.file_name, landed.sha256, duplicate_file=True)
                for t in spec.tables
            ]
            outcomes[i] = FileLoadResult(spec.name, landed.file_name, landed.sha256, "duplicate", tables)
        else:
            seen.add(landed.sha256)
            todo.append(i)
    reading = [files[i] for i in todo]
    norms: dict[str, str] = {}
    meta: dict[int, dict[str, Any]] = {}
    try:
        for table in spec.tables:
            norm, batch = _read_table(con, spec, table, reading, token)
            norms[table.table] = norm
            meta |= batch.meta
            for j, exc in (batch.errors | _refusals(con, spec, table, norm, reading)).items():
                outcomes.setdefault(todo[j], exc)
        good = [j for j, i in enumerate(todo) if i not in outcomes]
        for j in good:
            landed = reading[j]
            result = FileLoadResult(spec.name, landed.file_name, landed.sha256, "loaded")
            previous = current.get(landed.file_name) if spec.cursor.kind == "file_name" else None
            if previous is not None:
                result.supersedes, result.revision = previous[0], previous[1] + 1
            outcomes[todo[j]] = result
        if durable is not None:  # the landed bytes are on disk before anything of them commits
            durable()
        _commit(con, spec, files, todo, good, norms, meta, outcomes, load_id, token)
    finally:
        for norm in norms.values():
            con.execute(f"DROP TABLE IF EXISTS {norm}")
    return [outcomes[i] for i in range(len(files))]


def _commit(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    todo: list[int],
    good: list[int],
    norms: dict[str, str],
    meta: dict[int, dict[str, Any]],
    outcomes: dict[int, FileLoadResult | IngestError],
    load_id: str,
    token: str,
) -> None:
    """One transaction: superseded revisions out, rows and quarantine in, ``raw._files``, cursors."""
    now = utc_now()
    fmap = f"_bw_files_{token}"
    frame = pd.DataFrame(
        {
            "f": good,
            "sha": [files[todo[j]].sha256 for j in good],
            "name": [files[todo[j]].file_name for j in good],
        },
        dtype=object,
    )
    register(con, fmap, frame)
    con.execute("BEGIN TRANSACTION")
    try:
        results = {j: outcomes[todo[j]] for j in good}
        for table in spec.tables:
            for result in results.values():
                assert isinstance(result, FileLoadResult)
                if result.supersedes:
                    con.execute(
                        f"DELETE FROM raw.{quote(table.table)} WHERE _feed = ? AND _file_sha256 = ?",
                        [spec.name, result.supersedes],
                    )
            _insert_table(con, spec, table, norms[table.table], fmap, results, load_id, now)
        cursor = _advance(con, spec, files, outcomes, todo, norms, meta, now)
        settled = [(f, r) for i, f in enumerate(files) if isinstance(r := outcomes[i], FileLoadResult)]
        for _landed, result in settled:
            result.cursor_value = cursor
        insert_rows(
            con,
            "raw._files",
            [name for name, _ in CONTROL_TABLES["_files"]],
            [
                (
                    spec.name,
                    f.sha256,
                    f.file_name,
                    r.status,
                    load_id,
                    r.rows_in,
                    r.rows_loaded,
                    r.rows_quarantined,
                    r.rows_duplicate,
                    now,
                    f.stream,
                    r.revision,
                    r.supersedes,
                )
                for f, r in settled
            ],
        )
        _pause_for_tests([f.file_name for f in files])
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    finally:
        con.unregister(fmap)


def _insert_table(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    table: TableSpec,
    norm: str,
    fmap: str,
    results: dict[int, FileLoadResult | IngestError],
    load_id: str,
    now: dt.datetime,
) -> None:
    """Good rows not yet in the table (first occurrence in file order), then quarantined rows."""
    t = quote(table.table)
    data = [quote(n) for n, _ in table_columns(table) if not n.startswith("_")]
    order = "(s._f::BIGINT << 32) + s._row_number"
    dups = f"{norm}_dups"  # a row repeated within the batch: only its first occurrence is stored
    rows = f"{norm} s SEMI JOIN {fmap} m ON m.f = s._f WHERE s._reason IS NULL"
    con.execute(
        f"CREATE TEMP TABLE {dups} AS SELECT s._row_hash, min({order}) AS keep FROM {rows} GROUP BY ALL "
        "HAVING count(*) > 1"
    )
    con.execute(
        f"INSERT INTO raw.{t} ({', '.join(data)}, _feed, _file_sha256, _row_number, _row_hash, _load_id, "
        f"_loaded_at, _normalisations) SELECT {', '.join('s.' + d for d in data)}, ?, m.sha, s._row_number, "
        f"s._row_hash, ?, ?, s._normalisations FROM {norm} s JOIN {fmap} m ON m.f = s._f "
        f"ANTI JOIN raw.{t} x ON x._row_hash = s._row_hash "
        f"ANTI JOIN {dups} d ON d._row_hash = s._row_hash AND d.keep <> {order} WHERE s._reason IS NULL",
        [spec.name, load_id, now],
    )
    con.execute(f"DROP TABLE {dups}")
    con.execute(
        "INSERT INTO raw._quarantine SELECT ?, ?, m.sha, m.name, s._row_number, s._raw_text, s._reason, ?, ? "
        f"FROM {norm} s JOIN {fmap} m ON m.f = s._f WHERE s._reason IS NOT NULL ORDER BY s._f, s._row_number",
        [spec.name, table.table, load_id, now],
    )
    counts = con.execute(
        f"SELECT m.f, count(*), count(s._reason) FROM {norm} s JOIN {fmap} m ON m.f = s._f GROUP BY m.f"
    ).fetchall()
    stored = dict(
        con.execute(
            f"SELECT _file_sha256, count(*) FROM raw.{t} WHERE _load_id = ? AND _loaded_at = ? GROUP BY 1",
            [load_id, now],
        ).fetchall()
    )
    per_file = {f: (n, bad) for f, n, bad in counts}
    for j, result in results.items():
        assert isinstance(result, FileLoadResult)
        rows_in, bad = per_file.get(j, (0, 0))
        loaded = stored.get(result.file_sha256, 0)
        result.tables.append(
            TableLoadResult(
                spec.name,
                table.table,
                result.file_name,
                result.file_sha256,
                rows_in,
                loaded,
                bad,
                rows_in - bad - loaded,
            )
        )


def _advance(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    outcomes: dict[int, FileLoadResult | IngestError],
    todo: list[int],
    norms: dict[str, str],
    meta: dict[int, dict[str, Any]],
    now: dt.datetime,
) -> str | None:
    """Move the feed's cursor(s) for the pulled (not inbox) files settled in this batch."""
    settled = [i for i, o in outcomes.items() if isinstance(o, FileLoadResult) and not files[i].from_inbox]
    if spec.cursor.kind == "file_name":
        return cursors.advance_file_cursor(con, spec, [files[i].file_name for i in settled], now)
    read = [todo.index(i) for i in settled if i in todo and outcomes[i].status == "loaded"]  # type: ignore[union-attr]
    value = None
    norm = next(iter(norms.values()))
    for stream in ("records", "deletions"):
        pages = [j for j in read if files[todo[j]].stream == stream]
        if not pages:
            continue
        complete = any(meta.get(j, {}).get("next_page") in (None, "", "0", "null") for j in pages)
        row = con.execute(
            f"SELECT max(_cursor_ts), arg_max(_cursor_text, _cursor_ts) FROM {norm} WHERE _reason IS NULL "
            "AND list_contains(?, _f)",
            [pages],
        ).fetchone()
        latest = (row[0], row[1]) if row and row[0] is not None else None
        moved = cursors.advance_stream_cursor(con, spec, stream, latest, complete, now)
        value = moved if stream == "records" else value or moved
    return value


def _pause_for_tests(names: list[str]) -> None:
    """Crash tests SIGKILL the load here, in the open transaction (``BORDERWATCH_TEST_LOAD_PAUSE``: JSON
    ``{"marker": path, "seconds": 30, "file_name": optional}``; the marker says the pause began)."""
    hook = json.loads(os.environ.get(TEST_PAUSE_ENV) or "null")
    if not hook or hook.get("file_name") not in (None, *names):
        return
    Path(hook["marker"]).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(hook.get("seconds", 30)))
