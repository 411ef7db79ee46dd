"""The vectorised (SQL) load path must give exactly the raw tables of the Python path."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_payloads import KHMER, THAI, kh_csv, kh_rows, nbtc_lines, ndjson_bytes, th_csv, th_rows

from borderwatch.ingest import LandingArchive, load_landed_file
from borderwatch.ingest.errors import IngestError, RejectRateExceeded
from borderwatch.ingest.loader import FileLoadResult, _canonical, _Col, load_landed_files
from borderwatch.ingest.sqlnorm import normalise_query
from borderwatch.normalize import FALLBACK_THAI_MONTHS_ABBREVIATED, FALLBACK_THAI_MONTHS_WIDE
from borderwatch.specs import ColumnSpec, FeedSpec

VOLATILE = {"_load_id", "_loaded_at", "load_id", "loaded_at", "quarantined_at", "updated_at"}


def _raw_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for table in tables:
        if table == "_loads":
            continue
        cols = [r[0] for r in con.execute(f"DESCRIBE raw.{table}").fetchall() if r[0] not in VOLATILE]
        keep = ", ".join(f'"{c}"' for c in cols)
        out[table] = con.execute(f"SELECT {keep} FROM raw.{table} ORDER BY ALL").fetchall()
    return out


def _kh_files() -> list[tuple[str, bytes]]:
    bad = kh_rows(160, khmer_every=3)
    bad[4][2] = "31/02/2025"  # not a date
    bad[7][8] = ""  # required total missing
    bad[9][6] = "about 7"  # qualified figure
    bad[11][2] = "០៥/០៣/២៥៦៨"  # Khmer BE year: refused
    bad[13][3] = "  Poi\u00a0Pet  "  # NBSP and padding
    bad[15][6] = "1,204"  # thousands separator
    quoted = kh_rows(3, start=200)
    quoted[0][10] = 'said "hello", twice'  # quotes: this file takes the Python path
    too_bad = kh_rows(10, start=300)
    for row in too_bad[:3]:
        row[2] = "nope"
    return [
        ("kh_gdi_deportations_2025-03-01.csv", kh_csv(kh_rows(30, khmer_every=4))),
        ("kh_gdi_deportations_2025-03-02.csv", kh_csv(bad)),
        ("kh_gdi_deportations_2025-03-03.csv", kh_csv(quoted)),
        ("kh_gdi_deportations_2025-03-04.csv", kh_csv(too_bad)),  # reject rate exceeded
        ("kh_gdi_deportations_2025-03-05.csv", kh_csv(kh_rows(30, khmer_every=4))),  # duplicate file
        ("kh_gdi_deportations_2025-03-06.csv", kh_csv(kh_rows(10, start=25) + kh_rows(5, start=1))),
    ]


def _th_files() -> list[tuple[str, bytes]]:
    rows = th_rows(120)
    rows[3][1] = "32 มี.ค. 2568"  # no such day
    rows[5][1] = "3 มีค 2568"  # abbreviation without dots: accepted
    rows[6][1] = "4 ก.ย. 12568"  # 5-digit year not zero-padded
    rows[8][1] = "๑๘ ก.ย. ๐๒๕๖๘ ๑๑:๒๐ น."  # Thai digits, padded year, time
    rows[9][4] = "๑,๒๓๔"
    rows[10][1] = "5 มกราคม 2025"  # CE year
    return [("th_imm_receptions_2025-03-15.csv", th_csv(rows))]


def _nbtc_files() -> list[tuple[str, bytes]]:
    lines = nbtc_lines(100)
    lines[2]["month"] = "2568-13"
    lines[4]["reported_at"] = "2025-02-05T09:00:00.25-03:30"
    lines[5]["count"] = "๑๒,๓๔๕"
    lines[6]["reported_at"] = "2025-02-05 09:00"  # no offset: refused
    del lines[7]["reported_at"]
    return [("nbtc_telecom_2025-01.ndjson", ndjson_bytes(lines))]


def _load_all(
    tmp_path: Path, specs: dict[str, FeedSpec], name: str, *, vectorised: bool
) -> tuple[dict[str, list[tuple]], list[str]]:  # type: ignore[type-arg]
    archive = LandingArchive(tmp_path / f"landing-{name}")
    con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    outcomes: list[str] = []
    try:
        for feed, files in (
            ("kh_gdi_deportations", _kh_files()),
            ("th_imm_receptions", _th_files()),
            ("nbtc_telecom", _nbtc_files()),
        ):
            spec = specs[feed]
            landed = [
                archive.put(body, feed=feed, source_url=f"x:{n}", status=200, headers={}, file_name=n)
                for n, body in files
            ]
            for outcome in load_landed_files(con, spec, landed, "l", vectorised=vectorised):
                if isinstance(outcome, FileLoadResult):
                    t = outcome.tables[0]
                    outcomes.append(
                        f"{outcome.file_name} {outcome.status} {t.rows_in} {t.rows_loaded} "
                        f"{t.rows_quarantined} {t.rows_duplicate}"
                    )
                else:
                    outcomes.append(f"{type(outcome).__name__}: {outcome}")
        return _raw_tables(con), outcomes
    finally:
        con.close()


def test_sql_and_python_paths_give_identical_raw_tables(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    python_tables, python_outcomes = _load_all(tmp_path, specs, "python", vectorised=False)
    sql_tables, sql_outcomes = _load_all(tmp_path, specs, "sql", vectorised=True)
    assert sql_outcomes == python_outcomes
    assert sql_tables == python_tables
    # the fixtures really exercise quarantine, normalisations, rejection and duplicates
    assert any(o.startswith("RejectRateExceeded") for o in sql_outcomes)
    assert any(" duplicate " in o for o in sql_outcomes)
    assert len(sql_tables["_quarantine"]) >= 8
    notes = {n for row in sql_tables["th_imm_receptions"] for n in (row[-1] or [])}
    assert {"be_year", "thai_digits", "padded_year"} <= notes


def test_single_file_loads_take_the_sql_path_and_match(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    archive = LandingArchive(tmp_path / "landing")
    body = kh_csv(kh_rows(20, khmer_every=2))
    landed = archive.put(body, feed=spec.name, source_url="x", status=200, headers={}, file_name="a.csv")
    tables = []
    for vectorised in (True, False):
        con = duckdb.connect(str(tmp_path / f"{vectorised}.duckdb"))
        result = load_landed_file(con, spec, landed, "l", vectorised=vectorised)
        assert result.rows_loaded == 20
        assert load_landed_file(con, spec, landed, "l", vectorised=vectorised).status == "duplicate"
        tables.append(_raw_tables(con))
        con.close()
    assert tables[0] == tables[1]


def test_reject_rate_message_is_the_same_on_both_paths(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    rows = kh_rows(20)
    rows[2][8] = "about 7,000"
    rows[3][8] = ""
    archive = LandingArchive(tmp_path / "landing")
    landed = archive.put(
        kh_csv(rows), feed=spec.name, source_url="x", status=200, headers={}, file_name="k.csv"
    )
    messages = []
    for vectorised in (True, False):
        con = duckdb.connect(str(tmp_path / f"{vectorised}.duckdb"))
        with pytest.raises(RejectRateExceeded) as err:
            load_landed_file(con, spec, landed, "l", vectorised=vectorised)
        messages.append(str(err.value))
        assert con.execute("SELECT count(*) FROM raw._files").fetchone() == (0,)
        con.close()
    assert messages[0] == messages[1]
    assert "First bad row 3" in messages[0]


# ----------------------------------------------------------------------------- property tests

RULES = {
    "int": ColumnSpec(name="v", type="bigint", parse="int"),
    "dmy_date": ColumnSpec(name="v", type="date", parse="dmy_date"),
    "thai_date": ColumnSpec(name="v", type="date", parse="thai_date"),
    "year_month": ColumnSpec(name="v", type="date", parse="year_month"),
    "iso_timestamp": ColumnSpec(name="v", type="timestamp", parse="iso_timestamp"),
    "text": ColumnSpec(name="v", type="varchar"),
}


def _scripts(text: str, choice: int) -> str:
    return [text, text.translate(THAI), text.translate(KHMER)][choice]


_script = st.integers(0, 2)
_year = st.one_of(st.integers(1890, 2210), st.integers(2390, 2710))
_ints = st.builds(
    lambda n, commas, s: _scripts(f"{n:,}" if commas else str(n), s),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    _script,
)
_dmy = st.builds(
    lambda d, m, y, s: _scripts(f"{d}/{m:02d}/{y}", s), st.integers(0, 32), st.integers(0, 13), _year, _script
)
_thai = st.builds(
    lambda d, m, wide, y, pad, s: _scripts(
        f"{d} {(FALLBACK_THAI_MONTHS_WIDE if wide else FALLBACK_THAI_MONTHS_ABBREVIATED)[m]} "
        f"{'0' if pad else ''}{y}",
        s,
    ),
    st.integers(0, 32),
    st.integers(1, 12),
    st.booleans(),
    _year,
    st.booleans(),
    _script,
)
_ym = st.builds(lambda y, m, s: _scripts(f"{y}-{m:02d}", s), _year, st.integers(0, 13), _script)
_ts = st.builds(
    lambda t, off, frac: t.isoformat(timespec="microseconds" if frac else "seconds") + off,
    st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2150, 1, 1)),
    st.sampled_from(["Z", "+07:00", "-03:30", "+06:30", "+00:00", "", "+0700"]),
    st.booleans(),
)
_noise = st.text(alphabet=st.sampled_from(list(" \t\u00a0,./-:0123456789๑๒០១abมี.ค.Z+T")), max_size=14)


def _sql_vs_python(column: ColumnSpec, values: list[str]) -> None:
    con = duckdb.connect()
    frame = pd.DataFrame(
        {"f": [0] * len(values), "rn": range(1, len(values) + 1), "c0": values}, dtype=object
    )
    con.register("frame", frame)
    query = normalise_query(
        [column], "(SELECT CAST(f AS INTEGER) f, CAST(rn AS INTEGER) rn, CAST(c0 AS VARCHAR) c0 FROM frame)"
    )
    hashed = con.execute(f"SELECT rn, _bad, _normalisations, _row_hash FROM ({query}) ORDER BY rn").fetchall()
    col = _Col(column)
    for value, (_rn, bad, notes, row_hash) in zip(values, hashed, strict=True):
        canonical, found, error = col.convert(value)
        if bad:
            continue  # refused by SQL: the loader asks Python and falls back if Python accepts
        assert error is None, f"SQL accepted {value!r}, Python refused: {error}"
        assert notes == sorted(set(found)), value
        expected = con.execute("SELECT sha256(to_json([CAST(? AS VARCHAR)]))", [canonical]).fetchone()
        assert (row_hash,) == expected, f"{value!r}: canonical {canonical!r}"
    con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ints=st.lists(st.one_of(_ints, _noise), min_size=1, max_size=30),
    dmy=st.lists(st.one_of(_dmy, _noise), min_size=1, max_size=30),
    thai=st.lists(st.one_of(_thai, _noise), min_size=1, max_size=30),
    ym=st.lists(st.one_of(_ym, _noise), min_size=1, max_size=30),
    ts=st.lists(st.one_of(_ts, _noise), min_size=1, max_size=30),
)
def test_sql_rules_match_python_normalisers(
    ints: list[str], dmy: list[str], thai: list[str], ym: list[str], ts: list[str]
) -> None:
    for rule, values in (
        ("int", ints),
        ("dmy_date", dmy),
        ("thai_date", thai),
        ("year_month", ym),
        ("iso_timestamp", ts),
    ):
        _sql_vs_python(RULES[rule], values)


def test_sql_rules_accept_what_python_accepts_on_well_formed_values() -> None:
    """Well-formed values must not be refused by SQL (or every file would fall back to Python)."""
    values = {
        "int": ["1,234", "๑๒๓", "៧៣៧២", "12.00", " 7 ", "-5"],
        "dmy_date": ["06/03/2025", "០៦/០៣/២០២៥", "1/3/2025"],
        "thai_date": ["15 มี.ค. 2568", "๑๕ มีนาคม ๒๕๖๘", "18 ก.ย. 02568 11:20", "4 ม.ค. 2568"],
        "year_month": ["2025-01", "2568-1"],
        "iso_timestamp": ["2025-02-05T09:00:00+07:00", "2025-02-05 09:00:00Z", "2025-02-05T09:00:00.5-03:30"],
        "text": ["  Poi\u00a0Pet ", "ប៉ោយប៉ែត", ""],
    }
    con = duckdb.connect()
    for rule, cells in values.items():
        frame = pd.DataFrame(
            {"f": [0] * len(cells), "rn": range(1, len(cells) + 1), "c0": cells}, dtype=object
        )
        con.register("frame", frame)
        query = normalise_query(
            [RULES[rule]],
            "(SELECT CAST(f AS INTEGER) f, CAST(rn AS INTEGER) rn, CAST(c0 AS VARCHAR) c0 FROM frame)",
        )
        got = con.execute(f'SELECT "v", _bad FROM ({query}) ORDER BY rn').fetchall()
        col = _Col(RULES[rule])
        for cell, (value, bad) in zip(cells, got, strict=True):
            canonical, _notes, error = col.convert(cell)
            assert error is None and not bad, (rule, cell)
            assert _canonical(value) == canonical or (value is None and canonical is None), (
                rule,
                cell,
                value,
            )
        con.unregister("frame")
    con.close()


def test_cp874_decode_error_and_drift_fall_back_with_python_errors(
    tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["th_imm_receptions"]
    archive = LandingArchive(tmp_path / "landing")
    good = th_csv(th_rows(5))
    broken = good + b"\x81\x82,\r\n"  # undefined in cp874
    drifted = th_csv(th_rows(2)).replace("หมายเหตุ".encode("cp874"), b"note")
    files = [
        archive.put(b, feed=spec.name, source_url=n, status=200, headers={}, file_name=n)
        for n, b in (("a.csv", broken), ("b.csv", drifted), ("c.csv", good))
    ]
    con = duckdb.connect()
    outcomes = load_landed_files(con, spec, files, "l")
    assert isinstance(outcomes[0], IngestError) and "cannot decode" in str(outcomes[0])
    assert isinstance(outcomes[1], IngestError) and "schema drift" in str(outcomes[1])
    assert isinstance(outcomes[2], FileLoadResult) and outcomes[2].rows_loaded == 5
    assert json.loads(json.dumps(con.execute("SELECT count(*) FROM raw.th_imm_receptions").fetchone())) == [5]
