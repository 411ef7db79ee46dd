"""
# inbox_watch

Event-driven ingest of the **drop inbox** (`$BORDERWATCH_HOME/inbox/`).

An `AssetWatcher` runs `borderwatch.orchestration.triggers.InboxTrigger` in the triggerer: it polls the
inbox every few seconds and fires when a settled file matching some feed's `inbox_glob` appears. Each event
updates `borderwatch://inbox`, which starts this DAG:

1. `ingest_inbox` moves the files into the landing archive and loads them into the raw schema (pool
   `borderwatch_build`; refused files go to `inbox/.rejected/` with an error note).
2. `announce_feeds` emits `borderwatch://raw/<feed>` (through the alias `borderwatch_inbox_feeds`) for each
   feed that gained rows, which wakes `warehouse_refresh`. Skipped when nothing new landed.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import AssetAlias, dag, task

from borderwatch.orchestration.factory import BUILD_POOL, INBOX_ALIAS_NAME, START_DATE, XCom, default_args
from borderwatch.orchestration.triggers import inbox_asset


@dag(
    schedule=[inbox_asset()],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["borderwatch", "ingest", "inbox", "event-driven"],
    default_args=default_args(),
)
def inbox_watch() -> None:
    @task(pool=BUILD_POOL)
    def ingest_inbox() -> dict[str, Any]:
        """Load every file waiting in the inbox (not just the ones in the event: nothing is left behind)."""
        from borderwatch.orchestration.steps import ingest_inbox_only

        return ingest_inbox_only()

    @task(outlets=[AssetAlias(INBOX_ALIAS_NAME)])
    def announce_feeds(result: XCom, **context: Any) -> list[str]:
        """One asset event per feed that gained rows; skip (no events) when none did."""
        from borderwatch.orchestration.steps import announce_feed_events

        return announce_feed_events(result, context["outlet_events"])

    announce_feeds(ingest_inbox())


inbox_watch()
