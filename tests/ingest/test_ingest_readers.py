"""Format readers: encodings, title rows, drift, over-long lines and zip bombs, each file's fate apart."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_payloads import (
    KH_HEADER,
    csv_bytes,
    kh_csv,
    kh_rows,
    mfa_xlsx,
    nbtc_lines,
    ndjson_bytes,
    rtp_record,
    th_csv,
    th_rows,
)

from borderwatch.ingest.errors import FileFormatError, LineTooLongError, SchemaDriftError, ZipBombError
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.load import READERS
from borderwatch.ingest.xlsx import check_zip
from borderwatch.specs import FeedSpec, TableSpec


def landed(path: Path, spec: FeedSpec) -> LandedFile:
    return LandedFile(
        feed=spec.name,
        source_url=f"test:{path.name}",
        file_name=path.name,
        status=None,
        headers={},
        fetched_at="",
        size=path.stat().st_size,
        sha256="0" * 64,
        path=path,
    )


def read_all(
    spec: FeedSpec, paths: list[Path], table: TableSpec | None = None
) -> tuple[list[dict[str, Any]], dict[int, Exception], dict[int, dict[str, Any]]]:
    """Rows (by source key, plus _f/_row_number/_raw_text/_error), file errors and page meta."""
    table = table or spec.tables[0]
    con = duckdb.connect()
    try:
        cells = ", ".join(f"c{i} VARCHAR" for i in range(len(table.columns)))
        con.execute(
            "CREATE TEMP TABLE t (_f INTEGER, _row_number INTEGER, _line INTEGER, _raw_text VARCHAR, "
            f"_error VARCHAR, {cells})"
        )
        batch = READERS[spec.format.type](con, spec, table, [landed(p, spec) for p in paths], "t")
        names = ["_f", "_row_number", "_line", "_raw_text", "_error"] + [c.source_key for c in table.columns]
        cells = ", ".join(
            ["_f", "_row_number", "_line", "_raw_text", "_error"]
            + [f"c{i}" for i in range(len(table.columns))]
        )
        query = f"SELECT {cells} FROM {batch.relation} ORDER BY 1, 2"
        rows = [dict(zip(names, r, strict=True)) for r in con.execute(query).fetchall()]
    finally:
        con.close()
    return rows, dict(batch.errors), batch.meta


def read(spec: FeedSpec, path: Path, table: TableSpec | None = None) -> list[dict[str, Any]]:
    rows, errors, _meta = read_all(spec, [path], table)
    if errors:
        raise errors[0]
    return rows


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_utf8_bom_header_and_rows(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    rows = read(spec, _write(tmp_path, "kh.csv", kh_csv(kh_rows(3))))
    assert [r["_row_number"] for r in rows] == [1, 2, 3]
    assert rows[0]["Bulletin No"] == "B-2025-0314"  # BOM stripped from the first header
    assert rows[1]["Checkpoint"] == "ប៉ោយប៉ែត"


def test_csv_quoted_newline_is_one_row(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    data = (
        KH_HEADER
        + '\r\nB1,1,01/03/2025,Poipet,BM,Thai,1,0,1,THA,"two\r\nlines"'
        + "\r\nB1,2,01/03/2025,Poipet,BM,Thai,1,0,1,THA,\r\n"
    )
    rows = read(spec, _write(tmp_path, "kh.csv", data.encode("utf-8-sig")))
    assert len(rows) == 2
    assert rows[0]["Remarks"] == "two\r\nlines"
    assert rows[1]["Line"] == "2"


def test_csv_cp874_thai(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["th_imm_receptions"]
    rows = read(spec, _write(tmp_path, "th.csv", th_csv(th_rows(4))))
    assert rows[0]["ด่านตรวจคนเข้าเมือง"] == "ด่านแม่สอด"
    assert rows[1]["วันที่รับตัว"] == "3 มี.ค. 2568".translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))


def test_csv_wrong_encoding_names_file_line_byte_and_fix(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["th_imm_receptions"]
    header = th_csv([]).decode("cp874")
    data = header.encode("cp874") + "R1,15 มี.ค. 2568,ด่านแม่สอด,ไทย,1,0,1,,,\r\n".encode()
    path = _write(tmp_path, "th_imm_receptions_2025-03-15.csv", data)
    with pytest.raises(FileFormatError) as err:
        read(spec, path)
    message = str(err.value)
    assert "th_imm_receptions" in message and path.name in message
    assert "line 2" in message and "byte " in message and "cp874" in message
    assert "utf-8" in message


def test_utf8_feed_given_a_cp874_file_is_refused_with_the_encoding_named(
    tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    body = (
        KH_HEADER + "\r\nB1,1,01/03/2025,Poipet,BM,Thai,1,0,1,THA,\r\nB1,2,01/03/2025,Poipet,BM,"
    ).encode()
    path = _write(tmp_path, "kh.csv", body + "ไทย,1,0,1,THA,\r\n".encode("cp874"))
    with pytest.raises(FileFormatError, match=r"line 3 .*looks like cp874"):
        read(spec, path)


def test_csv_schema_drift_names_columns(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    header = KH_HEADER.replace("Checkpoint", "Border post")
    path = _write(tmp_path, "kh.csv", csv_bytes(header, kh_rows(2), encoding="utf-8-sig"))
    with pytest.raises(SchemaDriftError) as err:
        read(spec, path)
    assert err.value.added == ["Border post"] and err.value.removed == ["Checkpoint"]
    assert "kh_gdi_deportations" in str(err.value) and "kh.csv" in str(err.value)


def test_optional_trailing_column_may_be_absent_or_present(
    tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["kh_gdi_deportations"]
    assert spec.tables[0].columns[-1].source_key == "Minors" and not spec.tables[0].columns[-1].required
    without = read(spec, _write(tmp_path, "a.csv", kh_csv(kh_rows(1))))
    with_minors = read(
        spec,
        _write(
            tmp_path, "b.csv", csv_bytes(KH_HEADER + ",Minors", [kh_rows(1)[0] + ["2"]], encoding="utf-8")
        ),
    )
    assert without[0]["Minors"] is None and with_minors[0]["Minors"] == "2"


def test_one_bad_file_does_not_stop_the_others_in_a_batch(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    good = _write(tmp_path, "a.csv", kh_csv(kh_rows(2)))
    drifted = _write(
        tmp_path, "b.csv", csv_bytes(KH_HEADER.replace("Line", "Row"), kh_rows(2), encoding="utf-8")
    )
    empty = _write(tmp_path, "c.csv", b"")
    rows, errors, _meta = read_all(spec, [good, drifted, empty])
    assert {r["_f"] for r in rows} == {0}
    assert isinstance(errors[1], SchemaDriftError) and "empty" in str(errors[2])


def test_csv_row_with_wrong_field_count_is_a_row_error(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    rows = read(spec, _write(tmp_path, "kh.csv", (KH_HEADER + "\r\nB1,1,01/03/2025\r\n").encode("utf-8-sig")))
    (row,) = rows
    assert (
        row["_error"]
        and "different number of fields" in row["_error"]
        and row["_raw_text"] == "B1,1,01/03/2025"
    )


def test_ndjson_rows_errors_and_drift(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    rows = read(spec, _write(tmp_path, "n.ndjson", ndjson_bytes(nbtc_lines(3)) + b"\n[1]\n{not json}\n"))
    assert [r["_error"] for r in rows] == [
        None,
        None,
        None,
        "line is not a JSON object",
        "line is not valid JSON",
    ]
    assert rows[0]["count"] == "1000" and rows[4]["_raw_text"] == "{not json}"
    drifted = [dict(nbtc_lines(1)[0], Count=1)]
    drifted[0].pop("count")
    with pytest.raises(SchemaDriftError) as err:
        read(spec, _write(tmp_path, "d.ndjson", ndjson_bytes(drifted)))
    assert err.value.added == ["Count"]


def test_ndjson_line_over_max_line_bytes_is_refused(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    path = tmp_path / "nbtc_telecom_2025-01.ndjson"
    with open(path, "wb") as fh:
        fh.write(ndjson_bytes(nbtc_lines(1)))
        fh.write(b'{"province": "' + b"x" * (2 << 20) + b'"}\n')
    with pytest.raises(LineTooLongError, match=r"line 2.*max_line_bytes"):
        read(spec, path)


def test_json_api_page(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["rtp_raids"]
    doc = {"data": [rtp_record(1, "2025-02-20T10:15:00+07:00"), [1]], "page": 1, "next_page": None}
    path = _write(tmp_path, "p.json", json.dumps(doc).encode())
    rows, errors, meta = read_all(spec, [path])
    assert not errors and rows[0]["operation_id"] == "RTP-2025-000001"
    assert rows[1]["_error"] == "record is not a JSON object"
    assert meta[0]["next_page"] is None
    truncated = _write(tmp_path, "t.json", json.dumps(doc).encode()[:40])
    with pytest.raises(FileFormatError, match="truncated"):
        read(spec, truncated)


def test_xlsx_title_rows_header_and_cell_types(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["mfa_assistance"]
    path = mfa_xlsx(tmp_path / "mfa_assistance_2025-03.xlsx")
    summary, movements = spec.tables
    rows = read(spec, path, summary)
    assert rows[0]["Nationality / สัญชาติ"] == "Chinese / จีน"
    assert len(rows) == 5 and rows[-1]["Row type"] == "total"
    assert rows[0]["Assisted (cumulative)"] == "3,634"
    assert rows[2]["Assisted (cumulative)"] == "220"
    assert [r["Movement ID"] for r in read(spec, path, movements)] == ["MV-001", "MV-002"]


def test_xlsx_drift(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["mfa_assistance"]
    header = ["Nationality / สัญชาติ", "As of", "Assisted", "Repatriated (cumulative)", "Row type"]
    path = mfa_xlsx(tmp_path / "mfa.xlsx", summary_header=header)
    with pytest.raises(SchemaDriftError) as err:
        read(spec, path)
    assert err.value.added == ["Assisted"] and err.value.removed == ["Assisted (cumulative)"]


def make_zip_bomb(path: Path, uncompressed_mib: int) -> Path:
    """An .xlsx-named zip whose one member inflates to ``uncompressed_mib`` MiB of zeros."""
    block = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(uncompressed_mib):
            member.write(block)
    return path


def test_zip_bomb_refused_before_opening(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["mfa_assistance"]
    small_limit = spec.model_copy(
        update={"format": spec.format.model_copy(update={"max_uncompressed_bytes": 4 << 20})}
    )
    bomb = make_zip_bomb(tmp_path / "mfa_assistance_2025-03.xlsx", 16)
    with pytest.raises(ZipBombError, match="max_uncompressed_bytes"):
        check_zip(small_limit, bomb, file_name=bomb.name)
    with pytest.raises(ZipBombError, match="compresses"):
        check_zip(spec, bomb, file_name=bomb.name)
    with pytest.raises(ZipBombError):
        read(spec, bomb)
    with pytest.raises(FileFormatError, match="not an XLSX"):
        check_zip(spec, _write(tmp_path, "x.xlsx", b"hello"), file_name="x.xlsx")


_MEMBER_KEYS = ["month", "province", "action_type", "count", "reported_at"]
_MEMBER_KEYS += ["Count", "extra", "", "mo\\u006eth"]  # not in the spec, or escaped
_MEMBER_VALUES = ["null", '"2025-01"', "7", '"a:b\\":c"', '{"x": 1, "y": ":"}', "[1, 2]", '"\\u003a"', "true"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.lists(st.tuples(st.sampled_from(_MEMBER_KEYS), st.sampled_from(_MEMBER_VALUES)), max_size=8),
        min_size=1,
        max_size=6,
    )
)
def test_ndjson_drift_is_found_whatever_the_members(
    tmp_path: Path, specs: dict[str, FeedSpec], lines: list[list[tuple[str, str]]]
) -> None:
    """Keys are listed only for lines with more members than values read (a cheaper count first): null,
    repeated, escaped and nested members must never hide a key the spec lacks, nor invent one."""
    spec = specs["nbtc_telecom"]
    known = {c.source_key for c in spec.tables[0].columns}
    text = "".join("{" + ", ".join(f'"{k}": {v}' for k, v in members) + "}\n" for members in lines)
    unknown = sorted({json.loads(f'"{k}"') for members in lines for k, _ in members} - known)
    path = tmp_path / "drift.ndjson"
    path.write_text(text, encoding="utf-8")
    rows, errors, _meta = read_all(spec, [path])
    if unknown:
        assert isinstance(errors.get(0), SchemaDriftError), text
        assert errors[0].added == unknown
    else:
        assert not errors, text
        assert len(rows) == len(lines) and all(r["_error"] is None for r in rows)


def test_ndjson_keys_with_path_and_quote_characters(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    """A source key holding '/', '~', a quote, a space or a dot names exactly its own member, never a
    nested one or one a JSON path or pointer would spell the same way ('~1' is not '/')."""
    spec = specs["nbtc_telecom"]
    table = spec.tables[0]
    odd = ["a/b", "c~d", 'e"f', "g h.i", "j~1"]
    columns = [c.model_copy(update={"source": key}) for c, key in zip(table.columns, odd, strict=True)]
    table = table.model_copy(update={"columns": columns})
    record = {"a/b": "2025-01", "c~d": "ตาก", 'e"f': "x", "g h.i": 5, "j~1": "t", "a": {"b": "wrong"}}
    record["j/"] = "wrong"  # what '/j~1' would name if '~1' were read as '/'
    path = _write(tmp_path, "odd.ndjson", (json.dumps(record, ensure_ascii=False) + "\n").encode())
    _rows, errors, _meta = read_all(spec, [path], table)
    assert isinstance(errors.get(0), SchemaDriftError) and errors[0].added == ["a", "j/"]
    record = {k: v for k, v in record.items() if k in odd}
    path = _write(tmp_path, "odd2.ndjson", (json.dumps(record, ensure_ascii=False) + "\n").encode())
    (row,) = read(spec, path, table)
    assert [row[k] for k in odd] == ["2025-01", "ตาก", "x", "5", "t"]
