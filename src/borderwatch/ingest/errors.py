"""Ingest error types, and how they quote text a remote party chose.

Each message names the feed, the file, the line where known, and the fix. A server's body, header or URL
and a file's header line are quoted only through :func:`untrusted`: raw, they could clear an operator's
terminal, retitle it, reverse a line with a bidi override or bury the log under megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def untrusted(value: object, limit: int = 120) -> str:
    """Truncated to ``limit`` characters, then ``repr``-escaped (control, ANSI and bidi characters show as
    ``\\x1b`` / ``\\u202e`` instead of being obeyed)."""
    text = value[: limit * 4].decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    suffix = f"… ({len(text) - limit} more characters)" if len(text) > limit else ""
    return repr(text[:limit]) + suffix


def untrusted_list(values: Iterable[object], items: int = 10, limit: int = 60) -> str:
    """``[...]`` of at most ``items`` escaped, truncated values, then how many were left out."""
    values = list(values)
    shown = ", ".join(untrusted(v, limit) for v in values[:items])
    return f"[{shown}" + (f", … {len(values) - items} more" if len(values) > items else "") + "]"


class IngestError(RuntimeError):
    """A feed or file could not be ingested. The feed fails closed; other feeds go on."""


class FileFormatError(IngestError):
    """A file cannot be read as its spec's format (encoding, JSON, not a workbook, too big)."""


class LineTooLongError(FileFormatError):
    """A line exceeds ``format.max_line_bytes``; it was refused without being read into memory."""


class ZipBombError(FileFormatError):
    """An XLSX archive would expand beyond ``format.max_uncompressed_bytes`` or has an absurd ratio."""


class UnsafeInboxFileError(IngestError):
    """A name or file in the drop inbox (or a file index) is hostile or unusable: path tricks, symlink."""


class FetchError(IngestError):
    """An HTTP fetch failed after all retries; the message names the feed, the URL and the last error."""


class SchemaDriftError(IngestError):
    """The file's columns/keys differ from the spec: the feed fails closed until the spec is updated."""

    def __init__(
        self,
        *,
        feed: str,
        file_name: str,
        table: str,
        added: Sequence[str],
        removed: Sequence[str],
        line: int | None = None,
        detail: str = "",
    ) -> None:
        self.added, self.removed = sorted(added), sorted(removed)
        where = file_name + (f" line {line}" if line else "")
        super().__init__(
            f"schema drift in feed {feed!r} (table {table}), file {where}: "
            f"added columns {untrusted_list(self.added)}, removed columns {untrusted_list(self.removed)}"
            + (f" ({detail})" if detail else "")
            + f". Nothing of this feed was loaded; update feeds/{feed}.yaml (column 'source' keys) if the "
            "change is intended, or ask the agency to resend the file in the agreed layout."
        )


class RejectRateExceeded(IngestError):
    """Too many rows of one file failed to parse: nothing of the file was loaded."""

    def __init__(
        self,
        *,
        feed: str,
        file_name: str,
        table: str,
        rows_in: int,
        rows_rejected: int,
        threshold: float,
        first_bad_row: int,
        first_reason: str,
    ) -> None:
        super().__init__(
            f"feed {feed!r} file {file_name} (table {table}): {rows_rejected} of {rows_in} rows failed to "
            f"parse ({rows_rejected / rows_in:.1%} > reject_rate_threshold {threshold:.1%}); nothing of this "
            f"file was loaded. First bad row {first_bad_row}: {first_reason}. Fix the parse rule in "
            f"feeds/{feed}.yaml or ask the agency to resend the file."
        )
