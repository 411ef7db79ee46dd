"""Run: wire extract → load for ``ingest``, ``ingest --no-pull`` (the inbox) and ``replay``.

Each feed is its own unit: whatever goes wrong with one becomes that feed's report error in operator
terms, and the others go on. Files that landed before a pull failed are still loaded; inbox files never
wait for a pull. Every report is printed, stored in ``raw._loads`` and as JSON under ``reports/loads/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb
import httpx

from borderwatch.config import Settings
from borderwatch.ingest import cursors
from borderwatch.ingest.contract import ensure_raw_schema
from borderwatch.ingest.errors import IngestError
from borderwatch.ingest.extract import pull_api, pull_files
from borderwatch.ingest.http import Fetcher
from borderwatch.ingest.inbox import land_inbox, settle
from borderwatch.ingest.landing import LandedFile, LandingArchive
from borderwatch.ingest.load import load_files
from borderwatch.ingest.report import FileLoadResult, LoadReport, render_reports, save_report
from borderwatch.sources import connection_for
from borderwatch.specs import FeedSpec, load_specs

INBOX_REPORT = "inbox"  # report name for inbox files that belong to no feed


class ReplayError(IngestError):
    """Replay cannot start (the target exists, or the archive is empty)."""


def connect_build_db(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file for writing; extensions are never downloaded at run time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("SET autoinstall_known_extensions=false")
    return con


def _load(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    report: LoadReport,
    durable: Callable[[], None] | None = None,
) -> Sequence[FileLoadResult | IngestError | None]:
    """Load landed files into raw and fold the outcomes into the feed's report.

    ``None`` per file when the load itself failed (not the files): they are kept for the next run.
    """
    try:
        outcomes = load_files(con, spec, files, report.load_id, durable=durable)
    except Exception as exc:
        report.add_error(
            f"feed {spec.name!r}: loading {len(files)} landed file(s) failed ({type(exc).__name__}: {exc}); "
            "nothing of them was committed and they stay in landing: the next run loads them again"
        )
        return [None] * len(files)
    for landed, outcome in zip(files, outcomes, strict=True):
        if isinstance(outcome, FileLoadResult):
            report.add_file(outcome)
        else:
            report.files_rejected += 1
            report.add_error(str(outcome), file_name=landed.file_name)
    return outcomes


def _pull(
    con: duckdb.DuckDBPyConnection, settings: Settings, spec: FeedSpec, client: httpx.Client
) -> LoadReport:
    """Pull one feed then load what landed, even when the pull failed midway."""
    report = LoadReport(feed=spec.name, source="pull")
    archive = LandingArchive(settings.landing_dir)
    landed: list[LandedFile] = []
    try:
        source = connection_for(spec, settings)  # the agency's connection: base URL + credentials
        settings = dataclasses.replace(settings, simulator_url=source.base_url)
        fetcher = Fetcher(client, spec, headers=source.headers(), auth=source.auth())
        if spec.source.kind == "http_api":
            since = {
                s: cursors.get_cursor(con, cursors.cursor_key(spec, s)) for s in ("records", "deletions")
            }
            pull_api(settings, spec, archive, fetcher, since, landed)
        elif spec.source.kind == "http_files":
            landed = pull_files(settings, spec, archive, fetcher, cursors.get_cursor(con, spec.name))
    except Exception as exc:
        report.add_error(
            f"feed {spec.name!r}: could not pull from its source ({type(exc).__name__}: {exc}). Files that "
            "landed before were loaded, and its inbox files still load; check source in "
            f"feeds/{spec.name}.yaml "
            "or drop the files into the inbox",
            kind="source",
        )
    report.files_seen += len(landed)
    if landed:
        _load(con, spec, landed, report)
    return report.finish()


@contextlib.contextmanager
def _build_db(
    settings: Settings, specs: list[FeedSpec], path: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The build file (or ``path``) with every feed's raw tables present, empty until its first delivery."""
    settings.ensure_dirs()
    con = connect_build_db(path or settings.build_db)
    try:
        ensure_raw_schema(con, specs)
        yield con
    finally:
        con.close()


def _save_all(con: duckdb.DuckDBPyConnection, settings: Settings, reports: list[LoadReport]) -> None:
    for report in reports:
        save_report(con, settings, report)
    if reports:
        render_reports(reports)


