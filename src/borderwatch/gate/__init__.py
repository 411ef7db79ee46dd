"""The quality gate: dbt test results plus Great Expectations suites give one publish/no-publish verdict.

Audit happens on the candidate build file before anything is published (write-audit-publish). GX
runs every expectation as SQL inside DuckDB (see :mod:`borderwatch.gate.gx_duckdb`); the file is
opened read-only through one handle and closed afterwards, because the caller holds the writer lock.
Each run leaves ``reports/gate/<run_id>/summary.json`` and a Data Docs site beside it, pass or fail.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from borderwatch.config import Settings
from borderwatch.gate.suites import (
    GateConfig,
    SuiteError,
    SuiteSpec,
    expectation_parameters,
    feed_health_suite,
    freshness_suite,
    load_gate_config,
    load_suites,
    published_row_counts,
)

__all__ = [
    "BuildResultLike",
    "GateError",
    "GateResult",
    "SuiteError",
    "notify_failure",
    "run_gate",
]

logger = logging.getLogger(__name__)

NOTIFIER_ENV = "BORDERWATCH_NOTIFIER"
NOTIFIER_ENTRY_POINT_GROUP = "borderwatch.notifiers"
DATA_DOCS_SITE = "gate_site"
_NOTIFIED: set[str] = set()


class GateError(RuntimeError):
    """The gate itself could not run (not a data-quality failure); the message says what to fix."""


class BuildResultLike(Protocol):
    """What the gate reads from ``borderwatch.warehouse.BuildResult``."""

    ok: bool
    results: list[dict[str, Any]]


@dataclass
class GateResult:
    """The verdict: ``passed`` is false when any block-severity check failed."""

    passed: bool
    blocking_failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    summary_path: Path | None = None
    data_docs_path: Path | None = None
    run_id: str = ""
    created_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary_path"] = str(self.summary_path) if self.summary_path else None
        data["data_docs_path"] = str(self.data_docs_path) if self.data_docs_path else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        """Inverse of :meth:`as_dict` (Airflow passes the verdict between tasks as JSON)."""
        return cls(
            passed=bool(data["passed"]),
            blocking_failures=list(data.get("blocking_failures", [])),
            warnings=list(data.get("warnings", [])),
            checks=list(data.get("checks", [])),
            summary_path=Path(data["summary_path"]) if data.get("summary_path") else None,
            data_docs_path=Path(data["data_docs_path"]) if data.get("data_docs_path") else None,
            run_id=str(data.get("run_id", "")),
            created_at=str(data.get("created_at", "")),
        )


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique id for one gate run (UTC timestamp + short random suffix)."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def run_gate(settings: Settings, build_result: BuildResultLike, *, now: datetime | None = None) -> GateResult:
    """Audit the candidate build: dbt tests from ``build_result`` plus every GX suite.

    Never raises for failing data: the verdict and reasons are in the result, and the summary and Data
    Docs are written even when it fails. Raises :class:`GateError` only when the gate cannot run.
    """
    now = now or datetime.now(UTC)
    run_id = new_run_id(now)
    run_dir = settings.reports_dir / "gate" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)

    checks = dbt_checks(build_result)
    data_docs_path: Path | None = None
    try:
        gx_checks, data_docs_path = _run_expectations(settings, run_dir, now=now)
        checks.extend(gx_checks)
    except Exception as exc:  # the gate must fail closed: any error running GX blocks publication
        logger.exception("quality gate could not run the expectation suites")
        checks.append(
            _check("gx.suites_ran", "gx", "block", False, None, {"error": f"{type(exc).__name__}: {exc}"})
        )

    summary_path = run_dir / "summary.json"
    blocking = [c["name"] for c in checks if not c["success"] and c["severity"] == "block"]
    warnings = [c["name"] for c in checks if not c["success"] and c["severity"] == "warn"]
    result = GateResult(
        run_id=run_id,
        passed=not blocking,
        blocking_failures=blocking,
        warnings=warnings,
        checks=checks,
        summary_path=summary_path,
        data_docs_path=data_docs_path,
        created_at=now.isoformat(),
    )
    _write_json(summary_path, result.as_dict())
    if not result.passed:
        notify_failure(result)
    return result


def dbt_checks(build_result: BuildResultLike) -> list[dict[str, Any]]:
    """dbt's verdicts as gate checks: failed error-severity tests and failed nodes block, warns warn."""
    checks = []
    for node in getattr(build_result, "results", None) or []:
        unique_id = str(node.get("unique_id", "?"))
        status = str(node.get("status", "")).lower()
        resource_type = str(node.get("resource_type", "")).lower()
        details = {"status": status, "resource_type": resource_type, "message": node.get("message")}
        failures = node.get("failures")
        if status in ("fail", "error", "runtime error"):
            checks.append(_check(unique_id, "dbt", "block", False, failures, details))
        elif status == "warn":
            checks.append(_check(unique_id, "dbt", "warn", False, failures, details))
        elif resource_type == "test":
            checks.append(_check(unique_id, "dbt", "block", True, failures or 0, details))
    if not getattr(build_result, "ok", True) and not any(not c["success"] for c in checks):
        checks.append(
            _check("dbt.build", "dbt", "block", False, None, {"message": "dbt build did not succeed"})
        )
    return checks


