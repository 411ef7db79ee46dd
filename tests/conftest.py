"""Shared fixtures: an isolated BORDERWATCH_HOME per test, so no test touches ./var or another test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from borderwatch.config import Settings, get_settings


@pytest.fixture
def bw_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings rooted in a fresh temporary home (also exported as BORDERWATCH_HOME)."""
    home = tmp_path / "home"
    monkeypatch.setenv("BORDERWATCH_HOME", str(home))
    settings = get_settings(home)
    settings.ensure_dirs()
    yield settings
