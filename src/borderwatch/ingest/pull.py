"""Pull connectors: paginated JSON APIs (updated_since cursor, deletions) and file lists (file_name cursor).

HTTP goes through one ``Fetcher`` (``borderwatch.ingest.http``, re-exported here): bounded deadlines, body
sizes and page counts, redirects contained to the feed's origin, retries with backoff. File feeds use
conditional GETs (If-None-Match with the ETag of the last delivery recorded in the landing manifest), so
an unchanged source costs a few 304s and loads nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import duckdb

from borderwatch.config import Settings
from borderwatch.ingest.errors import FetchError, UnsafeInboxFileError
from borderwatch.ingest.http import Fetcher, parse_retry_after
from borderwatch.ingest.landing import LandingArchive
from borderwatch.ingest.loader import get_cursor, load_landed_file
from borderwatch.ingest.report import LoadReport
from borderwatch.ingest.untrusted import untrusted
from borderwatch.specs import FeedSpec

__all__ = ["Fetcher", "parse_retry_after", "pull_api", "pull_files", "safe_remote_name"]

MAX_PAGES = 100_000
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def safe_remote_name(spec: FeedSpec, name: Any) -> str:
    """File names from an index become local metadata and URL parts: refuse anything path-like."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeInboxFileError(
            f"feed {spec.name!r}: the file index lists an unsafe name {untrusted(name)} (path separators, "
            "'..' or odd characters); refused"
        )
    return name


def pull_files(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    spec: FeedSpec,
    archive: LandingArchive,
    fetcher: Fetcher,
    report: LoadReport,
) -> None:
    """http_files: index → files after the cursor → conditional GET → land → load, in name order."""
    index_url = spec.resolved_url(spec.source.url, settings.simulator_url) or ""
    _response, index = fetcher.get_json(index_url)
    entries = index.get("files") if isinstance(index, dict) else None
    if not isinstance(entries, list):
        raise FetchError(f"feed {spec.name!r}: index {index_url} has no 'files' list; see feeds/README.md")
    cursor = get_cursor(con, spec.name)
    names = sorted(safe_remote_name(spec, e.get("name") if isinstance(e, dict) else e) for e in entries)
    pending = [n for n in names if cursor is None or n > cursor]
    latest = archive.latest_by_url(spec.name)
    archive.tmp_dir.mkdir(parents=True, exist_ok=True)
    for name in pending:
        report.files_seen += 1
        url = urljoin(index_url, quote(name))
        previous = latest.get(url)
        headers = {}
        if previous is not None and previous.headers.get("etag"):
            headers["If-None-Match"] = previous.headers["etag"]
        fd, tmp_name = tempfile.mkstemp(dir=archive.tmp_dir, prefix=".download-")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            response = fetcher.download(url, tmp, headers=headers, max_bytes=spec.format.max_file_bytes)
            if response.status_code == 304 and previous is None:
                response = fetcher.download(url, tmp, max_bytes=spec.format.max_file_bytes)
            if response.status_code == 304 and previous is not None:
                landed = previous
            else:
                landed = archive.put(
                    tmp,
                    feed=spec.name,
                    source_url=url,
                    status=response.status_code,
                    headers=dict(response.headers),
                    file_name=name,
                )
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        report.add_file(load_landed_file(con, spec, landed, report.load_id))


def pull_api(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    spec: FeedSpec,
    archive: LandingArchive,
    fetcher: Fetcher,
    report: LoadReport,
) -> None:
    """http_api: pages of records then tombstones, each from its own exclusive updated_since cursor."""
    streams = [("operations", spec.source.url, spec.name)]
    if spec.source.deletions_url:
        streams.append(("deletions", spec.source.deletions_url, f"{spec.name}:deletions"))
    param = spec.cursor.param or "updated_since"
    records_key = spec.format.records_key
    for stream, raw_url, key in streams:
        url = spec.resolved_url(raw_url, settings.simulator_url) or ""
        since = get_cursor(con, key)
        page: int = 1
        landed_pages = 0
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"page": page, "page_size": spec.source.page_size}
            if since:
                params[param] = since
            response, doc = fetcher.get_json(url, params=params)
            records = doc.get(records_key) if isinstance(doc, dict) else None
            if not isinstance(records, list):
                raise FetchError(
                    f"feed {spec.name!r}: {response.request.url} has no list under {records_key!r} "
                    f"(format.records_key in feeds/{spec.name}.yaml)"
                )
            report.files_seen += 1
            next_page = doc.get("next_page")
            # An empty last page is landed only to close a stream whose earlier pages were landed.
            if records or (not next_page and landed_pages):
                landed_pages += 1
                landed = archive.put(
                    response.content,
                    feed=spec.name,
                    source_url=str(response.request.url),
                    status=response.status_code,
                    headers=dict(response.headers),
                    file_name=f"{stream}_since={since or 'start'}_page={page:05d}.json",
                )
                report.add_file(load_landed_file(con, spec, landed, report.load_id))
            if not next_page:
                break
            if not isinstance(next_page, int) or next_page <= page:
                raise FetchError(
                    f"feed {spec.name!r}: {response.request.url} answered next_page={untrusted(next_page)} "
                    f"after page {page}; pagination must move forward"
                )
            page = next_page
        else:
            raise FetchError(f"feed {spec.name!r}: more than {MAX_PAGES} pages from {url}; refusing to loop")
