"""Run BorderWatch's Airflow locally: the nightly DAG in-process (``borderwatch run``) or a live stack.

Both use a self-contained ``AIRFLOW_HOME`` (``$BORDERWATCH_HOME/airflow`` unless ``AIRFLOW_HOME`` is set)
with a SQLite metadata DB, the repo's ``dags/`` folder and no example DAGs, so nothing leaks in from a
developer's own Airflow set-up. Every Airflow command runs as a subprocess with an explicit environment:
Airflow reads its configuration once per process, so changing it in-process would not take effect.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from borderwatch.config import REPO_ROOT, Settings
from borderwatch.orchestration.factory import BUILD_POOL, BUILD_POOL_DESCRIPTION

DAGS_FOLDER = REPO_ROOT / "dags"
REFRESH_DAG_ID = "warehouse_refresh"
# Component → CLI arguments. Log serving is skipped: every component shares one local log folder, and
# Airflow's log server would bind all interfaces.
LIVE_COMPONENTS: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}
_DB_STAMP = ".borderwatch-db-ready"


class AirflowCommandError(RuntimeError):
    """An ``airflow`` CLI command failed; the message carries the command, exit code and output tail."""


def airflow_home_for(settings: Settings) -> Path:
    """``AIRFLOW_HOME`` if the caller set one, else a private one inside ``BORDERWATCH_HOME``."""
    explicit = os.environ.get("AIRFLOW_HOME")
    return Path(explicit).resolve() if explicit else settings.home / "airflow"


def venv_bin() -> Path:
    """The bin directory of the running interpreter: the ``airflow`` script lives beside it."""
    return Path(sys.executable).parent


def airflow_executable() -> str:
    """``airflow`` beside the running interpreter (a venv), else on PATH (the Airflow image's user site)."""
    beside = venv_bin() / "airflow"
    if beside.is_file():
        return str(beside)
    return shutil.which("airflow") or str(beside)


def _secret(airflow_home: Path, name: str) -> str:
    """A random secret persisted per AIRFLOW_HOME (0600) so all components sign and verify alike."""
    path = airflow_home / f".{name}"
    if not path.exists():
        airflow_home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))  # ≥ 64 bytes for HS512
    return path.read_text().strip()


