"""The PostgreSQL serving warehouse on a real server: load, switch, comments, grants, rollback, retention."""

from __future__ import annotations

import itertools
import json

import psycopg
import pytest
from typer.testing import CliRunner

from borderwatch.cli import app
from borderwatch.publish import current_version, list_versions
from borderwatch.serving.postgres import (
    DSN_ENV,
    META_SCHEMA,
    ServingError,
    loaded_versions,
    pg_type,
    served_version,
    serving_settings,
    version_schema,
)


def publish_new(publish_now, home, synthetic, passed, raids: int):
    """A new build (``raids`` raids) published through the pipeline, which also serves it."""
    synthetic.make_build(home.build_db, raids=raids)
    return publish_now(home, passed)


def pg_counts(conn: psycopg.Connection, relations: list[str]) -> dict[str, int]:
    """Row counts of the stable views, in one statement (as a BI dashboard's one query would)."""
    parts = ", ".join(f"(select count(*) from {r})" for r in relations)
    row = conn.execute(f"select {parts}").fetchone()
    return dict(zip(relations, map(int, row), strict=True))


def test_unset_dsn_changes_nothing(publish_now, home, synthetic, passed, monkeypatch):
    monkeypatch.delenv(DSN_ENV, raising=False)
    assert serving_settings(home) is None
    pub = publish_new(publish_now, home, synthetic, passed, raids=40)
    assert current_version(home) == pub.version


def test_publication_is_served_with_manifest_counts_comments(
    publish_now, serving_db, home, synthetic, passed
):
    pub = publish_new(publish_now, home, synthetic, passed, raids=60)
    manifest = json.loads(pub.manifest_path.read_text())
    with serving_db.connect(reader=True) as bi:
        version, gate_passed, counts = bi.execute(
            f"select version, gate_passed, row_counts from {META_SCHEMA}.current"
        ).fetchone()
        assert version == pub.version and gate_passed is True
        assert counts == manifest["row_counts"]
        assert pg_counts(bi, sorted(manifest["row_counts"])) == manifest["row_counts"]
        # what a BI tool sums: the same figure as DuckDB's published file
        import duckdb

        with duckdb.connect(str(pub.database_path), read_only=True) as duck:
            want = duck.execute("select count(*), sum(length(raid_id)) from marts.fct_raids").fetchone()
        assert bi.execute("select count(*), sum(length(raid_id)) from marts.fct_raids").fetchone() == want
        # every published relation and every column carries a comment
        missing = bi.execute(
            """select c.table_schema || '.' || c.table_name || '.' || c.column_name
               from information_schema.columns c
               join pg_namespace n on n.nspname = c.table_schema
               join pg_class k on k.relnamespace = n.oid and k.relname = c.table_name
               where c.table_schema in ('marts', 'reference')
                 and col_description(k.oid, c.ordinal_position) is null"""
        ).fetchall()
        assert missing == []
        undocumented = bi.execute(
            """select n.nspname || '.' || k.relname
               from pg_class k join pg_namespace n on n.oid = k.relnamespace
               where n.nspname in ('marts', 'reference') and obj_description(k.oid, 'pg_class') is null"""
        ).fetchall()
        assert undocumented == []
        views = bi.execute(
            "select count(*) from information_schema.views where table_schema in ('marts', 'reference')"
        ).fetchone()[0]
        assert views == len(manifest["row_counts"])


def test_bi_role_reads_published_only(publish_now, serving_db, home, synthetic, passed, pg_server):
    pub = publish_new(publish_now, home, synthetic, passed, raids=30)
    with serving_db.connect() as loader:
        loader.execute("create table public.internal_notes (x text)")
        loader.execute("insert into public.internal_notes values ('not for BI')")
    hidden = f"{version_schema(pub.version, 'marts')}.fct_raids"
    forbidden = {
        "write a published view": "insert into marts.dim_country (iso3, name) values ('ZZZ', 'Nowhere')",
        "delete from a published view": "delete from marts.fct_raids",
        "create a table in marts": "create table marts.mine (x int)",
        "create a table in public": "create table public.mine (x int)",
        "create a temp table": "create temp table mine (x int)",
        "create a schema": "create schema mine",
        "read a version schema directly": f"select count(*) from {hidden}",
        "read outside the published schemas": "select * from public.internal_notes",
        "change the served version": f"update {META_SCHEMA}.state set version = 'x'",
    }
    failures = {}
    for what, statement in forbidden.items():
        with serving_db.connect(reader=True) as bi:
            try:
                bi.execute("begin read write")  # even asking for a writable transaction must not help
                bi.execute(statement)
            except psycopg.Error as exc:
                failures[what] = type(exc).__name__
            else:
                pytest.fail(f"the BI role could {what}: {statement}")
    assert failures == dict.fromkeys(forbidden, "InsufficientPrivilege")
    with serving_db.connect(reader=True) as bi:
        assert (
            bi.execute("select count(*) from marts.fct_raids").fetchone()[0]
            == pub.row_counts["marts.fct_raids"]
        )


