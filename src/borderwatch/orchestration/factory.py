"""Shared Airflow wiring for the thin DAG files: assets, pool, default args and the per-feed DAG factory.

Imports only ``airflow.sdk``, the standard library and light borderwatch modules at parse time, because
every DAG file imports it and the dag-processor re-parses files every few seconds. Feed specs are read
with the real loader (``borderwatch.specs.load_specs``: YAML + pydantic, both already loaded by Airflow),
cached per directory until a spec file changes.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from borderwatch.config import REPO_ROOT
from borderwatch.orchestration.notifiers import configured_notifiers

OWNER = "borderwatch-data"
BUILD_POOL = "borderwatch_build"
BUILD_POOL_DESCRIPTION = "Single writer of the DuckDB build file (size 1): ingest, dbt build, audit, publish"
TIMEZONE = "Asia/Bangkok"
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
FEED_ASSET_PREFIX = "borderwatch://raw/"
MART_ASSET_PREFIX = "borderwatch://warehouse/marts/"
INBOX_ASSET_URI = "borderwatch://inbox"
PUBLISHED_ASSET_URI = "borderwatch://warehouse/published"
INBOX_ALIAS_NAME = "borderwatch_inbox_feeds"
MART_ALIAS_NAME = "borderwatch_changed_marts"

XCom = Any
"""A task parameter fed by an upstream task: a JSON dict in the task body, an ``XComArg`` where the DAG
wires the call (TaskFlow's typing cannot say both, so such parameters are ``Any`` to the type checker)."""


@dataclass(frozen=True)
class FeedEntry:
    """What the DAG files need to know about a feed at parse time (a subset of its validated spec)."""

    name: str
    schedule: str
    inbox_globs: tuple[str, ...]


def feeds_dir() -> Path:
    """The feed spec directory, resolved exactly as ``borderwatch.config.get_settings`` resolves it."""
    return Path(os.environ.get("BORDERWATCH_FEEDS_DIR", REPO_ROOT / "feeds"))


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime) of every spec: a changed, added or removed spec invalidates the cache."""
    return tuple(
        (p.name, st.st_size, st.st_mtime_ns) for p in sorted(directory.glob("*.yaml")) for st in [p.stat()]
    )


@functools.lru_cache(maxsize=8)
def _entries(directory: Path, signature: tuple[tuple[str, int, int], ...]) -> tuple[FeedEntry, ...]:
    from borderwatch.specs import load_specs

    del signature  # part of the cache key only
    return tuple(
        FeedEntry(
            name=spec.name,
            schedule=spec.schedule,
            inbox_globs=tuple(g for g in (spec.inbox_glob, spec.source.inbox_glob) if g),
        )
        for spec in load_specs(directory).values()
    )


def read_feed_entries(directory: Path | None = None) -> list[FeedEntry]:
    """Every feed spec in the directory, validated by ``load_specs``, in name order.

    An invalid spec fails the DAG file's import with the loader's message (file and key), which Airflow
    shows as the import error.
    """
    directory = directory or feeds_dir()
    return list(_entries(directory, _signature(directory)))


def feed_entry(name: str, directory: Path | None = None) -> FeedEntry:
    """One feed's entry; a missing spec fails the DAG file import with a message naming the fix."""
    directory = directory or feeds_dir()
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"feed {name!r}: no spec at {path}; add feeds/{name}.yaml or delete dags/ingest_{name}.py"
        )
    return next(e for e in read_feed_entries(directory) if e.name == name)


def feed_asset(feed: str) -> Asset:
    """The asset a feed's raw tables form; updated only when a load added rows."""
    return Asset(uri=f"{FEED_ASSET_PREFIX}{feed}", name=f"raw_{feed}", group="borderwatch_raw")


def mart_asset(mart: str) -> Asset:
    """One published mart (``borderwatch://warehouse/marts/<mart>``): an event only when its content changed.

    A downstream DAG scheduled on ``mart_asset("fct_deportations")`` runs when that mart changed, not on
    every publication; the event's ``extra`` carries the version and the mart's row count.
    """
    return Asset(uri=f"{MART_ASSET_PREFIX}{mart}", name=f"mart_{mart}", group="borderwatch_marts")


def published_asset() -> Asset:
    """The published warehouse version that BI readers open."""
    return Asset(uri=PUBLISHED_ASSET_URI, name="warehouse_published", group="borderwatch_warehouse")


def default_args(**overrides: Any) -> dict[str, Any]:
    """Owner, retries with exponential backoff and the alert notifier, shared by every DAG."""
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": configured_notifiers(),
    }
    args.update(overrides)
    return args


def make_ingest_dag(feed: str, doc_md: str | None = None, *, directory: Path | None = None) -> DAG:
    """The ``ingest_<feed>`` DAG: pull the feed on its spec's schedule, announce its asset only on new rows.

    Emission is conditional because a skipped task records no asset events: ``announce_new_rows`` skips
    when the load added nothing, so the warehouse refresh is not woken for an unchanged feed.
    """
    entry = feed_entry(feed, directory)
    asset = feed_asset(entry.name)

    @dag(
        dag_id=f"ingest_{entry.name}",
        schedule=entry.schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        doc_md=doc_md,
        tags=["borderwatch", "ingest", entry.name],
        default_args=default_args(),
    )
    def ingest_feed_dag() -> None:
        @task(task_id="ingest", pool=BUILD_POOL)
        def ingest() -> dict[str, Any]:
            """Pull the feed into landing and the raw schema (the build file: hence the pool)."""
            from borderwatch.orchestration.steps import ingest_feeds

            return ingest_feeds([entry.name], include_inbox=False)

        @task(task_id="announce_new_rows", outlets=[asset])
        def announce_new_rows(result: XCom) -> dict[str, Any]:
            """Emit the feed's asset event only when rows landed; otherwise skip (no event)."""
            if int(result.get("new_rows", 0)) <= 0:
                raise AirflowSkipException(f"feed {entry.name}: no new rows; not waking the warehouse")
            return {"feed": entry.name, "new_rows": result["new_rows"]}

        announce_new_rows(ingest())

    return ingest_feed_dag()