def _pull_all(settings: Settings, chosen: list[FeedSpec], client: httpx.Client | None) -> list[LoadReport]:
    """Pull and load each chosen feed (an inbox-only feed gets an empty report); store and print them."""
    with contextlib.ExitStack() as stack:
        con = stack.enter_context(_build_db(settings, list(load_specs(settings.feeds_dir).values())))
        http = client or stack.enter_context(httpx.Client(follow_redirects=False, trust_env=False))
        reports = [
            _pull(con, settings, s, http) if s.source.kind != "inbox" else LoadReport(s.name).finish()
            for s in chosen
        ]
        _save_all(con, settings, reports)
    return reports


def ingest_feed(settings: Settings, spec: FeedSpec, *, client: httpx.Client | None = None) -> LoadReport:
    """Pull one feed into landing and raw; returns (and prints, stores) its report."""
    return _pull_all(settings, [spec], client)[0]


def ingest_all(
    settings: Settings, feeds: list[str] | None = None, *, client: httpx.Client | None = None
) -> list[LoadReport]:
    """Pull every (or the named) feed; failed feeds are reported with status 'failed', never raised."""
    specs = load_specs(settings.feeds_dir)
    if unknown := sorted(set(feeds or ()) - set(specs)):
        raise ValueError(
            f"unknown feed(s) {unknown}; known feeds: {sorted(specs)} (see {settings.feeds_dir})"
        )
    chosen = [s for name, s in specs.items() if (feeds is None or name in feeds) and s.source.kind != "inbox"]
    return _pull_all(settings, chosen, client)


def ingest_inbox(settings: Settings) -> list[LoadReport]:
    """Land and load the drop inbox; refused files go to inbox/.rejected/ with an error file."""
    specs = load_specs(settings.feeds_dir)
    orphans = LoadReport(feed=INBOX_REPORT, source="inbox")
    reports: list[LoadReport] = []
    with _build_db(settings, list(specs.values())) as con:
        archive = LandingArchive(settings.landing_dir)
        landed = land_inbox(settings, list(specs.values()), archive, orphans)
        durable = archive.sync_in_background()  # the fsyncs overlap reading; waited for before COMMIT
        if orphans.files_seen:
            reports.append(orphans.finish())
        for feed, entries in landed.items():
            report = LoadReport(feed=feed, source="inbox", files_seen=len(entries))
            outcomes = _load(con, specs[feed], [lf for _, lf in entries], report, durable)
            for (name, _lf), outcome in zip(entries, outcomes, strict=True):
                if outcome is not None:
                    settle(settings.inbox_dir, name, outcome if isinstance(outcome, IngestError) else None)
            reports.append(report.finish())
        with contextlib.suppress(OSError):  # a failed sync already failed every feed that had to commit
            durable()
        _save_all(con, settings, reports)
    return reports


def replay(settings: Settings, target_db: Path | None = None) -> list[LoadReport]:
    """Rebuild the raw schema from the landing archive alone: every manifest entry into a fresh file.

    With ``target_db`` (which must not exist) the build file is left alone. Without it, the fresh file
    replaces ``settings.build_db`` atomically once complete (dbt models are rebuilt by the next build).
    The raw tables equal the original's except for ``_load_id`` and ``_loaded_at``.
    """
    archive = LandingArchive(settings.landing_dir)
    if not archive.manifest_path.exists():
        raise ReplayError(f"nothing to replay: {archive.manifest_path} does not exist")
    target = Path(target_db) if target_db is not None else settings.build_db
    if target_db is not None and target.exists():
        raise ReplayError(f"replay target {target} already exists; replay writes a fresh file only")
    specs = load_specs(settings.feeds_dir)
    by_feed: dict[str, list[LandedFile]] = {}
    for landed in archive.iter_manifest():
        by_feed.setdefault(landed.feed, []).append(landed)
    tmp = target.with_name(f".{target.name}.replay-{os.getpid()}")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    reports: list[LoadReport] = []
    try:
        with _build_db(settings, list(specs.values()), tmp) as con:
            for feed, files in by_feed.items():
                report = LoadReport(feed=feed, source="replay", files_seen=len(files))
                if feed in specs:
                    _load(con, specs[feed], files, report)
                else:
                    report.add_error(
                        f"no spec for feed {feed!r} in {settings.feeds_dir}: its files were not replayed"
                    )
                reports.append(report.finish())
            _save_all(con, settings, reports)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return reports