def test_rollback_switches_postgres_and_files_together(publish_now, serving_db, home, synthetic, passed):
    first = publish_new(publish_now, home, synthetic, passed, raids=20)
    second = publish_new(publish_now, home, synthetic, passed, raids=70)
    with serving_db.connect() as conn:
        assert served_version(conn) == second.version == current_version(home)
    result = CliRunner().invoke(app, ["publish", "--rollback", "--home", str(home.home)])
    assert result.exit_code == 0, result.output
    assert current_version(home) == first.version
    with serving_db.connect(reader=True) as bi:
        assert bi.execute(f"select version from {META_SCHEMA}.current").fetchone()[0] == first.version
        assert bi.execute("select count(*) from marts.fct_raids").fetchone()[0] == 20


def test_retention_matches_the_files(publish_now, serving_db, home, synthetic, passed):
    pubs = [
        publish_new(publish_now, home, synthetic, passed, raids=10 + i) for i in range(5)
    ]  # keep_versions=3
    kept = list_versions(home)
    assert kept == [p.version for p in pubs[-3:]]
    with serving_db.connect() as conn:
        assert loaded_versions(conn) == kept
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname like 'bwv_%'")}
        assert schemas == {version_schema(v, s) for v in kept for s in ("marts", "reference")}
        dropped = conn.execute(
            f"select version from {META_SCHEMA}.publications where dropped_at is not null order by 1"
        ).fetchall()
        assert [r[0] for r in dropped] == [p.version for p in pubs[:2]]


def test_rollback_to_a_version_never_loaded_loads_it_from_its_files(
    publish_now, serving_db, home, synthetic, passed, monkeypatch
):
    with monkeypatch.context() as off:
        off.delenv(DSN_ENV)
        before = publish_new(
            publish_now, home, synthetic, passed, raids=12
        )  # published before PostgreSQL was set up
    publish_new(publish_now, home, synthetic, passed, raids=13)
    with serving_db.connect() as conn:
        assert before.version not in loaded_versions(conn)
    result = CliRunner().invoke(app, ["publish", "--rollback", before.version, "--home", str(home.home)])
    assert result.exit_code == 0, result.output
    with serving_db.connect(reader=True) as bi:
        assert bi.execute(f"select version from {META_SCHEMA}.current").fetchone()[0] == before.version
        assert bi.execute("select count(*) from marts.fct_raids").fetchone()[0] == 12


def test_unchanged_build_reuses_the_loaded_version(publish_now, serving_db, home, synthetic, passed):
    pub = publish_new(publish_now, home, synthetic, passed, raids=25)
    again = publish_now(home, passed)  # same build: nothing new is published nor reloaded
    assert again.unchanged and again.version == pub.version
    with serving_db.connect() as conn:
        switches = conn.execute(f"select version from {META_SCHEMA}.switches").fetchall()
        assert [r[0] for r in switches] == [pub.version, pub.version]
        assert loaded_versions(conn) == [pub.version]


