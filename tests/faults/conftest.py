"""Fixtures for the fault suite: a tiny hostile agency server on loopback, and feeds pointed at it.

The server speaks real HTTP over real sockets (the faults live in timing, framing and redirects, which
an in-process mock transport would hide). Each test installs the routes it needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from borderwatch.config import Settings
from borderwatch.specs import FeedSpec

REPO = Path(__file__).resolve().parents[2]

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    """Dispatches GETs to the server's routes by path; unknown paths answer 404."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        hostile: HostileServer = self.server.hostile
        hostile.hits.append(self.path)
        route = hostile.routes.get(urlsplit(self.path).path)
        if route is None:
            self.send_error(404)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            hostile.cut_off.append(self.path)  # the client hung up on us: what a bounded client does

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- answers routes compose ---------------------------------------------------------------------

    def body(self, data: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location: str, status: int = 302) -> None:
        self.body(b"", status=status, headers={"Location": location})

    def drip(self, data: bytes, every: float, *, headers_too: bool = False) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart (optionally the headers as well)."""
        stop = self.server.hostile.stop
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data)
        if not headers_too:
            self.wfile.write(head)
            head = b""
        for i in range(len(head + data)):
            self.wfile.write((head + data)[i : i + 1])
            self.wfile.flush()
            if stop.wait(every):
                return
        self.server.hostile.completed.append(self.path)

    def endless(self, prefix: bytes, filler: bytes, *, declared: int | None = None) -> None:
        """A body that never ends (chunked, or a lying Content-Length); stops when the client hangs up."""
        self.send_response(200)
        if declared is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(declared))
        self.end_headers()
        hostile = self.server.hostile
        sent = 0
        for piece in [prefix] + [filler] * 1_000_000:
            if hostile.stop.is_set():
                return
            frame = b"%x\r\n%s\r\n" % (len(piece), piece) if declared is None else piece
            self.wfile.write(frame)
            sent += len(piece)
            hostile.bytes_sent = sent


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hostile: HostileServer


@dataclass
class HostileServer:
    """An agency server that misbehaves on purpose; ``hits`` records every request path it got."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    cut_off: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HostileServer:
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.hostile = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """The hostile agency, started on a free loopback port."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def other_origin() -> Iterator[HostileServer]:
    """A second loopback server standing for an internal admin endpoint a redirect may point at."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def fault_settings(tmp_path: Path, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An isolated home whose feeds resolve ``${BORDERWATCH_SIMULATOR_URL}`` to the hostile server."""
    monkeypatch.setenv("BORDERWATCH_HTTP_BACKOFF_SECONDS", "0.001")
    settings = Settings(
        home=tmp_path / "home",
        feeds_dir=REPO / "feeds",
        dbt_project_dir=REPO / "dbt_project",
        expectations_dir=REPO / "expectations",
        simulator_url=hostile.url,
    )
    settings.ensure_dirs()
    return settings


def _spec(kind: str, url: str, fmt: dict[str, Any], cursor: dict[str, Any], **source: Any) -> FeedSpec:
    return FeedSpec.model_validate(
        {
            "name": f"hostile_{kind.removeprefix('http_')}",
            "agency": "TEST",
            "title": "A feed served by the hostile test server",
            "source": {"kind": kind, "url": url, "max_retries": 1, **source},
            "format": fmt,
            "cursor": cursor,
            "tables": [
                {
                    "table": f"hostile_{kind.removeprefix('http_')}",
                    "primary_key": ["id"],
                    "columns": [
                        {"name": "id", "type": "varchar", "required": True},
                        {"name": "updated_at", "type": "varchar"},
                        {"name": "note", "type": "varchar"},
                    ],
                }
            ],
        }
    )


def api_spec(**source: Any) -> FeedSpec:
    """A JSON API feed at ``/api`` with an updated_since cursor; ``source`` overrides spec keys."""
    return _spec(
        "http_api",
        "${BORDERWATCH_SIMULATOR_URL}/api",
        {"type": "json_api"},
        {"kind": "updated_since", "field": "updated_at", "param": "updated_since"},
        **source,
    )


def files_spec(*, max_file_bytes: int | None = None, **source: Any) -> FeedSpec:
    """A CSV file feed whose index is ``/files/``; ``source`` overrides spec keys."""
    fmt: dict[str, Any] = {"type": "csv"}
    if max_file_bytes is not None:
        fmt["max_file_bytes"] = max_file_bytes
    return _spec("http_files", "${BORDERWATCH_SIMULATOR_URL}/files/", fmt, {"kind": "file_name"}, **source)


@pytest.fixture
def make_api_spec() -> Callable[..., FeedSpec]:
    return api_spec


@pytest.fixture
def make_files_spec() -> Callable[..., FeedSpec]:
    return files_spec
