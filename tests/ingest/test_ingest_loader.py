"""Load stage: typed columns, lineage, quarantine vs reject threshold, duplicates, cursors, revisions."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path

import duckdb
import pytest
from ingest_payloads import (
    KH_HEADER,
    kh_csv,
    kh_rows,
    mfa_xlsx,
    nbtc_lines,
    ndjson_bytes,
    rtp_record,
    th_csv,
    th_rows,
)

from borderwatch.ingest import (
    FileLoadResult,
    LandedFile,
    LandingArchive,
    RejectRateExceeded,
    SchemaDriftError,
    TableLoadResult,
    load_files,
    table_columns,
)
from borderwatch.ingest.cursors import get_cursor
from borderwatch.ingest.errors import FileFormatError
from borderwatch.specs import FeedSpec


@pytest.fixture
def archive(tmp_path: Path) -> LandingArchive:
    return LandingArchive(tmp_path / "landing")


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "build.duckdb"))
    connection.execute("SET autoinstall_known_extensions=false")
    yield connection
    connection.close()


def land(archive: LandingArchive, feed: str, name: str, data: bytes | Path):  # type: ignore[no-untyped-def]
    return archive.put(
        data, feed=feed, source_url=f"http://agency.test/{name}", status=200, headers={}, file_name=name
    )


def load_all(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, *files: LandedFile, load_id: str = "l"
) -> FileLoadResult:
    """Load files as one call of the load stage; the last file's outcome (raised if refused)."""
    outcome = load_files(con, spec, list(files), load_id)[-1]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def load(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, landed: LandedFile, load_id: str = "l"
) -> TableLoadResult:
    """One file of a single-table feed: its table's counts."""
    return load_all(con, spec, landed, load_id=load_id).tables[0]


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]  # type: ignore[index]