def _check(
    name: str, suite: str, severity: str, success: bool, unexpected_count: int | None, details: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": name,
        "suite": suite,
        "severity": severity,
        "success": success,
        "unexpected_count": unexpected_count,
        "details": details,
    }


def _run_expectations(
    settings: Settings, run_dir: Path, *, now: datetime
) -> tuple[list[dict[str, Any]], Path]:
    """Run every suite on the candidate file in one GX checkpoint and build Data Docs in ``run_dir``."""
    from borderwatch.gate import gx_duckdb

    config = load_gate_config(settings.expectations_dir)
    suites = load_suites(settings.expectations_dir)
    published = published_row_counts(settings.current_dir / "manifest.json")
    params = expectation_parameters(
        suites, published, today=now.date(), max_shrink_share=config.max_shrink_share
    )
    missing: list[dict[str, Any]] = []
    with gx_duckdb.open_candidate(settings.build_db) as con:
        present = []
        for spec in suites:
            if _table_exists(con, spec.schema, spec.table):
                present.append(spec)
            else:
                missing.append(
                    _check(
                        f"{spec.name}.table_exists",
                        spec.name,
                        "block",
                        False,
                        None,
                        {"message": f"{spec.schema}.{spec.table} is missing from the build; suite not run"},
                    )
                )
        has_files = _table_exists(con, "raw", "_files")
        if has_files:
            present.append(
                freshness_suite(_feed_freshness(settings), now=now, severity=config.freshness_severity)
            )
        if _table_exists(con, "raw", "_loads"):
            present.append(feed_health_suite(sorted(_feed_freshness(settings))))
        checks, index = _run_checkpoint(settings.build_db, present, params, config, run_dir)
    checks = missing + checks
    if not has_files:
        checks.append(
            _check(
                "freshness.raw_files_present",
                "freshness",
                config.freshness_severity,
                False,
                None,
                {"message": "raw._files is missing: no load history, freshness cannot be measured"},
            )
        )
    return checks, index


def _run_checkpoint(
    build_db: Path, suites: list[SuiteSpec], params: dict[str, Any], config: GateConfig, run_dir: Path
) -> tuple[list[dict[str, Any]], Path]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    from borderwatch.gate import gx_duckdb

    docs_dir = run_dir / "data_docs"
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
            data_docs_sites={
                DATA_DOCS_SITE: {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                }
            },
        ),
    )
    datasource = context.data_sources.add_duckdb(
        name="candidate", connection_string=gx_duckdb.connection_string(build_db)
    )
    try:
        definitions = []
        for spec in suites:
            suite = context.suites.add(_gx_suite(spec))
            asset = datasource.add_table_asset(
                name=f"{spec.schema}.{spec.table}.{spec.name}", table_name=spec.table, schema_name=spec.schema
            )
            batch = asset.add_batch_definition_whole_table(name="whole_table")
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)
                )
            )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=config.name,
                validation_definitions=definitions,
                result_format={"result_format": config.result_format},
            )
        )
        outcome = checkpoint.run(expectation_parameters=params)
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
    finally:
        datasource.get_execution_engine().close()
    checks = [
        _expectation_check(validation.suite_name, exp_result)
        for validation in outcome.run_results.values()
        for exp_result in validation.results
    ]
    return checks, docs_dir / "index.html"


