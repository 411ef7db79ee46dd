"""Benchmark workers: each runs one measured job in a fresh interpreter and writes its figures as JSON.

A fresh process per job means nothing stays warm between repetitions (imports, caches, open DuckDB
handles), the nightly refresh pays its real start-up cost, and the harness can sample the memory of the
whole process tree. Called by :func:`benchmarks.harness.run_worker`; not meant to be run by hand.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Figures = dict[str, Any]


@contextmanager
def _profiled(enabled: bool, sink: Figures, key: str, top: int = 20) -> Iterator[None]:
    """cProfile a block when asked and keep its top functions by cumulative time (for missed targets)."""
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        sink[key] = profile_top(profiler, top)


def profile_top(profiler: cProfile.Profile, top: int = 20) -> list[dict[str, Any]]:
    """The ``top`` functions by cumulative time, as JSON-friendly rows."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short_path(filename)}:{line}({func})",
                "ncalls": ncalls,
                "tottime_s": round(tottime, 4),
                "cumtime_s": round(cumtime, 4),
            }
        )
    rows.sort(key=lambda r: r["cumtime_s"], reverse=True)
    return rows[:top]


def _short_path(filename: str) -> str:
    """Site-packages and repo paths shortened so profile rows stay readable."""
    for marker in ("site-packages/", "/src/", "/benchmarks/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _settings(home: str, simulator_url: str | None) -> Any:
    from dataclasses import replace

    from borderwatch.config import get_settings

    settings = get_settings(home)
    if simulator_url:
        settings = replace(settings, simulator_url=simulator_url.rstrip("/"))
    settings.ensure_dirs()
    return settings


def cmd_refresh(ns: argparse.Namespace) -> Figures:
    """BorderWatch's nightly refresh (``borderwatch.pipeline``), step by step with per-step timings.

    Same calls, in the same order, as ``pipeline.refresh``; timing them separately is what lets a missed
    target name its slowest step.
    """
    t0 = time.perf_counter()
    from borderwatch import gate, pipeline

    figures: Figures = {"steps": {}, "import_s": time.perf_counter() - t0}
    settings = _settings(ns.home, ns.simulator_url)
    gate.warm_up()  # as pipeline.refresh does: GX imports in a worker process during ingest and build
    steps: dict[str, Callable[[], Any]] = {}
    state: dict[str, Any] = {}
    steps["ingest"] = lambda: state.__setitem__("loads", pipeline.ingest(settings))
    steps["build"] = lambda: state.__setitem__(
        "build", pipeline.build(settings, full_refresh=ns.full_refresh)
    )
    steps["audit"] = lambda: state.__setitem__("gate", pipeline.audit(settings, state["build"]))
    steps["publish"] = lambda: state.__setitem__("publication", pipeline.publish(settings, state["gate"]))
    spans: dict[str, list[float]] = figures.setdefault("step_spans", {})  # epoch windows: per-step RSS
    for name, step in steps.items():
        started = time.perf_counter()
        spans[name] = [time.time(), 0.0]
        try:
            with _profiled(ns.profile_step == name, figures, "profile"):
                step()
        except pipeline.PublicationBlocked as exc:
            # Still a complete refresh for timing purposes: the gate ran and refused. Reported, not hidden.
            figures["blocked"] = str(exc)[:2000]
            state["publication"] = None
        figures["steps"][name] = time.perf_counter() - started
        spans[name][1] = time.time()
    _split_build_span(spans, state["build"])
    figures["refresh_s"] = sum(figures["steps"].values())
    figures["new_rows"] = sum(getattr(r, "rows_loaded", 0) or 0 for r in state["loads"])
    figures["loads"] = [_load_summary(r) for r in state["loads"]]
    build = state["build"]
    figures["build"] = {
        "ok": getattr(build, "ok", None),
        "elapsed_s": getattr(build, "elapsed_s", None),
        "row_counts": getattr(build, "row_counts", {}),
        "nodes": _node_timings(_run_results(build)),
    }
    verdict = state["gate"].gate if hasattr(state["gate"], "gate") else state["gate"]
    figures["gate"] = {
        "passed": verdict.passed,
        "blocking_failures": list(getattr(verdict, "blocking_failures", [])),
        "timings": dict(getattr(verdict, "timings", {}) or {}),
        "checks": len(getattr(verdict, "checks", []) or []),
    }
    figures["published_version"] = getattr(state["publication"], "version", None)
    return figures


def _split_build_span(spans: dict[str, list[float]], built: Any) -> None:
    """The build step's window cut in two: dbt (its own elapsed time from the start), then the candidate."""
    dbt_s = getattr(getattr(built, "build", None), "elapsed_s", None)
    if "build" in spans and dbt_s:
        start, end = spans["build"]
        spans["build: dbt"] = [start, min(end, start + dbt_s)]
        spans["build: candidate"] = [min(end, start + dbt_s), end]


def cmd_build(ns: argparse.Namespace) -> Figures:
    """One ``dbt build`` (``--full-refresh`` for a full rebuild) on a home's build file, nothing else."""
    t0 = time.perf_counter()
    from borderwatch.warehouse import build_warehouse

    import_s = time.perf_counter() - t0
    settings = _settings(ns.home, None)
    with _profiled(ns.profile_step == "build", figures := {}, "profile"):
        build = build_warehouse(settings, full_refresh=ns.full_refresh)
    figures.update(
        {
            "import_s": import_s,
            "build_s": time.perf_counter() - t0 - import_s,
            "ok": build.ok,
            "failed_nodes": build.failed_nodes[:20],
            "row_counts": build.row_counts,
            "nodes": _node_timings(_run_results(build)),
        }
    )
    return figures


def cmd_parse(ns: argparse.Namespace) -> Figures:
    """``dbt parse`` of a home (untimed warm-up: leaves partial_parse.msgpack for runs at this path)."""
    t0 = time.perf_counter()
    from borderwatch.warehouse import parse_project

    parse_project(_settings(ns.home, None))
    return {"parse_s": time.perf_counter() - t0}


def _load_summary(report: Any) -> dict[str, Any]:
    data = report.as_dict() if hasattr(report, "as_dict") else dict(vars(report))
    keep = (
        "feed",
        "status",
        "rows_loaded",
        "rows_in",
        "rows_quarantined",
        "rows_duplicate",
        "files",
        "seconds",
    )
    return {k: data[k] for k in keep if k in data and not isinstance(data[k], list | dict)}


def _run_results(build: Any) -> list[dict[str, Any]]:
    """dbt's run_results.json (it has per-node execute windows); the BuildResult's summary otherwise."""
    path = getattr(build, "run_results_path", None)
    if path and Path(path).is_file():
        return json.loads(Path(path).read_text(encoding="utf-8")).get("results", [])
    return list(getattr(build, "results", None) or [])


def _node_timings(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-node execution windows from dbt's run results (what the gate-cost measurement needs)."""
    nodes = []
    for node in results:
        unique_id = node.get("unique_id", "")
        execute = next((t for t in node.get("timing", []) or [] if t.get("name") == "execute"), None)
        nodes.append(
            {
                "unique_id": unique_id,
                "resource_type": unique_id.split(".", 1)[0] or node.get("resource_type"),
                "status": node.get("status"),
                "execution_time": node.get("execution_time"),
                "started_at": (execute or {}).get("started_at"),
                "completed_at": (execute or {}).get("completed_at"),
            }
        )
    return nodes


def cmd_reference(ns: argparse.Namespace) -> Figures:
    """The hand-written DuckDB script on one night's files (see ``benchmarks/reference.py``)."""
    t0 = time.perf_counter()
    from benchmarks.reference import run_reference

    import_s = time.perf_counter() - t0
    files = json.loads(Path(ns.files).read_text(encoding="utf-8"))
    with _profiled(ns.profile_step == "reference", figures := {}, "profile"):
        figures.update(run_reference(Path(ns.db), files))
    figures["import_s"] = import_s
    return figures


def cmd_startup_python(ns: argparse.Namespace) -> Figures:
    """Baseline: interpreter plus the borderwatch package, which every other start-up figure includes."""
    t0 = time.perf_counter()
    import borderwatch.config  # noqa: F401

    return {"import_s": time.perf_counter() - t0}


def cmd_startup_dbt(ns: argparse.Namespace) -> Figures:
    """dbt's fixed cost: import, project parse (partial parse when warm) and adapter set-up, no models."""
    t0 = time.perf_counter()
    from dbt.cli.main import dbtRunner

    t1 = time.perf_counter()
    project = Path(ns.project_dir)
    os.environ["BORDERWATCH_BUILD_DB"] = str(Path(ns.db))
    args = [
        "build",
        "--select",
        "tag:__benchmark_no_such_tag__",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        ns.target_path,
        "--log-path",
        ns.target_path,
        "--quiet",
    ]
    result = dbtRunner().invoke(args)
    t2 = time.perf_counter()
    if not result.success and result.exception is not None:
        raise RuntimeError(f"dbt no-op build failed: {result.exception}")
    return {"import_s": t1 - t0, "invoke_s": t2 - t1, "total_s": t2 - t0}


def cmd_startup_gx(ns: argparse.Namespace) -> Figures:
    """Great Expectations' fixed cost: import, an ephemeral context and one trivial validation."""
    t0 = time.perf_counter()
    import great_expectations as gx
    import pandas as pd

    t1 = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    t2 = time.perf_counter()
    source = context.data_sources.add_pandas("benchmark")
    batch_definition = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("all")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": pd.DataFrame({"x": [1, 2, 3]})})
    outcome = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="x"))
    t3 = time.perf_counter()
    if not outcome.success:
        raise RuntimeError("GX trivial validation unexpectedly failed")
    return {"import_s": t1 - t0, "context_s": t2 - t1, "validate_s": t3 - t2, "total_s": t3 - t0}


