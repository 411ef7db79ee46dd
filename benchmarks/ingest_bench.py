"""Measurement 3: BorderWatch's ingest against DuckDB's own readers, per feed format, on the same files.

BorderWatch runs in this process (so interpreter and import start-up do not count against a throughput
figure; one untimed warm-up per variant): file feeds through the drop inbox (land, read, normalise in
SQL, load in one transaction per feed), the JSON API pulled over loopback HTTP. DuckDB reads the same
bytes into a table with read_csv / read_json; for cp874 (no built-in decoder, extensions are never
installed) and XLSX (the excel extension is not installed) the reference adds the minimal Python step,
which is timed with it. CSV and NDJSON files are the simulator's daily/monthly files, amplified to
``BORDERWATCH_BENCH_INGEST_ROWS`` rows per format (default 1,000,000) by repeating each file's rows with
a distinct key suffix (every quirk kept: BOM, cp874, Khmer and Thai digits, BE dates). Peak RSS is the
process's resident memory sampled during each run; CPU seconds (the process's, DuckDB's threads included)
are reported beside wall time, as their ratio moves less with what else runs on a shared machine.
"""

from __future__ import annotations

import contextlib
import cProfile
import csv
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.context import Context
from benchmarks.harness import (
    DATA_DIR,
    MIB,
    WORK_DIR,
    TreeMemorySampler,
    alternate,
    column,
    ratio,
    summarize,
)
from benchmarks.worker import profile_top


@dataclass(frozen=True)
class Format:
    label: str
    feed: str
    kind: str  # csv | csv_cp874 | ndjson | xlsx | api
    target: float | None  # BorderWatch ÷ DuckDB rows/s must reach this


FORMATS = (
    Format("CSV utf-8-sig", "kh_gdi_deportations", "csv", 0.4),
    Format("CSV cp874", "th_imm_receptions", "csv_cp874", 0.4),
    Format("NDJSON", "nbtc_telecom", "ndjson", 0.4),
    Format("XLSX", "mfa_assistance", "xlsx", None),
    Format("JSON API", "rtp_raids", "api", None),
)


ROWS_ENV = "BORDERWATCH_BENCH_INGEST_ROWS"


