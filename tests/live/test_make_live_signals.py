"""`make live` stops every process it started on SIGTERM and on SIGHUP, and frees its ports.

The real target is started (make → borderwatch airflow-live → api-server, scheduler, dag-processor,
triggerer, simulator); once the UI answers, the signal goes where a process manager (`kill <pid>`) or a
closing terminal (its foreground process group) sends it. Every process of make's tree and of the
sessions its components opened must be gone, and both ports must be free again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import free_port

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(900)]

REPO_ROOT = Path(__file__).resolve().parents[2]


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(parent pid, session id, start time) of a live process, from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[3]), int(fields[19])


def family(root: int) -> set[tuple[int, int]]:
    """(pid, start time) of ``root``, all its descendants, and every process in their sessions.

    Sessions matter: the Airflow components run in sessions of their own, and a component orphaned by a
    dead parent is re-parented to init but stays in its session. (Environment markers do not work here:
    Airflow's setproctitle overwrites /proc/<pid>/environ.)
    """
    table = {pid: st for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if (st := _stat(pid))}
    members = {root} if root in table else set()
    grew = True
    while grew:
        before = len(members)
        members |= {pid for pid, (ppid, sid, _) in table.items() if ppid in members or sid in members}
        grew = len(members) > before
    return {(pid, table[pid][2]) for pid in members}


def still_running(processes: set[tuple[int, int]]) -> set[tuple[int, int]]:
    return {(pid, start) for pid, start in processes if (st := _stat(pid)) and st[2] == start}


def port_in_use(port: int) -> bool:
    with contextlib.closing(socket.socket()) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def api_answers(port: int) -> bool:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/version", timeout=2) as response,
    ):
        return response.status == 200
    return False


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGHUP, True)],
    ids=["SIGTERM-to-make", "SIGHUP-to-its-terminal-group"],
)
def test_make_live_stops_everything_it_started(signum, to_group):
    """SIGTERM as `kill <make pid>` sends it (make passes it on); SIGHUP as a closing terminal sends it, to
    the foreground process group (make itself does not pass SIGHUP on: it waits for its children)."""
    home = Path(tempfile.mkdtemp(prefix="borderwatch-make-live-"))
    api_port, simulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"BORDERWATCH_HOME": str(home), "PYTHONUNBUFFERED": "1"})
    log = (home.parent / f"{home.name}.log").open("wb")
    started: set[tuple[int, int]] = set()
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.synced", "live",
         f"LIVE_PORT={api_port}", f"LIVE_SIMULATOR_PORT={simulator_port}"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own group: the signal reaches make only, like `kill <pid>`
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 420
        while not api_answers(api_port):
            assert make.poll() is None, Path(log.name).read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the live stack did not come up"
            time.sleep(2)
        time.sleep(5)  # the other components start right after the api-server answers
        started = family(make.pid)
        assert len(started) >= 6, started  # make, borderwatch, four Airflow components (+ their workers)
        assert port_in_use(simulator_port)

        if to_group:
            os.killpg(make.pid, signum)
        else:
            make.send_signal(signum)
        make.wait(timeout=120)
        deadline = time.monotonic() + 90
        while (left := still_running(started)) and time.monotonic() < deadline:
            time.sleep(1)
        assert not left, f"still running after {signum.name} to make: {left}"
        assert not port_in_use(api_port) and not port_in_use(simulator_port)
        output = Path(log.name).read_text(errors="replace")
        assert "stopping every process started here" in output, output[-2000:]
    finally:
        for pid, _ in still_running(family(make.pid) | started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(home, ignore_errors=True)
        Path(log.name).unlink(missing_ok=True)
