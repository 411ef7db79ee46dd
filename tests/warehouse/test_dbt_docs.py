"""`borderwatch docs`: one static page of dbt docs, opened from disk, documenting every public mart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from offline_browser import dump_dom

from borderwatch.warehouse import MART_TABLES, docs_generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docs_page(wh_run) -> Path:
    return docs_generate(wh_run.settings)


def test_dbt_docs_generate_writes_a_catalog_of_the_marts(docs_page: Path) -> None:
    target = docs_page.parent
    assert docs_page.name == "static_index.html" and docs_page.is_file()
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    missing = {name for _schema, name in MART_TABLES} - documented
    assert not missing, f"marts missing from the docs catalog: {sorted(missing)}"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.get("exposures"), "the BI dashboards are described as dbt exposures"
    assert "__overview__" in json.dumps(manifest["docs"]), "the project overview page is missing"


def test_marts_carry_owner_group_access_and_tags(docs_page: Path) -> None:
    manifest = json.loads((docs_page.parent / "manifest.json").read_text(encoding="utf-8"))
    marts = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert manifest["groups"]["group.borderwatch.warehouse"]["owner"]["email"]
    for _schema, name in MART_TABLES:
        node = marts[name]
        assert node["access"] == "public", name
        assert node["group"] == "warehouse", name
        assert "mart" in node["tags"] and len(node["tags"]) >= 2, name


def test_static_docs_render_from_disk_with_the_overview(docs_page: Path, tmp_path: Path) -> None:
    """What a person sees opening the file from disk, with every network request refused."""
    dom = dump_dom(docs_page, tmp_path / "profile", extra_args=["--virtual-time-budget=15000"])
    assert "BorderWatch warehouse" in dom  # the overview, rendered by the docs app from inlined data
    assert "fct_deportations" in dom
