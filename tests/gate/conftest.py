"""Fixtures for the gate tests: the synthetic build helper (loaded by path: tests use importlib mode)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from borderwatch.config import Settings

HELPER = Path(__file__).with_name("bw_synthetic_build.py")


def load_synthetic() -> ModuleType:
    """Import tests/gate/bw_synthetic_build.py once, whatever the import mode."""
    if "bw_synthetic_build" in sys.modules:
        return sys.modules["bw_synthetic_build"]
    spec = importlib.util.spec_from_file_location("bw_synthetic_build", HELPER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bw_synthetic_build"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    return load_synthetic()


@pytest.fixture
def settings(tmp_path: Path, synthetic: ModuleType) -> Settings:
    return synthetic.make_settings(tmp_path / "home")