def cmd_startup_airflow(ns: argparse.Namespace) -> Figures:
    """Airflow's fixed cost as the dag-processor pays it: import Airflow, then fill a DagBag from dags/."""
    t0 = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    t1 = time.perf_counter()
    bag = DagBag(dag_folder=ns.dags_folder)
    t2 = time.perf_counter()
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return {"import_s": t1 - t0, "dagbag_s": t2 - t1, "total_s": t2 - t0, "dags": len(bag.dags)}


def cmd_dagparse(ns: argparse.Namespace) -> Figures:
    """Parse one DAG file the way the dag-processor does: Airflow already imported, then the file.

    ``parse_s`` is the DagBag's own per-file figure (what Airflow reports and times out on); ``cold_s`` adds
    the ``airflow.sdk`` import the first file in a fresh process pays.
    """
    t0 = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    t1 = time.perf_counter()
    import airflow.sdk  # noqa: F401  (pre-imported by the dag-processor: parsing_pre_import_modules)

    t2 = time.perf_counter()
    bag = DagBag(dag_folder=ns.file)
    t3 = time.perf_counter()
    if bag.import_errors:
        raise RuntimeError(f"{ns.file}: import errors: {bag.import_errors}")
    stat = bag.dagbag_stats[0] if bag.dagbag_stats else None
    return {
        "airflow_import_s": t1 - t0,
        "sdk_import_s": t2 - t1,
        "parse_s": stat.duration.total_seconds() if stat else t3 - t2,
        "dagbag_s": t3 - t2,
        "cold_s": t3 - t1,
        "dags": sorted(bag.dags),
    }


