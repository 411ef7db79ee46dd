"""The data dictionary: dbt's descriptions and contract keys in, COMMENT ON and declared keys out."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb

from borderwatch import duck
from borderwatch.publish.core import PUBLISHED_SCHEMAS, ident, read_json, sql_literal

logger = logging.getLogger(__name__)


def dbt_dictionary(manifest_path: Path) -> dict[str, Any]:
    """Descriptions and contract keys of the published relations, from dbt's ``target/manifest.json``.

    ``{"marts.fct_raids": {"description": ..., "columns": {"raid_id": "..."}, "primary_key": [...],
    "not_null": [...], "unique": [...]}}``; ``unique`` names the columns a dbt ``unique`` test (or its
    partition-scoped form) owns: a table too large for a declared key still has one that the gate checks,
    which the candidate writer uses to tell new rows from changed ones. A missing or unreadable manifest
    gives an empty dictionary (and a warning): the data is still publishable, it just explains less.
    """
    data = read_json(manifest_path)
    if data is None:
        logger.warning("%s: no dbt manifest; the publication will carry no descriptions", manifest_path)
        return {}
    out: dict[str, Any] = {}
    unique = _unique_tested(data)
    for node_id, node in data.get("nodes", {}).items():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        schema = node.get("schema")
        if schema not in PUBLISHED_SCHEMAS:
            continue
        name = node.get("alias") or node.get("name")
        columns = node.get("columns") or {}
        primary: list[str] = []
        not_null: list[str] = []
        for constraint in node.get("constraints") or []:
            if constraint.get("type") == "primary_key":
                primary = [str(c) for c in constraint.get("columns") or []]
        for column, spec in columns.items():
            for constraint in spec.get("constraints") or []:
                if constraint.get("type") == "primary_key" and not primary:
                    primary = [column]
                elif constraint.get("type") == "not_null":
                    not_null.append(column)
        out[f"{schema}.{name}"] = {
            "description": (node.get("description") or "").strip(),
            "columns": {c: (spec.get("description") or "").strip() for c, spec in columns.items()},
            "primary_key": primary,
            "not_null": not_null,
            "unique": sorted(unique.get(node_id, ())),
        }
    return out


UNIQUE_TESTS = ("unique", "unique_in_changed_partitions")


def _unique_tested(manifest: dict[str, Any]) -> dict[str, set[str]]:
    """Per model node id, the columns a single-column uniqueness test is attached to."""
    out: dict[str, set[str]] = {}
    for node in manifest.get("nodes", {}).values():
        test = node.get("test_metadata") or {}
        if node.get("resource_type") == "test" and test.get("name") in UNIQUE_TESTS:
            column = node.get("column_name") or (test.get("kwargs") or {}).get("column_name")
            if node.get("attached_node") and column:
                out.setdefault(str(node["attached_node"]), set()).add(str(column))
    return out


def published_dictionary(db_path: Path) -> dict[str, Any]:
    """The data dictionary as the published file states it: every relation, column, type and comment."""
    con = duck.connect(db_path, read_only=True)
    try:
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        relations = con.execute(
            "select schema_name, table_name, 'table', comment from duckdb_tables() "
            f"where schema_name in ({schemas}) union all "
            "select schema_name, view_name, 'view', comment from duckdb_views() "
            f"where not internal and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        columns = con.execute(
            "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
            f"where schema_name in ({schemas}) order by schema_name, table_name, column_index"
        ).fetchall()
        keys = con.execute(
            "select schema_name, table_name, constraint_column_names from duckdb_constraints() "
            f"where constraint_type = 'PRIMARY KEY' and schema_name in ({schemas})"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, Any] = {
        f"{s}.{t}": {"kind": kind, "description": comment or "", "columns": {}, "primary_key": []}
        for s, t, kind, comment in relations
    }
    for s, t, column, data_type, comment in columns:
        out[f"{s}.{t}"]["columns"][column] = {"type": data_type, "description": comment or ""}
    for s, t, names in keys:
        out[f"{s}.{t}"]["primary_key"] = list(names)
    return out


def undocumented_columns(dictionary: dict[str, Any]) -> list[str]:
    """``schema.table.column`` of every published column without a description."""
    return [
        f"{relation}.{column}"
        for relation, entry in sorted(dictionary.items())
        for column, spec in entry["columns"].items()
        if not spec.get("description")
    ]


def declare_keys(con: duckdb.DuckDBPyConnection, schema: str, table: str, doc: dict[str, Any]) -> str | None:
    """The contract's primary key and not-null columns, declared (and so enforced) in the written file.

    Returns why the data breaks them (None when it does not): the candidate records that, so publish
    refuses it after the gate has had its say.
    """
    name = f"{ident(schema)}.{ident(table)}"
    try:
        for column in doc.get("not_null") or []:
            con.execute(f"alter table {name} alter column {ident(column)} set not null")
        if doc.get("primary_key"):
            con.execute(f"alter table {name} add primary key ({', '.join(map(ident, doc['primary_key']))})")
    except duckdb.Error as exc:
        return str(exc)
    return None


def comment(con: duckdb.DuckDBPyConnection, kind: str, schema: str, name: str, doc: dict[str, Any]) -> None:
    """dbt's descriptions as COMMENT ON, so any SQL client or BI tool shows them; stale ones are cleared.

    A relation kept from the served version may carry a description dbt no longer has: every comment is
    set to what dbt says now (or NULL), and only where it differs, so an unchanged relation costs nothing.
    """
    relation = f"{ident(schema)}.{ident(name)}"
    catalog = "duckdb_views()" if kind == "view" else "duckdb_tables()"
    column = "view_name" if kind == "view" else "table_name"
    row = con.execute(
        f"select comment from {catalog} where database_name = current_database() "
        f"and schema_name = ? and {column} = ?",
        [schema, name],
    ).fetchone()
    _set_comment(con, f"{kind} {relation}", row[0] if row else None, doc.get("description"))
    texts = doc.get("columns") or {}
    for column_name, current in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchall():
        _set_comment(con, f"column {relation}.{ident(column_name)}", current, texts.get(column_name))


def _set_comment(con: duckdb.DuckDBPyConnection, target: str, current: str | None, text: str | None) -> None:
    wanted = text or None
    if (current or None) != wanted:
        con.execute(f"comment on {target} is {sql_literal(wanted) if wanted else 'NULL'}")
