"""Ingest: extract (HTTP files, paged APIs, the drop inbox → landing) then load (landed files → raw rows,
one transaction per batch), wired by :mod:`borderwatch.ingest.run`; this module only re-exports.

A feed's failure is recorded in its report (status ``'failed'``), never raised, and the others go on. The
caller holds the build-file writer lock; nothing here locks.
"""

from borderwatch.ingest.contract import ensure_raw_schema as ensure_raw_schema
from borderwatch.ingest.contract import table_columns as table_columns
from borderwatch.ingest.errors import FetchError as FetchError
from borderwatch.ingest.errors import FileFormatError as FileFormatError
from borderwatch.ingest.errors import IngestError as IngestError
from borderwatch.ingest.errors import LineTooLongError as LineTooLongError
from borderwatch.ingest.errors import RejectRateExceeded as RejectRateExceeded
from borderwatch.ingest.errors import SchemaDriftError as SchemaDriftError
from borderwatch.ingest.errors import UnsafeInboxFileError as UnsafeInboxFileError
from borderwatch.ingest.errors import ZipBombError as ZipBombError
from borderwatch.ingest.inbox import safe_inbox_path as safe_inbox_path
from borderwatch.ingest.landing import LandedFile as LandedFile
from borderwatch.ingest.landing import LandingArchive as LandingArchive
from borderwatch.ingest.load import load_files as load_files
from borderwatch.ingest.report import FileLoadResult as FileLoadResult
from borderwatch.ingest.report import LoadReport as LoadReport
from borderwatch.ingest.report import TableLoadResult as TableLoadResult
from borderwatch.ingest.report import render_reports as render_reports
from borderwatch.ingest.run import ReplayError as ReplayError
from borderwatch.ingest.run import connect_build_db as connect_build_db
from borderwatch.ingest.run import ingest_all as ingest_all
from borderwatch.ingest.run import ingest_feed as ingest_feed
from borderwatch.ingest.run import ingest_inbox as ingest_inbox
from borderwatch.ingest.run import replay as replay
