"""Publish an audited candidate as a new version and switch readers to it with one atomic rename.

The version is built in ``published/.tmp-<version>/``: the candidate's file linked in (copied where links
fail) and hashed (the hash must equal the audited one, or nothing is published: the published database is
exactly the audited bytes), each mart's Parquet parts linked from the served version or written
(:func:`verify_and_export`), the report rendered, the manifest written, every file fsynced; then the
directory is renamed into place and only then is ``current`` swapped.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from borderwatch import duck
from borderwatch.config import REPO_ROOT, Settings
from borderwatch.files import fsync_dir, fsync_file, sha256_file
from borderwatch.locking import require_writer_lock
from borderwatch.publish.candidate import (
    Candidate,
    drop_candidate,
    fingerprint_parts,
    locate_candidate,
    refuse_broken_keys,
    refuse_changed,
)
from borderwatch.publish.core import (
    DB_NAME,
    GATE_INPUTS_BESIDE,
    MANIFEST_NAME,
    PARQUET_META_PREFIX,
    PARQUET_SCHEMA,
    PUBLISHED_SCHEMAS,
    REPORT_NAME,
    STORAGE_VERSION,
    TMP_PREFIX,
    GateVerdict,
    Publication,
    PublishError,
    count_rows,
    crash_point,
    fsync_files,
    ident,
    is_disk_full,
    place_and_hash,
    publication_from_manifest,
    sql_literal,
    sql_str,
    write_json,
)
from borderwatch.publish.dictionary import published_dictionary
from borderwatch.publish.versions import apply_retention, cleanup_stale, served_manifest, switch_current

if TYPE_CHECKING:
    from borderwatch.gate import GateResult

logger = logging.getLogger(__name__)


def publish(
    settings: Settings, candidate: Candidate, gate: GateResult, *, code_version: str | None = None
) -> Publication:
    """Publish the audited candidate as a new version and point ``current`` at it atomically.

    Runs under the writer lock (taken by :func:`borderwatch.pipeline.publish`, which decides "blocked").
    """
    from borderwatch.pipeline import PublicationBlocked

    require_writer_lock(settings, "publishing")
    if not gate.passed:
        raise PublicationBlocked(gate)
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    cleanup_stale(settings)
    served = served_manifest(settings)
    if served is not None and served.get("content") == candidate.content:
        # Same marts as the version being served (a night with nothing new, or a retried task whose
        # first try already switched): publish nothing, so no-op nights don't push meaningful versions
        # out of retention (rollback keeps its reach). Nothing is copied, so the candidate need not exist.
        drop_candidate(settings, candidate)
        path = settings.published_dir / str(served["version"])
        return replace(publication_from_manifest(path, served), unchanged=True)
    locate_candidate(settings, candidate)
    refuse_broken_keys(candidate)
    now = datetime.now(UTC)
    version = new_version(now)
    staging = settings.published_dir / f"{TMP_PREFIX}{version}"
    final = settings.published_dir / version
    try:
        code = code_version or git_describe()
        manifest = build_version(settings, staging, version, now, candidate, gate, code, served=served)
        crash_point("rename")
        os.rename(staging, final)
        fsync_dir(settings.published_dir)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError | duckdb.Error) and is_disk_full(exc):
            raise PublishError(
                f"{staging}: disk full while writing version {version} ({exc}); nothing was published "
                "and the current version keeps serving. Free space (or drop old versions with a lower "
                "BORDERWATCH_KEEP_VERSIONS) and publish again."
            ) from exc
        if isinstance(exc, OSError | duckdb.Error):
            raise PublishError(
                f"{staging}: could not write version {version}: {exc}; the current version keeps serving"
            ) from exc
        raise
    crash_point("switch")
    switch_current(settings, version)
    crash_point("retention")
    apply_retention(settings)
    drop_candidate(settings, candidate)
    return publication_from_manifest(final, manifest)


def build_version(
    settings: Settings,
    staging: Path,
    version: str,
    now: datetime,
    candidate: Candidate,
    gate: GateVerdict,
    code_version: str | None,
    *,
    served: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the whole version into ``staging``: database, Parquet, report, manifest, all fsynced.

    The database's fsync runs while DuckDB writes the Parquet files, so the disk flushes while the CPUs
    encode; nothing is renamed into place before every fsync has returned.
    """
    staging.mkdir(parents=True)
    db_path = staging / DB_NAME
    refuse_changed(candidate, place_and_hash(candidate.path, db_path))
    crash_point("place")
    refuse_unpublished_schemas(db_path)
    db_path.chmod(0o444)
    files = {DB_NAME: candidate.sha256}
    with ThreadPoolExecutor(max_workers=1) as flusher:
        db_synced: Future[None] = flusher.submit(fsync_file, db_path)
        crash_point("verify")
        dictionary = published_dictionary(db_path)
        counts, parts, digests = verify_and_export(
            db_path,
            candidate.content,
            candidate.tables,
            staging / "parquet",
            version,
            dictionary,
            served_parquet(settings, served, dictionary),
        )
        crash_point("report")
        report = render_report(db_path, staging / REPORT_NAME, version, now, counts)
        crash_point("manifest")
        parquet_files = [path for paths in parts.values() for path in paths]
        files.update({str(p.relative_to(staging)): digests.get(p) or sha256_file(p) for p in parquet_files})
        if report is not None:
            files[REPORT_NAME] = sha256_file(report)
        relative_root = Path(settings.published_dir.name) / version
        manifest = {
            "version": version,
            "created_at": now.isoformat(),
            "code_version": code_version,
            "build_db": str(settings.build_db),
            "candidate": candidate.sha256,
            "candidate_tables": candidate.tables,
            "storage_version": STORAGE_VERSION,
            "gate_inputs": GATE_INPUTS_BESIDE,
            "row_counts": counts,
            "files": files,
            "parquet": {
                table: [str(relative_root / p.relative_to(staging)) for p in paths]
                for table, paths in parts.items()
            },
            "parquet_reused": sorted({p.parent.name for p in digests}),
            "parquet_appended": sorted(
                t for t, paths in parts.items() if len(paths) > 1 and paths[-1].stem == version
            ),
            "report": REPORT_NAME if report is not None else None,
            "content": candidate.content,
            "dictionary": dictionary,
            "gate": gate.as_dict(),
        }
        manifest_path = staging / MANIFEST_NAME
        write_json(manifest_path, manifest)
        crash_point("fsync")
        written = [manifest_path, *parquet_files, *([report] if report else [])]
        for path in written:
            path.chmod(0o444)
        fsync_files(written)
        db_synced.result()
    for directory in (staging / "parquet").iterdir():
        fsync_dir(directory)
    fsync_dir(staging / "parquet")
    fsync_dir(staging)
    return manifest


