"""Durable-file helpers shared by the landing archive and publishing: one sha256, one fsync."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
from pathlib import Path

# copy_file_range cannot serve these (another filesystem on old kernels, a file system or file type
# without it): the bytes are then copied by shutil, as before
_NO_COPY_RANGE = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF, errno.ETXTBSY}


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


def copy_file(source: Path, target: Path) -> None:
    """Copy ``source``'s bytes to ``target`` (created or truncated) inside the kernel.

    ``copy_file_range`` shares the extents on a filesystem with reflinks (XFS ``reflink=1``, btrfs: a
    copy of a 2 GB warehouse costs no I/O, and DuckDB's later writes to the copy are copy-on-write) and
    copies in the kernel elsewhere (ext4), as ``shutil.copyfile`` (``sendfile``) would. Where the call is
    refused, the copy falls back to ``shutil.copyfile``.
    """
    with source.open("rb") as src, target.open("wb") as dst:
        size = os.fstat(src.fileno()).st_size
        done = 0
        try:
            while done < size:
                step = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
                if step == 0:  # the source shrank under us: copy what is there, as shutil would
                    break
                done += step
        except OSError as exc:
            if exc.errno not in _NO_COPY_RANGE or done:
                raise
        else:
            return
    shutil.copyfile(source, target)
