"""Publish an audited candidate as a new version and switch readers to it with one atomic rename.

The version is built in ``published/.tmp-<version>/``: the candidate's file linked in (copied where links
fail) and hashed (the hash must equal the audited one, or nothing is published: the published database is
exactly the audited bytes), the marts exported to Parquet, the report rendered, the manifest written,
every file fsynced; then the directory is renamed into place and only then is ``current`` swapped.
"""

from __future__ import annotations

import hashlib
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
        reuse = reusable_parquet(settings, served, candidate, dictionary)
        counts, parquet_files, digests = verify_and_export(
            db_path, candidate.row_counts, staging / "parquet", version, dictionary, reuse
        )
        crash_point("report")
        report = render_report(db_path, staging / REPORT_NAME, version, now, counts)
        crash_point("manifest")
        files.update({f"parquet/{p.name}": digests.get(p) or sha256_file(p) for p in parquet_files})
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
            "parquet": {p.stem: str(relative_root / "parquet" / p.name) for p in parquet_files},
            "parquet_reused": sorted(p.stem for p in digests),
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


@dataclass(frozen=True)
class Reusable:
    """A served version's Parquet file of a mart whose content and dictionary entry did not change."""

    path: Path
    sha256: str
    version: str


def reusable_parquet(
    settings: Settings, served: dict[str, Any] | None, candidate: Candidate, dictionary: dict[str, Any]
) -> dict[str, Reusable]:
    """Marts whose served Parquet file holds exactly what this version would export (same fingerprint,
    same columns, types and descriptions): their bytes are copied, not re-encoded."""
    if not served:
        return {}
    old_content, old_dictionary = served.get("content") or {}, served.get("dictionary") or {}
    files, version = served.get("files") or {}, str(served.get("version", ""))
    out = {}
    for name, fingerprint in candidate.content.items():
        schema, table = name.split(".", 1)
        rel = f"parquet/{table}.parquet"
        if (
            schema == PARQUET_SCHEMA
            and old_content.get(name) == fingerprint
            and old_dictionary.get(name) == dictionary.get(name)
            and rel in files
        ):
            out[name] = Reusable(settings.published_dir / version / rel, str(files[rel]), version)
    return out


def verify_and_export(
    db_path: Path,
    expected: dict[str, int],
    parquet_dir: Path,
    version: str,
    dictionary: dict[str, Any],
    reuse: dict[str, Reusable] | None = None,
) -> tuple[dict[str, int], list[Path], dict[Path, str]]:
    """Reopen the finished file read-only, check every row count, export each mart to Parquet.

    Each Parquet file carries, in its key-value metadata, the version, the relation, its description and a
    JSON object of column descriptions (``borderwatch.*`` keys), so a file that travels alone still explains
    itself and says which version it belongs to. A mart in ``reuse`` is copied from the served version
    with its version label rewritten (:func:`relabel_parquet`), when that copy checks out; the sha256 of
    each copied file is returned, so it is not read again.
    """
    parquet_dir.mkdir()
    con = duck.connect(db_path, read_only=True)
    # Row order is not part of a mart's contract (no SQL reader may rely on it): letting each thread write
    # its row groups as they finish cut the 30 M-row claims export from 37-39 s to 25-26 s (wall) and its
    # CPU by a quarter (benchmarks/results/publish-2026-12-02-session9.md).
    con.execute("SET preserve_insertion_order = false")
    digests: dict[Path, str] = {}
    try:
        actual = {name: count_rows(con, ".".join(ident(p) for p in name.split("."))) for name in expected}
        if actual != expected:
            diff = {k: (expected[k], actual.get(k)) for k in expected if actual.get(k) != expected[k]}
            raise PublishError(
                f"{db_path}: row counts differ from the audited candidate (candidate, copy): {diff}"
            )
        crash_point("parquet")
        files = []
        for name in sorted(expected):
            schema, table = name.split(".")
            if schema != PARQUET_SCHEMA:
                continue
            out = parquet_dir / f"{table}.parquet"
            metadata = parquet_metadata(version, name, dictionary)
            old = (reuse or {}).get(name)
            digest = relabel_parquet(con, old, out, metadata, actual[name]) if old else None
            if digest:
                digests[out] = digest
            else:
                export_parquet(con, schema, table, out, metadata)
            files.append(out)
    finally:
        con.close()
    return actual, files, digests


def relabel_parquet(
    con: duckdb.DuckDBPyConnection, old: Reusable, out: Path, metadata: dict[str, str], rows: int
) -> str | None:
    """Copy a served Parquet file with its ``borderwatch.version`` value rewritten in the footer.

    Version names have a fixed length, so the Thrift footer keeps its layout and every offset stays valid;
    the old file's sha256 is checked against its manifest in the same read. The copy must then read back
    (through DuckDB) with the new version, the same other metadata and ``rows`` rows, or it is deleted and
    the mart exported afresh (None).
    """
    try:
        digest = _copy_relabelled(
            old.path, out, old.version.encode(), str(metadata["version"]).encode(), old.sha256
        )
        if digest is None:
            out.unlink(missing_ok=True)
            return None
        path = sql_str(out)
        kv = dict(
            con.execute(f"select decode(key), decode(value) from parquet_kv_metadata('{path}')").fetchall()
        )
        (count,) = con.execute(f"select num_rows from parquet_file_metadata('{path}')").fetchone() or (-1,)
    except (OSError, duckdb.Error) as exc:
        logger.info("%s: not reused (%s); exporting it", old.path, exc)
        out.unlink(missing_ok=True)
        return None
    if count != rows or kv != {PARQUET_META_PREFIX + k: v for k, v in metadata.items()}:
        out.unlink(missing_ok=True)
        return None
    return digest


def _copy_relabelled(source: Path, target: Path, old: bytes, new: bytes, expected: str) -> str | None:
    """One read of ``source``: its sha256 must be ``expected``; the copy's footer says ``new`` for ``old``."""
    size = source.stat().st_size
    with source.open("rb") as src:
        src.seek(max(0, size - 8))
        tail = src.read(8)
        footer_len = int.from_bytes(tail[:4], "little")
        start = size - 8 - footer_len
        if len(old) != len(new) or tail[4:] != b"PAR1" or start < 4:
            return None
        src.seek(start)
        footer = src.read(footer_len)
        if footer.count(old) != 1:
            return None
        src.seek(0)
        before, after = hashlib.sha256(), hashlib.sha256()
        with target.open("xb") as dst:
            remaining = start
            while remaining:
                chunk = src.read(min(8 << 20, remaining))
                if not chunk:
                    return None
                before.update(chunk)
                after.update(chunk)
                dst.write(chunk)
                remaining -= len(chunk)
            relabelled = footer.replace(old, new)
            before.update(footer + tail)
            after.update(relabelled + tail)
            dst.write(relabelled + tail)
    return after.hexdigest() if before.hexdigest() == expected else None


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


def export_parquet(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, out: Path, metadata: dict[str, str]
) -> None:
    """One COPY per mart (DuckDB encodes row groups on every thread), descriptions in KV metadata."""
    kv = ", ".join(
        f"{sql_literal(PARQUET_META_PREFIX + key)}: {sql_literal(value)}" for key, value in metadata.items()
    )
    con.execute(
        f"copy (select * from {ident(schema)}.{ident(table)}) to '{sql_str(out)}' "
        f"(format parquet, kv_metadata {{{kv}}})"
    )


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
