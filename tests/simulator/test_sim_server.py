"""The simulator on loopback: paging, cursors, caching headers, clock and every fault switch."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from borderwatch.simulator import faults as fx
from borderwatch.simulator.faults import Fault
from borderwatch.simulator.scenario import DEFAULT_UNTIL, POIPET_RAID_ID, TOMBSTONED_IDS
from borderwatch.simulator.server import (
    FEED_PATHS,
    RTP_DELETIONS_PATH,
    RTP_OPERATIONS_PATH,
    NonLoopbackBindError,
    SimulatorServer,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorServer]:
    with SimulatorServer(cache_dir=tmp_path_factory.mktemp("simcache")) as sim:
        yield sim


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[httpx.Client]:
    """A client on a server reset to the default clock and no faults."""
    server.set_faults([])
    server.set_clock(DEFAULT_UNTIL)
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c
    server.set_faults([])
    server.set_clock(DEFAULT_UNTIL)


def _all_pages(client: httpx.Client, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, page = [], 1
    while page is not None:
        body = client.get(path, params={**params, "page": page}).raise_for_status().json()
        pages.append(body["data"])
        page = body["next_page"]
    return pages


def test_binds_loopback_and_refuses_remote(server: SimulatorServer, tmp_path: Path) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    for host in ("0.0.0.0", "10.1.2.3", "example.org"):
        with pytest.raises(NonLoopbackBindError, match="loopback"):
            SimulatorServer(host=host, cache_dir=tmp_path)


def test_pagination_covers_every_record_once(client: httpx.Client, server: SimulatorServer) -> None:
    ops, _ = server.app._scenario.rtp_state(DEFAULT_UNTIL)
    pages = _all_pages(client, RTP_OPERATIONS_PATH, page_size=7)
    seen = [r["operation_id"] for page in pages for r in page]
    assert len(seen) == len(set(seen)) == len(ops)
    assert all(len(p) == 7 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 7
    stamps = [(datetime.fromisoformat(r["updated_at"]), r["operation_id"]) for page in pages for r in page]
    assert stamps == sorted(stamps)
    first = client.get(RTP_OPERATIONS_PATH, params={"page_size": 7}).json()
    assert (first["page"], first["page_size"], first["total"], first["next_page"]) == (1, 7, len(ops), 2)


def test_updated_since_is_exclusive(client: httpx.Client) -> None:
    everything = [r for page in _all_pages(client, RTP_OPERATIONS_PATH) for r in page]
    cursor = everything[len(everything) // 2]["updated_at"]
    later = [r for page in _all_pages(client, RTP_OPERATIONS_PATH, updated_since=cursor) for r in page]
    assert later and all(r["updated_at"] > cursor for r in later)
    expected = [
        r for r in everything if datetime.fromisoformat(r["updated_at"]) > datetime.fromisoformat(cursor)
    ]
    assert later == expected
    # a '+' that arrives unescaped (decoded as a space) is still understood
    raw = client.get(f"{RTP_OPERATIONS_PATH}?updated_since={cursor}").json()
    assert raw["total"] == len(expected)
    assert client.get(RTP_OPERATIONS_PATH, params={"updated_since": "yesterday"}).status_code == 400


def test_deletions_endpoint_and_revisions_with_the_clock(
    client: httpx.Client, server: SimulatorServer
) -> None:
    server.set_clock(date(2025, 3, 5))
    ops = {r["operation_id"]: r for page in _all_pages(client, RTP_OPERATIONS_PATH) for r in page}
    assert ops[POIPET_RAID_ID]["persons_detained"] == 198
    assert "RTP-2025-000032" in ops
    assert client.get(RTP_DELETIONS_PATH).json()["data"] == []
    server.set_clock(date(2025, 3, 7))
    cursor = ops[POIPET_RAID_ID]["updated_at"]
    newer = client.get(RTP_OPERATIONS_PATH, params={"updated_since": cursor}).json()["data"]
    assert [r["persons_detained"] for r in newer if r["operation_id"] == POIPET_RAID_ID] == [215]
    tombs = client.get(RTP_DELETIONS_PATH).json()
    assert tombs["data"] == [
        {"operation_id": "RTP-2025-000032", "updated_at": "2025-03-07T08:00:00+07:00", "is_deleted": True}
    ]
    assert tombs["next_page"] is None
    server.set_clock(DEFAULT_UNTIL)
    all_tombs = client.get(RTP_DELETIONS_PATH, params={"updated_since": "2025-03-07T08:00:00+07:00"}).json()
    assert [t["operation_id"] for t in all_tombs["data"]] == [TOMBSTONED_IDS[1]]


def test_index_lists_files_sorted_and_downloads_match(client: httpx.Client) -> None:
    for feed, prefix in FEED_PATHS.items():
        files = client.get(prefix).raise_for_status().json()["files"]
        names = [f["name"] for f in files]
        assert names == sorted(names) and all(n.startswith(feed) for n in names)
        body = client.get(prefix + names[0]).raise_for_status().content
        assert len(body) == files[0]["size"]
        assert datetime.fromisoformat(files[0]["modified"]).utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]


def test_encodings_cp874_and_bom(client: httpx.Client) -> None:
    th = client.get(FEED_PATHS["th_imm_receptions"] + "th_imm_receptions_2025-03-15.csv").content
    assert th.decode("cp874").startswith("เลขที่รับตัว,วันที่รับตัว")
    with pytest.raises(UnicodeDecodeError):
        th.decode("utf-8")
    kh = client.get(FEED_PATHS["kh_gdi_deportations"] + "kh_gdi_deportations_2025-03-14.csv").content
    assert kh.startswith(b"\xef\xbb\xbfBulletin No,Line,Date")


def test_etag_and_last_modified_give_304(client: httpx.Client) -> None:
    for path in (
        FEED_PATHS["kh_gdi_deportations"],
        RTP_OPERATIONS_PATH,
        FEED_PATHS["mfa_assistance"] + "mfa_assistance_2025-03.xlsx",
    ):
        first = client.get(path)
        import hashlib

        assert first.headers["ETag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""
        since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304
        stale = client.get(path, headers={"If-None-Match": '"nope"'})
        assert stale.status_code == 200 and stale.content == first.content
        old = client.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})
        assert old.status_code == 200


def test_clock_advancing_reveals_new_files(client: httpx.Client, server: SimulatorServer) -> None:
    prefix = FEED_PATHS["mfa_assistance"]
    client.post("/_admin/clock", json={"until": "2025-02-28"}).raise_for_status()
    names = [f["name"] for f in client.get(prefix).json()["files"]]
    assert names == ["mfa_assistance_2025-01.xlsx", "mfa_assistance_2025-02.xlsx"]
    assert client.get(prefix + "mfa_assistance_2025-03.xlsx").status_code == 404
    state = client.post("/_admin/clock", json={"until": "2025-03-31"}).json()
    assert state["until"] == "2025-03-31"
    names = [f["name"] for f in client.get(prefix).json()["files"]]
    assert names[-1] == "mfa_assistance_2025-03.xlsx"
    assert client.get(prefix + "mfa_assistance_2025-03.xlsx").status_code == 200
    assert client.post("/_admin/clock", json={"until": "March"}).status_code == 400


def test_admin_state_and_bad_fault(client: httpx.Client) -> None:
    assert client.post("/_admin/faults", json={"faults": ["no_such_fault"]}).status_code == 400
    state = client.post("/_admin/faults", json={"faults": ["rate_limit"]}).json()
    assert state["faults"] == ["rate_limit"]
    got = client.get("/_admin/state").json()
    assert got["seed"] == 7 and got["until"] == "2025-12-31" and got["faults"] == ["rate_limit"]


def test_unknown_paths_and_traversal_are_404(client: httpx.Client) -> None:
    prefix = FEED_PATHS["kh_gdi_deportations"]
    for path in (
        prefix + "nope.csv",
        prefix + "..%2F..%2Fetc%2Fpasswd",
        "/etc/passwd",
        "/rtp/api/v2/operations",
    ):
        assert client.get(path).status_code == 404


# --- fault switches ---------------------------------------------------------------------------


def _index(client: httpx.Client, feed: str) -> list[dict[str, Any]]:
    return client.get(FEED_PATHS[feed]).raise_for_status().json()["files"]


def _get(client: httpx.Client, feed: str, name: str) -> bytes:
    return client.get(FEED_PATHS[feed] + name).raise_for_status().content


def _newest(client: httpx.Client, feed: str) -> str:
    return max(f["name"] for f in _index(client, feed))


def test_rate_limit_then_success(client: httpx.Client, server: SimulatorServer) -> None:
    server.set_faults(["rate_limit"])
    path = FEED_PATHS["nbtc_telecom"] + "nbtc_telecom_2025-01.ndjson"
    first = client.get(path)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    second = client.get(path)
    assert second.status_code == 200 and b"numbers_suspended" in second.content
    assert client.get(RTP_OPERATIONS_PATH).status_code == 429  # per path
    assert client.get(RTP_OPERATIONS_PATH).status_code == 200


def test_server_error_then_success(client: httpx.Client, server: SimulatorServer) -> None:
    server.set_faults(["server_error"])
    assert client.get(RTP_OPERATIONS_PATH).status_code == 503
    assert client.get(RTP_OPERATIONS_PATH).status_code == 200


def test_truncated_body_then_success(client: httpx.Client, server: SimulatorServer) -> None:
    server.set_faults(["truncated_body"])
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(RTP_OPERATIONS_PATH)
    with httpx.Client(base_url=server.url) as fresh:
        assert fresh.get(RTP_OPERATIONS_PATH).json()["data"]


def test_duplicate_delivery(client: httpx.Client, server: SimulatorServer) -> None:
    newest = _newest(client, "nbtc_telecom")
    server.set_faults(["duplicate_delivery"])
    names = [f["name"] for f in _index(client, "nbtc_telecom")]
    dup = newest.replace(".ndjson", "_dup.ndjson")
    assert dup in names and names == sorted(names)
    assert _get(client, "nbtc_telecom", dup) == _get(client, "nbtc_telecom", newest)
    page = client.get(RTP_OPERATIONS_PATH, params={"page_size": 5}).json()["data"]
    assert len(page) == 6 and page[0] == page[-1]


def test_out_of_order_pages(client: httpx.Client, server: SimulatorServer) -> None:
    ordered = [
        r["operation_id"] + r["updated_at"]
        for p in _all_pages(client, RTP_OPERATIONS_PATH, page_size=9)
        for r in p
    ]
    server.set_faults(["out_of_order_pages"])
    pages = _all_pages(client, RTP_OPERATIONS_PATH, page_size=9)
    shuffled = [r["operation_id"] + r["updated_at"] for p in pages for r in p]
    assert shuffled != ordered and sorted(shuffled) == sorted(ordered)
    assert max(r["updated_at"] for r in pages[0]) == max(r["updated_at"] for p in pages for r in p)
    names = [f["name"] for f in _index(client, "kh_gdi_deportations")]
    assert names == sorted(names, reverse=True)


def _csv_rows(feed: str, body: bytes) -> list[list[str]]:
    text = body.decode("utf-8-sig" if feed in ("kh_gdi_deportations", "kh_ncct_raids") else "cp874")
    return list(csv.reader(io.StringIO(text)))


def _bad_share(feed: str, body: bytes) -> tuple[int, int]:
    if feed == "nbtc_telecom":
        rows = [json.loads(line) for line in body.decode().splitlines()]
        bad = [
            r
            for r in rows
            if not isinstance(r["count"], int) or not r["month"][:4].isdigit() or r["month"][5:] > "12"
        ]
        return len(bad), len(rows)
    rows = _csv_rows(feed, body)[1:]
    return sum(1 for r in rows if "malformed" in r or "teen" in r), len(rows)  # teen: the C9 line


@pytest.mark.parametrize("feed", fx.MALFORMED_FEEDS)
def test_malformed_rows_stay_under_threshold(
    client: httpx.Client, server: SimulatorServer, feed: str
) -> None:
    before = {f["name"]: f["size"] for f in _index(client, feed)}
    server.set_faults(["malformed_rows"])
    after = {f["name"]: f["size"] for f in _index(client, feed)}
    changed = [n for n in after if after[n] != before[n]]
    assert len(changed) == 1
    body = _get(client, feed, changed[0])
    bad, total = _bad_share(feed, body)
    assert bad >= 1 and bad / total < 0.05


@pytest.mark.parametrize("feed", fx.MALFORMED_FEEDS)
def test_malformed_many_over_thirty_percent(client: httpx.Client, server: SimulatorServer, feed: str) -> None:
    newest = _newest(client, feed)
    original = _get(client, feed, newest)
    server.set_faults(["malformed_many"])
    body = _get(client, feed, newest)
    assert body.startswith(original) and body != original
    bad, total = _bad_share(feed, body)
    assert bad / total >= 0.30


@pytest.mark.parametrize(
    ("fault", "feed", "check"),
    [
        ("schema_drift_added", "kh_gdi_deportations", lambda h: h[-2] == "Officer" and len(h) == 13),
        ("schema_drift_added", "th_imm_receptions", lambda h: h[-2] == "เจ้าหน้าที่" and len(h) == 12),
        ("schema_drift_renamed", "kh_gdi_deportations", lambda h: "Total persons" in h and "Total" not in h),
        ("schema_drift_renamed", "th_imm_receptions", lambda h: "รวมทั้งสิ้น" in h and "รวม" not in h),
        ("schema_drift_removed", "kh_gdi_deportations", lambda h: "Destination" not in h and len(h) == 11),
        ("schema_drift_removed", "th_imm_receptions", lambda h: "ส่งตัวจากประเทศ" not in h and len(h) == 10),
    ],
)
def test_schema_drift(
    client: httpx.Client, server: SimulatorServer, fault: str, feed: str, check: Any
) -> None:
    newest = _newest(client, feed)
    older = sorted(f["name"] for f in _index(client, feed))[-2]
    older_body = _get(client, feed, older)
    server.set_faults([fault])
    rows = _csv_rows(feed, _get(client, feed, newest))
    assert check(rows[0])
    assert all(len(r) == len(rows[0]) for r in rows)
    assert _get(client, feed, older) == older_body  # only the newest file drifts


def test_wrong_encoding(client: httpx.Client, server: SimulatorServer) -> None:
    newest = _newest(client, "th_imm_receptions")
    original = _get(client, "th_imm_receptions", newest)
    server.set_faults(["wrong_encoding"])
    body = _get(client, "th_imm_receptions", newest)
    assert body.decode("utf-8") == original.decode("cp874")
    with pytest.raises(UnicodeDecodeError):
        body.decode("cp874")


def test_empty_file(client: httpx.Client, server: SimulatorServer) -> None:
    server.set_faults(["empty_file"])
    for feed in FEED_PATHS:
        newest = _newest(client, feed)
        assert _get(client, feed, newest) == b""
        assert next(f["size"] for f in _index(client, feed) if f["name"] == newest) == 0


def test_every_fault_is_exercised() -> None:
    tested = {
        "rate_limit",
        "server_error",
        "truncated_body",
        "duplicate_delivery",
        "out_of_order_pages",
        "malformed_rows",
        "malformed_many",
        "schema_drift_added",
        "schema_drift_renamed",
        "schema_drift_removed",
        "wrong_encoding",
        "empty_file",
    }
    assert {f.value for f in Fault} == tested
    assert all(f.__doc__ and f.__doc__ != Fault.__doc__ for f in Fault)
