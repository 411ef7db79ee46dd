"""Live: real scheduler, dag-processor, triggerer and api-server on loopback, SQLite metadata.

1. The event path alone: a file dropped in the inbox fires ``InboxTrigger`` in the triggerer, which starts a
   DAG through the ``borderwatch://inbox`` asset (a marker DAG; needs nothing but Airflow).
2. The real thing: simulator → initial publication → a feed file dropped in the inbox → ``inbox_watch`` →
   ``warehouse_refresh`` (asset-triggered) → a new published version with the new rows, within a bound.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import date
from pathlib import Path

import pytest

from borderwatch.config import get_settings
from borderwatch.orchestration.local import live_airflow

from .conftest import free_port, query, require_modules, wait_for, watcher_running

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(900)]

STARTUP_TIMEOUT = 180
DROP_TO_PUBLISHED_TIMEOUT = 240
CLOCK = date(2025, 3, 31)

MARKER_DAG = '''"""Probe: record the inbox trigger's payload."""
from airflow.sdk import dag, task

from borderwatch.orchestration.triggers import inbox_asset


@dag(schedule=[inbox_asset(poll_interval=1.0)], catchup=False)
def marker_watch():
    @task
    def mark(**context):
        import json
        import os
        import pathlib

        events = context["triggering_asset_events"]
        payload = [e.extra for evs in events.values() for e in evs]
        (pathlib.Path(os.environ["BORDERWATCH_HOME"]) / "marker.json").write_text(json.dumps(payload))

    mark()


marker_watch()
'''


def _drop(inbox: Path, name: str, data: bytes) -> float:
    """Deliver like an agency would: write a hidden temp file, then rename it into place (atomic)."""
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / f".{name}.part"
    tmp.write_bytes(data)
    tmp.rename(inbox / name)
    return time.monotonic()


def test_inbox_event_path_starts_a_dag(tmp_path, capsys):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "marker_watch.py").write_text(MARKER_DAG)
    settings = get_settings(tmp_path / "home")
    marker = settings.home / "marker.json"
    with live_airflow(
        settings, api_port=free_port(), airflow_home=tmp_path / "airflow", dags_folder=dags
    ) as live:
        wait_for(lambda: watcher_running(live.airflow_home), STARTUP_TIMEOUT, "the inbox watcher", live)
        dropped = _drop(settings.inbox_dir, "nbtc_telecom_2025-04.ndjson", b"{}\n")
        _drop(settings.inbox_dir, "unrelated.txt", b"x")
        wait_for(marker.exists, 120, "the marker DAG to run", live)
        with capsys.disabled():  # the latency belongs in CI's output, not only in captured logs
            print(f"\ninbox drop → marker DAG ran in {time.monotonic() - dropped:.1f}s")
    (event,) = json.loads(marker.read_text())
    assert event["from_trigger"] is True
    assert event["payload"]["files"] == ["nbtc_telecom_2025-04.ndjson"]


def _published_versions(settings) -> set[str]:
    if not settings.published_dir.is_dir():
        return set()
    return {p.name for p in settings.published_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}


def _manifest(settings) -> dict:
    from borderwatch.orchestration.steps import read_published_manifest

    return read_published_manifest(settings) or {}


def _finished_runs(airflow_home: Path, dag_id: str, run_type: str) -> list[tuple[str, str]]:
    rows = query(
        airflow_home,
        "select run_id, state from dag_run"
        " where dag_id = ? and run_type = ? and state in ('success', 'failed')",
        dag_id,
        run_type,
    )
    return [(r, st) for r, st in rows]


def _task_states(airflow_home: Path, dag_id: str) -> dict[tuple[str, str], str]:
    rows = query(airflow_home, "select run_id, task_id, state from task_instance where dag_id = ?", dag_id)
    return {(run, task): state for run, task, state in rows}


def test_dropped_file_reaches_a_new_publication(tmp_path, capsys):
    """Initial publication by the scheduled refresh run, then inbox drop → asset-triggered refresh."""
    require_modules(
        "borderwatch.simulator.server", "borderwatch.warehouse", "borderwatch.gate", "borderwatch.publish"
    )
    from borderwatch.simulator.scenario import build_scenario
    from borderwatch.simulator.server import SimulatorServer

    scale = 0.05
    settings = get_settings(tmp_path / "home")
    # Only the two DAGs on the inbox path run: the ingest_* DAGs stay paused so nothing else competes for
    # the build pool (unpaused, each would run its latest schedule tick at start-up).
    paused = {"AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}
    with SimulatorServer(port=0, seed=7, scale=scale, until=CLOCK) as sim:
        settings = dataclasses.replace(settings, simulator_url=sim.url)
        started = time.monotonic()
        with live_airflow(
            settings,
            api_port=free_port(),
            airflow_home=tmp_path / "airflow",
            simulator_url=sim.url,
            overrides=paused,
        ) as live:
            home = live.airflow_home
            wait_for(
                lambda: (
                    len(
                        query(
                            home,
                            "select dag_id from dag where dag_id in ('inbox_watch', 'warehouse_refresh')",
                        )
                    )
                    == 2
                ),
                STARTUP_TIMEOUT,
                "the DAGs to be registered",
                live,
            )
            live.unpause("^(inbox_watch|warehouse_refresh)$")
            # Unpausing schedules the latest nightly tick: that run is the initial publication.
            (_first_run, first_state) = wait_for(
                lambda: _finished_runs(home, "warehouse_refresh", "scheduled"),
                600,
                "the initial refresh",
                live,
            )[0]
            assert first_state == "success", _task_states(home, "warehouse_refresh")
            before_versions, before = _published_versions(settings), _manifest(settings)
            wait_for(lambda: watcher_running(home), STARTUP_TIMEOUT, "the inbox watcher", live)
            with capsys.disabled():
                print(f"\nstart-up + initial refresh ({first_state}): {time.monotonic() - started:.1f}s")

            later = next(
                f for f in build_scenario(seed=7, scale=scale).files["kh_gdi_deportations"] if f.day > CLOCK
            )
            dropped = _drop(settings.inbox_dir, later.name, later.read_bytes())
            (_event_run, event_state) = wait_for(
                lambda: _finished_runs(home, "warehouse_refresh", "asset_triggered"),
                DROP_TO_PUBLISHED_TIMEOUT,
                f"the asset-triggered refresh after dropping {later.name}",
                live,
            )[0]
            latency = time.monotonic() - dropped
            with capsys.disabled():
                print(f"inbox drop → published (warehouse_refresh {event_state}) in {latency:.1f}s")
            inbox_tasks = _task_states(home, "inbox_watch")
            refresh_tasks = _task_states(home, "warehouse_refresh")

    assert set(inbox_tasks.values()) == {"success"}, inbox_tasks  # announce_feeds ran: rows were new
    assert not any(settings.inbox_dir.glob("kh_gdi_deportations*")), "the dropped file was not ingested"
    assert event_state == "success", refresh_tasks
    new_versions = _published_versions(settings) - before_versions
    assert new_versions, "no new published version"
    after = _manifest(settings)
    assert after["version"] in new_versions
    assert sum(after.get("row_counts", {}).values()) > sum(before.get("row_counts", {}).values())
