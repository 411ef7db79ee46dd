"""The six agency endpoints on loopback HTTP, exactly as ``feeds/README.md`` describes them.

File payloads are generated once per (seed, scale, generator version) into a cache directory and
streamed from disk, so large scales never sit in memory. A clock (``until``) decides what has been
published; fault switches (``borderwatch.simulator.faults``) bend the answers the way real agency
servers do. Both can be changed at run time through ``/_admin/*``.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import json
import logging
import os
import random
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from borderwatch.simulator import faults as fx
from borderwatch.simulator.faults import Fault, UnknownFaultError, parse_faults
from borderwatch.simulator.scenario import (
    DEFAULT_UNTIL,
    FILE_FEEDS,
    MANIFEST_NAME,
    TZ_BANGKOK,
    Scenario,
    WrittenFile,
    build_scenario,
    iso_ts,
    rtp_page,
    write_scenario_files,
)

log = logging.getLogger(__name__)

FEED_PATHS: dict[str, str] = {
    "kh_gdi_deportations": "/kh-gdi/bulletins/",
    "th_imm_receptions": "/th-imm/receptions/",
    "mfa_assistance": "/mfa/assistance/",
    "nbtc_telecom": "/nbtc/enforcement/",
    "kh_ncct_raids": "/kh-ncct/raids/",
}
RTP_OPERATIONS_PATH = "/rtp/api/v1/operations"
RTP_DELETIONS_PATH = "/rtp/api/v1/deletions"
CONTENT_TYPES: dict[str, str] = {
    "kh_gdi_deportations": "text/csv; charset=utf-8",
    "th_imm_receptions": "text/csv",
    "mfa_assistance": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "nbtc_telecom": "application/x-ndjson; charset=utf-8",
    "kh_ncct_raids": "text/csv; charset=utf-8",
}
JSON_TYPE = "application/json; charset=utf-8"
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000
RETRY_AFTER_SECONDS = 1
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_COPY_CHUNK = 256 * 1024


class SimulatorError(RuntimeError):
    """The simulator cannot start or was asked for something it does not do."""


class NonLoopbackBindError(SimulatorError):
    """Binding to a non-loopback address without ``allow_remote=True``."""


def _generator_digest() -> str:
    """Changes whenever the generator code changes, so stale caches are never served."""
    here = Path(__file__).parent / "scenario"
    digest = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def default_cache_dir() -> Path:
    from borderwatch.config import get_settings

    return get_settings().home / "cache" / "simulator"


def prepare_cache(seed: int = 7, scale: float = 1.0, cache_dir: Path | None = None) -> Path:
    """Generate every file payload for (seed, scale) once; concurrent callers race safely via rename."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / f"seed{seed}-scale{scale:g}-{_generator_digest()}"
    if (target / MANIFEST_NAME).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    write_scenario_files(build_scenario(seed, scale), tmp)
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / MANIFEST_NAME).is_file():
            raise
    return target


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------------


