"""One dbt build per test session (dbt is slow to start): two loads, an incremental build in between."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from borderwatch.config import Settings, get_settings
from borderwatch.warehouse import BuildResult, build_warehouse

# helpers beside this file import the same way in pytest's prepend and importlib modes
sys.path.insert(0, str(Path(__file__).parent))
from wh_raw_fixture import create_raw_schema, load_first, load_second


@dataclass
class WarehouseRun:
    settings: Settings
    first: BuildResult
    second: BuildResult
    first_deportations: dict[str, dict[str, Any]]
    full_refresh_copy: Path

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows as dicts from the (final) build file."""
        return query(self.settings.build_db, sql, params)


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="session")
def wh_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarehouseRun]:
    """Load 1 → full build → load 2 → incremental build; plus a full-refresh build of a copy to compare."""
    home = tmp_path_factory.mktemp("wh") / "home"
    settings = get_settings(home)
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.build_db))
    tables = create_raw_schema(con, settings.feeds_dir)
    load_first(con, tables)
    con.close()
    first = build_warehouse(settings, full_refresh=True)
    first_deportations = {
        row["deportation_id"]: row for row in query(settings.build_db, "select * from marts.fct_deportations")
    }
    con = duckdb.connect(str(settings.build_db))
    load_second(con, tables)
    con.close()
    second = build_warehouse(settings)

    copy_home = tmp_path_factory.mktemp("wh_full") / "home"
    copy_settings = get_settings(copy_home)
    copy_settings.ensure_dirs()
    shutil.copy(settings.build_db, copy_settings.build_db)
    build_warehouse(
        copy_settings, full_refresh=True, select="fct_deportations fct_telecom_actions fct_figure_claims"
    )
    yield WarehouseRun(settings, first, second, first_deportations, copy_settings.build_db)
