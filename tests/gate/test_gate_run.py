"""run_gate end to end on synthetic builds: one owner per check, block vs warn, warm worker, notifier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import ClassVar

import pytest

from borderwatch.gate import GateResult, dbt_checks, notify_failure, run_gate
from borderwatch.gate.checks import OWNERS
from borderwatch.gate.suites import SuiteError, load_suites

pytestmark = pytest.mark.slow

EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"
PASSING_TEST = {
    "unique_id": "test.bw.not_null_fct_raids_persons",
    "resource_type": "test",
    "status": "pass",
    "failures": 0,
    "severity": "error",
    "attached_node": "model.bw.fct_raids",
    "column_name": "persons_detained",
}
CONTRACTED_MODEL = {
    "unique_id": "model.bw.fct_raids",
    "resource_type": "model",
    "status": "success",
    "constraints": [
        {"column": "raid_id", "type": "primary_key", "expression": None},
        {"column": "persons_detained", "type": "check", "expression": "persons_detained >= 0"},
    ],
}
FRESH_SOURCE = {
    "unique_id": "source.bw.rtp.rtp_raids",
    "resource_type": "source",
    "status": "pass",
    "max_loaded_at": "2026-12-01 10:00:00+00:00",
    "warn_after": "72 hour",
    "error_after": "144 hour",
}
STALE_SOURCE = dict(FRESH_SOURCE, unique_id="source.bw.kh_gdi.kh_gdi_deportations", status="error")


def _dbt(synthetic: ModuleType, *extra: dict, ok: bool = True) -> object:
    return synthetic.FakeBuildResult(ok=ok, results=[PASSING_TEST, CONTRACTED_MODEL, FRESH_SOURCE, *extra])


def _checks(result: GateResult) -> dict[str, dict]:
    return {c["name"]: c for c in result.checks}


@pytest.fixture(scope="module")
def clean_gate(tmp_path_factory: pytest.TempPathFactory, synthetic: ModuleType) -> GateResult:
    """A valid build; one source past its error_after threshold (freshness warns, nothing blocks)."""
    settings = synthetic.make_settings(tmp_path_factory.mktemp("clean") / "home")
    synthetic.make_build(settings.build_db)
    return run_gate(settings, _dbt(synthetic, STALE_SOURCE))


@pytest.fixture(scope="module")
def dirty_gate(tmp_path_factory: pytest.TempPathFactory, synthetic: ModuleType) -> GateResult:
    """GX's problems (a mart shrank to 40 % of the served version, a mart missing) plus a failing dbt test;
    a clean run first in the same home, so the index holds two runs."""
    settings = synthetic.make_settings(tmp_path_factory.mktemp("dirty") / "home")
    synthetic.make_build(settings.build_db)
    run_gate(settings, _dbt(synthetic))
    synthetic.make_build(settings.build_db, drop=("fct_figure_claims",))
    version = settings.published_dir / "20250101T000000.000000Z-deadbeef"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(json.dumps({"row_counts": {"marts.fct_raids": 3000}}))
    settings.current_dir.symlink_to(version.relative_to(settings.warehouse_dir))
    failing = {
        "unique_id": "test.bw.relationships_fct_raids_country_iso3",
        "resource_type": "test",
        "status": "fail",
        "failures": 37,
        "severity": "error",
        "attached_node": "model.bw.fct_raids",
        "column_name": "country_iso3",
    }
    return run_gate(settings, _dbt(synthetic, failing, ok=False))


def test_clean_build_passes_and_every_owner_is_listed(clean_gate: GateResult) -> None:
    assert clean_gate.passed is True, clean_gate.blocking_failures
    assert clean_gate.warnings == ["freshness.kh_gdi.kh_gdi_deportations"]
    checks = _checks(clean_gate)
    assert {c["owner"] for c in clean_gate.checks} == set(OWNERS)
    assert checks["fct_raids.volume_vs_published"]["owner"] == "gx"
    assert checks["fct_raids.volume_vs_published"]["success"] is True
    assert checks["contract.fct_raids.raid_id.primary_key"]["success"] is True
    assert (
        checks["contract.fct_raids.persons_detained.check.persons_detained >= 0"]["owner"] == "dbt contract"
    )
    assert checks["freshness.rtp.rtp_raids"]["success"] is True
    assert checks["test.bw.not_null_fct_raids_persons"]["target"] == "fct_raids.persons_detained"


def test_gx_repeats_no_dbt_rule() -> None:
    """GX keeps volume (and generated feed health); keys, values and relationships are dbt's."""
    kinds = {e["type"] for s in load_suites(EXPECTATIONS) for e in s.expectations}
    assert kinds == {"expect_table_row_count_to_be_between"}


