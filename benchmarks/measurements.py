"""The measurements: each is a function ``(Context) -> dict`` that can run alone (``--only <name>``).

A result dict carries ``targets`` (what, target, measured, met), a ``table`` for the Markdown report, a
``chart`` for the PNG and, where a target is missed, a ``profile`` of the slowest step. Figures are always
median (min–max) over interleaved repetitions.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.context import Context, NightlyKey
from benchmarks.harness import (
    GIB,
    MIB,
    REPO_ROOT,
    WORK_DIR,
    alternate,
    column,
    ratio,
    run_worker,
    summarize,
)

Result = dict[str, Any]
STEPS = ("ingest", "build", "audit", "publish")


def target(
    what: str, limit: float, measured: float | None, *, op: str = "<=", unit: str = "", digits: int = 2
) -> dict[str, Any]:
    """One target with its verdict; ``met`` is None when the figure could not be measured."""
    met = None if measured is None else (measured <= limit if op == "<=" else measured >= limit)
    sign = "≤" if op == "<=" else "≥"
    display = "–" if measured is None else f"{measured:.{digits}f}{unit}"
    return {
        "what": what,
        "target": f"{sign} {limit:.4g}{unit}",
        "limit": limit,
        "op": op,
        "measured": measured,
        "display": display,
        "met": met,
    }


def _bar(series: str, stats: Mapping[str, Any]) -> dict[str, Any]:
    return {"series": series, "median": stats.get("median"), "min": stats.get("min"), "max": stats.get("max")}


def _spread(stats: Mapping[str, Any], digits: int = 2, scale: float = 1.0) -> str:
    if stats.get("median") is None:
        return "–"
    med, lo, hi = (stats[k] / scale for k in ("median", "min", "max"))
    if stats.get("n", 1) <= 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def _step_stats(samples: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        step: summarize([s["steps"][step] for s in samples if step in s.get("steps", {})]) for step in STEPS
    }


def _slowest_step_profile(
    ctx: Context, scale: float, samples: Sequence[Mapping[str, Any]], why: str
) -> Result:
    """Per-step timings plus cProfile top-20 of the slowest step (one extra, profiled refresh)."""
    steps = {k: v["median"] for k, v in _step_stats(samples).items() if v["median"] is not None}
    profile: Result = {"what": f"nightly refresh at scale {scale:g} ({why})", "steps": steps}
    if not steps:
        return profile
    slowest = max(steps, key=lambda k: steps[k])
    profile["slowest_step"] = slowest
    key = f"profile:{scale}:{slowest}"
    if ctx.config.profile and key not in ctx.cache:
        scenario = ctx.scenario(scale)
        scenario.set_clock(scenario.night)
        home = scenario.fresh_home("profile")
        figures = run_worker(
            "refresh", ["--home", str(home), "--simulator-url", scenario.url, "--profile-step", slowest]
        )
        ctx.cache[key] = figures.get("profile", [])
    if key in ctx.cache:
        profile["what"] += f"; cProfile top-20 of `{slowest}` by cumulative time"
        profile["top"] = ctx.cache[key]
    return profile


# ------------------------------------------------------------------------------------------ start-up


def measure_startup(ctx: Context) -> Result:
    """Fixed cost of the frameworks, each in a fresh interpreter: dbt no-op build, GX, Airflow DagBag."""
    if "startup" in ctx.cache:
        return ctx.cache["startup"]
    work = WORK_DIR / "startup"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dbt_args = [
        "--project-dir",
        str(REPO_ROOT / "dbt_project"),
        "--target-path",
        str(work / "dbt-target"),
        "--db",
        str(work / "noop.duckdb"),
    ]
    cold_dbt = run_worker("startup-dbt", dbt_args)  # first run: full project parse, no partial-parse state
    variants: dict[str, Callable[[int], Mapping[str, Any]]] = {
        "python": lambda _rep: run_worker("startup-python"),
        "dbt": lambda _rep: run_worker("startup-dbt", dbt_args),
        "gx": lambda _rep: run_worker("startup-gx"),
        "airflow": lambda _rep: run_worker("startup-airflow", ["--dags-folder", str(REPO_ROOT / "dags")]),
    }
    samples = alternate(variants, ctx.config.startup_reps)
    stats = {name: summarize(column(s, "wall_s")) for name, s in samples.items()}
    fixed = sum(stats[k]["median"] for k in ("dbt", "gx", "airflow"))
    pipeline_fixed = stats["dbt"]["median"] + stats["gx"]["median"]
    details = {
        "dbt": "`dbt build` on an empty selection via dbtRunner (import, partial parse, adapter)",
        "gx": "import, ephemeral context, one ExpectColumnValuesToNotBeNull on a 3-row frame",
        "airflow": "import Airflow + DagBag over dags/",
        "python": "interpreter + `import borderwatch.config` (included in every other row)",
    }
    table = [
        {
            "component": name,
            "what": details[name],
            "wall s": _spread(stats[name]),
            "import s": _spread(summarize(column(samples[name], "import_s"))),
        }
        for name in ("dbt", "gx", "airflow", "python")
    ]
    table.append(
        {
            "component": "dbt (cold)",
            "what": "first invocation: full parse, no partial_parse.msgpack",
            "wall s": f"{cold_dbt['wall_s']:.2f}",
            "import s": f"{cold_dbt['import_s']:.2f}",
        }
    )
    result: Result = {
        "name": "startup",
        "title": "Fixed start-up overhead (dbt, GX, Airflow)",
        "description": "Each component in a fresh interpreter, alternating; wall time of the process.",
        "targets": [target("dbt + GX + Airflow start-up", 20.0, fixed, unit=" s")],
        "figures": {
            "stats": stats,
            "cold_dbt": cold_dbt,
            "fixed_s": fixed,
            "pipeline_fixed_s": pipeline_fixed,
            "samples": samples,
        },
        "table": table,
        "notes": [f"The plain refresh (no Airflow) pays dbt + GX: {pipeline_fixed:.1f} s."],
        "chart": {
            "title": "start-up (fresh process)",
            "unit": "s",
            "groups": [
                {"label": n, "bars": [_bar("wall", stats[n])]} for n in ("dbt", "gx", "airflow", "python")
            ],
        },
    }
    if fixed > 20.0:
        slowest = max(("dbt", "gx", "airflow"), key=lambda k: stats[k]["median"])
        result["profile"] = {
            "what": f"start-up components (slowest: {slowest})",
            "steps": {k: stats[k]["median"] for k in ("dbt", "gx", "airflow")},
        }
    ctx.cache["startup"] = result
    return result


# ------------------------------------------------------------------------------------ nightly refresh


def refresh_plan(ctx: Context) -> set[NightlyKey]:
    return {("bw", ctx.config.smallest), ("ref", ctx.config.smallest)}


def measure_refresh(ctx: Context) -> Result:
    """1. BorderWatch's nightly refresh against the hand-written DuckDB script, same increment, same marts."""
    keys = sorted(refresh_plan(ctx))
    samples = ctx.nightly_samples(keys)
    startup = measure_startup(ctx)
    # The refresh pays dbt's warm start-up, and of GX only what its warm worker (started before ingest)
    # had not finished importing when the audit began (``gx_wait_s``, recorded by the gate).
    gx_wait = max(
        (float((s.get("gate") or {}).get("timings", {}).get("gx_wait_s", 0.0)) for s in samples[keys[0]]),
        default=0.0,
    )
    fixed = startup["figures"]["stats"]["dbt"]["median"] + gx_wait
    table, groups, targets, checks = [], [], [], {}
    worst: tuple[float, float] | None = None
    for scale in (ctx.config.smallest,):
        bw, ref = samples[("bw", scale)], samples[("ref", scale)]
        bw_wall, ref_wall = summarize(column(bw, "wall_s")), summarize(column(ref, "wall_s"))
        scenario = ctx.scenario(scale)
        checks[scale] = scenario.compare_marts()
        r = ratio(bw_wall["median"], ref_wall["median"])
        net = ratio((bw_wall["median"] or 0) - fixed, ref_wall["median"])
        table.append(
            {
                "history scale": f"{scale:g}",
                "history rows": scenario.history_rows,
                "night rows": scenario.night_rows,
                "BorderWatch s": _spread(bw_wall),
                "reference s": _spread(ref_wall),
                "ratio": r,
                "ratio minus fixed": net,
                "marts identical": checks[scale]["identical"],
            }
        )
        groups.append(
            {"label": f"scale {scale:g}", "bars": [_bar("BorderWatch", bw_wall), _bar("reference", ref_wall)]}
        )
        allowance = 1.5 * (ref_wall["median"] or 0) + 20.0
        targets.append(target(f"scale {scale:g}: BorderWatch ÷ reference", 1.5, r, unit="×"))
        targets.append(
            target(
                f"scale {scale:g}: BorderWatch s vs 1.5 × ref + 20 s", allowance, bw_wall["median"], unit=" s"
            )
        )
        if r is not None and (worst is None or r > worst[0]):
            worst = (r, scale)
    targets.append(target("fixed start-up (dbt + GX) of the refresh", 6.0, fixed, unit=" s"))
    step_rows = []
    for scale in (ctx.config.smallest,):
        st = _step_stats(samples[("bw", scale)])
        step_rows.append(
            {
                "history scale": f"{scale:g}",
                **{f"{k} s": _spread(v) for k, v in st.items()},
                "reference steps": ", ".join(
                    f"{k} {v:.2f}s" for k, v in samples[("ref", scale)][-1].get("steps", {}).items()
                ),
            }
        )
    result: Result = {
        "name": "refresh",
        "title": "Nightly refresh vs the hand-written limit",
        "description": (
            "One day's increment on top of a year of history: BorderWatch (`borderwatch.pipeline`: pull from "
            "the simulator, land, load, dbt build, gate, publish; fresh process per run) against "
            "`benchmarks/reference_pipeline.sql` run through the duckdb Python API on the same files "
            "(fresh process per run). The reference covers fct_deportations and fct_telecom_actions; "
            "the check compares their business columns with EXCEPT ALL both ways."
        ),
        "targets": targets,
        "figures": {
            "samples": {f"{k}@{s:g}": v for (k, s), v in samples.items()},
            "mart_checks": checks,
            "fixed_s": fixed,
        },
        "tables": [table, step_rows],
        "notes": [
            f"Fixed start-up of the plain refresh: {fixed:.1f} s = dbt's warm no-op build "
            f"(partial parse at a stable path) + {gx_wait:.1f} s of GX import not hidden by its worker.",
            *_blocked_notes(samples),
        ],
        "chart": {"title": "nightly refresh wall time", "unit": "s", "groups": groups},
    }
    if any(t["met"] is False for t in targets) and worst is not None:
        result["profile"] = _slowest_step_profile(
            ctx, worst[1], samples[("bw", worst[1])], "ratio target missed"
        )
    return result


