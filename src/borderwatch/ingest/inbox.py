"""The drop inbox: agencies (or operators) drop files into ``$BORDERWATCH_HOME/inbox/``.

Everything in the inbox is untrusted. A file is accepted only if its name is plain (no separators, no
``..``), it is a regular file (symlinks are never followed: we lstat and open with O_NOFOLLOW), it matches
exactly one feed's ``inbox_glob``, and it is within the feed's size limits. Accepted files are landed,
loaded and removed; refused files move to ``inbox/.rejected/`` with ``<name>.error.txt`` beside them.
Nothing outside the inbox is ever touched.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from borderwatch.config import Settings
from borderwatch.ingest.errors import IngestError, UnsafeInboxFileError
from borderwatch.ingest.landing import LandedFile, LandingArchive, Stored
from borderwatch.ingest.report import LoadReport
from borderwatch.ingest.xlsx import check_zip
from borderwatch.specs import FeedSpec

log = logging.getLogger(__name__)

REJECTED_DIR = ".rejected"


def feed_glob(spec: FeedSpec) -> str | None:
    return spec.inbox_glob or spec.source.inbox_glob


def safe_inbox_path(inbox: Path, name: str) -> Path:
    """``inbox / name`` for a plain file name (no separator of any OS, no NUL, no '..', not hidden, so it
    cannot leave the inbox); raises UnsafeInboxFileError for anything path-like."""
    if not name or name.startswith(".") or any(bad in name for bad in ("..", "/", "\\", "\x00")):
        raise UnsafeInboxFileError(
            f"inbox file name {name!r} is refused: names must be plain file names (no path separators, no "
            "'..', not hidden); rename the file and drop it again"
        )
    return inbox / name


def _rejected_name(rejected: Path, name: str) -> str:
    """A free, plain name inside .rejected/ (never overwrites an earlier rejection)."""
    base = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name).lstrip(".") or "unnamed"
    candidate, n = base, 0
    while os.path.lexists(rejected / candidate) or os.path.lexists(rejected / f"{candidate}.error.txt"):
        n += 1
        candidate = f"{base}.{n}"
    return candidate


def _reject(inbox: Path, name: str, message: str) -> None:
    """Move an inbox entry (a symlink itself, never its target) to .rejected/ and write why beside it."""
    rejected = inbox / REJECTED_DIR
    try:
        rejected.mkdir(exist_ok=True)
        target = _rejected_name(rejected, name)
        os.rename(os.path.join(inbox, name), rejected / target)
        (rejected / f"{target}.error.txt").write_text(f"{name}: {message}\n", encoding="utf-8")
        log.warning("inbox: refused %s: %s", name, message)
    except OSError as exc:
        log.error("inbox: could not move %s to %s: %s", name, REJECTED_DIR, exc)


def _check_entry(inbox: Path, name: str, specs: list[FeedSpec]) -> FeedSpec:
    """Validate one entry before touching its content; raises IngestError with the reason to reject."""
    path = safe_inbox_path(inbox, name)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeInboxFileError(
            f"inbox file {name!r} is a symbolic link; links are never followed (the target was not read). "
            "Drop the file itself"
        )
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeInboxFileError(f"inbox entry {name!r} is not a regular file; refused")
    # the first feed (in name order) whose inbox glob matches
    spec = next((s for s in specs if (g := feed_glob(s)) and fnmatch.fnmatchcase(name, g)), None)
    if spec is None:
        globs = ", ".join(f"{s.name}: {feed_glob(s)}" for s in specs if feed_glob(s))
        raise UnsafeInboxFileError(f"inbox file {name!r} matches no feed's inbox_glob ({globs}); rename it")
    if st.st_size > spec.format.max_file_bytes:
        raise UnsafeInboxFileError(
            f"inbox file {name!r} for feed {spec.name!r} is {st.st_size} bytes, over format.max_file_bytes "
            f"({spec.format.max_file_bytes}); refused"
        )
    if spec.format.type == "xlsx":
        check_zip(spec, path, file_name=name)
    return spec


def _store(archive: LandingArchive, inbox: Path, name: str) -> Stored:
    """Store the file's bytes through an O_NOFOLLOW descriptor, so a swap to a symlink after lstat is
    refused."""
    fd = os.open(os.path.join(inbox, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeInboxFileError(f"inbox entry {name!r} is not a regular file; refused")
        return archive.store(fh, defer_sync=True)


LANDING_THREADS = 2
"""Inbox files hashed and copied at once: sha256 and file copies release the GIL, so two files land in
about the time of one (DuckDB reads them only after all have landed)."""


def land_inbox(
    settings: Settings, specs: list[FeedSpec], archive: LandingArchive, report: LoadReport
) -> dict[str, list[tuple[str, LandedFile]]]:
    """Land every acceptable inbox file, in name order, per feed; refuse the rest into ``report``.

    Files are stored ``LANDING_THREADS`` at a time and their deliveries recorded in name order. Nothing is
    fsynced here: the caller starts ``archive.sync_in_background()`` and waits for it before committing
    any of these files. Files stay in the inbox until their batch has committed (:func:`settle`).
    """
    inbox = settings.inbox_dir
    landed: dict[str, list[tuple[str, LandedFile]]] = {}
    if not inbox.is_dir():
        return landed
    with os.scandir(inbox) as it:  # dot files are uploads in progress (or .rejected/); '..'-names are hostile
        names = sorted(e.name for e in it if not (e.name.startswith(".") and not e.name.startswith("..")))
    checked: dict[str, FeedSpec | Exception] = {}
    for name in names:
        try:
            checked[name] = _check_entry(inbox, name, specs)
        except (IngestError, OSError) as exc:
            checked[name] = exc
    with ThreadPoolExecutor(max_workers=LANDING_THREADS, thread_name_prefix="inbox-landing") as pool:
        stored = {
            name: pool.submit(_store, archive, inbox, name)
            for name, spec in checked.items()
            if not isinstance(spec, Exception)
        }
        for name, spec in checked.items():
            report.files_seen += 1
            try:
                if isinstance(spec, Exception):
                    raise spec
                delivery = archive.record(
                    stored[name].result(),
                    feed=spec.name,
                    source_url=f"inbox:{name}",
                    status=None,
                    headers={},
                    file_name=name,
                    defer_sync=True,
                )
                landed.setdefault(spec.name, []).append((name, delivery))
            except (IngestError, OSError) as exc:
                report.files_rejected += 1
                report.add_error(str(exc), file_name=name)
                _reject(inbox, name, str(exc))
    report.files_seen -= sum(len(v) for v in landed.values())  # counted again by their feed's report
    return landed


def settle(inbox: Path, name: str, error: IngestError | None) -> None:
    """After its batch: a loaded file leaves the inbox; a refused one moves to .rejected/ with why."""
    if error is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(inbox, name))
    else:
        _reject(inbox, name, str(error))
