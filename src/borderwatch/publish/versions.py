"""The published side: which versions exist and which is current; verify, roll back, repair, prune."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderwatch.config import Settings
from borderwatch.files import fsync_dir
from borderwatch.locking import require_writer_lock
from borderwatch.publish.core import (
    CANDIDATES_DIR,
    DB_NAME,
    MANIFEST_NAME,
    REPAIR_COMMAND,
    TMP_PREFIX,
    Publication,
    PublishError,
    file_problems,
    publication_from_manifest,
)

logger = logging.getLogger(__name__)


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
    switch_current(settings, version)
    return publication_from_manifest(path, manifest)


def verify_version(path: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file the manifest lists must exist with its sha256, and every file present must be listed."""
    files = manifest.get("files")
    if not isinstance(files, dict) or DB_NAME not in files:
        return [f"{MANIFEST_NAME} lists no files"]
    return file_problems(path, files, unlisted_ok=(MANIFEST_NAME,))


def repair(settings: Settings) -> RepairReport:
    """Remove versions whose manifest is missing or unreadable or whose files do not match it.

    If ``current`` is one of them it first moves to the newest intact version; with none intact it stays
    (readers keep their file) and the report says so. Under the writer lock.
    """
    require_writer_lock(settings, "repairing publications")
    cleanup_stale(settings)
    report = RepairReport(current_before=current_version(settings))
    intact: list[str] = []
    for version in version_dirs(settings):
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
        switch_current(settings, intact[-1])
    current = current_version(settings)
    for version in report.problems:
        if version != current:
            shutil.rmtree(settings.published_dir / version, ignore_errors=True)
            report.removed.append(version)
    fsync_dir(settings.published_dir)
    report.current_after = current
    if current is not None and current in report.problems:
        report.advice = (
            f"no intact version is left to serve; readers keep {current}'s files. Run `borderwatch refresh` "
            "to publish a fresh version, then `borderwatch publish --repair` again to remove this one."
        )
    return report


def list_versions(settings: Settings) -> list[str]:
    """Complete published versions (those with a manifest), oldest first."""
    return [v for v in version_dirs(settings) if (settings.published_dir / v / MANIFEST_NAME).is_file()]


def version_dirs(settings: Settings) -> list[str]:
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
    return publication_from_manifest(path, read_manifest(path))


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


def served_manifest(settings: Settings) -> dict[str, Any] | None:
    """The current version's manifest, or None (no version yet, or a damaged one that must not wedge us)."""
    version = current_version(settings)
    if version is None:
        return None
    try:
        return read_manifest(settings.published_dir / version)
    except PublishError as exc:
        logger.warning("publishing a new version although the current one is damaged: %s", exc)
        return None


def parquet_set(warehouse_dir: Path) -> tuple[str, dict[str, list[Path]]]:
    """The consistent Parquet set a reader should use: ``(version, {mart: [part, ...]})`` from one read.

    Reading ``current/manifest.json`` once and using its ``parquet`` paths (``published/<version>/...``)
    never mixes versions, whereas opening ``current/parquet/a`` and ``current/parquet/b`` separately may
    resolve ``current`` to two different versions if a publication lands in between. A mart is the union
    of its parts (``read_parquet([...])`` in DuckDB, ``pyarrow.parquet.read_table([...])``); a version
    written before marts had parts names one file, returned as a list of one.
    """
    manifest = json.loads((warehouse_dir / "current" / MANIFEST_NAME).read_text(encoding="utf-8"))
    return str(manifest["version"]), {
        name: [warehouse_dir / rel for rel in ([parts] if isinstance(parts, str) else parts)]
        for name, parts in sorted(manifest.get("parquet", {}).items())
    }


def switch_current(settings: Settings, version: str) -> None:
    """Swap the one ``current`` symlink with a single rename; make sure ``current.duckdb`` follows it."""
    warehouse = settings.warehouse_dir
    target = Path(settings.published_dir.relative_to(warehouse)) / version
    tmp = warehouse / f"{TMP_PREFIX}current-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, settings.current_dir)
    _ensure_db_pointer(settings)
    fsync_dir(warehouse)


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


def cleanup_stale(settings: Settings) -> list[Path]:
    """Remove what a crashed run left behind: temporary version dirs and half-made pointer links."""
    removed: list[Path] = []
    for directory in (settings.published_dir, settings.warehouse_dir / CANDIDATES_DIR):
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
        fsync_dir(settings.published_dir)
    return removed


def apply_retention(settings: Settings) -> list[str]:
    """Keep the newest ``settings.keep_versions`` version directories, and always the current one.

    Damaged versions (manifest gone or unreadable) count like any other, so none is kept forever.
    """
    keep = max(1, settings.keep_versions)
    versions = version_dirs(settings)
    current = current_version(settings)
    doomed = [v for v in versions[:-keep] if v != current]
    for version in doomed:
        shutil.rmtree(settings.published_dir / version, ignore_errors=True)
    return doomed
