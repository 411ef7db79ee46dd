"""The single-writer lock on the build DuckDB file.

DuckDB allows one writing process per file; two writers fail with ``Could not set lock on file``
half-way through a build. Every step that writes the build file (ingest, dbt build, audit, publish)
holds this advisory ``flock`` first, so a second process waits for its turn (up to a timeout) instead
of crashing. The lock is reentrant inside one process, so ``pipeline.refresh`` can nest the steps.

Only :mod:`borderwatch.pipeline` takes it; functions that must run under it (snapshotting a candidate,
publishing, rolling back) check :func:`holds_writer_lock` and refuse otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from borderwatch.config import Settings

LOCK_TIMEOUT_ENV = "BORDERWATCH_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 600.0
_POLL_SECONDS = 0.05


class BuildLocked(TimeoutError):
    """Another process held the build-file writer lock for longer than the timeout."""

    def __init__(self, lock_path: Path, timeout: float, holder: dict[str, Any]) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        self.holder = holder
        who = (
            f"pid {holder.get('pid')} ({holder.get('command') or 'unknown command'}) on "
            f"{holder.get('host', '?')} since {holder.get('acquired_at', '?')}"
            if holder
            else "an unknown process"
        )
        super().__init__(
            f"{lock_path}: the build file is being written by {who}; waited {timeout:g}s. "
            f"Wait for it to finish, or raise {LOCK_TIMEOUT_ENV}; if that process is gone the lock "
            "is released automatically."
        )


@dataclass
class _Held:
    """This process's hold on one lock file: the flock fd, nesting depth and owning thread."""

    mutex: threading.RLock = field(default_factory=threading.RLock)
    fd: int | None = None
    depth: int = 0


_HELD: dict[str, _Held] = {}
_HELD_GUARD = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child does not own its parent's lock: it must take it again on its own."""
    global _HELD, _HELD_GUARD
    _HELD = {}
    _HELD_GUARD = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def lock_timeout(timeout: float | None = None) -> float:
    """The wait budget: explicit argument, else ``BORDERWATCH_LOCK_TIMEOUT``, else 600 s."""
    if timeout is not None:
        return max(0.0, float(timeout))
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        return max(0.0, float(raw))
    except ValueError as exc:
        raise ValueError(f"{LOCK_TIMEOUT_ENV}={raw!r}: expected a number of seconds") from exc


def read_holder(lock_path: Path) -> dict[str, Any]:
    """Who holds (or last held) the lock, as written into the lock file by the holder."""
    try:
        text = lock_path.read_text(encoding="utf-8").strip()
        return json.loads(text) if text else {}
    except (OSError, json.JSONDecodeError):
        return {}


@contextlib.contextmanager
def build_writer_lock(settings: Settings, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the exclusive writer lock on ``settings.build_lock`` for the duration of the block.

    Nested use in the same thread is free; another thread of this process waits like another
    process would. Raises :class:`BuildLocked` after ``timeout`` seconds.
    """
    lock_path = settings.build_lock
    budget = lock_timeout(timeout)
    deadline = time.monotonic() + budget
    with _HELD_GUARD:
        held = _HELD.setdefault(str(lock_path.resolve()), _Held())
    if not held.mutex.acquire(timeout=budget):
        raise BuildLocked(lock_path, budget, read_holder(lock_path))
    try:
        if held.depth == 0:
            held.fd = _acquire_flock(lock_path, deadline, budget)
        held.depth += 1
        try:
            yield lock_path
        finally:
            held.depth -= 1
            if held.depth == 0 and held.fd is not None:
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)
                held.fd = None
    finally:
        held.mutex.release()


def holds_writer_lock(settings: Settings) -> bool:
    """True when this thread holds the writer lock on ``settings.build_lock`` (inside the ``with``)."""
    with _HELD_GUARD:
        held = _HELD.get(str(settings.build_lock.resolve()))
    if held is None or held.fd is None or held.depth == 0:
        return False
    # RLock has no public owner check; acquiring it without blocking succeeds only for its owner
    # (or when nobody holds it, which depth > 0 rules out for any thread but the owner).
    if not held.mutex.acquire(blocking=False):
        return False
    held.mutex.release()
    return True


class WriterLockRequired(RuntimeError):
    """A step that must run under the writer lock was called without it (a programming error)."""


def require_writer_lock(settings: Settings, step: str) -> None:
    """Refuse to run ``step`` unless the caller holds the writer lock (take it via borderwatch.pipeline)."""
    if not holds_writer_lock(settings):
        raise WriterLockRequired(
            f"{step} must run under the build-file writer lock; call it through borderwatch.pipeline"
        )


def _acquire_flock(lock_path: Path, deadline: float, budget: float) -> int:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BuildLocked(lock_path, budget, read_holder(lock_path)) from None
                time.sleep(_POLL_SECONDS)
        _write_holder(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_holder(fd: int) -> None:
    """Record who we are inside the lock file, so a waiter's error can name us."""
    info = {
        "pid": os.getpid(),
        "command": " ".join(sys.argv) or sys.executable,
        "host": socket.gethostname(),
        "acquired_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
