"""Content-addressed, append-only landing archive of every payload we fetched or were handed.

Each payload is stored once under ``objects/<sha[:2]>/<sha>`` (read-only; never overwritten) and every
delivery appends one row to ``manifest.jsonl``. The manifest is the archive's index: ``replay`` rebuilds
the raw schema from it alone, in manifest order, so a lost build file is never a lost dataset.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from borderwatch.files import fsync_dir, fsync_file, sha256_file

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


class LandingError(RuntimeError):
    """The landing archive is missing an object or cannot store one; the message names the sha/file."""


@dataclass(frozen=True)
class Stored:
    """An object in the archive (:meth:`LandingArchive.store`) before its delivery is recorded."""

    sha256: str
    size: int
    path: Path


@dataclass(frozen=True)
class LandedFile:
    """One manifest row: a payload as delivered, with where it came from."""

    feed: str
    source_url: str
    file_name: str
    status: int | None
    headers: dict[str, str]
    fetched_at: str
    size: int
    sha256: str
    path: Path = field(compare=False)
    stream: str = "records"  # records | deletions (an API feed's tombstones): which cursor it moves

    @property
    def from_inbox(self) -> bool:
        """Inbox deliveries do not advance the feed's pull cursor."""
        return self.source_url.startswith("inbox:")

    def manifest_row(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("path")
        return row


class LandingArchive:
    """Immutable, content-addressed payload store with an append-only JSONL manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects_dir = self.root / "objects"
        self.manifest_path = self.root / "manifest.jsonl"
        self.tmp_dir = self.root / "tmp"
        self._unsynced_dirs: set[Path] = set()
        self._unsynced_files: list[Path] = []
        self._manifest_unsynced = False

    def object_path(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise LandingError(f"{sha!r} is not a sha256 hex digest")
        return self.objects_dir / sha[:2] / sha

    def put(
        self,
        data: bytes | Path | BinaryIO,
        *,
        feed: str,
        source_url: str,
        status: int | None,
        headers: Mapping[str, str] | None,
        file_name: str,
        defer_sync: bool = False,
        stream: str = "records",
    ) -> LandedFile:
        """Store a payload once (bytes, or a path/binary file streamed in chunks) and record this delivery.

        With ``defer_sync`` the object's bytes, its directory entry and the manifest line are made durable
        by the next :meth:`sync` (or :meth:`sync_in_background`) instead of here, so a batch pays for its
        fsyncs while it is read; the caller must wait for it before committing any of those files. An
        existing object whose bytes do not hash to its name (a crash before such a sync) is repaired.
        """
        stored = self.store(data, defer_sync=defer_sync)
        return self.record(
            stored,
            feed=feed,
            source_url=source_url,
            status=status,
            headers=headers,
            file_name=file_name,
            defer_sync=defer_sync,
            stream=stream,
        )

    def store(self, data: bytes | Path | BinaryIO, *, defer_sync: bool = False) -> Stored:
        """The first half of :meth:`put`: the payload's bytes as an object, not yet a delivery.

        Safe to call from several threads at once (the inbox lands its files two at a time); the deliveries
        are then recorded one by one, in order, with :meth:`record`.
        """
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix=".landing-")
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out, contextlib.ExitStack() as stack:
                if isinstance(data, bytes | bytearray | memoryview):
                    data = io.BytesIO(data)
                elif isinstance(data, Path):
                    data = stack.enter_context(open(data, "rb"))
                while chunk := data.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                if not defer_sync:
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.object_path(sha)
            if target.exists() and sha256_file(target) == sha:
                tmp.unlink()
            else:
                if defer_sync:
                    self._unsynced_files.append(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)
                if target.exists():  # torn by a crash before its deferred fsync: the one repair allowed
                    os.replace(tmp, target)
                else:  # link() fails if the target appeared meanwhile: an object is never overwritten
                    with contextlib.suppress(FileExistsError):
                        os.link(tmp, target)
                    tmp.unlink()
                self._unsynced_dirs.add(target.parent)
                self._unsynced_dirs.add(self.objects_dir)  # the <sha[:2]> directory may be new
                if not defer_sync:
                    self._sync_dirs()
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        return Stored(sha256=sha, size=size, path=target)

    def record(
        self,
        stored: Stored,
        *,
        feed: str,
        source_url: str,
        status: int | None,
        headers: Mapping[str, str] | None,
        file_name: str,
        defer_sync: bool = False,
        stream: str = "records",
    ) -> LandedFile:
        """The second half of :meth:`put`: one delivery of a stored object, appended to the manifest."""
        landed = LandedFile(
            feed=feed,
            source_url=source_url,
            file_name=file_name,
            status=status,
            headers={str(k).lower(): str(v) for k, v in (headers or {}).items()},
            fetched_at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            size=stored.size,
            sha256=stored.sha256,
            path=stored.path,
            stream=stream,
        )
        self._append_manifest(landed.manifest_row(), fsync=not defer_sync)
        return landed

    def _sync_dirs(self) -> None:
        for directory in sorted(self._unsynced_dirs):
            with contextlib.suppress(OSError):  # where directories cannot be opened or synced
                fsync_dir(directory)
        self._unsynced_dirs.clear()

    def sync(self) -> None:
        """Make every deferred ``put`` durable: objects, their directory entries, then the manifest."""
        files, self._unsynced_files = self._unsynced_files, []
        for path in files:
            fsync_file(path)
        self._sync_dirs()
        if self._manifest_unsynced:
            fsync_file(self.manifest_path)
            self._manifest_unsynced = False

    def sync_in_background(self) -> Callable[[], None]:
        """:meth:`sync` in a thread (the disk writes overlap reading the batch); returns the wait, which
        re-raises a failed sync. Call it before committing any file landed with ``defer_sync``."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing-sync")
        future = pool.submit(self.sync)
        pool.shutdown(wait=False)
        return future.result

    def _append_manifest(self, row: dict[str, Any], *, fsync: bool = True) -> None:
        line = json.dumps(row, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
        fd = os.open(self.manifest_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # A crash can leave a torn last line; start ours on a fresh line so it stays readable.
            size = os.fstat(fd).st_size
            if size:
                with open(self.manifest_path, "rb") as fh:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        line = b"\n" + line
            os.write(fd, line)
            if fsync:
                os.fsync(fd)
            else:
                self._manifest_unsynced = True
        finally:
            os.close(fd)

    def iter_manifest(self) -> Iterator[LandedFile]:
        """Manifest rows in delivery order; a torn (crash-interrupted) line is skipped with a warning."""
        if not self.manifest_path.exists():
            return
        with open(self.manifest_path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    row = json.loads(raw)
                except json.JSONDecodeError:
                    log.warning("%s line %d: torn manifest line skipped", self.manifest_path, number)
                    continue
                if "stream" not in row:  # manifests written before the stream was recorded
                    deletions = row["file_name"].startswith("deletions") and not row["source_url"].startswith(
                        "inbox:"
                    )
                    row["stream"] = "deletions" if deletions else "records"
                yield LandedFile(path=self.object_path(row["sha256"]), **row)

    def latest_by_url(self, feed: str) -> dict[str, LandedFile]:
        """Last delivery per source URL for a feed: its ETag drives conditional GETs."""
        latest: dict[str, LandedFile] = {}
        for landed in self.iter_manifest():
            if landed.feed == feed:
                latest[landed.source_url] = landed
        return latest
