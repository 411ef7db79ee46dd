"""The build-file writer lock: reentrant in-process, exclusive across processes, named holder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from borderwatch.config import Settings
from borderwatch.locking import BuildLocked, build_writer_lock, lock_timeout, read_holder

CHILD = textwrap.dedent(
    """
    import sys, time
    from borderwatch.config import get_settings
    from borderwatch.locking import BuildLocked, build_writer_lock
    start = time.monotonic()
    try:
        with build_writer_lock(get_settings(sys.argv[1]), timeout=float(sys.argv[2])):
            print(f"acquired {time.monotonic() - start:.2f}")
    except BuildLocked as exc:
        print(f"locked {exc}")
    """
)


def _child(settings: Settings, timeout: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.home), str(timeout)], stdout=subprocess.PIPE, text=True
    )


def test_nested_use_does_not_deadlock(home: Settings) -> None:
    with (
        build_writer_lock(home, timeout=1),
        build_writer_lock(home, timeout=1),
        build_writer_lock(home, timeout=1),
    ):
        assert read_holder(home.build_lock)["pid"] == os.getpid()


def test_second_process_times_out_naming_the_holder(home: Settings) -> None:
    with build_writer_lock(home):
        out, _ = _child(home, 0.5).communicate(timeout=60)
    assert out.startswith("locked")
    assert f"pid {os.getpid()}" in out
    assert "BORDERWATCH_LOCK_TIMEOUT" in out


def test_second_process_waits_for_release(home: Settings) -> None:
    with build_writer_lock(home):
        child = _child(home, 30)
        time.sleep(1.5)
    out, _ = child.communicate(timeout=60)
    assert out.startswith("acquired"), out
    assert float(out.split()[1]) >= 0.5


def test_other_thread_waits_and_times_out(home: Settings) -> None:
    outcome: list[str] = []

    def contender() -> None:
        try:
            with build_writer_lock(home, timeout=0.3):
                outcome.append("acquired")
        except BuildLocked:
            outcome.append("locked")

    with build_writer_lock(home):
        thread = threading.Thread(target=contender)
        thread.start()
        thread.join(timeout=10)
    assert outcome == ["locked"]
    thread = threading.Thread(target=contender)
    thread.start()
    thread.join(timeout=10)
    assert outcome == ["locked", "acquired"]


def test_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BORDERWATCH_LOCK_TIMEOUT", "7.5")
    assert lock_timeout() == 7.5
    assert lock_timeout(2) == 2
    monkeypatch.delenv("BORDERWATCH_LOCK_TIMEOUT")
    assert lock_timeout() == 600
    monkeypatch.setenv("BORDERWATCH_LOCK_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="BORDERWATCH_LOCK_TIMEOUT"):
        lock_timeout()
