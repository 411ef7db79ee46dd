"""``borderwatch backfill --from --to``: run the warehouse refresh once per logical date, for real.

With a scheduler running for this installation (``make live``), the dates go to Airflow's own backfill
(``airflow backfill create``), which that scheduler executes; this waits for every run and reports each.
Otherwise each date runs in-process through ``airflow dags test warehouse_refresh <date>``, so every run
carries its logical date exactly as a scheduled one would. The refresh rebuilds the marts from the raw
schema (which keeps every delivered row), so re-running a date gives the same published data. Any failed
date makes the whole backfill fail: the caller exits non-zero.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from borderwatch.config import Settings, SettingsError
from borderwatch.orchestration.local import (
    REFRESH_DAG_ID,
    AirflowCommandError,
    airflow_env,
    run_airflow,
)

TERMINAL_STATES = frozenset({"success", "failed"})
Progress = Callable[[str], None]


class BackfillRangeError(SettingsError):
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


def _run_entry(day: date, result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "logical_date": day.isoformat(),
        "ok": bool(result.get("ok")),
        "error": result.get("error"),
        "version": result.get("version"),
        "row_counts": result.get("row_counts", {}),
        "seconds": result.get("seconds"),
        "airflow_home": result.get("airflow_home"),
    }


def backfill(
    settings: Settings,
    start: date,
    end: date,
    *,
    simulator_url: str | None = None,
    airflow_home: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run ``warehouse_refresh`` in-process once per logical date in ``[start, end]`` (``airflow dags test``).

    Stops at the first failing date (later dates would fail the same way, or publish on top of a failure);
    ``ok`` is False then and the failing entry carries Airflow's error.
    """
    from borderwatch.orchestration.local import run_nightly_in_process

    runs: list[dict[str, Any]] = []
    days = logical_dates(start, end)
    for n, day in enumerate(days, 1):
        if progress:
            progress(f"logical date {day} ({n}/{len(days)}): warehouse_refresh in-process ...")
        result = run_nightly_in_process(
            settings, simulator_url=simulator_url, logical_date=day, airflow_home=airflow_home, echo=False
        )
        runs.append(_run_entry(day, result))
        if not result.get("ok"):
            break
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "via": "in-process",
        "ok": len(runs) == len(days) and all(r["ok"] for r in runs),
        "runs": runs,
    }


def scheduler_running(env: Mapping[str, str]) -> bool:
    """True when a live scheduler heartbeats into this installation's metadata DB."""
    sqlite_url = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    if sqlite_url.startswith("sqlite:///") and not Path(sqlite_url.removeprefix("sqlite:///")).is_file():
        return False
    try:
        run_airflow(["jobs", "check", "--job-type", "SchedulerJob", "--limit", "1"], env, timeout=120)
    except AirflowCommandError:
        return False
    return True


def _started_at(run: Mapping[str, Any]) -> datetime | None:
    raw = str(run.get("start_date") or "")
    return datetime.fromisoformat(raw) if raw else None


def select_backfill_runs(
    runs: list[dict[str, Any]], requested_at: datetime, start: date, end: date
) -> list[dict[str, Any]]:
    """The runs a backfill requested at ``requested_at`` owns, from ``airflow dags list-runs`` rows.

    ``list-runs`` says nothing about backfills, so: runs Airflow's backfill created (``backfill__`` run
    ids), plus runs of earlier dates it cleared to re-run (``--reprocess-behavior completed``), which
    keep their old run id but start again after the request; queued ones have no start yet.
    """
    # Nightly logical dates sit at 19:00 UTC of the day before (02:00 Asia/Bangkok): a day of slack.
    first, last = (start - timedelta(days=1)).isoformat(), (end + timedelta(days=1)).isoformat()
    chosen = []
    for run in runs:
        if not first <= str(run.get("logical_date") or "")[:10] <= last:
            continue  # e.g. the latest nightly tick the scheduler runs on its own
        started = _started_at(run)
        fresh = started is None and run.get("state") == "queued"
        if (
            str(run.get("run_id", "")).startswith("backfill__")
            or fresh
            or (started and started >= requested_at)
        ):
            chosen.append(run)
    return sorted(chosen, key=lambda r: str(r.get("logical_date") or ""))


