"""One seam between the steps: one lock taker, one "blocked" exception, one alert per blocked run."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import ModuleType

import pytest

from borderwatch import pipeline
from borderwatch.config import REPO_ROOT, Settings
from borderwatch.gate import GateResult
from borderwatch.locking import WriterLockRequired
from borderwatch.orchestration import steps
from borderwatch.orchestration.notifiers import AlertFileNotifier
from borderwatch.publish import rollback, snapshot_candidate
from borderwatch.warehouse import BuildResult

SOURCES = [
    *sorted((REPO_ROOT / "src" / "borderwatch").rglob("*.py")),
    *sorted((REPO_ROOT / "dags").glob("*.py")),
]


def _calls(path: Path, name: str) -> list[int]:
    """Line numbers where ``name`` is called (as ``name(...)`` or ``x.name(...)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called == name:
                lines.append(node.lineno)
    return lines


def test_only_the_pipeline_takes_the_writer_lock() -> None:
    takers = {str(p.relative_to(REPO_ROOT)): _calls(p, "build_writer_lock") for p in SOURCES}
    takers = {path: lines for path, lines in takers.items() if lines}
    assert set(takers) == {"src/borderwatch/pipeline.py"}, takers


def test_one_exception_type_means_blocked() -> None:
    blocked = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and "blocked" in node.name.lower():
                blocked.append(f"{path.relative_to(REPO_ROOT)}:{node.name}")
    assert blocked == ["src/borderwatch/pipeline.py:PublicationBlocked"]


def test_steps_that_need_the_lock_refuse_to_run_without_it(home: Settings) -> None:
    with pytest.raises(WriterLockRequired, match=r"borderwatch\.pipeline"):
        snapshot_candidate(home)
    with pytest.raises(WriterLockRequired):
        rollback(home)


def _failed(settings: Settings, run_id: str) -> GateResult:
    return GateResult(
        passed=False,
        blocking_failures=["fct_raids.persons_detained.non_negative"],
        run_id=run_id,
        summary_path=settings.reports_dir / "gate" / run_id / "summary.json",
    )


def _alerts(settings: Settings) -> list[Path]:
    return sorted((settings.reports_dir / "alerts").glob("*.json"))


def test_library_path_a_blocked_run_alerts_exactly_once(home: Settings) -> None:
    audited = pipeline.Audited(pipeline.snapshot(home), _failed(home, "lib-1"))
    with pytest.raises(pipeline.PublicationBlocked, match="non_negative"):
        pipeline.publish(home, audited)
    with pytest.raises(pipeline.PublicationBlocked):  # a retry of the same run: still one alert
        pipeline.publish(home, audited)
    (alert,) = _alerts(home)
    assert json.loads(alert.read_text())["blocking_failures"] == ["fct_raids.persons_detained.non_negative"]


class _TI:
    dag_id, task_id, run_id, try_number = "warehouse_refresh", "quality_gate", "scheduled__2025-03-31", 1


class _DagRun:
    run_id = "scheduled__2025-03-31"


@pytest.mark.slow
def test_airflow_path_a_blocked_run_alerts_exactly_once(home: Settings, synthetic: ModuleType) -> None:
    """The audit task raises the one exception, sends nothing; task and run callbacks leave one alert."""
    failing = BuildResult(
        ok=False,
        results=[{"unique_id": "model.borderwatch.fct_raids", "status": "error", "resource_type": "model"}],
    )
    built = pipeline.Built(failing, pipeline.snapshot(home))
    with pytest.raises(pipeline.PublicationBlocked) as blocked:
        steps.run_audit(json.loads(json.dumps(built.as_dict())), settings=home)
    assert _alerts(home) == [], "under Airflow the library sends no alert of its own"
    notifier = AlertFileNotifier(alerts_dir=str(home.reports_dir / "alerts"))
    notifier.notify({"ti": _TI(), "exception": blocked.value})  # the task's on_failure_callback
    notifier.notify({"dag_run": _DagRun(), "dag": _TI(), "reason": "task_failure"})  # the DAG's
    (alert,) = _alerts(home)
    assert "PublicationBlocked" in json.loads(alert.read_text())["exception"]