@dataclass
class Response:
    """What the handler sends: a status, headers and either bytes or a file streamed from disk."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    file: Path | None = None
    length: int | None = None
    truncate: bool = False

    @property
    def content_length(self) -> int:
        return self.length if self.length is not None else len(self.body)


def _json_response(status: int, payload: Any) -> Response:
    return Response(
        status, {"Content-Type": JSON_TYPE}, json.dumps(payload, ensure_ascii=False).encode("utf-8")
    )


def _error(status: int, message: str) -> Response:
    return _json_response(status, {"error": message})


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _etag(sha256_hex: str) -> str:
    return f'"{sha256_hex}"'


def _not_modified(headers: Any, etag: str, last_modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins; otherwise a not-older If-Modified-Since."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def _conditional(headers: Any, resp: Response, sha: str, last_modified: datetime) -> Response:
    etag = _etag(sha)
    resp.headers["ETag"] = etag
    resp.headers["Last-Modified"] = _http_date(last_modified)
    if _not_modified(headers, etag, last_modified):
        return Response(304, {"ETag": etag, "Last-Modified": resp.headers["Last-Modified"]})
    return resp


# --------------------------------------------------------------------------------------------------
# The application: state, catalog, routes
# --------------------------------------------------------------------------------------------------


# A file in the on-disk cache, as its manifest records it: the record ``write_scenario_files`` wrote.
CachedFile = WrittenFile


@dataclass(frozen=True)
class _Body:
    """A served file body: a cached file on disk, or rewritten bytes when a fault touches it."""

    source: CachedFile
    data: bytes | None
    sha256: str
    size: int


class SimulatorApp:
    """Routes and state, independent of the socket server (so it can be unit-tested without one)."""

    def __init__(
        self,
        seed: int = 7,
        scale: float = 1.0,
        until: date | None = None,
        faults: Iterable[str | Fault] = (),
        cache_dir: Path | None = None,
    ) -> None:
        self.seed, self.scale = seed, scale
        self._lock = threading.Lock()
        self._until = until or DEFAULT_UNTIL
        self._faults = parse_faults([str(f) for f in faults])
        self._hits: dict[str, int] = {}
        self.cache_path = prepare_cache(seed, scale, cache_dir)
        self._files = self._load_manifest()
        self._scenario: Scenario = build_scenario(seed, scale)
        self._rtp_cache: dict[date, tuple[list[tuple[datetime, dict[str, Any]]], ...]] = {}
        self._body_cache: dict[tuple[str, tuple[Fault, ...]], _Body] = {}

    # --- state -------------------------------------------------------------------------------

    def _load_manifest(self) -> dict[str, list[CachedFile]]:
        manifest = json.loads((self.cache_path / MANIFEST_NAME).read_text(encoding="utf-8"))
        files: dict[str, list[CachedFile]] = {feed: [] for feed in FILE_FEEDS}
        for item in manifest["files"]:
            path = self.cache_path / item["feed"] / item["name"]
            files[item["feed"]].append(
                CachedFile(item["feed"], item["name"], path, datetime.fromisoformat(item["published"]),
                           item["size"], item["sha256"], item["rows"])
            )  # fmt: skip
        for entries in files.values():
            entries.sort(key=lambda f: f.name)
        return files

    @property
    def scenario(self) -> Scenario:
        """The scenario being served (RTP records live here; file bodies are served from the cache)."""
        return self._scenario

    @property
    def until(self) -> date:
        return self._until

    @property
    def faults(self) -> frozenset[Fault]:
        return self._faults

    def set_clock(self, until: date) -> None:
        with self._lock:
            self._until = until

    def set_faults(self, faults: Iterable[str | Fault]) -> None:
        """Replace the active faults; per-path counters restart so transient faults fire again."""
        parsed = parse_faults([str(f) for f in faults])
        with self._lock:
            self._faults = parsed
            self._hits.clear()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"seed": self.seed, "scale": self.scale, "until": self._until.isoformat(),
                    "faults": sorted(f.value for f in self._faults), "requests": dict(self._hits),
                    "cache": str(self.cache_path)}  # fmt: skip

    def _hit(self, path: str) -> int:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            return self._hits[path]

    def _snapshot(self) -> tuple[date, frozenset[Fault]]:
        with self._lock:
            return self._until, self._faults

    # --- routing -----------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes = b"") -> Response:
        """Dispatch one request; never raises for bad input (answers 4xx instead)."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if path.startswith("/_admin/"):
            return self._admin(method, path, body)
        if method not in ("GET", "HEAD"):
            return _error(405, f"{method} not allowed on {path}")
        until, faults = self._snapshot()
        if path in (RTP_OPERATIONS_PATH, RTP_DELETIONS_PATH) or any(
            path.rstrip("/") == p.rstrip("/") or path.startswith(p) for p in FEED_PATHS.values()
        ):
            transient = self._transient(path, faults)
            if transient is Fault.RATE_LIMIT:
                resp = _error(429, "rate limited; retry later")
                resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return resp
            if transient is Fault.SERVER_ERROR:
                return _error(503, "service temporarily unavailable")
            resp = self._feed(path, query, headers, until, faults)
            if transient is Fault.TRUNCATED_BODY and resp.status == 200:
                resp.truncate = True
            return resp
        return _error(404, f"no such endpoint: {path}")

    def _transient(self, path: str, faults: frozenset[Fault]) -> Fault | None:
        """The n-th request of a path meets the n-th active transient fault: 429, 503, then truncation."""
        active = [f for f in fx.TRANSIENT_FAULTS if f in faults]
        n = self._hit(path)
        return active[n - 1] if n <= len(active) else None

    def _feed(
        self, path: str, query: dict[str, list[str]], headers: Any, until: date, faults: frozenset[Fault]
    ) -> Response:
        if path == RTP_OPERATIONS_PATH:
            return self._rtp(query, headers, until, faults, deletions=False)
        if path == RTP_DELETIONS_PATH:
            return self._rtp(query, headers, until, faults, deletions=True)
        for feed, prefix in FEED_PATHS.items():
            if path.rstrip("/") == prefix.rstrip("/"):
                return self._index(feed, headers, until, faults)
            if path.startswith(prefix):
                return self._file(feed, path[len(prefix) :], headers, until, faults)
        return _error(404, f"no such endpoint: {path}")

    def _admin(self, method: str, path: str, body: bytes) -> Response:
        if path == "/_admin/state" and method == "GET":
            return _json_response(200, self.state())
        if method != "POST" or path not in ("/_admin/clock", "/_admin/faults"):
            return _error(404, f"no such admin endpoint: {method} {path}")
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            return _error(400, f"{path}: body is not JSON: {exc}")
        if not isinstance(payload, dict):
            return _error(400, f"{path}: body must be a JSON object")
        if path == "/_admin/clock":
            try:
                self.set_clock(date.fromisoformat(str(payload["until"])))
            except (KeyError, ValueError) as exc:
                return _error(400, f'/_admin/clock: expected {{"until": "YYYY-MM-DD"}}: {exc}')
        else:
            names = payload.get("faults")
            if not isinstance(names, list):
                return _error(400, '/_admin/faults: expected {"faults": ["rate_limit", ...]}')
            try:
                self.set_faults(names)
            except UnknownFaultError as exc:
                return _error(400, str(exc))
        return _json_response(200, self.state())

    # --- RTP API -----------------------------------------------------------------------------

    def _rtp_records(self, until: date) -> tuple[list[tuple[datetime, dict[str, Any]]], ...]:
        with self._lock:
            cached = self._rtp_cache.get(until)
        if cached is None:
            ops, tombs = self._scenario.rtp_state(until)
            cached = tuple(
                [(datetime.fromisoformat(r["updated_at"]), r) for r in recs] for recs in (ops, tombs)
            )
            with self._lock:
                self._rtp_cache[until] = cached
        return cached

    def _rtp(
        self,
        query: dict[str, list[str]],
        headers: Any,
        until: date,
        faults: frozenset[Fault],
        *,
        deletions: bool,
    ) -> Response:
        ops, tombs = self._rtp_records(until)
        records = tombs if deletions else ops
        try:
            since = _parse_since(query.get("updated_since", [""])[0])
            page = int(query.get("page", ["1"])[0])
            page_size = int(query.get("page_size", [str(DEFAULT_PAGE_SIZE)])[0])
        except ValueError as exc:
            return _error(400, f"bad query parameter: {exc}")
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            return _error(400, f"page must be >= 1 and page_size within 1..{MAX_PAGE_SIZE}")
        start = 0 if since is None else bisect.bisect_right([t for t, _ in records], since)
        selected = [r for _, r in records[start:]]
        body = rtp_page(selected, page, page_size)
        pages = max(1, -(-len(selected) // page_size))
        if Fault.OUT_OF_ORDER_PAGES in faults and page <= pages:
            body["data"] = rtp_page(selected, pages + 1 - page, page_size)["data"]
            random.Random(f"{until}/{page}").shuffle(body["data"])
        if Fault.DUPLICATE_DELIVERY in faults and body["data"]:
            body["data"] = [*body["data"], body["data"][0]]
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        stamps = [t for t, _ in ops[-1:] + tombs[-1:]]
        last_modified = max(stamps) if stamps else EPOCH
        resp = Response(200, {"Content-Type": JSON_TYPE}, data)
        return _conditional(headers, resp, hashlib.sha256(data).hexdigest(), last_modified)

    # --- file feeds --------------------------------------------------------------------------

    def visible_files(self, feed: str, until: date | None = None) -> list[CachedFile]:
        limit = until or self._until
        return [f for f in self._files[feed] if f.published.astimezone(TZ_BANGKOK).date() <= limit]

    def _listing(self, feed: str, until: date, faults: frozenset[Fault]) -> list[tuple[str, _Body]]:
        """(served name, body) in name order, with fault rewrites and aliases applied."""
        visible = self.visible_files(feed, until)
        if not visible:
            return []
        newest = visible[-1]
        largest = max(visible, key=lambda f: (f.rows, f.name))
        out = [(f.name, self._body(f, self._rewrites(f, newest, largest, faults))) for f in visible]
        if Fault.DUPLICATE_DELIVERY in faults:
            stem, dot, ext = newest.name.rpartition(".")
            out.append((f"{stem}_dup{dot}{ext}", out[-1][1]))
            out.sort(key=lambda item: item[0])
        return out

    @staticmethod
    def _rewrites(
        f: CachedFile, newest: CachedFile, largest: CachedFile, faults: frozenset[Fault]
    ) -> tuple[Fault, ...]:
        """Which content faults apply to this file, in the order they are applied."""
        steps: list[Fault] = []
        if f is newest and f.feed in fx.CSV_FEEDS:
            steps += [d for d in fx.DRIFT_FAULTS if d in faults]
        if f is largest and f.feed in fx.MALFORMED_FEEDS and Fault.MALFORMED_ROWS in faults:
            steps.append(Fault.MALFORMED_ROWS)
        if f is newest and f.feed in fx.MALFORMED_FEEDS and Fault.MALFORMED_MANY in faults:
            steps.append(Fault.MALFORMED_MANY)
        if f is newest and f.feed == "th_imm_receptions" and Fault.WRONG_ENCODING in faults:
            steps.append(Fault.WRONG_ENCODING)
        if f is newest and Fault.EMPTY_FILE in faults:
            steps.append(Fault.EMPTY_FILE)
        return tuple(steps)

    def _body(self, f: CachedFile, steps: tuple[Fault, ...]) -> _Body:
        if not steps:
            return _Body(f, None, f.sha256, f.size)
        key = (f"{f.feed}/{f.name}", steps)
        with self._lock:
            cached = self._body_cache.get(key)
        if cached is not None:
            return cached
        data = f.path.read_bytes()
        for step in steps:
            data = _apply(step, f.feed, data)
        body = _Body(f, data, hashlib.sha256(data).hexdigest(), len(data))
        with self._lock:
            self._body_cache[key] = body
        return body

    def _index(self, feed: str, headers: Any, until: date, faults: frozenset[Fault]) -> Response:
        listing = self._listing(feed, until, faults)
        entries = [{"name": n, "size": b.size, "modified": iso_ts(b.source.published)} for n, b in listing]
        if Fault.OUT_OF_ORDER_PAGES in faults:
            entries.reverse()
        data = json.dumps({"files": entries}, ensure_ascii=False).encode("utf-8")
        last_modified = max((b.source.published for _, b in listing), default=EPOCH)
        resp = Response(200, {"Content-Type": JSON_TYPE}, data)
        return _conditional(headers, resp, hashlib.sha256(data).hexdigest(), last_modified)

    def _file(self, feed: str, name: str, headers: Any, until: date, faults: frozenset[Fault]) -> Response:
        body = dict(self._listing(feed, until, faults)).get(name)
        if body is None:
            return _error(
                404, f"{feed}: no file named {name!r} is published on or before {until.isoformat()}"
            )
        resp = Response(200, {"Content-Type": CONTENT_TYPES[feed]})
        if body.data is not None:
            resp.body = body.data
        else:
            resp.file, resp.length = body.source.path, body.size
        return _conditional(headers, resp, body.sha256, body.source.published)


def _apply(step: Fault, feed: str, data: bytes) -> bytes:
    if step in fx.DRIFT_FAULTS:
        return fx.drift_schema(feed, data, step)
    if step is Fault.MALFORMED_ROWS:
        return fx.add_few_malformed(feed, data)
    if step is Fault.MALFORMED_MANY:
        return fx.add_many_malformed(feed, data)
    if step is Fault.WRONG_ENCODING:
        return fx.reencode_utf8(data)
    if step is Fault.EMPTY_FILE:
        return b""
    raise SimulatorError(f"{step} does not rewrite file content")


def _parse_since(raw: str) -> datetime | None:
    """ISO timestamp; a '+' decoded to a space is put back; naive values are Bangkok time."""
    raw = raw.strip()
    if not raw:
        return None
    moment = datetime.fromisoformat(raw.replace(" ", "+") if "T" in raw else raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ_BANGKOK)


# --------------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms stalls
    server_version = "BorderWatchSimulator/1"
    timeout = 30

    @property
    def app(self) -> SimulatorApp:
        return self.server.app  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        try:
            resp = self.app.handle(method, self.path, self.headers, payload)
        except Exception as exc:  # a simulator bug must answer 500, not kill the connection silently
            log.exception("simulator error on %s %s", method, self.path)
            resp = _error(500, f"simulator error: {exc}")
        try:
            self._send(method, resp)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, method: str, resp: Response) -> None:
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        if resp.status != 304:
            self.send_header("Content-Length", str(resp.content_length))
        if resp.truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if method == "HEAD" or resp.status == 304:
            return
        limit = resp.content_length // 2 if resp.truncate else resp.content_length
        if resp.file is None:
            self.wfile.write(resp.body[:limit])
            return
        with resp.file.open("rb") as fh:
            remaining = limit
            while remaining > 0:
                chunk = fh.read(min(_COPY_CHUNK, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SimulatorApp) -> None:
        self.app = app
        super().__init__(address, _Handler)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


def _bind_host(host: str, allow_remote: bool) -> str:
    if not allow_remote and not is_loopback(host):
        raise NonLoopbackBindError(
            f"refusing to bind the feed simulator to non-loopback {host!r}: it has no authentication; "
            "use 127.0.0.1 (or pass allow_remote=True / --allow-remote if you really mean it)"
        )
    return "127.0.0.1" if host == "localhost" else host


class SimulatorServer:
    """The simulator on a background thread: ``with SimulatorServer() as sim: httpx.get(sim.url + ...)``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 7,
        scale: float = 1.0,
        until: date | None = None,
        faults: Iterable[str | Fault] = (),
        *,
        allow_remote: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.host = _bind_host(host, allow_remote)
        self.port = port
        self.app = SimulatorApp(seed, scale, until, faults, cache_dir)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            return self
        cls = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = cls((self.host, self.port), self.app)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="borderwatch-simulator", daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """Base URL (``BORDERWATCH_SIMULATOR_URL``), without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def set_clock(self, until: date) -> None:
        self.app.set_clock(until)

    def set_faults(self, faults: Iterable[str | Fault]) -> None:
        self.app.set_faults(faults)

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 7,
    scale: float = 1.0,
    until: date | None = None,
    faults: Iterable[str | Fault] = (),
    *,
    allow_remote: bool = False,
    cache_dir: Path | None = None,
    ready: Callable[[SimulatorServer], None] | None = None,
) -> None:
    """Run in the foreground until interrupted (the ``borderwatch feeds serve`` command)."""
    server = SimulatorServer(
        host, port, seed, scale, until, faults, allow_remote=allow_remote, cache_dir=cache_dir
    )
    server.start()
    if ready is not None:
        ready(server)
    try:
        assert server._thread is not None
        while server._thread.is_alive():
            server._thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