def _amplify(fmt: Format, files: list[Path], rows: int, target: int, out: Path) -> tuple[list[Path], int]:
    """Each file's data rows repeated with a ``-<copy>`` key suffix until the format has ``target`` rows."""
    copies = max(1, -(-target // max(rows, 1)))
    if copies == 1 or fmt.kind not in ("csv", "csv_cp874", "ndjson"):
        return files, rows
    out.mkdir(parents=True, exist_ok=True)
    encoding = {"csv": "utf-8-sig", "csv_cp874": "cp874"}.get(fmt.kind, "utf-8")
    made, total = [], 0
    for f in files:
        text = f.read_bytes().decode(encoding)
        buf = io.StringIO(newline="")
        if fmt.kind == "ndjson":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
            for j in range(copies):
                for r in records:
                    buf.write(
                        json.dumps({**r, "province": f"{r['province']}-{j}"}, ensure_ascii=False) + "\n"
                    )
            total += len(records) * copies
        else:
            header, *body = list(csv.reader(io.StringIO(text, newline="")))
            writer = csv.writer(buf, lineterminator="\r\n")
            writer.writerow(header)
            for j in range(copies):
                writer.writerows([[f"{r[0]}-{j}", *r[1:]] for r in body])
            total += len(body) * copies
        target_path = out / f.name
        target_path.write_bytes(buf.getvalue().encode(encoding))
        made.append(target_path)
    return made, total


def _quiet(fn: Callable[[], Any]) -> Any:
    """Run a loader without its rich console output (load reports) in the timing."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return fn()


def _bw_runner(
    fmt: Format, files: list[Path], server_url: str, root: Path
) -> Callable[[int], dict[str, Any]]:
    from borderwatch.config import get_settings
    from borderwatch.ingest import ingest_all, ingest_inbox

    def run(rep: int) -> dict[str, Any]:
        home = root / f"bw-{fmt.feed}-{rep}"
        shutil.rmtree(home, ignore_errors=True)
        settings = replace(get_settings(home), simulator_url=server_url)
        settings.ensure_dirs()
        for f in files:
            shutil.copyfile(f, settings.inbox_dir / f.name)
        started, cpu = time.perf_counter(), time.process_time()
        with TreeMemorySampler(os.getpid(), interval_s=0.02) as memory:
            if fmt.kind == "api":
                reports = _quiet(lambda: ingest_all(settings, feeds=[fmt.feed]))
            else:
                reports = _quiet(lambda: ingest_inbox(settings))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        shutil.rmtree(home, ignore_errors=True)
        failed = [r for r in reports if getattr(r, "status", "") == "failed"]
        if failed:
            raise RuntimeError(f"BorderWatch ingest of {fmt.feed} failed: {failed[0].error}")
        return {
            "wall_s": elapsed,
            "cpu_s": cpu,
            "rows_in": sum(r.rows_in for r in reports),
            "rows_loaded": sum(r.rows_loaded for r in reports),
            "peak_rss": memory.peak_bytes,
        }

    return run


def _duckdb_load(fmt: Format, files: list[Path], con: duckdb.DuckDBPyConnection, tmp: Path) -> None:
    paths = [str(f) for f in files]
    if fmt.kind == "csv":
        con.execute("create table t as select * from read_csv(?, header = true, all_varchar = true)", [paths])
    elif fmt.kind == "csv_cp874":
        utf8 = []
        for f in files:
            target = tmp / f.name
            target.write_text(f.read_bytes().decode("cp874"), encoding="utf-8")
            utf8.append(str(target))
        con.execute("create table t as select * from read_csv(?, header = true, all_varchar = true)", [utf8])
    elif fmt.kind == "ndjson":
        con.execute("create table t as select * from read_json(?, format = 'newline_delimited')", [paths])
    elif fmt.kind == "xlsx":
        _xlsx_into_duckdb(files, con)
    else:
        ops = [p for p in paths if Path(p).name.startswith("operations")]
        dels = [p for p in paths if Path(p).name.startswith("deletions")]
        con.execute("create table ops as select unnest(data, recursive := true) from read_json(?)", [ops])
        if dels:
            con.execute(
                "create table dels as select unnest(data, recursive := true) from read_json(?)", [dels]
            )


def _xlsx_into_duckdb(files: list[Path], con: duckdb.DuckDBPyConnection) -> None:
    """No excel extension offline: python-calamine reads the sheets, DuckDB ingests the rows as text."""
    import pandas as pd
    from python_calamine import CalamineWorkbook

    for f in files:
        book = CalamineWorkbook.from_path(str(f))
        for sheet in book.sheet_names:
            rows = book.get_sheet_by_name(sheet).to_python()
            width = max((len(r) for r in rows), default=0)
            frame = pd.DataFrame(
                [[None if c == "" else str(c) for c in r] + [None] * (width - len(r)) for r in rows],
                columns=[f"c{i}" for i in range(width)],
            )
            table = f"sheet_{sheet.lower()}"
            con.register("frame", frame)
            exists = con.execute(
                "select count(*) from information_schema.tables where table_name = ?", [table]
            ).fetchone()[0]
            if exists:
                con.execute(f"insert into {table} by name select * from frame")
            else:
                con.execute(f"create table {table} as select * from frame")
            con.unregister("frame")


def _duckdb_runner(fmt: Format, files: list[Path], root: Path) -> Callable[[int], dict[str, Any]]:
    def run(rep: int) -> dict[str, Any]:
        db = root / f"duckdb-{fmt.feed}-{rep}.duckdb"
        db.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="bw-ingest-") as tmp:
            started, cpu = time.perf_counter(), time.process_time()
            with TreeMemorySampler(os.getpid(), interval_s=0.02) as memory:
                con = duckdb.connect(str(db))
                try:
                    con.execute("SET autoinstall_known_extensions = false")
                    _duckdb_load(fmt, files, con, Path(tmp))
                finally:
                    con.close()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.unlink(missing_ok=True)
        return {"wall_s": elapsed, "cpu_s": cpu, "peak_rss": memory.peak_bytes}

    return run


def _inputs(ctx: Context, server: Any) -> dict[str, tuple[list[Path], int, int]]:
    """(files, rows, bytes) per feed at the ingest scale; the API as pages written by the simulator."""
    from borderwatch.simulator.scenario import write_rtp_pages

    out = {}
    target = int(os.environ.get(ROWS_ENV, "1000000"))
    for fmt in FORMATS:
        if fmt.kind == "api":
            pages_dir = (
                DATA_DIR / "rtp-pages" / f"ingest-seed{ctx.config.seed}-scale{ctx.config.ingest_scale:g}"
            )
            shutil.rmtree(pages_dir, ignore_errors=True)
            pages = write_rtp_pages(pages_dir, seed=ctx.config.seed, scale=ctx.config.ingest_scale)
            ops, tombs = server.app._scenario.rtp_state(server.app.until)
            out[fmt.feed] = (pages, len(ops) + len(tombs), sum(p.stat().st_size for p in pages))
        else:
            cached = server.app.visible_files(fmt.feed)
            amplified = DATA_DIR / "ingest" / f"{fmt.feed}-seed{ctx.config.seed}-rows{target}"
            shutil.rmtree(amplified, ignore_errors=True)
            files, rows = _amplify(
                fmt, [f.path for f in cached], sum(f.rows for f in cached), target, amplified
            )
            out[fmt.feed] = (files, rows, sum(f.stat().st_size for f in files))
    return out


def ingest_throughput(ctx: Context, target: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Rows/s, MB/s and peak RSS per format, BorderWatch vs DuckDB, alternating; ≥ 0.4× for CSV and NDJSON."""
    from benchmarks.scenario import _server

    scale = ctx.config.ingest_scale
    server = _server(ctx.config.seed, scale, None)
    root = WORK_DIR / "runs" / "ingest"
    root.mkdir(parents=True, exist_ok=True)
    table, targets, groups, figures = [], [], [], {}
    worst: tuple[float, Format, list[Path]] | None = None
    try:
        inputs = _inputs(ctx, server)
        for fmt in FORMATS:
            files, rows, size = inputs[fmt.feed]
            bw_files = [] if fmt.kind == "api" else files
            variants = {
                "borderwatch": _bw_runner(fmt, bw_files, server.url, root),
                "duckdb": _duckdb_runner(fmt, files, root),
            }
            for run in variants.values():  # warm-up: imports, page cache
                run(-1)
            samples = alternate(variants, ctx.config.reps)
            rates = {
                name: summarize([rows / s for s in column(runs, "wall_s")]) for name, runs in samples.items()
            }
            mbs = {
                name: summarize([size / MIB / s for s in column(runs, "wall_s")])
                for name, runs in samples.items()
            }
            rel = ratio(rates["borderwatch"]["median"], rates["duckdb"]["median"])
            # CPU seconds of the process (DuckDB's threads included): less sensitive than wall time to
            # what else runs on a shared machine
            cpu = {name: summarize(column(runs, "cpu_s")) for name, runs in samples.items()}
            cpu_rel = ratio(cpu["duckdb"]["median"], cpu["borderwatch"]["median"])
            figures[fmt.label] = {"rows": rows, "bytes": size, "files": len(files), "samples": samples}
            table.append(
                {
                    "format": f"{fmt.label} ({fmt.feed})",
                    "files": len(files),
                    "rows": rows,
                    "MB": size / MIB,
                    "BorderWatch rows/s": _fmt_stats(rates["borderwatch"]),
                    "DuckDB rows/s": _fmt_stats(rates["duckdb"]),
                    "BorderWatch MB/s": _fmt_stats(mbs["borderwatch"], 2),
                    "DuckDB MB/s": _fmt_stats(mbs["duckdb"], 2),
                    "ratio": rel,
                    "BorderWatch CPU s": _fmt_stats(cpu["borderwatch"], 2),
                    "DuckDB CPU s": _fmt_stats(cpu["duckdb"], 2),
                    "CPU ratio": cpu_rel,
                    "BorderWatch peak RSS MiB": max(column(samples["borderwatch"], "peak_rss")) / MIB,
                    "DuckDB peak RSS MiB": max(column(samples["duckdb"], "peak_rss")) / MIB,
                    "rows loaded (BW)": samples["borderwatch"][-1].get("rows_loaded"),
                }
            )
            groups.append(
                {
                    "label": fmt.label,
                    "bars": [
                        {"series": "BorderWatch", **rates["borderwatch"]},
                        {"series": "DuckDB", **rates["duckdb"]},
                    ],
                }
            )
            if fmt.target is not None:
                targets.append(
                    target(f"{fmt.label}: BorderWatch ÷ DuckDB rows/s", fmt.target, rel, op=">=", unit="×")
                )
                if rel is not None and rel < fmt.target and (worst is None or rel < worst[0]):
                    worst = (rel, fmt, bw_files)
        result: dict[str, Any] = {
            "name": "ingest",
            "title": "Ingest throughput per format vs DuckDB readers",
            "description": (
                f"All files of the simulator year at scale {scale:g}; CSV and NDJSON amplified to "
                f"{os.environ.get(ROWS_ENV, '1000000')} rows per format (each file's rows repeated with a "
                "key suffix). BorderWatch: drop inbox → landing → read → SQL normalise → raw table, one "
                "transaction per feed (API: paginated pull over loopback). DuckDB: read_csv "
                "(all_varchar: the files mix Khmer and ASCII digits) / read_json into a table (cp874 "
                "transcoded in Python first; XLSX via python-calamine). "
                "In-process, one warm-up each, then alternating repetitions. CPU ratio: DuckDB's CPU "
                "seconds ÷ BorderWatch's (the process's, all threads)."
            ),
            "targets": targets,
            "figures": figures,
            "table": table,
            "chart": {"title": "ingest throughput", "unit": "rows/s", "groups": groups, "log": True},
        }
        if worst is not None and ctx.config.profile:
            rel, fmt, files = worst
            profiler = cProfile.Profile()
            run = _bw_runner(fmt, files, server.url, root)
            profiler.enable()
            run(99)
            profiler.disable()
            result["profile"] = {
                "what": f"{fmt.label} BorderWatch ingest (ratio {rel:.2f}×), cProfile top-20",
                "top": profile_top(profiler),
            }
        return result
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _fmt_stats(stats: dict[str, Any], digits: int = 0) -> str:
    if stats.get("median") is None:
        return "–"
    f = f"{{:,.{digits}f}}"
    if stats.get("n", 1) <= 1:
        return f.format(stats["median"])
    return f"{f.format(stats['median'])} ({f.format(stats['min'])}–{f.format(stats['max'])})"


if __name__ == "__main__":  # measurement 3 alone: python -m benchmarks.ingest_bench [--reps n] [--out dir]
    import sys

    from benchmarks.run import run

    run(["--only", "ingest", *sys.argv[1:]])
