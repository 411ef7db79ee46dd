"""PostgreSQL serving warehouse: every publication, loaded for BI servers on other machines.

The DuckDB file and Parquet stay the source of truth; PostgreSQL serves a copy of each published version
to tools that need a network database with accounts (Superset, Metabase, Power BI, Tableau).

Layout in the serving database (``BORDERWATCH_SERVING_PG_DSN``)::

    bwv_<version>__marts, bwv_<version>__reference   one schema pair per loaded version (tables, COPY-loaded)
    marts, reference                                 stable schemas of views onto the served version
    borderwatch_meta.publications / row_counts       every loaded version: gate verdict, manifest, counts
    borderwatch_meta.current                         view: the served version (one row)
    borderwatch_meta.switches                        who was served when (audit trail of switches)

A version is loaded by parallel binary COPY jobs (DuckDB → Arrow → ADBC) and counts as loaded only when
its ``publications`` row commits, after every count matched the manifest; it is then switched into place
in one transaction that recreates the stable views: a reader's statement sees either the old version or
the new one, never a mix. Loading is idempotent by version, so when PostgreSQL fails the
next run (or an Airflow retry) finishes the job; PostgreSQL readers stay on the previous version meanwhile.
Versions are kept with the files' retention (``BORDERWATCH_KEEP_VERSIONS``) so a rollback switches both.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as adbc_pg
import duckdb
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from borderwatch import duck
from borderwatch.config import Settings
from borderwatch.publish import PUBLISHED_SCHEMAS, Publication, list_versions

log = logging.getLogger(__name__)

DSN_ENV = "BORDERWATCH_SERVING_PG_DSN"
READER_ROLE_ENV = "BORDERWATCH_SERVING_PG_READER_ROLE"
READER_PASSWORD_ENV = "BORDERWATCH_SERVING_PG_READER_PASSWORD"
DEFAULT_READER_ROLE = "borderwatch_bi"
CRASH_ENV = "BORDERWATCH_SERVING_CRASH_AT"
CRASH_STEPS = ("load", "switch")
META_SCHEMA = "borderwatch_meta"
VERSION_SCHEMA_PREFIX = "bwv_"
# parallel COPY connections (pg_restore --jobs style); 4 beat 2, 6 and 8 on 2 cores (serving_bench): a job
# alternates between encoding in this process and ingesting in its backend, so cores stay busy
LOAD_JOBS = 4
SLICE_ROWS = 50_000  # a table this large is cut by rowid range into parallel COPY jobs
SWITCH_LOCK_TIMEOUT = "500ms"  # below readers' deadlock_timeout (1s): the switch yields, readers never abort
_ADVISORY_KEY = "borderwatch.serving"

# DuckDB types whose Arrow form ADBC would not write as the PostgreSQL column's binary form: cast first.
_ARROW_CASTS = {
    "UTINYINT": "SMALLINT",
    "USMALLINT": "INTEGER",
    "UINTEGER": "BIGINT",
    "UBIGINT": "DECIMAL(20,0)",
    "HUGEINT": "DECIMAL(38,0)",
    "UHUGEINT": "DECIMAL(38,0)",
}

# DuckDB type name (prefix) → PostgreSQL type; anything nested travels as JSON.
_SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "UHUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
    "JSON": "jsonb",
}


class ServingError(RuntimeError):
    """PostgreSQL could not serve a version; the files are published and PG readers keep the old one."""


@dataclass(frozen=True)
class ServingSettings:
    """Where the serving warehouse lives and who may read it."""

    dsn: str
    reader_role: str = DEFAULT_READER_ROLE
    reader_password: str | None = None
    keep_versions: int = 5


@dataclass
class ServedVersion:
    """What one ``serve_publication`` call did."""

    version: str
    previous: str | None
    loaded: bool  # False: the version was already loaded (a retry, a rollback, an unchanged night)
    dropped: list[str] = field(default_factory=list)
    load_seconds: float = 0.0
    switch_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "previous": self.previous,
            "loaded": self.loaded,
            "dropped": list(self.dropped),
            "load_seconds": round(self.load_seconds, 3),
            "switch_seconds": round(self.switch_seconds, 3),
        }


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    comment: str

    @property
    def pg_type(self) -> str:
        return pg_type(self.duckdb_type)


@dataclass(frozen=True)
class Relation:
    """One published table or view, as it will be loaded: its columns and comments."""

    schema: str
    name: str
    comment: str
    columns: tuple[Column, ...]
    is_view: bool = False

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"


def serving_settings(settings: Settings, env: dict[str, str] | None = None) -> ServingSettings | None:
    """The serving warehouse's settings, or None when ``BORDERWATCH_SERVING_PG_DSN`` is unset (off)."""
    env = dict(os.environ if env is None else env)
    dsn = env.get(DSN_ENV, "").strip()
    if not dsn:
        return None
    role = env.get(READER_ROLE_ENV, "").strip() or DEFAULT_READER_ROLE
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ServingError(
            f"{READER_ROLE_ENV}={role!r}: use a lowercase SQL identifier such as 'borderwatch_bi'"
        )
    return ServingSettings(
        dsn=dsn,
        reader_role=role,
        reader_password=env.get(READER_PASSWORD_ENV) or None,
        keep_versions=settings.keep_versions,
    )


