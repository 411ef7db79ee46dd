"""An upgrade that changes an incremental mart's columns rebuilds that mart once, by itself, correctly.

Without this, ``on_schema_change='fail'`` stops every nightly build of an existing installation until an
operator runs a full refresh by hand, and appending the column would leave it NULL on every old row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from borderwatch.config import Settings, get_settings
from borderwatch.warehouse import build_warehouse, drifted_incremental_models, parse_project
from conftest import WarehouseRun, query

pytestmark = pytest.mark.slow


def test_a_mart_built_before_a_column_was_added_is_rebuilt_whole(wh_run: WarehouseRun, tmp_path) -> None:
    settings = get_settings(tmp_path / "home")
    settings.ensure_dirs()
    shutil.copy(wh_run.settings.build_db, settings.build_db)
    with duckdb.connect(str(settings.build_db)) as con:  # the table as an older release built it
        con.execute("alter table marts.fct_deportations drop column notes")

    drifted = drifted_incremental_models(settings, parse_project(settings))
    assert list(drifted) == ["model.borderwatch.fct_deportations"]
    assert "added ['notes']" in drifted["model.borderwatch.fct_deportations"]

    result = build_warehouse(settings)
    assert result.ok, result.failed_nodes
    assert result.rebuilt_models == ["fct_deportations"]
    sql = "select * exclude (_loaded_at) from marts.fct_deportations order by deportation_id"
    assert query(settings.build_db, sql) == wh_run.query(sql)
    assert drifted_incremental_models(settings, parse_project(settings)) == {}


def _copy_with(wh_run: WarehouseRun, home: Path, table: str, column: str) -> tuple[Settings, str]:
    """A copy of the warehouse whose ``table`` lacks ``column``, as an older release built it."""
    settings = get_settings(home)
    settings.ensure_dirs()
    shutil.copy(wh_run.settings.build_db, settings.build_db)
    with duckdb.connect(str(settings.build_db)) as con:
        (schema,) = con.execute(
            "select table_schema from information_schema.tables where table_name = ?", [table]
        ).fetchone()
        con.execute(f'alter table "{schema}"."{table}" drop column {column}')
    return settings, f'"{schema}"."{table}"'


@pytest.mark.parametrize(
    ("column", "found_before_the_build"),
    [
        ("_partition_key", True),  # declared in int_lineage.yml: found before dbt runs
        ("feed", False),  # not declared: dbt's own on_schema_change check refuses the model
    ],
)
def test_a_model_without_a_contract_that_changed_shape_is_rebuilt(
    wh_run: WarehouseRun, tmp_path: Path, column: str, found_before_the_build: bool
) -> None:
    """int_lineage has no enforced contract; either way the build rebuilds it once and succeeds."""
    settings, relation = _copy_with(wh_run, tmp_path / "home", "int_lineage", column)
    drifted = drifted_incremental_models(settings, parse_project(settings))
    assert ("model.borderwatch.int_lineage" in drifted) is found_before_the_build

    result = build_warehouse(settings)
    assert result.ok, result.failed_nodes
    assert "int_lineage" in result.rebuilt_models
    sql = f"select * exclude (_loaded_at) from {relation} order by all"
    assert query(settings.build_db, sql) == wh_run.query(sql)


DAY_PARTITIONED = {
    "int_deportations_matched": "intermediate.int_deportations_matched",
    "fct_deportations": "marts.fct_deportations",
    "int_figure_claims_unioned": "intermediate.int_figure_claims_unioned",
    "fct_figure_claims": "marts.fct_figure_claims",
    "int_lineage": "intermediate.int_lineage",
}


def test_deportation_partitions_of_an_earlier_form_are_rebuilt_once_by_day(
    wh_run: WarehouseRun, tmp_path: Path
) -> None:
    """Before partitions were by day, a key was crossing|nationality: a night's delete by day keys would
    leave every old row beside its rebuilt copy, so the five models are rebuilt whole, once."""
    settings = get_settings(tmp_path / "home")
    settings.ensure_dirs()
    shutil.copy(wh_run.settings.build_db, settings.build_db)
    strip_day = "regexp_replace(_partition_key, '\\|[0-9]{4}-[0-9]{2}-[0-9]{2}$', '')"
    with duckdb.connect(str(settings.build_db)) as con:  # the keys as the earlier release wrote them
        for relation in DAY_PARTITIONED.values():
            con.execute(f"update {relation} set _partition_key = {strip_day}")

    drifted = drifted_incremental_models(settings, parse_project(settings))
    assert sorted(drifted) == sorted(f"model.borderwatch.{name}" for name in DAY_PARTITIONED)
    assert "earlier form" in drifted["model.borderwatch.fct_deportations"]

    result = build_warehouse(settings)
    assert result.ok, result.failed_nodes
    assert set(DAY_PARTITIONED) <= set(result.rebuilt_models)
    for relation in DAY_PARTITIONED.values():
        sql = f"select * exclude (_loaded_at) from {relation} order by all"
        assert query(settings.build_db, sql) == wh_run.query(sql), relation
    assert drifted_incremental_models(settings, parse_project(settings)) == {}
