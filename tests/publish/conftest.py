"""Fixtures for publish tests: a home with a synthetic build file and a passing gate verdict."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from borderwatch import pipeline
from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.publish import Publication

HELPER = Path(__file__).resolve().parents[1] / "gate" / "bw_synthetic_build.py"


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    """The shared synthetic-build helper from tests/gate, imported by path (importlib mode)."""
    if "bw_synthetic_build" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bw_synthetic_build", HELPER)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["bw_synthetic_build"] = module
        spec.loader.exec_module(module)
    return sys.modules["bw_synthetic_build"]


@pytest.fixture
def home(tmp_path: Path, synthetic: ModuleType) -> Settings:
    settings = synthetic.make_settings(tmp_path / "home", keep_versions=3)
    synthetic.make_build(settings.build_db, raids=300)
    return settings


@pytest.fixture
def passed() -> GateResult:
    return GateResult(passed=True, run_id="test-gate")


def publish_build(settings: Settings, gate: GateResult, *, code_version: str | None = None) -> Publication:
    """Snapshot the build file as it stands and publish that candidate with ``gate`` (no dbt run)."""
    audited = pipeline.Audited(candidate=pipeline.snapshot(settings), gate=gate)
    return pipeline.publish(settings, audited, notify=False, code_version=code_version)


@pytest.fixture
def publish_now() -> Callable[..., Publication]:
    return publish_build