def _blocked_notes(samples: Mapping[NightlyKey, Sequence[Mapping[str, Any]]]) -> list[str]:
    """Say so when the gate refused a run: the refresh was timed in full but nothing was published."""
    notes = []
    for (kind, scale), runs in sorted(samples.items()):
        blocked = [r for r in runs if r.get("blocked")]
        if blocked:
            failures = ", ".join((blocked[-1].get("gate") or {}).get("blocking_failures", [])[:5])
            notes.append(
                f"{kind}@{scale:g}: the quality gate blocked publication in {len(blocked)}/{len(runs)} runs "
                f"(publish step refused, timed as such). Failing checks: {failures}."
            )
    return notes


def growth_plan(ctx: Context) -> set[NightlyKey]:
    if ctx.config.smallest == ctx.config.largest:
        return set()
    return {("bw", ctx.config.smallest), ("grow", ctx.config.largest)}


def measure_growth(ctx: Context) -> Result:
    """2. The same one-day increment on a small and a 10× larger history (incremental models: no change)."""
    small, large = ctx.config.smallest, ctx.config.largest
    if small == large:
        raise ValueError("growth needs two history scales (e.g. --scales 2,11); --quick runs one")
    samples = ctx.nightly_samples(sorted(growth_plan(ctx)))
    s_small, s_large = samples[("bw", small)], samples[("grow", large)]
    w_small, w_large = summarize(column(s_small, "wall_s")), summarize(column(s_large, "wall_s"))
    g = ratio(w_large["median"], w_small["median"])
    history = {s: ctx.scenario(s).history_rows for s in (small, large)}
    st_small, st_large = _step_stats(s_small), _step_stats(s_large)
    table = [
        {
            "history": f"scale {s:g} ({history[s]:,} rows)",
            "refresh s": _spread(w),
            **{f"{k} s": _spread(v) for k, v in st.items()},
        }
        for s, w, st in ((small, w_small, st_small), (large, w_large, st_large))
    ]
    result: Result = {
        "name": "growth",
        "title": "Growth: same increment on 1× and 10× history",
        "description": (
            f"History of scale {small:g} vs {large:g} "
            f"(×{ratio(history[large], history[small]) or 0:.1f} rows); the increment is identical in both: "
            f"the last day of the scale-{small:g} simulator, pulled over HTTP in both cases (the large "
            "history's home is pointed at the small scale's simulator for the night). The 1× runs are "
            "measurement 1's BorderWatch runs, interleaved with these."
        ),
        "targets": [target(f"refresh on {large / small:g}× history ÷ on 1× history", 1.2, g, unit="×")],
        "figures": {"samples": {f"{k}@{s:g}": v for (k, s), v in samples.items()}, "history_rows": history},
        "table": table,
        "notes": _blocked_notes(samples),
        "chart": {
            "title": "same increment, growing history",
            "unit": "s",
            "groups": [
                {"label": f"history ×{s / small:g}", "bars": [_bar("refresh", w)]}
                for s, w in ((small, w_small), (large, w_large))
            ],
        },
    }
    if g is not None and g > 1.2:
        growth_by_step = {k: ratio(st_large[k]["median"], st_small[k]["median"]) for k in STEPS}
        slowest = max(STEPS, key=lambda k: (st_large[k]["median"] or 0) - (st_small[k]["median"] or 0))
        result["profile"] = {
            "what": f"per-step growth (large ÷ small); `{slowest}` grew most in seconds",
            "steps": {f"{k} ×": v for k, v in growth_by_step.items() if v is not None},
            "top": _slowest_models(s_large),
        }
    return result


