"""Write-audit-publish: audit an immutable candidate, publish exactly it, switch readers atomically.

Layout under ``settings.warehouse_dir``::

    candidates/<id>/build.duckdb             byte copy of the build file taken right after `dbt build`
    candidates/<id>/candidate.json           its sha256 (the id is its first 16 hex digits) and fingerprint
    candidates/<id>/dictionary.json          dbt's descriptions and contract keys for what was built
    published/<version>/warehouse.duckdb     read-only copy of marts + reference (DuckDB storage v1.2.0)
    published/<version>/parquet/<table>.parquet   one stable path per version, descriptions in KV metadata
    published/<version>/report.html          the offline publication report (figures and charts)
    published/<version>/manifest.json        version, row counts, sha256 of every file, Parquet paths,
                                             data dictionary, gate summary, the candidate it came from
    current        -> published/<version>    the ONE pointer that changes (atomic rename of a symlink)
    current.duckdb -> current/warehouse.duckdb   fixed; never changes, so it can't disagree with current

The gate audits a candidate, never the live build file, and :func:`publish` refuses any candidate whose
bytes differ from the ones audited: an operator's ``borderwatch build`` between audit and publish changes
the build file, not the candidate. Every function here that writes runs under the writer lock, which only
:mod:`borderwatch.pipeline` takes. A version is built in ``published/.tmp-<version>/``, fsynced, renamed
into place, and only then is ``current`` swapped. A crash at any step leaves ``current`` on a complete
version; the next run removes leftovers. Readers with the old file open keep reading it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from borderwatch.config import REPO_ROOT, Settings
from borderwatch.locking import require_writer_lock

if TYPE_CHECKING:
    from borderwatch.gate import GateResult

logger = logging.getLogger(__name__)

PUBLISHED_SCHEMAS = ("marts", "reference")
PARQUET_SCHEMA = "marts"
DB_NAME = "warehouse.duckdb"
MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.html"
CANDIDATES_DIR = "candidates"
CANDIDATE_META = "candidate.json"
DICTIONARY_NAME = "dictionary.json"
STORAGE_VERSION = "v1.2.0"  # the oldest DuckDB storage that 1.2+ readers (BI drivers' embedded DuckDB) open
TMP_PREFIX = ".tmp-"
REPAIR_COMMAND = "borderwatch publish --repair"
CRASH_ENV = "BORDERWATCH_PUBLISH_CRASH_AT"
CRASH_STEPS = ("copy", "verify", "parquet", "report", "manifest", "fsync", "rename", "switch", "retention")
PARQUET_META_PREFIX = "borderwatch."
_NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_DISK_FULL_TEXT = ("no space left", "file too large", "disk quota")


class PublishError(RuntimeError):
    """Publication failed and nothing changed for readers; the message says why and what to do."""


class GateVerdict(Protocol):
    """What publishing needs from :class:`borderwatch.gate.GateResult`."""

    passed: bool

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Candidate:
    """An immutable snapshot of the build file: what the gate audits and the only thing publish copies."""

    path: Path
    sha256: str
    content: dict[str, str]
    created_at: str = ""

    @property
    def id(self) -> str:
        return self.sha256[:16]

    @property
    def dictionary_path(self) -> Path:
        return self.path.parent / DICTIONARY_NAME

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "sha256": self.sha256,
            "content": dict(self.content),
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            path=Path(data["path"]),
            sha256=str(data["sha256"]),
            content={str(k): str(v) for k, v in data.get("content", {}).items()},
            created_at=str(data.get("created_at", "")),
        )


@dataclass
class Publication:
    """One published version."""

    version: str
    path: Path
    row_counts: dict[str, int]
    manifest_path: Path
    created_at: str = ""
    code_version: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    unchanged: bool = False  # the audited build had the same content as `current`: nothing new was written

    @property
    def database_path(self) -> Path:
        return self.path / DB_NAME

    @property
    def report_path(self) -> Path:
        return self.path / REPORT_NAME

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "path": str(self.path),
            "database_path": str(self.database_path),
            "row_counts": dict(self.row_counts),
            "manifest_path": str(self.manifest_path),
            "created_at": self.created_at,
            "code_version": self.code_version,
            "files": dict(self.files),
            "unchanged": self.unchanged,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Publication:
        """Inverse of :meth:`as_dict` (Airflow passes publications between tasks as JSON)."""
        return cls(
            version=str(data["version"]),
            path=Path(data["path"]),
            row_counts={k: int(v) for k, v in data.get("row_counts", {}).items()},
            manifest_path=Path(data["manifest_path"]),
            created_at=str(data.get("created_at", "")),
            code_version=data.get("code_version"),
            files={str(k): str(v) for k, v in data.get("files", {}).items()},
            unchanged=bool(data.get("unchanged", False)),
        )


@dataclass
class RepairReport:
    """What ``publish --repair`` found and did."""

    removed: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)
    current_before: str | None = None
    current_after: str | None = None
    advice: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "removed": list(self.removed),
            "problems": {k: list(v) for k, v in self.problems.items()},
            "current_before": self.current_before,
            "current_after": self.current_after,
            "advice": self.advice,
        }


# --------------------------------------------------------------------------------------------- candidate


def candidates_dir(settings: Settings) -> Path:
    return settings.warehouse_dir / CANDIDATES_DIR


def snapshot_candidate(settings: Settings, *, dbt_manifest: Path | None = None) -> Candidate:
    """Copy the build file into an immutable candidate (call right after ``dbt build``, under the lock).

    The copy is taken after a CHECKPOINT, so the one file holds everything; it is hashed while copying
    and made read-only. ``dbt_manifest`` (dbt's ``target/manifest.json``) supplies the descriptions and
    contract keys that the publication carries as comments.
    """
    require_writer_lock(settings, "snapshotting a candidate")
    build_db = settings.build_db
    if not build_db.is_file():
        raise PublishError(f"{build_db}: no build file to audit; run `borderwatch build` first")
    _checkpoint(build_db)
    root = candidates_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    cleanup_stale(settings)
    tmp = root / f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        target = tmp / build_db.name
        digest = _copy_and_hash(build_db, target)
        content = content_fingerprint(target)
        created_at = datetime.now(UTC).isoformat()
        dictionary = dbt_dictionary(dbt_manifest) if dbt_manifest else {}
        _write_json(tmp / DICTIONARY_NAME, dictionary)
        _write_json(tmp / CANDIDATE_META, {"sha256": digest, "content": content, "created_at": created_at})
        for path in tmp.iterdir():
            _fsync_file(path)
            path.chmod(0o444)
        _fsync_dir(tmp)
        final = root / digest[:16]
        if final.is_dir():  # the same bytes were snapshotted before: that candidate stands
            shutil.rmtree(tmp)
            existing = _candidate_from_dir(final)
            if existing is not None and existing.sha256 == digest:
                _prune_candidates(settings, keep={existing.id})
                return existing
            shutil.rmtree(final)
            return snapshot_candidate(settings, dbt_manifest=dbt_manifest)
        os.rename(tmp, final)
        _fsync_dir(root)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError | duckdb.Error) and _is_disk_full(exc):
            raise PublishError(
                f"{root}: disk full while copying the build into an audit candidate ({exc}); nothing "
                "was audited or published and the current version keeps serving. Free space and run the "
                "refresh again."
            ) from exc
        raise
    candidate = Candidate(path=final / build_db.name, sha256=digest, content=content, created_at=created_at)
    _prune_candidates(settings, keep={candidate.id})
    return candidate


def verify_candidate(settings: Settings, candidate: Candidate) -> None:
    """Refuse a candidate that is not exactly the bytes that were audited (or not ours at all)."""
    root = candidates_dir(settings).resolve()
    path = candidate.path.resolve()
    if path.parent.parent != root:
        raise PublishError(
            f"{candidate.path}: not a candidate of this installation ({root}); publish only what "
            "`borderwatch refresh` (or the warehouse_refresh DAG) built and audited"
        )
    if not path.is_file():
        raise PublishError(
            f"{candidate.path}: the audited candidate {candidate.id} is gone (a newer build replaced it); "
            "nothing was published. Run the refresh again to build, audit and publish the newest data."
        )
    actual = sha256_file(path)
    if actual != candidate.sha256:
        raise PublishError(
            f"{candidate.path}: sha256 {actual} differs from the audited {candidate.sha256}; the candidate "
            "changed after the audit, so nothing was published. Run the refresh again."
        )


def _candidate_from_dir(directory: Path) -> Candidate | None:
    try:
        meta = json.loads((directory / CANDIDATE_META).read_text(encoding="utf-8"))
        db = next(p for p in directory.glob("*.duckdb"))
        return Candidate(
            path=db,
            sha256=str(meta["sha256"]),
            content=dict(meta.get("content", {})),
            created_at=str(meta.get("created_at", "")),
        )
    except (OSError, ValueError, KeyError, StopIteration):
        return None


def _prune_candidates(settings: Settings, *, keep: set[str], keep_newest_other: bool = True) -> list[str]:
    """Drop old candidates but ``keep`` and (by default) the newest other one, which a run may be auditing."""
    root = candidates_dir(settings)
    if not root.is_dir():
        return []
    others = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in keep),
        key=lambda p: p.stat().st_mtime,
    )
    doomed = others[:-1] if keep_newest_other and others else others
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return [p.name for p in doomed]


# --------------------------------------------------------------------------------------------- publish


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
    served = _served_manifest(settings)
    if served is not None and served.get("content") == candidate.content:
        # Same marts as the version being served (a night with nothing new, or a retried task whose
        # first try already switched): publish nothing, so no-op nights don't push meaningful versions
        # out of retention (rollback keeps its reach). Nothing is copied, so the candidate need not exist.
        _drop_candidate(settings, candidate)
        path = settings.published_dir / str(served["version"])
        return replace(_publication_from_manifest(path, served), unchanged=True)
    verify_candidate(settings, candidate)
    now = datetime.now(UTC)
    version = _new_version(now)
    staging = settings.published_dir / f"{TMP_PREFIX}{version}"
    final = settings.published_dir / version
    try:
        manifest = _build_version(
            settings, staging, version, now, candidate, gate, code_version or git_describe()
        )
        _crash_point("rename")
        os.rename(staging, final)
        _fsync_dir(settings.published_dir)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError | duckdb.Error) and _is_disk_full(exc):
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
    _crash_point("switch")
    _switch_current(settings, version)
    _crash_point("retention")
    apply_retention(settings)
    _drop_candidate(settings, candidate)
    return _publication_from_manifest(final, manifest)


def _drop_candidate(settings: Settings, candidate: Candidate) -> None:
    """The published (or already served) candidate is not needed any more; neither are older ones."""
    root = candidates_dir(settings)
    doomed = [candidate.path.parent]
    if root.is_dir():
        mine = candidate.path.parent.stat().st_mtime if candidate.path.parent.exists() else None
        doomed += [
            p
            for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and mine is not None and p.stat().st_mtime < mine
        ]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)


def rollback(settings: Settings, version: str | None = None) -> Publication:
    """Point ``current`` back at ``version`` (default: the newest intact version before the current one).

    Every file of the target version is checked against its manifest's sha256 first.
    """
    require_writer_lock(settings, "rolling back")
    cleanup_stale(settings)
    versions = list_versions(settings)
    current = current_version(settings)
    if version is None:
        older = [v for v in versions if current is None or v < current]
        if not older:
            raise PublishError(
                f"{settings.published_dir}: no version older than {current!r} to roll back to "
                f"(kept: {versions or 'none'})"
            )
        version = older[-1]
    path = settings.published_dir / version
    if version not in versions:
        if path.is_dir():
            raise PublishError(
                f"{path}: this version has no readable manifest, so it cannot be verified; "
                f"roll back to another one (kept: {versions}) or run `{REPAIR_COMMAND}` to remove it"
            )
        raise PublishError(
            f"{settings.published_dir}: version {version!r} not found; kept versions: {versions}"
        )
    manifest = read_manifest(path)
    problems = verify_version(path, manifest)
    if problems:
        raise PublishError(
            f"{path}: this version is damaged ({'; '.join(problems)}); roll back to another one, "
            f"or run `{REPAIR_COMMAND}` to remove damaged versions"
        )
    _switch_current(settings, version)
    return _publication_from_manifest(path, manifest)


def verify_version(path: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file the manifest lists must exist with its sha256, and every file present must be listed."""
    files = manifest.get("files")
    if not isinstance(files, dict) or DB_NAME not in files:
        return [f"{MANIFEST_NAME} lists no files"]
    problems = []
    for rel, digest in sorted(files.items()):
        target = path / rel
        if not target.is_file():
            problems.append(f"{rel} is missing")
        elif sha256_file(target) != digest:
            problems.append(f"{rel} sha256 does not match the manifest")
    present = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()} - {MANIFEST_NAME}
    problems += [f"{rel} is not in the manifest" for rel in sorted(present - set(files))]
    return problems


