"""Format readers: encodings, title rows, drift, over-long lines and zip bombs."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
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
from borderwatch.ingest.parsers import check_line_lengths, check_zip, iter_rows
from borderwatch.specs import FeedSpec


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_utf8_bom_header_and_rows(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    path = _write(tmp_path, "kh.csv", kh_csv(kh_rows(3)))
    rows = list(iter_rows(spec, spec.tables[0], path, file_name="kh.csv"))
    assert [r.row_number for r in rows] == [1, 2, 3]
    assert rows[0].values["Bulletin No"] == "B-2025-0314"  # BOM stripped from the first header
    assert rows[1].values["Checkpoint"] == "ប៉ោយប៉ែត"
    assert rows[0].raw_text.startswith("B-2025-0314,1,")


def test_csv_quoted_newline_is_one_row(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    data = (
        KH_HEADER
        + '\r\nB1,1,01/03/2025,Poipet,BM,Thai,1,0,1,THA,"two\r\nlines"'
        + "\r\nB1,2,01/03/2025,Poipet,BM,Thai,1,0,1,THA,\r\n"
    )
    path = _write(tmp_path, "kh.csv", data.encode("utf-8-sig"))
    rows = list(iter_rows(spec, spec.tables[0], path, file_name="kh.csv"))
    assert len(rows) == 2
    assert rows[0].values["Remarks"] == "two\r\nlines"
    assert "two" in rows[0].raw_text and "lines" in rows[0].raw_text
    assert rows[1].values["Line"] == "2"


def test_csv_cp874_thai(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["th_imm_receptions"]
    path = _write(tmp_path, "th.csv", th_csv(th_rows(4)))
    rows = list(iter_rows(spec, spec.tables[0], path, file_name="th.csv"))
    assert rows[0].values["ด่านตรวจคนเข้าเมือง"] == "ด่านแม่สอด"
    assert rows[1].values["วันที่รับตัว"] == "3 มี.ค. 2568".translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))


def test_csv_wrong_encoding_names_file_line_byte_and_fix(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["th_imm_receptions"]
    header = th_csv([]).decode("cp874")
    data = header.encode("cp874") + "R1,15 มี.ค. 2568,ด่านแม่สอด,ไทย,1,0,1,,,\r\n".encode()
    path = _write(tmp_path, "th_imm_receptions_2025-03-15.csv", data)
    with pytest.raises(FileFormatError) as err:
        list(iter_rows(spec, spec.tables[0], path, file_name=path.name))
    message = str(err.value)
    assert "th_imm_receptions" in message and path.name in message
    assert "line 2" in message and "byte " in message and "cp874" in message
    assert "utf-8" in message


def test_csv_schema_drift_names_columns(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    header = KH_HEADER.replace("Checkpoint", "Border post")
    path = _write(tmp_path, "kh.csv", csv_bytes(header, kh_rows(2), encoding="utf-8-sig"))
    with pytest.raises(SchemaDriftError) as err:
        list(iter_rows(spec, spec.tables[0], path, file_name="kh.csv"))
    assert err.value.added == ["Border post"] and err.value.removed == ["Checkpoint"]
    assert "kh_gdi_deportations" in str(err.value) and "kh.csv" in str(err.value)


def test_csv_row_with_wrong_field_count_is_a_row_error(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["kh_gdi_deportations"]
    path = _write(tmp_path, "kh.csv", (KH_HEADER + "\r\nB1,1,01/03/2025\r\n").encode("utf-8-sig"))
    (row,) = list(iter_rows(spec, spec.tables[0], path, file_name="kh.csv"))
    assert row.error and "3 fields" in row.error


def test_ndjson_rows_and_drift(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["nbtc_telecom"]
    path = _write(tmp_path, "n.ndjson", ndjson_bytes(nbtc_lines(3)) + b"\n{not json}\n")
    rows = list(iter_rows(spec, spec.tables[0], path, file_name="n.ndjson"))
    assert [r.error is None for r in rows] == [True, True, True, False]
    assert rows[0].values["count"] == 1000
    drifted = [dict(nbtc_lines(1)[0], Count=1)]
    drifted[0].pop("count")
    bad = _write(tmp_path, "d.ndjson", ndjson_bytes(drifted))
    with pytest.raises(SchemaDriftError) as err:
        list(iter_rows(spec, spec.tables[0], bad, file_name="d.ndjson"))
    assert err.value.added == ["Count"] and "count" in err.value.removed


def test_ndjson_line_over_64_mib_refused_with_bounded_memory(
    tmp_path: Path, specs: dict[str, FeedSpec]
) -> None:
    spec = specs["nbtc_telecom"]
    path = tmp_path / "nbtc_telecom_2025-01.ndjson"
    with open(path, "wb") as fh:
        fh.write(ndjson_bytes(nbtc_lines(1)))
        fh.write(b'{"province": "')
        block = b"x" * (1 << 20)
        for _ in range(65):
            fh.write(block)
        fh.write(b'"}\n')
    tracemalloc.start()
    try:
        with pytest.raises(LineTooLongError, match=r"line 2.*max_line_bytes"):
            list(iter_rows(spec, spec.tables[0], path, file_name=path.name))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * (1 << 20)


def test_json_api_page(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["rtp_raids"]
    doc = {"data": [rtp_record(1, "2025-02-20T10:15:00+07:00")], "page": 1, "next_page": None}
    path = _write(tmp_path, "p.json", json.dumps(doc).encode())
    meta: dict[str, object] = {}
    rows = list(iter_rows(spec, spec.tables[0], path, file_name="p.json", meta=meta))
    assert rows[0].values["operation_id"] == "RTP-2025-000001"
    assert meta["next_page"] is None
    truncated = _write(tmp_path, "t.json", json.dumps(doc).encode()[:40])
    with pytest.raises(FileFormatError, match="truncated"):
        list(iter_rows(spec, spec.tables[0], truncated, file_name="t.json"))


def test_xlsx_title_rows_header_and_cell_types(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["mfa_assistance"]
    path = mfa_xlsx(tmp_path / "mfa_assistance_2025-03.xlsx")
    summary, movements = spec.tables
    rows = list(iter_rows(spec, summary, path, file_name=path.name))
    assert rows[0].values["Nationality / สัญชาติ"] == "Chinese / จีน"
    assert len(rows) == 5 and rows[-1].values["Row type"] == "total"
    assert rows[0].values["Assisted (cumulative)"] == "3,634"
    assert rows[2].values["Assisted (cumulative)"] == 220
    mv = list(iter_rows(spec, movements, path, file_name=path.name))
    assert [r.values["Movement ID"] for r in mv] == ["MV-001", "MV-002"]


def test_xlsx_drift(tmp_path: Path, specs: dict[str, FeedSpec]) -> None:
    spec = specs["mfa_assistance"]
    header = ["Nationality / สัญชาติ", "As of", "Assisted", "Repatriated (cumulative)", "Row type"]
    path = mfa_xlsx(tmp_path / "mfa.xlsx", summary_header=header)
    with pytest.raises(SchemaDriftError) as err:
        list(iter_rows(spec, spec.tables[0], path, file_name="mfa.xlsx"))
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
        list(iter_rows(spec, spec.tables[0], bomb, file_name=bomb.name))
    not_zip = _write(tmp_path, "x.xlsx", b"hello")
    with pytest.raises(FileFormatError, match="not an XLSX"):
        check_zip(spec, not_zip, file_name="x.xlsx")


@pytest.mark.parametrize(
    ("body", "bad_line"),
    [(b"ab\ncd\n", None), (b"ab\n" + b"x" * 20 + b"\ncd\n", 2), (b"x" * 11, 1), (b"ab\ncd\n" + b"y" * 11, 3)],
)
def test_check_line_lengths(
    tmp_path: Path, specs: dict[str, FeedSpec], body: bytes, bad_line: int | None
) -> None:
    spec = specs["nbtc_telecom"]
    tiny = spec.model_copy(update={"format": spec.format.model_copy(update={"max_line_bytes": 10})})
    path = _write(tmp_path, "n.ndjson", body)
    if bad_line is None:
        check_line_lengths(tiny, path, file_name="n.ndjson")
    else:
        with pytest.raises(LineTooLongError, match=f"line {bad_line}:"):
            check_line_lengths(tiny, path, file_name="n.ndjson")
