"""The refresh through the real pipeline: idempotent reruns (backfill) and the in-process Airflow run.

Both run the real pipeline (simulator, ingest, dbt, gate, publish) on a small slice of the sample scenario.
"""

from __future__ import annotations

import dataclasses
import hashlib
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


def test_backfill_reruns_of_one_logical_date_publish_identical_data(bw_settings):
    from borderwatch.orchestration.backfill import backfill
    from borderwatch.simulator.server import SimulatorServer

    day = date(2025, 3, 31)
    with SimulatorServer(port=0, seed=7, scale=SCALE, until=CLOCK) as sim:
        settings = dataclasses.replace(bw_settings, simulator_url=sim.url)
        fingerprints, versions = [], []
        for _ in range(3):
            result = backfill(settings, day, day)
            assert result["ok"], result
            (run,) = result["runs"]
            versions.append(run["version"])
            fingerprints.append(_published_tables(settings))
    assert len(set(versions)) == 1, "a rerun with nothing new publishes nothing new: the same version serves"
    assert fingerprints[0], "nothing was published"
    assert fingerprints[0] == fingerprints[1] == fingerprints[2]


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
