"""Where a feed's HTTP may go (origins, internal addresses), and a watchdog holding a request to its deadline.

An internal address is checked on the name before connecting and again on the connected socket, so DNS
rebinding does not slip through.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from contextlib import suppress
from typing import Any

import httpx

from borderwatch.ingest.errors import FetchError

DEFAULT_PORTS = {"http": 80, "https": 443}


class RedirectRefused(FetchError):
    """A redirect left the feed's origin, or pointed at an internal address the spec does not allow."""


def origin_of(url: httpx.URL | str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in: two URLs share an origin iff these match."""
    u = httpx.URL(str(url))
    return (u.scheme, u.host.lower(), u.port or DEFAULT_PORTS.get(u.scheme, 0))


def is_internal_address(address: str) -> bool:
    """Loopback, private, link-local, unspecified, multicast or reserved (IPv4-mapped IPv6 included)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
    )


def resolves_internal(host: str, timeout: float) -> bool:
    """Does ``host`` (a name or any IP spelling, e.g. ``2130706433``) resolve to an internal address?

    ``getaddrinfo`` has no timeout and a hostile resolver can hold it for minutes, so it runs in a daemon
    thread waited for at most ``timeout`` seconds, then :class:`TimeoutError`. An unresolvable name is not
    internal: the connection itself will fail.
    """
    answer: list[Any] = []

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP))
        except (OSError, UnicodeError) as exc:
            answer.append(exc)

    worker = threading.Thread(target=lookup, name=f"borderwatch-dns-{host[:40]}", daemon=True)
    worker.start()
    worker.join(max(0.0, timeout))
    if not answer:
        raise TimeoutError(f"the DNS lookup of {host!r} did not answer within {max(0.0, timeout):.1f} s")
    infos = answer[0]
    if isinstance(infos, BaseException):
        return False
    return any(is_internal_address(str(info[4][0])) for info in infos)


class Guard:
    """One request's watchdog: shuts its sockets at the deadline; refuses an internal peer if asked to.

    httpx has no total timeout (its read timeout restarts with every byte), so the guard learns each new
    socket from httpcore's ``trace`` hook and ``shutdown()``s it from a timer thread, which wakes a
    blocked read at once.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline, self.fired, self.forbid_internal_peer = deadline, False, False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.fired
        if late:
            self._shutdown(sock)
        if self.forbid_internal_peer and event == "connection.connect_tcp.complete":
            peer = sock.getpeername()[0]
            if is_internal_address(str(peer)):
                self._shutdown(sock)
                raise RedirectRefused(f"connected to internal address {peer}")

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.deadline

    def __enter__(self) -> Guard:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
