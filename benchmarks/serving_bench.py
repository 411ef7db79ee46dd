"""Serving benchmark: loading a publication into PostgreSQL vs writing its Parquet exports.

Target (issue 14): the PostgreSQL load ≤ 2× the time of writing the version's Parquet exports, at the
largest benchmark scale. Both sides start from the same published ``warehouse.duckdb``:

- Parquet: every mart ``COPY ... TO (FORMAT parquet)`` then fsync, as ``borderwatch.publish`` writes them;
- PostgreSQL: ``borderwatch.serving.serve_publication`` into a fresh database (DuckDB → Arrow record
  batches → ADBC binary ``COPY FROM STDIN``, comments, row-count check, commit; then the switch), on a
  PostgreSQL with default durability.

Beside wall time it records CPU seconds (this process: DuckDB and the ADBC encoder; the PostgreSQL server
it started: every backend) and the load average, because on a shared machine the wall ratio follows
whoever else is running.

The build comes from the benchmark harness's history snapshot (``make bench`` prepares it); ``--multiply K``
repeats every mart's rows K times to stand in for a larger history. PostgreSQL is Debian's server binaries,
started here on loopback (or ``--pg-admin-dsn``). Writes ``benchmarks/results/serving-<date>.md`` + json.

    .venv/bin/python -m benchmarks.serving_bench --multiply 1,10 --reps 3
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import glob
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil
import psycopg
from psycopg import sql

from borderwatch import pipeline
from borderwatch.config import get_settings
from borderwatch.gate import GateResult
from borderwatch.publish import PARQUET_SCHEMA, Publication
from borderwatch.serving.postgres import DSN_ENV, READER_PASSWORD_ENV, READER_ROLE_ENV, serve_publication
from borderwatch.warehouse import dbt_target_dir

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
SNAPSHOTS = ROOT / "work" / "snapshots"
TARGET_RATIO = 2.0


@dataclasses.dataclass
class Sample:
    multiply: int
    rows: int
    parquet_s: float
    pg_total_s: float
    pg_load_s: float
    pg_switch_s: float
    parquet_cpu_s: float = 0.0
    pg_client_cpu_s: float = 0.0
    pg_server_cpu_s: float | None = None  # None: a server this benchmark did not start
    load_average: float = 0.0

    @property
    def ratio(self) -> float:
        return self.pg_total_s / self.parquet_s


@dataclasses.dataclass(frozen=True)
class Server:
    admin_dsn: str
    postmaster_pid: int | None = None

    def cpu_seconds(self) -> float | None:
        """CPU of the whole server: postmaster, live processes, and backends that already exited."""
        if self.postmaster_pid is None:
            return None
        main = psutil.Process(self.postmaster_pid)
        total = sum(main.cpu_times()[:4])  # user, system, children_user, children_system
        for child in main.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def largest_snapshot_build() -> Path:
    builds = sorted(
        SNAPSHOTS.glob("*/snapshot-home/warehouse/build.duckdb"),
        key=lambda p: int(p.parts[-4].rsplit("scale", 1)[-1] or 0),
    )
    if not builds:
        raise SystemExit(f"no history snapshot under {SNAPSHOTS}: run `make bench` once (it prepares them)")
    return builds[-1]


@contextlib.contextmanager
def local_postgres() -> Iterator[Server]:
    """Debian's PostgreSQL in a temp dir on a loopback port, default durability (fsync on)."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not binaries:
        raise SystemExit("PostgreSQL server binaries not found: run scripts/ci-tools.sh as root")
    bindir = Path(binaries[-1])
    root = Path(tempfile.mkdtemp(prefix="borderwatch-bench-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    if as_user:
        shutil.chown(root, "postgres")
    data = root / "data"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {root}"
    ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w"]
    subprocess.run([*ctl, "-o", options, "start"], check=True, capture_output=True)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        yield Server(f"host=127.0.0.1 port={port} user=bench dbname=postgres", pid)
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def prepare_home(build: Path, multiply: int, work: Path) -> tuple[object, Publication]:
    """A home whose build is ``build`` with every mart repeated ``multiply`` times, published once (files)."""
    settings = get_settings(work / f"home-x{multiply}")
    settings.ensure_dirs()
    shutil.copyfile(build, settings.build_db)
    manifest = build.parents[1] / "dbt" / "target" / "manifest.json"
    # Repeated rows break the marts' contract keys, which publish declares from dbt's manifest: the
    # multiplied variants go without it (comments then fall back to generic text, as many as before).
    if manifest.is_file() and multiply == 1:
        dbt_target_dir(settings).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(manifest, dbt_target_dir(settings) / "manifest.json")
    if multiply > 1:
        con = duckdb.connect(str(settings.build_db))
        try:
            tables = con.execute(
                "select table_name from duckdb_tables() "
                "where schema_name = ? and database_name = current_database()",
                [PARQUET_SCHEMA],
            ).fetchall()
            for (table,) in tables:
                name = f'{PARQUET_SCHEMA}."{table}"'
                repeated = f"select t.* from {name} as t, range({multiply}) as r(i)"
                con.execute(f"create or replace table {name} as {repeated}")
        finally:
            con.close()
    os.environ.pop(DSN_ENV, None)
    audited = pipeline.Audited(pipeline.snapshot(settings), GateResult(passed=True, run_id="serving-bench"))
    publication = pipeline.publish(settings, audited, notify=False)
    return settings, publication


def time_parquet(publication: Publication, out: Path) -> tuple[float, float]:
    """Every mart to Parquet from the published file, fsynced: what publication's export step costs.

    Returns (wall, CPU) seconds."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cpu = cpu_seconds()
    started = time.perf_counter()
    con = duckdb.connect(str(publication.database_path), read_only=True)
    try:
        for relation in sorted(publication.row_counts):
            schema, table = relation.split(".")
            if schema != PARQUET_SCHEMA:
                continue
            path = out / f"{table}.parquet"
            con.execute(f"copy (select * from {schema}.\"{table}\") to '{path}' (format parquet)")
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
    finally:
        con.close()
    return time.perf_counter() - started, cpu_seconds() - cpu


def time_pg(settings: object, publication: Publication, server: Server) -> dict[str, float | None]:
    """serve_publication into a fresh database: seconds of wall (total, load, switch) and of CPU."""
    tag = uuid.uuid4().hex[:8]
    with psycopg.connect(server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(f"bench_{tag}")))
    params = psycopg.conninfo.conninfo_to_dict(server.admin_dsn)
    params["dbname"] = f"bench_{tag}"
    os.environ[DSN_ENV] = psycopg.conninfo.make_conninfo(**params)
    os.environ[READER_ROLE_ENV] = f"bi_{tag}"
    os.environ[READER_PASSWORD_ENV] = "bench"
    try:
        server_cpu, client_cpu = server.cpu_seconds(), cpu_seconds()
        started = time.perf_counter()
        served = serve_publication(settings, publication)  # type: ignore[arg-type]
        total = time.perf_counter() - started
        client_cpu = cpu_seconds() - client_cpu
        after = server.cpu_seconds()
    finally:
        os.environ.pop(DSN_ENV, None)
    assert served is not None and served.loaded
    return {
        "pg_total_s": total,
        "pg_load_s": served.load_seconds,
        "pg_switch_s": served.switch_seconds,
        "pg_client_cpu_s": client_cpu,
        "pg_server_cpu_s": None if after is None or server_cpu is None else after - server_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, help="build.duckdb (default: the largest bench snapshot)")
    parser.add_argument("--multiply", default="1,10", help="mart row multipliers, comma-separated")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pg-admin-dsn", help="use this PostgreSQL (superuser) instead of starting one")
    parser.add_argument("--name", help="results file stem (default: serving-<date>)")
    args = parser.parse_args()
    build = args.build or largest_snapshot_build()
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="borderwatch-serving-bench-") as tmp:
        work = Path(tmp)
        with contextlib.ExitStack() as stack:
            server = Server(args.pg_admin_dsn) if args.pg_admin_dsn else stack.enter_context(local_postgres())
            for multiply in [int(m) for m in args.multiply.split(",")]:
                settings, publication = prepare_home(build, multiply, work)
                rows = sum(n for k, n in publication.row_counts.items() if k.startswith(f"{PARQUET_SCHEMA}."))
                for rep in range(args.reps):
                    order = ("pq", "pg") if rep % 2 == 0 else ("pg", "pq")  # interleaved
                    parquet = pg = None
                    for side in order:
                        if side == "pq":
                            parquet = time_parquet(publication, work / "parquet")
                        else:
                            pg = time_pg(settings, publication, server)
                    assert parquet is not None and pg is not None
                    sample = Sample(
                        multiply,
                        rows,
                        parquet[0],
                        parquet_cpu_s=parquet[1],
                        load_average=os.getloadavg()[0],
                        **pg,
                    )
                    samples.append(sample)
                    print(
                        f"x{multiply} rep {rep}: parquet {sample.parquet_s:.2f}s, "
                        f"pg {sample.pg_total_s:.2f}s (load average {sample.load_average:.1f})",
                        flush=True,
                    )
    write_report(build, samples, args.name)


def write_report(build: Path, samples: list[Sample], name: str | None = None) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    name = name or f"serving-{stamp}"
    reps = len(samples) // max(1, len({s.multiply for s in samples}))
    RESULTS.mkdir(exist_ok=True)
    lines = [
        f"# Serving benchmark {stamp}",
        "",
        f"Build: `{build.relative_to(ROOT.parent) if build.is_relative_to(ROOT.parent) else build}`; "
        f"{os.cpu_count()} CPUs (shared). Median (min–max) of {reps} interleaved repetitions.",
        "",
        "| marts × | mart rows | Parquet exports (s) | PostgreSQL load+switch (s) | of which switch (s) "
        "| ratio | target ≤ 2× | CPU s: Parquet / PG client / PG server | load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for multiply in sorted({s.multiply for s in samples}):
        group = [s for s in samples if s.multiply == multiply]

        def fmt(values: list[float]) -> str:
            return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

        ratio = statistics.median([s.ratio for s in group])
        server = [s.pg_server_cpu_s for s in group if s.pg_server_cpu_s is not None]
        cpu = (
            f"{statistics.median([s.parquet_cpu_s for s in group]):.2f} / "
            f"{statistics.median([s.pg_client_cpu_s for s in group]):.2f} / "
            f"{f'{statistics.median(server):.2f}' if server else 'n/a'}"
        )
        loads = [s.load_average for s in group]
        lines.append(
            f"| {multiply} | {group[0].rows:,} | {fmt([s.parquet_s for s in group])} | "
            f"{fmt([s.pg_total_s for s in group])} | {fmt([s.pg_switch_s for s in group])} | "
            f"{ratio:.2f}× | {'met' if ratio <= TARGET_RATIO else '**missed**'} | {cpu} | "
            f"{min(loads):.1f}–{max(loads):.1f} |"
        )
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{name}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"{name}.json").write_text(
        json.dumps([dataclasses.asdict(s) for s in samples], indent=2) + "\n", encoding="utf-8"
    )
    print(text)


if __name__ == "__main__":
    main()
