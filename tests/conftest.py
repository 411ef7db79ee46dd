"""Shared fixtures: an isolated BORDERWATCH_HOME per test, so no test touches ./var or another test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from borderwatch.config import Settings, get_settings

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
