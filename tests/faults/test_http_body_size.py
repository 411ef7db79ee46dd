"""Fault class: a response body without end or far too large (item 7 of issue 10).

Expected fate: every body is streamed and counted; JSON documents (API pages, file indexes) stop at
``source.max_page_bytes``, files at ``format.max_file_bytes`` (decoded bytes: a gzip bomb stops too). The
feed fails with ResponseTooLarge naming the limit and the spec key; nothing of the body is landed.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

from hostile_http import Handler, HostileServer

from borderwatch.config import Settings
from borderwatch.ingest import LandingArchive, ingest_feed
from borderwatch.specs import FeedSpec

MIB = 1_048_576


def _landed(settings: Settings) -> list[object]:
    return list(LandingArchive(settings.landing_dir).iter_manifest())


def test_endless_api_page_stops_at_max_page_bytes(
    hostile: HostileServer, fault_settings: Settings, make_api_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: ResponseTooLarge at source.max_page_bytes; the server is cut off long before its end."""
    hostile.routes["/api"] = lambda h: h.endless(
        b'{"data": [', b'{"id": "x", "note": "' + b"A" * 65_000 + b'"},'
    )
    report = ingest_feed(fault_settings, make_api_spec(max_page_bytes=MIB))
    assert report.status == "failed" and "ResponseTooLarge" in (report.error or "")
    assert "source.max_page_bytes (1048576 bytes)" in (report.error or "")
    assert hostile.bytes_sent < 64 * MIB
    assert _landed(fault_settings) == []


def test_huge_file_index_is_bounded_like_a_page(
    hostile: HostileServer, fault_settings: Settings, make_files_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: the index of a file feed is a JSON document too: refused at source.max_page_bytes."""
    hostile.routes["/files/"] = lambda h: h.endless(b'{"files": [', b'"a.csv",' * 8000)
    report = ingest_feed(fault_settings, make_files_spec(max_page_bytes=MIB))
    assert report.status == "failed" and "source.max_page_bytes" in (report.error or "")
    assert _landed(fault_settings) == []


def test_declared_oversize_file_is_refused_before_reading(
    hostile: HostileServer, fault_settings: Settings, make_files_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: a Content-Length over format.max_file_bytes is refused without reading the body."""
    hostile.routes["/files/"] = lambda h: h.body(b'{"files": ["big.csv"]}')
    hostile.routes["/files/big.csv"] = lambda h: h.endless(
        b"id,updated_at,note\n", b"x,y,z\n" * 1000, declared=300 * MIB
    )
    report = ingest_feed(fault_settings, make_files_spec(max_file_bytes=MIB))
    assert report.status == "failed" and "format.max_file_bytes (1048576 bytes)" in (report.error or "")
    assert _landed(fault_settings) == []
    assert not list(fault_settings.landing_dir.rglob(".download-*"))  # no partial download left behind


def test_gzip_bomb_is_counted_after_decoding(
    hostile: HostileServer, fault_settings: Settings, make_files_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: 64 MiB of zeros compressed to ~64 KiB still stops at format.max_file_bytes."""
    bomb = gzip.compress(b"id,updated_at,note\n" + b"0" * (64 * MIB), compresslevel=9)

    def serve(h: Handler) -> None:
        h.body(bomb, headers={"Content-Encoding": "gzip"})

    hostile.routes["/files/"] = lambda h: h.body(b'{"files": ["bomb.csv"]}')
    hostile.routes["/files/bomb.csv"] = serve
    report = ingest_feed(fault_settings, make_files_spec(max_file_bytes=MIB))
    assert report.status == "failed" and "format.max_file_bytes" in (report.error or "")
    assert _landed(fault_settings) == []