def _slowest_models(samples: Sequence[Mapping[str, Any]], top: int = 20) -> list[dict[str, Any]]:
    """dbt nodes by execution time in the last sample: where a growing build spends its time."""
    nodes = (samples[-1].get("build") or {}).get("nodes", []) if samples else []
    rows = [{"node": n["unique_id"], "seconds": n.get("execution_time") or 0.0} for n in nodes]
    return sorted(rows, key=lambda r: r["seconds"], reverse=True)[:top]


# ---------------------------------------------------------------------------------------------- gate


def _union_seconds(windows: Sequence[tuple[datetime, datetime]]) -> float:
    """Wall time covered by possibly overlapping intervals (dbt runs tests on several threads)."""
    total, end = 0.0, None
    for start, stop in sorted(windows):
        if end is None or start > end:
            total += (stop - start).total_seconds()
            end = stop
        elif stop > end:
            total += (stop - end).total_seconds()
            end = stop
    return total


def dbt_test_seconds(nodes: Sequence[Mapping[str, Any]]) -> float:
    """Wall seconds dbt spent executing tests inside one build."""
    windows = []
    for node in nodes:
        is_test = node.get("resource_type") in ("test", "unit_test")
        if not is_test or not node.get("started_at") or not node.get("completed_at"):
            continue
        start = datetime.fromisoformat(str(node["started_at"]).replace("Z", "+00:00"))
        stop = datetime.fromisoformat(str(node["completed_at"]).replace("Z", "+00:00"))
        windows.append((start, stop))
    return _union_seconds(windows)


