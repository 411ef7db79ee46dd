"""Pull connectors: paginated JSON APIs (updated_since cursor, deletions) and file lists (file_name cursor).

HTTP goes through one ``Fetcher``: httpx with tenacity retries, exponential backoff that honours
``Retry-After`` on 429/503, and truncated bodies (Content-Length mismatch, invalid JSON) treated as
transient. File feeds use conditional GETs (If-None-Match with the ETag of the last delivery recorded in
the landing manifest), so an unchanged source costs a few 304s and loads nothing.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import duckdb
import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from borderwatch.config import Settings
from borderwatch.ingest.errors import FetchError, UnsafeInboxFileError
from borderwatch.ingest.landing import LandingArchive
from borderwatch.ingest.loader import get_cursor, load_landed_file
from borderwatch.ingest.report import LoadReport
from borderwatch.specs import FeedSpec

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_ENV = "BORDERWATCH_HTTP_BACKOFF_SECONDS"  # base of the exponential backoff (tests set it small)
MAX_RETRY_AFTER = 60.0
MAX_PAGES = 100_000
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class _Transient(Exception):
    """A failure worth retrying; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent or garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Fetcher:
    """GETs with retries for one feed; raises FetchError naming the feed and URL when retries run out."""

    def __init__(
        self,
        client: httpx.Client,
        spec: FeedSpec,
        *,
        backoff_base: float | None = None,
        backoff_max: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.spec = spec
        base = backoff_base if backoff_base is not None else float(os.environ.get(BACKOFF_ENV, "0.5"))
        self._exponential = wait_exponential(multiplier=base, max=backoff_max)
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.requests = 0

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER)
        return float(self._exponential(state))

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.spec.source.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self.sleep,
            reraise=True,
        )

    def _check_status(self, response: httpx.Response) -> None:
        if response.status_code in RETRY_STATUSES:
            raise _Transient(
                f"HTTP {response.status_code}", parse_retry_after(response.headers.get("retry-after"))
            )
        if response.status_code >= 400:
            raise FetchError(
                f"feed {self.spec.name!r}: GET {response.request.url} answered HTTP {response.status_code}; "
                f"check source.url in feeds/{self.spec.name}.yaml"
            )

    def _call(self, fn: Callable[[], Any], url: str) -> Any:
        try:
            for attempt in self._retrying():
                with attempt:
                    self.requests += 1
                    try:
                        return fn()
                    except httpx.TransportError as exc:
                        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        except _Transient as exc:
            raise FetchError(
                f"feed {self.spec.name!r}: GET {url} failed after {self.spec.source.max_retries + 1} "
                "attempts "
                f"(last error: {exc}); the source is down or throttling: the feed will retry on its next run"
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, url: str, *, params: dict[str, Any] | None = None) -> tuple[httpx.Response, Any]:
        """GET a JSON document; a truncated or invalid body is retried."""

        def once() -> tuple[httpx.Response, Any]:
            response = self.client.get(url, params=params, timeout=self.spec.source.timeout_seconds)
            self._check_status(response)
            _check_length(response.headers, len(response.content))
            try:
                return response, json.loads(response.content)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise _Transient(f"invalid JSON body ({exc}); probably truncated") from exc

        return self._call(once, url)

    def download(
        self, url: str, dest: Path, *, headers: dict[str, str] | None = None, max_bytes: int
    ) -> httpx.Response:
        """Stream a file to ``dest`` (memory bounded); returns the response (status 200 or 304)."""

        def once() -> httpx.Response:
            with self.client.stream(
                "GET", url, headers=headers, timeout=self.spec.source.timeout_seconds
            ) as r:
                self._check_status(r)
                if r.status_code == 304:
                    return r
                size = 0
                with open(dest, "wb") as out:
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchError(
                                f"feed {self.spec.name!r}: {url} is larger than format.max_file_bytes "
                                f"({max_bytes}); refused"
                            )
                        out.write(chunk)
                _check_length(r.headers, size)
                return r

        return self._call(once, url)


def _check_length(headers: httpx.Headers, actual: int) -> None:
    declared = headers.get("content-length")
    if declared is None or headers.get("content-encoding"):
        return
    try:
        expected = int(declared)
    except ValueError:
        return
    if expected != actual:
        raise _Transient(f"truncated body: Content-Length {expected}, received {actual} bytes")


def safe_remote_name(spec: FeedSpec, name: Any) -> str:
    """File names from an index become local metadata and URL parts: refuse anything path-like."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeInboxFileError(
            f"feed {spec.name!r}: the file index lists an unsafe name {name!r} (path separators, '..' or "
            "odd characters); refused"
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
                    f"feed {spec.name!r}: {response.request.url} answered next_page={next_page!r} after page "
                    f"{page}; pagination must move forward"
                )
            page = next_page
        else:
            raise FetchError(f"feed {spec.name!r}: more than {MAX_PAGES} pages from {url}; refusing to loop")
