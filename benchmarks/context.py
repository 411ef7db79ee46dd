"""What one benchmark run shares between measurements: its settings, prepared scenarios and the nightly
refresh samples that several measurements read (refresh ratio, growth, gate share, peak memory).

The nightly runs are planned up front from the selected measurements and executed in one interleaved
loop, so every comparison (BorderWatch vs reference, 1× vs 10× history) is measured side by side.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import WORK_DIR, alternate, run_worker

NightlyKey = tuple[str, float]  # ("bw" | "ref", history scale)


@dataclass(frozen=True)
class BenchConfig:
    """Command-line choices, resolved."""

    scales: tuple[float, ...]
    reps: int
    quick: bool
    seed: int = 7
    profile: bool = True
    startup_reps: int = 3
    dag_reps: int = 3
    ingest_scale: float = 1.0
    dags_test: bool = True

    @property
    def largest(self) -> float:
        return max(self.scales)

    @property
    def smallest(self) -> float:
        return min(self.scales)


@dataclass
class Context:
    """Shared state of one run; measurements read through it and never run the same job twice."""

    config: BenchConfig
    plan: set[NightlyKey] = field(default_factory=set)
    scenarios: dict[float, Any] = field(default_factory=dict)
    nightly: dict[NightlyKey, list[dict[str, Any]]] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def scenario(self, scale: float) -> Any:
        """The prepared history for one scale (simulator data, snapshot home, reference DB), built once."""
        if scale not in self.scenarios:
            from benchmarks.scenario import prepare_scenario

            self.scenarios[scale] = prepare_scenario(scale, seed=self.config.seed)
        return self.scenarios[scale]

    def nightly_samples(self, keys: Iterable[NightlyKey]) -> dict[NightlyKey, list[dict[str, Any]]]:
        """Samples of the nightly refresh for ``keys`` (plus everything planned), run interleaved once."""
        wanted = set(keys) | self.plan
        missing = sorted(k for k in wanted if k not in self.nightly)
        if missing:
            variants = {f"{kind}@{scale:g}": self._variant(kind, scale) for kind, scale in missing}
            samples = alternate(variants, self.config.reps)
            for kind, scale in missing:
                self.nightly[(kind, scale)] = samples[f"{kind}@{scale:g}"]
        return {k: self.nightly[k] for k in keys}

    def _variant(self, kind: str, scale: float) -> Any:
        scenario = self.scenario(scale)

        def bw(rep: int) -> dict[str, Any]:
            scenario.set_clock(scenario.night)
            home = scenario.fresh_home("bw")
            figures = run_worker(
                "refresh", ["--home", str(home), "--simulator-url", scenario.url], sample_memory=True
            )
            scenario.keep_result("bw", home)
            return figures

        def grow(rep: int) -> dict[str, Any]:
            # This scale's history, but the night pulled from the base scale's simulator: the increment is
            # byte for byte the one the base-scale "bw" runs refresh, so only the history size differs.
            base = self.scenario(self.config.smallest)
            base.set_clock(base.night)
            home = scenario.fresh_home("grow")
            return run_worker(
                "refresh", ["--home", str(home), "--simulator-url", base.url], sample_memory=True
            )

        def ref(rep: int) -> dict[str, Any]:
            db = scenario.fresh_reference_db(f"ref-{rep}")
            figures = run_worker(
                "reference", ["--db", str(db), "--files", str(scenario.night_files_json)], sample_memory=True
            )
            scenario.keep_result("ref", db)
            return figures

        return {"bw": bw, "grow": grow, "ref": ref}[kind]

    def close(self) -> None:
        """Stop simulator servers and remove the per-run copies (snapshots stay for the next run)."""
        for scenario in self.scenarios.values():
            scenario.close()
        shutil.rmtree(WORK_DIR / "runs", ignore_errors=True)
