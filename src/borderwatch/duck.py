"""The one way the library opens DuckDB: nothing downloaded, and the installation's memory limit.

dbt's connection gets ``BORDERWATCH_DUCKDB_MEMORY_LIMIT`` from the profile; every other DuckDB handle
(candidate snapshot, publication, gate, reports, serving load) gets it here, so no step of a night grows
past it: DuckDB spills to ``spill_dir`` instead (default: ``<database>.tmp`` beside a database file). A
``:memory:`` handle has no file to spill beside, so it needs ``spill_dir`` to stay under the limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
MEMORY_LIMIT_ENV = "BORDERWATCH_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1.5GB"  # the dbt profile's default too (dbt_project/profiles.yml)


class MemoryLimitError(ValueError):
    """``BORDERWATCH_DUCKDB_MEMORY_LIMIT`` is not a size DuckDB understands."""


def memory_limit() -> str:
    """The DuckDB ``memory_limit`` of this installation (e.g. ``1.5GB``, ``8GiB``)."""
    return os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False, spill_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection without extension downloads, under the installation's memory limit."""
    con = duckdb.connect(str(database), read_only=read_only, config=dict(NO_DOWNLOADS))
    try:
        limit = memory_limit()
        try:
            con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
        except duckdb.Error as exc:
            raise MemoryLimitError(
                f"{MEMORY_LIMIT_ENV}={limit!r} is not a DuckDB memory size ({exc}); use e.g. 1.5GB or 8GiB"
            ) from exc
        if spill_dir is not None:
            spill_dir.mkdir(parents=True, exist_ok=True)
            con.execute(f"SET temp_directory = '{str(spill_dir).replace(chr(39), chr(39) * 2)}'")
    except BaseException:
        con.close()
        raise
    return con
