"""Prepared histories: for one simulator scale, a BorderWatch home and a reference database that hold
everything up to the day before "the night", so each repetition only refreshes one day's increment.

Setup is untimed (apart from the recorded history-load figures): the simulator generates the year's files
into ``benchmarks/data/``, one BorderWatch refresh loads the history (its peak memory is kept), the
reference script loads the same files, and both results are snapshotted under ``benchmarks/work/``.
Every repetition then starts from a fresh copy of the snapshot.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import DATA_DIR, WORK_DIR, run_worker

FILE_FEEDS = ("kh_gdi_deportations", "th_imm_receptions", "mfa_assistance", "nbtc_telecom")
REFERENCE_FEEDS = ("kh_gdi_deportations", "th_imm_receptions", "nbtc_telecom")
SIMULATOR_CACHE = DATA_DIR / "simulator"


def _server(seed: int, scale: float, until: date | None) -> Any:
    from borderwatch.simulator.server import SimulatorServer

    return SimulatorServer(port=0, seed=seed, scale=scale, until=until, cache_dir=SIMULATOR_CACHE).start()


@contextlib.contextmanager
def sample_server(seed: int = 7, scale: float = 1.0) -> Iterator[str]:
    """The sample scenario on loopback for one-off runs (``airflow dags test``)."""
    server = _server(seed, scale, None)
    try:
        yield server.url
    finally:
        server.stop()


def night_of(server: Any) -> date:
    """The benchmark night: the last NBTC publication day, so the increment has daily CSVs and a monthly
    NDJSON file (every format the reference covers)."""
    nbtc = server.app.visible_files("nbtc_telecom")
    return max(f.published.date() for f in nbtc)


@dataclass
class PreparedScenario:
    """One scale's simulator, history snapshot and the night's files."""

    scale: float
    seed: int
    server: Any
    night: date
    root: Path
    history_rows: int = 0
    night_rows: int = 0
    history_peak_bytes: int = 0
    setup: dict[str, Any] = field(default_factory=dict)
    last: dict[str, Path] = field(default_factory=dict)

    @property
    def history_until(self) -> date:
        return self.night - timedelta(days=1)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def snapshot_home(self) -> Path:
        return self.root / "snapshot-home"

    @property
    def snapshot_ref(self) -> Path:
        return self.root / "snapshot-reference.duckdb"

    @property
    def night_files_json(self) -> Path:
        return self.root / "night-files.json"

    @property
    def runs_dir(self) -> Path:
        return WORK_DIR / "runs" / f"scale{self.scale:g}"

    def set_clock(self, until: date) -> None:
        self.server.set_clock(until)

    def files(self, until: date, after: date | None = None) -> dict[str, list[Any]]:
        """Served files per feed published on or before ``until`` (and after ``after``)."""
        out = {}
        for feed in FILE_FEEDS:
            out[feed] = [
                f
                for f in self.server.app.visible_files(feed, until)
                if after is None or f.published.date() > after
            ]
        return out

    def night_files(self) -> dict[str, list[Any]]:
        return self.files(self.night, after=self.history_until)

    def fresh_home(self, label: str) -> Path:
        """A fresh copy of the history home at a stable path per ``label``, as a real home lives at one path.

        dbt's partial parse is keyed on the profile, which includes the build file's path; so the copy
        keeps the ``partial_parse.msgpack`` the previous repetition at this path left, and the first
        repetition at a path is preceded by an untimed ``dbt parse`` there.
        """
        target = self.runs_dir / label
        msgpack = Path("dbt") / "target" / "partial_parse.msgpack"
        kept = (target / msgpack).read_bytes() if (target / msgpack).is_file() else None
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.snapshot_home, target, symlinks=True)
        if kept is None:
            run_worker("parse", ["--home", str(target)])
        else:
            (target / msgpack).parent.mkdir(parents=True, exist_ok=True)
            (target / msgpack).write_bytes(kept)
        return target

    def fresh_reference_db(self, label: str) -> Path:
        target = self.runs_dir / f"{label}.duckdb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.copyfile(self.snapshot_ref, target)
        return target

    def keep_result(self, kind: str, path: Path) -> None:
        """Remember the latest run of each kind, for the mart comparison."""
        self.last[kind] = path

    def compare_marts(self) -> dict[str, Any]:
        """BorderWatch's marts after the night against the reference's (EXCEPT ALL both ways)."""
        from benchmarks.reference import compare_marts

        if "bw" not in self.last or "ref" not in self.last:
            return {"identical": None, "error": "no BorderWatch and reference run to compare"}
        return compare_marts(self.last["bw"] / "warehouse" / "build.duckdb", self.last["ref"])

    def close(self) -> None:
        self.server.stop()


def _rows(files: dict[str, list[Any]]) -> int:
    return sum(f.rows for fs in files.values() for f in fs)


def _reference_inputs(files: dict[str, list[Any]], rtp_pages: list[Path]) -> dict[str, list[str]]:
    out = {feed: [str(f.path) for f in files.get(feed, [])] for feed in REFERENCE_FEEDS}
    out["rtp_pages"] = [str(p) for p in rtp_pages]
    return out


def prepare_scenario(scale: float, seed: int = 7) -> PreparedScenario:
    """Generate the data, load the history into BorderWatch and the reference, snapshot both."""
    from benchmarks.reference import run_reference
    from borderwatch.simulator.scenario import write_rtp_pages

    t0 = time.perf_counter()
    server = _server(seed, scale, None)
    night = night_of(server)
    root = WORK_DIR / "snapshots" / f"seed{seed}-scale{scale:g}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    scenario = PreparedScenario(scale, seed, server, night, root)
    scenario.setup["generate_s"] = time.perf_counter() - t0
    history = scenario.files(scenario.history_until)
    night_files = scenario.night_files()
    scenario.history_rows = _rows(history)
    scenario.night_rows = _rows(night_files)

    pages = DATA_DIR / "rtp-pages" / f"seed{seed}-scale{scale:g}"
    shutil.rmtree(pages, ignore_errors=True)
    history_pages = write_rtp_pages(pages / "history", seed=seed, scale=scale, until=scenario.history_until)
    night_pages = write_rtp_pages(pages / "night", seed=seed, scale=scale, until=night)

    scenario.set_clock(scenario.history_until)
    figures = run_worker(
        "refresh", ["--home", str(scenario.snapshot_home), "--simulator-url", server.url], sample_memory=True
    )
    scenario.history_peak_bytes = figures.get("peak_rss_bytes", 0)
    scenario.setup["history_refresh_s"] = figures["wall_s"]
    scenario.setup["history_steps"] = figures.get("steps", {})
    scenario.setup["history_gate"] = figures.get("gate", {})

    t1 = time.perf_counter()
    run_reference(scenario.snapshot_ref, _reference_inputs(history, history_pages))
    scenario.setup["history_reference_s"] = time.perf_counter() - t1
    scenario.night_files_json.write_text(
        json.dumps(_reference_inputs(night_files, night_pages), indent=1), encoding="utf-8"
    )
    scenario.setup["total_s"] = time.perf_counter() - t0
    return scenario
