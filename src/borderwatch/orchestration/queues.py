"""Celery routing as an Airflow cluster policy: every build-file writer goes to the build host's queue.

With the CeleryExecutor any worker may pick up any task, but the DuckDB build file lives on one host's
disk. Every task that writes it already runs in the ``borderwatch_build`` pool (size 1); this policy also
sends those tasks to ``BORDERWATCH_BUILD_QUEUE`` (e.g. ``build``), which only the worker on the build
host consumes (``airflow celery worker --queues build``). Tasks outside the pool keep Airflow's default
queue and may run on any worker. One rule, applied at parse time to every DAG, so a new build-writing
task cannot forget it. Registered through the ``airflow.policy`` entry point in ``pyproject.toml``;
unset (the LocalExecutor default), it changes nothing.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.policies import hookimpl

BUILD_QUEUE_ENV = "BORDERWATCH_BUILD_QUEUE"


def build_queue() -> str | None:
    """The Celery queue of the build host, or None when tasks keep their queues."""
    return os.environ.get(BUILD_QUEUE_ENV, "").strip() or None


@hookimpl
def task_policy(task: Any) -> None:
    """Route tasks of the single-writer pool to the build host's queue."""
    from borderwatch.orchestration.factory import BUILD_POOL

    queue = build_queue()
    if queue and task.pool == BUILD_POOL:
        task.queue = queue
