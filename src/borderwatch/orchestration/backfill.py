"""``borderwatch backfill --from --to``: re-run the warehouse refresh once per logical date, idempotently.

The refresh rebuilds the marts from the raw schema (which keeps every delivered row), so re-running a
date gives the same published data. In-process the refresh is simply called once per date (through the
library, or through ``airflow dags test`` with ``via_airflow``); against a running local Airflow,
``backfill_live`` asks Airflow's own backfill (``airflow backfill create``), which the scheduler executes.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from borderwatch.config import Settings
from borderwatch.orchestration.local import REFRESH_DAG_ID, airflow_env, run_airflow


class BackfillRangeError(ValueError):
    """The requested backfill window is empty or reversed."""


def logical_dates(start: date, end: date) -> list[date]:
    """Every date from ``start`` to ``end`` inclusive; a reversed window is a user error, not a no-op."""
    if end < start:
        raise BackfillRangeError(
            f"backfill window --from {start} --to {end} is reversed; pass the earlier date as --from"
        )
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def airflow_backfill_args(start: date, end: date, *, reprocess: str = "completed") -> list[str]:
    """``airflow backfill create`` arguments: one run at a time, re-running dates that already succeeded."""
    logical_dates(start, end)
    return [
        "backfill",
        "create",
        "--dag-id",
        REFRESH_DAG_ID,
        "--from-date",
        start.isoformat(),
        "--to-date",
        end.isoformat(),
        "--reprocess-behavior",
        reprocess,
        "--max-active-runs",
        "1",
    ]


def backfill(
    settings: Settings,
    start: date,
    end: date,
    *,
    via_airflow: bool = False,
    simulator_url: str | None = None,
) -> dict[str, Any]:
    """Re-run the refresh for each logical date in ``[start, end]``; returns one entry per date.

    ``via_airflow`` runs each date through ``airflow dags test warehouse_refresh <date>`` (slower, but the
    exact DAG); otherwise the library's ``pipeline.refresh``. Stops at the first failing date.
    """
    from borderwatch import pipeline
    from borderwatch.orchestration.local import run_nightly_in_process

    runs: list[dict[str, Any]] = []
    for day in logical_dates(start, end):
        started = time.monotonic()
        if via_airflow:
            result = run_nightly_in_process(
                settings, simulator_url=simulator_url, logical_date=day, echo=False
            )
            entry = {
                "logical_date": day.isoformat(),
                "ok": result["ok"],
                "error": result.get("error"),
                "version": result.get("version"),
                "row_counts": result.get("row_counts", {}),
            }
        else:
            try:
                summary = pipeline.refresh(settings)
            except pipeline.PublicationBlocked as exc:
                entry = {"logical_date": day.isoformat(), "ok": False, "error": str(exc)}
            else:
                publication = summary.publication.as_dict() if summary.publication else {}
                entry = {
                    "logical_date": day.isoformat(),
                    "ok": True,
                    "error": None,
                    "version": publication.get("version"),
                    "row_counts": publication.get("row_counts", {}),
                }
        entry["seconds"] = round(time.monotonic() - started, 1)
        runs.append(entry)
        if not entry["ok"]:
            break
    return {"from": start.isoformat(), "to": end.isoformat(), "ok": all(r["ok"] for r in runs), "runs": runs}


def backfill_live(settings: Settings, start: date, end: date, *, airflow_home: Path | None = None) -> str:
    """Create an Airflow backfill of ``warehouse_refresh`` in the live stack's metadata DB.

    Needs the live scheduler (``borderwatch airflow-live``) to execute the runs; returns the CLI output.
    """
    env = airflow_env(settings, airflow_home=airflow_home)
    return run_airflow(airflow_backfill_args(start, end), env)