def test_gx_and_dbt_failures_block_with_exact_counts(dirty_gate: GateResult) -> None:
    assert dirty_gate.passed is False
    checks = _checks(dirty_gate)
    assert checks["fct_raids.volume_vs_published"]["details"]["observed_value"] == 1200
    assert checks["test.bw.relationships_fct_raids_country_iso3"]["unexpected_count"] == 37
    assert set(dirty_gate.blocking_failures) == {
        "fct_raids.volume_vs_published",
        "fct_figure_claims.table_exists",
        "test.bw.relationships_fct_raids_country_iso3",
    }
    assert checks["fct_deportations.volume_vs_published"]["success"] is True


def test_verdict_round_trips_through_json(dirty_gate: GateResult) -> None:
    payload = json.loads(json.dumps(dirty_gate.as_dict()))
    assert GateResult.from_dict(payload) == dirty_gate


def test_reports_are_written_even_on_failure(dirty_gate: GateResult) -> None:
    summary = json.loads(Path(dirty_gate.summary_path).read_text())
    assert summary["passed"] is False
    assert summary["blocking_failures"] == dirty_gate.blocking_failures
    assert Path(dirty_gate.summary_path).parent.name == dirty_gate.run_id
    assert Path(dirty_gate.data_docs_path).is_file()
    # the gate only judges; borderwatch.pipeline decides "blocked" and sends the one alert
    assert not (Path(dirty_gate.summary_path).parents[2] / "alerts").exists()


def test_dbt_failures_block_and_warns_warn(synthetic: ModuleType) -> None:
    build = synthetic.FakeBuildResult(
        ok=False,
        results=[
            {"unique_id": "test.a", "resource_type": "test", "status": "fail", "failures": 4, "message": "x"},
            {"unique_id": "test.b", "resource_type": "test", "status": "warn", "failures": 2, "message": "y"},
            {"unique_id": "test.c", "resource_type": "test", "status": "pass", "failures": 0},
            {
                "unique_id": "test.r",
                "resource_type": "test",
                "status": "pass",
                "failures": 0,
                "severity": "warn",
            },
            {"unique_id": "model.d", "resource_type": "model", "status": "error", "message": "z"},
            {"unique_id": "model.e", "resource_type": "model", "status": "success", "failures": None},
        ],
    )
    checks = {c["name"]: c for c in dbt_checks(build)}
    assert checks["test.a"]["severity"] == "block" and checks["test.a"]["success"] is False
    assert checks["test.a"]["unexpected_count"] == 4
    assert checks["test.b"]["severity"] == "warn" and checks["test.b"]["success"] is False
    assert checks["test.c"]["success"] is True and checks["test.c"]["severity"] == "block"
    assert checks["test.r"]["severity"] == "warn"  # e.g. the reconciliation tests (severity warn in dbt)
    assert checks["model.d"]["severity"] == "block" and checks["model.d"]["success"] is False
    assert "model.e" not in checks


def test_a_model_rejected_by_its_contract_fails_its_constraints() -> None:
    """DuckDB refuses the write (a CHECK or NOT NULL failed): dbt reports the model in error, and each of
    its constraints shows as not held (blocking) with dbt's message."""

    class Build:
        ok = False
        results: ClassVar[list[dict]] = [
            dict(
                CONTRACTED_MODEL,
                status="error",
                message='Constraint Error: CHECK constraint failed on "fct_raids"',
            )
        ]

    checks = {c["name"]: c for c in dbt_checks(Build())}
    held = checks["contract.fct_raids.persons_detained.check.persons_detained >= 0"]
    assert held["success"] is False and held["severity"] == "block"
    assert "CHECK constraint failed" in held["details"]["message"]
    assert checks["model.bw.fct_raids"]["success"] is False


def test_freshness_thresholds_come_from_dbt_and_severity_from_the_checkpoint() -> None:
    class Build:
        ok = True
        results: ClassVar[list[dict]] = [
            FRESH_SOURCE,
            dict(FRESH_SOURCE, unique_id="source.bw.mfa.mfa_assistance", status="warn"),
            STALE_SOURCE,
        ]

    checks = {c["name"]: c for c in dbt_checks(Build(), freshness_severity="block")}
    assert checks["freshness.rtp.rtp_raids"]["success"] is True
    assert checks["freshness.mfa.mfa_assistance"]["severity"] == "warn"
    assert checks["freshness.kh_gdi.kh_gdi_deportations"]["severity"] == "block"
    assert checks["freshness.kh_gdi.kh_gdi_deportations"]["details"]["error_after"] == "144 hour"


def test_failed_dbt_build_without_results_blocks(synthetic: ModuleType) -> None:
    checks = dbt_checks(synthetic.FakeBuildResult(ok=False, results=[]))
    assert [(c["name"], c["success"]) for c in checks] == [("dbt.build", False)]


def test_every_stored_expectation_has_a_severity() -> None:
    suites = load_suites(EXPECTATIONS)
    assert {s.name for s in suites} >= {"fct_raids", "fct_deportations", "dim_country"}
    for suite in suites:
        for exp in suite.expectations:
            assert exp["meta"]["severity"] in ("block", "warn")


