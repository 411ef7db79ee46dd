"""The distributed profile: compose's Celery services, and build-file writers routed to the build queue."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from borderwatch.orchestration.factory import BUILD_POOL
from borderwatch.orchestration.queues import BUILD_QUEUE_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE = REPO_ROOT / "docker-compose.yml"
BUILD_WRITERS = {  # tasks that write the build file (and so must run where it lives)
    ("warehouse_refresh", "ingest_all_feeds"),
    ("warehouse_refresh", "dbt_build"),
    ("warehouse_refresh", "quality_gate"),
    ("warehouse_refresh", "publish"),
    ("inbox_watch", "ingest_inbox"),
}


def resolved(**env: str) -> dict:
    """The compose file as `docker-compose config` resolves it with .env.example plus ``env``."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose not installed: scripts/ci-tools.sh installs Debian's package")
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "AIRFLOW_", "BORDERWATCH_"))
    }
    proc = subprocess.run(
        [binary, "-f", str(COMPOSE), "--env-file", str(REPO_ROOT / ".env.example"), "config"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**clean, **env},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_default_profile_stays_local_executor_without_celery_services_enabled():
    services = resolved()["services"]
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    for name in ("redis", "airflow-worker-build", "airflow-worker"):
        assert services[name]["profiles"] == ["celery"], name
    assert services["flower"]["profiles"] == ["flower"]
    assert services["warehouse-postgres"]["profiles"] == ["serving"]
    assert services["airflow-scheduler"]["environment"]["BORDERWATCH_SERVING_PG_DSN"] == ""


def test_celery_profile_runs_a_single_build_worker_and_general_workers_on_shared_volumes():
    services = resolved(AIRFLOW_EXECUTOR="CeleryExecutor")["services"]
    airflow = [n for n, s in services.items() if n.startswith("airflow-") or n == "flower"]
    for name in airflow:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0", name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
        assert env[BUILD_QUEUE_ENV] == "build", name
        assert "borderwatch-home:/opt/borderwatch/home:rw" in services[name]["volumes"], name
    build, general = services["airflow-worker-build"], services["airflow-worker"]
    assert build["command"] == ["celery", "worker", "--queues", "build", "--concurrency", "1"]
    assert general["command"] == ["celery", "worker", "--queues", "default"]
    for worker in (build, general):
        assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
        assert "inspect ping" in " ".join(worker["healthcheck"]["test"])


@pytest.fixture(scope="module")
def dagbag_with_build_queue():
    """The real dags/ parsed with the build queue set, as the Celery profile's dag-processor parses them."""
    from airflow.dag_processing.dagbag import DagBag

    previous = os.environ.get(BUILD_QUEUE_ENV)
    os.environ[BUILD_QUEUE_ENV] = "build"
    try:
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    finally:
        if previous is None:
            os.environ.pop(BUILD_QUEUE_ENV, None)
        else:
            os.environ[BUILD_QUEUE_ENV] = previous
    assert bag.import_errors == {}
    return bag


def test_build_pool_tasks_go_to_the_build_queue_and_nothing_else_does(dagbag_with_build_queue):
    tasks = [(dag_id, t) for dag_id, dag in dagbag_with_build_queue.dags.items() for t in dag.tasks]
    routed = {(d, t.task_id) for d, t in tasks if t.queue == "build"}
    in_pool = {(d, t.task_id) for d, t in tasks if t.pool == BUILD_POOL}
    assert in_pool >= BUILD_WRITERS
    assert routed == in_pool
    assert {t.queue for _, t in tasks if t.pool != BUILD_POOL} == {"default"}


def test_without_the_setting_queues_are_untouched():
    from airflow.dag_processing.dagbag import DagBag

    assert not os.environ.get(BUILD_QUEUE_ENV)
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "inbox_watch.py"))
    assert {t.queue for dag in bag.dags.values() for t in dag.tasks} == {"default"}
