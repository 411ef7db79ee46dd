"""`borderwatch docs` (dbt docs generate) works on a built warehouse and documents every public mart."""

from __future__ import annotations

import json

import pytest

from borderwatch.warehouse import MART_TABLES, docs_generate

pytestmark = pytest.mark.slow


def test_dbt_docs_generate_writes_a_catalog_of_the_marts(wh_run) -> None:
    target = docs_generate(wh_run.settings)
    assert (target / "index.html").exists()
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    missing = {name for _schema, name in MART_TABLES} - documented
    assert not missing, f"marts missing from the docs catalog: {sorted(missing)}"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    exposures = manifest.get("exposures", {})
    assert exposures, "the BI dashboards are described as dbt exposures"
