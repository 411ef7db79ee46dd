"""Write-audit-publish: copy the audited build into an immutable version and switch readers to it atomically.

Layout under ``settings.warehouse_dir``::

    published/<version>/warehouse.duckdb     read-only copy of marts + dims + reference seeds
    published/<version>/parquet/<table>.parquet
    published/<version>/manifest.json        version, code version, row counts, sha256s, gate summary
    current        -> published/<version>    the ONE pointer that changes (atomic rename of a symlink)
    current.duckdb -> current/warehouse.duckdb   fixed; never changes, so it can't disagree with current

A version is built in ``published/.tmp-<version>/``, fsynced, then renamed into place, and only then is
``current`` swapped. A crash at any step leaves ``current`` on a complete version; the next run removes
leftovers. Readers that have the old file open keep reading it (POSIX keeps unlinked files alive).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from borderwatch.config import REPO_ROOT, Settings
from borderwatch.locking import build_writer_lock

PUBLISHED_SCHEMAS = ("marts", "reference")
PARQUET_SCHEMA = "marts"
DB_NAME = "warehouse.duckdb"
MANIFEST_NAME = "manifest.json"
TMP_PREFIX = ".tmp-"
CRASH_ENV = "BORDERWATCH_PUBLISH_CRASH_AT"
CRASH_STEPS = ("copy", "verify", "parquet", "manifest", "fsync", "rename", "switch", "retention")
_NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_DISK_FULL_TEXT = ("no space left", "file too large", "disk quota")


class PublishError(RuntimeError):
    """Publication failed and nothing changed for readers; the message says why and what to do."""


class GateVerdict(Protocol):
    """What publishing needs from :class:`borderwatch.gate.GateResult`."""

    passed: bool

    def as_dict(self) -> dict[str, Any]: ...


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "path": str(self.path),
            "database_path": str(self.database_path),
            "row_counts": dict(self.row_counts),
            "manifest_path": str(self.manifest_path),
            "created_at": self.created_at,
            "code_version": self.code_version,
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
            unchanged=bool(data.get("unchanged", False)),
        )


def publish(settings: Settings, gate: GateVerdict, *, code_version: str | None = None) -> Publication:
    """Publish the audited build file as a new version and point ``current`` at it atomically."""
    if not gate.passed:
        raise PublishError(
            "refusing to publish: the quality gate did not pass; the previous version keeps serving. "
            "Fix the failing checks (see the gate summary) and run the audit again."
        )
    if not settings.build_db.is_file():
        raise PublishError(f"{settings.build_db}: no build file to publish; run the dbt build first")
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    with build_writer_lock(settings):
        cleanup_stale(settings)
        content = content_fingerprint(settings.build_db)
        served = current_publication(settings)
        if served is not None and _read_manifest(served.path).get("content") == content:
            # Same marts as the version being served: a nightly run with nothing new publishes nothing,
            # so no-op nights don't push meaningful versions out of retention (rollback keeps its reach).
            return replace(served, unchanged=True)
        now = datetime.now(UTC)
        version = _new_version(now)
        staging = settings.published_dir / f"{TMP_PREFIX}{version}"
        final = settings.published_dir / version
        try:
            manifest = _build_version(
                settings, staging, version, now, gate, code_version or git_describe(), content
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
        return _publication_from_manifest(final, manifest)


def rollback(settings: Settings, version: str | None = None) -> Publication:
    """Point ``current`` back at ``version`` (default: the version before the current one)."""
    with build_writer_lock(settings):
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
        if version not in versions:
            raise PublishError(
                f"{settings.published_dir}: version {version!r} not found; kept versions: {versions}"
            )
        path = settings.published_dir / version
        manifest = _read_manifest(path)
        actual = sha256_file(path / DB_NAME)
        if manifest.get("files", {}).get(DB_NAME) != actual:
            raise PublishError(
                f"{path / DB_NAME}: sha256 {actual} does not match its manifest; this version is damaged, "
                "roll back to another one"
            )
        _switch_current(settings, version)
        return _publication_from_manifest(path, manifest)


def list_versions(settings: Settings) -> list[str]:
    """Complete published versions (those with a manifest), oldest first."""
    if not settings.published_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in settings.published_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_NAME).is_file()
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
    return _publication_from_manifest(path, _read_manifest(path))


def cleanup_stale(settings: Settings) -> list[Path]:
    """Remove what a crashed run left behind: temporary version dirs and half-made pointer links."""
    removed: list[Path] = []
    if settings.published_dir.is_dir():
        for path in settings.published_dir.iterdir():
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
    """Keep the newest ``settings.keep_versions`` versions, and always the current one."""
    keep = max(1, settings.keep_versions)
    versions = list_versions(settings)
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
    gate: GateVerdict,
    code_version: str | None,
    content: dict[str, str],
) -> dict[str, Any]:
    """Write the whole version into ``staging``: database, Parquet, manifest, all fsynced."""
    staging.mkdir(parents=True)
    db_path = staging / DB_NAME
    source_counts = _copy_build(settings.build_db, db_path)
    _fsync_file(db_path)
    db_path.chmod(0o444)
    _crash_point("verify")
    published_counts, parquet_files = _verify_and_export(db_path, source_counts, staging / "parquet")
    _crash_point("manifest")
    files = {DB_NAME: sha256_file(db_path)}
    files.update({f"parquet/{p.name}": sha256_file(p) for p in parquet_files})
    manifest = {
        "version": version,
        "created_at": now.isoformat(),
        "code_version": code_version,
        "build_db": str(settings.build_db),
        "row_counts": published_counts,
        "files": files,
        "content": content,
        "gate": gate.as_dict(),
    }
    manifest_path = staging / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    _crash_point("fsync")
    for path in [manifest_path, *parquet_files]:
        _fsync_file(path)
        path.chmod(0o444)
    _fsync_dir(staging / "parquet")
    _fsync_dir(staging)
    return manifest


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


def _copy_build(build_db: Path, target: Path) -> dict[str, int]:
    """CREATE TABLE AS every table of the published schemas; recreate their views; CHECKPOINT."""
    con = duckdb.connect(str(target), config=dict(_NO_DOWNLOADS))
    try:
        con.execute(f"attach '{_sql_str(build_db)}' as src (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'src' "
            f"and schema_name in ({', '.join(repr(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2"
        ).fetchall()
        if not any(schema == "marts" for schema, _ in tables):
            raise PublishError(
                f"{build_db}: the build file has no tables in schema 'marts'; nothing to publish"
            )
        views = con.execute(
            "select schema_name, view_name, sql from duckdb_views() where database_name = 'src' "
            f"and not internal and schema_name in ({', '.join(repr(s) for s in PUBLISHED_SCHEMAS)}) "
            "order by 1, 2"
        ).fetchall()
        counts: dict[str, int] = {}
        for schema in sorted({s for s, _ in tables} | {s for s, _, _ in views}):
            con.execute(f"create schema if not exists {_ident(schema)}")
        for schema, table in tables:
            name = f"{_ident(schema)}.{_ident(table)}"
            con.execute(f"create table {name} as select * from src.{name}")
            counts[f"{schema}.{table}"] = _count(con, f"src.{name}")
        _crash_point("copy")
        con.execute("detach src")
        for schema, view, sql in views:
            con.execute(_portable_view_sql(schema, view, sql, build_db.stem))
            counts[f"{schema}.{view}"] = _count(con, f"{_ident(schema)}.{_ident(view)}")
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


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
    db_path: Path, expected: dict[str, int], parquet_dir: Path
) -> tuple[dict[str, int], list[Path]]:
    """Reopen the finished file read-only, check every row count, export each mart to Parquet."""
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
            con.execute(
                f"copy (select * from {_ident(schema)}.{_ident(table)}) to '{_sql_str(out)}' (format parquet)"
            )
            files.append(out)
    finally:
        con.close()
    return actual, files


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


def _read_manifest(version_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((version_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PublishError(f"{version_dir / MANIFEST_NAME}: unreadable manifest ({exc})") from exc


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


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


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
