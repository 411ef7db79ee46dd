"""Ingest error types. Each message names the feed, the file, the line where known, and the fix."""

from __future__ import annotations

from collections.abc import Sequence

from borderwatch.ingest.untrusted import untrusted_list


class IngestError(RuntimeError):
    """Base class: a feed or file could not be ingested. The feed fails closed; other feeds go on."""


class FileFormatError(IngestError):
    """A file cannot be read as its spec's format (encoding, JSON, not a workbook, too big)."""


class LineTooLongError(FileFormatError):
    """A line exceeds ``format.max_line_bytes``; it was refused without being read into memory."""


class ZipBombError(FileFormatError):
    """An XLSX archive would expand beyond ``format.max_uncompressed_bytes`` or has an absurd ratio."""


class UnsafeInboxFileError(IngestError):
    """A name or file in the drop inbox is hostile or unusable (path tricks, symlink, not a file)."""


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
        self.feed = feed
        self.file_name = file_name
        self.table = table
        self.added = sorted(added)
        self.removed = sorted(removed)
        self.line = line
        where = f"{file_name}" + (f" line {line}" if line else "")
        super().__init__(
            f"schema drift in feed {feed!r} (table {table}), file {where}: "
            f"added columns {untrusted_list(self.added)}, removed columns {untrusted_list(self.removed)}"
            + (f" ({detail})" if detail else "")
            + f". Nothing of this feed was loaded; update feeds/{feed}.yaml (column 'source' keys) if the "
            "change is intended, or ask the agency to resend the file in the agreed layout."
        )


class RejectRateExceeded(IngestError):
    """Too many rows of one file failed to parse: nothing of the file was loaded (transaction rolled back)."""

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
        self.feed = feed
        self.file_name = file_name
        self.rows_in = rows_in
        self.rows_rejected = rows_rejected
        super().__init__(
            f"feed {feed!r} file {file_name} (table {table}): {rows_rejected} of {rows_in} rows failed to "
            "parse "
            f"({rows_rejected / rows_in:.1%} > reject_rate_threshold {threshold:.1%}); nothing of this file "
            f"was loaded. First bad row {first_bad_row}: {first_reason}. Fix the parse rule in "
            f"feeds/{feed}.yaml or ask the agency to resend the file."
        )