def test_server_down_fails_loudly_keeps_files_and_next_run_serves(
    publish_now, serving_db, home, synthetic, passed, pg_server
):
    if pg_server.datadir is None:
        pytest.skip("needs a PostgreSQL this test session started (it stops and restarts it)")
    first = publish_new(publish_now, home, synthetic, passed, raids=15)
    pg_server.stop()
    try:
        synthetic.make_build(home.build_db, raids=35)
        with pytest.raises(ServingError, match="files are published") as info:
            publish_now(home, passed)
        assert "the next run" in str(info.value)
    finally:
        pg_server.start()
    second_version = current_version(home)
    assert second_version != first.version  # the files were published
    with serving_db.connect(reader=True) as bi:
        assert bi.execute(f"select version from {META_SCHEMA}.current").fetchone()[0] == first.version
        assert bi.execute("select count(*) from marts.fct_raids").fetchone()[0] == 15
    again = publish_now(home, passed)  # the next run: same build, so nothing new on disk
    assert again.unchanged and again.version == second_version
    with serving_db.connect(reader=True) as bi:
        assert bi.execute(f"select version from {META_SCHEMA}.current").fetchone()[0] == second_version
        assert bi.execute("select count(*) from marts.fct_raids").fetchone()[0] == 35


@pytest.mark.parametrize(
    ("duck", "pg"),
    [
        ("VARCHAR", "text"),
        ("INTEGER", "integer"),
        ("DECIMAL(10,2)", "numeric(10,2)"),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
        ("INTEGER[]", "jsonb"),
        ("STRUCT(a INTEGER)", "jsonb"),
    ],
)
def test_pg_type(duck, pg):
    assert pg_type(duck) == pg


# (name, DuckDB type, DuckDB literal, what PostgreSQL's `::text` shows): one row of values, one of NULLs
TYPED_VALUES = [
    ("empty", "VARCHAR", "''", ""),
    ("quoted", "VARCHAR", "'a\"b' || chr(10) || 'c,d'", 'a"b\nc,d'),
    ("thai", "VARCHAR", "'ไทย'", "ไทย"),
    ("i", "INTEGER", "7", "7"),
    ("big", "BIGINT", "-9007199254740993", "-9007199254740993"),
    ("small", "SMALLINT", "-5", "-5"),
    ("tiny", "TINYINT", "-5", "-5"),
    ("utiny", "UTINYINT", "200", "200"),
    ("usmall", "USMALLINT", "60000", "60000"),
    ("uint", "UINTEGER", "4000000000", "4000000000"),
    ("ubig", "UBIGINT", "18446744073709551615", "18446744073709551615"),
    ("huge", "HUGEINT", "12345678901234567890123", "12345678901234567890123"),
    ("amount", "DECIMAL(10,2)", "12.34", "12.34"),
    ("ratio", "DOUBLE", "1.5", "1.5"),
    ("real4", "FLOAT", "2.25", "2.25"),
    ("flag", "BOOLEAN", "true", "true"),
    ("day", "DATE", "'2024-02-29'", "2024-02-29"),
    ("at", "TIMESTAMP", "'2024-01-02 03:04:05.123456'", "2024-01-02 03:04:05.123456"),
    ("at_tz", "TIMESTAMP WITH TIME ZONE", "'2024-01-02 03:04:05+07'", "2024-01-01 20:04:05+00"),
    ("clock", "TIME", "'12:34:56.789'", "12:34:56.789"),
    ("span", "INTERVAL", "interval '1 day 3 hours'", "1 day 03:00:00"),
    ("id", "UUID", "'6f1c2a4e-1234-4abc-9def-0123456789ab'", "6f1c2a4e-1234-4abc-9def-0123456789ab"),
    ("raw", "BLOB", "'\\xAA\\x00'", "\\xaa00"),
    ("doc", "JSON", "'{\"a\": [1, 2]}'", '{"a": [1, 2]}'),
    ("items", "INTEGER[]", "[1, 2, NULL]", "[1, 2, null]"),
    ("pair", "STRUCT(a INTEGER, b VARCHAR)", "{'a': 1, 'b': 'x'}", '{"a": 1, "b": "x"}'),
    ("kind", "ENUM('a', 'b')", "'b'", "b"),
]


def typed_relation(duck) -> object:
    """A DuckDB table ``marts.typed`` of every type above, as the loader describes it."""
    from borderwatch.serving.postgres import Column, Relation

    duck.execute("create schema if not exists marts")
    values = ", ".join(f"{lit}::{typ} as {name}" for name, typ, lit, _ in TYPED_VALUES)
    nulls = ", ".join(f"null::{typ} as {name}" for name, typ, _, _ in TYPED_VALUES)
    duck.execute(f"create table marts.typed as select 1 as k, {values} union all select 2, {nulls}")
    columns = duck.execute(
        "select column_name, data_type from duckdb_columns() where table_name = 'typed' order by column_index"
    ).fetchall()
    return Relation("marts", "typed", "typed", tuple(Column(n, t, n) for n, t in columns))