def gate_plan(ctx: Context) -> set[NightlyKey]:
    return {("bw", ctx.config.smallest), *growth_plan(ctx)}


def measure_gate(ctx: Context) -> Result:
    """4. Audit cost: dbt tests (inside the build) plus the GX gate, as a share of the whole refresh."""
    samples = ctx.nightly_samples(sorted(gate_plan(ctx)))
    table, targets, groups = [], [], []
    for kind, scale in sorted(gate_plan(ctx), key=lambda k: k[1]):
        runs = samples[(kind, scale)]
        tests = [dbt_test_seconds((s.get("build") or {}).get("nodes", [])) for s in runs]
        audit = [s["steps"].get("audit", 0.0) for s in runs]
        totals = [sum(s["steps"].values()) for s in runs]
        builds = [s["steps"].get("build", 0.0) for s in runs]
        shares = [(t + a) / tot for t, a, tot in zip(tests, audit, totals, strict=True) if tot]
        share_build = [(t + a) / (b + a) for t, a, b in zip(tests, audit, builds, strict=True) if b + a]
        st = summarize(shares)
        table.append(
            {
                "history scale": f"{scale:g}",
                "dbt tests s": _spread(summarize(tests)),
                "GX gate s": _spread(summarize(audit)),
                "refresh s": _spread(summarize(totals)),
                "share of refresh %": _spread(st, 1, 0.01),
                "share of build+gate %": _spread(summarize(share_build), 1, 0.01),
            }
        )
        groups.append(
            {
                "label": f"scale {scale:g}",
                "bars": [
                    {"series": "gate share %", **{k: (st[k] or 0) * 100 for k in ("median", "min", "max")}}
                ],
            }
        )
        targets.append(
            target(
                f"scale {scale:g}: gate share of the refresh",
                25.0,
                None if st["median"] is None else st["median"] * 100,
                unit=" %",
                digits=1,
            )
        )
    result: Result = {
        "name": "gate",
        "title": "Gate cost (dbt tests + GX) as share of the refresh",
        "description": (
            "From the nightly refresh runs of measurements 1 and 2: dbt test wall time (union of test "
            "execution windows in run_results) plus the `audit` step (GX suites + verdict), divided by the "
            "sum of the refresh steps (ingest + build + audit + publish)."
        ),
        "targets": targets,
        "table": table,
        "chart": {"title": "gate share of refresh", "unit": "%", "groups": groups, "limit": 25.0},
    }
    keys = sorted(gate_plan(ctx), key=lambda k: k[1])
    missed = [k for k, t in zip(keys, targets, strict=True) if t["met"] is False]
    if missed:
        runs = samples[missed[-1]]
        tests = sorted(
            (
                {"node": n["unique_id"], "seconds": n.get("execution_time") or 0.0}
                for n in (runs[-1].get("build") or {}).get("nodes", [])
                if n.get("resource_type") == "test"
            ),
            key=lambda r: r["seconds"],
            reverse=True,
        )[:20]
        result["profile"] = {
            "what": f"slowest dbt tests, history scale {missed[-1][1]:g}",
            "steps": _step_stats_medians(runs),
            "top": tests,
        }
    return result