def test_bad_severity_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(
        json.dumps(
            {
                "name": "x",
                "meta": {"borderwatch": {"table": "t"}},
                "expectations": [
                    {
                        "type": "expect_column_to_exist",
                        "kwargs": {"column": "a"},
                        "meta": {"severity": "fatal"},
                    }
                ],
            }
        )
    )
    with pytest.raises(SuiteError, match=r"meta\.severity"):
        load_suites(tmp_path)


_IN_FRESH_PROCESS = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from conftest import load_synthetic
from borderwatch import gate
synthetic = load_synthetic()
settings = synthetic.make_settings(Path(sys.argv[1]))
mode = sys.argv[3]
if mode == "present":
    synthetic.make_build(settings.build_db)
else:  # a build file with none of the suites' tables and no load history: no suite applies
    import duckdb
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.build_db)).close()
    import dataclasses
    settings = dataclasses.replace(settings, expectations_dir=Path(sys.argv[1]) / "none")
    (settings.expectations_dir).mkdir()
    (settings.expectations_dir / "x.json").write_text(json.dumps({"name": "x",
        "meta": {"borderwatch": {"table": "absent"}},
        "expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
                          "meta": {"severity": "warn"}}]}))
import multiprocessing, time
from borderwatch import duck
gate.warm_up()
during = duck.memory_limit()
result = gate.run_gate(settings, synthetic.FakeBuildResult())
from borderwatch.gate.gx_run import WORKER_EXIT_TIMEOUT_S
deadline = time.monotonic() + WORKER_EXIT_TIMEOUT_S
while duck.memory_limit() == during and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps({"gx_in_parent": "great_expectations" in sys.modules,
                  "owners": sorted({c["owner"] for c in result.checks}), "checks": len(result.checks),
                  "limit_during": during, "limit_after": duck.memory_limit(),
                  "workers_after": len(multiprocessing.active_children())}))
"""


@pytest.mark.parametrize("mode", ["present", "none"])
def test_gx_runs_in_the_warm_worker_and_is_skipped_when_no_suite_applies(tmp_path: Path, mode: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _IN_FRESH_PROCESS, str(tmp_path / "home"), str(Path(__file__).parent), mode],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["gx_in_parent"] is False  # GX was imported in the worker, never in the refresh's process
    # the worker's memory is reserved while it lives and released only once its process is gone
    assert seen["limit_during"] != seen["limit_after"]
    assert seen["workers_after"] == 0
    assert "leaked semaphore" not in out.stderr  # the worker exits cleanly, it is not killed
    if mode == "present":
        assert seen["owners"] == ["gx"] and seen["checks"] == 17  # 12 volume suites
    else:
        assert seen["owners"] == ["gx"] and seen["checks"] == 1  # only "absent.table_exists", GX not run


def test_notifier_is_pluggable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "bw_test_notifier.py"
    module.write_text(
        "import json, os\n"
        "def notify(result):\n"
        "    open(os.environ['BW_NOTIFY_OUT'], 'w').write(json.dumps(result.blocking_failures))\n"
    )
    out = tmp_path / "notified.json"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BORDERWATCH_NOTIFIER", "bw_test_notifier:notify")
    monkeypatch.setenv("BW_NOTIFY_OUT", str(out))
    result = GateResult(
        passed=False, blocking_failures=["x.y"], summary_path=tmp_path / "r" / "gate" / "1" / "s.json"
    )
    notify_failure(result)
    assert json.loads(out.read_text()) == ["x.y"]
    out.unlink()
    notify_failure(GateResult(passed=False, blocking_failures=["x.y"], run_id="n2"))
    notify_failure(GateResult(passed=False, blocking_failures=["x.y"], run_id="n2"))
    assert out.exists()
    out.unlink()
    notify_failure(GateResult(passed=False, blocking_failures=["x.y"], run_id="n2"))
    assert not out.exists()  # one alert per gate run, even if a caller notifies again
    assert not (tmp_path / "r" / "alerts").exists()


def test_broken_notifier_falls_back_to_alert_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BORDERWATCH_NOTIFIER", "no_such_module_bw:notify")
    result = GateResult(
        passed=False,
        blocking_failures=["x.y"],
        run_id="r1",
        summary_path=tmp_path / "r" / "gate" / "r1" / "s.json",
    )
    notify_failure(result)
    assert json.loads((tmp_path / "r" / "alerts" / "gate-r1.json").read_text())["blocking_failures"] == [
        "x.y"
    ]


def test_gate_fails_closed_when_build_file_is_missing(tmp_path: Path, synthetic: ModuleType) -> None:
    settings = synthetic.make_settings(tmp_path / "home")
    result = run_gate(settings, synthetic.FakeBuildResult())
    assert result.passed is False
    assert result.blocking_failures == ["gx.suites_ran"]
    assert "does not exist" in _checks(result)["gx.suites_ran"]["details"]["error"]
