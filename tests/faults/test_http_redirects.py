"""Fault class: redirects that leave the feed (item 9 of issue 10).

Expected fate: redirects are followed only within the origin of the URL the spec names; another origin is
refused unless listed in ``source.redirect_origins``, and even then not when it resolves to a loopback,
private or link-local address unless ``source.allow_private_addresses``. A refused redirect is never
fetched, nothing is landed, and the error names the feed, the target (escaped) and the spec key.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import duckdb
import pytest
from hostile_http import HostileServer

from borderwatch.config import Settings
from borderwatch.ingest import LandingArchive, ingest_feed
from borderwatch.specs import FeedSpec

SECRET = b"id,updated_at,note\nadmin-token-123,2025-01-01,internal\n"
GOOD = b"id,updated_at,note\nR1,2025-01-01,ok\nR2,2025-01-02,ok\n"


def _landed(settings: Settings) -> list[object]:
    return list(LandingArchive(settings.landing_dir).iter_manifest())


def _rows(settings: Settings, table: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return con.execute(f"select id from raw.{table} order by id").fetchall()
    finally:
        con.close()


def _serve_files(hostile: HostileServer, location: str) -> None:
    hostile.routes["/files/"] = lambda h: h.body(b'{"files": ["a.csv"]}')
    hostile.routes["/files/a.csv"] = lambda h: h.redirect(location)


def test_302_to_a_loopback_admin_url_is_not_fetched(
    hostile: HostileServer,
    other_origin: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
) -> None:
    """Fate: RedirectRefused naming the target; the admin URL gets no request; nothing archived."""
    other_origin.routes["/admin/export.csv"] = lambda h: h.body(SECRET)
    _serve_files(hostile, f"{other_origin.url}/admin/export.csv")
    report = ingest_feed(fault_settings, make_files_spec())
    assert report.status == "failed" and "RedirectRefused" in (report.error or "")
    assert "another origin" in (report.error or "") and "source.redirect_origins" in (report.error or "")
    assert other_origin.hits == []
    assert _landed(fault_settings) == []
    assert "admin-token-123" not in (report.error or "")


def test_listed_origin_on_a_private_address_needs_allow_private_addresses(
    hostile: HostileServer,
    other_origin: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
) -> None:
    """Fate: refused while allow_private_addresses is false; followed and loaded once the spec allows it."""
    other_origin.routes["/mirror/a.csv"] = lambda h: h.body(GOOD)
    _serve_files(hostile, f"{other_origin.url}/mirror/a.csv")

    refused = ingest_feed(fault_settings, make_files_spec(redirect_origins=[other_origin.url]))
    assert refused.status == "failed" and "allow_private_addresses" in (refused.error or "")
    assert other_origin.hits == []

    spec = make_files_spec(redirect_origins=[other_origin.url], allow_private_addresses=True)
    allowed = ingest_feed(fault_settings, spec)
    assert allowed.status == "loaded", allowed.error
    assert _rows(fault_settings, "hostile_files") == [("R1",), ("R2",)]


def test_link_local_metadata_address_is_refused_before_connecting(
    hostile: HostileServer, fault_settings: Settings, make_api_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: 169.254.169.254 (cloud metadata) is refused by address, even when its origin is listed."""
    hostile.routes["/api"] = lambda h: h.redirect("http://169.254.169.254/latest/meta-data/")
    spec = make_api_spec(redirect_origins=["http://169.254.169.254"], timeout_seconds=30)
    report = ingest_feed(fault_settings, spec)
    assert report.status == "failed" and "link-local" in (report.error or "")
    assert _landed(fault_settings) == []


def test_same_origin_redirect_is_followed(
    hostile: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
) -> None:
    """Fate: a file moved within the agency's own server still loads."""
    hostile.routes["/files/moved/a.csv"] = lambda h: h.body(GOOD)
    _serve_files(hostile, "/files/moved/a.csv")
    report = ingest_feed(fault_settings, make_files_spec())
    assert report.status == "loaded", report.error
    assert _rows(fault_settings, "hostile_files") == [("R1",), ("R2",)]


def test_redirect_loops_and_other_schemes_are_refused(
    hostile: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
) -> None:
    """Fate: more than 5 hops, or a non-http(s) Location, is refused; nothing landed."""
    _serve_files(hostile, "/files/a.csv")
    loop = ingest_feed(fault_settings, make_files_spec())
    assert loop.status == "failed" and "more than 5 times" in (loop.error or "")
    assert hostile.hits.count("/files/a.csv") == 6

    _serve_files(hostile, "file:///etc/passwd")
    scheme = ingest_feed(fault_settings, make_files_spec())
    assert scheme.status == "failed" and "not an http(s) URL" in (scheme.error or "")
    assert _landed(fault_settings) == []


def test_a_resolver_that_never_answers_fails_the_feed_at_its_deadline(
    hostile: HostileServer,
    fault_settings: Settings,
    make_api_spec: Callable[..., FeedSpec],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fate: the redirect check's DNS lookup is bounded by the request's deadline; the feed fails, naming
    the host, nothing is landed (a stalled resolver used to hold the run with no timeout at all)."""
    released = threading.Event()
    real_getaddrinfo = socket.getaddrinfo

    def stalling(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "stalled-dns.example":
            released.wait(120)  # a resolver that does not answer
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stalling)
    hostile.routes["/api"] = lambda h: h.redirect("http://stalled-dns.example/api")
    spec = make_api_spec(
        redirect_origins=["http://stalled-dns.example"], timeout_seconds=5, request_deadline_seconds=10
    )
    try:
        report = ingest_feed(fault_settings, spec)
    finally:
        released.set()
    assert report.status == "failed"
    assert "DNS lookup of 'stalled-dns.example' did not answer" in (report.error or ""), report.error
    assert _landed(fault_settings) == []
