"""Tests merged into one node per model (foreign_keys, not_null_columns) still name the rule that broke."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import WarehouseRun

pytestmark = pytest.mark.slow


def _foreign_key_tests(run: WarehouseRun) -> dict[str, dict[str, Any]]:
    assert run.second.manifest_path is not None
    nodes = json.loads(Path(run.second.manifest_path).read_text(encoding="utf-8"))["nodes"]
    return {
        n["name"]: n
        for n in nodes.values()
        if n["resource_type"] == "test" and (n.get("test_metadata") or {}).get("name") == "foreign_keys"
    }


def _compiled(run: WarehouseRun, node: dict[str, Any]) -> str:
    target = Path(run.second.manifest_path or "").parent
    return (target / "compiled" / node["package_name"] / node["original_file_path"] / node["path"]).read_text(
        encoding="utf-8"
    )


def test_every_key_of_a_merged_test_passed_in_the_build(wh_run: WarehouseRun) -> None:
    tests = _foreign_key_tests(wh_run)
    assert "fct_deportations_foreign_keys" in tests
    statuses = {r["unique_id"]: r["status"] for r in wh_run.second.results}
    for node in tests.values():
        assert statuses[node["unique_id"]] == "pass", node["name"]
    # the parents are dependencies, so the test runs after every one of them is built
    deportation_keys = tests["fct_deportations_foreign_keys"]
    parents = {d.rsplit(".", 1)[-1] for d in deportation_keys["depends_on"]["nodes"]}
    assert {"fct_deportations", "dim_country", "dim_site", "dim_date", "fct_raids"} <= parents


def test_a_broken_key_is_a_failing_row_naming_its_column(wh_run: WarehouseRun, tmp_path: Path) -> None:
    node = _foreign_key_tests(wh_run)["fct_deportations_foreign_keys"]
    db = tmp_path / "broken.duckdb"
    shutil.copy(wh_run.settings.build_db, db)
    con = duckdb.connect(str(db))
    try:
        victim = con.execute("select deportation_id from marts.fct_deportations limit 1").fetchone()
        assert victim is not None
        con.execute(
            "update marts.fct_deportations set nationality_iso3 = 'ZZZ', crossing_site_id = 'no_such_site' "
            "where deportation_id = ?",
            [victim[0]],
        )
        sql = _compiled(wh_run, node).replace(f'"{wh_run.settings.build_db.stem}".', "")
        failing = con.execute(sql).fetchall()
    finally:
        con.close()
    assert sorted(failing) == [
        ("crossing_site_id", "no_such_site", "dim_site.site_id"),
        ("nationality_iso3", "ZZZ", "dim_country.iso3"),
    ]


def test_merged_not_null_fails_once_per_null_cell_naming_its_column(
    wh_run: WarehouseRun, tmp_path: Path
) -> None:
    assert wh_run.second.manifest_path is not None
    nodes = json.loads(Path(wh_run.second.manifest_path).read_text(encoding="utf-8"))["nodes"]
    node = next(n for n in nodes.values() if n["name"] == "int_deportations_matched_not_null")
    assert node["test_metadata"]["kwargs"]["columns"] == ["deportation_id", "_partition_key"]
    db = tmp_path / "nulls.duckdb"
    shutil.copy(wh_run.settings.build_db, db)
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "update intermediate.int_deportations_matched set _partition_key = null where deportation_id in "
            "(select deportation_id from intermediate.int_deportations_matched order by 1 limit 2)"
        )
        sql = _compiled(wh_run, node).replace(f'"{wh_run.settings.build_db.stem}".', "")
        failing = con.execute(sql).fetchall()
    finally:
        con.close()
    assert failing == [("_partition_key",), ("_partition_key",)]


def test_the_gate_lists_each_rule_of_a_merged_test_as_its_target(wh_run: WarehouseRun) -> None:
    from borderwatch.gate.dbt_rules import dbt_checks

    checks = {c["name"].split(".")[2]: c for c in dbt_checks(wh_run.second) if c["name"].startswith("test.")}
    keys = checks["fct_deportations_foreign_keys"]["target"]
    assert keys.startswith("fct_deportations.") and "nationality_iso3 -> dim_country.iso3" in keys
    assert "incident_id -> fct_raids.incident_id" in keys
    columns = checks["int_deportations_matched_not_null"]["target"]
    assert columns == "int_deportations_matched.deportation_id, _partition_key"


def test_unique_combination_finds_a_repeated_raw_row_through_its_hash_prefilter(
    wh_run: WarehouseRun, tmp_path: Path
) -> None:
    """The generic test groups 64-bit hashes of the combination first and the columns only for repeated
    hashes: a (file, row) loaded twice must still come out once, with its count, and nothing else."""
    assert wh_run.second.manifest_path is not None
    nodes = json.loads(Path(wh_run.second.manifest_path).read_text(encoding="utf-8"))["nodes"]
    node = next(
        n
        for n in nodes.values()
        if (n.get("test_metadata") or {}).get("name") == "unique_combination_of_columns"
        and n["attached_node"].endswith(".stg_kh_gdi__deportations")
    )
    db = tmp_path / "repeated.duckdb"
    shutil.copy(wh_run.settings.build_db, db)
    con = duckdb.connect(str(db))
    try:
        sql = _compiled(wh_run, node).replace(f'"{wh_run.settings.build_db.stem}".', "")
        assert con.execute(sql).fetchall() == []
        victim = con.execute(
            "select _file_sha256, _row_number from raw.kh_gdi_deportations order by all limit 1"
        ).fetchone()
        assert victim is not None
        con.execute(
            "insert into raw.kh_gdi_deportations select * from raw.kh_gdi_deportations "
            "where _file_sha256 = ? and _row_number = ?",
            list(victim),
        )
        failing = con.execute(sql).fetchall()
    finally:
        con.close()
    assert failing == [(victim[0], victim[1], 2)]