def test_kh_csv_typed_with_lineage_and_normalisations(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    landed = land(
        archive, spec.name, "kh_gdi_deportations_2025-03-14.csv", kh_csv(kh_rows(10, khmer_every=5))
    )
    result = load(con, spec, landed, "load-1")
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (
        10,
        10,
        0,
        0,
    )
    cols = [r[0] for r in con.execute("DESCRIBE raw.kh_gdi_deportations").fetchall()]
    assert cols == [name for name, _ in table_columns(spec.tables[0])]
    row = con.execute(
        "SELECT line_no, handover_date, handover_date_raw, total, _normalisations, _row_number, _feed, "
        "_file_sha256 FROM raw.kh_gdi_deportations WHERE line_no = 5"
    ).fetchone()
    assert row == (
        5,
        dt.date(2025, 3, 6),
        "០៦/០៣/២០២៥",
        5 % 40 + 5 % 7,
        ["khmer_digits"],
        5,
        spec.name,
        landed.sha256,
    )
    files = con.execute("SELECT file_name, status, rows_in, rows_loaded FROM raw._files").fetchall()
    assert files == [("kh_gdi_deportations_2025-03-14.csv", "loaded", 10, 10)]
    assert get_cursor(con, spec.name) == "kh_gdi_deportations_2025-03-14.csv"


def test_th_cp874_be_dates(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["th_imm_receptions"]
    landed = land(archive, spec.name, "th_imm_receptions_2025-03-15.csv", th_csv(th_rows(8)))
    load(con, spec, landed, "l")
    rows = dict(con.execute("SELECT reception_no, received_date FROM raw.th_imm_receptions").fetchall())
    assert rows["R000001"] == dt.date(2025, 3, 2)  # "2 มีนาคม 2568"
    assert rows["R000003"] == dt.date(2025, 1, 4)  # "4 ม.ค. 02568": January, not March
    assert rows["R000002"] == dt.date(2025, 3, 3)  # "๓ มี.ค. ๒๕๖๘"
    notes = con.execute(
        "SELECT _normalisations FROM raw.th_imm_receptions WHERE reception_no = 'R000002'"
    ).fetchone()
    assert notes == (["be_year", "thai_digits"],)


def test_cp874_cells_are_nfc_in_every_file_of_a_batch(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    """Transcoded cells are put in NFC (and NBSP made a space) by the normaliser, in every file."""
    spec = specs["th_imm_receptions"]
    plain, odd = th_rows(2), th_rows(2, start=3)
    odd[0][2] = "ด\u0e48\u0e38านแม่สอด"  # tone mark before the vowel below: not NFC
    odd[1][2] = "ด่านแม่สอด\xa0"  # a trailing no-break space
    files = [
        land(archive, spec.name, f"th_imm_receptions_2025-03-1{n}.csv", th_csv(rows))
        for n, rows in enumerate((plain, odd))
    ]
    load_all(con, spec, *files)
    cells = dict(con.execute("SELECT reception_no, checkpoint FROM raw.th_imm_receptions").fetchall())
    assert cells["R000003"] == unicodedata.normalize("NFC", odd[0][2]) != odd[0][2]
    assert cells["R000004"] == "ด่านแม่สอด"
    assert cells["R000001"] == plain[0][2]


def test_bad_rows_quarantined_good_rows_loaded(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    rows = kh_rows(40)
    rows[6][2] = "31/02/2025"  # not a date
    landed = land(archive, spec.name, "kh_gdi_deportations_2025-03-14.csv", kh_csv(rows))
    result = load(con, spec, landed, "l")
    assert (result.rows_loaded, result.rows_quarantined) == (39, 1)
    q = con.execute(
        "SELECT row_number, raw_text, reason, file_name, table_name FROM raw._quarantine"
    ).fetchall()
    assert q[0][0] == 7 and "31/02/2025" in q[0][1] and "handover_date" in q[0][2]
    assert q[0][3:] == ("kh_gdi_deportations_2025-03-14.csv", "kh_gdi_deportations")


def test_reject_rate_exceeded_loads_nothing(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    rows = kh_rows(20)
    rows[2][8] = "about 7,000"
    rows[3][8] = ""
    landed = land(archive, spec.name, "kh_gdi_deportations_2025-03-14.csv", kh_csv(rows))
    with pytest.raises(RejectRateExceeded) as err:
        load(con, spec, landed, "l")
    message = str(err.value)
    assert "kh_gdi_deportations_2025-03-14.csv" in message and "First bad row 3" in message
    assert "qualified figure" in message and "2 of 20" in message
    for table in ("kh_gdi_deportations", "_quarantine", "_files", "_cursors"):
        assert count(con, table) == 0


def test_schema_drift_fails_closed(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    body = kh_csv(kh_rows(3)).decode("utf-8-sig").replace("Remarks", "Remark").encode("utf-8-sig")
    landed = land(archive, spec.name, "kh_gdi_deportations_2025-03-14.csv", body)
    with pytest.raises(SchemaDriftError, match=r"added columns \['Remark'\], removed columns \['Remarks'\]"):
        load(con, spec, landed, "l")
    assert count(con, "_files") == 0


def test_duplicate_file_under_another_name_adds_nothing(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    body = kh_csv(kh_rows(5))
    first = load(con, spec, land(archive, spec.name, "kh_gdi_deportations_2025-03-14.csv", body), "a")
    again = load(con, spec, land(archive, spec.name, "kh_gdi_deportations_2025-03-15.csv", body), "b")
    assert first.rows_loaded == 5
    assert again.duplicate_file and again.rows_in == 0 and again.rows_loaded == 0
    assert count(con, "kh_gdi_deportations") == 5
    files = con.execute("SELECT file_name, status FROM raw._files ORDER BY file_name").fetchall()
    assert files == [
        ("kh_gdi_deportations_2025-03-14.csv", "loaded"),
        ("kh_gdi_deportations_2025-03-15.csv", "duplicate"),
    ]
    assert get_cursor(con, spec.name) == "kh_gdi_deportations_2025-03-15.csv"


def test_same_rows_in_a_new_file_are_duplicates(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    load(con, spec, land(archive, spec.name, "a.csv", kh_csv(kh_rows(5))), "a")
    # same five rows (one now in Khmer digits: same normalised values) plus two new ones, one repeated
    rows = kh_rows(5, khmer_every=5) + kh_rows(2, start=6) + kh_rows(1, start=6)
    result = load(con, spec, land(archive, spec.name, "b.csv", kh_csv(rows)), "b")
    assert (result.rows_in, result.rows_loaded, result.rows_duplicate) == (8, 2, 6)
    assert count(con, "kh_gdi_deportations") == 7


def test_rows_stored_under_the_old_text_hash_are_rehashed_and_still_duplicates(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    """An installed table from before the md5 row hash (``_row_hash`` the text sha256 of the same JSON
    list): the next load re-hashes every stored row, so a row delivered again still adds nothing."""
    spec = specs["kh_gdi_deportations"]
    load(con, spec, land(archive, spec.name, "a.csv", kh_csv(kh_rows(5))), "a")
    fresh = con.execute("SELECT _row_number, _row_hash FROM raw.kh_gdi_deportations ORDER BY 1").fetchall()
    typed = ", ".join(f'CAST("{c.name}" AS VARCHAR)' for c in spec.tables[0].columns)
    con.execute(  # the table as the previous release left it
        "ALTER TABLE raw.kh_gdi_deportations ALTER COLUMN _row_hash SET DATA TYPE VARCHAR "
        f"USING sha256(to_json([{typed}]))"
    )
    rows = kh_rows(5, khmer_every=5) + kh_rows(2, start=6)
    result = load(con, spec, land(archive, spec.name, "b.csv", kh_csv(rows)), "b")
    assert (result.rows_in, result.rows_loaded, result.rows_duplicate) == (7, 2, 5)
    kinds = con.execute("SELECT DISTINCT typeof(_row_hash) FROM raw.kh_gdi_deportations").fetchall()
    assert kinds == [("UHUGEINT",)]
    rehashed = con.execute(
        "SELECT _row_number, _row_hash FROM raw.kh_gdi_deportations WHERE _load_id = 'a' ORDER BY 1"
    ).fetchall()
    assert rehashed == fresh


def test_mfa_workbook_both_sheets_in_one_transaction(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["mfa_assistance"]
    landed = land(archive, spec.name, "mfa_assistance_2025-03.xlsx", mfa_xlsx(tmp_path / "m.xlsx"))
    result = load_all(con, spec, landed, load_id="l")
    assert [t.rows_loaded for t in result.tables] == [5, 2]
    snap = con.execute(
        "SELECT nationality_label, as_of_date, persons_assisted_cumulative, persons_repatriated_cumulative, "
        "is_total_row "
        "FROM raw.mfa_assistance_snapshots ORDER BY _row_number"
    ).fetchall()
    assert snap[0] == ("Chinese / จีน", dt.date(2025, 3, 31), 3634, 3100, False)
    assert snap[2][3] is None and snap[-1][-1] is True
    assert con.execute(
        "SELECT persons FROM raw.mfa_assistance_movements ORDER BY movement_id"
    ).fetchall() == [(84,), (1041,)]
    assert load_all(con, spec, landed, load_id="l3").status == "duplicate"


def test_nbtc_year_month_be_and_utc_timestamps(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["nbtc_telecom"]
    load(
        con,
        spec,
        land(archive, spec.name, "nbtc_telecom_2025-01.ndjson", ndjson_bytes(nbtc_lines(6))),
        "l",
    )
    rows = con.execute(
        "SELECT DISTINCT month, month_raw, reported_at FROM raw.nbtc_telecom ORDER BY month_raw"
    ).fetchall()
    assert rows == [
        (dt.date(2025, 1, 1), "2025-01", dt.datetime(2025, 2, 5, 2, 0)),
        (dt.date(2025, 1, 1), "2568-01", dt.datetime(2025, 2, 5, 2, 0)),
    ]


def api_page(archive: LandingArchive, spec: FeedSpec, name: str, records: list, next_page: int | None):  # type: ignore[no-untyped-def, type-arg]
    body = json.dumps({"data": records, "next_page": next_page}).encode()
    stream = "deletions" if name.startswith("deletions") else "records"
    return archive.put(
        body,
        feed=spec.name,
        source_url=f"http://agency.test/{name}",
        status=200,
        headers={},
        file_name=name,
        stream=stream,
    )


def test_api_pages_json_column_tombstones_and_cursor_only_after_last_page(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["rtp_raids"]
    # out of order: the newest records come on page 1
    newest = [rtp_record(3, "2025-02-20T12:00:00+07:00"), rtp_record(4, "2025-02-20T05:30:00Z")]
    page1 = api_page(archive, spec, "operations_since=start_page=00001.json", newest, 2)
    assert load(con, spec, page1).rows_loaded == 2
    assert get_cursor(con, spec.name) is None  # more pages follow: a crash now must not skip them
    older = [rtp_record(1, "2025-02-20T10:00:00+07:00"), rtp_record(2, "2025-02-20T11:00:00+07:00")]
    last = api_page(archive, spec, "operations_since=start_page=00002.json", older, None)
    outcomes = load_files(con, spec, [page1, last], "l2")  # a run's pages load as one batch
    assert [o.status for o in outcomes] == ["duplicate", "loaded"]  # type: ignore[union-attr]
    # page 1 was loaded before: its records still count for the cursor only if re-read in the batch
    assert get_cursor(con, spec.name) == "2025-02-20T11:00:00+07:00"
    again = api_page(archive, spec, "operations_since=x_page=00001.json", newest + older[:1], None)
    load(con, spec, again)
    assert get_cursor(con, spec.name) == "2025-02-20T05:30:00Z"  # 12:30 Bangkok, the latest, source text kept
    tomb = {"operation_id": "RTP-2025-000001", "updated_at": "2025-02-21T08:00:00+07:00", "is_deleted": True}
    load(con, spec, api_page(archive, spec, "deletions_since=start_page=00001.json", [tomb], None))
    assert get_cursor(con, f"{spec.name}:deletions") == "2025-02-21T08:00:00+07:00"
    assert get_cursor(con, spec.name) == "2025-02-20T05:30:00Z"
    rows = con.execute(
        "SELECT operation_id, is_deleted, json_extract(nationality_breakdown, '$[0].count')::INT "
        "FROM raw.rtp_raids "
        "WHERE operation_id = 'RTP-2025-000001' ORDER BY updated_at"
    ).fetchall()
    assert rows == [("RTP-2025-000001", None, 60), ("RTP-2025-000001", True, None)]


def test_empty_file_is_refused(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["nbtc_telecom"]
    with pytest.raises(FileFormatError, match="empty"):
        load(con, spec, land(archive, spec.name, "nbtc_telecom_2025-02.ndjson", b""), "l")


def test_rerun_of_every_file_adds_zero_rows(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    landed = [
        land(
            archive,
            spec.name,
            f"kh_gdi_deportations_2025-03-{d:02d}.csv",
            kh_csv(kh_rows(4, bulletin=f"B{d}")),
        )
        for d in (1, 2)
    ]
    for lf in landed:
        load(con, spec, lf, "first")
    before = con.execute(
        "SELECT * EXCLUDE (_load_id, _loaded_at) FROM raw.kh_gdi_deportations ORDER BY ALL"
    ).fetchall()
    results = [load(con, spec, lf, "second") for lf in landed]
    assert sum(r.rows_loaded for r in results) == 0
    after = con.execute(
        "SELECT * EXCLUDE (_load_id, _loaded_at) FROM raw.kh_gdi_deportations ORDER BY ALL"
    ).fetchall()
    assert before == after


def test_header_only_file_loads_zero_rows(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    result = load(
        con,
        spec,
        land(archive, spec.name, "e.csv", (KH_HEADER + "\r\n").encode("utf-8-sig")),
        "l",
    )
    assert (result.rows_in, result.rows_loaded) == (0, 0)


def test_corrected_file_under_a_known_name_is_a_revision(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    """A re-sent file with other content replaces its earlier revision's rows; both stay in landing."""
    spec = specs["kh_gdi_deportations"]
    name = "kh_gdi_deportations_2025-03-14.csv"
    original = kh_rows(5)
    first = load_all(con, spec, land(archive, spec.name, name, kh_csv(original)))
    corrected = [r[:] for r in original[:4]]  # row 5 withdrawn
    corrected[1][8] = "99"  # row 2's total corrected
    second = load_all(con, spec, land(archive, spec.name, name, kh_csv(corrected)), load_id="l2")
    assert (second.revision, second.supersedes) == (2, first.file_sha256)
    assert (second.rows_in, second.rows_loaded, second.rows_duplicate) == (4, 4, 0)
    rows = con.execute(
        "SELECT line_no, total, _file_sha256 FROM raw.kh_gdi_deportations ORDER BY 1"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(1, 1 % 40 + 1 % 7), (2, 99), (3, 6), (4, 8)]
    assert {r[2] for r in rows} == {second.file_sha256}
    files = con.execute(
        "SELECT file_sha256, revision, supersedes FROM raw._files ORDER BY revision"
    ).fetchall()
    assert files == [(first.file_sha256, 1, None), (second.file_sha256, 2, first.file_sha256)]
    assert load_all(con, spec, land(archive, spec.name, name, kh_csv(corrected))).status == "duplicate"


def test_poison_values_are_quarantined_never_raised(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    """5,000-digit numbers, year-1 timestamps and unsafe keys are rows with reasons, in every format."""
    spec = specs["nbtc_telecom"].model_copy(update={"reject_rate_threshold": 1.0})
    lines = nbtc_lines(3)
    lines[1]["reported_at"] = "0001-01-01T00:00:00+07:00"
    lines[2]["province"] = "Tak\u202e"
    encoded = [json.dumps(r, ensure_ascii=False).encode() for r in lines]
    encoded[0] = encoded[0].replace(b'"count": 1000', b'"count": ' + b"9" * 5000)
    body = b"\n".join(encoded) + b"\n{not json\n"
    result = load(con, spec, land(archive, spec.name, "nbtc_telecom_2025-01.ndjson", body))
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (4, 0, 4)
    reasons = [r[0] for r in con.execute("SELECT reason FROM raw._quarantine ORDER BY row_number").fetchall()]
    assert "out of range" in reasons[0] and "has year 0001" in reasons[1]
    assert "bidirectional" in reasons[2] and "not valid JSON" in reasons[3]


def test_be_feed_notes_ce_years_and_quarantines_impossible_ones(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["th_imm_receptions"].model_copy(update={"reject_rate_threshold": 1.0})
    rows = th_rows(3)
    rows[0][1] = "2 มี.ค. 2025"  # a CE year in a BE feed: loaded, noted
    rows[1][1] = "3 มี.ค. 2168"  # a typo of 2568: neither BE nor CE
    load(con, spec, land(archive, spec.name, "th_imm_receptions_2025-03-15.csv", th_csv(rows)))
    loaded = con.execute(
        "SELECT received_date, _normalisations FROM raw.th_imm_receptions ORDER BY 1"
    ).fetchall()
    assert (dt.date(2025, 3, 2), ["ce_year"]) in loaded and len(loaded) == 2
    (reason,) = con.execute("SELECT reason FROM raw._quarantine").fetchone()  # type: ignore[misc]
    assert "year 2168 is neither a Buddhist Era year" in reason


def test_xlsx_formula_cells_are_quarantined_not_null(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    import openpyxl

    spec = specs["mfa_assistance"].model_copy(update={"reject_rate_threshold": 1.0})
    path = mfa_xlsx(tmp_path / "m.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Summary"]
    for row in sheet.iter_rows():
        if row[0].value == "Indonesian":
            row[3].value = "=C5-100"  # an optional column computed by a formula: no stored value
    book.save(path)
    result = load_all(con, spec, land(archive, spec.name, "mfa_assistance_2025-03.xlsx", path))
    assert result.tables[0].rows_quarantined == 1
    (reason,) = con.execute("SELECT reason FROM raw._quarantine").fetchone()  # type: ignore[misc]
    assert "formulas" in reason and "Repatriated (cumulative)" in reason


def test_rows_repeated_across_a_batch_keep_their_first_occurrence(
    con: duckdb.DuckDBPyConnection, archive: LandingArchive, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    first = land(archive, spec.name, "a.csv", kh_csv(kh_rows(3) + kh_rows(1, start=2)))  # row 2 twice
    second = land(archive, spec.name, "b.csv", kh_csv(kh_rows(1, start=3) + kh_rows(2, start=4)))
    outcomes = load_files(con, spec, [first, second], "l")
    counts = [(o.rows_in, o.rows_loaded, o.rows_duplicate) for o in outcomes]  # type: ignore[union-attr]
    assert counts == [(4, 3, 1), (3, 2, 1)]
    stored = con.execute(
        "SELECT line_no, _file_sha256, _row_number FROM raw.kh_gdi_deportations ORDER BY line_no"
    ).fetchall()
    assert stored == [
        (1, first.sha256, 1),
        (2, first.sha256, 2),  # not its repeat, row 4 of the same file
        (3, first.sha256, 3),  # not its repeat in the second file
        (4, second.sha256, 2),
        (5, second.sha256, 3),
    ]
