"""Fault class: a response that tries to write into our terminal and logs (item 9 of issue 10).

Expected fate: nothing a server chose reaches a report, the stored JSON report or the console raw:
control characters, ANSI escapes and bidi overrides are shown escaped (``\\x1b``, ``\\u202e``) and long
text is truncated. Error bodies (4xx/5xx) are never quoted at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hostile_http import HostileServer

from borderwatch.config import Settings
from borderwatch.ingest import ingest_feed
from borderwatch.ingest.errors import untrusted
from borderwatch.specs import FeedSpec

HOSTILE = "\x1b[2J\x1b]0;owned\x07\u202eevil\r\n\x00"
RAW_MARKS = ("\x1b", "\x07", "\u202e", "\x00", "\r")


def _assert_clean(text: str, *, max_line: int = 2000) -> None:
    assert not [m for m in RAW_MARKS if m in text], text
    assert max(map(len, text.splitlines() or [""])) <= max_line


def _check_everything(settings: Settings, report: Any, captured: str) -> str:
    error = report.error or ""
    _assert_clean(error)
    _assert_clean(captured)
    (saved,) = (settings.reports_dir / "loads").glob("*.json")
    _assert_clean(json.dumps(json.loads(saved.read_text(encoding="utf-8")), ensure_ascii=False))
    return error


def test_untrusted_escapes_and_truncates() -> None:
    """Fate: the helper every message uses shows control characters escaped and cuts long text."""
    shown = untrusted(HOSTILE + "x" * 10_000)
    _assert_clean(shown, max_line=200)
    assert "\\x1b" in shown and "\\u202e" in shown and "more characters" in shown


def test_error_bodies_and_locations_are_not_echoed(
    hostile: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Fate: a 403 body is never quoted; a hostile Location header appears only escaped and truncated."""
    body = (HOSTILE * 100).encode()
    hostile.routes["/files/"] = lambda h: h.body(body, status=403)
    report = ingest_feed(fault_settings, make_files_spec())
    error = _check_everything(fault_settings, report, capsys.readouterr().out)
    assert "HTTP 403" in error and "owned" not in error

    for saved in (fault_settings.reports_dir / "loads").glob("*.json"):
        saved.unlink()
    hostile.routes["/files/"] = lambda h: h.redirect("http://elsewhere.test/" + "x" * 5000)
    report = ingest_feed(fault_settings, make_files_spec())
    error = _check_everything(fault_settings, report, capsys.readouterr().out)
    assert "RedirectRefused" in error and "more characters" in error

    for saved in (fault_settings.reports_dir / "loads").glob("*.json"):
        saved.unlink()
    hostile.routes["/files/"] = lambda h: h.redirect("http://elsewhere.test/\x1b[2J\x1b]0;owned\x07")
    report = ingest_feed(fault_settings, make_files_spec())
    assert report.status == "failed"
    _check_everything(fault_settings, report, capsys.readouterr().out)


def test_hostile_header_line_in_a_file_is_escaped(
    hostile: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Fate: schema drift names the unexpected column escaped and bounded, never as raw terminal codes."""
    header = "id,updated_at,note," + HOSTILE.replace("\r\n", "") + "y" * 20_000
    hostile.routes["/files/"] = lambda h: h.body(b'{"files": ["a.csv"]}')
    hostile.routes["/files/a.csv"] = lambda h: h.body(f"{header}\nR1,2025-01-01,x,y\n".encode())
    report = ingest_feed(fault_settings, make_files_spec())
    assert report.status == "failed"
    error = _check_everything(fault_settings, report, capsys.readouterr().out)
    assert "hostile_files" in error


def test_hostile_next_page_is_escaped(
    hostile: HostileServer,
    fault_settings: Settings,
    make_api_spec: Callable[..., FeedSpec],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Fate: a garbage next_page is refused and named escaped and bounded."""
    doc = json.dumps({"data": [], "next_page": HOSTILE + "z" * 20_000})
    hostile.routes["/api"] = lambda h: h.body(doc.encode())
    report = ingest_feed(fault_settings, make_api_spec())
    assert report.status == "failed"
    _check_everything(fault_settings, report, capsys.readouterr().out)
