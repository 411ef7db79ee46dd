"""Fixtures for the ingest tests: an isolated BORDERWATCH_HOME per test and the repo's feed specs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from borderwatch.config import Settings
from borderwatch.specs import FeedSpec, load_specs

REPO = Path(__file__).resolve().parents[2]
# The payload builders (ingest_payloads.py) live beside the tests, whatever pytest's import mode.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("BORDERWATCH_HTTP_BACKOFF_SECONDS", "0.001")
    s = Settings(
        home=tmp_path / "home",
        feeds_dir=REPO / "feeds",
        dbt_project_dir=REPO / "dbt_project",
        expectations_dir=REPO / "expectations",
        simulator_url="http://agency.test",
    )
    s.ensure_dirs()
    return s


@pytest.fixture(scope="session")
def specs() -> dict[str, FeedSpec]:
    return load_specs(REPO / "feeds")
