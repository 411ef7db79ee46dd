"""dbt's raw sources against the declared raw contract (``borderwatch.ingest.contract``).

The contract is the one source of truth: the sources YAMLs name tables and the columns they test or
describe, and this check fails when one of them names a table or column the loader does not create, or
when a feed's raw table has no source at all (dbt would only fail at run time).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from borderwatch.ingest.contract import CONTROL_TABLES, table_columns
from borderwatch.specs import load_specs

ROOT = Path(__file__).resolve().parents[2]


def _contract() -> dict[str, dict[str, str]]:
    tables = {name: dict(cols) for name, cols in CONTROL_TABLES.items()}
    for spec in load_specs(ROOT / "feeds").values():
        tables |= {t.table: dict(table_columns(t)) for t in spec.tables}
    return tables


def _sources() -> dict[str, tuple[Path, list[dict]]]:
    found: dict[str, tuple[Path, list[dict]]] = {}
    for path in sorted((ROOT / "dbt_project/models/staging").glob("*/_*sources*.yml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            assert source.get("schema") == "raw", f"{path}: source {source['name']} must read schema raw"
            for table in source["tables"]:
                found[table["name"]] = (path, table.get("columns") or [])
    return found


def test_every_source_column_is_in_the_raw_contract() -> None:
    contract, problems = _contract(), []
    for table, (path, columns) in _sources().items():
        if table not in contract:
            problems.append(f"{path.name}: table {table} is not a raw table of the contract")
            continue
        for column in columns:
            declared = contract[table].get(column["name"])
            if declared is None:
                problems.append(f"{path.name}: {table}.{column['name']} is not a column of the contract")
            elif "data_type" in column and column["data_type"].upper() != declared.upper():
                problems.append(
                    f"{path.name}: {table}.{column['name']} is {declared}, not {column['data_type']}"
                )
    assert not problems, "\n".join(problems)


def test_every_feed_table_has_a_source() -> None:
    """Control tables are sources only where dbt reads them (``_quarantine``); feed tables always are."""
    missing = sorted(set(_contract()) - set(CONTROL_TABLES) - set(_sources()))
    assert not missing, f"raw tables without a dbt source (add them to a _<source>__sources.yml): {missing}"
