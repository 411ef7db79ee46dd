"""``python -m benchmarks.scale``: BorderWatch against the hand-written reference on >= 10 M raw rows.

The simulator's scale is not linear in rows (10 M rows would take it, and BorderWatch's per-file loader,
about 20 minutes just to produce and load), so the history is synthesised in DuckDB from a small real
one: the base scenario's Cambodian and Thai deportation rows are copied k times, in BorderWatch's raw
schema and in the reference's tables alike, so both pipelines see the same data. Copy i gets its own
keys (``~i`` suffix on bulletin and reception numbers, row numbers offset), its dates moved back
``i mod 5`` years (inside dim_date's 2020-2030 spine) and every nationality rotated i places along a
fixed list of countries, Cambodian and Thai rows alike, so the batches of one copy still match each
other and only each other (the density of candidate matches per day stays that of the base history).

Then, side by side, once each (the machine is shared): a full rebuild (``dbt build --full-refresh`` vs
the reference's mart steps), the nightly increment (the base simulator's next night, pulled, loaded,
built, audited and published vs the reference script on the same files) on the 1/10 history and on
the full one (growth), peak RSS of every BorderWatch process tree, the audit's share of each night, and
the fixed start-up (dbt warm no-op build + the part of GX's import the warm worker did not hide).
Writes ``benchmarks/results/<date>-scale.json`` and ``benchmarks/results/latest.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.harness import GIB, REPO_ROOT, RESULTS_DIR, WORK_DIR, run_worker, summarize, worker_env
from benchmarks.measurements import dbt_test_seconds

SEEDS = REPO_ROOT / "seeds" / "nationality_labels.csv"
BIG_DIR = WORK_DIR / "scale"
YEARS = 5
NO_FILES = {"kh_gdi_deportations": [], "th_imm_receptions": [], "nbtc_telecom": [], "rtp_pages": []}

# BorderWatch raw table / reference table, the key that gets the copy suffix, the date moved, row number
TABLES = {
    "kh": ("raw.kh_gdi_deportations", "ref.kh", "bulletin_no", "handover_date"),
    "th": ("raw.th_imm_receptions", "ref.th", "reception_no", "received_date"),
}


def _countries_sql() -> str:
    """A numbered list of countries with an English label the seeds map back to them (the rotation)."""
    return f"""
        create or replace temp table bench_countries as
        select row_number() over (order by iso3) - 1 as idx, iso3, label
        from (
            select nationality_iso3 as iso3, min(label) as label
            from read_csv('{SEEDS}', all_varchar = true)
            where origin = 'pycountry' and length(label) > 3 and regexp_full_match(label, '[A-Za-z ]+')
            group by 1
        );
        create or replace temp table bench_labels as
        select lower(trim(regexp_replace(label, '\\s+', ' ', 'g'))) as key, max(nationality_iso3) as iso3
        from read_csv('{SEEDS}', all_varchar = true) group by 1;
    """


def amplify(db: Path, copies: int, *, reference: bool) -> int:
    """Add ``copies - 1`` shifted copies of the KH and TH rows; returns the raw rows of all tables after."""
    con = duckdb.connect(str(db), config={"autoinstall_known_extensions": False})
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET memory_limit = '3GB'")
        con.execute(_countries_sql())
        n = con.execute("select count(*) from bench_countries").fetchone()[0]
        for bw_table, ref_table, key, day in TABLES.values():
            table = ref_table if reference else bw_table
            row = "row_number" if reference else "_row_number"
            con.execute(f"create or replace temp table base as select * from {table}")
            con.execute(
                f"""
                insert into {table}
                select b.* replace (
                    b.{key} || '~' || c.i as {key},
                    cast(b.{day} - to_years(cast(c.i % {YEARS} as integer)) as date) as {day},
                    b.{row} + c.i * 1000000 as {row},
                    coalesce(rot.label, b.nationality) as nationality
                )
                from base as b
                cross join range(1, {copies}) as c(i)
                left join bench_labels as l
                    on l.key = lower(trim(regexp_replace(b.nationality, '\\s+', ' ', 'g')))
                left join bench_countries as src on src.iso3 = l.iso3
                left join bench_countries as rot on rot.idx = (src.idx + c.i) % {n}
                """
            )
        con.execute("checkpoint")
        if reference:
            tables = ["ref.kh", "ref.th", "ref.nbtc"]
        else:
            tables = [
                f"raw.{t}"
                for (t,) in con.execute(
                    "select table_name from duckdb_tables() where schema_name = 'raw' "
                    "and not starts_with(table_name, '_')"
                ).fetchall()
            ]
        return sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)
    finally:
        con.close()


def _raw_rows(db: Path) -> tuple[int, int]:
    """(rows of the copied tables, rows of every other raw table) of a BorderWatch build file."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw' "
                "and not starts_with(table_name, '_')"
            ).fetchall()
        ]
        counts = {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in names}
    finally:
        con.close()
    copied = sum(counts[t.split(".")[1]] for t, *_ in TABLES.values())
    return copied, sum(counts.values()) - copied


