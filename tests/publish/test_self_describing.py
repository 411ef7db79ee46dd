"""A self-describing warehouse readable by the BI drivers people have (issue 11).

One real ``dbt build`` on the shared raw fixture, snapshotted and published. Then: every published mart
column carries dbt's description as a comment, contract keys are declared, Parquet files carry the same
descriptions in their key-value metadata, the manifest holds the data dictionary, and a DuckDB 1.x reader
in its own virtualenv opens the file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import REPO_ROOT, Settings, get_settings
from borderwatch.gate import GateResult
from borderwatch.publish import Publication, dbt_dictionary, undocumented_columns

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

OLD_DUCKDB = "duckdb==1.5.5"  # what DBeaver, Metabase and Tableau drivers embed today
UV = REPO_ROOT / ".uv-bootstrap" / "bin" / "uv"


def _raw_fixture() -> ModuleType:
    path = REPO_ROOT / "tests" / "warehouse" / "wh_raw_fixture.py"
    spec = importlib.util.spec_from_file_location("bw_publish_raw_fixture", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class RealPublication:
    settings: Settings
    built: pipeline.Built
    publication: Publication
    manifest: dict


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPublication]:
    settings = get_settings(tmp_path_factory.mktemp("selfdoc") / "home")
    settings.ensure_dirs()
    raw = _raw_fixture()
    with duckdb.connect(str(settings.build_db)) as con:
        raw.load_first(con, raw.create_raw_schema(con, settings.feeds_dir))
    built = pipeline.build(settings, full_refresh=True)
    audited = pipeline.Audited(built.candidate, GateResult(passed=True, run_id="selfdoc"))
    publication = pipeline.publish(settings, audited, notify=False)
    yield RealPublication(settings, built, publication, json.loads(publication.manifest_path.read_text()))


def _comments(db: Path) -> tuple[dict[str, str | None], dict[str, str | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select schema_name || '.' || table_name, comment from duckdb_tables() "
            "where schema_name = 'marts' union all "
            "select schema_name || '.' || view_name, comment from duckdb_views() where schema_name = 'marts'"
        ).fetchall()
        columns = con.execute(
            "select schema_name || '.' || table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts'"
        ).fetchall()
    return dict(tables), dict(columns)


def test_every_published_mart_and_column_carries_its_description(real: RealPublication) -> None:
    tables, columns = _comments(real.publication.database_path)
    assert len(tables) >= 10 and len(columns) >= 100
    assert [t for t, comment in tables.items() if not comment] == []
    assert [c for c, comment in columns.items() if not comment] == []
    docs = dbt_dictionary(real.settings.home / "dbt" / "target" / "manifest.json")
    for name, comment in columns.items():
        relation, column = name.rsplit(".", 1)
        assert comment == docs[relation]["columns"][column], name


def test_reference_columns_keep_every_description_dbt_has(real: RealPublication) -> None:
    """Seeds are published too; a column without a comment there is one dbt does not describe either."""
    docs = dbt_dictionary(real.settings.home / "dbt" / "target" / "manifest.json")
    for name in undocumented_columns(real.manifest["dictionary"]):
        relation, column = name.rsplit(".", 1)
        assert not docs.get(relation, {}).get("columns", {}).get(column), f"{name} lost its description"


def test_contract_keys_are_declared_in_the_published_file(real: RealPublication) -> None:
    docs = dbt_dictionary(real.settings.home / "dbt" / "target" / "manifest.json")
    expected = {rel: entry["primary_key"] for rel, entry in docs.items() if entry["primary_key"]}
    assert expected, "the marts' contracts declare primary keys"
    tables = {rel: e for rel, e in real.manifest["dictionary"].items() if e["kind"] == "table"}
    declared = [rel for rel in expected if rel in tables]
    assert declared, "no published table carries its contract's key"
    for relation in declared:
        assert tables[relation]["primary_key"] == expected[relation], relation


def test_parquet_files_carry_the_descriptions(real: RealPublication) -> None:
    (part,) = real.manifest["parquet"]["fct_deportations"]
    path = real.settings.warehouse_dir / part
    metadata = dict(
        duckdb.sql(f"select decode(key), decode(value) from parquet_kv_metadata('{path}')").fetchall()
    )
    entry = real.manifest["dictionary"]["marts.fct_deportations"]
    assert metadata["borderwatch.version"] == real.publication.version
    assert metadata["borderwatch.description"] == entry["description"] != ""
    columns = json.loads(metadata["borderwatch.columns"])
    assert columns == {c: spec["description"] for c, spec in entry["columns"].items()}
    assert all(columns.values())


def test_the_manifest_holds_the_data_dictionary(real: RealPublication) -> None:
    dictionary = real.manifest["dictionary"]
    assert set(dictionary) >= {f"marts.{m}" for m in real.manifest["parquet"]}
    for relation, entry in dictionary.items():
        assert entry["kind"] in ("table", "view") and entry["columns"], relation
        assert all(spec["type"] for spec in entry["columns"].values()), relation
    first = next(iter(dictionary["marts.fct_raids"]["columns"].values()))
    assert first["type"] == "VARCHAR" and first["description"]


OLD_READER = textwrap.dedent(
    """
    import json, sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(json.dumps({
        "version": duckdb.__version__,
        "raids": con.execute("select count(*) from marts.fct_raids").fetchone()[0],
        "comments": dict(con.execute(
            "select column_name, comment from duckdb_columns() where table_name = 'fct_raids'"
        ).fetchall()),
    }))
    """
)


def test_a_duckdb_1x_reader_opens_the_published_file(real: RealPublication, tmp_path: Path) -> None:
    venv = tmp_path / "duckdb-1x"
    subprocess.run([str(UV), "venv", "-q", str(venv)], check=True, timeout=120)
    env = dict(os.environ, VIRTUAL_ENV=str(venv))
    install = subprocess.run(
        [str(UV), "pip", "install", "-q", OLD_DUCKDB], env=env, capture_output=True, text=True, timeout=600
    )
    if install.returncode != 0:
        text = install.stderr.lower()
        if any(s in text for s in ("failed to fetch", "dns", "connect", "network", "timed out", "offline")):
            pytest.skip(f"PyPI unreachable, cannot install {OLD_DUCKDB}: {install.stderr.strip()[:300]}")
        pytest.fail(install.stderr)
    python = venv / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", OLD_READER, str(real.settings.current_db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["version"].startswith("1.")
    assert seen["raids"] == real.manifest["row_counts"]["marts.fct_raids"]
    columns = real.manifest["dictionary"]["marts.fct_raids"]["columns"]
    assert seen["comments"] == {c: spec["description"] for c, spec in columns.items()}
