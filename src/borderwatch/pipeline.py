"""The nightly refresh as plain function calls: ingest → dbt build → audit → publish.

Airflow tasks, the CLI and the benchmarks all call these functions, so the pipeline runs and is tested
without Airflow. Every step that writes the build file runs under the single-writer lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from borderwatch.config import Settings

if TYPE_CHECKING:
    from borderwatch.gate import GateResult
    from borderwatch.ingest import LoadReport
    from borderwatch.publish import Publication
    from borderwatch.warehouse import BuildResult


class PublicationBlocked(RuntimeError):
    """The audit failed: nothing was published and the previous version keeps serving."""

    def __init__(self, gate: GateResult) -> None:
        self.gate = gate
        super().__init__(
            "publication blocked by the quality gate; the previous version keeps serving. "
            f"Failing checks: {', '.join(gate.blocking_failures) or 'see report'}; "
            f"report: {gate.summary_path}"
        )


@dataclass
class RefreshSummary:
    loads: list[LoadReport] = field(default_factory=list)
    build: BuildResult | None = None
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


def ingest(
    settings: Settings, feeds: list[str] | None = None, *, include_inbox: bool = True
) -> list[LoadReport]:
    """Pull every (or the named) feed and the drop inbox into landing and the raw schema."""
    from borderwatch.ingest import ingest_all, ingest_inbox
    from borderwatch.locking import build_writer_lock

    with build_writer_lock(settings):
        reports = ingest_all(settings, feeds=feeds)
        if include_inbox:
            reports += ingest_inbox(settings)
    return reports


def build(settings: Settings, *, full_refresh: bool = False) -> BuildResult:
    """Run one ``dbt build`` (models, seeds, snapshots and dbt tests) on the build file."""
    from borderwatch.locking import build_writer_lock
    from borderwatch.warehouse import build_warehouse

    with build_writer_lock(settings):
        return build_warehouse(settings, full_refresh=full_refresh)


def audit(settings: Settings, build_result: BuildResult) -> GateResult:
    """dbt test results plus the Great Expectations suites: one gate verdict."""
    from borderwatch.gate import run_gate
    from borderwatch.locking import build_writer_lock

    with build_writer_lock(settings):
        return run_gate(settings, build_result)


def publish(settings: Settings, gate: GateResult, *, code_version: str | None = None) -> Publication:
    """Publish the audited build atomically; refuses when the gate did not pass."""
    from borderwatch.locking import build_writer_lock
    from borderwatch.publish import publish as _publish

    if not gate.passed:
        raise PublicationBlocked(gate)
    with build_writer_lock(settings):
        publication = _publish(settings, gate, code_version=code_version)
        serve(settings, publication)
        return publication


def serve(settings: Settings, publication: Publication) -> None:
    """Load the published version into the PostgreSQL serving warehouse, when one is configured.

    A PostgreSQL failure raises ``ServingError`` (loud: the run fails) but never un-publishes the files;
    the next run or retry loads the missing version (idempotent by version).
    """
    from borderwatch.serving import serve_publication

    serve_publication(settings, publication)


def refresh(
    settings: Settings, *, feeds: list[str] | None = None, full_refresh: bool = False
) -> RefreshSummary:
    """The whole nightly refresh. Raises PublicationBlocked when the gate fails."""
    settings.ensure_dirs()
    summary = RefreshSummary()
    summary.loads = ingest(settings, feeds)
    summary.build = build(settings, full_refresh=full_refresh)
    summary.gate = audit(settings, summary.build)
    summary.publication = publish(settings, summary.gate)
    return summary
