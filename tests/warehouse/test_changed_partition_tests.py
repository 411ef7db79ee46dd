"""Tests over the 10 M-row incremental models check the partitions rebuilt since they last passed, no less.

`unique(fct_figure_claims.claim_id)`, `assert_one_used_claim_per_conflict_group` and
`assert_facts_use_the_resolved_claim` are partition-local, so a night checks only what it rebuilt
(dbt_project/macros/audit_scope.sql). What must never happen: a violation that failed one night is
forgotten by the next night because that night did not touch its partition.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from borderwatch.config import Settings, get_settings
from borderwatch.warehouse import BuildResult, build_warehouse, dbt_target_dir

sys.path.insert(0, str(Path(__file__).parent))
from wh_raw_fixture import _kh, built_after_two_loads, insert_file

SCOPED = {
    "unique": "models/marts/claims/fct_figure_claims.yml/unique_fct_figure_claims_claim_id.sql",
    "one_used": "tests/reconciliation/assert_one_used_claim_per_conflict_group.sql",
    "facts": "tests/reconciliation/assert_facts_use_the_resolved_claim.sql",
    "deportation_id": "models/marts/movements/fct_deportations.yml/"
    "unique_fct_deportations_deportation_id.sql",
    "matched_id": "models/intermediate/deportations/int_deportations_matched.yml/"
    "unique_int_deportations_matched_deportation_id.sql",
}
INDIAN = "xing_poipet_aranyaprathet|IND|2025-04-14"  # the Indian batch of 14 April loaded below


def days_around(prefix: str = "") -> str:
    """The IN-list of the Indian partitions a delivery of 14 April rebuilds: days 12 to 16."""
    return (
        "(" + ", ".join(f"'{prefix}xing_poipet_aranyaprathet|IND|2025-04-{d}'" for d in range(12, 17)) + ")"
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, tuple[str, list]]]]:
    """The fixture's two loads, built (full, then incremental): every scoped test has passed once."""
    settings = get_settings(tmp_path_factory.mktemp("scoped") / "home")
    yield settings, built_after_two_loads(settings)


def compiled(settings: Settings, test: str) -> str:
    return (dbt_target_dir(settings) / "run" / "borderwatch" / SCOPED[test]).read_text()


def sql(settings: Settings, query: str) -> list[tuple]:
    con = duckdb.connect(str(settings.build_db))
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def failed(result: BuildResult) -> set[str]:
    return {node.split(".")[2] for node in result.failed_nodes}


def test_a_night_without_deportation_deliveries_checks_no_deportation_partition(home) -> None:
    settings, _ = home
    assert build_warehouse(settings).ok
    unique = compiled(settings, "unique")
    assert "_partition_key in (null)" in unique and "not starts_with(_partition_key, 'dep|')" in unique
    assert "_partition_key in (null)" in compiled(settings, "facts")
    passed = sql(settings, "select count(distinct test_id) from audit.tests_passed")
    assert passed == [(len(SCOPED),)]
    assert "deportation_id in (select" in compiled(settings, "deportation_id")
    assert "_partition_key in (null)" in compiled(settings, "deportation_id")


def test_a_night_checks_exactly_the_partitions_its_deliveries_touched(home) -> None:
    settings, tables = home
    con = duckdb.connect(str(settings.build_db))
    rows = [_kh("GDI-070", 1, "14/04/2025", "Poipet", "Indian", 14, 12, 26, "India")]
    insert_file(con, tables, "kh_gdi_deportations", "kh_gdi_deportations_2025-04-15.csv", rows,
                load_id="n3", loaded_at=datetime(2025, 4, 15, 2, 0))  # fmt: skip
    con.close()
    assert build_warehouse(settings).ok
    assert f"_partition_key in {days_around('dep|')}" in compiled(settings, "unique")
    assert f"_partition_key in {days_around('dep|')}" in compiled(settings, "one_used")
    assert f"_partition_key in {days_around()}" in compiled(settings, "facts")


