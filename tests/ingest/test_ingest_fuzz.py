"""No input can crash ingest: random and adversarial bytes and values through every reader and rule.

Every value-level failure must be a quarantined row with a reason, every file-level failure a refused
file with an ``IngestError`` naming it, and the row accounting must balance, whatever the bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_payloads import KH_HEADER, kh_csv, kh_rows, nbtc_lines, normalise_cells, rtp_record

from borderwatch.ingest import FileLoadResult, IngestError, LandingArchive, load_files
from borderwatch.specs import ColumnSpec, FeedSpec, ParseRule

POISON = [
    "9" * 5000,
    "-" + "9" * 5000,
    "0001-01-01T00:00:00+07:00",
    "9999-12-31T23:59:59-23:59",
    "1e400",
    "NaN",
    "\x00",
    "\u202eRTP-1",
    "\x1b[2J",
    "๙" * 300,
    "15 มี.ค. 99999",
    "31/02/2025",
    "{" * 1000,
    "\ud7ff\ufffd",
    "' OR 1=1 --",
    "''''",
]
TYPES = {"int": "bigint", "float": "double", "bool": "boolean", "json": "json", "iso_timestamp": "timestamp"}
TYPES |= {"text": "varchar", "label": "varchar"}
cells = st.one_of(st.none(), st.text(max_size=60), st.sampled_from(POISON))


def _column(rule: str) -> ColumnSpec:
    labels = {"labels": {"M": ["M", "male"]}} if rule == "label" else {}
    return ColumnSpec(name="x_id", parse=rule, type=TYPES.get(rule, "date"), required=True, **labels)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(get_args(ParseRule)),
    st.lists(cells, min_size=1, max_size=25),
    st.sampled_from(["CE", "BE"]),
)
def test_every_rule_gives_a_value_or_a_reason(rule: str, values: list[str | None], calendar: str) -> None:
    results = normalise_cells(_column(rule), values, calendar=calendar)
    assert len(results) == len(values)
    for raw, result in zip(values, results, strict=True):
        assert result.value is not None or result.reason is not None, (raw, result)  # never a silent NULL
        if result.reason:
            assert len(result.reason) < 600  # a 5,000-digit value is shown truncated


def _valid(feed: str) -> bytes:
    """A well-formed payload of the feed's format, for mutation."""
    if feed == "kh_gdi_deportations":
        return kh_csv(kh_rows(4))
    if feed == "nbtc_telecom":
        return b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in nbtc_lines(4)) + b"\n"
    return json.dumps(
        {"data": [rtp_record(i, "2025-02-20T10:00:00+07:00") for i in range(3)], "next_page": None}
    ).encode()


@st.composite
def payloads(draw: st.DrawFn, feed: str) -> bytes:
    base = _valid(feed)
    kind = draw(st.sampled_from(["random", "splice", "truncate", "poison"]))
    if kind == "random":
        return draw(st.binary(max_size=400))
    if kind == "truncate":
        return base[: draw(st.integers(0, len(base)))]
    if kind == "splice":
        at = draw(st.integers(0, len(base)))
        return base[:at] + draw(st.binary(max_size=40)) + base[at:]
    value = draw(st.sampled_from(POISON))
    if feed == "kh_gdi_deportations":
        return (KH_HEADER + "\r\n" + ",".join([value] * 11) + "\r\n").encode("utf-8-sig")
    if feed == "nbtc_telecom":
        return json.dumps({"month": value, "province": value, "action_type": value, "count": value}).encode()
    record = dict.fromkeys(["operation_id", "updated_at", "persons_detained", "report_date"], value)
    return json.dumps({"data": [record, {"persons_rescued": json.loads("1" + "0" * 500)}]}).encode()


@pytest.mark.parametrize("feed", ["kh_gdi_deportations", "nbtc_telecom", "rtp_raids"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_bytes_in_any_format_get_a_named_fate(
    feed: str, data: st.DataObject, tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    spec = specs[feed]
    bodies = [data.draw(payloads(feed)) for _ in range(2)] + [_valid(feed)]
    archive = LandingArchive(tmp_path / "landing")
    landed = [
        archive.put(
            body, feed=feed, source_url=f"test:{i}", status=200, headers={}, file_name=f"{feed}_{i}.x"
        )
        for i, body in enumerate(bodies)
    ]
    con = duckdb.connect()
    try:
        outcomes = load_files(con, spec, landed, "fuzz")
        table = spec.tables[0].table
        stored = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]  # type: ignore[index]
        quarantined = con.execute("SELECT count(*) FROM raw._quarantine").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    assert len(outcomes) == 3
    for outcome, lf in zip(outcomes, landed, strict=True):
        assert isinstance(outcome, FileLoadResult | IngestError)
        if isinstance(outcome, IngestError):
            assert feed in str(outcome) and lf.file_name in str(outcome)
        else:
            assert outcome.rows_in == outcome.rows_loaded + outcome.rows_quarantined + outcome.rows_duplicate
    loaded = [o for o in outcomes if isinstance(o, FileLoadResult)]
    assert stored == sum(o.rows_loaded for o in loaded) and quarantined == sum(
        o.rows_quarantined for o in loaded
    )
    assert isinstance(outcomes[2], FileLoadResult)  # a good file beside bad ones always loads


POISONERS = {
    "nul_in_last_line": lambda good: good.rstrip(b"\r\n") + b"\r\x00\n",
    "nul_in_header": lambda good: good.replace(b"\r\n", b"\r\x00\n", 1),
    "ndjson_nul": lambda good: b'{"a": 1\x00\n',
}


@pytest.mark.parametrize(
    ("feed", "poison"),
    [
        ("kh_gdi_deportations", "nul_in_last_line"),
        ("kh_gdi_deportations", "nul_in_header"),
        ("nbtc_telecom", "ndjson_nul"),
    ],
)
def test_an_unreadable_file_never_takes_its_batch_mates_down(
    feed: str, poison: str, tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    """Found by the fuzz test: a NUL byte broke DuckDB's reader for the whole batch, refusing good files."""
    good = _valid(feed)
    poisoned = POISONERS[poison](good)
    archive = LandingArchive(tmp_path / "landing")
    landed = [
        archive.put(
            body, feed=feed, source_url=f"test:{i}", status=200, headers={}, file_name=f"{feed}_{i}.x"
        )
        for i, body in enumerate([poisoned, good])
    ]
    con = duckdb.connect()
    try:
        outcomes = load_files(con, specs[feed], landed, "isolation")
    finally:
        con.close()
    assert isinstance(outcomes[1], FileLoadResult) and outcomes[1].rows_loaded > 0
    if isinstance(outcomes[0], IngestError):
        assert f"{feed}_0.x" in str(outcomes[0])
