"""Shared Airflow wiring for the thin DAG files: assets, pool, default args and the per-feed DAG factory.

Imports only ``airflow.sdk`` and the standard library (plus ``borderwatch.config``, which is stdlib-only),
because every DAG file imports it at parse time and the dag-processor re-parses files every few seconds.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from borderwatch.config import REPO_ROOT
from borderwatch.orchestration.notifiers import AlertFileNotifier

OWNER = "borderwatch-data"
BUILD_POOL = "borderwatch_build"
BUILD_POOL_DESCRIPTION = "Single writer of the DuckDB build file (size 1): ingest, dbt build, audit, publish"
TIMEZONE = "Asia/Bangkok"
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
FEED_ASSET_PREFIX = "borderwatch://raw/"
INBOX_ASSET_URI = "borderwatch://inbox"
PUBLISHED_ASSET_URI = "borderwatch://warehouse/published"
INBOX_ALIAS_NAME = "borderwatch_inbox_feeds"

_TOP_LEVEL_KEY = re.compile(r"^(?P<key>name|schedule):\s*(?P<value>.*?)\s*$")
_INBOX_GLOB_KEY = re.compile(r"^\s*inbox_glob:\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class FeedEntry:
    """What the DAG files need to know about a feed at parse time (a tiny subset of its spec)."""

    name: str
    schedule: str
    inbox_globs: tuple[str, ...]


def _scalar(raw: str) -> str:
    """A YAML plain or quoted scalar without a trailing comment (enough for our flat keys)."""
    value = raw.strip()
    if value[:1] in ("'", '"'):
        return value[1 : value.index(value[0], 1)]
    return value.split(" #", 1)[0].strip()


def feeds_dir() -> Path:
    """The feed spec directory, resolved exactly as ``borderwatch.config.get_settings`` resolves it."""
    return Path(os.environ.get("BORDERWATCH_FEEDS_DIR", REPO_ROOT / "feeds"))


def read_feed_entry(path: Path) -> FeedEntry:
    """Read name, schedule and inbox globs from one spec with a line scan (no YAML/pydantic at parse time).

    The full validation lives in ``borderwatch.specs``; a test asserts both readers agree on every feed.
    """
    values: dict[str, str] = {}
    globs: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _TOP_LEVEL_KEY.match(line):
            values.setdefault(match["key"], _scalar(match["value"]))
        elif match := _INBOX_GLOB_KEY.match(line):
            globs.append(_scalar(match["value"]))
    return FeedEntry(
        name=values.get("name", path.stem),
        schedule=values.get("schedule", "@hourly"),
        inbox_globs=tuple(g for g in globs if g),
    )


def read_feed_entries(directory: Path | None = None) -> list[FeedEntry]:
    """Every feed spec in the directory, in name order."""
    return [read_feed_entry(p) for p in sorted((directory or feeds_dir()).glob("*.yaml"))]


def feed_entry(name: str, directory: Path | None = None) -> FeedEntry:
    """One feed's entry; a missing spec fails the DAG file import with a message naming the fix."""
    path = (directory or feeds_dir()) / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"feed {name!r}: no spec at {path}; add feeds/{name}.yaml or delete dags/ingest_{name}.py"
        )
    return read_feed_entry(path)


def feed_asset(feed: str) -> Asset:
    """The asset a feed's raw tables form; updated only when a load added rows."""
    return Asset(uri=f"{FEED_ASSET_PREFIX}{feed}", name=f"raw_{feed}", group="borderwatch_raw")


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
        "on_failure_callback": [AlertFileNotifier()],
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
        def announce_new_rows(result: dict[str, Any]) -> dict[str, Any]:
            """Emit the feed's asset event only when rows landed; otherwise skip (no event)."""
            if int(result.get("new_rows", 0)) <= 0:
                raise AirflowSkipException(f"feed {entry.name}: no new rows; not waking the warehouse")
            return {"feed": entry.name, "new_rows": result["new_rows"]}

        announce_new_rows(ingest())

    return ingest_feed_dag()
