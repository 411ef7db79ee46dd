"""JSON API pages (``{"data": [...], "next_page": n}``) → the text cells of their records, by DuckDB's JSON
functions; a page that is not such an object is refused whole (a truncated response is fetched again)."""

from __future__ import annotations

import json
import uuid

import duckdb
import pandas as pd

from borderwatch import duck
from borderwatch.ingest.errors import FileFormatError, IngestError
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.preflight import check_size, undecodable
from borderwatch.ingest.readers import Batch, _drop, _json_drift
from borderwatch.parse_rules import lit
from borderwatch.specs import FeedSpec, TableSpec


def _json_cells(table: TableSpec, record: str) -> str:
    """Text of each spec key of a JSON object, parsed once (nested values as JSON text, absent keys NULL)."""
    shape = lit(json.dumps({c.source_key: "VARCHAR" for c in table.columns}))
    return ", ".join(
        f"from_json({record}, {shape})[{lit(c.source_key)}] AS c{i}" for i, c in enumerate(table.columns)
    )


def _insert_records(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    table: TableSpec,
    files: list[LandedFile],
    batch: Batch,
    records: str,
) -> None:
    keyed = f"SELECT _f, _line, json_keys(obj) AS _keys FROM {records} WHERE obj IS NOT NULL"
    _json_drift(con, spec, table, files, batch, keyed)
    con.execute(
        f"INSERT INTO {batch.relation} SELECT _f, _row_number, _line, rec, _error, "
        f"{_json_cells(table, 'obj')} FROM {records} WHERE NOT list_contains(?, _f)",
        [list(batch.errors)],
    )


def read_json_pages(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, table: TableSpec, files: list[LandedFile], target: str
) -> Batch:
    """JSON API pages (``{"data": [...], "next_page": n}``), from a pull or dropped in the inbox."""
    batch = Batch(target)
    docs: list[tuple[int, str]] = []
    for i, landed in enumerate(files):
        try:
            check_size(spec, landed.path, landed.file_name)
            raw = landed.path.read_bytes()
            docs.append((i, raw.decode(spec.format.encoding)))
        except UnicodeDecodeError as exc:
            batch.errors[i] = undecodable(spec, landed.file_name, raw, 0, exc)
        except (IngestError, OSError) as exc:
            batch.errors[i] = exc if isinstance(exc, IngestError) else FileFormatError(str(exc))
    if not docs:  # an empty frame registers its columns untyped, and json_extract then fails to bind
        return batch
    key = lit('$."' + spec.format.records_key.replace('"', '\\"') + '"')
    name = f"_bw_pages_{uuid.uuid4().hex[:10]}"
    duck.register(
        con,
        f"{name}_df",
        pd.DataFrame({"_f": [i for i, _ in docs], "doc": [d for _, d in docs]}, dtype=object),
    )
    try:
        checked = con.execute(
            "SELECT CAST(_f AS INTEGER), coalesce(CASE WHEN json_valid(doc) THEN CASE WHEN json_type(doc) = "
            "'OBJECT' "
            f"THEN json_type(doc, {key}) = 'ARRAY' END END, false), "
            "CASE WHEN json_valid(doc) THEN CASE WHEN json_type(doc) = 'OBJECT' THEN doc->>'next_page' END "
            f"END FROM {name}_df"
        ).fetchall()
        for i, good, next_page in checked:
            if not good:
                batch.errors[i] = FileFormatError(
                    f"feed {spec.name!r} file {files[i].file_name}: not a JSON object with a list under "
                    f"{spec.format.records_key!r} (format.records_key in feeds/{spec.name}.yaml); a "
                    "truncated "
                    "response is fetched again on the next run"
                )
            batch.meta[i] = {"next_page": next_page}
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT _f, generate_subscripts(recs, 1) AS _row_number, "
            "generate_subscripts(recs, 1) AS _line, unnest(recs) AS rec FROM (SELECT CAST(_f AS INTEGER) "
            "AS _f, "
            f"json_extract(doc, {lit(key[1:-1] + '[*]')}) AS recs FROM {name}_df WHERE NOT list_contains(?, "
            "CAST(_f AS INTEGER)))",
            [list(batch.errors)],
        )
        con.execute(
            f"CREATE TEMP TABLE {name}_r AS SELECT *, CASE WHEN json_type(rec) = 'OBJECT' THEN rec END AS "
            "obj, "
            "CASE WHEN json_type(rec) <> 'OBJECT' THEN 'record is not a JSON object' END AS _error FROM "
            f"{name}"
        )
        _insert_records(con, spec, table, files, batch, f"{name}_r")
    finally:
        con.unregister(f"{name}_df")
        _drop(con, name, f"{name}_r")
    return batch