def cmd_dags_test(ns: argparse.Namespace) -> Figures:
    """The full nightly DAG through ``airflow dags test`` (borderwatch.orchestration.local)."""
    from borderwatch.orchestration.local import airflow_env, ensure_metadata_db, run_nightly_in_process

    settings = _settings(ns.home, ns.simulator_url)
    airflow_home = Path(ns.airflow_home)
    t0 = time.perf_counter()
    migrated = ensure_metadata_db(
        airflow_env(settings, airflow_home=airflow_home, simulator_url=ns.simulator_url)
    )
    t1 = time.perf_counter()
    result = run_nightly_in_process(
        settings, simulator_url=ns.simulator_url, airflow_home=airflow_home, echo=False
    )
    t2 = time.perf_counter()
    if not result.get("ok"):
        raise RuntimeError(f"airflow dags test failed: {str(result.get('error'))[-2000:]}")
    return {
        "db_migrate_s": t1 - t0,
        "migrated": migrated,
        "dags_test_s": t2 - t1,
        "new_rows": result.get("new_rows"),
        "version": result.get("version"),
    }


COMMANDS: dict[str, Callable[[argparse.Namespace], Figures]] = {
    "refresh": cmd_refresh,
    "build": cmd_build,
    "parse": cmd_parse,
    "reference": cmd_reference,
    "startup-python": cmd_startup_python,
    "startup-dbt": cmd_startup_dbt,
    "startup-gx": cmd_startup_gx,
    "startup-airflow": cmd_startup_airflow,
    "dagparse": cmd_dagparse,
    "dags-test": cmd_dags_test,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--out", required=True, help="JSON file the figures are written to")
    parser.add_argument("--home", help="BORDERWATCH_HOME of the run")
    parser.add_argument("--simulator-url")
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--profile-step", help="cProfile this step and keep its top-20 functions")
    parser.add_argument("--db", help="DuckDB file (reference script, dbt no-op target)")
    parser.add_argument("--files", help="JSON file: the reference script's input files per feed")
    parser.add_argument("--project-dir")
    parser.add_argument("--target-path")
    parser.add_argument("--dags-folder")
    parser.add_argument("--file", help="one DAG file")
    parser.add_argument("--airflow-home")
    return parser


def main(argv: list[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    if ns.home:
        os.environ["BORDERWATCH_HOME"] = ns.home
    if ns.simulator_url:
        os.environ["BORDERWATCH_SIMULATOR_URL"] = ns.simulator_url
    figures = COMMANDS[ns.command](ns)
    Path(ns.out).write_text(json.dumps(figures, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