def _slowest(nodes: list[dict[str, Any]], top: int = 12) -> list[dict[str, Any]]:
    ranked = sorted(nodes, key=lambda n: -(n.get("execution_time") or 0))[:top]
    return [{"node": n["unique_id"], "s": round(n.get("execution_time") or 0, 2)} for n in ranked]


def prepare(scenario: Any, rows: int, label: str, fallback_memory_limit: str = "") -> dict[str, Any]:
    """A home and a reference DB with >= ``rows`` raw rows, both fully rebuilt (timed: the full rebuild).

    When the full rebuild fails under the profile's memory limit and ``fallback_memory_limit`` is given,
    it is rebuilt again with that limit (recorded), so the nights still run on a built history."""
    root = BIG_DIR / label
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    home, ref = root / "home", root / "reference.duckdb"
    shutil.copytree(scenario.snapshot_home, home, symlinks=True)
    shutil.copyfile(scenario.snapshot_ref, ref)
    build_db = home / "warehouse" / "build.duckdb"
    copied, other = _raw_rows(build_db)
    copies = max(1, math.ceil((rows - other) / copied))
    t0 = time.perf_counter()
    raw_rows = amplify(build_db, copies, reference=False)
    ref_rows = amplify(ref, copies, reference=True)
    amplify_s = time.perf_counter() - t0
    no_files = root / "no-files.json"
    no_files.write_text(json.dumps(NO_FILES), encoding="utf-8")
    full_bw = run_worker("build", ["--home", str(home), "--full-refresh"], sample_memory=True, timeout_s=7200)
    if not full_bw.get("ok") and fallback_memory_limit:
        # the default memory limit did not carry the full rebuild: say so, and measure it with a larger one
        failed = full_bw
        full_bw = run_worker(
            "build",
            ["--home", str(home), "--full-refresh"],
            env=worker_env({"BORDERWATCH_DUCKDB_MEMORY_LIMIT": fallback_memory_limit}),
            sample_memory=True,
            timeout_s=7200,
        )
        full_bw["default_limit_failed"] = {
            "build_s": failed.get("build_s"),
            "failed_nodes": failed.get("failed_nodes"),
            "peak_rss_bytes": failed.get("peak_rss_bytes"),
            "memory_limit": fallback_memory_limit,
        }
    full_ref = run_worker("reference", ["--db", str(ref), "--files", str(no_files)], sample_memory=True)
    # The first night after the rebuild (nothing new to pull) publishes the history: a real night always
    # follows a served version, so the measured night below is the steady state; this one is reported apart.
    scenario.set_clock(scenario.history_until)
    first_night = run_worker(
        "refresh",
        ["--home", str(home), "--simulator-url", scenario.url],
        sample_memory=True,
        timeout_s=7200,
    )
    return {
        "label": label,
        "home": home,
        "ref": ref,
        "copies": copies,
        "raw_rows": raw_rows,
        "reference_rows": ref_rows,
        "amplify_s": amplify_s,
        "full_bw": full_bw,
        "full_ref": full_ref,
        "first_night": first_night,
    }


