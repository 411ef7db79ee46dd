"""Task bodies for the DAGs: each is one call into ``borderwatch.pipeline`` with JSON in and JSON out.

Airflow passes only small JSON between tasks (XCom). The build step's :class:`~borderwatch.pipeline.Built`
and the audit's :class:`~borderwatch.pipeline.Audited` travel as their ``as_dict()`` and come back through
their own ``from_dict()``: the candidate the gate judged travels with the verdict, so publish copies
exactly that. Everything imports lazily: this module is imported inside task bodies, never at DAG parse
time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from borderwatch.config import Settings, get_settings, installed_settings


def loads_summary(reports: list[Any]) -> dict[str, Any]:
    """JSON summary of load reports: per-feed dicts, total new rows, and the feeds that gained rows."""
    loads = [r.as_dict() for r in reports]
    return {
        "loads": loads,
        "new_rows": sum(int(r.get("rows_loaded") or 0) for r in loads),
        "feeds_with_new_rows": feeds_with_new_rows(loads),
        "failed_feeds": sorted({r["feed"] for r in loads if r.get("status") == "failed"}),
    }


def feeds_with_new_rows(loads: list[dict[str, Any]]) -> list[str]:
    """Feeds whose loads added at least one row (only these get an asset event)."""
    return sorted({r["feed"] for r in loads if int(r.get("rows_loaded") or 0) > 0})


def ingest_feeds(
    feeds: list[str] | None = None, *, include_inbox: bool = True, settings: Settings | None = None
) -> dict[str, Any]:
    """Pull the named (or all) feeds and optionally the drop inbox."""
    from borderwatch import pipeline

    settings = settings or installed_settings()
    return loads_summary(pipeline.ingest(settings, feeds, include_inbox=include_inbox))


def ingest_inbox_only(settings: Settings | None = None) -> dict[str, Any]:
    """Load only what sits in the drop inbox (the inbox watcher's DAG)."""
    from borderwatch import pipeline

    settings = settings or installed_settings()
    return loads_summary(pipeline.ingest(settings, [], include_inbox=True))


def run_build(*, full_refresh: bool = False, settings: Settings | None = None) -> dict[str, Any]:
    """One ``dbt build`` on the build file and the candidate snapshot the audit will judge."""
    from borderwatch import pipeline

    return pipeline.build(settings or installed_settings(), full_refresh=full_refresh).as_dict()


def run_audit(build_payload: dict[str, Any], *, settings: Settings | None = None) -> dict[str, Any]:
    """The quality gate on the build's candidate; raises ``pipeline.PublicationBlocked`` when it fails.

    No alert from here: under Airflow the DAG's notifier sends the run's one alert when the task fails.
    """
    from borderwatch import pipeline

    audited = pipeline.audit(settings or installed_settings(), pipeline.Built.from_dict(build_payload))
    pipeline.block_if_failed(audited, notify=False)
    return audited.as_dict()


def run_publish(audit_payload: dict[str, Any], *, settings: Settings | None = None) -> dict[str, Any]:
    """Publish exactly the audited candidate atomically (refused when it is not the one audited)."""
    from borderwatch import pipeline

    audited = pipeline.Audited.from_dict(audit_payload)
    return pipeline.publish(settings or installed_settings(), audited, notify=False).as_dict()


def _safe(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id)


def runs_dir(settings: Settings) -> Path:
    """Where each warehouse refresh run leaves its JSON summary (read by ``borderwatch run``)."""
    return settings.reports_dir / "runs"


def write_run_summary(run_id: str, summary: dict[str, Any], *, settings: Settings | None = None) -> Path:
    """Persist a refresh run's summary (loads, build, gate, publication) beside the other reports."""
    settings = settings or get_settings()
    directory = runs_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"warehouse_refresh__{_safe(run_id)}.json"
    path.write_text(json.dumps({"run_id": run_id, **summary}, indent=2, default=str), encoding="utf-8")
    return path


def read_published_manifest(settings: Settings | None = None) -> dict[str, Any] | None:
    """The manifest of the version currently served, or None before the first publication."""
    settings = settings or get_settings()
    for candidate in (settings.current_dir / "manifest.json",):
        if candidate.is_file():
            return json.loads(candidate.read_text(encoding="utf-8"))
    return None


def announce_feed_events(result: dict[str, Any], outlet_events: Any) -> list[str]:
    """Attach a feed asset event to the inbox alias for every feed with new rows; skip when there are none."""
    from airflow.sdk import AssetAlias
    from airflow.sdk.exceptions import AirflowSkipException

    from borderwatch.orchestration.factory import INBOX_ALIAS_NAME, feed_asset

    feeds = list(result.get("feeds_with_new_rows") or [])
    if not feeds:
        raise AirflowSkipException("the inbox delivered no new rows; not waking the warehouse")
    rows = {r["feed"]: 0 for r in result.get("loads", [])}
    for load in result.get("loads", []):
        rows[load["feed"]] += int(load.get("rows_loaded") or 0)
    for feed in feeds:
        outlet_events[AssetAlias(INBOX_ALIAS_NAME)].add(feed_asset(feed), extra={"rows_loaded": rows[feed]})
    return feeds