def pg_type(duckdb_type: str) -> str:
    """PostgreSQL column type for a DuckDB one; lists, structs and maps become ``jsonb``."""
    name = duckdb_type.strip().upper()
    if name.startswith("DECIMAL"):
        return name.replace("DECIMAL", "numeric")
    if name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[name]
    if name.startswith("VARCHAR"):
        return "text"
    if name.startswith("ENUM"):
        return "text"
    return "jsonb"


def version_schema(version: str, schema: str) -> str:
    """The PostgreSQL schema holding ``schema`` of ``version`` (lowercase, at most 63 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "_", version.lower()).strip("_")
    name = f"{VERSION_SCHEMA_PREFIX}{slug}__{schema}"
    if len(name) > 63:
        raise ServingError(f"version {version!r}: schema name {name!r} exceeds PostgreSQL's 63 characters")
    return name


def serve_publication(settings: Settings, publication: Publication) -> ServedVersion | None:
    """Make PostgreSQL serve ``publication``: load it unless loaded, switch readers, apply retention.

    Returns None when no serving database is configured. Raises :class:`ServingError` (the files stay
    published; PG readers stay on their version) when PostgreSQL fails; calling again finishes the job.
    """
    config = serving_settings(settings)
    if config is None:
        return None
    try:
        return _serve(settings, config, publication)
    except (psycopg.Error, adbc_driver_manager.Error, OSError, duckdb.Error) as exc:
        raise ServingError(
            f"PostgreSQL serving warehouse: could not serve version {publication.version} ({exc}). "
            f"The files are published ({settings.current_dir} -> {publication.version}); PostgreSQL readers "
            f"stay on the version they had. Check {DSN_ENV} and the server, then run again: the next run "
            "(or this task's retry) loads the missing version."
        ) from exc


def serve_rollback(settings: Settings, publication: Publication) -> ServedVersion | None:
    """Switch PostgreSQL to a rolled-back version, reloading it from its kept files if PG dropped it."""
    return serve_publication(settings, publication)


def served_version(conn: psycopg.Connection[Any]) -> str | None:
    """The version PostgreSQL readers see now, or None before the first switch."""
    if not _meta_ready(conn):
        return None
    row = conn.execute(f"select version from {META_SCHEMA}.state where id").fetchone()
    return str(row[0]) if row else None


def loaded_versions(conn: psycopg.Connection[Any]) -> list[str]:
    """Versions whose schemas are in PostgreSQL now, oldest first."""
    if not _meta_ready(conn):
        return []
    rows = conn.execute(
        f"select version from {META_SCHEMA}.publications where dropped_at is null order by version"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _serve(settings: Settings, config: ServingSettings, publication: Publication) -> ServedVersion:
    with _connect(config.dsn) as conn:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (_ADVISORY_KEY,))
        _ensure_meta(conn)
        _ensure_reader_role(conn, config)
        relations = describe_publication(settings, publication)
        started = time.monotonic()
        loaded = False
        if publication.version not in loaded_versions(conn):
            _load_version(conn, config.dsn, publication, relations)
            loaded = True
        load_seconds = time.monotonic() - started
        started = time.monotonic()
        previous = _switch(conn, config, publication.version, relations)
        switch_seconds = time.monotonic() - started
        dropped = _apply_retention(conn, settings, publication.version)
    result = ServedVersion(publication.version, previous, loaded, dropped, load_seconds, switch_seconds)
    log.info("PostgreSQL serves %s (previous %s, loaded=%s)", publication.version, previous, loaded)
    return result


@contextmanager
def _connect(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """Autocommit connection: every unit of work opens its own explicit transaction."""
    conn = psycopg.connect(dsn, autocommit=True, application_name="borderwatch-serving", connect_timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def describe_publication(settings: Settings, publication: Publication) -> list[Relation]:
    """Every table and view of the published DuckDB file, with the comments PostgreSQL will carry.

    Comments come from the DuckDB file when it has them, else from dbt's manifest descriptions, else a
    generic text that says where to add one: every table and column gets a comment.
    """
    dbt_docs = _dbt_descriptions(settings)
    schemas = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
    con = duck.connect(publication.database_path, read_only=True)
    try:
        rels = con.execute(
            "select schema_name, table_name, comment, false from duckdb_tables() "
            f"where database_name = current_database() and schema_name in ({schemas}) "
            "union all select schema_name, view_name, comment, true from duckdb_views() "
            f"where database_name = current_database() and not internal and schema_name in ({schemas}) "
            "order by 1, 2"
        ).fetchall()
        relations = []
        for schema, name, comment, is_view in rels:
            table_doc, column_docs = dbt_docs.get((schema, name), ("", {}))
            columns = tuple(
                Column(
                    col,
                    dtype,
                    col_comment
                    or column_docs.get(col)
                    or f"{col} ({dtype}) of {schema}.{name}; no description in dbt yet (add one in its YAML)",
                )
                for col, dtype, col_comment in con.execute(
                    "select column_name, data_type, comment from duckdb_columns() "
                    "where database_name = current_database() and schema_name = ? and table_name = ? "
                    "order by column_index",
                    [schema, name],
                ).fetchall()
            )
            doc = comment or table_doc or f"{schema}.{name}: no description in dbt yet (add one in its YAML)"
            relations.append(
                Relation(schema, name, f"{doc} [BorderWatch version {publication.version}]", columns, is_view)
            )
    finally:
        con.close()
    if not any(r.schema == "marts" for r in relations):
        raise ServingError(f"{publication.database_path}: no tables in schema 'marts'; nothing to serve")
    return relations


def _dbt_descriptions(settings: Settings) -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    """Model and seed descriptions from dbt's manifest.json, by (schema, relation name)."""
    from borderwatch.warehouse import load_manifest

    try:
        manifest = load_manifest(settings)
    except (OSError, json.JSONDecodeError):
        return {}
    docs: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        columns = {c: (v.get("description") or "") for c, v in (node.get("columns") or {}).items()}
        key = (str(node.get("schema")), str(node.get("alias") or node.get("name")))
        docs[key] = (node.get("description") or "", {c: d for c, d in columns.items() if d})
    return docs


