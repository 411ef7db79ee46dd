"""Live, distributed: Airflow on PostgreSQL metadata with the CeleryExecutor, Redis broker, two workers.

Scheduler, dag-processor, triggerer and api-server (``borderwatch.orchestration.local.live_airflow``) run on
a PostgreSQL metadata database; two ``airflow celery worker`` processes serve the queues the compose
profile defines: ``build`` (the build-file writers, concurrency 1) and ``default``. A feed file dropped in
the inbox becomes a new publication in the DuckDB files and in the PostgreSQL serving warehouse, and the
build-file writers never overlap. The same flow on the LocalExecutor (same PostgreSQL metadata, no
workers) prints the drop → publication latency to compare with.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from borderwatch.config import get_settings
from borderwatch.orchestration.factory import BUILD_POOL
from borderwatch.orchestration.local import airflow_executable, live_airflow
from borderwatch.orchestration.steps import read_published_manifest
from borderwatch.publish import current_version

from .conftest import free_port

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(1500)]

CLOCK = date(2025, 3, 31)
STARTUP_TIMEOUT = 240
REFRESH_TIMEOUT = 720
WORKERS = {"build": ("build", "1"), "general": ("default", "2")}  # name → (queue, concurrency)


def wait_for(condition, timeout: float, what: str, logs: dict[str, Path]):
    """Poll until ``condition()`` is truthy; on timeout fail with every component's log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(2)
    tails = "\n".join(
        f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:])
        for name, path in logs.items()
        if path.is_file()
    )
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")


