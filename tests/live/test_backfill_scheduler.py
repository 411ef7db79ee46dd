"""Live: `borderwatch backfill` finds the running scheduler, hands it the dates, and reports each run.

A real live stack (api-server, scheduler, dag-processor, triggerer on loopback, SQLite metadata) and the
simulator. While `warehouse_refresh` is paused the command refuses at once (its runs would never
start); unpaused, the backfill's runs are found, waited for and reported.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from typer.testing import CliRunner

from borderwatch.cli import app
from borderwatch.config import get_settings, init_home
from borderwatch.orchestration.local import live_airflow

from .conftest import free_port, query, require_modules, wait_for

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(1200)]

CLOCK = date(2025, 3, 31)


def test_backfill_goes_through_the_running_scheduler(tmp_path, monkeypatch):
    require_modules("borderwatch.simulator.server")
    from borderwatch.simulator.server import SimulatorServer

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    settings = get_settings(tmp_path / "home")
    init_home(settings)
    with SimulatorServer(port=0, seed=7, scale=0.05, until=CLOCK) as sim:
        monkeypatch.setenv("BORDERWATCH_SIMULATOR_URL", sim.url)
        settings = dataclasses.replace(settings, simulator_url=sim.url)
        paused = {"AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}
        with live_airflow(settings, api_port=free_port(), simulator_url=sim.url, overrides=paused) as live:
            wait_for(
                lambda: query(live.airflow_home, "select dag_id from dag where dag_id = 'warehouse_refresh'"),
                240,
                "warehouse_refresh to be registered",
                live,
            )
            paused = CliRunner().invoke(
                app, ["backfill", "--from", "2025-03-30", "--to", "2025-03-31", "--home", str(settings.home)]
            )
            live.unpause("^warehouse_refresh$")
            result = CliRunner().invoke(
                app, ["backfill", "--from", "2025-03-30", "--to", "2025-03-31", "--home", str(settings.home)]
            )
            runs = query(
                live.airflow_home,
                "select run_id, state, backfill_id from dag_run where dag_id = 'warehouse_refresh'",
            )
    assert paused.exit_code == 2 and "is paused" in paused.output, paused.output
    assert result.exit_code == 0, result.output
    assert "(scheduler)" in result.output, "a running scheduler was found and used"
    backfilled = [(run_id, state) for run_id, state, backfill_id in runs if backfill_id is not None]
    assert backfilled and {state for _, state in backfilled} == {"success"}, runs
    assert settings.current_db.exists(), "the backfill published"
