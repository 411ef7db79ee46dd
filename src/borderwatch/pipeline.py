"""The nightly refresh as plain function calls: ingest → dbt build → audit → publish.

Airflow tasks, the CLI and the benchmarks all call these functions, so the pipeline runs and is tested
without Airflow. This module is the one seam between the steps:

* it is the only place that takes the build-file writer lock (the library functions that need it refuse
  to run without it);
* ``build`` runs ``dbt build`` and snapshots the result into an immutable :class:`~borderwatch.publish.
  Candidate` under ONE hold of the lock, so the dbt test results and the data they judged travel together;
* ``audit`` runs the gate on that candidate (no lock needed: nobody writes it);
* ``publish`` decides "blocked" (raising :class:`PublicationBlocked`, the one exception that means it),
  sends the one alert, and publishes exactly the audited candidate.

Results travel between steps (and Airflow tasks) as the typed :class:`Built` and :class:`Audited`, each
with an explicit ``as_dict``/``from_dict``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.locking import build_writer_lock
from borderwatch.publish import Candidate

if TYPE_CHECKING:
    from borderwatch.ingest import LoadReport
    from borderwatch.publish import Publication, RepairReport
    from borderwatch.warehouse import BuildResult


class PublicationBlocked(RuntimeError):
    """The audit failed: nothing was published; readers stay on the version they had (if any)."""

    def __init__(self, gate: GateResult) -> None:
        self.gate = gate
        super().__init__(
            "publication blocked by the quality gate: nothing was published, and BI readers stay on the "
            "version `borderwatch versions` marks current (none yet on a first run). "
            f"Failing checks: {', '.join(gate.blocking_failures) or 'see report'}; "
            f"report: {gate.summary_path}"
        )


@dataclass(frozen=True)
class Built:
    """What the build step hands to the audit: dbt's results and the candidate snapshot they describe."""

    build: BuildResult
    candidate: Candidate

    # The gate reads ``ok`` and ``results`` (its BuildResultLike protocol); the CLI prints the rest.
    @property
    def ok(self) -> bool:
        return self.build.ok

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.build.results

    @property
    def row_counts(self) -> dict[str, int]:
        return self.build.row_counts

    @property
    def failed_tests(self) -> list[str]:
        return self.build.failed_tests

    @property
    def elapsed_s(self) -> float:
        return self.build.elapsed_s

    @property
    def run_results_path(self) -> Path | None:
        return self.build.run_results_path

    def as_dict(self) -> dict[str, Any]:
        return {**self.build.as_dict(), "candidate": self.candidate.as_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Built:
        from borderwatch.warehouse import BuildResult

        build = BuildResult(
            ok=bool(data["ok"]),
            results=list(data.get("results", [])),
            failed_tests=list(data.get("failed_tests", [])),
            warned_tests=list(data.get("warned_tests", [])),
            row_counts={str(k): int(v) for k, v in data.get("row_counts", {}).items()},
            elapsed_s=float(data.get("elapsed_s", 0.0)),
            run_results_path=Path(data["run_results_path"]) if data.get("run_results_path") else None,
            manifest_path=Path(data["manifest_path"]) if data.get("manifest_path") else None,
            rebuilt_models=[str(name) for name in data.get("rebuilt_models", [])],
            not_rerun=[str(name) for name in data.get("not_rerun", [])],
        )
        return cls(build=build, candidate=Candidate.from_dict(data["candidate"]))


@dataclass(frozen=True)
class Audited:
    """A gate verdict bound to the candidate it judged: publish accepts nothing else."""

    candidate: Candidate
    gate: GateResult

    @property
    def passed(self) -> bool:
        return self.gate.passed

    def as_dict(self) -> dict[str, Any]:
        return {**self.gate.as_dict(), "candidate": self.candidate.as_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Audited:
        gate = {k: v for k, v in data.items() if k != "candidate"}
        return cls(candidate=Candidate.from_dict(data["candidate"]), gate=GateResult.from_dict(gate))


@dataclass
class RefreshSummary:
    loads: list[LoadReport] = field(default_factory=list)
    build: Built | None = None
    gate: GateResult | None = None
    publication: Publication | None = None

    @property
    def new_rows(self) -> int:
        return sum(r.rows_loaded for r in self.loads)

    def as_dict(self) -> dict[str, Any]:
        return {
            "loads": [r.as_dict() for r in self.loads],
            "new_rows": self.new_rows,
            "build": self.build.as_dict() if self.build else None,
            "gate": self.gate.as_dict() if self.gate else None,
            "publication": self.publication.as_dict() if self.publication else None,
        }


@contextmanager
def build_file_access(settings: Settings, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the build file for a command that opens it outside the steps (explain, dbt docs).

    The one way besides the steps below to take the writer lock, so a read never breaks a running
    write; yields the build file's path. Raises ``BuildLocked`` (naming the holder) after ``timeout``.
    """
    with build_writer_lock(settings, timeout=timeout):
        yield settings.build_db


def ingest(
    settings: Settings, feeds: list[str] | None = None, *, include_inbox: bool = True
) -> list[LoadReport]:
    """Pull every (or the named; ``[]`` for none) feed and the drop inbox into landing and raw."""
    from borderwatch.ingest import ingest_all, ingest_inbox

    with build_writer_lock(settings):
        reports = ingest_all(settings, feeds=feeds)
        if include_inbox:
            reports += ingest_inbox(settings)
    return reports


def replay(settings: Settings, target: Path | None = None) -> list[LoadReport]:
    """Rebuild the raw schema from the landing archive; into the build file (under the lock) by default."""
    from borderwatch.ingest import replay as _replay

    if target is not None:
        return _replay(settings, target)
    with build_writer_lock(settings):
        return _replay(settings, None)


def build(settings: Settings, *, full_refresh: bool = False) -> Built:
    """One ``dbt build`` on the build file, then its immutable candidate snapshot, in one lock hold."""
    from borderwatch.publish import snapshot_candidate
    from borderwatch.warehouse import build_warehouse, dbt_target_dir

    with build_writer_lock(settings):
        result = build_warehouse(settings, full_refresh=full_refresh)
        manifest = result.manifest_path or dbt_target_dir(settings) / "manifest.json"
        candidate = snapshot_candidate(settings, dbt_manifest=manifest)
    return Built(build=result, candidate=candidate)


def snapshot(settings: Settings) -> Candidate:
    """A candidate of the build file as it stands (no dbt run): for re-auditing and tests."""
    from borderwatch.publish import snapshot_candidate
    from borderwatch.warehouse import dbt_target_dir

    with build_writer_lock(settings):
        return snapshot_candidate(settings, dbt_manifest=dbt_target_dir(settings) / "manifest.json")


def audit(settings: Settings, built: Built) -> Audited:
    """dbt test results plus the Great Expectations suites on the candidate: one verdict, never raises.

    The gate reads the candidate file, not the build file, so no lock is needed and an operator's
    build meanwhile cannot change what was judged.
    """
    from borderwatch.gate import run_gate
    from borderwatch.publish import gate_inputs_problem

    problem = gate_inputs_problem(built.candidate)
    gate = run_gate(_settings_on(settings, built.candidate), built, candidate_problem=problem)
    return Audited(candidate=built.candidate, gate=gate)


def block_if_failed(audited: Audited, *, notify: bool = True) -> None:
    """THE decision "blocked": raise :class:`PublicationBlocked` for a failed verdict.

    ``notify`` sends the library's one alert (``borderwatch.gate.notify_failure``); under Airflow the
    task passes ``notify=False`` and the DAG's notifier sends it instead, so a run alerts exactly once.
    """
    if audited.gate.passed:
        return
    if notify:
        from borderwatch.gate import notify_failure

        notify_failure(audited.gate)
    raise PublicationBlocked(audited.gate)


def publish(
    settings: Settings, audited: Audited, *, notify: bool = True, code_version: str | None = None
) -> Publication:
    """Publish exactly the audited candidate, atomically; blocked (one alert) when the gate failed."""
    from borderwatch.publish import publish as _publish

    block_if_failed(audited, notify=notify)
    with build_writer_lock(settings):
        publication = _publish(settings, audited.candidate, audited.gate, code_version=code_version)
        serve(settings, publication)
        return publication


def serve(settings: Settings, publication: Publication) -> None:
    """Load the published version into the PostgreSQL serving warehouse, when one is configured.

    A PostgreSQL failure raises ``ServingError`` (loud: the run fails) but never un-publishes the files;
    the next run or retry loads the missing version (idempotent by version).
    """
    from borderwatch.serving import serve_publication

    serve_publication(settings, publication)


def rollback(settings: Settings, version: str | None = None) -> Publication:
    """Move ``current`` back to an older (verified) version; the PostgreSQL serving warehouse follows."""
    from borderwatch.publish import rollback as _rollback
    from borderwatch.serving import serve_rollback

    with build_writer_lock(settings):
        publication = _rollback(settings, version)
        serve_rollback(settings, publication)
        return publication


def repair(settings: Settings) -> RepairReport:
    """Remove published versions that cannot be verified; ``current`` moves to the newest intact one."""
    from borderwatch.publish import repair as _repair

    with build_writer_lock(settings):
        return _repair(settings)


@contextmanager
def gate_warming() -> Iterator[None]:
    """GX's 6-8 s import runs in a worker process while the steps inside (ingest, dbt build) run; the
    :func:`audit` after them takes the warm worker. A step that raises stops the worker."""
    from borderwatch.gate import discard_worker, warm_up

    warm_up()
    try:
        yield
    except BaseException:
        discard_worker()
        raise


def refresh(
    settings: Settings, *, feeds: list[str] | None = None, full_refresh: bool = False
) -> RefreshSummary:
    """The whole nightly refresh. Raises PublicationBlocked (after one alert) when the gate fails."""
    settings.ensure_dirs()
    summary = RefreshSummary()
    with gate_warming():
        summary.loads = ingest(settings, feeds)
        summary.build = build(settings, full_refresh=full_refresh)
    audited = audit(settings, summary.build)
    summary.gate = audited.gate
    summary.publication = publish(settings, audited)
    return summary


def _settings_on(settings: Settings, candidate: Candidate) -> Settings:
    """Settings whose ``build_db`` is the candidate, so the gate (which reads ``build_db``) audits it."""
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    return _CandidateSettings(**values, candidate_db=candidate.path)


@dataclass(frozen=True)
class _CandidateSettings(Settings):
    """``Settings`` of the same home whose build file is an audited candidate (read-only)."""

    candidate_db: Path = Path()

    @property
    def build_db(self) -> Path:
        return self.candidate_db