def refuse_unpublished_schemas(db_path: Path) -> None:
    """The file holds the published schemas only: anything else (a gate input in a candidate written by an
    older BorderWatch, which kept them inside) must not reach readers, so nothing is published."""
    con = duck.connect(db_path, read_only=True)
    try:
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        extra = con.execute(
            "select distinct schema_name from duckdb_tables() where schema_name not in "
            f"({schemas}) union select distinct schema_name from duckdb_views() where not internal "
            f"and schema_name not in ({schemas}) order by 1"
        ).fetchall()
    finally:
        con.close()
    if extra:
        raise PublishError(
            f"{db_path}: the audited candidate holds schemas that are never published "
            f"({', '.join(str(s) for (s,) in extra)}); nothing was published. It was written by an older "
            "BorderWatch: run the refresh again to write and audit a new candidate."
        )


PARQUET_MAX_PARTS = 30
"""A mart whose served Parquet already has this many parts is written whole again (one part) instead of
gaining another: about a month of nightly appends, then one night pays the whole re-encode."""


@dataclass(frozen=True)
class ServedParts:
    """The served version's Parquet parts of one mart (each with its manifest sha256) and its content."""

    paths: list[Path]
    sha256: list[str]
    fingerprint: str


def served_parquet(
    settings: Settings, served: dict[str, Any] | None, dictionary: dict[str, Any]
) -> dict[str, ServedParts]:
    """Marts whose served parts this version may link: written as parts (a version from before parts has
    one file per mart and is exported afresh), listed with their sha256, and described as this version
    describes them (every part carries the descriptions in its metadata)."""
    if not served:
        return {}
    content, old_dictionary = served.get("content") or {}, served.get("dictionary") or {}
    files, version = served.get("files") or {}, str(served.get("version", ""))
    root = settings.published_dir / version
    out = {}
    for table, parts in (served.get("parquet") or {}).items():
        name = f"{PARQUET_SCHEMA}.{table}"
        if not isinstance(parts, list) or not parts or name not in content:
            continue
        rels = [f"parquet/{table}/{Path(str(part)).name}" for part in parts]
        if old_dictionary.get(name) != dictionary.get(name) or any(rel not in files for rel in rels):
            continue
        paths = [root / rel for rel in rels]
        out[name] = ServedParts(paths, [str(files[rel]) for rel in rels], content[name])
    return out


