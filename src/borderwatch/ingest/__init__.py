"""Ingest: pull feeds and the drop inbox into the landing archive, then load the raw schema.

Public API (the caller holds the build-file writer lock; nothing here locks):

- ``ingest_feed(settings, spec, *, client=None) -> LoadReport``
- ``ingest_all(settings, feeds=None) -> list[LoadReport]`` — one feed's failure is recorded in its report
  (status ``'failed'``) and the others go on; nothing is raised for a feed failure.
- ``ingest_inbox(settings) -> list[LoadReport]``
- ``replay(settings, target_db=None) -> list[LoadReport]`` — rebuild ``raw`` from the landing archive alone.

Every report is printed (``render_reports``), stored in ``raw._loads`` and written as JSON under
``settings.reports_dir/loads/``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb
import httpx

from borderwatch.config import Settings
from borderwatch.ingest.errors import (
    FetchError,
    FileFormatError,
    IngestError,
    LineTooLongError,
    RejectRateExceeded,
    SchemaDriftError,
    UnsafeInboxFileError,
    ZipBombError,
)
from borderwatch.ingest.inbox import process_inbox, safe_inbox_path
from borderwatch.ingest.landing import LandedFile, LandingArchive
from borderwatch.ingest.loader import (
    FileLoadResult,
    TableLoadResult,
    ensure_control_tables,
    load_file,
    load_landed_file,
)
from borderwatch.ingest.pull import Fetcher, pull_api, pull_files
from borderwatch.ingest.report import LoadReport, render_reports, save_report
from borderwatch.specs import FeedSpec, load_specs

__all__ = [
    "FetchError",
    "FileFormatError",
    "FileLoadResult",
    "IngestError",
    "LandedFile",
    "LandingArchive",
    "LineTooLongError",
    "LoadReport",
    "RejectRateExceeded",
    "ReplayError",
    "SchemaDriftError",
    "TableLoadResult",
    "UnsafeInboxFileError",
    "ZipBombError",
    "connect_build_db",
    "ingest_all",
    "ingest_feed",
    "ingest_inbox",
    "load_file",
    "load_landed_file",
    "render_reports",
    "replay",
    "safe_inbox_path",
]


class ReplayError(IngestError):
    """Replay cannot start (the target exists, or the archive is empty)."""


def connect_build_db(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file for writing; extensions are never downloaded at run time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("SET autoinstall_known_extensions=false")
    return con


def _archive(settings: Settings) -> LandingArchive:
    return LandingArchive(settings.landing_dir)


def _run_feed(
    con: duckdb.DuckDBPyConnection, settings: Settings, spec: FeedSpec, client: httpx.Client
) -> LoadReport:
    """Pull one feed; failures become the report's error (the feed fails closed, others go on)."""
    report = LoadReport(feed=spec.name, source="pull")
    archive = _archive(settings)
    try:
        if spec.source.kind == "http_api":
            pull_api(con, settings, spec, archive, Fetcher(client, spec), report)
        elif spec.source.kind == "http_files":
            pull_files(con, settings, spec, archive, Fetcher(client, spec), report)
        else:
            report.source = "inbox"
            inbox_reports = process_inbox(con, settings, [spec], archive)
            for other in inbox_reports:
                if other.feed == spec.name:
                    other.load_id = report.load_id
                    report = other
    except (IngestError, OSError, httpx.HTTPError) as exc:
        report.add_error(f"{type(exc).__name__}: {exc}")
    return report.finish()


def _save_all(con: duckdb.DuckDBPyConnection, settings: Settings, reports: list[LoadReport]) -> None:
    for report in reports:
        save_report(con, settings, report)
    if reports:
        render_reports(reports)


@contextlib.contextmanager
def _client(client: httpx.Client | None):  # type: ignore[no-untyped-def]
    if client is not None:
        yield client
        return
    with httpx.Client(follow_redirects=True, trust_env=False) as owned:
        yield owned


def ingest_feed(settings: Settings, spec: FeedSpec, *, client: httpx.Client | None = None) -> LoadReport:
    """Pull one feed into landing and raw; returns (and prints, stores) its report."""
    settings.ensure_dirs()
    con = connect_build_db(settings.build_db)
    try:
        ensure_control_tables(con)
        with _client(client) as http:
            report = _run_feed(con, settings, spec, http)
        _save_all(con, settings, [report])
    finally:
        con.close()
    return report


def ingest_all(
    settings: Settings, feeds: list[str] | None = None, *, client: httpx.Client | None = None
) -> list[LoadReport]:
    """Pull every (or the named) feed; failed feeds are reported with status 'failed', never raised."""
    specs = load_specs(settings.feeds_dir)
    if feeds is not None:
        unknown = sorted(set(feeds) - set(specs))
        if unknown:
            raise ValueError(
                f"unknown feed(s) {unknown}; known feeds: {sorted(specs)} (see {settings.feeds_dir})"
            )
        specs = {name: specs[name] for name in feeds}
    settings.ensure_dirs()
    con = connect_build_db(settings.build_db)
    try:
        ensure_control_tables(con)
        with _client(client) as http:
            reports = [_run_feed(con, settings, spec, http) for spec in specs.values()]
        _save_all(con, settings, reports)
    finally:
        con.close()
    return reports


def ingest_inbox(settings: Settings) -> list[LoadReport]:
    """Land and load the drop inbox; refused files go to inbox/.rejected/ with an error file."""
    specs = list(load_specs(settings.feeds_dir).values())
    settings.ensure_dirs()
    con = connect_build_db(settings.build_db)
    try:
        ensure_control_tables(con)
        reports = process_inbox(con, settings, specs, _archive(settings))
        _save_all(con, settings, reports)
    finally:
        con.close()
    return reports


def replay(settings: Settings, target_db: Path | None = None) -> list[LoadReport]:
    """Rebuild the raw schema from the landing archive alone, in manifest order, into a fresh DuckDB file.

    With ``target_db`` (which must not exist) the build file is left alone. Without it, the fresh file
    replaces ``settings.build_db`` atomically once complete (dbt models are rebuilt by the next build).
    The raw tables equal the original's except for ``_load_id`` and ``_loaded_at``.
    """
    archive = _archive(settings)
    if not archive.manifest_path.exists():
        raise ReplayError(f"nothing to replay: {archive.manifest_path} does not exist")
    target = Path(target_db) if target_db is not None else settings.build_db
    if target_db is not None and target.exists():
        raise ReplayError(f"replay target {target} already exists; replay writes a fresh file only")
    specs = load_specs(settings.feeds_dir)
    tmp = target.with_name(f".{target.name}.replay-{os.getpid()}")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    reports: dict[str, LoadReport] = {}
    con = connect_build_db(tmp)
    try:
        ensure_control_tables(con)
        for landed in archive.iter_manifest():
            report = reports.setdefault(landed.feed, LoadReport(feed=landed.feed, source="replay"))
            report.files_seen += 1
            spec = specs.get(landed.feed)
            if spec is None:
                report.add_error(
                    f"no spec for feed {landed.feed!r} in {settings.feeds_dir}", file_name=landed.file_name
                )
                continue
            try:
                report.add_file(load_landed_file(con, spec, landed, report.load_id))
            except IngestError as exc:
                report.files_rejected += 1
                report.add_error(str(exc), file_name=landed.file_name)
        finished = [r.finish() for r in reports.values()]
        _save_all(con, settings, finished)
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, target)
    return finished
