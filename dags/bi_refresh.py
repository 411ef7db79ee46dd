"""
# bi_refresh

A tiny example consumer of `borderwatch://warehouse/published`: runs after every publication and logs the
manifest of the version now served (what a BI extract refresh or a cache warm-up would hook into).
BI tools read `$BORDERWATCH_HOME/warehouse/current.duckdb` read-only, so this DAG needs no pool.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from borderwatch.orchestration.factory import START_DATE, default_args, published_asset


@dag(
    schedule=[published_asset()],
    start_date=START_DATE,
    catchup=False,
    doc_md=__doc__,
    tags=["borderwatch", "bi", "consumer"],
    default_args=default_args(),
)
def bi_refresh() -> None:
    @task(inlets=[published_asset()])
    def log_published_manifest() -> dict[str, Any]:
        """Read the served manifest (read-only) and log version and row counts."""
        import logging

        from borderwatch.orchestration.steps import read_published_manifest

        manifest = read_published_manifest() or {}
        logging.getLogger(__name__).info(
            "published version %s: row counts %s", manifest.get("version"), manifest.get("row_counts")
        )
        return {"version": manifest.get("version"), "row_counts": manifest.get("row_counts", {})}

    log_published_manifest()


bi_refresh()
