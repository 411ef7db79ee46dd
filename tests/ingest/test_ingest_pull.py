"""Pull connectors against a fake agency (httpx.MockTransport): cursors, ETags, retries, isolation."""

from __future__ import annotations

import json

import duckdb
import httpx
import pytest
from ingest_payloads import FakeAgency, kh_csv, kh_rows, nbtc_lines, ndjson_bytes, rtp_record

from borderwatch.config import Settings
from borderwatch.ingest import LandingArchive, ingest_all, ingest_feed, ingest_inbox
from borderwatch.ingest.errors import FetchError
from borderwatch.ingest.http import Fetcher, parse_retry_after
from borderwatch.specs import FeedSpec

KH_INDEX = "/kh-gdi/bulletins/"


def raw_count(settings: Settings, table: str) -> int:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()


def query(settings: Settings, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_files_cursor_etag_and_unchanged_noop(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    day1 = kh_csv(kh_rows(5, bulletin="B1"))
    agency = FakeAgency(files={KH_INDEX: {"kh_gdi_deportations_2025-03-14.csv": day1}})
    with agency.client() as client:
        first = ingest_feed(settings, spec, client=client)
        assert (first.status, first.files_loaded, first.rows_loaded) == ("loaded", 1, 5)
        assert first.balanced and first.cursor == "kh_gdi_deportations_2025-03-14.csv"

        # nothing new: only the index is fetched, nothing loads
        agency.requests.clear()
        again = ingest_feed(settings, spec, client=client)
        assert (again.status, again.rows_loaded, again.files_seen) == ("unchanged", 0, 0)
        assert [r.url.path for r in agency.requests] == [KH_INDEX]

        # a new day plus the same bytes re-sent under another name
        agency.files[KH_INDEX]["kh_gdi_deportations_2025-03-15.csv"] = kh_csv(kh_rows(3, bulletin="B2"))
        agency.files[KH_INDEX]["kh_gdi_deportations_2025-03-15b.csv"] = day1
        third = ingest_feed(settings, spec, client=client)
    assert (third.files_loaded, third.files_duplicate, third.rows_loaded) == (1, 1, 3)
    assert raw_count(settings, "kh_gdi_deportations") == 8
    assert query(settings, "SELECT cursor_value FROM raw._cursors WHERE feed = 'kh_gdi_deportations'") == [
        ("kh_gdi_deportations_2025-03-15b.csv",)
    ]
    # every run is stored in raw._loads and as JSON
    assert len(query(settings, "SELECT load_id FROM raw._loads")) == 3
    assert len(list((settings.reports_dir / "loads").glob("*.json"))) == 3


def test_failed_load_is_retried_with_conditional_get(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    """A landed file whose load failed is reloaded from the archive when the source answers 304."""
    spec = specs["kh_gdi_deportations"]
    rows = kh_rows(10)
    for r in rows[:5]:
        r[8] = "many"
    agency = FakeAgency(files={KH_INDEX: {"kh_gdi_deportations_2025-03-14.csv": kh_csv(rows)}})
    with agency.client() as client:
        failed = ingest_feed(settings, spec, client=client)
        assert failed.status == "failed" and "rows failed to parse" in (failed.error or "")
        assert raw_count(settings, "kh_gdi_deportations") == 0
        agency.statuses.clear()
        again = ingest_feed(settings, spec, client=client)
    assert again.status == "failed"  # fails closed until the file or the spec is fixed
    assert agency.statuses == [200, 304]  # the index, then a conditional GET answered 304
    manifest = list(LandingArchive(settings.landing_dir).iter_manifest())
    assert len(manifest) == 1 and manifest[0].headers["etag"]


def test_api_pages_cursor_deletions_and_revisions(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    spec = specs["rtp_raids"].model_copy(
        update={"source": specs["rtp_raids"].source.model_copy(update={"page_size": 2})}
    )
    agency = FakeAgency(
        operations=[rtp_record(i, f"2025-02-20T1{i}:00:00+07:00") for i in range(5)],
        deletions=[
            {"operation_id": "RTP-2025-000001", "updated_at": "2025-02-21T09:00:00+07:00", "is_deleted": True}
        ],
    )
    with agency.client() as client:
        first = ingest_feed(settings, spec, client=client)
        assert (first.status, first.rows_loaded, first.files_loaded) == ("loaded", 6, 4)
        # a revision and a new record arrive; the exclusive cursor returns only those
        agency.operations.append(rtp_record(2, "2025-02-22T08:00:00+07:00", persons_rescued=41))
        agency.operations.append(rtp_record(9, "2025-02-22T09:00:00+07:00"))
        agency.requests.clear()
        second = ingest_feed(settings, spec, client=client)
        assert second.rows_loaded == 2 and second.rows_in == 2
        assert agency.requests[0].url.params["updated_since"] == "2025-02-20T14:00:00+07:00"
        third = ingest_feed(settings, spec, client=client)
    assert third.status == "unchanged" and third.rows_in == 0
    revisions = query(
        settings,
        "SELECT persons_rescued, is_deleted FROM raw.rtp_raids "
        "WHERE operation_id = 'RTP-2025-000002' ORDER BY updated_at",
    )
    assert revisions == [(40, None), (41, None)]
    assert query(settings, "SELECT count(*) FROM raw.rtp_raids WHERE is_deleted")[0][0] == 1


def test_retries_429_503_and_truncated_bodies(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    agency = FakeAgency(
        files={"/nbtc/enforcement/": {"nbtc_telecom_2025-01.ndjson": ndjson_bytes(nbtc_lines(4))}}
    )
    agency.faults = ["429", "503", "truncate", "truncate"]
    with agency.client() as client:
        report = ingest_feed(settings, spec, client=client)
    assert report.status == "loaded" and report.rows_loaded == 4
    assert agency.statuses[:3] == [429, 503, 200]


def test_retry_after_is_honoured_and_retries_run_out(specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    waits: list[float] = []

    def always_throttled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7"})

    with httpx.Client(transport=httpx.MockTransport(always_throttled)) as client:
        fetcher = Fetcher(client, spec, backoff_base=0.001, sleep=waits.append)
        with pytest.raises(FetchError, match=r"nbtc_telecom.*6 attempts.*HTTP 429"):
            fetcher.get_json("http://agency.test/nbtc/enforcement/")
    assert waits == [7.0] * spec.source.max_retries
    assert parse_retry_after("2") == 2.0 and parse_retry_after("soon") is None


def test_timeouts_are_retried(specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] < 3:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, content=json.dumps({"files": []}).encode())

    with httpx.Client(transport=httpx.MockTransport(flaky)) as client:
        _response, doc = Fetcher(client, spec, backoff_base=0.001, sleep=lambda s: None).get_json("http://x/")
    assert doc == {"files": []} and calls["n"] == 3


def test_one_feed_failing_does_not_stop_the_others(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    drifted = kh_csv(kh_rows(2)).decode("utf-8-sig").replace("Checkpoint", "Border post").encode("utf-8-sig")
    agency = FakeAgency(
        files={
            KH_INDEX: {"kh_gdi_deportations_2025-03-14.csv": drifted},
            "/nbtc/enforcement/": {"nbtc_telecom_2025-01.ndjson": ndjson_bytes(nbtc_lines(3))},
        }
    )
    with agency.client() as client:
        reports = ingest_all(
            settings, ["kh_gdi_deportations", "nbtc_telecom", "th_imm_receptions"], client=client
        )
    by_feed = {r.feed: r for r in reports}
    assert by_feed["kh_gdi_deportations"].status == "failed"
    assert "Border post" in (by_feed["kh_gdi_deportations"].error or "")
    assert by_feed["nbtc_telecom"].status == "loaded" and by_feed["nbtc_telecom"].rows_loaded == 3
    assert by_feed["th_imm_receptions"].status == "failed" and "404" in (
        by_feed["th_imm_receptions"].error or ""
    )
    assert all(r.balanced for r in reports)
    with pytest.raises(ValueError, match="unknown feed"):
        ingest_all(settings, ["nope"])


def test_unsafe_names_in_an_index_are_refused(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    agency = FakeAgency(files={KH_INDEX: {"../../etc/passwd": b"x"}})
    with agency.client() as client:
        report = ingest_feed(settings, specs["kh_gdi_deportations"], client=client)
    assert report.status == "failed" and "unsafe name" in (report.error or "")


def test_corrected_file_resent_under_its_name_is_fetched_as_a_revision(
    settings: Settings, specs: dict[str, FeedSpec]
) -> None:
    """The index shows a known name with a new size: fetched, landed, loaded; withdrawn rows leave raw."""
    spec = specs["kh_gdi_deportations"]
    name = "kh_gdi_deportations_2025-03-14.csv"
    rows = kh_rows(6, bulletin="B1")
    agency = FakeAgency(files={KH_INDEX: {name: kh_csv(rows)}})
    with agency.client() as client:
        first = ingest_feed(settings, spec, client=client)
        corrected = [r[:] for r in rows[:5]]  # the agency withdrew line 6 and corrected line 1's total
        corrected[0][8] = "77"
        agency.files[KH_INDEX][name] = kh_csv(corrected)
        second = ingest_feed(settings, spec, client=client)
        third = ingest_feed(settings, spec, client=client)
    assert first.rows_loaded == 6
    assert (second.files_loaded, second.rows_in, second.files[0]["revision"]) == (1, 5, 2)
    assert third.files_seen == 0  # the revision is what we hold now: nothing to fetch
    assert query(settings, "SELECT line_no, total FROM raw.kh_gdi_deportations ORDER BY 1") == [
        (1, 77),
        *[(r, int(rows[r - 1][8])) for r in range(2, 6)],
    ]
    assert len(list(LandingArchive(settings.landing_dir).iter_manifest())) == 2  # both revisions archived


def test_unreachable_source_never_holds_inbox_files_hostage(settings: Settings) -> None:
    """The pull fails in operator terms; the feed's dropped files load anyway, every table exists."""
    (settings.inbox_dir / "kh_gdi_deportations_2025-03-20.csv").write_bytes(kh_csv(kh_rows(3)))
    down = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    with down:
        pulled = ingest_all(settings, ["kh_gdi_deportations"], client=down)
    dropped = ingest_inbox(settings)
    assert pulled[0].status == "failed" and "could not pull from its source" in (pulled[0].error or "")
    assert "inbox files still load" in (pulled[0].error or "")
    assert dropped[0].feed == "kh_gdi_deportations" and dropped[0].rows_loaded == 3
    tables = {r[0] for r in query(settings, "SELECT table_name FROM information_schema.tables")}
    assert {"rtp_raids", "kh_ncct_raids", "mfa_assistance_snapshots", "nbtc_telecom"} <= tables  # awaiting
    assert raw_count(settings, "rtp_raids") == 0


def test_raids_delivered_by_dropping_api_shaped_files(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    """rtp_raids*.json in the inbox loads like an API page; a deletions file like a deletions page."""
    page = {"data": [rtp_record(1, "2025-02-20T10:00:00+07:00"), rtp_record(2, "2025-02-20T11:00:00+07:00")]}
    tomb = {"operation_id": "RTP-2025-000001", "updated_at": "2025-02-21T09:00:00+07:00", "is_deleted": True}
    (settings.inbox_dir / "rtp_raids_2025-02-20.json").write_text(json.dumps(page), encoding="utf-8")
    (settings.inbox_dir / "rtp_raids_deletions_2025-02-21.json").write_text(
        json.dumps({"data": [tomb], "next_page": None}), encoding="utf-8"
    )
    (report,) = ingest_inbox(settings)
    assert (report.feed, report.status, report.rows_loaded, report.files_loaded) == (
        "rtp_raids",
        "loaded",
        3,
        2,
    )
    assert query(settings, "SELECT count(*) FROM raw.rtp_raids WHERE is_deleted")[0][0] == 1
    assert query(settings, "SELECT count(*) FROM raw._cursors") == [(0,)]  # inbox files never move a cursor


@pytest.mark.slow
def test_a_correction_reaches_the_marts(settings: Settings, specs: dict[str, FeedSpec]) -> None:
    """Fate (issue 10 item 3): after the re-sent file, an incremental build serves the corrected total and
    no longer serves the withdrawn line, exactly as a full rebuild does."""
    from borderwatch.warehouse import build_warehouse

    spec = specs["kh_gdi_deportations"]
    name = "kh_gdi_deportations_2025-03-14.csv"
    rows = kh_rows(6, bulletin="B1")
    agency = FakeAgency(files={KH_INDEX: {name: kh_csv(rows)}})
    served = "SELECT count(*), sum(persons_total) FROM marts.fct_deportations"
    with agency.client() as client:
        ingest_feed(settings, spec, client=client)
        assert build_warehouse(settings, full_refresh=True).ok
        assert query(settings, served) == [(6, sum(int(r[8]) for r in rows))]
        corrected = [r[:] for r in rows[:5]]  # line 6 withdrawn, line 1's total corrected
        corrected[0][8] = "77"
        agency.files[KH_INDEX][name] = kh_csv(corrected)
        ingest_feed(settings, spec, client=client)
    expected = [(5, 77 + sum(int(r[8]) for r in rows[1:5]))]
    assert build_warehouse(settings).ok
    assert query(settings, served) == expected  # incremental
    assert build_warehouse(settings, full_refresh=True).ok
    assert query(settings, served) == expected  # and the same from scratch
