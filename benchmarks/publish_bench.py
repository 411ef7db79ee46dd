"""Publish at scale: time each phase of snapshot + publish + rollback on a build grown to ~10 M raw rows.

Not a test and not part of ``make bench``: run it alone (a few minutes on 2 cores)::

    python -m benchmarks.publish_bench grow     # once: a ~10 M-row home under benchmarks/work
    python -m benchmarks.publish_bench run      # time the phases: results/publish-<date>-<label>.md

``grow`` copies the small scale-2 snapshot home the main benchmark keeps (a real ``make run``-style build:
raw history, staging views, intermediate tables, marts, dbt's manifest) and multiplies, with DuckDB
``insert ... select``, the raw deportation tables, the deportation and figure-claim marts and the
intermediate tables they come from (keys made unique per copy): at 566 copies that is 10 M raw rows and
9.9 M ``fct_deportations`` rows, the shape of ``benchmarks/scale.py``'s 10 M-row night.

``run`` publishes that build as a real night does (``pipeline.snapshot`` after dbt, ``pipeline.publish``
after a passing gate), then a second night in which one mart gained 101 rows (what an incremental dbt
run changes), then a rollback, timing each function of :mod:`borderwatch.publish` it passes through
(inclusive times: a phase that calls another includes it).
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

from benchmarks.harness import RESULTS_DIR, WORK_DIR

SOURCE_HOME = WORK_DIR / "snapshots" / "seed7-scale2" / "snapshot-home"
BIG_HOME = WORK_DIR / "publish-10m" / "home"
GROWN = (  # (table, key column made unique per copy or None, family: "deportations" or "claims")
    ("raw.kh_gdi_deportations", None, "deportations"),
    ("raw.th_imm_receptions", None, "deportations"),
    ("intermediate.int_deportations_matched", None, "deportations"),
    ("marts.fct_deportations", "deportation_id", "deportations"),
    ("intermediate.int_figure_claims_unioned", None, "claims"),
    ("intermediate.int_lineage", None, "claims"),
    ("marts.fct_figure_claims", "claim_id", "claims"),
)
PHASES = (  # functions of borderwatch.publish (before and after its split) whose time is reported
    "snapshot_candidate",
    "_checkpoint",
    "_copy_and_hash",
    "write_candidate",
    "_patch",
    "declare_keys",
    "content_fingerprint",
    "dbt_dictionary",
    "publish",
    "verify_candidate",
    "_build_version",
    "build_version",
    "copy_and_hash",
    "place_and_hash",
    "_copy_build",
    "_declare_keys",
    "strip_gate_inputs",
    "refuse_unpublished_schemas",
    "published_dictionary",
    "_verify_and_export",
    "verify_and_export",
    "export_parquet",
    "relabel_parquet",
    "_link_parts",
    "_render_report",
    "render_report",
    "sha256_file",
    "_fsync_file",
    "fsync_file",
    "fsync_files",
    "_fsync_dir",
    "fsync_dir",
    "_switch_current",
    "switch_current",
    "apply_retention",
    "drop_candidate",
    "_drop_candidate",
    "rollback",
    "verify_version",
)


def grow(
    copies: int, claim_copies: int, source: Path = SOURCE_HOME, target: Path = BIG_HOME
) -> dict[str, int]:
    """A copy of ``source`` with ``copies`` times the deportation history and ``claim_copies`` the claims."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        source, target, symlinks=True, ignore=shutil.ignore_patterns("published", "candidates", "current*")
    )
    db = target / "warehouse" / "build.duckdb"
    con = duckdb.connect(str(db))
    rows: dict[str, int] = {}
    try:
        for table, key, family in GROWN:
            n = copies if family == "deportations" else claim_copies
            replace = f" replace ({key} || '~' || _copy as {key})" if key else ""
            con.execute(f"create temp table _orig as select * from {table}")
            con.execute(
                f"insert into {table} select * exclude (_copy){replace} "
                f"from _orig, range(1, {n}) as _c(_copy) order by _copy"
            )
            con.execute("drop table _orig")
            rows[table] = int(con.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[index]
            print(f"{table}: {rows[table]:,} rows", flush=True)
        con.execute("checkpoint")
    finally:
        con.close()
    rows["build_bytes"] = db.stat().st_size
    return rows


class Timer:
    """Wraps named functions in every ``borderwatch.publish`` module; sums their wall time per phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def _wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed

    @contextmanager
    def installed(self) -> Iterator[Timer]:
        modules = [m for n, m in sys.modules.items() if n.startswith("borderwatch.publish")]
        originals: list[tuple[ModuleType, str, Any]] = []
        wrapped: dict[int, Callable[..., Any]] = {}
        for module in modules:
            for name in PHASES:
                func = getattr(module, name, None)
                if callable(func):
                    wrapper = wrapped.setdefault(id(func), self._wrap(name, func))
                    originals.append((module, name, func))
                    setattr(module, name, wrapper)
        try:
            yield self
        finally:
            for module, name, func in originals:
                setattr(module, name, func)

    def take(self) -> dict[str, dict[str, float]]:
        out = {k: {"s": round(v, 3), "calls": self.calls[k]} for k, v in self.seconds.items()}
        self.seconds.clear()
        self.calls.clear()
        return out


def _night(settings: Any, timer: Timer) -> dict[str, Any]:
    from borderwatch import pipeline
    from borderwatch.gate import GateResult

    gate = GateResult(passed=True, run_id="publish-bench")
    with timer.installed():
        t0 = time.perf_counter()
        candidate = pipeline.snapshot(settings)
        t1 = time.perf_counter()
        audited = pipeline.Audited(candidate=candidate, gate=gate)
        publication = pipeline.publish(settings, audited, notify=False)
        t2 = time.perf_counter()
    fates: dict[str, int] = defaultdict(int)
    for fate in getattr(candidate, "tables", {}).values():  # what writing this night's candidate did
        fates[fate] += 1
    return {
        "tables": dict(fates),
        "snapshot_s": round(t1 - t0, 2),
        "publish_s": round(t2 - t1, 2),
        "version": publication.version,
        "unchanged": publication.unchanged,
        "phases": timer.take(),
    }


def run(home: Path = BIG_HOME) -> dict[str, Any]:
    """Night 1 (first version), night 2 (+101 rows in one mart), rollback: every phase timed."""
    import borderwatch.publish  # noqa: F401  (load every module the timer wraps)
    from borderwatch import pipeline
    from borderwatch.config import get_settings

    scratch = home.parent / "run-home"  # the grown home stays pristine: every run starts from the same bytes
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(
        home, scratch, symlinks=True, ignore=shutil.ignore_patterns("published", "candidates", "current*")
    )
    home = scratch
    settings = get_settings(home)
    settings.ensure_dirs()
    db = settings.build_db
    with duckdb.connect(str(db), read_only=True) as con:
        rows = {
            f"{s}.{t}": int(n)
            for s, t, n in con.execute(
                "select schema_name, table_name, estimated_size from duckdb_tables() "
                "where schema_name in ('raw', 'marts')"
            ).fetchall()
        }
    figures: dict[str, Any] = {
        "home": str(home),
        "build_bytes": db.stat().st_size,
        "raw_rows": sum(n for k, n in rows.items() if k.startswith("raw.") and not k.startswith("raw._")),
        "mart_rows": sum(n for k, n in rows.items() if k.startswith("marts.")),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    timer = Timer()
    figures["night_1"] = _night(settings, timer)
    with duckdb.connect(str(db)) as con:  # what an incremental dbt run changes: one mart, 101 rows
        con.execute(
            "insert into marts.fct_deportations select * replace "
            "(deportation_id || '~night' as deportation_id) from marts.fct_deportations limit 101"
        )
    figures["night_2"] = _night(settings, timer)
    figures["night_3_nothing_new"] = _night(settings, timer)
    with timer.installed():
        t0 = time.perf_counter()
        pipeline.rollback(settings)
        figures["rollback"] = {"s": round(time.perf_counter() - t0, 2), "phases": timer.take()}
    version_dir = settings.published_dir / figures["night_2"]["version"]
    figures["version_bytes"] = sum(p.stat().st_size for p in version_dir.rglob("*") if p.is_file())
    return figures


def markdown(figures: dict[str, Any], label: str) -> str:
    lines = [
        f"# Publish phases ({label}, {figures['started']})",
        "",
        f"Home `{figures['home']}`: build file {figures['build_bytes'] / 1e9:.2f} GB, "
        f"{figures['raw_rows']:,} raw rows, {figures['mart_rows']:,} mart rows; "
        f"a version is {figures['version_bytes'] / 1e9:.2f} GB. Wall seconds, inclusive (a phase includes "
        "the phases it calls).",
        "",
        "| phase | night 1 (first version) | night 2 (+101 rows) | night 3 (nothing new) | rollback |",
        "|---|---|---|---|---|",
    ]
    runs = [figures["night_1"], figures["night_2"], figures["night_3_nothing_new"], figures["rollback"]]
    lines.append(
        "| **snapshot (in build)** | " + " | ".join(f"{r['snapshot_s']:.2f}" for r in runs[:3]) + " | |"
    )
    publish_cells = " | ".join(f"{r['publish_s']:.2f}" for r in runs[:3])
    lines.append(f"| **publish** | {publish_cells} | {runs[3]['s']:.2f} |")
    fates = [", ".join(f"{n} {f}" for f, n in sorted(r.get("tables", {}).items())) for r in runs[:3]]
    lines.append("| candidate tables | " + " | ".join(fates) + " | |")
    for name in PHASES:
        cells = []
        for r in runs:
            p = r["phases"].get(name)
            cells.append(f"{p['s']:.2f} ({p['calls']}×)" if p else "")
        if any(cells):
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grow")
    g.add_argument("--copies", type=int, default=566)
    g.add_argument("--claim-copies", type=int, default=180)
    g.add_argument("--target", type=Path, default=BIG_HOME)
    r = sub.add_parser("run")
    r.add_argument("--home", type=Path, default=BIG_HOME)
    r.add_argument("--label", default="10M")
    ns = parser.parse_args(argv)
    if ns.cmd == "grow":
        print(json.dumps(grow(ns.copies, ns.claim_copies, target=ns.target), indent=2))
        return 0
    figures = run(ns.home)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    out = RESULTS_DIR / f"publish-{stamp}-{ns.label}.md"
    out.write_text(markdown(figures, ns.label), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
