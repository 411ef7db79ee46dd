"""Timing primitives every measurement shares: interleaved repetitions, summary statistics, process-tree
memory sampling and subprocess workers.

Comparisons are always run side by side in one process of the harness, alternating the order of the variants
on every repetition, so drift (page cache, CPU frequency, a noisy neighbour) hits both sides alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / "work"
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
GIB = 1024**3
MIB = 1024**2


class WorkerError(RuntimeError):
    """A benchmark worker subprocess failed; the message carries its command, exit code and output tail."""


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Median and min–max of repeated figures: the median resists one slow outlier, the range shows noise."""
    clean = [float(v) for v in values if v is not None]
    if not clean:
        return {"median": None, "min": None, "max": None, "n": 0, "values": []}
    return {
        "median": statistics.median(clean),
        "min": min(clean),
        "max": max(clean),
        "n": len(clean),
        "values": [round(v, 4) for v in clean],
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """A safe ratio for figures that may be missing or zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


Variant = Callable[[int], Mapping[str, Any]]


def alternate(variants: Mapping[str, Variant], reps: int) -> dict[str, list[dict[str, Any]]]:
    """Run every variant ``reps`` times, interleaved A B, B A, A B ... and time each call.

    A variant returns a mapping of its own figures; ``wall_s`` (harness-measured) is added unless the
    variant reports its own (e.g. a worker that excludes interpreter start-up).
    """
    names = list(variants)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            started = time.perf_counter()
            figures = dict(variants[name](rep))
            figures.setdefault("wall_s", time.perf_counter() - started)
            figures["rep"] = rep
            samples[name].append(figures)
    return samples


def column(samples: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    """One figure out of every sample (missing ones skipped)."""
    return [s[key] for s in samples if s.get(key) is not None]


@dataclass
class TreeMemorySampler:
    """Peak resident memory of a process and all its descendants, sampled on a thread.

    Sums RSS over the tree at each tick (dbt, DuckDB and Airflow may fork helpers); shared pages are counted
    once per process, so the figure is an upper bound, which is what a memory budget needs.
    """

    pid: int
    interval_s: float = 0.05
    peak_bytes: int = 0
    samples: int = 0
    # (epoch seconds, tree RSS, RSS per process label) of every tick, so a worker's step windows can be
    # matched to the memory they held (:func:`step_peaks`)
    timeline: list[tuple[float, int, dict[str, int]]] = field(default_factory=list)
    _labels: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _label(self, proc: psutil.Process) -> str:
        """``main`` for the worker itself, else a short command line (the GX worker, a dbt helper)."""
        if proc.pid == self.pid:
            return "main"
        if proc.pid not in self._labels:
            try:
                cmd = " ".join(proc.cmdline()[-3:])
            except psutil.Error:
                cmd = ""
            self._labels[proc.pid] = f"{proc.pid}: {cmd[-80:]}"
        return self._labels[proc.pid]

    def _tree_rss(self) -> tuple[int, dict[str, int]]:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0, {}
        parts: dict[str, int] = {}
        for proc in procs:
            try:
                parts[self._label(proc)] = proc.memory_info().rss
            except psutil.Error:
                continue
        return sum(parts.values()), parts

    def _run(self) -> None:
        while not self._stop.is_set():
            total, parts = self._tree_rss()
            self.peak_bytes = max(self.peak_bytes, total)
            self.timeline.append((time.time(), total, parts))
            self.samples += 1
            self._stop.wait(self.interval_s)

    def __enter__(self) -> TreeMemorySampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


def step_peaks(
    timeline: Sequence[tuple[float, int, Mapping[str, int]]], spans: Mapping[str, Sequence[float]]
) -> dict[str, dict[str, Any]]:
    """Peak tree RSS inside each step's ``[start, end]`` epoch window, and which processes held it.

    A step shorter than the sampling interval may hold no tick: it then gets the nearest tick after its
    start (the memory it left behind), marked ``sampled: False``.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, (start, end) in spans.items():
        inside = [s for s in timeline if start <= s[0] <= end]
        sampled = bool(inside)
        if not inside:
            inside = [s for s in timeline if s[0] >= start][:1]
        if not inside:
            continue
        at, total, parts = max(inside, key=lambda s: s[1])
        out[name] = {
            "peak_rss_bytes": total,
            "at_s": round(at - start, 2),
            "processes": dict(sorted(parts.items(), key=lambda kv: -kv[1])),
            "sampled": sampled,
        }
    return out


def worker_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for worker subprocesses: repo importable, Airflow confined to the scratch tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")])
    env.setdefault("AIRFLOW_HOME", str(WORK_DIR / "airflow"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags"))
    env.setdefault("DO_NOT_TRACK", "1")  # dbt and GX: no anonymous usage pings (there is no network anyway)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


def run_worker(
    command: str,
    args: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 1800,
    sample_memory: bool = False,
) -> dict[str, Any]:
    """Run ``python -m benchmarks.worker <command>`` in a fresh interpreter and return its JSON figures.

    Adds ``wall_s`` (spawn to exit, interpreter start-up included) and, when asked, ``peak_rss_bytes`` of
    the worker's whole process tree, plus ``step_peak_rss`` when the worker reports ``step_spans``.
    """
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    out = WORK_DIR / f".worker-{os.getpid()}-{time.monotonic_ns()}.json"
    argv = [sys.executable, "-m", "benchmarks.worker", command, "--out", str(out), *args]
    started = time.perf_counter()
    with open(WORK_DIR / "worker.log", "ab") as log:
        log.write(f"\n==== {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=dict(env or worker_env()), stdout=log, stderr=log)
        sampler = TreeMemorySampler(proc.pid) if sample_memory else None
        try:
            if sampler:
                with sampler:
                    rc = proc.wait(timeout=timeout_s)
            else:
                rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise WorkerError(f"worker {command} {list(args)} timed out after {timeout_s:.0f}s") from None
    wall = time.perf_counter() - started
    if rc != 0 or not out.exists():
        raise WorkerError(
            f"worker `{command}` exited with {rc}; last lines of {WORK_DIR / 'worker.log'}:\n{log_tail()}"
        )
    figures = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    figures["wall_s"] = wall
    if sampler:
        figures["peak_rss_bytes"] = sampler.peak_bytes
        if figures.get("step_spans"):
            figures["step_peak_rss"] = step_peaks(sampler.timeline, figures["step_spans"])
    return figures


def log_tail(lines: int = 30) -> str:
    """The end of the shared worker log, for error messages."""
    path = WORK_DIR / "worker.log"
    if not path.exists():
        return "(no worker log)"
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 20000))
        text = fh.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def dir_bytes(path: Path) -> int:
    """Total size of the regular files under a directory (or of one file)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