def repair(settings: Settings) -> RepairReport:
    """Remove versions whose manifest is missing or unreadable or whose files do not match it.

    If ``current`` is one of them it first moves to the newest intact version; with none intact it stays
    (readers keep their file) and the report says so. Under the writer lock.
    """
    require_writer_lock(settings, "repairing publications")
    cleanup_stale(settings)
    report = RepairReport(current_before=current_version(settings))
    intact: list[str] = []
    for version in _version_dirs(settings):
        path = settings.published_dir / version
        try:
            problems = verify_version(path, read_manifest(path))
        except PublishError as exc:
            problems = [f"{MANIFEST_NAME} unreadable ({exc.__cause__ or exc})"]
        if problems:
            report.problems[version] = problems
        else:
            intact.append(version)
    if report.current_before in report.problems and intact:
        _switch_current(settings, intact[-1])
    current = current_version(settings)
    for version in report.problems:
        if version != current:
            shutil.rmtree(settings.published_dir / version, ignore_errors=True)
            report.removed.append(version)
    _fsync_dir(settings.published_dir)
    report.current_after = current
    if current is not None and current in report.problems:
        report.advice = (
            f"no intact version is left to serve; readers keep {current}'s files. Run `borderwatch refresh` "
            "to publish a fresh version, then `borderwatch publish --repair` again to remove this one."
        )
    return report


