"""A fresh home with only some feeds delivered, by dropped files alone, while no HTTP source answers.

Expected fate (issue 9, "publish with the feeds you have"): the refresh publishes. Feeds that never
delivered are "awaiting first delivery" (empty raw tables from their specs), an unreachable source is a
warning naming the feed, never a block, and no message claims a previous version serves when none exists.
"""

from __future__ import annotations

import socket
from pathlib import Path

import duckdb
import pytest
from public_reports import write_to_inbox

from borderwatch import pipeline
from borderwatch.config import get_settings

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_files_only_home_with_unreachable_sources_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("BORDERWATCH_SIMULATOR_URL", url)
    settings = get_settings(tmp_path / "home")
    settings.ensure_dirs()
    write_to_inbox(settings.inbox_dir)  # raids, deportations, receptions and MFA workbooks; no NBTC file

    summary = pipeline.refresh(settings)

    assert summary.publication is not None
    by_feed = {r.feed: r for r in summary.loads}
    assert by_feed["rtp_raids"].rows_loaded > 0  # raids arrived as a dropped file, not over HTTP
    con = duckdb.connect(str(settings.warehouse_dir / "current.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from marts.fct_telecom_actions").fetchone() == (0,)
        assert con.execute("select count(*) from marts.fct_raids").fetchone()[0] > 0  # type: ignore[index]
    finally:
        con.close()
    gate = summary.gate
    assert gate.passed and gate.blocking_failures == []
    warned = set(gate.warnings)
    assert "feed_awaiting.nbtc_telecom" in warned  # never delivered: named, not blocking
    assert "feed_source.nbtc_telecom" in warned  # its agency did not answer: stale, not wrong
    assert "feed_awaiting.rtp_raids" not in warned  # delivered by a dropped file
    # every pulled feed's latest pull failed on the source, yet its inbox load stands
    assert all(f"feed_source.{feed}" in warned for feed in by_feed)


def test_a_blocked_first_run_never_claims_a_previous_version_serves() -> None:
    from borderwatch.gate import GateResult
    from borderwatch.pipeline import PublicationBlocked

    message = str(PublicationBlocked(GateResult(passed=False, blocking_failures=["feed_health.x"])))
    assert "previous version keeps serving" not in message
    assert "none yet on a first run" in message and "feed_health.x" in message
