"""A tiny hostile agency server on loopback: real HTTP over real sockets, misbehaving on purpose.

The faults live in timing, framing and redirects, which an in-process mock transport would hide. A test
installs the routes it needs (``server.routes[path] = lambda h: h.drip(...)``); ``hits`` records every
request path, ``completed`` the drips that got to finish, ``bytes_sent`` how far an endless body got.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

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
