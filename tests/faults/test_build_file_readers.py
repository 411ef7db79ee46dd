"""Fault class: an operator command opens the build file while a refresh writes it (item 10 of issue 10).

Expected fate: every command that opens the build file takes the writer lock first, so it waits for a
running step (or gives up naming the holder) and never holds the file open under a writer. ``explain`` is
covered in tests/warehouse/test_explain.py; ``docs`` (dbt opens the build file read-write) here.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from borderwatch.cli import app
from borderwatch.config import get_settings


def _lock_is_held_elsewhere(lock: Path) -> bool:
    """flock locks belong to one open file description: a second one conflicts even in this process."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def test_docs_generates_under_the_writer_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fate: `borderwatch docs` runs dbt only while holding the build-file writer lock."""
    home = tmp_path / "home"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--home", str(home)]).exit_code == 0
    settings = get_settings(home)
    seen: list[bool] = []

    def fake_docs_generate(s: object) -> Path:
        seen.append(_lock_is_held_elsewhere(settings.build_lock))
        return tmp_path

    monkeypatch.setattr("borderwatch.warehouse.docs_generate", fake_docs_generate)
    result = runner.invoke(app, ["docs", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert seen == [True]
    assert not _lock_is_held_elsewhere(settings.build_lock)  # and released afterwards
