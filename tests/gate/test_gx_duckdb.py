"""GX on DuckDB: metrics are pushed down as SQL and come back with the right counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from borderwatch.gate import gx_duckdb

ROWS = 1_200
BAD = 37


@pytest.fixture(scope="module")
def candidate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gx") / "build.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        f"""
        create schema marts;
        create table marts.t as
        select i as id,
               case when i < {BAD} then -1 else i end as v,
               case when i between 100 and {100 + BAD - 1} then 'xx' else 'THA' end as code,
               date '2024-01-01' + (i % 300)::int as d
        from range({ROWS}) r(i)
        """
    )
    con.close()
    return path


@pytest.fixture(scope="module")
def batch(candidate: Path) -> Iterator[object]:
    import great_expectations as gx

    with gx_duckdb.open_candidate(candidate):
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_duckdb(
            name="c", connection_string=gx_duckdb.connection_string(candidate)
        )
        asset = source.add_table_asset(name="t", table_name="t", schema_name="marts")
        yield asset.add_batch_definition_whole_table("all").get_batch()
        source.get_execution_engine().close()


def test_violated_column_expectation_fails_with_exact_count(batch) -> None:
    import great_expectations as gx

    result = batch.validate(gx.expectations.ExpectColumnValuesToBeBetween(column="v", min_value=0))
    assert result.success is False
    assert result.result["element_count"] == ROWS
    assert result.result["unexpected_count"] == BAD


@pytest.mark.parametrize(
    "expectation",
    [
        ("ExpectColumnValuesToMatchRegex", {"column": "code", "regex": "^[A-Z]{3}$"}),
        ("ExpectColumnValuesToBeInSet", {"column": "code", "value_set": ["THA"]}),
    ],
)
def test_regex_and_set_push_down(batch, expectation) -> None:
    import great_expectations as gx

    name, kwargs = expectation
    result = batch.validate(getattr(gx.expectations, name)(**kwargs))
    assert result.success is False
    assert result.result["unexpected_count"] == BAD


def test_unexpected_rows_query_counts_rows(batch) -> None:
    import great_expectations as gx

    result = batch.validate(
        gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query="select * from {batch} where v < 0")
    )
    assert result.success is False
    assert result.result["observed_value"] == BAD


def test_passing_expectations_pass_with_real_results(batch) -> None:
    import great_expectations as gx

    unique = batch.validate(gx.expectations.ExpectColumnValuesToBeUnique(column="id"))
    assert unique.success is True
    assert unique.result["element_count"] == ROWS
    assert unique.result["unexpected_count"] == 0
    count = batch.validate(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1_000))
    assert count.success is True
    assert count.result["observed_value"] == ROWS
    dates = batch.validate(gx.expectations.ExpectColumnValuesToBeBetween(column="d", max_value="2024-06-30"))
    assert dates.success is False
    # 300 distinct days cycle over 1,200 rows; days after 2024-06-30 are day index 182..299 (118 days × 4)
    assert dates.result["unexpected_count"] == 118 * 4


def test_stock_sql_datasource_returns_empty_metrics(candidate: Path, tmp_path: Path) -> None:
    """Documents why gx_duckdb exists: the stock datasource loses DuckDB results."""
    import great_expectations as gx

    copy = tmp_path / "stock.duckdb"
    copy.write_bytes(candidate.read_bytes())
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="stock", connection_string=f"duckdb:///{copy}")
    asset = source.add_table_asset(name="t", table_name="t", schema_name="marts")
    result = (
        asset.add_batch_definition_whole_table("all")
        .get_batch()
        .validate(gx.expectations.ExpectColumnValuesToBeBetween(column="v", min_value=0))
    )
    source.get_execution_engine().close()
    source.get_engine().dispose()
    assert result.result.get("unexpected_count") is None


def test_open_candidate_releases_the_file(candidate: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c.duckdb"
    copy.write_bytes(candidate.read_bytes())
    with gx_duckdb.open_candidate(copy) as con:
        assert con.execute("select count(*) from marts.t").fetchone() == (ROWS,)
        with pytest.raises(duckdb.Error):
            con.execute("create table marts.x (i int)")
        engine = gx_duckdb.create_engine(gx_duckdb.connection_string(copy))
        with engine.connect() as sa_con:
            assert sa_con.exec_driver_sql("select 1").fetchone() == (1,)
    writer = duckdb.connect(str(copy))  # read-write reopen works: every handle was closed
    writer.execute("create table marts.x (i int)")
    writer.close()


def test_open_candidate_missing_file(tmp_path: Path) -> None:
    with (
        pytest.raises(gx_duckdb.CandidateOpenError, match="does not exist"),
        gx_duckdb.open_candidate(tmp_path / "nope.duckdb"),
    ):
        pass


def test_engine_without_open_candidate_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(gx_duckdb.CandidateOpenError, match="open_candidate"):
        gx_duckdb.create_engine(gx_duckdb.connection_string(tmp_path / "x.duckdb"))


def test_a_broken_query_does_not_poison_the_shared_connection(batch) -> None:
    """One suite typo errors that expectation only; the next one still gets a correct count."""
    import great_expectations as gx

    broken = batch.validate(
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query="select * from {batch} where nope > 0"  # no such column
        )
    )
    assert broken.success is False
    assert broken.exception_info.get("raised_exception") or any(
        info.get("raised_exception") for info in broken.exception_info.values() if isinstance(info, dict)
    )
    after = batch.validate(gx.expectations.ExpectColumnValuesToBeBetween(column="v", min_value=0))
    assert after.result["unexpected_count"] == BAD
