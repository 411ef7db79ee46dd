"""``make bench``: run the BorderWatch benchmarks and write ``benchmarks/results/<date>.{json,md,png}``.

    python -m benchmarks.run                      # default scales, ~15 min on 2 cores
    python -m benchmarks.run --quick              # smoke run: scale 1, 1 repetition, no growth/dags test
    python -m benchmarks.run --only ingest --reps 5
    python -m benchmarks.run --scales 4,40 --reps 3   # smallest = 1× history, largest = the growth history

Measurements: startup (fixed overhead), refresh (1), growth (2), ingest (3), gate (4), dags (5), memory (6).
A measurement that cannot run (a missing piece of the pipeline) is reported as "not run" and the others
go on.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
import traceback
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks.context import BenchConfig, Context
from benchmarks.harness import GIB, RESULTS_DIR, WORK_DIR
from benchmarks.measurements import MEASUREMENTS, dump_paths, plan_for
from benchmarks.report import write_reports

DEFAULT_SCALES = (2.0, 11.0)  # ~19k vs ~190k history rows: the simulator scale is not linear in rows
QUICK_SCALES = (1.0,)
DEFAULT_REPS = 3


def parse_scales(text: str) -> tuple[float, ...]:
    """'4,40' → (4.0, 40.0); the smallest is the 1× history of the growth measurement."""
    try:
        scales = tuple(sorted({float(s) for s in text.split(",") if s.strip()}))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--scales: expected comma-separated numbers, got {text!r}") from exc
    if not scales or min(scales) <= 0:
        raise argparse.ArgumentTypeError(f"--scales: expected positive numbers, got {text!r}")
    return scales


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--scales", type=parse_scales, help=f"history scales (default {DEFAULT_SCALES})")
    p.add_argument("--reps", type=int, help=f"repetitions per variant (default {DEFAULT_REPS}; --quick: 1)")
    p.add_argument("--quick", action="store_true", help="smoke run: scale 1 only, 1 repetition, no dags test")
    p.add_argument(
        "--only", action="append", choices=sorted(MEASUREMENTS), help="run only these (repeatable)"
    )
    p.add_argument(
        "--skip", action="append", choices=sorted(MEASUREMENTS), default=[], help="leave these out"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--ingest-scale", type=float, help="simulator scale of the ingest files (default: smallest)"
    )
    p.add_argument("--no-profile", action="store_true", help="no extra profiled run when a target is missed")
    p.add_argument(
        "--dags-test",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also time `airflow dags test` of the nightly DAG (default: on, off with --quick)",
    )
    p.add_argument("--out", default=str(RESULTS_DIR), help="results directory")
    return p


def config_from(ns: argparse.Namespace) -> BenchConfig:
    scales = ns.scales or (QUICK_SCALES if ns.quick else DEFAULT_SCALES)
    reps = ns.reps or (1 if ns.quick else DEFAULT_REPS)
    return BenchConfig(
        scales=scales,
        reps=reps,
        quick=ns.quick,
        seed=ns.seed,
        profile=not ns.no_profile,
        startup_reps=1 if ns.quick else DEFAULT_REPS,
        dag_reps=1 if ns.quick else DEFAULT_REPS,
        ingest_scale=ns.ingest_scale or min(scales),
        dags_test=ns.dags_test if ns.dags_test is not None else not ns.quick,
    )


def _versions() -> str:
    names = ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "apache-airflow")
    out = []
    for name in names:
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(out)


def _machine() -> str:
    import psutil

    cpu = platform.processor() or platform.machine()
    ram = psutil.virtual_memory().total / GIB
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs ({cpu}), {ram:.1f} GiB RAM, Python {platform.python_version()}, {system}"


def run(argv: list[str] | None = None) -> dict[str, Any]:
    ns = parser().parse_args(argv)
    config = config_from(ns)
    names = [n for n in (ns.only or list(MEASUREMENTS)) if n not in ns.skip]
    names.sort(key=lambda n: MEASUREMENTS[n][0])
    ctx = Context(config)
    ctx.plan = plan_for(names, ctx)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    (WORK_DIR / "worker.log").write_text("", encoding="utf-8")
    os.environ.setdefault("BORDERWATCH_HOME", str(WORK_DIR / "home"))  # nothing may touch ./var
    started = time.perf_counter()
    results = []
    try:
        for name in names:
            number, fn, _planner = MEASUREMENTS[name]
            print(f"[bench] {name} ...", flush=True)
            t0 = time.perf_counter()
            try:
                result = fn(ctx)
            except Exception as exc:  # one missing piece must not sink the other measurements
                traceback.print_exc()
                result = {
                    "name": name,
                    "title": name,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc()[-4000:],
                }
            result["number"] = number
            result["elapsed_s"] = time.perf_counter() - t0
            results.append(dump_paths(result))
            print(f"[bench] {name} done in {result['elapsed_s']:.1f} s", flush=True)
    finally:
        ctx.close()
    meta = {
        "date": date.today().isoformat(),
        "quick": config.quick,
        "argv": shlex.join(["python", "-m", "benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "scales": list(config.scales),
        "reps": config.reps,
        "seed": config.seed,
        "machine": _machine(),
        "versions": _versions(),
        "elapsed_s": time.perf_counter() - started,
        "scenarios": {
            f"{s:g}": {
                "night": str(sc.night),
                "history_rows": sc.history_rows,
                "night_rows": sc.night_rows,
                "setup": sc.setup,
            }
            for s, sc in ctx.scenarios.items()
        },
    }
    report = {"meta": meta, "measurements": results}
    stem = meta["date"] + ("-quick" if config.quick else "")
    paths = write_reports(report, Path(ns.out), stem)
    print(f"[bench] wrote {', '.join(str(p) for p in paths.values())} in {meta['elapsed_s']:.0f} s")
    return report


def main() -> int:
    report = run()
    missed = [
        t["what"] for r in report["measurements"] for t in r.get("targets", []) if t.get("met") is False
    ]
    errors = [r["name"] for r in report["measurements"] if r.get("error")]
    if missed:
        print(f"[bench] targets missed: {'; '.join(missed)}")
    if errors:
        print(f"[bench] not run: {', '.join(errors)}")
    return 0  # a benchmark reports figures; it does not fail the build


if __name__ == "__main__":
    sys.exit(main())
