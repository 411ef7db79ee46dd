"""A deliberately broken feed blocks publication; the previous version keeps serving, byte for byte.

Scenario: publish once with the simulator's clock at 2025-06-30, then deliver July with the
``schema_drift_renamed`` fault (the newest Cambodian and Thai files rename their total column). The
feeds fail closed, the gate's feed-health checks block, exactly one alert is written, and nothing under
``warehouse/`` that BI reads changes. Once the agency fixes its file, the next run publishes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from borderwatch import pipeline
from borderwatch.config import Settings, get_settings
from borderwatch.simulator.server import SimulatorServer

pytestmark = pytest.mark.slow


def _snapshot(settings: Settings) -> dict[str, str]:
    """sha256 of every published file plus where the pointers point."""
    files = {
        str(p.relative_to(settings.warehouse_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(settings.published_dir.rglob("*"))
        if p.is_file()
    }
    files["->current"] = str(settings.current_dir.readlink())
    files["->current.duckdb"] = str(settings.current_db.resolve())
    return files


def test_broken_feed_blocks_publication_and_the_last_good_version_keeps_serving(tmp_path: Path) -> None:
    with SimulatorServer(port=0, until=date(2025, 6, 30)) as sim:
        settings = dataclasses.replace(get_settings(tmp_path / "home"), simulator_url=sim.url)
        first = pipeline.refresh(settings)
        assert first.publication is not None
        before = _snapshot(settings)

        sim.set_clock(date(2025, 7, 31))
        sim.set_faults(["schema_drift_renamed"])
        with pytest.raises(pipeline.PublicationBlocked) as blocked:
            pipeline.refresh(settings)

        failures = blocked.value.gate.blocking_failures
        assert any(name.startswith("feed_health.") for name in failures), failures
        assert _snapshot(settings) == before
        alerts = list((settings.reports_dir / "alerts").glob("*.json"))
        assert len(alerts) == 1, f"a blocked run sends exactly one alert: {alerts}"
        summary = Path(blocked.value.gate.summary_path)
        assert summary.exists() and "feed_health" in summary.read_text()

        sim.set_faults([])  # the agency re-sends a well-formed file
        fixed = pipeline.refresh(settings)
        assert fixed.publication is not None
        assert fixed.publication.version != first.publication.version
        assert fixed.new_rows > 0


@pytest.mark.timeout(900)
def test_a_blocked_airflow_run_sends_exactly_one_alert(bw_settings: Settings, monkeypatch) -> None:
    """Through `airflow dags test`: the gate task fails (PublicationBlocked), one alert, nothing published.

    The library sends nothing under Airflow; the task's and the DAG's callbacks share one alert per run.
    """
    from borderwatch.orchestration.local import run_nightly_in_process

    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    with SimulatorServer(port=0, seed=7, scale=0.05, until=date(2025, 3, 31)) as sim:
        sim.set_faults(["schema_drift_renamed"])
        summary = run_nightly_in_process(bw_settings, simulator_url=sim.url, logical_date=date(2025, 3, 31))
    assert not summary["ok"]
    assert not bw_settings.current_dir.exists(), "a blocked run publishes nothing"
    alerts = sorted((bw_settings.reports_dir / "alerts").glob("*.json"))
    assert len(alerts) == 1, f"exactly one alert per blocked run, got {[a.name for a in alerts]}"
    assert "publication blocked by the quality gate" in (
        json.loads(alerts[0].read_text()).get("exception") or ""
    )