def night(scenario: Any, prepared: dict[str, Any]) -> dict[str, Any]:
    """The base simulator's night on this history: BorderWatch refresh, then the reference, same files."""
    from benchmarks.reference import compare_marts

    scenario.set_clock(scenario.night)
    bw = run_worker(
        "refresh",
        ["--home", str(prepared["home"]), "--simulator-url", scenario.url],
        sample_memory=True,
        timeout_s=7200,
    )
    ref = run_worker(
        "reference",
        ["--db", str(prepared["ref"]), "--files", str(scenario.night_files_json)],
        sample_memory=True,
    )
    check = compare_marts(prepared["home"] / "warehouse" / "build.duckdb", prepared["ref"])
    tests_s = dbt_test_seconds(bw.get("build", {}).get("nodes", []))
    audit_s = bw["steps"].get("audit", 0.0)
    return {
        "bw": bw,
        "ref": ref,
        "marts_identical": check.get("identical"),
        "compare": check,
        "audit_share": (tests_s + audit_s) / bw["refresh_s"] if bw.get("refresh_s") else None,
        "tests_s": tests_s,
    }


def startup(prepared: dict[str, Any], nights: list[dict[str, Any]], reps: int = 3) -> dict[str, Any]:
    """Fixed start-up of the plain refresh: dbt's warm no-op build at a stable path + GX's unhidden wait."""
    work = BIG_DIR / "startup"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    args = [
        "--project-dir",
        str(REPO_ROOT / "dbt_project"),
        "--target-path",
        str(work / "dbt-target"),
        "--db",
        str(work / "noop.duckdb"),
    ]
    cold = run_worker("startup-dbt", args)
    warm = [run_worker("startup-dbt", args)["wall_s"] for _ in range(reps)]
    gx_wait = [n["bw"]["gate"].get("timings", {}).get("gx_wait_s", 0.0) for n in nights]
    gx = [run_worker("startup-gx")["wall_s"] for _ in range(reps)]
    dbt_s = summarize(warm)["median"]
    wait_s = max(gx_wait) if gx_wait else 0.0
    return {
        "dbt_cold_s": cold["wall_s"],
        "dbt_warm": summarize(warm),
        "gx_wait_s": gx_wait,
        "gx_fresh_process": summarize(gx),
        "fixed_s": dbt_s + wait_s,
    }


def threads(prepared: dict[str, Any]) -> dict[str, Any]:
    """dbt threads on DuckDB: the same full rebuild with 1 and with 2 threads (DuckDB parallelises inside
    each query either way; more dbt threads only overlap nodes)."""
    out = {}
    for n in ("1", "2"):
        figures = run_worker(
            "build",
            ["--home", str(prepared["home"]), "--full-refresh"],
            env=worker_env({"BORDERWATCH_DBT_THREADS": n}),
            timeout_s=7200,
        )
        out[n] = figures["build_s"]
    return out


def verdict(limit: float, measured: float | None, *, below: bool = True) -> str:
    if measured is None:
        return "not measured"
    return "met" if (measured <= limit if below else measured >= limit) else "**missed**"


