"""What a build skips when its inputs are those of the last complete build: unit tests and seed loads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from borderwatch.warehouse import RecordedInputs, project_checksum, unchanged_inputs, verified

SEEDS = {"reference.countries", "reference.sites"}


def _recorded(
    seeds: str | None = "s1", project: str | None = "p1", tables: set[str] = SEEDS
) -> RecordedInputs:
    return RecordedInputs(frozenset(tables | {"marts.fct_raids"}), seeds, project)


@pytest.mark.parametrize(
    ("recorded", "skipped"),
    [
        (None, ()),  # no build file yet
        (_recorded(seeds=None, project=None), ()),  # built before the record existed
        (_recorded(project=None), ()),  # recorded before the project checksum was
        (_recorded(project="p0"), ()),  # the code changed: unit tests run again
        (_recorded(seeds="s0"), ("unit_test",)),  # other seeds: loaded again
        (_recorded(tables={"reference.countries"}), ("unit_test",)),  # a seed table is missing
        (_recorded(), ("unit_test", "seed")),
    ],
)
def test_only_what_ran_on_the_same_inputs_is_skipped(
    recorded: RecordedInputs | None, skipped: tuple[str, ...]
) -> None:
    assert unchanged_inputs(recorded, "s1", "p1", SEEDS) == skipped


def _manifest(**files: str) -> SimpleNamespace:
    return SimpleNamespace(
        files={name: SimpleNamespace(checksum=SimpleNamespace(checksum=c)) for name, c in files.items()}
    )


def test_the_project_checksum_follows_every_file_and_not_their_order() -> None:
    base = project_checksum(_manifest(a="1", b="2"))
    assert project_checksum(_manifest(b="2", a="1")) == base
    assert project_checksum(_manifest(a="1", b="3")) != base  # one model or macro edited
    assert project_checksum(_manifest(a="1", b="2", c="4")) != base  # a file added


def test_the_gate_report_accounts_for_what_was_not_rerun() -> None:
    from borderwatch.gate.dbt_rules import dbt_checks

    build = SimpleNamespace(ok=True, results=[], not_rerun=["unit_test.bw.m.t", "seed.bw.countries"])
    (row,) = [c for c in dbt_checks(build) if c["name"] == "dbt.unchanged_inputs"]
    assert row["success"] and row["details"]["nodes"] == build.not_rerun
    assert "2 nodes (unit tests, seed loads, tests reading only seeds)" in row["details"]["message"]
    assert not [
        c for c in dbt_checks(SimpleNamespace(ok=True, results=[])) if c["name"] == "dbt.unchanged_inputs"
    ]


def _result(uid: str, status: str) -> dict[str, str]:
    return {"unique_id": uid, "resource_type": uid.split(".")[0], "status": status}


@pytest.mark.parametrize(
    ("status", "ok"), [("pass", True), ("fail", False), ("error", False), ("warn", False), ("skipped", False)]
)
def test_unit_and_seed_tests_count_as_verified_only_when_they_passed(status: str, ok: bool) -> None:
    seed_tests = {"test.bw.unique_countries_iso3": "unique_countries_iso3"}
    others = [_result("model.bw.fct_raids", "success"), _result("test.bw.not_null_fct_raids_id", "fail")]
    assert verified([*others, _result("unit_test.bw.m.t", status)], seed_tests) is ok
    assert verified([*others, _result("test.bw.unique_countries_iso3", status)], seed_tests) is ok
    assert verified(others, seed_tests)  # a failing mart test is the gate's business, not this record's