def list_versions(settings: Settings) -> list[str]:
    """Complete published versions (those with a manifest), oldest first."""
    return [v for v in _version_dirs(settings) if (settings.published_dir / v / MANIFEST_NAME).is_file()]


def _version_dirs(settings: Settings) -> list[str]:
    """Every version directory, complete or damaged, oldest first (names sort in publication order)."""
    if not settings.published_dir.is_dir():
        return []
    return sorted(
        p.name for p in settings.published_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    )


def current_version(settings: Settings) -> str | None:
    """The version ``current`` points at, or None before the first publication."""
    link = settings.current_dir
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def current_publication(settings: Settings) -> Publication | None:
    """The current version as a :class:`Publication` (None before the first publication)."""
    version = current_version(settings)
    if version is None:
        return None
    path = settings.published_dir / version
    return _publication_from_manifest(path, read_manifest(path))


def parquet_set(warehouse_dir: Path) -> tuple[str, dict[str, Path]]:
    """The consistent Parquet set a reader should use: ``(version, {mart: path})`` from one manifest read.

    Reading ``current/manifest.json`` once and using its ``parquet`` paths (``published/<version>/...``)
    never mixes versions, whereas opening ``current/parquet/a`` and ``current/parquet/b`` separately may
    resolve ``current`` to two different versions if a publication lands in between.
    """
    manifest = json.loads((warehouse_dir / "current" / MANIFEST_NAME).read_text(encoding="utf-8"))
    return str(manifest["version"]), {
        name: warehouse_dir / rel for name, rel in sorted(manifest.get("parquet", {}).items())
    }