def report(data: dict[str, Any]) -> str:
    """The Markdown verdict table plus, where a target is missed, the slowest steps and dbt nodes."""
    big, small = data["big"], data["small"]
    nb, ns_ = data["night_big"], data["night_small"]
    ref_night, ref_full = nb["ref"]["wall_s"], big["full_ref"]["wall_s"]
    bw_night, bw_full = nb["bw"]["refresh_s"], big["full_bw"]["build_s"]
    growth = bw_night / ns_["bw"]["refresh_s"] if ns_["bw"].get("refresh_s") else None
    peak = max(nb["bw"].get("peak_rss_bytes", 0), big["full_bw"].get("peak_rss_bytes", 0)) / GIB
    shares = [ns_["audit_share"], nb["audit_share"]]
    st = data["startup"]
    rows = [
        (
            f"nightly increment on {big['raw_rows'] / 1e6:.1f} M raw rows vs reference",
            f"≤ 2 × ref + 10 s = {2 * ref_night + 10:.1f} s",
            f"{bw_night:.1f} s vs {ref_night:.1f} s ({bw_night / ref_night:.1f}×)",
            verdict(2 * ref_night + 10, bw_night),
        ),
        (
            f"full rebuild on {big['raw_rows'] / 1e6:.1f} M raw rows vs reference",
            f"≤ 2 × ref = {2 * ref_full:.1f} s",
            f"{bw_full:.1f} s vs {ref_full:.1f} s ({bw_full / ref_full:.1f}×)",
            verdict(2 * ref_full, bw_full),
        ),
        (
            f"growth: same night on {big['raw_rows'] / 1e6:.1f} M vs {small['raw_rows'] / 1e6:.2f} M rows",
            "≤ 1.2×",
            f"{growth:.2f}× ({bw_night:.1f} s vs {ns_['bw']['refresh_s']:.1f} s)" if growth else "n/a",
            verdict(1.2, growth),
        ),
        *[
            (
                f"audit share of the night at {p['raw_rows'] / 1e6:.2f} M rows",
                "≤ 25 %",
                _share_text(s, n),
                verdict(0.25, s),
            )
            for p, n, s in ((small, ns_, shares[0]), (big, nb, shares[1]))
        ],
        (
            "fixed start-up of the plain refresh (dbt + GX)",
            "≤ 6 s",
            f"{st['fixed_s']:.1f} s (dbt warm {st['dbt_warm']['median']:.1f} s + GX wait "
            f"{max(st['gx_wait_s'] or [0]):.1f} s; GX alone in a fresh process "
            f"{st['gx_fresh_process']['median']:.1f} s, dbt cold {st['dbt_cold_s']:.1f} s)",
            verdict(6.0, st["fixed_s"]),
        ),
        (
            f"peak RSS at {big['raw_rows'] / 1e6:.1f} M rows (night, full rebuild)",
            "≤ 2 GiB",
            f"{peak:.2f} GiB (night {nb['bw'].get('peak_rss_bytes', 0) / GIB:.2f}, full rebuild "
            f"{big['full_bw'].get('peak_rss_bytes', 0) / GIB:.2f}; "
            f"DuckDB memory_limit {data.get('memory_limit')})",
            verdict(2.0, peak),
        ),
    ]
    out = [
        f"# BorderWatch at {big['raw_rows'] / 1e6:.1f} M raw rows ({data['date']}, {data['machine']})",
        "",
        "Produced by `python -m benchmarks.scale` (see its docstring): a real base history (simulator scale "
        f"{data['base_scale']:g}) copied ×{big['copies']} in DuckDB into BorderWatch's raw schema and the "
        "reference's tables alike (keys suffixed, dates moved back up to 4 years, nationalities rotated), "
        "then each figure once, side by side, on a machine shared with other work. The reference "
        "(`benchmarks/reference_pipeline.sql`) builds `fct_deportations` and `fct_telecom_actions` only; "
        "BorderWatch builds every mart, runs the gate and publishes. Each history is fully rebuilt and then "
        "published by one night with nothing new (its own row below), so the measured night follows a served "
        "version, as every real night does.",
        "",
        "| target | limit | measured | |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Marts identical to the reference after the night: {nb['marts_identical']} "
        f"(1/10 history: {ns_['marts_identical']}).",
        "",
        "## Where the time goes",
        "",
        "| run | ingest s | build s | audit s | publish s | total s | peak RSS GiB |",
        "|---|---|---|---|---|---|---|",
    ]
    runs = [("night, small history", ns_["bw"]), ("night, big history", nb["bw"])]
    if big.get("first_night"):
        runs.append(("first night after the full rebuild (publishes the history), big", big["first_night"]))
    for name, bw in runs:
        s = bw["steps"]
        rss = bw.get("peak_rss_bytes", 0) / GIB
        out.append(
            f"| {name} | {s.get('ingest', 0):.1f} | {s.get('build', 0):.1f} | {s.get('audit', 0):.1f} | "
            f"{s.get('publish', 0):.1f} | {bw['refresh_s']:.1f} | {rss:.2f} |"
        )
    full = big["full_bw"]
    out.append(
        f"| full rebuild, big history | | {full['build_s']:.1f} | | | {full['wall_s']:.1f} | "
        f"{full.get('peak_rss_bytes', 0) / GIB:.2f} |"
    )
    out += ["", *_step_rss_table(runs)]
    out += [
        "",
        f"Reference: night {ref_night:.1f} s (steps {_steps(nb['ref'])}), full rebuild {ref_full:.1f} s, "
        f"peak RSS {nb['ref'].get('peak_rss_bytes', 0) / GIB:.2f} GiB.",
        "",
        "## Profile of the slowest steps (dbt nodes by execution time)",
        "",
        f"Night on the big history: {_nodes(nb['bw'].get('build', {}).get('nodes', []))}",
        "",
        f"Full rebuild: {_nodes(big['full_bw'].get('nodes', []))}",
        "",
    ]
    if data.get("threads"):
        t = data["threads"]
        out += [
            f"dbt threads on DuckDB (full rebuild of the {small['raw_rows'] / 1e6:.2f} M-row history): "
            f"1 thread {t['1']:.1f} s, 2 threads {t['2']:.1f} s "
            f"(2 threads take {t['2'] / t['1']:.2f}× the time of 1).",
            "",
        ]
    failed = big["full_bw"].get("default_limit_failed")
    if failed:
        nodes = ", ".join(failed.get("failed_nodes") or [])
        out += [
            f"The full rebuild failed under the default memory limit ({data.get('memory_limit')}) after "
            f"{failed.get('build_s') or 0:.0f} s (failed nodes: {nodes}; "
            f"peak RSS {(failed.get('peak_rss_bytes') or 0) / GIB:.2f} GiB); the figure above is a second "
            f"full rebuild with memory_limit {failed['memory_limit']}.",
            "",
        ]
    if nb["bw"].get("blocked"):
        out += [f"The gate blocked the big night's publication: {nb['bw']['blocked'][:400]}", ""]
    return "\n".join(out)


