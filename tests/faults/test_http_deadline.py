"""Fault class: a source that answers, but too slowly to ever finish (items 6 of issue 10).

Expected fate: the request is cut off at ``source.request_deadline_seconds`` (a watchdog shuts the socket,
whatever phase it is in), the run at ``source.run_deadline_seconds``; the feed's report fails with an error
naming the feed, the deadline and the spec key to raise; nothing is landed or loaded, other feeds go on.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from hostile_http import Handler, HostileServer

from borderwatch.config import Settings
from borderwatch.ingest import LandingArchive, ingest_feed
from borderwatch.ingest.http import DeadlineExceeded, Fetcher
from borderwatch.specs import FeedSpec

CSV = b"id,updated_at,note\n" + b"".join(b"R%03d,2025-01-01,dripped\n" % i for i in range(40))


def _index(handler: Handler) -> None:
    handler.body(b'{"files": ["a.csv"]}', headers={"Content-Type": "application/json"})


def test_body_dripping_one_byte_every_5s_fails_at_the_request_deadline(
    hostile: HostileServer, fault_settings: Settings, make_files_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: DeadlineExceeded after request_deadline_seconds, not a hang; nothing landed."""
    hostile.routes["/files/"] = _index
    hostile.routes["/files/a.csv"] = lambda h: h.drip(CSV, every=5.0)
    spec = make_files_spec(request_deadline_seconds=1.0)

    report = ingest_feed(fault_settings, spec)

    assert report.status == "failed"
    assert "DeadlineExceeded" in (report.error or "")
    assert "source.request_deadline_seconds (1s)" in (report.error or "")
    assert "hostile_files" in (report.error or "")
    assert hostile.completed == []  # the drip never got to finish: we hung up
    assert hostile.hits.count("/files/a.csv") == 1  # a stalling source is not retried
    assert list(LandingArchive(fault_settings.landing_dir).iter_manifest()) == []


def test_headers_dripped_byte_by_byte_are_cut_off_too(
    hostile: HostileServer, make_api_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: the deadline also covers the status line and headers (httpx's read timeout alone does not)."""
    hostile.routes["/api"] = lambda h: h.drip(b'{"data": []}', every=0.5, headers_too=True)
    spec = make_api_spec(request_deadline_seconds=1.0, timeout_seconds=30)
    with httpx.Client() as client, pytest.raises(DeadlineExceeded, match="request_deadline_seconds"):
        Fetcher(client, spec).get_json(f"{hostile.url}/api")
    assert hostile.completed == []


def test_run_deadline_ends_retries_and_backoff(
    hostile: HostileServer, make_api_spec: Callable[..., FeedSpec]
) -> None:
    """Fate: a source that keeps answering 503 is given up at run_deadline_seconds, retries left or not."""
    hostile.routes["/api"] = lambda h: h.body(b"busy", status=503)
    spec = make_api_spec(run_deadline_seconds=0.5, max_retries=1000)
    with httpx.Client() as client, pytest.raises(DeadlineExceeded, match="run_deadline_seconds"):
        Fetcher(client, spec, backoff_base=0.05).get_json(f"{hostile.url}/api")
    assert 1 < len(hostile.hits) < 1000