def cleanup_stale(settings: Settings) -> list[Path]:
    """Remove what a crashed run left behind: temporary version dirs and half-made pointer links."""
    removed: list[Path] = []
    for directory in (settings.published_dir, candidates_dir(settings)):
        if directory.is_dir():
            for path in directory.iterdir():
                if path.name.startswith(TMP_PREFIX):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
    if settings.warehouse_dir.is_dir():
        for path in settings.warehouse_dir.glob(f"{TMP_PREFIX}current*"):
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        _fsync_dir(settings.published_dir)
    return removed


def apply_retention(settings: Settings) -> list[str]:
    """Keep the newest ``settings.keep_versions`` version directories, and always the current one.

    Damaged versions (manifest gone or unreadable) count like any other, so none is kept forever.
    """
    keep = max(1, settings.keep_versions)
    versions = _version_dirs(settings)
    current = current_version(settings)
    doomed = [v for v in versions[:-keep] if v != current]
    for version in doomed:
        shutil.rmtree(settings.published_dir / version, ignore_errors=True)
    return doomed


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


def _new_version(now: datetime) -> str:
    """UTC timestamp (microseconds, so names sort in publication order) plus a short random hash."""
    return f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{hashlib.sha256(uuid.uuid4().bytes).hexdigest()[:8]}"


