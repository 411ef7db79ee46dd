"""``borderwatch.files.copy_file``: the kernel copies (or, with reflinks, shares) a warehouse file; where
``copy_file_range`` is refused the bytes are still copied, and any other failure is raised."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from borderwatch.files import copy_file, sha256_file

REFLINK_DIR_ENV = "BORDERWATCH_TEST_REFLINK_DIR"  # a directory on XFS (reflink=1) or btrfs, when one exists


def _file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def test_a_copy_has_the_same_bytes_and_replaces_what_was_there(tmp_path: Path) -> None:
    source = _file(tmp_path / "served.duckdb", 3 * (1 << 20) + 17)
    target = tmp_path / "candidate.duckdb"
    target.write_bytes(b"x" * (5 << 20))  # longer than the source: must not survive as a tail
    copy_file(source, target)
    assert target.stat().st_size == source.stat().st_size
    assert sha256_file(target) == sha256_file(source)


def test_a_refused_copy_file_range_falls_back_to_copying_the_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def refused(*args: object) -> int:
        calls.append(1)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refused)
    source = _file(tmp_path / "served.duckdb", 1 << 20)
    target = tmp_path / "candidate.duckdb"
    copy_file(source, target)
    assert calls == [1]
    assert sha256_file(target) == sha256_file(source)


def test_a_copy_that_fails_half_way_is_an_error_not_a_short_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.copy_file_range
    done: list[int] = []

    def fails_after_the_first_step(src: int, dst: int, count: int, *rest: object) -> int:
        if done:
            raise OSError(errno.ENOSPC, "No space left on device")
        done.append(1)
        return real(src, dst, min(count, 1 << 16))

    monkeypatch.setattr(os, "copy_file_range", fails_after_the_first_step)
    source = _file(tmp_path / "served.duckdb", 1 << 20)
    with pytest.raises(OSError) as raised:
        copy_file(source, tmp_path / "candidate.duckdb")
    assert raised.value.errno == errno.ENOSPC


@pytest.mark.skipif(
    not os.environ.get(REFLINK_DIR_ENV), reason=f"set {REFLINK_DIR_ENV} to a reflink filesystem"
)
def test_on_a_reflink_filesystem_a_copy_takes_no_space(tmp_path: Path) -> None:
    root = Path(os.environ[REFLINK_DIR_ENV]) / tmp_path.name
    root.mkdir()
    try:
        source = _file(root / "served.duckdb", 64 << 20)
        os.sync()
        free = os.statvfs(root).f_bfree
        copy_file(source, root / "candidate.duckdb")
        os.sync()
        used = (free - os.statvfs(root).f_bfree) * os.statvfs(root).f_frsize
        assert used < 4 << 20, f"the copy took {used} bytes: its extents are not shared"
        assert sha256_file(root / "candidate.duckdb") == sha256_file(source)
    finally:
        for path in root.iterdir():
            path.unlink()
        root.rmdir()
