"""BI readers during switches, and a loader killed half-way: on a real PostgreSQL, no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import psycopg
import pytest

from borderwatch.publish import current_version
from borderwatch.serving.postgres import (
    CRASH_ENV,
    META_SCHEMA,
    loaded_versions,
    served_version,
    version_schema,
)

PUBLICATIONS = 20


def one_statement_snapshot(conn: psycopg.Connection, relations: list[str]) -> tuple[str, dict[str, int]]:
    """The served version and every relation's row count, in ONE statement, as a dashboard query reads."""
    parts = ", ".join(f"(select count(*) from {r})" for r in relations)
    row = conn.execute(f"select (select version from {META_SCHEMA}.current), {parts}").fetchone()
    return str(row[0]), dict(zip(relations, map(int, row[1:]), strict=True))


def test_bi_reader_never_sees_an_error_or_a_mix_through_20_publications(
    publish_now, serving_db, home, synthetic, passed
):
    first = publish_now(home, passed)
    manifests = {first.version: first.row_counts}
    relations = sorted(first.row_counts)
    seen: list[tuple[str, dict[str, int]]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        with serving_db.connect(reader=True) as bi:
            while not stop.is_set():
                try:
                    seen.append(one_statement_snapshot(bi, relations))
                except psycopg.Error as exc:  # any error a BI user would see is a failure
                    errors.append(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        for i in range(PUBLICATIONS):
            synthetic.make_build(home.build_db, raids=100 + 7 * i)
            pub = publish_now(home, passed)
            manifests[pub.version] = pub.row_counts
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert errors == []
    assert len(manifests) == PUBLICATIONS + 1
    mixed = [(v, counts) for v, counts in seen if counts != manifests[v]]
    assert mixed == []
    versions_seen = {v for v, _ in seen}
    assert len(versions_seen) > 1, "the reader never overlapped a switch; the test proved nothing"
    with serving_db.connect(reader=True) as bi:
        assert one_statement_snapshot(bi, relations)[0] == current_version(home)


LOADER = textwrap.dedent(
    """
    from borderwatch import pipeline
    from borderwatch.config import get_settings
    from borderwatch.gate import GateResult

    settings = get_settings()
    audited = pipeline.Audited(pipeline.snapshot(settings), GateResult(passed=True, run_id="crash-test"))
    pipeline.publish(settings, audited, notify=False)
    """
)


def run_killed_publication(step: str) -> subprocess.CompletedProcess:
    """Publish in a child process that SIGKILLs itself at ``step`` of the PostgreSQL load."""
    env = {**os.environ, CRASH_ENV: step}
    return subprocess.run(
        [sys.executable, "-c", LOADER], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("step", ["load", "switch"])
def test_loader_killed_half_way_leaves_readers_on_previous_version(
    publish_now, serving_db, home, synthetic, passed, step
):
    first = publish_now(home, passed)
    synthetic.make_build(home.build_db, raids=90)
    done = run_killed_publication(step)
    assert done.returncode == -9, done.stderr[-2000:]
    new = current_version(home)
    assert new != first.version  # the files were published before PostgreSQL was touched
    with serving_db.connect(reader=True) as bi:
        assert bi.execute(f"select version from {META_SCHEMA}.current").fetchone()[0] == first.version
        assert (
            bi.execute("select count(*) from marts.fct_raids").fetchone()[0]
            == first.row_counts["marts.fct_raids"]
        )
    with serving_db.connect() as conn:
        # killed mid-COPY: the version is not recorded (its half-loaded tables are unreferenced);
        # killed at the switch: loaded and recorded, but not served
        assert loaded_versions(conn) == ([first.version] if step == "load" else [first.version, new])
    again = publish_now(home, passed)  # the next run finishes the job
    assert again.unchanged and again.version == new
    with serving_db.connect(reader=True) as bi:
        assert bi.execute(f"select version from {META_SCHEMA}.current").fetchone()[0] == new
        assert bi.execute("select count(*) from marts.fct_raids").fetchone()[0] == 90
    with serving_db.connect() as conn:
        assert served_version(conn) == new
        assert loaded_versions(conn) == [first.version, new]
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname like 'bwv%'")}
        assert schemas == {version_schema(v, s) for v in (first.version, new) for s in ("marts", "reference")}


def test_half_loaded_version_never_retried_is_cleaned_up(publish_now, serving_db, home, synthetic, passed):
    first = publish_now(home, passed)
    synthetic.make_build(home.build_db, raids=91)
    assert run_killed_publication("load").returncode == -9
    abandoned = current_version(home)
    synthetic.make_build(home.build_db, raids=92)  # the next run brings newer data: the killed one is skipped
    newest = publish_now(home, passed)
    with serving_db.connect() as conn:
        assert served_version(conn) == newest.version
        assert abandoned not in loaded_versions(conn)
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname like 'bwv%'")}
    assert schemas == {
        version_schema(v, s) for v in (first.version, newest.version) for s in ("marts", "reference")
    }