def test_a_violation_stays_checked_until_it_is_fixed(home) -> None:
    """A duplicate claim written into a rebuilt partition fails the night; the next night, which rebuilds
    nothing there, checks that partition again and fails again; once fixed, the mark moves on."""
    settings, _ = home
    duplicate = f"""
        insert into marts.fct_figure_claims
        select * from marts.fct_figure_claims where _partition_key = 'dep|{INDIAN}' limit 1;
        insert into audit.partition_builds (model, partition_key, seq)
        values ('fct_figure_claims', 'dep|{INDIAN}', nextval('audit.partition_build_seq'))
    """
    sql(settings, duplicate)  # what a faulty model run would leave
    first = build_warehouse(settings)
    assert not first.ok and "unique_fct_figure_claims_claim_id" in failed(first)
    second = build_warehouse(settings)
    assert not second.ok and "unique_fct_figure_claims_claim_id" in failed(second)
    assert f"'dep|{INDIAN}'" in compiled(settings, "unique")
    fix = f"""
        delete from marts.fct_figure_claims where rowid = (
            select max(rowid) from marts.fct_figure_claims where _partition_key = 'dep|{INDIAN}'
        )
    """
    sql(settings, fix)
    assert build_warehouse(settings).ok  # the same partition checked again, now unique
    assert build_warehouse(settings).ok
    assert "_partition_key in (null)" in compiled(settings, "unique")  # passed: the mark moved on


def test_the_record_keeps_only_what_a_scoped_test_has_not_passed(home) -> None:
    """Nightly rows in audit.partition_builds would grow for ever; what every scoped test passed beyond
    goes, and each test keeps its newest mark."""
    settings, _ = home
    sql(settings, "insert into audit.partition_builds (model, partition_key, seq) values ('fct_x', 'k', -5)")
    assert build_warehouse(settings).ok
    marks = sql(settings, "select test_id, count(*), max(through_seq) from audit.tests_passed group by 1")
    assert len(marks) == len(SCOPED) and all(n == 1 for _, n, _ in marks), marks
    oldest = min(m for _, _, m in marks)
    assert sql(settings, f"select count(*) from audit.partition_builds where seq <= {oldest}") == [(0,)]


def test_a_full_rebuild_checks_everything(home) -> None:
    settings, _ = home
    assert build_warehouse(settings, full_refresh=True).ok
    for test in SCOPED:
        assert "_partition_key in" not in compiled(settings, test), test


def test_a_build_file_without_a_pass_checks_everything(home, tmp_path: Path) -> None:
    settings, _ = home
    sql(settings, "delete from audit.tests_passed")
    assert build_warehouse(settings).ok
    for test in SCOPED:
        assert "_partition_key in" not in compiled(settings, test), test


def test_a_key_duplicated_across_partitions_is_caught_from_the_changed_one(home) -> None:
    """deportation_id is checked over the whole table for the keys of the rebuilt partitions: a batch a
    corrected delivery moved to another partition, left behind in its old one, fails the night."""
    settings, _ = home
    moved = f"""
        insert into marts.fct_deportations
        select * replace ('{INDIAN}' as _partition_key) from marts.fct_deportations
        where _partition_key <> '{INDIAN}' limit 1;
        insert into audit.partition_builds (model, partition_key, seq)
        values ('fct_deportations', '{INDIAN}', nextval('audit.partition_build_seq'))
    """
    sql(settings, moved)  # what a faulty rebuild of the Indian partition would leave
    result = build_warehouse(settings)
    assert not result.ok and "unique_fct_deportations_deportation_id" in failed(result)
    assert f"_partition_key in ('{INDIAN}')" in compiled(settings, "deportation_id")
    newest = f"select max(rowid) from marts.fct_deportations where _partition_key = '{INDIAN}'"
    sql(settings, f"delete from marts.fct_deportations where rowid = ({newest})")
    assert build_warehouse(settings).ok
