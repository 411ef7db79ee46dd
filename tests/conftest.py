"""Shared fixtures: an isolated BORDERWATCH_HOME per test, so no test touches ./var or another test."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from borderwatch.config import Settings, get_settings

# Before anything imports airflow (the root conftest loads first): never write ~/airflow, never load example
# DAGs. The private home is removed when the test session ends, so runs leave nothing behind in /tmp.
if "AIRFLOW_HOME" not in os.environ:
    _airflow_home = tempfile.mkdtemp(prefix="borderwatch-airflow-tests-")
    os.environ["AIRFLOW_HOME"] = _airflow_home
    atexit.register(shutil.rmtree, _airflow_home, ignore_errors=True)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

# Property tests run a fixed, reproducible set of examples by default (what CI runs: a red build names a
# real defect, never a lucky draw); HYPOTHESIS_PROFILE=explore searches fresh random inputs on each run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", max_examples=200)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def bw_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings rooted in a fresh temporary home (also exported as BORDERWATCH_HOME)."""
    home = tmp_path / "home"
    monkeypatch.setenv("BORDERWATCH_HOME", str(home))
    settings = get_settings(home)
    settings.ensure_dirs()
    yield settings
