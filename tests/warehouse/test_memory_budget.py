"""One DuckDB memory budget for a refresh: a concurrent process's reservation comes off every handle
opened while it lives, dbt's connection included (peak RSS <= 2 GiB at 10 M rows, issue 13)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from borderwatch import duck
from borderwatch.warehouse import _invoke, dbt_args
from conftest import WarehouseRun


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(duck.MEMORY_LIMIT_ENV, "1.5GB")
    yield
    duck.release("test worker")


def _limit(con: object) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]  # type: ignore[attr-defined]


def test_a_reservation_comes_off_the_handles_opened_while_it_lives(budget: None) -> None:
    assert duck.memory_limit() == "1.5GB"
    duck.reserve("test worker", 384 * duck.MIB)
    assert duck.memory_limit() == f"{(1_500_000_000 - 384 * duck.MIB) // duck.MIB}MiB"  # 1046MiB
    with duck.connect() as con:
        assert _limit(con) == "1.0 GiB"
    duck.release("test worker")
    with duck.connect() as con:
        assert _limit(con) in {"1.3 GiB", "1.4 GiB"}  # 1.5 GB again


def test_reservations_never_take_a_handle_below_half_the_budget(budget: None) -> None:
    duck.reserve("test worker", 10 * 1024**3)
    assert duck.memory_limit() == f"{750_000_000 // duck.MIB}MiB"


def test_sizes_in_duckdb_units() -> None:
    assert duck.size_bytes("1.5GB") == 1_500_000_000
    assert duck.size_bytes("8GiB") == 8 * 1024**3
    assert duck.size_bytes(" 512 mb ") == 512_000_000
    assert duck.size_bytes("lots") is None


def test_dbt_connection_gets_the_budget_minus_the_reservation(wh_run: WarehouseRun, budget: None) -> None:
    sql = "select current_setting('memory_limit') as memory_limit"
    args = dbt_args(wh_run.settings, ["show", "--inline", sql])
    duck.reserve("test worker", 384 * duck.MIB)
    reserved = _invoke(wh_run.settings, args)
    duck.release("test worker")
    whole = _invoke(wh_run.settings, args)
    assert reserved.success and whole.success
    assert reserved.result.results[0].agate_table.rows[0][0] == "1.0 GiB"
    assert whole.result.results[0].agate_table.rows[0][0] in {"1.3 GiB", "1.4 GiB"}


def test_a_moving_reservation_keeps_dbts_partial_parse(wh_run: WarehouseRun, budget: None) -> None:
    """dbt hashes the profile's settings into its partial-parse state: the limit is set by the profile's
    plugin when a connection opens, so a parse with the worker's reservation and one without share it."""
    from dbt.cli.main import dbtRunner

    from borderwatch.warehouse import _build_db_env

    events: list[str] = []
    runner = dbtRunner(callbacks=[lambda event: events.append(event.info.name)])
    args = dbt_args(wh_run.settings, ["parse"])
    with _build_db_env(wh_run.settings):
        duck.reserve("test worker", 384 * duck.MIB)
        assert runner.invoke(args).success
        duck.release("test worker")
        events.clear()
        assert runner.invoke(args).success
    assert "PartialParsingEnabled" in events or "PartialParsingSkipParsing" in events, sorted(set(events))
    assert "UnableToPartialParse" not in events
