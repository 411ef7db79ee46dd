"""Publish exactly what passed: the verdict is bound to the immutable candidate the gate audited.

The race (issue 10, fault 1): the refresh audits build A and passes; before its publish task runs, an
operator's ``borderwatch build`` (or a second refresh) rewrites the build file with gate-failing marts B.
Publish must put A in front of readers, never B. Replayed here through the Airflow task bodies, with the
JSON payloads that XCom carries between them.
"""

from __future__ import annotations

import dataclasses
import json
from types import ModuleType
from typing import Any

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.orchestration import steps
from borderwatch.publish import PublishError, current_version, sha256_file
from borderwatch.warehouse import BuildResult


def _xcom(payload: dict[str, Any]) -> dict[str, Any]:
    """What Airflow hands the next task: the payload after a JSON round trip."""
    return json.loads(json.dumps(payload))


def _served(settings: Settings) -> tuple[int, int]:
    con = duckdb.connect(str(settings.current_db), read_only=True)
    try:
        row = con.execute("select count(*), min(persons_detained) from marts.fct_raids").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        con.close()


def _failing_dbt() -> BuildResult:
    """dbt's verdict on the operator's build: its non-negative contract check failed."""
    return BuildResult(
        ok=False,
        results=[
            {
                "unique_id": "model.borderwatch.fct_raids",
                "status": "error",
                "resource_type": "model",
                "message": "CHECK constraint failed: persons_detained >= 0",
            }
        ],
    )


def _operator_builds_bad_marts(settings: Settings, synthetic: ModuleType) -> pipeline.Built:
    """The operator's `borderwatch build` in the gap: negative counts, BE years; snapshotted as usual."""
    synthetic.make_build(settings.build_db, raids=900, negative_detained=40, be_years=25)
    return pipeline.Built(_failing_dbt(), pipeline.snapshot(settings))


def test_a_build_between_audit_and_publish_is_never_published(
    home: Settings, passed: GateResult, synthetic: ModuleType
) -> None:
    built_a = pipeline.Built(BuildResult(ok=True), pipeline.snapshot(home))
    audited_a = _xcom(pipeline.Audited(built_a.candidate, passed).as_dict())  # the gate's pass, as XCom

    built_b = _operator_builds_bad_marts(home, synthetic)
    assert built_b.candidate.sha256 != built_a.candidate.sha256

    publication = steps.run_publish(audited_a, settings=home)
    assert _served(home) == (300, 10), "readers must see the audited build A, not the operator's B"
    manifest = json.loads((home.current_dir / "manifest.json").read_text())
    assert manifest["candidate"] == built_a.candidate.sha256
    assert publication["version"] == current_version(home)


def test_a_candidate_changed_after_its_audit_is_refused(
    home: Settings, passed: GateResult, synthetic: ModuleType
) -> None:
    candidate = pipeline.snapshot(home)
    audited = pipeline.Audited(candidate, passed)
    candidate.path.chmod(0o644)
    with duckdb.connect(str(candidate.path)) as con:
        con.execute("update marts.fct_raids set persons_detained = -1 where raid_id = 'R000001'")
    with pytest.raises(PublishError, match="differs from the audited"):
        pipeline.publish(home, audited, notify=False)
    assert current_version(home) is None


def test_a_gone_or_foreign_candidate_is_refused(
    home: Settings, passed: GateResult, synthetic: ModuleType, tmp_path
) -> None:
    candidate = pipeline.snapshot(home)
    foreign = tmp_path / "elsewhere" / "x" / "build.duckdb"
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(candidate.path.read_bytes())
    forged = pipeline.Audited(
        type(candidate)(path=foreign, sha256=sha256_file(foreign), content={"forged": "1"}), passed
    )
    with pytest.raises(PublishError, match="not a candidate of this installation"):
        pipeline.publish(home, forged, notify=False)
    gone = pipeline.Audited(
        type(candidate)(
            path=candidate.path.parent.parent / ("0" * 16) / "build.duckdb", sha256="0" * 64, content={}
        ),
        passed,
    )
    with pytest.raises(PublishError, match="is gone"):
        pipeline.publish(home, gone, notify=False)
    assert current_version(home) is None


def test_typed_payloads_round_trip_without_reflection(
    home: Settings, passed: GateResult, synthetic: ModuleType
) -> None:
    build = BuildResult(
        ok=True,
        results=[{"unique_id": "test.x", "status": "pass"}],
        failed_tests=["test.y"],
        warned_tests=["test.z"],
        row_counts={"marts.m": 3},
        elapsed_s=1.5,
        run_results_path=home.home / "dbt" / "target" / "run_results.json",
        manifest_path=home.home / "dbt" / "target" / "manifest.json",
        rebuilt_models=["fct_deportations"],
        not_rerun=["unit_test.borderwatch.dim_date.t", "seed.borderwatch.countries"],
    )
    assert {f.name for f in dataclasses.fields(BuildResult)} == {
        "ok",
        "results",
        "failed_tests",
        "warned_tests",
        "row_counts",
        "elapsed_s",
        "run_results_path",
        "manifest_path",
        "rebuilt_models",
        "not_rerun",
    }, "BuildResult changed: carry the new field in pipeline.Built.from_dict"
    built = pipeline.Built(build, pipeline.snapshot(home))
    again = pipeline.Built.from_dict(_xcom(built.as_dict()))
    assert again == built
    audited = pipeline.Audited(built.candidate, passed)
    assert pipeline.Audited.from_dict(_xcom(audited.as_dict())) == audited


@pytest.mark.slow
def test_the_race_through_the_real_gate_publishes_only_the_audited_build(
    home: Settings, synthetic: ModuleType
) -> None:
    """Same race, with the real gate run by the Airflow task body on each candidate."""
    built_a = pipeline.Built(BuildResult(ok=True), pipeline.snapshot(home))
    audit_a = steps.run_audit(_xcom(built_a.as_dict()), settings=home)
    assert audit_a["passed"], audit_a.get("blocking_failures")

    built_b = _operator_builds_bad_marts(home, synthetic)
    with pytest.raises(pipeline.PublicationBlocked):  # the operator's build, audited, is blocked
        steps.run_audit(_xcom(built_b.as_dict()), settings=home)

    steps.run_publish(_xcom(audit_a), settings=home)  # the first run's publish task, after the gap
    assert _served(home) == (300, 10)
    # B's candidate still waits, unpublished; building again and auditing is the only way forward
    assert built_b.candidate.path.is_file()