@contextlib.contextmanager
def celery_workers(env: dict[str, str], log_dir: Path, executor: str) -> Iterator[dict[str, Path]]:
    """The two workers of the compose profile, as processes on loopback; always stopped."""
    procs, logs = {}, {}
    try:
        for name, (queue, concurrency) in WORKERS.items() if executor == "CeleryExecutor" else ():
            logs[name] = log_dir / f"worker-{name}.log"
            procs[name] = subprocess.Popen(
                [airflow_executable(), "celery", "worker", "--queues", queue, "--concurrency", concurrency,
                 "--celery-hostname", f"{name}@%h", "--skip-serve-logs"],
                env=env, stdout=logs[name].open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        yield logs
    finally:
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def finished_runs(meta: str, dag_id: str, run_type: str) -> list[tuple[str, str]]:
    with psycopg.connect(meta, autocommit=True) as conn:
        try:
            rows = conn.execute(
                "select run_id, state from dag_run where dag_id = %s and run_type = %s"
                " and state in ('success', 'failed')",
                (dag_id, run_type),
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return [(str(r), str(s)) for r, s in rows]


def failed_task_logs(meta: str, airflow_home: Path) -> str:
    """Task states and the log tails of failed tasks: what a failing assertion should show."""
    with psycopg.connect(meta, autocommit=True) as conn:
        rows = conn.execute("select dag_id, task_id, state, queue, hostname from task_instance").fetchall()
    report = [repr(rows)]
    for dag_id, task_id, state, *_ in rows:
        if state not in ("failed", "up_for_retry"):
            continue
        for path in sorted((airflow_home / "logs").glob(f"dag_id={dag_id}/*/task_id={task_id}/*.log")):
            errors = [
                line for line in path.read_text(errors="replace").splitlines() if '"level":"error"' in line
            ]
            report.append(f"--- {path}\n" + "\n".join(errors[-5:]))
    return "\n".join(report)


@pytest.mark.parametrize("executor", ["CeleryExecutor", "LocalExecutor"])
def test_dropped_file_becomes_a_publication_in_duckdb_and_postgres(
    executor, tmp_path, pg_server, redis_url, serving_db, capsys
):
    """Celery: the distributed profile. LocalExecutor on the same PostgreSQL: the latency to compare with."""
    from borderwatch.simulator.scenario import build_scenario
    from borderwatch.simulator.server import SimulatorServer

    metadata_db = f"airflow_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(metadata_db)))
    meta = pg_server.dsn(metadata_db, "bw_admin")
    info = psycopg.conninfo.conninfo_to_dict(meta)
    where = f"{info['user']}@{info['host']}:{info['port']}/{metadata_db}"
    overrides = {
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{where}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": f"postgresql+psycopg://{where}",
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{where}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # only the inbox path runs (see tests/live)
        "BORDERWATCH_BUILD_QUEUE": "build",
    }
    settings = get_settings(tmp_path / "home")
    scale = 0.05
    with SimulatorServer(port=0, seed=7, scale=scale, until=CLOCK) as sim:
        settings = dataclasses.replace(settings, simulator_url=sim.url)
        with live_airflow(
            settings,
            api_port=free_port(),
            airflow_home=tmp_path / "airflow",
            simulator_url=sim.url,
            overrides=overrides,
        ) as live:
            logs = {name: live.log_path(name) for name in live.processes}
            with celery_workers(live.env, live.airflow_home / "live-logs", executor) as worker_logs:
                logs.update(worker_logs)

                def registered() -> bool:
                    with psycopg.connect(meta, autocommit=True) as conn:
                        rows = conn.execute(
                            "select count(*) from dag where dag_id in ('inbox_watch', 'warehouse_refresh')"
                        ).fetchone()
                    return bool(rows and rows[0] == 2)

                wait_for(registered, STARTUP_TIMEOUT, "the DAGs to be registered", logs)
                live.unpause("^(inbox_watch|warehouse_refresh)$")
                (_, first_state), *_ = wait_for(
                    lambda: finished_runs(meta, "warehouse_refresh", "scheduled"),
                    REFRESH_TIMEOUT,
                    "the initial refresh",
                    logs,
                )
                assert first_state == "success", failed_task_logs(meta, live.airflow_home)
                first_version = current_version(settings)
                with serving_db.connect(reader=True) as bi:
                    served = bi.execute("select version from borderwatch_meta.current").fetchone()[0]
                assert served == first_version

                later = next(
                    f
                    for f in build_scenario(seed=7, scale=scale).files["kh_gdi_deportations"]
                    if f.day > CLOCK
                )
                settings.inbox_dir.mkdir(parents=True, exist_ok=True)
                part = settings.inbox_dir / f".{later.name}.part"
                part.write_bytes(later.read_bytes())
                dropped = time.monotonic()
                part.rename(settings.inbox_dir / later.name)
                (_, event_state), *_ = wait_for(
                    lambda: finished_runs(meta, "warehouse_refresh", "asset_triggered"),
                    REFRESH_TIMEOUT,
                    f"the asset-triggered refresh after dropping {later.name}",
                    logs,
                )
                with capsys.disabled():
                    print(f"\n{executor}: inbox drop → published in {time.monotonic() - dropped:.1f}s")
                failure_report = failed_task_logs(meta, live.airflow_home)
            with psycopg.connect(meta, autocommit=True) as conn:
                tis = conn.execute(
                    "select dag_id, task_id, pool, queue, state, start_date, end_date from task_instance"
                    " where start_date is not null order by start_date"
                ).fetchall()

    assert event_state == "success", failure_report
    new_version = current_version(settings)
    assert new_version != first_version
    manifest = read_published_manifest(settings) or {}
    assert manifest.get("version") == new_version
    with serving_db.connect(reader=True) as bi:
        version, counts = bi.execute("select version, row_counts from borderwatch_meta.current").fetchone()
        assert version == new_version
        assert counts == manifest["row_counts"]
        assert (
            bi.execute("select count(*) from marts.fct_deportations").fetchone()[0]
            == manifest["row_counts"]["marts.fct_deportations"]
        )
    writers = [t for t in tis if t[2] == BUILD_POOL]
    assert writers and {t[3] for t in writers} == {"build"}, writers
    assert {t[3] for t in tis if t[2] != BUILD_POOL} == {"default"}
    for before, after in itertools.pairwise(writers):  # one build-file writer at any moment
        assert before[6] is not None and before[6] <= after[5], (before, after)
    if executor == "CeleryExecutor":  # which worker ran what, from the workers' own logs
        ran = {
            n: set(re.findall(r"task_id='(\w+)'", p.read_text(errors="replace")))
            for n, p in worker_logs.items()
        }
        build_tasks = {t[1] for t in writers}
        assert build_tasks <= ran["build"] and not build_tasks & ran["general"], ran
        assert "announce_feeds" in ran["general"], ran