def verify_and_export(
    db_path: Path,
    content: dict[str, str],
    tables: dict[str, str],
    parquet_dir: Path,
    version: str,
    dictionary: dict[str, Any],
    served: dict[str, ServedParts] | None = None,
) -> tuple[dict[str, int], dict[str, list[Path]], dict[Path, str]]:
    """Reopen the finished file read-only, check every row count, write each mart's Parquet parts.

    Each mart is a directory of parts, ``parquet/<mart>/<version that wrote it>.parquet``. A mart whose
    content the served version already has links the served parts (hard links: no bytes copied or
    re-encoded); one whose candidate only appended rows (``tables``: the candidate's fate per table) links
    them and writes the new rows as one more part; anything else, or a served part whose bytes or
    metadata do not check out, is written whole as one part. Each part carries, in its key-value
    metadata, the version that wrote it, the relation, its description and a JSON object of column
    descriptions (``borderwatch.*`` keys). Returns the row counts, the parts per mart and the sha256 of
    every linked part (checked against the served manifest, so not read again).
    """
    parquet_dir.mkdir()
    expected = {name: fingerprint_parts(value)[0] for name, value in content.items()}
    con = duck.connect(db_path, read_only=True)
    # Row order is not part of a mart's contract (no SQL reader may rely on it): letting each thread write
    # its row groups as they finish cut the 30 M-row claims export from 37-39 s to 25-26 s (wall) and its
    # CPU by a quarter (benchmarks/results/publish-2026-12-02-session9.md).
    con.execute("SET preserve_insertion_order = false")
    digests: dict[Path, str] = {}
    parts: dict[str, list[Path]] = {}
    try:
        actual = {name: count_rows(con, ".".join(ident(p) for p in name.split("."))) for name in expected}
        if actual != expected:
            diff = {k: (expected[k], actual.get(k)) for k in expected if actual.get(k) != expected[k]}
            raise PublishError(
                f"{db_path}: row counts differ from the audited candidate (candidate, copy): {diff}"
            )
        crash_point("parquet")
        for name in sorted(expected):
            schema, table = name.split(".")
            if schema != PARQUET_SCHEMA:
                continue
            out = parquet_dir / table
            out.mkdir()
            metadata = parquet_metadata(version, name, dictionary)
            old = (served or {}).get(name)
            linked = _link_parts(con, old, out, metadata, content[name], tables.get(name)) if old else None
            if linked is None:
                for path in out.iterdir():
                    path.unlink()
                export_parquet(con, f"{ident(schema)}.{ident(table)}", out / f"{version}.parquet", metadata)
                parts[table] = [out / f"{version}.parquet"]
                continue
            digests.update(linked)
            parts[table] = sorted(out.iterdir())
    finally:
        con.close()
    return actual, parts, digests


