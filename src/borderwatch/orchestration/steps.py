"""Task bodies for the DAGs: each is one call into ``borderwatch.pipeline`` with JSON in and JSON out.

Airflow passes only small JSON between tasks (XCom), so ``BuildResult`` and ``GateResult`` travel as their
``as_dict()`` and are rebuilt here for the next step (``restore``). Everything imports lazily: this module
is imported inside task bodies, never at DAG parse time.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any, TypeVar

from borderwatch.config import Settings, get_settings

T = TypeVar("T")


class ResultRestoreError(TypeError):
    """A step's XCom payload cannot be turned back into the library's result object."""


class GateBlockedError(RuntimeError):
    """The quality gate failed: publication is refused and the previous version keeps serving."""


def _path_fields(cls: type) -> set[str]:
    """Dataclass fields annotated with ``Path`` (possibly optional), which JSON carried as strings."""
    hints = typing.get_type_hints(cls)
    return {name for name, hint in hints.items() if "Path" in str(hint)}


def restore(cls: type[T], payload: dict[str, Any]) -> T:
    """Rebuild a result object from its ``as_dict()``: ``cls.from_dict`` when it exists, else its dataclass.

    Unknown keys (derived values that ``as_dict`` adds) are dropped; string paths become ``Path`` again.
    """
    from_dict = getattr(cls, "from_dict", None)
    if callable(from_dict):
        return from_dict(payload)
    if not dataclasses.is_dataclass(cls):
        raise ResultRestoreError(
            f"{cls.__name__} has neither from_dict() nor dataclass fields; add from_dict()"
        )
    paths = _path_fields(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        if not field.init or field.name not in payload:
            continue
        value = payload[field.name]
        kwargs[field.name] = Path(value) if field.name in paths and isinstance(value, str) else value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ResultRestoreError(f"cannot rebuild {cls.__name__} from the XCom payload: {exc}") from exc


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

    settings = settings or get_settings()
    settings.ensure_dirs()
    return loads_summary(pipeline.ingest(settings, feeds, include_inbox=include_inbox))


def ingest_inbox_only(settings: Settings | None = None) -> dict[str, Any]:
    """Load only what sits in the drop inbox (the inbox watcher's DAG)."""
    from borderwatch.ingest import ingest_inbox
    from borderwatch.locking import build_writer_lock

    settings = settings or get_settings()
    settings.ensure_dirs()
    with build_writer_lock(settings):
        return loads_summary(ingest_inbox(settings))


def run_build(*, full_refresh: bool = False, settings: Settings | None = None) -> dict[str, Any]:
    """One ``dbt build`` on the build file."""
    from borderwatch import pipeline

    return pipeline.build(settings or get_settings(), full_refresh=full_refresh).as_dict()


def run_audit(build_payload: dict[str, Any], *, settings: Settings | None = None) -> dict[str, Any]:
    """The quality gate over the build's dbt results plus GX; raises ``GateBlockedError`` when it fails."""
    from borderwatch import pipeline
    from borderwatch.warehouse import BuildResult

    gate = pipeline.audit(settings or get_settings(), restore(BuildResult, build_payload))
    payload = gate.as_dict()
    if not gate.passed:  # run_gate has already fired the failure notification
        raise GateBlockedError(str(pipeline.PublicationBlocked(gate)))
    return payload


def run_publish(gate_payload: dict[str, Any], *, settings: Settings | None = None) -> dict[str, Any]:
    """Publish the audited build atomically (refused by the library when the gate did not pass)."""
    from borderwatch import pipeline
    from borderwatch.gate import GateResult

    return pipeline.publish(settings or get_settings(), restore(GateResult, gate_payload)).as_dict()


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