def _gx_suite(spec: SuiteSpec) -> Any:
    """Build the GX suite and insist every stored expectation survived (GX drops invalid ones quietly)."""
    import great_expectations as gx

    data = spec.suite
    with contextlib.redirect_stdout(io.StringIO()):  # GX print()s a hint for queries without {batch}
        suite = gx.ExpectationSuite(
            name=spec.name, expectations=data["expectations"], meta=data.get("meta"), notes=data.get("notes")
        )
    if len(suite.expectations) != len(data["expectations"]):
        kept = {(e.meta or {}).get("check") for e in suite.expectations}
        lost = [e["meta"]["check"] for e in data["expectations"] if e["meta"]["check"] not in kept]
        raise SuiteError(
            f"{spec.path or spec.name}: GX rejected expectations {lost}; fix their type or kwargs"
        )
    return suite


def _expectation_check(suite_name: str, exp_result: Any) -> dict[str, Any]:
    config = exp_result.expectation_config
    meta = config.meta or {}
    result = exp_result.result or {}
    unexpected = result.get("unexpected_count")
    if unexpected is None and config.type == "unexpected_rows_expectation":
        unexpected = result.get("observed_value")
    details: dict[str, Any] = {"type": config.type, "kwargs": _jsonable(config.kwargs)}
    for key in ("observed_value", "element_count", "unexpected_percent", "partial_unexpected_list"):
        if key in result:
            details[key] = _jsonable(result[key])
    info = exp_result.exception_info or {}
    if info.get("raised_exception"):
        details["error"] = info.get("exception_message")
    else:
        for value in info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                details["error"] = value.get("exception_message")
                break
    return _check(
        str(meta.get("check", config.type)),
        suite_name,
        str(meta.get("severity", "block")),
        bool(exp_result.success),
        unexpected,
        details,
    )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _table_exists(con: Any, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from (select schema_name, table_name from duckdb_tables() union all "
        "select schema_name, view_name from duckdb_views()) where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def _feed_freshness(settings: Settings) -> dict[str, int]:
    from borderwatch.specs import load_specs

    return {name: spec.freshness_hours for name, spec in load_specs(settings.feeds_dir).items()}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def notify_failure(gate_result: GateResult) -> None:
    """Tell someone the gate blocked publication.

    Uses ``BORDERWATCH_NOTIFIER=module:function`` if set, else the first entry point in group
    ``borderwatch.notifiers``, else :func:`default_notifier`. A broken notifier must never hide the
    verdict, so its errors are logged and the default runs instead. :func:`run_gate` already calls
    this for a failed verdict; a second call for the same run in this process is a no-op.
    """
    if gate_result.run_id:
        if gate_result.run_id in _NOTIFIED:
            return
        _NOTIFIED.add(gate_result.run_id)
    target = os.environ.get(NOTIFIER_ENV, "").strip()
    try:
        if target:
            module_name, _, func_name = target.partition(":")
            if not func_name:
                raise GateError(f"{NOTIFIER_ENV}={target!r}: expected 'module:function'")
            getattr(importlib.import_module(module_name), func_name)(gate_result)
            return
        plugins = sorted(entry_points(group=NOTIFIER_ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        if plugins:
            plugins[0].load()(gate_result)
            return
    except Exception:
        logger.exception(
            "notifier %r failed; falling back to the default alert file", target or "entry point"
        )
    default_notifier(gate_result)


def default_notifier(gate_result: GateResult) -> Path:
    """Log one line and write ``reports/alerts/gate-<run_id>.json`` next to the gate reports."""
    reports_dir = _reports_dir_of(gate_result)
    alerts = reports_dir / "alerts"
    alerts.mkdir(parents=True, exist_ok=True)
    path = alerts / f"gate-{gate_result.run_id}.json"
    logger.error(
        "quality gate blocked publication (run %s): %s; report %s",
        gate_result.run_id,
        ", ".join(gate_result.blocking_failures) or "see report",
        gate_result.summary_path,
    )
    _write_json(
        path,
        {
            "kind": "gate_failed",
            "run_id": gate_result.run_id,
            "blocking_failures": gate_result.blocking_failures,
            "warnings": gate_result.warnings,
            "summary_path": str(gate_result.summary_path),
            "data_docs_path": str(gate_result.data_docs_path) if gate_result.data_docs_path else None,
        },
    )
    return path


def _reports_dir_of(gate_result: GateResult) -> Path:
    """summary_path is reports/gate/<run_id>/summary.json; alerts live in reports/alerts."""
    if gate_result.summary_path is not None:
        return Path(gate_result.summary_path).parents[2]
    from borderwatch.config import get_settings

    return get_settings().reports_dir
