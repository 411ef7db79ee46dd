"""Runs ``reference_pipeline.sql`` (the hand-written DuckDB limit) and checks its marts against BorderWatch's.

The script is split on ``-- step:`` markers so each step is timed; the only Python work is transcoding the
cp874 receptions to UTF-8 (DuckDB's built-in CSV reader has no cp874 and we never install extensions),
which is timed as its own step.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

SCRIPT = Path(__file__).with_name("reference_pipeline.sql")
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
MARTS = ("fct_deportations", "fct_telecom_actions")
# Columns the comparison leaves out: load-time bookkeeping, not mart content.
IGNORED_COLUMNS = frozenset({"_loaded_at", "_partition_loaded_at", "_lineage"})
_STEP = re.compile(r"^-- step: (?P<name>\w+)\s*$", re.MULTILINE)
_NEEDS = re.compile(r"^-- needs: (?P<var>\w+)\s*$", re.MULTILINE)


class ReferenceError(RuntimeError):
    """The reference script failed; the message names the step."""


def script_steps(text: str) -> list[tuple[str, str | None, str]]:
    """(step name, variable it needs or None, SQL) in file order."""
    marks = list(_STEP.finditer(text))
    steps = []
    for i, mark in enumerate(marks):
        body = text[mark.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        needs = _NEEDS.search(body)
        steps.append((mark["name"], needs["var"] if needs else None, body))
    return steps


def transcode(paths: list[str], encoding: str, out_dir: Path) -> list[str]:
    """UTF-8 copies of files in another encoding, same base names (the script keys files by name)."""
    out = []
    for path in paths:
        target = out_dir / Path(path).name
        target.write_text(Path(path).read_bytes().decode(encoding), encoding="utf-8")
        out.append(str(target))
    return out


def run_reference(db: Path, files: dict[str, list[str]]) -> dict[str, Any]:
    """Load one night's files into the reference database and rebuild its marts; per-step timings."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    try:
        con.execute("SET autoinstall_known_extensions = false")
        with tempfile.TemporaryDirectory(prefix="bw-ref-") as tmp:
            t0 = time.perf_counter()
            th_files = transcode(files.get("th_imm_receptions", []), "cp874", Path(tmp))
            steps["transcode_cp874"] = time.perf_counter() - t0
            variables = {
                "kh_files": files.get("kh_gdi_deportations", []),
                "th_files": th_files,
                "nbtc_files": files.get("nbtc_telecom", []),
                "rtp_pages": files.get("rtp_pages", []),
            }
            variables["all_files"] = variables["kh_files"] + variables["th_files"] + variables["nbtc_files"]
            for name, value in variables.items():
                con.execute(f"SET VARIABLE {name} = ?::VARCHAR[]", [value])
            con.execute("SET VARIABLE seeds_dir = ?", [str(SEEDS_DIR)])
            for name, needs, sql in script_steps(SCRIPT.read_text(encoding="utf-8")):
                if needs and not variables.get(needs):
                    continue
                t0 = time.perf_counter()
                try:
                    con.execute(sql)
                except duckdb.Error as exc:
                    raise ReferenceError(f"{SCRIPT.name} step {name!r} failed: {exc}") from exc
                steps[name] = time.perf_counter() - t0
        counts = {m: con.execute(f"select count(*) from marts.{m}").fetchone()[0] for m in MARTS}
    finally:
        con.close()
    return {"steps": steps, "script_s": time.perf_counter() - started, "row_counts": counts}


def compare_marts(bw_db: Path, ref_db: Path) -> dict[str, Any]:
    """EXCEPT ALL both ways on the reference's marts (business columns; load-time columns left out)."""
    con = duckdb.connect()
    out: dict[str, Any] = {"marts": {}, "identical": True, "ignored_columns": sorted(IGNORED_COLUMNS)}
    try:
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET memory_limit = '3GB'")  # a shared machine: the comparison spills, it never hogs
        con.execute(f"ATTACH '{bw_db}' AS bw (READ_ONLY)")
        con.execute(f"ATTACH '{ref_db}' AS ref (READ_ONLY)")
        for mart in MARTS:
            ref_cols, bw_cols = (_columns(con, catalog, mart) for catalog in ("ref", "bw"))
            # Columns the warehouse renamed or has not (yet) got are reported, not compared: the rows
            # must still agree on every shared business column.
            cols = [c for c in ref_cols if c in bw_cols]
            unshared = sorted(set(ref_cols) ^ set(bw_cols))
            select = ", ".join(f'"{c}"' for c in cols)
            a = f"select {select} from bw.marts.{mart}"
            b = f"select {select} from ref.marts.{mart}"
            try:
                only_bw = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
                only_ref = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
                rows = con.execute(f"select count(*) from ({a})").fetchone()[0]
                sample = con.execute(f"({a} except all {b}) limit 3").fetchall() if only_bw else []
                sample_ref = con.execute(f"({b} except all {a}) limit 3").fetchall() if only_ref else []
            except duckdb.Error as exc:
                out["marts"][mart] = {"error": str(exc)}
                out["identical"] = False
                continue
            same = only_bw == 0 and only_ref == 0
            out["identical"] = out["identical"] and same
            out["marts"][mart] = {
                "rows": rows,
                "only_in_borderwatch": only_bw,
                "only_in_reference": only_ref,
                "identical": same,
                "sample_borderwatch": [list(map(str, r)) for r in sample],
                "sample_reference": [list(map(str, r)) for r in sample_ref],
                "columns_not_compared": unshared,
            }
    finally:
        con.close()
    return out


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, mart: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = ? and table_schema = 'marts' and table_name = ? order by ordinal_position",
        [catalog, mart],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in IGNORED_COLUMNS]
