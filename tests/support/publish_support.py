"""Publishing a synthetic warehouse the way a run does, shared by the publish and serving tests.

``pythonpath = ["tests/support"]`` in pyproject makes this ``import publish_support``. A conftest imports
the fixtures it wants (``from publish_support import publish_now, synthetic``) and keeps its own ``home``
and ``passed`` (their sizes and run ids differ per suite).
"""

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

SYNTHETIC = Path(__file__).resolve().parents[1] / "gate" / "bw_synthetic_build.py"


def load_synthetic() -> ModuleType:
    """The shared synthetic-build helper from tests/gate, imported by path once (importlib mode)."""
    if "bw_synthetic_build" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bw_synthetic_build", SYNTHETIC)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["bw_synthetic_build"] = module
        spec.loader.exec_module(module)
    return sys.modules["bw_synthetic_build"]


def publish_build(settings: Settings, gate: GateResult, *, code_version: str | None = None) -> Publication:
    """What a run does after the audit: snapshot the build as it stands, publish it (and so serve it)."""
    audited = pipeline.Audited(candidate=pipeline.snapshot(settings), gate=gate)
    return pipeline.publish(settings, audited, notify=False, code_version=code_version)


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    return load_synthetic()


@pytest.fixture
def publish_now() -> Callable[..., Publication]:
    return publish_build