def _build_version(
    settings: Settings,
    staging: Path,
    version: str,
    now: datetime,
    candidate: Candidate,
    gate: GateVerdict,
    code_version: str | None,
) -> dict[str, Any]:
    """Write the whole version into ``staging``: database, Parquet, report, manifest, all fsynced."""
    staging.mkdir(parents=True)
    db_path = staging / DB_NAME
    dbt_docs = _read_json(candidate.dictionary_path) or {}
    source_counts = _copy_build(candidate.path, db_path, settings.build_db.stem, dbt_docs)
    _fsync_file(db_path)
    db_path.chmod(0o444)
    _crash_point("verify")
    dictionary = published_dictionary(db_path)
    published_counts, parquet_files = _verify_and_export(
        db_path, source_counts, staging / "parquet", version, dictionary
    )
    _crash_point("report")
    report = _render_report(db_path, staging / REPORT_NAME, version, now, published_counts)
    _crash_point("manifest")
    files = {DB_NAME: sha256_file(db_path)}
    files.update({f"parquet/{p.name}": sha256_file(p) for p in parquet_files})
    if report is not None:
        files[REPORT_NAME] = sha256_file(report)
    relative_root = Path(settings.published_dir.name) / version
    manifest = {
        "version": version,
        "created_at": now.isoformat(),
        "code_version": code_version,
        "build_db": str(settings.build_db),
        "candidate": candidate.sha256,
        "storage_version": STORAGE_VERSION,
        "row_counts": published_counts,
        "files": files,
        "parquet": {p.stem: str(relative_root / "parquet" / p.name) for p in parquet_files},
        "report": REPORT_NAME if report is not None else None,
        "content": candidate.content,
        "dictionary": dictionary,
        "gate": gate.as_dict(),
    }
    manifest_path = staging / MANIFEST_NAME
    _write_json(manifest_path, manifest)
    _crash_point("fsync")
    for path in [manifest_path, *parquet_files, *([report] if report else [])]:
        _fsync_file(path)
        path.chmod(0o444)
    _fsync_dir(staging / "parquet")
    _fsync_dir(staging)
    return manifest


