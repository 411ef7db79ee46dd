"""The one way the library opens DuckDB: nothing downloaded, and the installation's memory budget.

``BORDERWATCH_DUCKDB_MEMORY_LIMIT`` (default 1.5 GB) is the memory a refresh's DuckDB work may hold. A
DuckDB handle fills its buffer pool up to its ``memory_limit`` before it evicts or spills, so the limit,
not the data, sets a step's resident memory. Another process of the same refresh that holds memory
meanwhile (GX's warm worker, started before ingest and alive until the audit) reserves (:func:`reserve`) its
share, and every handle opened while it lives gets the budget minus the reservations
(:func:`memory_limit`): dbt's connections through the profile's plugin (:mod:`borderwatch.dbt_memory`),
every other handle (candidate snapshot, publication, gate, reports, serving load) here. DuckDB spills to
``spill_dir`` instead of growing (default: ``<database>.tmp`` beside a database file); a ``:memory:`` handle
has no file to spill beside, so it needs ``spill_dir`` to stay under the limit.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
MEMORY_LIMIT_ENV = "BORDERWATCH_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1.5GB"
MIB = 1024**2
# a reservation never takes a handle below this share of the budget (DuckDB then spills more, it still runs)
_FLOOR_SHARE = 0.5
_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_reserved: dict[str, int] = {}
_reserved_lock = threading.Lock()


class MemoryLimitError(ValueError):
    """``BORDERWATCH_DUCKDB_MEMORY_LIMIT`` is not a size DuckDB understands."""


def configured_memory_limit() -> str:
    """The installation's DuckDB memory budget as configured (e.g. ``1.5GB``, ``8GiB``)."""
    return os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT


def size_bytes(size: str) -> int | None:
    """``1.5GB`` / ``8GiB`` / ``512MB`` in bytes (DuckDB's units: GB = 1000^3, GiB = 1024^3); None if not."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*", size.lower())
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2) or "b"])


def reserve(name: str, nbytes: int) -> None:
    """Another process of this refresh holds about ``nbytes`` while it lives: handles opened meanwhile
    get that much less (call :func:`release` when it ends)."""
    with _reserved_lock:
        _reserved[name] = nbytes


def release(name: str) -> None:
    """The process behind reservation ``name`` ended: later handles get the whole budget again."""
    with _reserved_lock:
        _reserved.pop(name, None)


def memory_limit() -> str:
    """The ``memory_limit`` for a handle opened now: the budget minus what concurrent processes reserved.

    Never below half the budget; a budget DuckDB may understand but this module cannot parse is passed
    through as configured (DuckDB then names the error)."""
    configured = configured_memory_limit()
    budget = size_bytes(configured)
    with _reserved_lock:
        reserved = sum(_reserved.values())
    if budget is None or not reserved:
        return configured
    return f"{max(budget - reserved, int(budget * _FLOOR_SHARE)) // MIB}MiB"


def apply_memory_limit(con: duckdb.DuckDBPyConnection) -> None:
    """Set :func:`memory_limit` on a connection (this module's, or one dbt-duckdb opened)."""
    limit = memory_limit()
    try:
        con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
    except duckdb.Error as exc:
        raise MemoryLimitError(
            f"{MEMORY_LIMIT_ENV}={limit!r} is not a DuckDB memory size ({exc}); use e.g. 1.5GB or 8GiB"
        ) from exc


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False, spill_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection without extension downloads, under the installation's memory limit."""
    con = duckdb.connect(str(database), read_only=read_only, config=dict(NO_DOWNLOADS))
    try:
        # DuckDB draws a progress bar for queries over 2 s even when nobody watches (task logs, CI)
        con.execute("SET enable_progress_bar = false")
        apply_memory_limit(con)
        if spill_dir is not None:
            spill_dir.mkdir(parents=True, exist_ok=True)
            con.execute(f"SET temp_directory = '{str(spill_dir).replace(chr(39), chr(39) * 2)}'")
    except BaseException:
        con.close()
        raise
    return con


def register(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    """``frame`` as the view ``name`` (``con.unregister`` it after). A result a caller left unfinished (a
    ``fetchone``) is run to its end first: DuckDB 2 refuses ``register`` while one is pending. DuckDB 1.x
    (still allowed by ``pyproject.toml``) has neither the check nor ``complete``."""
    finish = getattr(con, "complete", None)
    if finish is not None:
        finish()
    con.register(name, frame)


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Rows into ``table`` (its ``columns``, in order) in one statement, inside the caller's transaction:
    ``executemany`` runs one INSERT per row (~1 ms each: 0.3 s for a batch of 266 files, minutes for a
    hostile file with 100 k refused rows). Values are cast to the table's column types on insert."""
    if not rows:
        return
    name = f"_bw_rows_{uuid.uuid4().hex[:10]}"
    register(con, name, pd.DataFrame(list(rows), columns=list(columns), dtype=object))
    try:
        cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
    finally:
        con.unregister(name)
