"""The Superset dashboards as code (superset/assets) against a real published warehouse.

A warehouse is built by dbt from the shared raw fixture (tests/warehouse/wh_raw_fixture.py) and published;
then, through the same SQLAlchemy driver and options the Superset database connection declares
(duckdb-engine, read-only on current.duckdb), every dataset, column and metric the dashboards use must
exist and run, every chart's query must return rows, and each dashboard must read exactly the marts its
exposure in dbt_project/models/marts/_exposures.yml lists, under the exposure's url.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
import yaml

from borderwatch.config import Settings, get_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS = REPO_ROOT / "superset" / "assets"
EXPOSURES = REPO_ROOT / "dbt_project" / "models" / "marts" / "_exposures.yml"
RAW_FIXTURE = REPO_ROOT / "tests" / "warehouse" / "wh_raw_fixture.py"
URL_PREFIX = "http://127.0.0.1:8088/superset/dashboard/"


def _load(kind: str) -> dict[str, dict[str, Any]]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted((ASSETS / kind).rglob("*.yaml"))}


DATABASES, DATASETS, CHARTS, DASHBOARDS = (
    _load(k) for k in ("databases", "datasets", "charts", "dashboards")
)
BY_UUID = {d["uuid"]: d for d in DATASETS.values()}


def _raw_fixture() -> ModuleType:
    """The warehouse tests' raw-data helper, imported by path (importlib mode, no sys.path edits)."""
    if "wh_raw_fixture" not in sys.modules:
        spec = importlib.util.spec_from_file_location("wh_raw_fixture", RAW_FIXTURE)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["wh_raw_fixture"] = module
        spec.loader.exec_module(module)
    return sys.modules["wh_raw_fixture"]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """dbt build on the raw fixture, then a real publication (the gate is not what is under test here)."""
    from borderwatch import pipeline
    from borderwatch.gate import GateResult
    from borderwatch.warehouse import build_warehouse

    settings = get_settings(tmp_path_factory.mktemp("superset") / "home")
    settings.ensure_dirs()
    fixture = _raw_fixture()
    con = duckdb.connect(str(settings.build_db))
    fixture.load_first(con, fixture.create_raw_schema(con, settings.feeds_dir))
    con.close()
    assert build_warehouse(settings, full_refresh=True).ok
    audited = pipeline.Audited(
        candidate=pipeline.snapshot(settings), gate=GateResult(passed=True, run_id="bi")
    )
    pipeline.publish(settings, audited, notify=False)
    assert settings.current_db.exists()
    return settings


@pytest.fixture(scope="module")
def engine(published: Settings) -> sa.Engine:
    """The Superset connection (databases/BorderWatch.yaml) pointed at this test's current.duckdb."""
    (database,) = DATABASES.values()
    url = database["sqlalchemy_uri"].replace("/opt/borderwatch/home", str(published.home))
    connect_args = database["extra"]["engine_params"]["connect_args"]
    assert connect_args == {"read_only": True}, "BI opens the warehouse read-only"
    return sa.create_engine(url, connect_args=connect_args)


def _relation(dataset: dict[str, Any]) -> str:
    if dataset["sql"]:
        return f"({dataset['sql']}) as ds"
    return f'"{dataset["schema"]}"."{dataset["table_name"]}"'


def _marts_read(dataset: dict[str, Any]) -> set[str]:
    if dataset["sql"]:
        return set(re.findall(r"\bmarts\.(\w+)", dataset["sql"]))
    assert dataset["schema"] == "marts"
    return {dataset["table_name"]}


def _chart_metrics(chart: dict[str, Any]) -> list[str]:
    params = chart["params"]
    return list(params.get("metrics") or []) + ([params["metric"]] if params.get("metric") else [])


def _chart_columns(chart: dict[str, Any]) -> list[str]:
    params = chart["params"]
    return [c for c in [params.get("x_axis"), *(params.get("groupby") or [])] if c]


def test_assets_reference_each_other_consistently():
    (database,) = DATABASES.values()
    assert {d["database_uuid"] for d in DATASETS.values()} == {database["uuid"]}
    for name, chart in CHARTS.items():
        dataset = BY_UUID[chart["dataset_uuid"]]
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        columns = {c["column_name"] for c in dataset["columns"]}
        assert set(_chart_metrics(chart)) <= metrics, name
        assert set(_chart_columns(chart)) <= columns, name
        assert chart["params"]["viz_type"] == chart["viz_type"]
    placed = {
        node["meta"]["uuid"]
        for dashboard in DASHBOARDS.values()
        for node in dashboard["position"].values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }
    assert placed == {c["uuid"] for c in CHARTS.values()}, (
        "every chart on a dashboard, every placed chart exists"
    )
    assert (ASSETS / "metadata.yaml").is_file()


def test_dashboards_match_the_exposures():
    exposures = {e["name"]: e for e in yaml.safe_load(EXPOSURES.read_text())["exposures"]}
    by_slug = {d["slug"]: d for d in DASHBOARDS.values()}
    assert len(exposures) == len(by_slug)
    for name, exposure in exposures.items():
        assert exposure["url"].startswith(URL_PREFIX), name
        slug = exposure["url"].removeprefix(URL_PREFIX).strip("/")
        dashboard = by_slug[slug]
        assert dashboard["dashboard_title"] == exposure["label"]
        chart_uuids = {
            n["meta"]["uuid"]
            for n in dashboard["position"].values()
            if isinstance(n, dict) and n.get("type") == "CHART"
        }
        read = set().union(
            *(_marts_read(BY_UUID[c["dataset_uuid"]]) for c in CHARTS.values() if c["uuid"] in chart_uuids)
        )
        depends = {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in exposure["depends_on"]}  # type: ignore[union-attr]
        assert read == depends, f"{name}: dashboard reads {sorted(read)}, exposure lists {sorted(depends)}"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_column_and_metric_exists_in_the_published_marts(engine: sa.Engine, name: str):
    dataset = DATASETS[name]
    relation = _relation(dataset)
    with engine.connect() as conn:
        described = {
            row[0]: str(row[1]).upper()
            for row in conn.execute(sa.text(f"describe select * from {relation}")).fetchall()
        }
        for column in dataset["columns"]:
            assert column["column_name"] in described, f"{name}: no column {column['column_name']}"
            assert described[column["column_name"]] == column["type"], (name, column["column_name"])
        for metric in dataset["metrics"]:
            conn.execute(sa.text(f"select {metric['expression']} from {relation}")).fetchall()
        if dataset["main_dttm_col"]:
            assert next(c for c in dataset["columns"] if c["column_name"] == dataset["main_dttm_col"])[
                "is_dttm"
            ]


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_query_returns_rows(engine: sa.Engine, name: str):
    """The chart's own aggregate (group by its dimensions, its saved metrics) on the published file."""
    chart = CHARTS[name]
    dataset = BY_UUID[chart["dataset_uuid"]]
    expressions = {m["metric_name"]: m["expression"] for m in dataset["metrics"]}
    dims = [f'"{c}"' for c in _chart_columns(chart)]
    select = ", ".join([*dims, *(f'{expressions[m]} as "{m}"' for m in _chart_metrics(chart))])
    group = f" group by {', '.join(dims)}" if dims else ""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"select {select} from {_relation(dataset)}{group}")).fetchall()
    assert rows, f"{name}: the chart would be empty on the published warehouse"
