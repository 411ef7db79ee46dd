"""House conventions checked on the manifest of the session build (dbt ignores misspelled YAML keys)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from borderwatch.publish import dictionary as publish_dictionary
from conftest import WarehouseRun

pytestmark = pytest.mark.slow

PREFIX = {"staging": "stg_", "intermediate": "int_", "marts": ("fct_", "dim_")}
FK_SUFFIXES = ("_iso3", "admin1_iso", "site_id", "agency_id", "raid_id")
FK_EXEMPT = {
    ("fct_raids_history", "raid_id"): "tombstoned raids stay in history but leave fct_raids",
    ("dim_country", "fips_collides_with_iso3"): "self reference built from the same seed",
}
# a view whose rows are another model's, keyed and tested there (the same resolution, partition by partition)
KEY_TESTED_IN = {"int_figure_claims_resolved": ("fct_figure_claims", "claim_id")}
UNIQUE_TESTS = set(publish_dictionary.UNIQUE_TESTS)  # with the partition-local keys of 10 M-row models


@pytest.fixture(scope="module")
def manifest(wh_run: WarehouseRun) -> dict[str, Any]:
    assert wh_run.second.manifest_path is not None
    return json.loads(Path(wh_run.second.manifest_path).read_text(encoding="utf-8"))


def _models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def _tests_by_model(manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            out.setdefault(node["attached_node"], []).append(node)
    return out


def test_every_model_is_documented_in_its_own_yaml(manifest: dict[str, Any]) -> None:
    for model in _models(manifest):
        assert model["description"].strip(), f"{model['name']}: no description"
        assert model["patch_path"], f"{model['name']}: no YAML"
        assert Path(model["patch_path"].split("://")[-1]).stem == model["name"], model["patch_path"]
        assert Path(model["original_file_path"]).stem == model["name"]


def test_model_prefix_matches_its_folder(manifest: dict[str, Any]) -> None:
    for model in _models(manifest):
        layer = Path(model["original_file_path"]).parts[1]
        assert model["name"].startswith(PREFIX[layer]), model["original_file_path"]
        if layer == "staging":
            source_folder = Path(model["original_file_path"]).parts[2]
            assert model["name"].startswith(f"stg_{source_folder}__"), model["name"]


def test_only_staging_models_read_sources(manifest: dict[str, Any]) -> None:
    for model in _models(manifest):
        sources = [d for d in model["depends_on"]["nodes"] if d.startswith("source.")]
        if sources:
            assert model["name"].startswith("stg_"), model["name"]


def _constraints(model: dict[str, Any]) -> dict[str, set[str]]:
    """Contract constraints per column (DuckDB enforces not_null and primary_key on write)."""
    return {
        name: {c["type"] for c in column.get("constraints", [])}
        for name, column in model["columns"].items()
        if column.get("constraints")
    }


def _key_tests(model: dict[str, Any], tests: dict[str, list[dict[str, Any]]]) -> dict[str | None, set[str]]:
    """Per column, the names of its tests and contract constraints (a constraint replaces the test)."""
    kinds: dict[str | None, set[str]] = {}
    for test in tests.get(model["unique_id"], []):
        name = test["test_metadata"]["name"] if test.get("test_metadata") else "singular"
        if name == "not_null_columns":  # one node for several columns' not_null
            for column in test["test_metadata"]["kwargs"]["columns"]:
                kinds.setdefault(column, set()).add("not_null")
            continue
        kinds.setdefault(test.get("column_name"), set()).add("unique" if name in UNIQUE_TESTS else name)
    for column, names in _constraints(model).items():
        kinds.setdefault(column, set()).update("unique" if n == "primary_key" else n for n in names)
    return kinds


def test_every_model_has_a_primary_key_test(manifest: dict[str, Any]) -> None:
    tests = _tests_by_model(manifest)
    models = {m["name"]: m for m in _models(manifest)}
    for model in models.values():
        owner, column = KEY_TESTED_IN.get(model["name"], (model["name"], None))
        kinds = _key_tests(models[owner], tests)
        if column is not None:
            assert {"unique", "not_null"} <= kinds.get(column, set()), f"{owner}.{column}: key not tested"
            continue
        has_pk = any({"unique", "not_null"} <= names for names in kinds.values())
        has_combo = any("unique_combination_of_columns" in names for names in kinds.values())
        assert has_pk or has_combo, f"{model['name']}: no unique + not_null (or unique combination) test"


def _related_columns(tests: list[dict[str, Any]]) -> set[str]:
    """Columns with a parent check: a ``relationships`` test or a key of the model's ``foreign_keys`` test."""
    related = set()
    for t in tests:
        meta = t.get("test_metadata") or {}
        if meta.get("name") == "relationships":
            related.add(t["column_name"])
        elif meta.get("name") == "foreign_keys":
            related |= {key["column"] for key in meta["kwargs"]["keys"]}
    return related


def test_mart_foreign_keys_have_relationships_and_contracts(manifest: dict[str, Any]) -> None:
    tests = _tests_by_model(manifest)
    for model in _models(manifest):
        if not model["original_file_path"].startswith("models/marts/"):
            continue
        assert model["config"]["contract"]["enforced"], f"{model['name']}: contract not enforced"
        related = _related_columns(tests.get(model["unique_id"], []))
        pk = {
            t["column_name"]
            for t in tests.get(model["unique_id"], [])
            if t.get("test_metadata", {}).get("name") == "unique"
        } | {c for c, names in _constraints(model).items() if "primary_key" in names}
        for column in model["columns"]:
            if column.endswith(FK_SUFFIXES) and column not in pk and (model["name"], column) not in FK_EXEMPT:
                assert column in related, f"{model['name']}.{column}: foreign key without relationships test"


def test_incremental_models_replace_by_key_or_by_partition(manifest: dict[str, Any]) -> None:
    """An incremental model either merges by a unique key (delete+insert), or appends after a pre-hook that
    deleted the partitions it rebuilds (``delete_partitions``): never a plain append, which would add a
    row again each night."""
    incremental = {m["name"]: m for m in _models(manifest) if m["config"]["materialized"] == "incremental"}
    assert {"fct_deportations", "fct_telecom_actions", "fct_figure_claims"} <= set(incremental)
    for name, model in incremental.items():
        config = model["config"]
        hooks = " ".join(h["sql"] for h in config.get("pre-hook", []))
        if config["incremental_strategy"] == "append":
            assert "delete_partitions(" in hooks and not config["unique_key"], name
        else:
            assert config["incremental_strategy"] == "delete+insert" and config["unique_key"], name


def test_exposures_and_unit_tests_exist(manifest: dict[str, Any]) -> None:
    assert len(manifest["exposures"]) >= 2
    unit_models = {u["model"] for u in manifest["unit_tests"].values()}
    assert {
        "int_deportations_matched",
        "int_figure_claims_resolved",
        "fct_raid_persons",
        "dim_date",
    } <= unit_models
