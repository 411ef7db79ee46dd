"""The raw contract: every raw table's columns and types, the lineage columns and the control tables.

Declared once here and imported by the loader, the gate, ``explain`` and the tests. A feed's raw tables
follow its spec (``feeds/<feed>.yaml``): spec columns in order, ``<name>_raw`` beside ``keep_raw``
columns, then the lineage columns. :func:`ensure_raw_schema` creates the tables of every feed, empty, so
a feed that has never delivered is "awaiting first delivery" and dbt still builds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import duckdb

from borderwatch.normalize import SQL_TYPES, quote, stored_row_hash
from borderwatch.specs import FeedSpec, TableSpec

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_feed", "VARCHAR"),  # the feed spec's name
    ("_file_sha256", "VARCHAR"),  # the landed payload (landing/objects/<sha[:2]>/<sha>)
    ("_row_number", "INTEGER"),  # 1-based data row of that payload
    ("_row_hash", "UHUGEINT"),  # normalise.stored_row_hash (md5, 128 bits): equal rows are stored once
    ("_load_id", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),  # UTC
    ("_normalisations", "VARCHAR[]"),  # thai_digits, khmer_digits, be_year, ce_year, padded_year
)
CONTROL_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    # one row per landed file a load settled; a corrected file re-sent under a known name is a new
    # revision whose row names the sha it supersedes (whose rows left the raw table)
    "_files": (
        ("feed", "VARCHAR"),
        ("file_sha256", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("status", "VARCHAR"),  # loaded | duplicate
        ("load_id", "VARCHAR"),
        ("rows_in", "BIGINT"),
        ("rows_loaded", "BIGINT"),
        ("rows_quarantined", "BIGINT"),
        ("rows_duplicate", "BIGINT"),
        ("loaded_at", "TIMESTAMP"),
        ("stream", "VARCHAR"),  # records | deletions
        ("revision", "INTEGER"),  # 1 for a file name's first delivery
        ("supersedes", "VARCHAR"),  # sha256 of the revision this one replaced
    ),
    "_quarantine": (
        ("feed", "VARCHAR"),
        ("table_name", "VARCHAR"),
        ("file_sha256", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("row_number", "INTEGER"),
        ("raw_text", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("load_id", "VARCHAR"),
        ("quarantined_at", "TIMESTAMP"),
    ),
    "_cursors": (("feed", "VARCHAR"), ("cursor_value", "VARCHAR"), ("updated_at", "TIMESTAMP")),
    "_loads": (
        ("load_id", "VARCHAR"),
        ("feed", "VARCHAR"),
        ("started_at", "TIMESTAMP"),
        ("finished_at", "TIMESTAMP"),
        ("report", "JSON"),
        ("status", "VARCHAR"),  # loaded | unchanged | failed
        ("error", "VARCHAR"),
    ),
}


def utc_now() -> dt.datetime:
    """UTC-naive now: every TIMESTAMP we write is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_load_id(feed: str) -> str:
    return f"{utc_now():%Y%m%dT%H%M%S}-{feed}-{uuid.uuid4().hex[:8]}"


def table_columns(table: TableSpec) -> list[tuple[str, str]]:
    """(name, SQL type) of a raw table: spec columns, ``<name>_raw`` for keep_raw, lineage columns."""
    cols: list[tuple[str, str]] = []
    for c in table.columns:
        cols.append((c.name, SQL_TYPES[c.type]))
        if c.keep_raw:
            cols.append((f"{c.name}_raw", "VARCHAR"))
    return cols + list(LINEAGE_COLUMNS)


def _create(con: duckdb.DuckDBPyConnection, table: str, cols: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Create ``raw.<table>``, adding columns a newer contract or spec declares to an existing table;
    returns the table's columns and types as they were found."""
    cols = list(cols)
    ddl = ", ".join(f"{quote(n)} {t}" for n, t in cols)
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.{quote(table)} ({ddl})")
    present = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'raw' "
            "AND table_name = ? AND database_name = current_database()",
            [table],
        ).fetchall()
    )
    for name, sql_type in cols:
        if name not in present:
            con.execute(f"ALTER TABLE raw.{quote(table)} ADD COLUMN {quote(name)} {sql_type}")
    return present


def ensure_control_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and its control tables (idempotent)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name, cols in CONTROL_TABLES.items():
        _create(con, name, cols)


def ensure_feed_tables(con: duckdb.DuckDBPyConnection, spec: FeedSpec) -> None:
    """Create a feed's raw tables from its spec; a column added to the spec later is added to the table,
    and rows stored under the older row hash are re-hashed."""
    for table in spec.tables:
        if _create(con, table.table, table_columns(table)).get("_row_hash", "UHUGEINT") != "UHUGEINT":
            _rehash(con, table)


def _rehash(con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
    """Upgrade a table whose ``_row_hash`` is the text sha256 of releases before December 2026 to
    :func:`~borderwatch.normalize.stored_row_hash`, recomputed from the stored values in one statement
    (all rows or none), so a row delivered again after the upgrade is still a duplicate."""
    con.execute(
        f"ALTER TABLE raw.{quote(table.table)} ALTER COLUMN _row_hash SET DATA TYPE UHUGEINT "
        f"USING {stored_row_hash(table)}"
    )


def ensure_raw_schema(con: duckdb.DuckDBPyConnection, specs: Iterable[FeedSpec]) -> None:
    """Control tables plus every feed's raw tables, empty until the feed's first delivery."""
    ensure_control_tables(con)
    for spec in specs:
        ensure_feed_tables(con, spec)
