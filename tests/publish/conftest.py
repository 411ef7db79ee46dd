"""Fixtures for publish tests: a home with a synthetic build file and a passing gate verdict."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import publish_support
import pytest

from borderwatch.config import Settings
from borderwatch.gate import GateResult

synthetic = publish_support.synthetic  # fixtures shared with tests/serving
publish_now = publish_support.publish_now


@pytest.fixture
def home(tmp_path: Path, synthetic: ModuleType) -> Settings:
    settings = synthetic.make_settings(tmp_path / "home", keep_versions=3)
    synthetic.make_build(settings.build_db, raids=300)
    return settings


@pytest.fixture
def passed() -> GateResult:
    return GateResult(passed=True, run_id="test-gate")