def airflow_env(
    settings: Settings,
    *,
    airflow_home: Path | None = None,
    dags_folder: Path = DAGS_FOLDER,
    api_port: int = 8080,
    simulator_url: str | None = None,
    base_env: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full environment for every Airflow process of one local installation.

    SQLite + LocalExecutor, loopback-only api-server, all-admin SimpleAuthManager (local use only), DAGs
    unpaused at creation, and one shared JWT secret so tasks can call the api-server's execution API.
    """
    home = (airflow_home or airflow_home_for(settings)).resolve()
    env = dict(os.environ if base_env is None else base_env)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__FERNET_KEY": env.get("AIRFLOW__CORE__FERNET_KEY") or _fernet_key(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__SECRET_KEY": _secret(home, "api_secret_key"),
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "BORDERWATCH_HOME": str(settings.home),
            "BORDERWATCH_FEEDS_DIR": str(settings.feeds_dir),
            "BORDERWATCH_DBT_PROJECT_DIR": str(settings.dbt_project_dir),
            "BORDERWATCH_EXPECTATIONS_DIR": str(settings.expectations_dir),
            "BORDERWATCH_SIMULATOR_URL": simulator_url or settings.simulator_url,
            "PATH": os.pathsep.join([str(venv_bin()), env.get("PATH", "")]),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides or {})
    return env


def _fernet_key(airflow_home: Path) -> str:
    """A Fernet key persisted per AIRFLOW_HOME (Fernet keys are 32 url-safe base64-encoded bytes)."""
    import base64

    path = airflow_home / ".fernet_key"
    if not path.exists():
        airflow_home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(os.urandom(32)).decode())
    return path.read_text().strip()


def run_airflow(args: Sequence[str], env: Mapping[str, str], *, timeout: float = 900) -> str:
    """Run one ``airflow`` CLI command; raise ``AirflowCommandError`` with its output tail on failure."""
    command = [airflow_executable(), *args]
    for attempt in range(3):
        proc = subprocess.run(
            command,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(REPO_ROOT),
            check=False,
        )
        output = proc.stdout + proc.stderr
        # Airflow on SQLite: a CLI write can meet the running scheduler's write lock; its transaction was
        # rolled back, so trying again is safe
        if proc.returncode == 0 or not ("database is locked" in output or "sqlalche.me/e/21/e3q8" in output):
            break
        time.sleep(2 * (attempt + 1))
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).splitlines()
        cause = next((line.strip() for line in reversed(lines) if "error" in line.lower()), "")
        tail = "\n".join(lines[-40:])
        raise AirflowCommandError(
            f"`airflow {' '.join(args)}` exited with {proc.returncode}: {cause[:300]}\n{tail}"
        )
    return proc.stdout


def ensure_metadata_db(env: Mapping[str, str]) -> bool:
    """Migrate the SQLite metadata DB and create the build pool, only when not done for this version.

    Returns True when it had to migrate. The stamp records the Airflow version, so an upgrade re-migrates.
    """
    from importlib.metadata import version

    home = Path(env["AIRFLOW_HOME"])
    stamp = home / _DB_STAMP
    wanted = f"apache-airflow {version('apache-airflow')}"
    db_file = home / "airflow.db"
    if stamp.is_file() and stamp.read_text().strip() == wanted and db_file.is_file():
        return False
    home.mkdir(parents=True, exist_ok=True)
    run_airflow(["db", "migrate"], env)
    run_airflow(["pools", "set", BUILD_POOL, "1", BUILD_POOL_DESCRIPTION], env)
    stamp.write_text(wanted + "\n")
    return True


def _latest_run_summary(settings: Settings, since: float) -> dict[str, Any] | None:
    """The newest run summary written by the ``publish`` task after ``since`` (epoch seconds)."""
    from borderwatch.orchestration.steps import runs_dir

    directory = runs_dir(settings)
    if not directory.is_dir():
        return None
    fresh = [p for p in directory.glob("warehouse_refresh__*.json") if p.stat().st_mtime >= since]
    if not fresh:
        return None
    return json.loads(max(fresh, key=lambda p: p.stat().st_mtime).read_text(encoding="utf-8"))


def summarize_run(summary: dict[str, Any] | None, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """Condense a run summary and the served manifest into what ``borderwatch run`` prints."""
    summary = summary or {}
    loads = (summary.get("loads") or {}).get("loads", [])
    gate = summary.get("gate") or {}
    publication = summary.get("publication") or {}
    manifest = manifest or {}
    return {
        "loads": loads,
        "new_rows": (summary.get("loads") or {}).get("new_rows", 0),
        "gate": {
            "passed": gate.get("passed"),
            "checks": len(gate.get("checks") or []),
            "blocking_failures": gate.get("blocking_failures", []),
            "warnings": gate.get("warnings", []),
            "summary_path": gate.get("summary_path"),
            "data_docs_path": gate.get("data_docs_path"),
        },
        "version": manifest.get("version") or publication.get("version"),
        "unchanged": bool(publication.get("unchanged", False)),
        "row_counts": manifest.get("row_counts") or publication.get("row_counts") or {},
    }


def run_nightly_in_process(
    settings: Settings,
    *,
    simulator_url: str | None = None,
    logical_date: date | datetime | None = None,
    airflow_home: Path | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Run the ``warehouse_refresh`` DAG once through Airflow (``airflow dags test``) and summarise it.

    Returns ``{"ok", "error", "logical_date", "seconds", "airflow_home", "loads", "new_rows", "gate",
    "version", "row_counts"}``; ``ok`` is False (with ``error``) instead of raising when the run fails,
    so the CLI can print why. No scheduler or api-server is needed: tasks run in this subprocess.
    """
    from borderwatch.orchestration.steps import read_published_manifest

    settings.ensure_dirs()
    env = airflow_env(settings, airflow_home=airflow_home, simulator_url=simulator_url)
    when = logical_date or datetime.now(UTC).replace(microsecond=0)
    if isinstance(when, datetime):
        stamp = when.astimezone(UTC).isoformat()
    else:
        stamp = datetime(when.year, when.month, when.day, 2, 0, tzinfo=UTC).isoformat()
    started = time.time()
    result: dict[str, Any] = {
        "ok": False,
        "error": None,
        "logical_date": stamp,
        "airflow_home": env["AIRFLOW_HOME"],
    }
    try:
        ensure_metadata_db(env)
        run_airflow(["dags", "test", REFRESH_DAG_ID, stamp], env)  # exits non-zero when the run failed
        run_summary = _latest_run_summary(settings, started)
        if run_summary is None:
            raise AirflowCommandError(
                f"{REFRESH_DAG_ID} finished but wrote no run summary under {settings.reports_dir / 'runs'}; "
                f"see the task logs in {env['AIRFLOW_HOME']}/logs"
            )
        result.update(summarize_run(run_summary, read_published_manifest(settings)))
        result["ok"] = True
    except (AirflowCommandError, subprocess.TimeoutExpired) as exc:
        result["error"] = str(exc)
    result["seconds"] = round(time.time() - started, 1)
    if echo:
        print(json.dumps(result, indent=2, default=str))
    return result


@dataclass
class LiveAirflow:
    """A running local Airflow: one process group per component, logs under ``AIRFLOW_HOME/live-logs``."""

    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    log_files: dict[str, IO[bytes]] = field(default_factory=dict)

    @property
    def airflow_home(self) -> Path:
        return Path(self.env["AIRFLOW_HOME"])

    @property
    def api_url(self) -> str:
        return self.env["AIRFLOW__API__BASE_URL"]

    def log_path(self, component: str) -> Path:
        return self.airflow_home / "live-logs" / f"{component}.log"

    def start(
        self, components: Sequence[str] = tuple(LIVE_COMPONENTS), ready_timeout: float = 120
    ) -> LiveAirflow:
        """Start each component in its own session (process group) so ``stop`` can kill its children.

        The api-server goes first and must answer before the others start: tasks talk to its execution API,
        and a task launched before it is up fails and burns a retry.
        """
        (self.airflow_home / "live-logs").mkdir(parents=True, exist_ok=True)
        ordered = sorted(components, key=lambda c: c != "api-server")
        for component in ordered:
            log = self.log_path(component).open("ab")
            self.log_files[component] = log
            self.processes[component] = subprocess.Popen(
                [airflow_executable(), *LIVE_COMPONENTS[component]],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=str(REPO_ROOT),
                start_new_session=True,
            )
            if component == "api-server":
                self.wait_for_api(ready_timeout)
        return self

    def wait_for_api(self, timeout: float) -> None:
        """Block until the api-server answers ``/api/v2/version``; fail with its log if it dies or hangs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["api-server"].poll() is not None:
                raise AirflowCommandError(f"api-server exited:\n{self.log_tail('api-server')}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.api_url}/api/v2/version", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.5)
        raise AirflowCommandError(
            f"api-server not answering after {timeout:.0f}s:\n{self.log_tail('api-server')}"
        )

    def unpause(self, dag_id_regex: str) -> str:
        """Unpause the registered DAGs whose id matches (for stacks started with DAGs paused at creation)."""
        return run_airflow(["dags", "unpause", "--treat-dag-id-as-regex", "-y", dag_id_regex], self.env)

    def dead_components(self) -> dict[str, int]:
        """Components that exited (name → exit code): a live stack should have none."""
        return {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}

    def log_tail(self, component: str, lines: int = 40) -> str:
        path = self.log_path(component)
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace_seconds: float = 20) -> None:
        """SIGTERM every component's process group, then SIGKILL what is left after the grace period."""
        for proc in self.processes.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group may hold orphaned task runners
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        for log in self.log_files.values():
            log.close()

    def __enter__(self) -> LiveAirflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def live_airflow(
    settings: Settings,
    *,
    api_port: int = 8080,
    simulator_url: str | None = None,
    airflow_home: Path | None = None,
    dags_folder: Path = DAGS_FOLDER,
    components: Sequence[str] = tuple(LIVE_COMPONENTS),
    overrides: Mapping[str, str] | None = None,
) -> Iterator[LiveAirflow]:
    """Migrate if needed, start the components, and always stop them (process groups) on exit."""
    settings.ensure_dirs()
    env = airflow_env(
        settings,
        airflow_home=airflow_home,
        dags_folder=dags_folder,
        api_port=api_port,
        simulator_url=simulator_url,
        overrides=overrides,
    )
    ensure_metadata_db(env)
    stack = LiveAirflow(env=env)
    try:
        yield stack.start(components)
    finally:
        stack.stop()


class StopRequested(Exception):
    """SIGTERM or SIGHUP arrived: unwind and stop every process this command started."""


@contextlib.contextmanager
def stop_on_signals(signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Turn the first of ``signals`` into ``StopRequested`` and ignore repeats while cleanup runs.

    Python's default for SIGTERM/SIGHUP is to die on the spot, skipping every ``finally``, which left the
    Airflow components (each in its own session) running and holding the port.
    """

    def handler(signum: int, _frame: object) -> None:
        for sig in signals:
            signal.signal(sig, signal.SIG_IGN)
        raise StopRequested(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def start_live_airflow(
    settings: Settings,
    *,
    api_port: int = 8080,
    with_simulator: bool = True,
    simulator_port: int = 8765,
    poll_seconds: float = 1.0,
) -> None:
    """``borderwatch airflow-live``: api-server (127.0.0.1:<port>), scheduler, dag-processor, triggerer.

    Also serves the feed simulator on loopback (unless ``with_simulator`` is False), then blocks until
    Ctrl-C, SIGTERM, SIGHUP or the death of its parent (``make live`` killed by SIGHUP does not pass the
    signal on), and stops every process group it started. Drop a feed file into ``$BORDERWATCH_HOME/inbox``
    to watch ``inbox_watch`` → ``warehouse_refresh`` → ``bi_refresh`` run in the UI.
    """
    parent = os.getppid()
    interrupt = signal.getsignal(signal.SIGINT)
    try:
        _run_live(settings, api_port, with_simulator, simulator_port, poll_seconds, parent)
    finally:
        signal.signal(signal.SIGINT, interrupt)


def _run_live(
    settings: Settings,
    api_port: int,
    with_simulator: bool,
    simulator_port: int,
    poll_seconds: float,
    parent: int,
) -> None:
    """The body of ``start_live_airflow``: start, wait for a reason to stop, stop everything."""
    reason = "Ctrl-C"
    with stop_on_signals(), contextlib.ExitStack() as stack:
        try:
            simulator_url = None
            if with_simulator:
                from borderwatch.simulator.server import SimulatorServer

                simulator_url = stack.enter_context(SimulatorServer(port=simulator_port)).url
            live = stack.enter_context(live_airflow(settings, api_port=api_port, simulator_url=simulator_url))
            print(f"Airflow UI: {live.api_url} (all users are admin: local use only)", flush=True)
            print(f"Inbox: {settings.inbox_dir}   Logs: {live.airflow_home / 'live-logs'}", flush=True)
            if simulator_url:
                print(f"Feed simulator: {simulator_url}", flush=True)
            print("Ctrl-C (or SIGTERM/SIGHUP) stops everything.", flush=True)
            while not (dead := live.dead_components()):
                if os.getppid() != parent:
                    reason = "parent process exited"
                    break
                time.sleep(poll_seconds)
            else:
                reason = "a component exited"
                for name, code in dead.items():
                    print(f"{name} exited with {code}:\n{live.log_tail(name)}", file=sys.stderr)
        except StopRequested as exc:
            reason = str(exc)
        except KeyboardInterrupt:
            reason = "Ctrl-C"
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        print(f"stopping every process started here ({reason}) ...", file=sys.stderr, flush=True)