def _link_parts(
    con: duckdb.DuckDBPyConnection,
    old: ServedParts,
    out: Path,
    metadata: dict[str, str],
    built: str,
    fate: str | None,
) -> dict[Path, str] | None:
    """Link the served parts into ``out`` and, for a mart that only gained rows, write them as a new part.

    None (write the mart whole) when the content changed otherwise, when another part would exceed
    :data:`PARQUET_MAX_PARTS`, or when a served part's sha256, row count or metadata does not check out.
    The new rows are the candidate's rows past the served row count (an append adds rows after a copy of
    the served table); their count and row-hash sum must make the served fingerprint into the built one.
    """
    appended = old.fingerprint != built
    if appended and (fate != "appended" or len(old.paths) >= PARQUET_MAX_PARTS):
        return None
    linked: dict[Path, str] = {}
    try:
        for path, digest in zip(old.paths, old.sha256, strict=True):
            target = out / path.name
            if place_and_hash(path, target) != digest:
                return _not_linked(out, f"{path}: sha256 differs from its manifest")
            linked[target] = digest
        files = "[" + ", ".join(f"'{sql_str(p)}'" for p in linked) + "]"
        rows = con.execute(f"select sum(num_rows) from parquet_file_metadata({files})").fetchone()
        kv = con.execute(
            f"select file_name, decode(key), decode(value) from parquet_kv_metadata({files})"
        ).fetchall()
        served_rows, served_sum = fingerprint_parts(old.fingerprint)
        built_rows, built_sum = fingerprint_parts(built)
        want = {PARQUET_META_PREFIX + k: v for k, v in metadata.items() if k != "version"}
        for path in linked:
            got = {k: v for f, k, v in kv if Path(f) == path}
            if got.pop(PARQUET_META_PREFIX + "version", None) != path.stem or got != want:
                return _not_linked(out, f"{path.name}: its metadata is not this mart's")
        if rows is None or rows[0] != served_rows:
            return _not_linked(out, f"the served parts hold {rows and rows[0]} rows, not {served_rows}")
        if appended:
            relation = ".".join(ident(p) for p in metadata["relation"].split("."))
            new = f"select * from {relation} as t where rowid >= {served_rows}"
            count, total = con.execute(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from ({new}) as t"
            ).fetchone() or (0, 0)
            if (served_rows + count, served_sum + int(total)) != (built_rows, built_sum):
                return _not_linked(out, "the rows after the served ones are not the night's new rows")
            export_parquet(con, f"({new})", out / f"{metadata['version']}.parquet", metadata)
    except (OSError, duckdb.Error) as exc:
        return _not_linked(out, str(exc))
    return linked


def _not_linked(out: Path, reason: str) -> dict[Path, str] | None:
    """Log why a mart's served parts are not reused; None: the caller writes the mart whole."""
    logger.info("%s: served Parquet parts not reused (%s); writing the mart whole", out.name, reason)
    return None


def parquet_metadata(version: str, relation: str, dictionary: dict[str, Any]) -> dict[str, str]:
    entry = dictionary.get(relation) or {}
    return {
        "version": version,
        "relation": relation,
        "description": entry.get("description", ""),
        "columns": json.dumps(
            {c: spec.get("description", "") for c, spec in (entry.get("columns") or {}).items()},
            ensure_ascii=False,
        ),
    }


def export_parquet(con: duckdb.DuckDBPyConnection, source: str, out: Path, metadata: dict[str, str]) -> None:
    """One COPY per part (DuckDB encodes row groups on every thread), descriptions in KV metadata."""
    kv = ", ".join(
        f"{sql_literal(PARQUET_META_PREFIX + key)}: {sql_literal(value)}" for key, value in metadata.items()
    )
    con.execute(f"copy (select * from {source}) to '{sql_str(out)}' (format parquet, kv_metadata {{{kv}}})")


def render_report(
    db_path: Path, out: Path, version: str, now: datetime, row_counts: dict[str, int]
) -> Path | None:
    """The publication report; a charting failure is logged and never blocks the data itself."""
    from borderwatch.report import ReportError, render_publication_report

    try:
        return render_publication_report(db_path, out, version=version, created_at=now.isoformat())
    except (ReportError, duckdb.Error, ValueError) as exc:
        logger.error("version %s: could not render the publication report: %s", version, exc)
        out.unlink(missing_ok=True)
        return None


def git_describe() -> str | None:
    """``git describe --always --dirty`` of the code that published, when run from a checkout."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def new_version(now: datetime) -> str:
    """UTC timestamp (microseconds, so names sort in publication order) plus a short random hash."""
    return f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{uuid.uuid4().hex[:8]}"