def _step_stats_medians(samples: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {k: v["median"] for k, v in _step_stats(samples).items() if v["median"] is not None}


# -------------------------------------------------------------------------------------------- memory


def memory_plan(ctx: Context) -> set[NightlyKey]:
    """The nightly refresh on the largest history (the base-scale runs when only one scale is given)."""
    return growth_plan(ctx) - {("bw", ctx.config.smallest)} or {("bw", ctx.config.smallest)}


def measure_memory(ctx: Context) -> Result:
    """6. Peak RSS of the whole process tree of the nightly refresh at the largest scale."""
    largest = ctx.config.largest
    key = next(iter(memory_plan(ctx)))
    samples = ctx.nightly_samples([key])[key]
    peaks = summarize([s["peak_rss_bytes"] / MIB for s in samples if s.get("peak_rss_bytes")])
    scenario = ctx.scenario(largest)
    history_peak = scenario.history_peak_bytes / MIB if scenario.history_peak_bytes else None
    peak_gib = None if peaks["max"] is None else peaks["max"] / 1024
    return {
        "name": "memory",
        "title": "Peak memory of the nightly refresh",
        "description": (
            "Sum of RSS over the refresh worker and all its children, sampled every 50 ms (psutil); the "
            "figure judged is the highest peak over the repetitions at the largest scale."
        ),
        "targets": [target(f"scale {largest:g}: peak RSS", 2.0, peak_gib, unit=" GiB")],
        "figures": {"peak_mib": peaks, "history_load_peak_mib": history_peak},
        "table": [
            {"run": f"nightly refresh, scale {largest:g}", "peak MiB": _spread(peaks, 0)},
            {
                "run": f"initial history load, scale {largest:g} (setup, 1 run)",
                "peak MiB": "–" if history_peak is None else f"{history_peak:.0f}",
            },
        ],
        "chart": {
            "title": "peak RSS (process tree)",
            "unit": "MiB",
            "limit": 2 * GIB / MIB,
            "groups": [{"label": f"refresh ×{largest:g}", "bars": [_bar("peak", peaks)]}],
        },
    }


# -------------------------------------------------------------------------------------------- ingest


def measure_ingest(ctx: Context) -> Result:
    """3. Loader throughput per format vs DuckDB's own readers on the same files."""
    from benchmarks.ingest_bench import ingest_throughput

    return ingest_throughput(ctx, target)


# ---------------------------------------------------------------------------------------------- DAGs


def measure_dags(ctx: Context) -> Result:
    """5. Parse time of every DAG file (fresh process each) and `airflow dags test` of the nightly DAG."""
    files = sorted((REPO_ROOT / "dags").glob("*.py"))
    variants = {f.stem: (lambda _rep, f=f: run_worker("dagparse", ["--file", str(f)])) for f in files}
    samples = alternate(variants, ctx.config.dag_reps)
    targets, table, groups = [], [], []
    for name, runs in samples.items():
        parse = summarize(column(runs, "parse_s"))
        targets.append(target(f"parse {name}.py", 0.5, parse["median"], unit=" s", digits=3))
        table.append(
            {
                "DAG file": f"dags/{name}.py",
                "parse s (DagBag)": _spread(parse, 3),
                "cold s (+ airflow.sdk import)": _spread(summarize(column(runs, "cold_s")), 3),
                "process wall s": _spread(summarize(column(runs, "wall_s"))),
            }
        )
        groups.append({"label": name, "bars": [_bar("parse", parse)]})
    figures: Result = {"samples": samples}
    notes = [
        "`parse s` is the DagBag's per-file duration with Airflow (and airflow.sdk, which the "
        "dag-processor pre-imports) already loaded; `cold s` adds that import."
    ]
    if ctx.config.dags_test:
        try:
            dags_test = _dags_test(ctx)
            figures["dags_test"] = dags_test
            table.append({})
            table.append(
                {
                    "DAG file": "warehouse_refresh: `airflow dags test` (in-process, sample scenario)",
                    "parse s (DagBag)": "",
                    "cold s (+ airflow.sdk import)": "",
                    "process wall s": f"{dags_test['dags_test_s']:.1f} (+ {dags_test['db_migrate_s']:.1f} "
                    "metadata DB migrate, first run only)",
                }
            )
        except Exception as exc:  # the parse figures stand on their own
            notes.append(f"`airflow dags test` not measured: {type(exc).__name__}: {str(exc)[:400]}")
    else:
        notes.append("`airflow dags test` skipped (--quick without --dags-test).")
    result: Result = {
        "name": "dags",
        "title": "DAG parse time and in-process DAG run",
        "targets": targets,
        "figures": figures,
        "table": table,
        "notes": notes,
        "chart": {"title": "DAG file parse time", "unit": "s", "groups": groups, "limit": 0.5},
    }
    if any(t["met"] is False for t in targets):
        worst = max(samples, key=lambda n: summarize(column(samples[n], "parse_s"))["median"] or 0)
        result["profile"] = {
            "what": f"slowest DAG file {worst}.py: import phases (median s)",
            "steps": {
                k: summarize(column(samples[worst], k))["median"]
                for k in ("airflow_import_s", "sdk_import_s", "parse_s")
            },
        }
    return result


def _dags_test(ctx: Context) -> dict[str, Any]:
    """One ``airflow dags test warehouse_refresh`` on the sample scenario (scale 1) against a fresh home."""
    from benchmarks.scenario import sample_server

    home = WORK_DIR / "runs" / "dags-test-home"
    shutil.rmtree(home, ignore_errors=True)
    airflow_home = WORK_DIR / "airflow-dags-test"
    with sample_server(ctx.config.seed) as url:
        started = time.perf_counter()
        figures = run_worker(
            "dags-test",
            ["--home", str(home), "--simulator-url", url, "--airflow-home", str(airflow_home)],
            sample_memory=True,
        )
        figures["total_s"] = time.perf_counter() - started
    return figures


MEASUREMENTS: dict[
    str, tuple[int, Callable[[Context], Result], Callable[[Context], set[NightlyKey]] | None]
] = {
    "startup": (0, measure_startup, None),
    "refresh": (1, measure_refresh, refresh_plan),
    "growth": (2, measure_growth, growth_plan),
    "ingest": (3, measure_ingest, None),
    "gate": (4, measure_gate, gate_plan),
    "dags": (5, measure_dags, None),
    "memory": (6, measure_memory, memory_plan),
}


def plan_for(names: Sequence[str], ctx: Context) -> set[NightlyKey]:
    """Every nightly run the selected measurements need, so they run in one interleaved loop."""
    keys: set[NightlyKey] = set()
    for name in names:
        planner = MEASUREMENTS[name][2]
        if planner is not None:
            keys |= planner(ctx)
    return keys


def dump_paths(result: Result) -> Result:
    """JSON-safe copy (Paths to strings)."""

    def conv(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dict):
            return {str(k): conv(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [conv(v) for v in value]
        return value

    return conv(result)
