"""The refresh through the real pipeline: backfill per logical date, the in-process Airflow run and the
asset events it records.

All run the real pipeline (simulator, ingest, dbt, gate, publish) through Airflow on a small slice of the
sample scenario.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SCALE = 0.05
CLOCK = date(2025, 3, 31)


def _published_tables(settings) -> dict[str, str]:
    """Content fingerprint of every published mart: sha256 of its rows in a stable order."""
    import duckdb

    con = duckdb.connect(
        str(settings.current_db), read_only=True, config={"autoinstall_known_extensions": False}
    )
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog') order by 1, 2"
        ).fetchall()
        prints = {}
        for schema, table in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            digest = hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
            prints[f"{schema}.{table}"] = digest
        return prints
    finally:
        con.close()


def _dag_run_logical_dates(airflow_home: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"file:{airflow_home / 'airflow.db'}?mode=ro", uri=True)) as db:
        rows = db.execute("select logical_date from dag_run where dag_id = 'warehouse_refresh'").fetchall()
    return sorted(str(r[0])[:10] for r in rows)


def test_backfill_runs_each_logical_date_through_airflow_and_reruns_publish_identical_data(bw_settings):
    from borderwatch.orchestration.backfill import backfill
    from borderwatch.simulator.server import SimulatorServer

    with SimulatorServer(port=0, seed=7, scale=SCALE, until=CLOCK) as sim:
        settings = dataclasses.replace(bw_settings, simulator_url=sim.url)
        result = backfill(settings, date(2025, 3, 30), CLOCK)
    assert result["ok"], result
    first, rerun = result["runs"]
    assert [first["logical_date"], rerun["logical_date"]] == ["2025-03-30", "2025-03-31"]
    assert _dag_run_logical_dates(Path(first["airflow_home"])) == ["2025-03-30", "2025-03-31"], (
        "each logical date ran as its own Airflow run, with that date"
    )
    assert first["version"] and rerun["version"] == first["version"], (
        "the second date found nothing new: the same version keeps serving, identical data"
    )
    assert _published_tables(settings), "nothing was published"


def test_backfill_fails_loudly_through_the_cli(bw_settings, monkeypatch):
    """No source reachable: the CLI stops at once with a non-zero exit, naming the cause."""
    from typer.testing import CliRunner

    from borderwatch.cli import app

    monkeypatch.setenv("BORDERWATCH_SIMULATOR_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(
        app,
        [
            "backfill",
            "--from",
            "2025-03-30",
            "--to",
            "2025-03-31",
            "--in-process",
            "--home",
            str(bw_settings.home),
        ],
    )
    assert result.exit_code != 0
    assert "refuses connections" in result.output


def test_nightly_run_through_airflow_in_process(bw_settings, monkeypatch, tmp_path: Path):
    from borderwatch.orchestration.local import run_nightly_in_process
    from borderwatch.simulator.server import SimulatorServer

    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    with SimulatorServer(port=0, seed=7, scale=SCALE, until=CLOCK) as sim:
        summary = run_nightly_in_process(bw_settings, simulator_url=sim.url, logical_date=CLOCK)
    assert summary["ok"], summary["error"]
    assert summary["gate"]["passed"] is True
    assert summary["version"] and sum(summary["row_counts"].values()) > 0
    assert {load["feed"] for load in summary["loads"]} >= {"rtp_raids", "kh_gdi_deportations"}
    assert Path(summary["airflow_home"]) == bw_settings.home / "airflow"

    # One asset event per changed mart (all of them on a first publication), version and row count in extra.
    with contextlib.closing(
        sqlite3.connect(f"file:{bw_settings.home / 'airflow' / 'airflow.db'}?mode=ro", uri=True)
    ) as db:
        rows = db.execute(
            "select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id where a.uri like ?",
            ("borderwatch://warehouse/marts/%",),
        ).fetchall()
    events = {uri.rsplit("/", 1)[1]: json.loads(extra) for uri, extra in rows}
    assert events["fct_deportations"]["version"] == summary["version"]
    assert events["fct_deportations"]["row_count"] == summary["row_counts"]["marts.fct_deportations"] > 0
    assert len(rows) == len(events), "one event per mart"