RSS_STEPS = ("ingest", "build: dbt", "build: candidate", "audit", "publish")


def _step_rss_table(runs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Peak RSS of the process tree inside each step's window, and the processes that held it at the peak."""
    lines = [
        "Peak RSS per step (GiB; the whole process tree: the refresh process with dbt and DuckDB in it, and "
        "GX's worker process started before ingest), and who held the highest step's peak:",
        "",
        f"| run | {' | '.join(RSS_STEPS)} | highest step: processes |",
        f"|---|{'---|' * len(RSS_STEPS)}---|",
    ]
    for name, bw in runs:
        peaks = bw.get("step_peak_rss") or {}
        if not peaks:
            continue
        cells = [f"{peaks[s]['peak_rss_bytes'] / GIB:.2f}" if s in peaks else "" for s in RSS_STEPS]
        top = max((s for s in RSS_STEPS if s in peaks), key=lambda s: peaks[s]["peak_rss_bytes"])
        held = ", ".join(
            f"{_process_name(label)} {b / GIB:.2f}" for label, b in peaks[top]["processes"].items()
        )
        lines.append(f"| {name} | {' | '.join(cells)} | {top}: {held} |")
    return lines


def _process_name(label: str) -> str:
    """The sampler's process label in words: the refresh itself, GX's spawned worker, its resource tracker."""
    if label == "main":
        return "refresh (dbt, DuckDB)"
    if "spawn_main" in label:
        return "GX worker"
    if "resource_tracker" in label:
        return "resource tracker"
    return f"pid {label}"


def _share_text(share: float | None, n: dict[str, Any]) -> str:
    if share is None:
        return "n/a"
    audit = n["bw"]["steps"].get("audit", 0)
    return f"{100 * share:.0f} % (dbt tests {n['tests_s']:.1f} s + audit {audit:.1f} s)"


def _steps(ref: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in (ref.get("steps") or {}).items())


def _nodes(nodes: list[dict[str, Any]]) -> str:
    return "; ".join(f"`{n['node'].split('.')[-1]}` {n['s']} s" for n in _slowest(nodes)) or "n/a"


def fallback_report(data: dict[str, Any], error: str) -> str:
    """When a phase did not run (deadline, failure): every target named, what was measured, raw figures."""
    lines = [
        f"# BorderWatch at scale ({data.get('date')}, {data.get('machine')}): incomplete run",
        "",
        f"Not every phase ran ({error}); the targets below without a figure were not measured.",
        "",
        "| phase | measured |",
        "|---|---|",
    ]
    for key in ("big", "night_big", "small", "night_small", "startup"):
        part = {k: v for k, v in (data.get(key) or {}).items() if not isinstance(v, Path)}
        if not part:
            lines.append(f"| {key} | not measured |")
            continue
        figures = {
            "raw_rows": part.get("raw_rows"),
            "full_rebuild_s": (part.get("full_bw") or {}).get("build_s"),
            "full_rebuild_ref_s": (part.get("full_ref") or {}).get("wall_s"),
            "night_s": (part.get("bw") or {}).get("refresh_s"),
            "night_steps": (part.get("bw") or {}).get("steps"),
            "night_ref_s": (part.get("ref") or {}).get("wall_s"),
            "peak_rss_gib": round(
                max(
                    (part.get("bw") or {}).get("peak_rss_bytes", 0),
                    (part.get("full_bw") or {}).get("peak_rss_bytes", 0),
                )
                / GIB,
                2,
            ),
            "audit_share": part.get("audit_share"),
            "fixed_s": part.get("fixed_s"),
        }
        shown = ", ".join(f"{k} {v}" for k, v in figures.items() if v not in (None, 0, 0.0))
        lines.append(f"| {key} | {shown} |")
    nodes = ((data.get("night_big") or {}).get("bw") or {}).get("build", {}).get("nodes") or (
        (data.get("big") or {}).get("full_bw") or {}
    ).get("nodes", [])
    lines += ["", f"Slowest dbt nodes: {_nodes(nodes)}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.scenario import prepare_scenario

    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000_000, help="raw rows of the big history")
    p.add_argument("--growth", type=float, default=10.0, help="big history ÷ small history")
    p.add_argument("--base-scale", type=float, default=2.0, help="simulator scale of the real base history")
    p.add_argument(
        "--seed", type=int, default=13, help="simulator seed (not make bench's 7: no shared snapshot)"
    )
    p.add_argument("--deadline-min", type=float, default=0, help="start no new phase after this many minutes")
    p.add_argument("--out", default=str(RESULTS_DIR))
    p.add_argument("--no-latest", action="store_true", help="do not overwrite results/latest.md")
    p.add_argument(
        "--fallback-memory-limit",
        default="6GB",
        help="memory_limit of a second full rebuild when the first fails under the profile's ('' = none)",
    )
    p.add_argument("--skip-threads", action="store_true", help="skip the 1 vs 2 dbt threads full rebuilds")
    ns = p.parse_args(argv)
    started = time.perf_counter()
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{date.today().isoformat()}-scale"
    data: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "base_scale": ns.base_scale,
        # each DuckDB handle's limit: the budget, minus GX's reservation while its warm worker lives
        "memory_limit": os.environ.get("BORDERWATCH_DUCKDB_MEMORY_LIMIT", "budget 1.5GB")
        + " (dbt and the candidate: minus 384 MiB while GX's worker lives)",
        "dbt_threads": os.environ.get("BORDERWATCH_DBT_THREADS", "profile default"),
    }

    def save(text: str) -> None:
        data["elapsed_s"] = time.perf_counter() - started
        (out / f"{stem}.json").write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        (out / f"{stem}.md").write_text(text, encoding="utf-8")
        if not ns.no_latest:
            (out / "latest.md").write_text(text, encoding="utf-8")

    scenario = prepare_scenario(ns.base_scale, seed=ns.seed)
    phases = [
        ("big", lambda: prepare(scenario, ns.rows, "big", ns.fallback_memory_limit)),
        ("night_big", lambda: night(scenario, data["big"])),
        ("small", lambda: prepare(scenario, int(ns.rows / ns.growth), "small", ns.fallback_memory_limit)),
        ("night_small", lambda: night(scenario, data["small"])),
        ("startup", lambda: startup(data["big"], [data["night_small"], data["night_big"]])),
    ]
    if not ns.skip_threads:
        phases.append(("threads", lambda: threads(data["small"])))
    error = ""
    try:
        for name, phase in phases:
            if ns.deadline_min and (time.perf_counter() - started) / 60 > ns.deadline_min:
                error = f"deadline of {ns.deadline_min:g} min reached before phase {name}"
                break
            try:
                data[name] = phase()
            except Exception as exc:  # report what was measured; name what failed
                error = f"phase {name} failed: {type(exc).__name__}: {str(exc)[:300]}"
                break
            save(fallback_report(data, f"running; last finished phase: {name}"))
    finally:
        scenario.close()
    complete = all(k in data for k in ("big", "night_big", "small", "night_small", "startup"))
    text = report(data) if complete else fallback_report(data, error)
    if complete and error:
        text += f"\nNot measured: {error}.\n"
    save(text)
    print(text)
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
