"""What every publishing module shares: names on disk, the error type, the result types, small I/O helpers."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb

from borderwatch.files import fsync_file, sha256_file

PUBLISHED_SCHEMAS = ("marts", "reference")
PARQUET_SCHEMA = "marts"
GATE_INPUTS_SCHEMA = "raw"
GATE_INPUTS = ((GATE_INPUTS_SCHEMA, "_loads"),)
"""Tables outside the published schemas that the gate reads (feed health); never published."""
GATE_INPUTS_DB = "gate_inputs.duckdb"
"""Beside a candidate's database: the gate inputs, so the candidate file is exactly what is published."""
GATE_INPUTS_BESIDE = "beside"
"""A version's manifest says ``"gate_inputs": "beside"`` when its file never held them: older versions had
them dropped from the copy, their bytes left in the free blocks, so no candidate starts from such a file."""
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
CRASH_STEPS = ("place", "verify", "parquet", "report", "manifest", "fsync", "rename", "switch", "retention")
PARQUET_META_PREFIX = "borderwatch."
_CHUNK = 8 << 20
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


def publication_from_manifest(path: Path, manifest: dict[str, Any]) -> Publication:
    return Publication(
        version=str(manifest["version"]),
        path=path,
        row_counts={k: int(v) for k, v in manifest.get("row_counts", {}).items()},
        manifest_path=path / MANIFEST_NAME,
        created_at=str(manifest.get("created_at", "")),
        code_version=manifest.get("code_version"),
        files=dict(manifest.get("files", {})),
    )


def place_and_hash(source: Path, target: Path) -> str:
    """``source``'s bytes at a new ``target`` and their sha256: a hard link when the filesystem allows.

    Both are read-only files of this installation on one filesystem (a candidate and its version), so a
    link costs no copy and no flush; elsewhere (another filesystem, links refused) the bytes are copied.
    """
    try:
        os.link(source, target)
    except OSError:
        return copy_and_hash(source, target)
    return sha256_file(target)


def attach_gate_inputs(con: duckdb.DuckDBPyConnection, database: Path) -> bool:
    """Attach the gate inputs written beside a candidate (``GATE_INPUTS_DB``), read-only, as ``raw``.

    Their tables sit in the sidecar's default schema, so ``raw._loads`` resolves (catalog ``raw``) on a
    connection to the candidate, which has no ``raw`` schema of its own. False when there is none (a build
    file, or a published version: both need nothing attached).
    """
    sidecar = database.parent / GATE_INPUTS_DB
    if not sidecar.is_file():
        return False
    con.execute(f"attach '{sql_str(sidecar)}' as {ident(GATE_INPUTS_SCHEMA)} (read_only)")
    return True


def copy_and_hash(source: Path, target: Path) -> str:
    """Copy ``source`` to a new ``target`` and return the sha256 of the bytes written: one read, one write."""
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


def file_problems(root: Path, files: dict[str, str], *, unlisted_ok: Iterable[str] = ()) -> list[str]:
    """THE integrity check: every listed file exists under ``root`` with its sha256, nothing else is there.

    Used for published versions (rollback, repair) and audited candidates alike.
    """
    problems = []
    for rel, digest in sorted(files.items()):
        target = root / rel
        if not target.is_file():
            problems.append(f"{rel} is missing")
        elif sha256_file(target) != digest:
            problems.append(f"{rel} sha256 does not match the manifest")
    present = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - set(unlisted_ok)
    problems += [f"{rel} is not in the manifest" for rel in sorted(present - set(files))]
    return problems


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")


def count_rows(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def sql_literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def fsync_files(paths: Iterable[Path]) -> None:
    """fsync files side by side: the kernel flushes them together instead of one journal commit each."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(fsync_file, paths))


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _DISK_FULL_TEXT)


def crash_point(step: str) -> None:
    """Test hook: ``BORDERWATCH_PUBLISH_CRASH_AT=<step>`` kills this process (SIGKILL) at that step."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
