"""
# warehouse_refresh

The nightly refresh, also woken by new data: **ingest → dbt build → quality gate → publish**.

Scheduled on *any* feed asset (`borderwatch://raw/<feed>`, emitted only when a load added rows) **or** at
02:00 Asia/Bangkok every night (`AssetOrTimeSchedule`). One run at a time (`max_active_runs=1`).

1. `ingest_all_feeds` pulls every feed and the inbox again: the nightly safety net (a no-op when nothing
   is new, because cursors, ETags and row hashes make loads idempotent).
2. `dbt_build` runs one `dbt build` (seeds, models, snapshots, dbt tests) on the build file.
3. `quality_gate` reads the build's dbt results and runs the Great Expectations suites; a failing gate
   fails the run without retries, writes the failure report and keeps the previous version serving.
4. `publish` swaps in the audited build atomically and emits `borderwatch://warehouse/published`, plus
   one `borderwatch://warehouse/marts/<mart>` event per mart whose content changed (version and row count
   in `extra`), so a consumer can wait on one mart alone; when the marts are identical to the version
   being served it writes nothing and is skipped (no asset event).

Every task here writes or locks the DuckDB build file, so all run in the `borderwatch_build` pool (size 1).
Failures after retries call the alert notifier (`reports/alerts/*.json`).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import AssetAlias, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from borderwatch.orchestration.factory import (
    BUILD_POOL,
    MART_ALIAS_NAME,
    START_DATE,
    TIMEZONE,
    XCom,
    default_args,
    feed_asset,
    published_asset,
    read_feed_entries,
)
from borderwatch.orchestration.notifiers import configured_notifiers


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * *", timezone=TIMEZONE),
        assets=AssetAny(*(feed_asset(entry.name) for entry in read_feed_entries())),
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["borderwatch", "warehouse", "dbt", "quality-gate", "publish"],
    default_args=default_args(),
    on_failure_callback=configured_notifiers(),
)
def warehouse_refresh() -> None:
    @task(pool=BUILD_POOL)
    def ingest_all_feeds() -> dict[str, Any]:
        """Every feed plus the inbox; cheap when nothing is new."""
        from borderwatch.orchestration.steps import ingest_feeds

        return ingest_feeds(None, include_inbox=True)

    @task(pool=BUILD_POOL)
    def dbt_build(loads: XCom) -> dict[str, Any]:
        """One dbt build process per run (models one at a time inside it), never one task per model."""
        from borderwatch.orchestration.steps import run_build

        return run_build()

    @task(pool=BUILD_POOL)
    def quality_gate(build: XCom) -> dict[str, Any]:
        """dbt test results + GX suites; a failed gate is final (AirflowFailException: no retries)."""
        from airflow.sdk.exceptions import AirflowFailException

        from borderwatch.orchestration.steps import run_audit
        from borderwatch.pipeline import PublicationBlocked

        try:
            return run_audit(build)
        except PublicationBlocked as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(pool=BUILD_POOL, outlets=[published_asset(), AssetAlias(MART_ALIAS_NAME)])
    def publish(gate: XCom, loads: XCom, build: XCom, **context: Any) -> dict[str, Any]:
        """Atomic publish, one asset event per changed mart, then a run summary for `borderwatch run`."""
        from airflow.sdk.exceptions import AirflowSkipException

        from borderwatch.orchestration.assets import announce_mart_events
        from borderwatch.orchestration.steps import read_published_manifest, run_publish, write_run_summary

        served_before = read_published_manifest()
        publication = run_publish(gate)
        summary = {"loads": loads, "build": build, "gate": gate, "publication": publication}
        write_run_summary(context["run_id"], summary)
        if publication.get("unchanged"):
            # Same content as the version being served: nothing was written, so no asset event either.
            raise AirflowSkipException(f"no new data; version {publication.get('version')} keeps serving")
        changed = announce_mart_events(served_before, publication, context["outlet_events"])
        context["outlet_events"][published_asset()].extra = {
            "version": publication.get("version"),
            "changed_marts": sorted(changed),
        }
        return publication

    loads = ingest_all_feeds()
    build = dbt_build(loads)
    gate = quality_gate(build)
    publish(gate, loads, build)


warehouse_refresh()
