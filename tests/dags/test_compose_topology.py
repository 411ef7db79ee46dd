"""The compose topology, started for real without a Docker engine: every service's own command, with its
own compose environment, as a local process; then every healthcheck of the compose file must pass.

What stands in for Docker, and nothing more:
- the compose file as `docker-compose config` resolves it (interpolation from a generated `.env`, anchors);
- service hostnames (`postgres`, `airflow-apiserver`, `feed-simulator`) map to 127.0.0.1, and each
  container port to a free loopback port (containers have a network namespace each; here they share one);
  the same substitution is applied to the healthcheck commands;
- the image's paths map to this checkout (`/opt/borderwatch/app/dags` → `dags/`) and the named volumes to
  temporary directories prepared like the image prepares them (home owned by the runtime uid, gid 0, 2775);
- `postgres:16` is PostgreSQL from Debian's binaries (initdb/pg_ctl) with the service's user, password and
  database, run as the `postgres` system user (initdb refuses root);
- the Airflow image's entrypoint runs `airflow <command>`.
The services run as the compose file's uid (50000, gid 0) when this interpreter is reachable by that uid;
when it is not (a Python under /root, mode 0700), they run as the current user and the volume is still
checked by writing to it as uid 50000 with a non-Python probe (`touch`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .compose_support import resolved_compose, write_generated_env
from .conftest import REPO_ROOT

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(1500)]

RUNTIME_UID, RUNTIME_GID = 50000, 0
CONTAINER_PORTS = {"postgres": 5432, "airflow-apiserver": 8080, "feed-simulator": 8765}
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reachable_by_others(path: Path) -> bool:
    """Every directory above ``path`` is searchable by other users and ``path`` executable by them."""
    real = path.resolve()
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in [real, *real.parents])


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        message = (
            f"{name} not found: install Debian's `postgresql` (scripts/ci-tools.sh does it in make test)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass
class LocalTopology:
    """Translates one resolved compose file into local processes and runs them."""

    config: dict[str, Any]
    work: Path
    as_runtime_uid: bool
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in CONTAINER_PORTS}
        self.ports["scheduler-health"] = free_port()
        self.home = self.work / "volumes" / "borderwatch-home"
        self.logs = self.work / "volumes" / "airflow-logs"
        self.airflow_home = self.work / "airflow-home"
        for path in (self.home, self.logs, self.airflow_home, self.work / "logs"):
            path.mkdir(parents=True)
        if os.geteuid() == 0:  # as the image prepares /opt/borderwatch/home and /opt/airflow
            for path in (self.home, self.logs, self.airflow_home):
                os.chown(path, RUNTIME_UID, RUNTIME_GID)
        self.home.chmod(0o2775)
        self.logs.chmod(0o2775)
        self.airflow_home.chmod(0o2775)

    # -- translation -------------------------------------------------------------------------------
    def localize(self, text: str, service: str | None = None) -> str:
        """Hostnames → 127.0.0.1, container ports → loopback ports, image paths → this checkout."""
        for host, port in CONTAINER_PORTS.items():
            text = text.replace(f"@{host}/", f"@127.0.0.1:{self.ports[host]}/")
            text = text.replace(f"//{host}:{port}", f"//127.0.0.1:{self.ports[host]}")
        own = {
            "airflow-apiserver": {"localhost:8080": f"127.0.0.1:{self.ports['airflow-apiserver']}"},
            "airflow-scheduler": {"localhost:8974": f"127.0.0.1:{self.ports['scheduler-health']}"},
            "feed-simulator": {"127.0.0.1:8765": f"127.0.0.1:{self.ports['feed-simulator']}"},
        }.get(service or "", {})
        for old, new in own.items():
            text = text.replace(old, new)
        text = text.replace("/opt/borderwatch/home", str(self.home))
        text = text.replace("/opt/airflow/logs", str(self.logs))
        return text.replace("/opt/borderwatch/app", str(REPO_ROOT))

    def service(self, name: str) -> dict[str, Any]:
        return self.config["services"][name]

    def environment(self, name: str) -> dict[str, str]:
        """The service's compose environment (localized) plus what the container itself provides."""
        compose_env = {
            k: self.localize(str(v)) for k, v in (self.service(name).get("environment") or {}).items()
        }
        env = {
            "PATH": f"{VENV_BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.airflow_home),
            "HOSTNAME": socket.gethostname(),  # what a container sets, and what Airflow records
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",
        }
        if name != "feed-simulator":  # the image's ENV (Dockerfile) and container-local ports
            env.update(
                {
                    "AIRFLOW_HOME": str(self.airflow_home),
                    "BORDERWATCH_FEEDS_DIR": str(REPO_ROOT / "feeds"),
                    "BORDERWATCH_DBT_PROJECT_DIR": str(REPO_ROOT / "dbt_project"),
                    "BORDERWATCH_EXPECTATIONS_DIR": str(REPO_ROOT / "expectations"),
                    "AIRFLOW__API__HOST": "127.0.0.1",
                    "AIRFLOW__API__PORT": str(self.ports["airflow-apiserver"]),
                    "AIRFLOW__API__WORKERS": "1",  # CPU on a shared test machine; not a topology choice
                    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
                    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(
                        self.ports["scheduler-health"]
                    ),
                    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.logs),
                }
            )
        env.update(compose_env)
        return env

    def argv(self, name: str) -> list[str]:
        """Entrypoint + command as the image runs them (the Airflow image's entrypoint runs `airflow`)."""
        svc = self.service(name)
        command = svc.get("command") or []
        command = shlex.split(command) if isinstance(command, str) else list(command)
        entrypoint = svc.get("entrypoint")
        entrypoint = (
            shlex.split(entrypoint) if isinstance(entrypoint, str) else list(entrypoint or ["airflow"])
        )
        if name == "feed-simulator":
            command = [str(self.ports["feed-simulator"]) if a == "8765" else a for a in command]
        return [str(VENV_BIN / entrypoint[0]), *entrypoint[1:], *(self.localize(a) for a in command)]

    def healthcheck(self, name: str) -> list[str]:
        test = self.service(name)["healthcheck"]["test"]
        kind, args = test[0], [self.localize(str(a), name) for a in test[1:]]
        if name == "postgres":
            args += ["-h", "127.0.0.1", "-p", str(self.ports["postgres"])]
        if kind == "CMD-SHELL":
            return ["bash", "-c", args[0].replace("$$", "$")]
        return args

    def _user(self) -> dict[str, Any]:
        if not self.as_runtime_uid:
            return {}
        return {"user": RUNTIME_UID, "group": RUNTIME_GID, "extra_groups": []}

    # -- processes ---------------------------------------------------------------------------------
    def start(self, name: str) -> None:
        log = (self.work / "logs" / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            self.argv(name),
            env=self.environment(name),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(REPO_ROOT),
            start_new_session=True,
            **self._user(),
        )

    def run_to_completion(self, name: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.argv(name),
            env=env or self.environment(name),
            capture_output=True,
            text=True,
            cwd=str(REPO_ROOT),
            timeout=900,
            check=False,
            **self._user(),
        )

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.work / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def wait_healthy(self, name: str, timeout: float = 420) -> None:
        """Run the service's own healthcheck command until it passes (as compose would, with retries)."""
        command = self.healthcheck(name)
        env = self.environment(name)
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            proc = self.processes.get(name)
            if proc is not None and proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            check = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
            if check.returncode == 0:
                return
            last = (check.stdout + check.stderr)[-500:]
            time.sleep(3)
        pytest.fail(
            f"{name}: healthcheck {command} still failing after {timeout:.0f}s: {last}\n{self.log_tail(name)}"
        )

    def stop(self) -> None:
        for proc in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@contextlib.contextmanager
