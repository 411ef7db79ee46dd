"""Ingest, in stages with one job each: extract (HTTP files, paged APIs, the drop inbox → landing),
load (landed files → raw rows, one transaction per batch), wired by :mod:`borderwatch.ingest.run`.

- ``ingest_all(settings, feeds=None) -> list[LoadReport]`` — one feed's failure is recorded in its report
  (status ``'failed'``) and the others go on; nothing is raised for a feed failure.
- ``ingest_feed(settings, spec, *, client=None) -> LoadReport``
- ``ingest_inbox(settings) -> list[LoadReport]``
- ``replay(settings, target_db=None) -> list[LoadReport]`` — rebuild ``raw`` from the landing archive alone.

The raw tables' columns are declared in :mod:`borderwatch.ingest.contract`; the parse rules live once, as
SQL, in :mod:`borderwatch.normalize`. The caller holds the build-file writer lock; nothing here locks.
"""

from borderwatch.ingest.contract import ensure_raw_schema, table_columns
from borderwatch.ingest.errors import (
    FetchError,
    FileFormatError,
    IngestError,
    LineTooLongError,
    RejectRateExceeded,
    SchemaDriftError,
    UnsafeInboxFileError,
    ZipBombError,
)
from borderwatch.ingest.inbox import safe_inbox_path
from borderwatch.ingest.landing import LandedFile, LandingArchive
from borderwatch.ingest.load import load_files
from borderwatch.ingest.report import FileLoadResult, LoadReport, TableLoadResult, render_reports
from borderwatch.ingest.run import (
    ReplayError,
    connect_build_db,
    ingest_all,
    ingest_feed,
    ingest_inbox,
    replay,
)

__all__ = [
    "FetchError",
    "FileFormatError",
    "FileLoadResult",
    "IngestError",
    "LandedFile",
    "LandingArchive",
    "LineTooLongError",
    "LoadReport",
    "RejectRateExceeded",
    "ReplayError",
    "SchemaDriftError",
    "TableLoadResult",
    "UnsafeInboxFileError",
    "ZipBombError",
    "connect_build_db",
    "ensure_raw_schema",
    "ingest_all",
    "ingest_feed",
    "ingest_inbox",
    "load_files",
    "render_reports",
    "replay",
    "safe_inbox_path",
    "table_columns",
]
