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


def test_inbox_event_path_starts_a_dag(tmp_path):
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
        print(f"\ninbox drop → marker DAG ran in {time.monotonic() - dropped:.1f}s")
    (event,) = json.loads(marker.read_text())
    assert event["from_trigger"] is True
    assert event["payload"]["files"] == ["nbtc_telecom_2025-04.ndjson"]


def _published_versions(settings) -> set[str]:
    return {p.name for p in settings.published_dir.iterdir() if p.is_dir()} if settings.published_dir.is_dir() else set()


def _manifest(settings) -> dict:
    from borderwatch.orchestration.steps import read_published_manifest

    return read_published_manifest(settings) or {}


def test_dropped_file_reaches_a_new_publication(tmp_path):
    require_modules(
        "borderwatch.simulator.server", "borderwatch.warehouse", "borderwatch.gate", "borderwatch.publish"
    )
    import httpx

    from borderwatch import pipeline
    from borderwatch.simulator.scenario import build_scenario
    from borderwatch.simulator.server import SimulatorServer

    scale = 0.05
    settings = get_settings(tmp_path / "home")
    with SimulatorServer(port=0, seed=7, scale=scale) as sim:
        httpx.post(f"{sim.url}/_admin/clock", json={"until": CLOCK.isoformat()}).raise_for_status()
        settings = dataclasses.replace(settings, simulator_url=sim.url)
        with live_airflow(
            settings, api_port=free_port(), airflow_home=tmp_path / "airflow", simulator_url=sim.url
        ) as live:
            started = time.monotonic()
            pipeline.refresh(settings)  # the initial publication, while the components boot
            before_versions = _published_versions(settings)
            before = _manifest(settings)
            assert before_versions, "the initial refresh published nothing"
            wait_for(lambda: watcher_running(live.airflow_home), STARTUP_TIMEOUT, "the inbox watcher", live)
            print(f"\ninitial publication + Airflow start-up: {time.monotonic() - started:.1f}s")

            later = next(
                f for f in build_scenario(seed=7, scale=scale).files["kh_gdi_deportations"] if f.day > CLOCK
            )
            dropped = _drop(settings.inbox_dir, later.name, later.read_bytes())
            new_versions = wait_for(
                lambda: _published_versions(settings) - before_versions,
                DROP_TO_PUBLISHED_TIMEOUT,
                f"a new publication after dropping {later.name}",
                live,
            )
            latency = time.monotonic() - dropped
            print(f"inbox drop → published {sorted(new_versions)} in {latency:.1f}s")
            runs = query(live.airflow_home, "select dag_id, run_type, state from dag_run")

    after = _manifest(settings)
    assert after.get("version") != before.get("version")
    assert sum(after.get("row_counts", {}).values()) > sum(before.get("row_counts", {}).values())
    assert not any(settings.inbox_dir.glob("kh_gdi_deportations*")), "the dropped file was not ingested"
    assert ("inbox_watch", "asset_triggered", "success") in runs, runs
    assert any(d == "warehouse_refresh" and t == "asset_triggered" for d, t, _ in runs), runs
