"""Every DuckDB handle of the library is opened by ``borderwatch.duck.connect``: no downloads, the
installation's memory limit, and a named place to spill."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderwatch import duck


def _setting(con, name: str) -> str:
    return con.execute(f"select current_setting('{name}')").fetchone()[0]


def test_the_memory_limit_comes_from_the_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(duck.MEMORY_LIMIT_ENV, "300MB")
    with duck.connect() as con:
        assert _setting(con, "memory_limit") in {"286.1 MiB", "286.1MiB", "300.0 MB", "300MB"}
    monkeypatch.delenv(duck.MEMORY_LIMIT_ENV)
    with duck.connect() as con:
        assert _setting(con, "memory_limit") in {"1.3 GiB", "1.4 GiB", "1.5 GB"}  # the 1.5GB default


def test_a_bad_memory_limit_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(duck.MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(duck.MemoryLimitError, match=r"BORDERWATCH_DUCKDB_MEMORY_LIMIT='lots'.*e\.g\. 1\.5GB"):
        duck.connect()


def test_nothing_is_downloaded_and_an_in_memory_handle_spills_where_told(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    with duck.connect(spill_dir=spill) as con:
        assert _setting(con, "autoinstall_known_extensions") is False
        assert _setting(con, "autoload_known_extensions") is False
        assert _setting(con, "enable_progress_bar") is False  # no bar drawn into task logs
        assert Path(_setting(con, "temp_directory")) == spill
        con.execute("set memory_limit = '40MB'")  # a sort of 60 MB of keys must spill, not fail
        assert con.execute(
            "select count(distinct r) from (select range * 7919 % 5000000 as r from range(5000000))"
        ).fetchone() == (5000000,)
    assert spill.is_dir()


def test_insert_rows_keeps_nulls_and_types_in_the_callers_transaction_after_a_fetchone() -> None:
    import datetime as dt

    with duck.connect(":memory:") as con:
        con.execute('CREATE TABLE t (n INTEGER, big BIGINT, "at" TIMESTAMP, s VARCHAR)')
        con.execute("BEGIN")
        duck.insert_rows(
            con,
            "t",
            ["n", "big", "at", "s"],
            [(1, None, dt.datetime(2026, 12, 2), "ក"), (None, 2, None, None)],
        )
        duck.insert_rows(con, "t", ["n"], [])  # nothing to insert: no statement, no error
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
        con.execute("ROLLBACK")  # the rows were part of the open transaction
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
        assert con.execute("SELECT 1 UNION ALL SELECT 2").fetchone() == (1,)  # a result left unfinished
        duck.insert_rows(con, "t", ["s", "n"], [("x", 7)])
        assert con.execute('SELECT n, big, "at", s FROM t').fetchall() == [(7, None, None, "x")]