def debian_postgres(topology: LocalTopology) -> Iterator[None]:
    """The `postgres` service: Debian's PostgreSQL with the service's user, password and database."""
    env = topology.service("postgres")["environment"]
    data = topology.work / "volumes" / "postgres-db-volume"
    data.mkdir(parents=True)
    pwfile = topology.work / "pgpass"
    pwfile.write_text(env["POSTGRES_PASSWORD"] + "\n")
    as_postgres: dict[str, Any] = {}
    if os.geteuid() == 0:  # initdb refuses root, as the image's entrypoint switches to its postgres user
        import pwd

        entry = pwd.getpwnam("postgres")
        for path in (data, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        as_postgres = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    port = topology.ports["postgres"]
    subprocess.run(
        [_pg_binary("initdb"), "-D", str(data), "-U", env["POSTGRES_USER"], f"--pwfile={pwfile}",
         "--auth=scram-sha-256", "--encoding=UTF8"],
        check=True, capture_output=True, timeout=300, cwd="/", **as_postgres,
    )  # fmt: skip
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data}"
    subprocess.run(
        [_pg_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "server.log"), "-w", "start"],
        check=True, capture_output=True, timeout=300, cwd="/", **as_postgres,
    )  # fmt: skip
    try:
        topology.wait_healthy("postgres", timeout=120)
        psql_env = {**os.environ, "PGPASSWORD": env["POSTGRES_PASSWORD"]}
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", env["POSTGRES_USER"], "-d", "postgres",
             "-v", "ON_ERROR_STOP=1", "-c", f'create database "{env["POSTGRES_DB"]}"'],
            check=True, capture_output=True, timeout=120, env=psql_env,
        )  # fmt: skip
        yield
    finally:
        subprocess.run(
            [_pg_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, timeout=120, cwd="/", check=False, **as_postgres,
        )  # fmt: skip


def _writable_by_runtime_uid(path: Path) -> bool:
    """Create and remove a file in ``path`` as uid 50000, gid 0 (a non-Python probe: `touch`)."""
    probe = path / ".written-by-uid-50000"
    proc = subprocess.run(
        ["touch", str(probe)],
        user=RUNTIME_UID,
        group=RUNTIME_GID,
        extra_groups=[],
        capture_output=True,
        timeout=30,
        check=False,
    )
    probe.unlink(missing_ok=True)
    return proc.returncode == 0


@pytest.fixture
def topology() -> Iterator[LocalTopology]:
    work = Path(tempfile.mkdtemp(prefix="borderwatch-compose-"))
    work.chmod(0o755)
    try:
        config = resolved_compose(write_generated_env(work))
        as_runtime_uid = os.geteuid() == 0 and _reachable_by_others(Path(sys.executable))
        topo = LocalTopology(config=config, work=work, as_runtime_uid=as_runtime_uid)
        try:
            yield topo
        finally:
            topo.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_every_compose_service_starts_and_passes_its_healthcheck(topology: LocalTopology):
    services = topology.config["services"]
    assert set(AIRFLOW_SERVICES) | {"postgres", "feed-simulator", "airflow-init"} <= set(services)

    # The simulator: its own command (0.0.0.0 with --allow-remote) and an environment without secrets.
    simulator_env = topology.environment("feed-simulator")
    assert not [k for k in simulator_env if k.startswith(("AIRFLOW", "POSTGRES")) or "SECRET" in k]
    topology.start("feed-simulator")
    topology.wait_healthy("feed-simulator", timeout=300)

    with debian_postgres(topology):
        # A copied .env.example is refused before anything is migrated.
        placeholder = resolved_compose(REPO_ROOT / ".env.example")["services"]["airflow-init"]["environment"]
        refused = topology.run_to_completion(
            "airflow-init", env={**topology.environment("airflow-init"), **{
                k: topology.localize(str(v)) for k, v in placeholder.items()}}
        )  # fmt: skip
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "AIRFLOW_FERNET_KEY is still the placeholder" in refused.stderr
        assert "Traceback" not in refused.stderr

        init = topology.run_to_completion("airflow-init")
        assert init.returncode == 0, init.stdout + init.stderr
        assert "airflow metadata DB migrated" in init.stdout
        for sub in ("inbox", "reports", "landing", "warehouse"):
            assert (topology.home / sub).is_dir(), sub
            if os.geteuid() == 0:
                assert _writable_by_runtime_uid(topology.home / sub), f"{sub}/ not writable for uid 50000"

        for name in AIRFLOW_SERVICES:  # depends_on: init completed, postgres healthy
            topology.start(name)
            if name == "airflow-apiserver":
                topology.wait_healthy(name)
        for name in AIRFLOW_SERVICES:
            topology.wait_healthy(name)
        dead = {n: p.returncode for n, p in topology.processes.items() if p.poll() is not None}
        assert not dead, dead