def _render_report(
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


def content_fingerprint(db_path: Path) -> dict[str, str]:
    """Order-independent fingerprint of every published table and view: row count + sum of row hashes.

    Two builds with equal fingerprints publish the same data, whatever order dbt wrote the rows in.
    """
    con = duckdb.connect(str(db_path), read_only=True, config=dict(_NO_DOWNLOADS))
    try:
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        relations = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            f"and schema_name in ({schemas}) union all "
            "select schema_name, view_name from duckdb_views() where database_name = current_database() "
            f"and not internal and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        prints = {}
        for schema, name in relations:
            relation = f"{_ident(schema)}.{_ident(name)}"
            rows, total = con.execute(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t"
            ).fetchone() or (0, 0)
            prints[f"{schema}.{name}"] = f"{rows}:{total}"
        return prints
    finally:
        con.close()


# --------------------------------------------------------------------------------------------- dictionary


def dbt_dictionary(manifest_path: Path) -> dict[str, Any]:
    """Descriptions and contract keys of the published relations, from dbt's ``target/manifest.json``.

    ``{"marts.fct_raids": {"description": ..., "columns": {"raid_id": "..."}, "primary_key": [...],
    "not_null": [...]}}``. A missing or unreadable manifest gives an empty dictionary (and a warning):
    the data is still publishable, it just explains less.
    """
    data = _read_json(manifest_path)
    if data is None:
        logger.warning("%s: no dbt manifest; the publication will carry no descriptions", manifest_path)
        return {}
    out: dict[str, Any] = {}
    for node in data.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        schema = node.get("schema")
        if schema not in PUBLISHED_SCHEMAS:
            continue
        name = node.get("alias") or node.get("name")
        columns = node.get("columns") or {}
        primary: list[str] = []
        not_null: list[str] = []
        for constraint in node.get("constraints") or []:
            if constraint.get("type") == "primary_key":
                primary = [str(c) for c in constraint.get("columns") or []]
        for column, spec in columns.items():
            for constraint in spec.get("constraints") or []:
                if constraint.get("type") == "primary_key" and not primary:
                    primary = [column]
                elif constraint.get("type") == "not_null":
                    not_null.append(column)
        out[f"{schema}.{name}"] = {
            "description": (node.get("description") or "").strip(),
            "columns": {c: (spec.get("description") or "").strip() for c, spec in columns.items()},
            "primary_key": primary,
            "not_null": not_null,
        }
    return out


def published_dictionary(db_path: Path) -> dict[str, Any]:
    """The data dictionary as the published file states it: every relation, column, type and comment."""
    con = duckdb.connect(str(db_path), read_only=True, config=dict(_NO_DOWNLOADS))
    try:
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        relations = con.execute(
            "select schema_name, table_name, 'table', comment from duckdb_tables() "
            f"where schema_name in ({schemas}) union all "
            "select schema_name, view_name, 'view', comment from duckdb_views() "
            f"where not internal and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        columns = con.execute(
            "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
            f"where schema_name in ({schemas}) order by schema_name, table_name, column_index"
        ).fetchall()
        keys = con.execute(
            "select schema_name, table_name, constraint_column_names from duckdb_constraints() "
            f"where constraint_type = 'PRIMARY KEY' and schema_name in ({schemas})"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, Any] = {
        f"{s}.{t}": {"kind": kind, "description": comment or "", "columns": {}, "primary_key": []}
        for s, t, kind, comment in relations
    }
    for s, t, column, data_type, comment in columns:
        out[f"{s}.{t}"]["columns"][column] = {"type": data_type, "description": comment or ""}
    for s, t, names in keys:
        out[f"{s}.{t}"]["primary_key"] = list(names)
    return out


def undocumented_columns(dictionary: dict[str, Any]) -> list[str]:
    """``schema.table.column`` of every published column without a description."""
    return [
        f"{relation}.{column}"
        for relation, entry in sorted(dictionary.items())
        for column, spec in entry["columns"].items()
        if not spec.get("description")
    ]


# --------------------------------------------------------------------------------------------- copy


def _copy_build(source_db: Path, target: Path, build_catalog: str, docs: dict[str, Any]) -> dict[str, int]:
    """CREATE TABLE AS every published table, re-create views, add comments and keys; CHECKPOINT.

    The target is written in DuckDB storage ``STORAGE_VERSION`` so DuckDB 1.x readers can open it.
    """
    con = duckdb.connect(":memory:", config=dict(_NO_DOWNLOADS))
    try:
        con.execute(f"attach '{_sql_str(target)}' as pub (storage_version '{STORAGE_VERSION}')")
        con.execute(f"attach '{_sql_str(source_db)}' as src (read_only)")
        con.execute("use pub")
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'src' "
            f"and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        if not any(schema == "marts" for schema, _ in tables):
            raise PublishError(
                f"{source_db}: the build file has no tables in schema 'marts'; nothing to publish"
            )
        views = con.execute(
            "select schema_name, view_name, sql from duckdb_views() where database_name = 'src' "
            f"and not internal and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        counts: dict[str, int] = {}
        for schema in sorted({s for s, _ in tables} | {s for s, _, _ in views}):
            con.execute(f"create schema if not exists {_ident(schema)}")
        for schema, table in tables:
            name = f"{_ident(schema)}.{_ident(table)}"
            con.execute(f"create table {name} as select * from src.{name}")
            counts[f"{schema}.{table}"] = _count(con, f"src.{name}")
            _declare_keys(con, schema, table, docs.get(f"{schema}.{table}") or {})
        _crash_point("copy")
        con.execute("detach src")
        for schema, view, sql in views:
            con.execute(_portable_view_sql(schema, view, sql, build_catalog))
            counts[f"{schema}.{view}"] = _count(con, f"{_ident(schema)}.{_ident(view)}")
        kinds = {**{(s, t): "table" for s, t in tables}, **{(s, v): "view" for s, v, _ in views}}
        for (schema, name), kind in kinds.items():
            _comment(con, kind, schema, name, docs.get(f"{schema}.{name}") or {})
        con.execute("checkpoint")
        con.execute("use memory")
        con.execute("detach pub")
    finally:
        con.close()
    return counts


def _declare_keys(con: duckdb.DuckDBPyConnection, schema: str, table: str, doc: dict[str, Any]) -> None:
    """The contract's primary key and not-null columns, declared (and so enforced) in the published file."""
    name = f"{_ident(schema)}.{_ident(table)}"
    try:
        for column in doc.get("not_null") or []:
            con.execute(f"alter table {name} alter column {_ident(column)} set not null")
        if doc.get("primary_key"):
            con.execute(f"alter table {name} add primary key ({', '.join(map(_ident, doc['primary_key']))})")
    except duckdb.Error as exc:
        raise PublishError(
            f"{schema}.{table}: the data breaks its dbt contract's keys ({exc}); nothing was published. "
            "The gate should have caught this: add the matching dbt test and rebuild."
        ) from exc


def _comment(con: duckdb.DuckDBPyConnection, kind: str, schema: str, name: str, doc: dict[str, Any]) -> None:
    """dbt's descriptions as COMMENT ON, so any SQL client or BI tool shows them."""
    relation = f"{_ident(schema)}.{_ident(name)}"
    if doc.get("description"):
        con.execute(f"comment on {kind} {relation} is {_sql_literal(doc['description'])}")
    present = {
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where database_name = 'pub' "
            "and schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    for column, text in (doc.get("columns") or {}).items():
        if text and column in present:
            con.execute(f"comment on column {relation}.{_ident(column)} is {_sql_literal(text)}")


def _portable_view_sql(schema: str, view: str, sql: str, build_catalog: str) -> str:
    """Re-root a view from the build file: strip the build catalog name so it resolves in any file."""
    match = re.match(
        r"\s*create\s+(?:or\s+replace\s+)?view\s+.+?\s+as\s+", sql, flags=re.IGNORECASE | re.DOTALL
    )
    if not match:
        raise PublishError(f"view {schema}.{view}: cannot read its definition to re-create it: {sql[:200]!r}")
    body = sql[match.end() :].rstrip().rstrip(";")
    for catalog in {build_catalog, "src"}:
        body = re.sub(rf'(?<![\w"])"?{re.escape(catalog)}"?\.(?=["\w])', "", body)
    return f"create view {_ident(schema)}.{_ident(view)} as {body}"


def _verify_and_export(
    db_path: Path, expected: dict[str, int], parquet_dir: Path, version: str, dictionary: dict[str, Any]
) -> tuple[dict[str, int], list[Path]]:
    """Reopen the finished file read-only, check every row count, export each mart to Parquet.

    Each Parquet file carries, in its key-value metadata, the version, the relation, its description and a
    JSON object of column descriptions (``borderwatch.*`` keys), so a file that travels alone still explains
    itself and says which version it belongs to.
    """
    parquet_dir.mkdir()
    con = duckdb.connect(str(db_path), read_only=True, config=dict(_NO_DOWNLOADS))
    try:
        actual = {name: _count(con, ".".join(_ident(p) for p in name.split("."))) for name in expected}
        if actual != expected:
            diff = {k: (expected[k], actual.get(k)) for k in expected if actual.get(k) != expected[k]}
            raise PublishError(
                f"{db_path}: row counts differ from the build after copying (build, copy): {diff}"
            )
        _crash_point("parquet")
        files = []
        for name in sorted(expected):
            schema, table = name.split(".")
            if schema != PARQUET_SCHEMA:
                continue
            out = parquet_dir / f"{table}.parquet"
            entry = dictionary.get(name) or {}
            metadata = {
                "version": version,
                "relation": name,
                "description": entry.get("description", ""),
                "columns": json.dumps(
                    {c: spec.get("description", "") for c, spec in (entry.get("columns") or {}).items()},
                    ensure_ascii=False,
                ),
            }
            kv = ", ".join(
                f"{_sql_literal(PARQUET_META_PREFIX + key)}: {_sql_literal(value)}"
                for key, value in metadata.items()
            )
            con.execute(
                f"copy (select * from {_ident(schema)}.{_ident(table)}) to '{_sql_str(out)}' "
                f"(format parquet, kv_metadata {{{kv}}})"
            )
            files.append(out)
    finally:
        con.close()
    return actual, files


# --------------------------------------------------------------------------------------------- pointers


def _switch_current(settings: Settings, version: str) -> None:
    """Swap the one ``current`` symlink with a single rename; make sure ``current.duckdb`` follows it."""
    warehouse = settings.warehouse_dir
    target = Path(settings.published_dir.relative_to(warehouse)) / version
    tmp = warehouse / f"{TMP_PREFIX}current-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, settings.current_dir)
    _ensure_db_pointer(settings)
    _fsync_dir(warehouse)


def _ensure_db_pointer(settings: Settings) -> None:
    """``current.duckdb`` is a fixed link through ``current``; create it once, atomically."""
    link = settings.current_db
    target = Path(settings.current_dir.name) / DB_NAME
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    tmp = settings.warehouse_dir / f"{TMP_PREFIX}current-db-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """A version's manifest; a missing or damaged one names the command that repairs the installation."""
    try:
        data = json.loads((version_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "version" not in data:
            raise ValueError("not a BorderWatch manifest (no 'version')")
        return data
    except (OSError, ValueError) as exc:
        raise PublishError(
            f"{version_dir / MANIFEST_NAME}: unreadable manifest ({exc}). Run `{REPAIR_COMMAND}`: it removes "
            "versions that cannot be verified and moves `current` to the newest intact one."
        ) from exc


def _served_manifest(settings: Settings) -> dict[str, Any] | None:
    """The current version's manifest, or None (no version yet, or a damaged one that must not wedge us)."""
    version = current_version(settings)
    if version is None:
        return None
    try:
        return read_manifest(settings.published_dir / version)
    except PublishError as exc:
        logger.warning("publishing a new version although the current one is damaged: %s", exc)
        return None


def _publication_from_manifest(path: Path, manifest: dict[str, Any]) -> Publication:
    return Publication(
        version=str(manifest["version"]),
        path=path,
        row_counts={k: int(v) for k, v in manifest.get("row_counts", {}).items()},
        manifest_path=path / MANIFEST_NAME,
        created_at=str(manifest.get("created_at", "")),
        code_version=manifest.get("code_version"),
        files=dict(manifest.get("files", {})),
    )


# --------------------------------------------------------------------------------------------- helpers


def _checkpoint(db_path: Path) -> None:
    """Fold the write-ahead log into the file so a byte copy holds the whole database."""
    con = duckdb.connect(str(db_path), config=dict(_NO_DOWNLOADS))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def _copy_and_hash(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def _sql_literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _DISK_FULL_TEXT)


def _crash_point(step: str) -> None:
    """Test hook: ``BORDERWATCH_PUBLISH_CRASH_AT=<step>`` kills this process (SIGKILL) at that step."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