def test_every_type_arrives_in_postgres_as_duckdb_has_it(serving_db):
    """Binary COPY from Arrow: each value lands in its PostgreSQL column as DuckDB has it (NULL is not '')."""
    import adbc_driver_postgresql.dbapi as adbc_pg
    import duckdb

    from borderwatch.serving.postgres import _create_table, _run_script, copy_relation

    duck = duckdb.connect()
    relation = typed_relation(duck)
    with serving_db.connect() as conn:
        conn.execute("create schema bwv_types__marts")
        _run_script(conn, _create_table(relation, "bwv_types__marts"))
    with adbc_pg.connect(serving_db.loader_dsn) as adbc:
        assert copy_relation(adbc, duck, relation, "bwv_types__marts") == 2
        adbc.commit()
    names = [name for name, *_ in TYPED_VALUES]
    with serving_db.connect() as conn:
        conn.execute("set timezone = 'UTC'")
        rows = conn.execute(
            f"select {', '.join(f'{n}::text' for n in names)} from bwv_types__marts.typed order by k"
        ).fetchall()
    assert dict(zip(names, rows[0], strict=True)) == {name: text for name, _, _, text in TYPED_VALUES}
    assert rows[1] == (None,) * len(names)


def test_a_value_postgres_cannot_take_fails_the_copy_and_stores_nothing(serving_db):
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as adbc_pg
    import duckdb

    from borderwatch.serving.postgres import Column, Relation, _create_table, _run_script, copy_relation

    duck = duckdb.connect()
    duck.execute("create schema marts")
    duck.execute(
        "create table marts.huge as select (i::hugeint * 10::hugeint ** 37) as n from range(12) r(i)"
    )
    relation = Relation("marts", "huge", "huge", (Column("n", "HUGEINT", "n"),))
    with serving_db.connect() as conn:
        conn.execute("create schema bwv_huge__marts")
        _run_script(conn, _create_table(relation, "bwv_huge__marts"))
    with adbc_pg.connect(serving_db.loader_dsn) as adbc:
        with pytest.raises(
            (adbc_driver_manager.Error, duckdb.Error), match=r"(?i)out of range|overflow|cast"
        ):
            copy_relation(adbc, duck, relation, "bwv_huge__marts")
        adbc.rollback()
    with serving_db.connect() as conn:
        assert conn.execute("select count(*) from bwv_huge__marts.huge").fetchone()[0] == 0


def test_large_tables_load_in_slices_without_loss_or_duplicates(
    publish_now, serving_db, home, synthetic, passed, monkeypatch
):
    import duckdb

    from borderwatch.serving import postgres

    monkeypatch.setattr(postgres, "SLICE_ROWS", 7)  # every table above 7 rows is cut into parallel COPY jobs
    pub = publish_new(publish_now, home, synthetic, passed, raids=101)
    with duckdb.connect(str(pub.database_path), read_only=True) as duck:
        want = sorted(r[0] for r in duck.execute("select raid_id from marts.fct_raids").fetchall())
    with serving_db.connect(reader=True) as bi:
        got = sorted(r[0] for r in bi.execute("select raid_id from marts.fct_raids").fetchall())
    assert len(want) == 101 and got == want


def test_row_ranges_cover_every_rowid_once_and_never_cut_views():
    from borderwatch.serving.postgres import LOAD_JOBS, SLICE_ROWS, Column, Relation, _row_ranges

    table = Relation("marts", "t", "t", (Column("a", "INTEGER", "a"),))
    view = Relation("marts", "v", "v", (Column("a", "INTEGER", "a"),), is_view=True)
    rows = SLICE_ROWS * 10 + 3
    ranges = _row_ranges(table, rows)
    assert len(ranges) == LOAD_JOBS > 1
    assert ranges[0][0] == 0 and ranges[-1][1] is None  # open-ended: rowid gaps never drop a row
    assert all(stop == nxt for (_, stop), (nxt, _) in itertools.pairwise(ranges))
    assert _row_ranges(view, rows) == [(0, None)]
    assert _row_ranges(table, SLICE_ROWS - 1) == [(0, None)]
