"""Helpers for tests that start real Airflow processes on loopback."""

from __future__ import annotations

import contextlib
import importlib
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_modules(*names: str) -> None:
    """xfail (not skip) while another helper's module is missing, so the gap stays visible in the report."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            pytest.xfail(f"{name} is not importable yet ({exc}); the test runs once it exists")


def query(airflow_home: Path, sql: str, *params: object) -> list[tuple]:
    """Read the live metadata DB (SQLite) without disturbing the running components."""
    db = airflow_home / "airflow.db"
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # table not created yet, or briefly locked
            return []


def wait_for(condition: Callable[[], object], timeout: float, what: str, live=None, interval: float = 1.0):
    """Poll until ``condition()`` is truthy; on timeout fail with the components' log tails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        if live is not None and (dead := live.dead_components()):
            logs = "\n".join(f"--- {n}\n{live.log_tail(n)}" for n in dead)
            pytest.fail(f"Airflow components exited while waiting for {what}: {dead}\n{logs}")
        time.sleep(interval)
    logs = ""
    if live is not None:
        logs = "\n".join(f"--- {n}\n{live.log_tail(n, 25)}" for n in live.processes)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")


def watcher_running(airflow_home: Path, classpath_fragment: str = "InboxTrigger") -> bool:
    """The inbox watcher's trigger exists and a triggerer has picked it up."""
    rows = query(airflow_home, "select classpath, triggerer_id from trigger")
    return any(classpath_fragment in c and t is not None for c, t in rows)