def _meta_ready(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("select to_regclass(%s)", (f"{META_SCHEMA}.state",)).fetchone()
    return bool(row and row[0])


def _ensure_meta(conn: psycopg.Connection[Any]) -> None:
    """Create the bookkeeping schema once (idempotent)."""
    with conn.transaction():
        conn.execute(f"create schema if not exists {META_SCHEMA}")
        conn.execute(
            f"""create table if not exists {META_SCHEMA}.publications (
                version text primary key,
                created_at timestamptz,
                code_version text,
                gate_passed boolean not null,
                gate jsonb not null,
                manifest jsonb not null,
                row_counts jsonb not null,
                schemas text[] not null,
                loaded_at timestamptz not null default now(),
                load_seconds double precision,
                dropped_at timestamptz
            )"""
        )
        conn.execute(
            f"""create table if not exists {META_SCHEMA}.row_counts (
                version text not null references {META_SCHEMA}.publications on delete cascade,
                relation text not null,
                row_count bigint not null,
                primary key (version, relation)
            )"""
        )
        conn.execute(
            f"""create table if not exists {META_SCHEMA}.switches (
                switched_at timestamptz not null default clock_timestamp(),
                version text not null,
                previous text
            )"""
        )
        conn.execute(
            f"""create table if not exists {META_SCHEMA}.state (
                id boolean primary key default true check (id),
                version text not null,
                switched_at timestamptz not null
            )"""
        )
        for table, text in {
            "publications": "One row per version loaded into PostgreSQL: the quality gate's verdict, the "
            "publication manifest and its row counts (dropped_at: removed by retention).",
            "row_counts": "One row per version × published relation: rows in the published DuckDB file.",
            "switches": "One row per switch of the stable schemas (marts, reference) to a version.",
            "state": "The version the stable schemas serve now (one row).",
        }.items():
            conn.execute(
                sql.SQL("comment on table {} is {}").format(
                    sql.Identifier(META_SCHEMA, table), sql.Literal(text)
                )
            )


def _ensure_reader_role(conn: psycopg.Connection[Any], config: ServingSettings) -> None:
    """The BI role: may connect and read the stable schemas, nothing else (read-only by default too)."""
    role = sql.Identifier(config.reader_role)
    try:
        with conn.transaction():
            exists = conn.execute(
                "select 1 from pg_roles where rolname = %s", (config.reader_role,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("create role {} nologin").format(role))
                conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(role))
            if config.reader_password:
                conn.execute(
                    sql.SQL("alter role {} login password {}").format(
                        role, sql.Literal(config.reader_password)
                    )
                )
            database = sql.Identifier(conn.info.dbname)
            conn.execute(sql.SQL("grant connect on database {} to {}").format(database, role))
            # BI accounts must not create anything: no temp tables, nothing in public.
            conn.execute(sql.SQL("revoke temporary on database {} from public").format(database))
            conn.execute("revoke create on schema public from public")
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ServingError(
            f"{DSN_ENV}: the serving user {conn.info.user!r} may not set up the BI role "
            f"{config.reader_role!r} "
            f"({exc}). Give it CREATEROLE and ownership of database {conn.info.dbname!r}, or create the role "
            "yourself as described in the README."
        ) from exc


def _load_version(
    conn: psycopg.Connection[Any], dsn: str, publication: Publication, relations: list[Relation]
) -> None:
    """Create the version's schemas and tables, COPY them in parallel, check every count, then record it.

    The COPY jobs (a relation, or a rowid range of a large table) each run in their own transaction, as
    ``pg_restore --jobs`` does, on ``LOAD_JOBS`` connections, so several PostgreSQL backends share the
    work. Readers never see a half-loaded version: only the stable views point at a version, and only after
    its ``publications`` row is committed, last. A load that dies half-way leaves unreferenced tables that
    the next load of that version, or retention, drops.
    """
    manifest = json.loads(publication.manifest_path.read_text(encoding="utf-8"))
    expected = {k: int(v) for k, v in manifest.get("row_counts", {}).items()}
    schemas = sorted({r.schema for r in relations})
    started = time.monotonic()
    jobs = [
        (relation, rows)
        for relation in sorted(relations, key=lambda r: -expected.get(r.key, 0))
        for rows in _row_ranges(relation, expected.get(relation.key, 0))
    ]
    source = duck.connect(publication.database_path, read_only=True)
    counts = dict.fromkeys((r.key for r in relations), 0)
    connections = _LoadConnections(dsn)
    try:
        with ThreadPoolExecutor(max_workers=LOAD_JOBS, thread_name_prefix="serving-load") as pool:
            # the load connections open (a backend start each) while the tables are created
            opening = [pool.submit(connections.open) for _ in range(LOAD_JOBS)]
            _create_version_tables(conn, publication.version, schemas, relations)
            for opened in opening:
                opened.result()
            futures = {
                pool.submit(_copy_job, connections, source, relation, publication.version, rows): relation
                for relation, rows in jobs
            }
            try:
                for index, future in enumerate(as_completed(futures)):
                    counts[futures[future].key] += future.result()
                    if index == 0:
                        _crash_point("load")
            except BaseException:
                for future in futures:  # do not start the rest of a load that has already failed
                    future.cancel()
                raise
    finally:
        connections.close()
        source.close()
    wrong = {k: (expected.get(k), n) for k, n in counts.items() if k in expected and expected[k] != n}
    if wrong:
        raise ServingError(
            f"version {publication.version}: PostgreSQL row counts differ from the manifest "
            f"(manifest, PostgreSQL): {wrong}; nothing was switched"
        )
    gate = manifest.get("gate") or {}
    # synchronous (the session default): its commit flushes the WAL of every load job committed before it
    with conn.transaction():
        conn.execute(
            f"""insert into {META_SCHEMA}.publications
                (version, created_at, code_version, gate_passed, gate, manifest, row_counts, schemas,
                 load_seconds)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                publication.version,
                manifest.get("created_at") or None,
                manifest.get("code_version"),
                bool(gate.get("passed", False)),
                Jsonb(gate),
                Jsonb(manifest),
                Jsonb(counts),
                [version_schema(publication.version, s) for s in schemas],
                time.monotonic() - started,
            ),
        )
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into {META_SCHEMA}.row_counts (version, relation, row_count) values (%s, %s, %s)",
                [(publication.version, k, n) for k, n in sorted(counts.items())],
            )


def _create_version_tables(
    conn: psycopg.Connection[Any], version: str, schemas: list[str], relations: list[Relation]
) -> None:
    """The version's schemas, created afresh (a version dropped by retention and now rolled back to, or a
    crashed load, is loaded again), with every table and its comments, in one transaction."""
    with conn.transaction():
        conn.execute(f"delete from {META_SCHEMA}.publications where version = %s", (version,))
        script: list[sql.Composable] = []
        for schema in schemas:
            name = sql.Identifier(version_schema(version, schema))
            script += [
                sql.SQL("drop schema if exists {} cascade").format(name),
                sql.SQL("create schema {}").format(name),
            ]
        for relation in relations:
            script += _create_table(relation, version_schema(version, relation.schema))
        _run_script(conn, script)


def _row_ranges(relation: Relation, rows: int) -> list[tuple[int, int | None]]:
    """The ``rowid`` ranges [start, stop) of a relation's COPY jobs: a large table is cut into up to
    ``LOAD_JOBS`` contiguous ranges (each job reads only its own row groups), a view never (no rowid).

    The last range is open-ended, so rowid gaps (deleted rows) can never drop a row.
    """
    parts = 1 if relation.is_view or rows < SLICE_ROWS else min(LOAD_JOBS, -(-rows // SLICE_ROWS))
    step = -(-rows // parts)
    return [(part * step, None if part == parts - 1 else (part + 1) * step) for part in range(parts)]


def _create_table(relation: Relation, target_schema: str) -> list[sql.Composable]:
    """The table of one relation in a version schema, with its comments."""
    target = sql.Identifier(target_schema, relation.name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in relation.columns
    )
    return [
        sql.SQL("create table {} ({})").format(target, columns),
        _comment("table", target, relation.comment),
        *(
            _comment("column", sql.Identifier(target_schema, relation.name, c.name), c.comment)
            for c in relation.columns
        ),
    ]


class _LoadConnections:
    """The load's ADBC connections (a connection costs a backend start): opened once, each used by one
    COPY job at a time, closed together when the load ends.

    Load sessions commit with ``synchronous_commit = off``: a job's commit does not wait for its WAL flush.
    That is safe because nothing reads a version before its ``publications`` row commits synchronously,
    and that flush covers every WAL record written before it (WAL is one sequence).
    """

    def __init__(self, dsn: str) -> None:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
        params.setdefault("connect_timeout", 10)
        params["application_name"] = "borderwatch-serving-load"
        self._dsn = psycopg.conninfo.make_conninfo("", **params)
        self._idle: queue.SimpleQueue[adbc_pg.Connection] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._opened: list[adbc_pg.Connection] = []

    def open(self) -> None:
        conn = adbc_pg.connect(self._dsn)
        with self._lock:
            self._opened.append(conn)
        with conn.cursor() as cur:
            cur.execute("set synchronous_commit = off")
        conn.commit()
        self._idle.put(conn)

    @contextmanager
    def take(self) -> Iterator[adbc_pg.Connection]:
        conn = self._idle.get()
        try:
            yield conn
        finally:
            self._idle.put(conn)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            try:
                conn.close()
            except adbc_driver_manager.Error:  # a connection the server already dropped
                log.debug("closing a load connection failed", exc_info=True)


def _copy_job(
    connections: _LoadConnections,
    source: duckdb.DuckDBPyConnection,
    relation: Relation,
    version: str,
    rows: tuple[int, int | None],
) -> int:
    """One COPY job in its own transaction on an idle load connection; returns the rows it stored."""
    cursor = source.cursor()  # a DuckDB connection is not shared between threads; its cursors are
    try:
        with connections.take() as conn:
            try:
                count = copy_relation(conn, cursor, relation, version_schema(version, relation.schema), rows)
                conn.commit()
            except BaseException:
                with contextlib.suppress(adbc_driver_manager.Error):
                    conn.rollback()
                raise
    finally:
        cursor.close()
    return count


def copy_relation(
    conn: adbc_pg.Connection,
    source: duckdb.DuckDBPyConnection,
    relation: Relation,
    target_schema: str,
    rows: tuple[int, int | None] = (0, None),
) -> int:
    """COPY a relation (or a rowid range of it) from DuckDB into its PostgreSQL table, in the caller's
    transaction: DuckDB streams Arrow record batches, ADBC writes them as binary COPY (in C, never row by
    row in Python; binary spares PostgreSQL the text parsing that dominated the CSV load).

    Returns the rows COPY stored (all or nothing: a failed COPY raises and stores none).
    """
    query = f"select {', '.join(map(_arrow_column, relation.columns))} "
    query += f"from {_duck_ident(relation.schema)}.{_duck_ident(relation.name)}"
    start, stop = rows
    if not relation.is_view and (start, stop) != (0, None):
        query += f" where rowid >= {int(start)}" + ("" if stop is None else f" and rowid < {int(stop)}")
    with conn.cursor() as cur:
        return int(
            cur.adbc_ingest(relation.name, source.sql(query), mode="append", db_schema_name=target_schema)
        )


def _arrow_column(column: Column) -> str:
    """The DuckDB expression whose Arrow form ADBC writes as the column's PostgreSQL binary COPY value.

    Most types map one to one. jsonb's binary form is a version byte (1) then the JSON text, uuid's the 16
    raw bytes: both travel as BLOB. Unsigned and huge integers are cast to the signed or decimal type of
    their PostgreSQL column (a value that does not fit fails the load loudly instead of wrapping).
    """
    name = _duck_ident(column.name)
    duck = column.duckdb_type.strip().upper()
    if column.pg_type == "jsonb":
        text = f"{name}::varchar" if duck == "JSON" else f"to_json({name})::varchar"
        return f"'\\x01'::blob || encode({text}) as {name}"
    if column.pg_type == "uuid":
        return f"unhex(replace({name}::varchar, '-', '')) as {name}"
    if duck in _ARROW_CASTS:
        return f"{name}::{_ARROW_CASTS[duck]} as {name}"
    return name


def _switch(
    conn: psycopg.Connection[Any], config: ServingSettings, version: str, relations: list[Relation]
) -> str | None:
    """Recreate the stable schemas' views onto ``version`` in one transaction; returns the previous version.

    The transaction takes ACCESS EXCLUSIVE locks on the old views, so it waits for readers' running
    statements and blocks new ones until it commits; a short lock_timeout plus retries means the switch,
    not a reader, gives way when lock orders cross.
    """
    previous: str | None = None
    retrying = Retrying(
        retry=retry_if_exception_type((psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected)),
        wait=wait_random_exponential(multiplier=0.05, max=2),
        stop=stop_after_attempt(100),
        reraise=True,
    )
    for attempt in retrying:
        with attempt, conn.transaction():
            conn.execute(f"set local lock_timeout = '{SWITCH_LOCK_TIMEOUT}'")
            _lock_stable_relations(conn)
            previous = served_version(conn)
            _recreate_stable_views(conn, config, version, relations)
            conn.execute(
                f"""insert into {META_SCHEMA}.state (id, version, switched_at) values (true, %s, now())
                    on conflict (id) do update set version = excluded.version, switched_at = now()""",
                (version,),
            )
            conn.execute(
                f"insert into {META_SCHEMA}.switches (version, previous) values (%s, %s)", (version, previous)
            )
            _crash_point("switch")
    return previous


def _lock_stable_relations(conn: psycopg.Connection[Any]) -> None:
    """Take every lock the switch needs up front, in one statement.

    A reader's statement holds all its locks while it executes, so waiting for it cannot deadlock; new
    readers queue behind this request. Taking the locks one by one while dropping would let a reader
    that already holds ``borderwatch_meta.current`` wait on a view this transaction holds: a deadlock.
    """
    rows = conn.execute(
        """select format('%%I.%%I', n.nspname, c.relname)
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relkind in ('r', 'v', 'm', 'p', 'f')
             and (n.nspname = any(%s) or (n.nspname = %s and c.relname = 'current'))
           order by n.nspname, c.relname""",
        (list(PUBLISHED_SCHEMAS), META_SCHEMA),
    ).fetchall()
    if rows:
        conn.execute(f"lock table {', '.join(r[0] for r in rows)} in access exclusive mode")


def _recreate_stable_views(
    conn: psycopg.Connection[Any], config: ServingSettings, version: str, relations: list[Relation]
) -> None:
    reader = sql.Identifier(config.reader_role)
    current = sql.Identifier(META_SCHEMA, "current")
    script: list[sql.Composable] = []
    for schema in map(sql.Identifier, PUBLISHED_SCHEMAS):
        script += [
            sql.SQL("drop schema if exists {} cascade").format(schema),
            sql.SQL("create schema {}").format(schema),
            _comment("schema", schema, f"BorderWatch published data: views onto version {version}"),
            sql.SQL("grant usage on schema {} to {}").format(schema, reader),
        ]
    for relation in relations:
        view = sql.Identifier(relation.schema, relation.name)
        source = sql.Identifier(version_schema(version, relation.schema), relation.name)
        script += [
            sql.SQL("create view {} as select * from {}").format(view, source),
            _comment("view", view, relation.comment),
            *(
                _comment("column", sql.Identifier(relation.schema, relation.name, c.name), c.comment)
                for c in relation.columns
            ),
            sql.SQL("grant select on {} to {}").format(view, reader),
        ]
    script += [
        sql.SQL("drop view if exists {}").format(current),
        sql.SQL(
            "create view {} as select p.version, p.created_at, p.code_version, p.gate_passed, p.gate, "
            "p.row_counts, p.manifest, p.loaded_at from {} as p where p.version = {}"
        ).format(current, sql.Identifier(META_SCHEMA, "publications"), sql.Literal(version)),
        _comment("view", current, "The version BI readers see now: gate verdict, manifest and row counts"),
        sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(META_SCHEMA), reader),
        *(
            sql.SQL("grant select on {} to {}").format(sql.Identifier(META_SCHEMA, name), reader)
            for name in ("current", "publications", "row_counts", "switches", "state")
        ),
    ]
    _run_script(conn, script)


def _apply_retention(conn: psycopg.Connection[Any], settings: Settings, current: str) -> list[str]:
    """Drop loaded versions whose files retention removed (the served one always stays)."""
    keep = set(list_versions(settings)) | {current}
    dropped = []
    for version in loaded_versions(conn):
        if version in keep:
            continue
        with conn.transaction():
            row = conn.execute(
                f"select schemas from {META_SCHEMA}.publications where version = %s", (version,)
            ).fetchone()
            for schema in row[0] if row else []:
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            conn.execute(
                f"update {META_SCHEMA}.publications set dropped_at = now() where version = %s", (version,)
            )
        dropped.append(version)
    _drop_orphan_schemas(conn)
    return dropped


def _drop_orphan_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Version schemas no recorded version owns: what a load that died half-way left behind."""
    rows = conn.execute(
        f"""select n.nspname from pg_namespace n
            where n.nspname like %s and not exists (
                select 1 from {META_SCHEMA}.publications p
                where p.dropped_at is null and n.nspname = any(p.schemas))""",
        (VERSION_SCHEMA_PREFIX.replace("_", "\\_") + "%",),
    ).fetchall()
    for (schema,) in rows:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    return [str(r[0]) for r in rows]


def _comment(kind: str, target: sql.Composable, text: str) -> sql.Composed:
    return sql.SQL("comment on {} {} is {}").format(sql.SQL(kind), target, sql.Literal(text))


def _run_script(conn: psycopg.Connection[Any], statements: list[sql.Composable]) -> None:
    """Many parameterless statements in one round trip (simple query protocol), inside the caller's txn."""
    conn.execute(sql.SQL(";\n").join(statements))


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _crash_point(step: str) -> None:
    """Test hook: ``BORDERWATCH_SERVING_CRASH_AT=<step>`` kills this process (SIGKILL) at that step."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
