"""Real services for the serving tests: a PostgreSQL and a Redis of their own, on loopback, no mocks.

PostgreSQL comes from Debian's server binaries (``/usr/lib/postgresql/<n>/bin``: ``initdb`` in a temp dir,
``pg_ctl`` on a free loopback port); Redis from Debian's ``redis-server``. ``scripts/ci-tools.sh`` installs
both when missing. To use servers a machine already runs, set ``BORDERWATCH_TEST_PG_ADMIN_DSN`` (a role
that may create roles and databases) and ``BORDERWATCH_TEST_REDIS_URL``.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import publish_support
import pytest
from psycopg import sql

from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.serving.postgres import DSN_ENV, READER_PASSWORD_ENV, READER_ROLE_ENV

synthetic = publish_support.synthetic  # fixtures shared with tests/publish
publish_now = publish_support.publish_now

PG_ADMIN_DSN_ENV = "BORDERWATCH_TEST_PG_ADMIN_DSN"
REDIS_URL_ENV = "BORDERWATCH_TEST_REDIS_URL"
READER_PASSWORD = "bi-reader-test-password"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin(name: str) -> str:
    """A PostgreSQL server binary from Debian's versioned directory (newest), else from PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    path = found[-1] if found else shutil.which(name)
    if not path:
        pytest.fail(
            f"PostgreSQL's {name} is not installed: run scripts/ci-tools.sh as root (installs Debian's "
            f"'postgresql'), or point {PG_ADMIN_DSN_ENV} at a running server"
        )
    return path


@dataclasses.dataclass
class PostgresServer:
    """One PostgreSQL cluster: ``admin_dsn`` is a superuser (or CREATEROLE + CREATEDB) on loopback."""

    admin_dsn: str
    datadir: Path | None = None
    run_as: str | None = None
    log: Path | None = None

    def dsn(self, dbname: str, user: str, password: str | None = None) -> str:
        params = psycopg.conninfo.conninfo_to_dict(self.admin_dsn)
        params.update(dbname=dbname, user=user)
        if password is not None:
            params["password"] = password
        return psycopg.conninfo.make_conninfo(**params)

    def _ctl(self, *args: str) -> None:
        assert self.datadir is not None, "only a server this fixture started can be stopped and started"
        cmd = [pg_bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.log), "-w", "-t", "60", *args]
        subprocess.run(_as_user(cmd, self.run_as), check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def start(self) -> None:
        self._ctl("start")


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    """PostgreSQL refuses to run as root: run the server binaries as Debian's ``postgres`` user then."""
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL of our own (initdb in a temp dir, trust auth on 127.0.0.1 only), or the one named."""
    if dsn := os.environ.get(PG_ADMIN_DSN_ENV):
        yield PostgresServer(admin_dsn=dsn)
        return
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                "running as root and there is no 'postgres' user to run the server as; install postgresql"
            )
        run_as = "postgres"
    root = Path(tempfile.mkdtemp(prefix="borderwatch-pg-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)  # also when initdb or the start fails
    datadir, sockets, log = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    if run_as:
        shutil.chown(root, run_as)
        shutil.chown(sockets, run_as)
    initdb = [
        pg_bin("initdb"),
        "-D",
        str(datadir),
        "-U",
        "bw_admin",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    ]
    done = subprocess.run(_as_user(initdb, run_as), capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"initdb failed: {done.stderr[-2000:]}")
    port = free_port()
    conf = datadir / "postgresql.conf"
    with conf.open("a") as handle:
        handle.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n"
            "fsync = off\nsynchronous_commit = off\nmax_connections = 50\n"
        )
    server = PostgresServer(
        admin_dsn=f"host=127.0.0.1 port={port} user=bw_admin dbname=postgres",
        datadir=datadir,
        run_as=run_as,
        log=log,
    )
    if run_as:
        subprocess.run(["chown", "-R", run_as, str(root)], check=True)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class ServingDb:
    """A fresh database owned by a non-superuser loader role, plus the BI reader's name and DSNs."""

    server: PostgresServer
    dbname: str
    loader: str
    reader: str

    @property
    def loader_dsn(self) -> str:
        return self.server.dsn(self.dbname, self.loader)

    @property
    def reader_dsn(self) -> str:
        return self.server.dsn(self.dbname, self.reader, READER_PASSWORD)

    def connect(self, *, reader: bool = False, **kwargs: object) -> psycopg.Connection:
        return psycopg.connect(self.reader_dsn if reader else self.loader_dsn, autocommit=True, **kwargs)


@pytest.fixture
def serving_db(pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServingDb]:
    """A database per test (roles are cluster-wide, so their names are per test too); env points at it."""
    tag = uuid.uuid4().hex[:8]
    db = ServingDb(pg_server, f"serving_{tag}", f"loader_{tag}", f"bi_{tag}")
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
        # The loader is deliberately not a superuser: it has exactly what the README asks a DBA to grant.
        admin.execute(sql.SQL("create role {} login createrole").format(sql.Identifier(db.loader)))
        admin.execute(
            sql.SQL("create database {} owner {}").format(
                sql.Identifier(db.dbname), sql.Identifier(db.loader)
            )
        )
    monkeypatch.setenv(DSN_ENV, db.loader_dsn)
    monkeypatch.setenv(READER_ROLE_ENV, db.reader)
    monkeypatch.setenv(READER_PASSWORD_ENV, READER_PASSWORD)
    yield db
    with contextlib.suppress(psycopg.Error), psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db.dbname)))
        for role in (db.reader, db.loader):
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server of our own on loopback (no persistence), or the one named by the environment."""
    if url := os.environ.get(REDIS_URL_ENV):
        yield url
        return
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail(f"redis-server is not installed: run scripts/ci-tools.sh as root, or set {REDIS_URL_ENV}")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            break
        time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def home(tmp_path: Path, synthetic: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("BORDERWATCH_HOME", str(tmp_path / "home"))
    settings = synthetic.make_settings(tmp_path / "home", keep_versions=3)
    synthetic.make_build(settings.build_db, raids=50)
    return settings


@pytest.fixture
def passed() -> GateResult:
    return GateResult(passed=True, run_id="serving-test-gate")
