"""run_gate: dbt's results plus the GX suites give one publish/no-publish verdict and one report.

Audit happens on the candidate build file before anything is published (write-audit-publish). dbt's
share (tests, contract constraints, source freshness) is read from the build's results; GX runs only
the suites that apply to tables present in the candidate, in the warm worker when the refresh started
one, and not at all when no suite applies. Each run leaves ``reports/gate/<run_id>/summary.json`` and
an offline ``index.html`` beside it, pass or fail, and refreshes the index of runs.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from borderwatch import duck
from borderwatch.config import Settings
from borderwatch.gate import gx_run, report
from borderwatch.gate.checks import check
from borderwatch.gate.dbt_rules import BuildResultLike, dbt_checks
from borderwatch.gate.result import GateError, GateResult, new_run_id, write_json
from borderwatch.gate.suites import (
    GateConfig,
    SuiteSpec,
    expectation_parameters,
    feed_health_suite,
    load_gate_config,
    load_suites,
    published_row_counts,
)
from borderwatch.publish.core import GATE_INPUTS_SCHEMA, attach_gate_inputs

logger = logging.getLogger(__name__)


def run_gate(
    settings: Settings,
    build_result: BuildResultLike,
    *,
    now: datetime | None = None,
    candidate_problem: str | None = None,
) -> GateResult:
    """Audit the candidate build: dbt's results from ``build_result`` plus every applicable GX suite.

    ``candidate_problem`` is why the candidate's files are not its snapshot's (found by the caller, which
    holds the snapshot's record): the verdict fails with it and no suite reads the changed files.

    Never raises for failing data: the verdict and reasons are in the result, and the summary and report
    are written even when it fails. Sends no alert: ``borderwatch.pipeline`` decides "blocked" and
    notifies once (see ``block_if_failed``).
    """
    now = now or datetime.now(UTC)
    run_id = new_run_id(now)
    gate_dir = settings.reports_dir / "gate"
    run_dir = gate_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)

    worker = gx_run.take_worker()
    checks: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    try:
        config = load_gate_config(settings.expectations_dir)
        checks = dbt_checks(build_result, freshness_severity=config.freshness_severity)
        if candidate_problem is None:
            checks += _gx_checks(settings, config, run_id, now=now, worker=worker, timings=timings)
        else:
            checks.append(
                check(
                    "gate.candidate_intact",
                    "gate",
                    "block",
                    False,
                    None,
                    {"error": candidate_problem, "fix": "run the refresh again to build a new candidate"},
                    owner="gate",
                )
            )
    except Exception as exc:  # the gate must fail closed: any error running it blocks publication
        logger.exception("quality gate could not run the expectation suites")
        checks = checks or dbt_checks(build_result)
        checks.append(
            check(
                "gx.suites_ran",
                "gx",
                "block",
                False,
                None,
                {"error": f"{type(exc).__name__}: {exc}"},
                owner="gx",
            )
        )
    finally:
        if worker is not None:
            worker.close()

    blocking = [c["name"] for c in checks if not c["success"] and c["severity"] == "block"]
    warnings = [c["name"] for c in checks if not c["success"] and c["severity"] == "warn"]
    result = GateResult(
        run_id=run_id,
        passed=not blocking,
        blocking_failures=blocking,
        warnings=warnings,
        checks=checks,
        summary_path=run_dir / "summary.json",
        data_docs_path=run_dir / report.RUN_PAGE,
        created_at=now.isoformat(),
        timings={k: round(v, 3) for k, v in timings.items()},
    )
    summary = result.as_dict()
    write_json(run_dir / "summary.json", summary)
    report.write_run_page(run_dir, summary)
    report.write_index(gate_dir)
    return result


def _gx_checks(
    settings: Settings,
    config: GateConfig,
    run_id: str,
    *,
    now: datetime,
    worker: gx_run.GxWorker | None,
    timings: dict[str, float],
) -> list[dict[str, Any]]:
    """GX's share: volume against the served version and feed health, on tables the candidate has."""
    suites = load_suites(settings.expectations_dir)
    published = published_row_counts(settings.current_dir / "manifest.json")
    present_tables = _tables(settings.build_db)
    checks: list[dict[str, Any]] = []
    applicable: list[SuiteSpec] = []
    for spec in suites:
        if (spec.schema, spec.table) in present_tables:
            applicable.append(spec)
        else:
            checks.append(
                check(
                    f"{spec.name}.table_exists",
                    spec.name,
                    "block",
                    False,
                    None,
                    {"message": f"{spec.schema}.{spec.table} is missing from the build; suite not run"},
                    owner="gx",
                    target=f"{spec.schema}.{spec.table}",
                )
            )
    if ("raw", "_loads") in present_tables:
        applicable.append(feed_health_suite(sorted(_feed_names(settings))))
    if not applicable:  # nothing for GX to judge: do not pay its import
        return checks
    params = expectation_parameters(
        applicable, published, today=now.date(), max_shrink_share=config.max_shrink_share
    )
    args = (str(settings.build_db), applicable, params, config, run_id)
    started = time.perf_counter()
    if worker is not None:
        timings["gx_wait_s"] = worker.wait_ready()
        checks += worker.run(*args)
    else:
        checks += gx_run.run_suites(*args)  # pays GX's import here (no warm worker)
    timings["gx_s"] = time.perf_counter() - started
    return checks


def _tables(build_db: Path) -> set[tuple[str, str]]:
    """(schema, name) of every table and view in the candidate: plain DuckDB, read-only, closed at once.

    Not through ``gx_duckdb``: importing it imports GX, which the warm worker is there to keep out of
    this process.
    """
    if not build_db.is_file():
        raise GateError(f"{build_db}: candidate build file does not exist; run the dbt build first.")
    con = duck.connect(build_db, read_only=True)
    try:
        attach_gate_inputs(con, build_db)
        rows = con.execute(  # an attached gate-input file's tables count under its name (raw._loads)
            "select if(database_name = ?, database_name, schema_name), table_name from duckdb_tables() "
            "where database_name in (current_database(), ?) union all "
            "select schema_name, view_name from duckdb_views() where database_name = current_database()",
            [GATE_INPUTS_SCHEMA, GATE_INPUTS_SCHEMA],
        ).fetchall()
    finally:
        con.close()
    return {(str(s), str(t)) for s, t in rows}


def _feed_names(settings: Settings) -> list[str]:
    from borderwatch.specs import load_specs

    return list(load_specs(settings.feeds_dir))
