"""Explain a published figure: the feed rows and landing files behind one mart row.

dbt carries (feed, raw table, file sha256, row number) through every model into ``intermediate.int_lineage``;
this joins it to ``raw._files`` for the file names and reads the raw rows themselves, so an analyst can go
from "93 Thais deported" to the exact bulletin line and reception that say so.

Lineage and raw rows live only in the build file (publications carry marts), so explain reads the build
file, but only while holding its writer lock (``pipeline.build_file_access``): a DuckDB reader that merely
has the file open makes the next writer (a refresh's dbt build) fail with ``Could not set lock on file``.
Explain therefore waits for a running step to finish (``BORDERWATCH_LOCK_TIMEOUT``) and holds the lock
for its few queries only.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import duckdb

from borderwatch import duck
from borderwatch.config import Settings
from borderwatch.warehouse import MART_TABLES

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class ExplainError(LookupError):
    """The mart or key is unknown, or the build file has no lineage yet; the message says what to do."""


def _mart_name(table: str) -> str:
    """Accept ``fct_x`` or ``marts.fct_x``; refuse anything that is not a public mart."""
    name = table.split(".")[-1].strip().lower()
    marts = {n for _, n in MART_TABLES}
    if name not in marts:
        raise ExplainError(f"{table!r} is not a public mart; choose one of: {', '.join(sorted(marts))}")
    return name


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _raw_row(
    con: duckdb.DuckDBPyConnection, raw_table: str, file_sha256: str, row_number: int
) -> dict[str, Any]:
    """The raw row itself, all columns (labels as delivered, typed values and lineage)."""
    if not _IDENT.match(raw_table):
        raise ExplainError(f"lineage names an invalid raw table {raw_table!r}; rebuild the warehouse")
    cur = con.execute(
        f"select * from raw.{raw_table} where _file_sha256 = ? and _row_number = ? limit 1",
        [file_sha256, row_number],
    )
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    return {n: _jsonable(v) for n, v in zip(names, row, strict=True)} if row else {}


def explain(
    settings: Settings, table: str, key: str, *, lock_timeout: float | None = None
) -> list[dict[str, Any]]:
    """Feed rows and landing files behind one row of a public mart; [] when no row has that key.

    The key is the mart's primary key: raid_id (fct_raids), deportation_id (fct_deportations),
    'YYYY-MM-DD|ISO3' (fct_assistance_snapshots), claim_id (fct_figure_claims), ...
    Raises :class:`borderwatch.locking.BuildLocked` (naming the holder) when a writer keeps the build
    file longer than ``lock_timeout`` (default ``BORDERWATCH_LOCK_TIMEOUT``).
    """
    mart = _mart_name(table)
    lineage_mart = "fct_assistance_snapshots" if mart == "fct_assistance_snapshots_latest" else mart
    from borderwatch.pipeline import build_file_access

    with build_file_access(settings, timeout=lock_timeout):
        if not settings.build_db.exists():
            raise ExplainError(
                f"no build file at {settings.build_db}: run `borderwatch run` (ingest + build) first"
            )
        return _explain_locked(settings, mart, lineage_mart, key)


def _explain_locked(settings: Settings, mart: str, lineage_mart: str, key: str) -> list[dict[str, Any]]:
    """The queries of :func:`explain`; the caller holds the writer lock."""
    con = duck.connect(settings.build_db, read_only=True)
    try:
        try:
            rows = con.execute(
                """
                select
                    lineage.feed,
                    lineage.raw_table,
                    lineage.file_sha256,
                    lineage.row_number,
                    files.file_name,
                    files.status as file_status,
                    files.load_id,
                    files.loaded_at
                from intermediate.int_lineage as lineage
                left join raw._files as files
                    on lineage.file_sha256 = files.file_sha256
                    and lineage.feed = files.feed
                where lineage.mart = ? and lineage.mart_key = ?
                order by lineage.feed, files.loaded_at, lineage.file_sha256, lineage.row_number
                """,
                [lineage_mart, key],
            ).fetchall()
        except duckdb.CatalogException as exc:
            raise ExplainError(
                f"{settings.build_db} has no lineage table (intermediate.int_lineage): "
                "run the dbt build first"
            ) from exc
        out = []
        seen: set[tuple[str, str, int]] = set()
        for feed, raw_table, sha, row_number, file_name, status, load_id, loaded_at in rows:
            if (raw_table, sha, row_number) in seen:
                continue
            seen.add((raw_table, sha, row_number))
            out.append(
                {
                    "mart": mart,
                    "key": key,
                    "feed": feed,
                    "raw_table": raw_table,
                    "file_sha256": sha,
                    "file_name": file_name,
                    "file_status": status,
                    "load_id": load_id,
                    "loaded_at": _jsonable(loaded_at),
                    "row_number": row_number,
                    "row": _raw_row(con, raw_table, sha, row_number),
                }
            )
        return out
    finally:
        con.close()
