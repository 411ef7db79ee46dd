"""Extract: HTTP file lists, paged JSON APIs and the drop inbox → landed files (nothing is loaded here).

HTTP goes through :class:`borderwatch.ingest.http.Fetcher` (deadlines, body limits, page cap, contained
redirects, retries). File feeds fetch the names after the file-name cursor, plus any known name whose
index entry (size, ETag, Last-Modified, sha256) no longer matches the copy we landed: a corrected file
re-sent under the same name is fetched and becomes a new revision. Conditional GETs (If-None-Match) make
an unchanged source cost a few 304s; a 304 for a file we landed but never loaded (a crashed run) hands
back the landed copy, so the load stage reloads it from landing. API feeds land every page of each
stream (records, deletions) from its exclusive ``updated_since`` cursor; each landed file says its stream.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

from borderwatch.config import Settings
from borderwatch.ingest.errors import FetchError, UnsafeInboxFileError, untrusted
from borderwatch.ingest.http import Fetcher
from borderwatch.ingest.landing import LandedFile, LandingArchive
from borderwatch.specs import FeedSpec

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def safe_remote_name(spec: FeedSpec, name: Any) -> str:
    """File names from an index become local metadata and URL parts: refuse anything path-like."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeInboxFileError(
            f"feed {spec.name!r}: the file index lists an unsafe name {untrusted(name)} (path separators, "
            "'..' or odd characters); refused"
        )
    return name


def _changed(entry: dict[str, Any], previous: LandedFile) -> bool:
    """Whether an index entry describes other content than the copy we landed under that name."""
    etag, landed_etag = entry.get("etag"), previous.headers.get("etag")
    if (
        entry.get("size", previous.size) != previous.size
        or entry.get("sha256", previous.sha256) != previous.sha256
        or (etag and landed_etag and etag != landed_etag)
    ):
        return True
    modified = entry.get("modified") or entry.get("last_modified")
    if modified and previous.headers.get("last-modified"):
        with contextlib.suppress(TypeError, ValueError):
            theirs = email.utils.parsedate_to_datetime(previous.headers["last-modified"])
            ours = dt.datetime.fromisoformat(str(modified).replace("Z", "+00:00")).replace(microsecond=0)
            return ours > theirs
    return False


def pull_files(
    settings: Settings, spec: FeedSpec, archive: LandingArchive, fetcher: Fetcher, cursor: str | None
) -> list[LandedFile]:
    """http_files: index → names after the cursor or changed since landed → conditional GET → land."""
    index_url = spec.resolved_url(spec.source.url, settings.simulator_url) or ""
    _response, index = fetcher.get_json(index_url)
    entries = index.get("files") if isinstance(index, dict) else None
    if not isinstance(entries, list):
        raise FetchError(f"feed {spec.name!r}: index {index_url} has no 'files' list; see feeds/README.md")
    listed = {
        safe_remote_name(spec, e.get("name") if isinstance(e, dict) else e): e if isinstance(e, dict) else {}
        for e in entries
    }
    latest = archive.latest_by_url(spec.name)
    landed: list[LandedFile] = []
    archive.tmp_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(listed):
        url = urljoin(index_url, quote(name))
        previous = latest.get(url)
        if (
            cursor is not None
            and name <= cursor
            and (previous is None or not _changed(listed[name], previous))
        ):
            continue
        landed.append(_download(spec, archive, fetcher, url, name, previous))
    return landed


def _download(
    spec: FeedSpec,
    archive: LandingArchive,
    fetcher: Fetcher,
    url: str,
    name: str,
    previous: LandedFile | None,
) -> LandedFile:
    headers = {"If-None-Match": previous.headers["etag"]} if previous and previous.headers.get("etag") else {}
    fd, tmp_name = tempfile.mkstemp(dir=archive.tmp_dir, prefix=".download-")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        response = fetcher.download(url, tmp, headers=headers, max_bytes=spec.format.max_file_bytes)
        if response.status_code == 304 and previous is not None:
            return previous
        if response.status_code == 304:
            response = fetcher.download(url, tmp, max_bytes=spec.format.max_file_bytes)
        return archive.put(
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


def pull_api(
    settings: Settings,
    spec: FeedSpec,
    archive: LandingArchive,
    fetcher: Fetcher,
    cursors: dict[str, str | None],
    landed: list[LandedFile],
) -> None:
    """http_api: pages of records then tombstones, each from its own exclusive ``updated_since`` cursor.

    Pages are appended to ``landed`` as they land, so a failure midway still hands the load stage the
    pages already archived (the stream's cursor moves only when its last page is loaded).
    """
    streams = [("records", "operations", spec.source.url)]
    if spec.source.deletions_url:
        streams.append(("deletions", "deletions", spec.source.deletions_url))
    param = spec.cursor.param or "updated_since"
    for stream, prefix, raw_url in streams:
        url = spec.resolved_url(raw_url, settings.simulator_url) or ""
        since = cursors.get(stream)
        page = 1
        landed_pages = 0
        while True:
            params: dict[str, Any] = {"page": page, "page_size": spec.source.page_size}
            if since:
                params[param] = since
            response, doc = fetcher.get_json(url, params=params)
            records = doc.get(spec.format.records_key) if isinstance(doc, dict) else None
            if not isinstance(records, list):
                raise FetchError(
                    f"feed {spec.name!r}: {untrusted(str(response.request.url))} has no list under "
                    f"{spec.format.records_key!r} (format.records_key in feeds/{spec.name}.yaml)"
                )
            next_page = doc.get("next_page")
            # An empty last page is landed only to close a stream whose earlier pages were landed.
            if records or (not next_page and landed_pages):
                landed_pages += 1
                landed.append(
                    archive.put(
                        response.content,
                        feed=spec.name,
                        source_url=str(response.request.url),
                        status=response.status_code,
                        headers=dict(response.headers),
                        file_name=f"{prefix}_since={since or 'start'}_page={page:05d}.json",
                        stream=stream,
                    )
                )
            if not next_page:
                break
            if not isinstance(next_page, int) or isinstance(next_page, bool) or next_page <= page:
                raise FetchError(
                    f"feed {spec.name!r}: {untrusted(str(response.request.url))} answered next_page="
                    f"{untrusted(next_page)} after page {page}; pagination must move forward"
                )
            page = next_page
