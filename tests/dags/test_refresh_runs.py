"""The refresh through the real pipeline: idempotent reruns (backfill) and the in-process Airflow run.

Both need every pipeline module (ingest, warehouse, gate, publish, simulator) and a gate that passes on the
sample scenario; until then they xfail with the reason, and run for real as soon as it does.
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


def _require_pipeline() -> None:
    import importlib

    for name in (
        "borderwatch.simulator.server",
        "borderwatch.warehouse",
        "borderwatch.gate",
        "borderwatch.publish",
    ):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            pytest.xfail(f"{name} is not importable yet ({exc})")


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
    _require_pipeline()
    from borderwatch.orchestration.backfill import backfill
    from borderwatch.simulator.server import SimulatorServer

    day = date(2025, 3, 31)
    with SimulatorServer(port=0, seed=7, scale=SCALE, until=CLOCK) as sim:
        settings = dataclasses.replace(bw_settings, simulator_url=sim.url)
        fingerprints, versions = [], []
        for _ in range(3):
            result = backfill(settings, day, day)
            if not result["ok"] and "quality gate" in (result["runs"][0].get("error") or ""):
                pytest.xfail(
                    f"the quality gate does not pass on the sample scenario yet: {result['runs'][0]['error']}"
                )
            assert result["ok"], result
            (run,) = result["runs"]
            versions.append(run["version"])
            fingerprints.append(_published_tables(settings))
    assert len(set(versions)) == 3, "each rerun publishes a new version"
    assert fingerprints[0], "nothing was published"
    assert fingerprints[0] == fingerprints[1] == fingerprints[2]


def test_nightly_run_through_airflow_in_process(bw_settings, monkeypatch, tmp_path: Path):
    _require_pipeline()
    from borderwatch.orchestration.local import run_nightly_in_process
    from borderwatch.simulator.server import SimulatorServer

    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    with SimulatorServer(port=0, seed=7, scale=SCALE, until=CLOCK) as sim:
        summary = run_nightly_in_process(bw_settings, simulator_url=sim.url, logical_date=CLOCK)
    if not summary["ok"] and "quality gate" in (summary["error"] or ""):
        pytest.xfail("the quality gate does not pass on the sample scenario yet")
    assert summary["ok"], summary["error"]
    assert summary["gate"]["passed"] is True
    assert summary["version"] and sum(summary["row_counts"].values()) > 0
    assert {load["feed"] for load in summary["loads"]} >= {"rtp_raids", "kh_gdi_deportations"}
    assert Path(summary["airflow_home"]) == bw_settings.home / "airflow"
