"""Durable-file helpers shared by the landing archive and publishing: one sha256, one fsync."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks (a published database can be gigabytes)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to disk (or a directory's entries: a rename or new file in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable; a directory already gone needs nothing."""
    with contextlib.suppress(FileNotFoundError):
        fsync_file(path)