def dag_is_paused(env: Mapping[str, str]) -> bool:
    """Whether ``warehouse_refresh`` is paused in this installation's metadata DB."""
    output = run_airflow(["dags", "details", REFRESH_DAG_ID, "--output", "json"], env, timeout=300)
    details = parse_json_list(output)
    return bool(details) and str(details[0].get("is_paused")).lower() == "true"


def list_runs(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """``airflow dags list-runs warehouse_refresh`` as JSON rows (log lines before the JSON are skipped)."""
    output = run_airflow(["dags", "list-runs", REFRESH_DAG_ID, "--output", "json"], env, timeout=300)
    return parse_json_list(output)


def parse_json_list(output: str) -> list[dict[str, Any]]:
    """The JSON array in a CLI's stdout, skipping log lines around it (which contain brackets too)."""
    decoder = json.JSONDecoder()
    for line_start in [0, *(i + 1 for i, ch in enumerate(output) if ch == "\n")]:
        if output.startswith("[", line_start):
            try:
                value, _ = decoder.raw_decode(output, line_start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, list):
                return value
    if "No data found" in output or not output.strip():
        return []
    raise AirflowCommandError(f"`airflow dags list-runs` printed no JSON list: {output[-300:]!r}")


def backfill_through_scheduler(
    settings: Settings,
    start: date,
    end: date,
    *,
    airflow_home: Path | None = None,
    timeout: float = 6 * 3600,
    poll_seconds: float = 15,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Create an Airflow backfill for the running scheduler and wait until every run it made finished.

    Airflow decides which runs the window holds (the nightly cron's logical dates inside it); this
    reports each of them, and the backfill is ok only when there is at least one and all succeeded.
    """
    env = airflow_env(settings, airflow_home=airflow_home)
    logical_dates(start, end)
    if dag_is_paused(env):
        raise BackfillRangeError(
            f"{REFRESH_DAG_ID} is paused in the running Airflow, so the scheduler would never start the "
            f"backfill's runs; unpause it (`airflow dags unpause {REFRESH_DAG_ID}` or the UI), or run "
            "`borderwatch backfill --in-process`"
        )
    requested_at = datetime.now(UTC) - timedelta(seconds=2)
    run_airflow(airflow_backfill_args(start, end), env)
    deadline = time.monotonic() + timeout
    runs: list[dict[str, Any]] = []
    stable = 0
    while time.monotonic() < deadline:
        latest = select_backfill_runs(list_runs(env), requested_at, start, end)
        stable = stable + 1 if [r.get("run_id") for r in latest] == [r.get("run_id") for r in runs] else 0
        runs = latest
        finished = [r for r in runs if r.get("state") in TERMINAL_STATES]
        if progress:
            progress(f"scheduler backfill: {len(finished)}/{len(runs)} runs finished")
        if runs and len(finished) == len(runs) and stable >= 1:
            break
        time.sleep(poll_seconds)
    entries = [
        {
            "logical_date": str(r.get("logical_date") or ""),
            "ok": r.get("state") == "success",
            "error": None
            if r.get("state") == "success"
            else f"run {r.get('run_id')} is {r.get('state')}; see its task logs in the Airflow UI",
            "run_id": r.get("run_id"),
        }
        for r in runs
    ]
    if not entries:
        entries = [
            {
                "logical_date": f"{start}..{end}",
                "ok": False,
                "error": "Airflow created no run in this window (is warehouse_refresh parsed and unpaused?)",
                "run_id": None,
            }
        ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "via": "scheduler",
        "ok": all(e["ok"] for e in entries),
        "runs": entries,
    }
