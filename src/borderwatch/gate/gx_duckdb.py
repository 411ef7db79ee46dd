"""Great Expectations 1.x on DuckDB, with every metric pushed down as SQL through duckdb-engine.

Two things break GX on duckdb-engine out of the box, and both are fixed here rather than by loading
tables into pandas:

* GX opens a SQLAlchemy connection per metric query and closes it *before* fetching the rows; closing
  rolls back, and a DuckDB connection drops its pending result on the next statement, so every metric
  comes back empty. :class:`DuckDBExecutionEngine` keeps ONE persisted SQLAlchemy connection for all
  metric queries (what GX already does for sqlite), so results survive until they are fetched.
* duckdb-engine's PostgreSQL-flavoured reflection queries ``pg_collation``/``regclass``, which DuckDB
  lacks, so GX cannot see a table's columns. :class:`BorderwatchDuckDBDialect` answers column
  reflection from ``duckdb_columns()``.

The candidate build file is opened once, read-only, by :func:`open_candidate`; every SQLAlchemy
connection is a cursor of that one database handle, and leaving the context closes them all so the
single writer can reopen the file.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import duckdb
import duckdb_engine
import sqlalchemy as sa
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.execution_engine.sqlalchemy_execution_engine import (
    SqlAlchemyExecutionEngine,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import reflection
from sqlalchemy.engine.interfaces import ReflectedColumn, ReflectedPrimaryKeyConstraint
from sqlalchemy.sql import sqltypes

from borderwatch import duck
from borderwatch.publish.core import attach_gate_inputs

DRIVER = "duckdb+borderwatch"
sa.dialects.registry.register("duckdb.borderwatch", __name__, "BorderwatchDuckDBDialect")


class CandidateOpenError(RuntimeError):
    """The candidate DuckDB file cannot be opened read-only (missing, or held by another writer)."""


class BorderwatchDuckDBDialect(duckdb_engine.Dialect):
    """duckdb-engine with column reflection that DuckDB can actually answer."""

    supports_statement_cache = False

    @reflection.cache
    def get_columns(
        self, connection: sa.Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedColumn]:
        """Columns from DuckDB's own catalog, so GX can resolve ``table.column_types``."""
        rows = connection.execute(
            sa.text(
                "select column_name, data_type, is_nullable, column_default from duckdb_columns() "
                "where table_name = :table and (schema_name = coalesce(:schema, current_schema()) "
                "or (database_name = :schema and schema_name = 'main')) "  # an attached gate-input file
                "order by column_index"
            ),
            {"table": str(table_name), "schema": schema},
        ).fetchall()
        if not rows:
            raise sa.exc.NoSuchTableError(f"{schema}.{table_name}" if schema else str(table_name))
        return [
            ReflectedColumn(
                name=str(name),
                type=self._type_for(str(data_type)),
                nullable=bool(nullable),
                default=None if default is None else str(default),
            )
            for name, data_type, nullable, default in rows
        ]

    def get_pk_constraint(
        self, connection: sa.Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedPrimaryKeyConstraint:
        """Marts carry no declared keys; uniqueness is tested by expectations instead."""
        return ReflectedPrimaryKeyConstraint(constrained_columns=[], name=None)

    def _type_for(self, data_type: str) -> sqltypes.TypeEngine[Any]:
        base = data_type.split("(")[0].strip().lower()
        if base.endswith("[]"):
            return sqltypes.ARRAY(sqltypes.NullType())
        type_cls = self.ischema_names.get(base) or duckdb_engine.ISCHEMA_NAMES.get(base)
        return type_cls() if type_cls is not None else sqltypes.NullType()


class _OpenDatabase:
    """One read-only DuckDB handle plus the cursors handed to SQLAlchemy, closed together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.root = duck.connect(path, read_only=True)
            attach_gate_inputs(self.root, path)
        except (duckdb.IOException, duckdb.ConnectionException, duckdb.InvalidInputException) as exc:
            raise CandidateOpenError(
                f"{path}: cannot open the candidate build file read-only for the quality gate: {exc}. "
                "Make sure the build finished and no process holds it open for writing."
            ) from exc
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def new_dbapi_connection(self) -> duckdb_engine.ConnectionWrapper:
        with self._lock:
            cursor = self.root.cursor()
            self._cursors.append(cursor)
        return duckdb_engine.ConnectionWrapper(cursor)

    def close(self) -> None:
        with self._lock:
            for cursor in self._cursors:
                with contextlib.suppress(duckdb.Error):
                    cursor.close()
            self._cursors.clear()
            self.root.close()


_OPEN: dict[str, _OpenDatabase] = {}
_OPEN_LOCK = threading.Lock()


def connection_string(path: Path) -> str:
    """The URL the DuckDB datasource uses; it only names a file opened by :func:`open_candidate`."""
    return f"{DRIVER}:///{Path(path).resolve()}"


def create_engine(url: str) -> sa.Engine:
    """A SQLAlchemy engine whose connections are cursors of the already-open candidate handle."""
    database = sa.make_url(url).database or ""
    with _OPEN_LOCK:
        opened = _OPEN.get(str(Path(database).resolve()))
    if opened is None:
        raise CandidateOpenError(
            f"{database}: not opened for validation; "
            "wrap GX work in borderwatch.gate.gx_duckdb.open_candidate()"
        )
    return sa.create_engine(url, creator=opened.new_dbapi_connection)


@contextlib.contextmanager
def open_candidate(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``path`` read-only for GX and plain SQL; on exit every connection to it is closed."""
    key = str(Path(path).resolve())
    if not Path(key).is_file():
        raise CandidateOpenError(f"{key}: candidate build file does not exist; run the dbt build first.")
    opened = _OpenDatabase(Path(key))
    with _OPEN_LOCK:
        if key in _OPEN:
            opened.close()
            raise CandidateOpenError(f"{key}: already opened for validation in this process")
        _OPEN[key] = opened
    try:
        yield opened.root
    finally:
        with _OPEN_LOCK:
            _OPEN.pop(key, None)
        opened.close()


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """SqlAlchemyExecutionEngine that keeps one connection so DuckDB results survive until fetched."""

    def __init__(self, *args: Any, connection_string: str | None = None, **kwargs: Any) -> None:
        if kwargs.get("engine") is None:
            if connection_string is None:
                raise CandidateOpenError("DuckDBExecutionEngine needs a connection_string or an engine")
            kwargs["engine"] = create_engine(connection_string)
        super().__init__(*args, **kwargs)
        # DuckDB speaks PostgreSQL's regex operator and type names; GX picks SQL by this module.
        self.dialect_module = postgresql

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[sa.Connection]:
        """Always the same connection: closing it between execute and fetch empties DuckDB results."""
        if self._connection is None or self._connection.closed:
            self._connection = self.engine.connect()
        try:
            yield self._connection
        except Exception:
            # One failing query (a typo in a suite) must not abort the shared transaction and turn every
            # later metric into "Current transaction is aborted": roll back, then let GX record the error.
            with contextlib.suppress(sa.exc.SQLAlchemyError, duckdb.Error):
                self._connection.rollback()
            raise

    def close(self) -> None:
        if self._connection is not None and not self._connection.closed:
            with contextlib.suppress(sa.exc.SQLAlchemyError, duckdb.Error):
                self._connection.close()
        self._connection = None
        self.engine.dispose()


class DuckDBDatasource(SQLDatasource):
    """Fluent GX datasource for a DuckDB file opened by :func:`open_candidate` (``add_duckdb``)."""

    type: Literal["duckdb"] = "duckdb"  # type: ignore[assignment]
    connection_string: str

    @property
    def execution_engine_type(self) -> builtins.type[SqlAlchemyExecutionEngine]:
        return DuckDBExecutionEngine

    def _create_engine(self) -> sa.Engine:
        return create_engine(str(self.connection_string))
