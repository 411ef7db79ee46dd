"""Great Expectations' share of the gate, and a worker process that pays GX's import while dbt builds.

GX owns only what dbt does not do well: volume against the served version and feed health (see
``expectations/OWNERS.md``). Importing GX costs 6-8 s, more than running its checks; so a refresh calls
:func:`warm_up` before ``dbt build`` and the import happens in a spawned process in parallel. The
gate then sends the suites to that process; with no worker (a lone ``borderwatch gate``, an Airflow
task) it runs them in-process. GX writes no Data Docs: the gate's own offline report covers every
check of every owner (:mod:`borderwatch.gate.report`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from borderwatch import duck
from borderwatch.gate.checks import check
from borderwatch.gate.suites import GateConfig, SuiteError, SuiteSpec

logger = logging.getLogger(__name__)

GX_WORKER_RESERVE = 384 * duck.MIB  # taken off the DuckDB budget while the worker lives (borderwatch.duck)
WORKER_EXIT_TIMEOUT_S = 300.0  # how long a closed worker may take to exit before its reservation is released
_WORKER_LOCK = threading.Lock()
_WORKER: GxWorker | None = None


class GxWorker:
    """One spawned process with GX imported, used for one gate run (then shut down)."""

    def __init__(self) -> None:
        # GX imported holds ~0.27 GiB RSS (measured): dbt and the candidate get that much less meanwhile
        duck.reserve("gx worker", GX_WORKER_RESERVE)
        # spawn, not fork: the parent runs dbt's threads, and forking a threaded process is unsafe
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_import_gx
        )
        self._ready: Future[bool] = self._pool.submit(_ready)

    def wait_ready(self) -> float:
        """Block until GX is imported in the worker; returns the seconds waited (0 when it was ready)."""
        started = time.perf_counter()
        self._ready.result()
        return time.perf_counter() - started

    def run(self, *args: Any) -> list[dict[str, Any]]:
        return self._pool.submit(run_suites, *args).result()

    def close(self) -> None:
        """Shut the worker down; its memory reservation is released only once its process has exited, so
        the next step's DuckDB handles (publish's) never hold the whole budget beside it. A clean exit
        with GX loaded takes ~1.3 s; it happens in the background (termination would skip the worker's
        cleanup, and the resource tracker then warns of leaked semaphores in every run's log)."""
        processes = list(self._pool._processes.values())  # the executor has no public handle on them
        self._pool.shutdown(wait=False, cancel_futures=True)

        def release_when_gone() -> None:
            # a worker still importing GX exits once the import is done: seconds, but minutes on a
            # machine as loaded as CI's can be; only a hung worker gives its reservation up still alive
            for process in processes:
                process.join(timeout=WORKER_EXIT_TIMEOUT_S)
            duck.release("gx worker")

        threading.Thread(target=release_when_gone, name="gx-worker-exit", daemon=True).start()


def warm_up() -> None:
    """Start importing GX in a separate process now (idempotent): call it before ``dbt build``."""
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None:
            _WORKER = GxWorker()


def take_worker() -> GxWorker | None:
    """The warm worker, if one was started; the caller owns (and closes) it."""
    global _WORKER
    with _WORKER_LOCK:
        worker, _WORKER = _WORKER, None
    return worker


def discard_worker() -> None:
    """Stop a warm worker nobody will use (e.g. the build failed before the audit)."""
    worker = take_worker()
    if worker is not None:
        worker.close()


def _import_gx() -> None:
    import great_expectations  # noqa: F401

    from borderwatch.gate import gx_duckdb  # noqa: F401


def _ready() -> bool:
    return True


def run_suites(
    build_db: str, suites: list[SuiteSpec], params: dict[str, Any], config: GateConfig, run_name: str
) -> list[dict[str, Any]]:
    """Run ``suites`` on the candidate file in one GX checkpoint (SQL pushdown); one check per expectation."""
    from borderwatch.gate import gx_duckdb

    with gx_duckdb.open_candidate(Path(build_db)):
        outcome = _checkpoint(build_db, suites, params, config, run_name)
    targets = {spec.name: f"{spec.schema}.{spec.table}" for spec in suites}
    return [
        _expectation_check(validation.suite_name, exp_result, targets.get(validation.suite_name, ""))
        for validation in outcome.run_results.values()
        for exp_result in validation.results
    ]


def _checkpoint(
    build_db: str, suites: list[SuiteSpec], params: dict[str, Any], config: GateConfig, run_name: str
) -> Any:
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    from borderwatch.gate import gx_duckdb

    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        ),
    )
    datasource = context.data_sources.add_duckdb(
        name="candidate", connection_string=gx_duckdb.connection_string(Path(build_db))
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
        return checkpoint.run(
            expectation_parameters=params, run_id=RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        )
    finally:
        datasource.get_execution_engine().close()


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


def _expectation_check(suite_name: str, exp_result: Any, target: str) -> dict[str, Any]:
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
    return check(
        str(meta.get("check", config.type)),
        suite_name,
        str(meta.get("severity", "block")),
        bool(exp_result.success),
        unexpected,
        details,
        owner="gx",
        target=target,
    )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
