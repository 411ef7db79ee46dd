"""
# deportations_watch

An example consumer of **one mart**: runs only when a publication changed `fct_deportations`
(`borderwatch://warehouse/marts/fct_deportations`), not on every publication. The asset event's `extra`
carries the published `version` and the mart's `row_count`; the task logs them, which is where a
per-mart extract refresh, cache warm-up or notification to a deportations desk would hook in. Reads
nothing from the build file, so it needs no pool.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from borderwatch.orchestration.factory import START_DATE, default_args, mart_asset

DEPORTATIONS = mart_asset("fct_deportations")


@dag(
    schedule=[DEPORTATIONS],
    start_date=START_DATE,
    catchup=False,
    doc_md=__doc__,
    tags=["borderwatch", "bi", "consumer", "fct_deportations"],
    default_args=default_args(),
)
def deportations_watch() -> None:
    @task(inlets=[DEPORTATIONS])
    def log_new_deportations(**context: Any) -> list[dict[str, Any]]:
        """Log version and row count of every fct_deportations event that triggered this run."""
        import logging

        events = context["triggering_asset_events"].get(DEPORTATIONS, [])
        extras = [dict(event.extra or {}) for event in events]
        for extra in extras:
            logging.getLogger(__name__).info(
                "fct_deportations changed: version %s, %s rows", extra.get("version"), extra.get("row_count")
            )
        return extras

    log_new_deportations()


deportations_watch()
