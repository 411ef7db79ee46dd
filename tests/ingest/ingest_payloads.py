"""Small payloads that follow feeds/README.md exactly, and a fake agency server for httpx.MockTransport.

Used until (and beside) the real simulator: every builder writes the wire format byte for byte as the
README pins it (encodings, headers, title rows, paging keys).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import httpx

from borderwatch.normalize import normalise_sql, quote
from borderwatch.simulator import scenario
from borderwatch.specs import ColumnSpec, TableSpec

# Headers and digit tables: the simulator's constants, which follow feeds/README.md (one copy, not two).
KH_HEADER = ",".join(scenario.KH_HEADER)
TH_HEADER = ",".join(scenario.TH_HEADER)
KHMER = scenario.KHMER_DIGITS
THAI = scenario.THAI_DIGITS


def kh_rows(
    n: int, *, bulletin: str = "B-2025-0314", start: int = 1, khmer_every: int = 0
) -> list[list[str]]:
    """n deportation rows; every ``khmer_every``-th row writes its date and numbers in Khmer digits."""
    rows = []
    for i in range(start, start + n):
        male, female = i % 40, i % 7
        date = f"{(i % 28) + 1:02d}/03/2025"
        numbers = [str(male), str(female), str(male + female)]
        if khmer_every and i % khmer_every == 0:
            date = date.translate(KHMER)
            numbers = [x.translate(KHMER) for x in numbers]
        checkpoint = ["Poipet", "Poi Pet", "ប៉ោយប៉ែត"][i % 3]
        nationality = ["Thai", "ថៃ", "Chinese"][i % 3]
        rows.append(
            [
                bulletin,
                str(i),
                date,
                checkpoint,
                "Banteay Meanchey",
                nationality,
                *numbers,
                "THA",
                f"note {i}",
            ]
        )
    return rows


def csv_bytes(header: str, rows: list[list[str]], *, encoding: str) -> bytes:
    def cell(value: str) -> str:
        return f'"{value}"' if "," in value or '"' in value else value

    lines = [header] + [",".join(cell(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def kh_csv(rows: list[list[str]]) -> bytes:
    return csv_bytes(KH_HEADER, rows, encoding="utf-8-sig")


def th_rows(n: int, *, start: int = 1) -> list[list[str]]:
    """Thai receptions with BE dates: abbreviations, full month names, Thai digits, 5-digit years."""
    rows = []
    for i in range(start, start + n):
        day = (i % 28) + 1
        variants = [
            f"{day} มี.ค. 2568",
            f"{day} มีนาคม 2568",
            f"{day} มี.ค. 2568".translate(THAI),
            f"{day} ม.ค. 02568",
        ]
        rows.append(
            [
                f"R{i:06d}",
                variants[i % 4],
                ["ด่านอรัญประเทศ", "ด่านแม่สอด"][i % 2],
                "ไทย",
                str(i % 9),
                str(i % 4),
                str(i % 9 + i % 4),
                "กัมพูชา",
                f"ตม35-{i}",
                "",
            ]
        )
    return rows


def th_csv(rows: list[list[str]]) -> bytes:
    return csv_bytes(TH_HEADER, rows, encoding="cp874")


def nbtc_lines(n: int, *, be_every: int = 3) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        month = "2568-01" if be_every and i % be_every == 0 else "2025-01"
        out.append(
            {
                "month": month,
                "province": ["Sa Kaeo", "ตาก", "ALL"][i % 3],
                "action_type": ["sims_suspended", "numbers_suspended", "towers_removed"][i % 3] + f"_{i}",
                "count": 1000 + i,
                "reported_at": "2025-02-05T09:00:00+07:00",
            }
        )
    return out


def ndjson_bytes(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


SUMMARY_HEADER = list(scenario.MFA_SUMMARY_HEADER)
MOVEMENTS_HEADER = list(scenario.MFA_MOVEMENTS_HEADER)


def mfa_xlsx(path: Path, *, summary_header: list[str] | None = None) -> Path:
    """A workbook like MFA's: two title rows, a blank row, header, nationality rows, a total row."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append(["ข้อมูล ณ วันที่ 31 มีนาคม 2568"])
    ws.append(["As of 31 March 2025"])
    ws.append([])
    ws.append(summary_header or SUMMARY_HEADER)
    ws.append(["Chinese / จีน", dt.datetime(2025, 3, 31), "3,634", 3100, "nationality"])
    ws.append(["Indonesian", "2025-03-31", 512, "400", "nationality"])
    ws.append(["ไต้หวัน", dt.datetime(2025, 3, 31), 220.0, None, "nationality"])
    ws.append(["Unverified / อยู่ระหว่างพิสูจน์สัญชาติ", "2025-03-31", 75, 0, "nationality"])
    ws.append(["Total / รวม", "2025-03-31", 4441, 3500, "total"])
    mv = wb.create_sheet("Movements")
    mv.append(MOVEMENTS_HEADER)
    mv.append(
        [
            "MV-001",
            dt.datetime(2025, 2, 27),
            "executed",
            "MMR",
            "THA",
            "IDN",
            "Indonesian",
            "flight",
            "Mae Sot",
            84,
            "",
        ]
    )
    mv.append(
        [
            "MV-002",
            "2025-03-05",
            "planned",
            "MMR",
            "THA",
            "CHN",
            "Chinese",
            "flight",
            "Mae Sot",
            "1,041",
            None,
        ]
    )
    wb.save(path)
    return path


def rtp_record(n: int, updated_at: str, **overrides: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "operation_id": f"RTP-2025-{n:06d}",
        "updated_at": updated_at,
        "report_date": "2025-02-20",
        "operation_date": "2025-02-19",
        "operation_end_date": None,
        "date_precision": "day",
        "country": "THA",
        "province": "ตาก",
        "district": "Mae Sot",
        "site_name": "KK Park",
        "lead_agency": "RTP",
        "persons_detained": 120 + n,
        "persons_rescued": 40,
        "suspects_arrested": 12,
        "nationality_breakdown": [{"nationality": "Thai", "sex": "M", "count": 60}],
        "summary": f"operation {n}",
    }
    rec.update(overrides)
    return rec


def _ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@dataclass
class FakeAgency:
    """All four agencies behind one httpx.MockTransport, following feeds/README.md's HTTP behaviour."""

    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # index path → name → bytes
    operations: list[dict[str, Any]] = field(default_factory=list)
    deletions: list[dict[str, Any]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # consumed one per request: '429', '503', 'truncate'
    requests: list[httpx.Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), base_url="http://agency.test")

    def _respond(self, request: httpx.Request, body: bytes, content_type: str) -> httpx.Response:
        etag = '"' + hashlib.sha256(body).hexdigest() + '"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        if self.faults:
            fault = self.faults.pop(0)
            if fault in ("429", "503"):
                return httpx.Response(int(fault), headers={"Retry-After": "0"})
            if fault == "truncate":
                return httpx.Response(
                    200,
                    headers={"Content-Length": str(len(body)), "ETag": etag},
                    content=body[: len(body) // 2],
                )
        return httpx.Response(200, headers={"ETag": etag, "Content-Type": content_type}, content=body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self._route(request)
        self.statuses.append(response.status_code)
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path in ("/rtp/api/v1/operations", "/rtp/api/v1/deletions"):
            records = self.operations if path.endswith("operations") else self.deletions
            return self._page(request, records)
        for index, files in self.files.items():
            if path == index:
                listing = {
                    "files": [
                        {"name": n, "size": len(b), "modified": "2025-03-14T18:00:00+07:00"}
                        for n, b in sorted(files.items())
                    ]
                }
                return self._respond(request, json.dumps(listing).encode(), "application/json")
            if path.startswith(index) and path[len(index) :] in files:
                return self._respond(request, files[path[len(index) :]], "application/octet-stream")
        return httpx.Response(404)

    def _page(self, request: httpx.Request, records: list[dict[str, Any]]) -> httpx.Response:
        params = request.url.params
        since = params.get("updated_since")
        page, size = int(params.get("page", 1)), int(params.get("page_size", 500))
        rows = sorted(records, key=lambda r: (_ts(r["updated_at"]), r["operation_id"]))
        if since:
            rows = [r for r in rows if _ts(r["updated_at"]) > _ts(since)]
        chunk = rows[(page - 1) * size : page * size]
        next_page = page + 1 if page * size < len(rows) else None
        doc = {"data": chunk, "page": page, "page_size": size, "total": len(rows), "next_page": next_page}
        return self._respond(request, json.dumps(doc, ensure_ascii=False).encode(), "application/json")


class Normalised(NamedTuple):
    """One cell through the normaliser: typed value, notes, and the reason it was refused (or None)."""

    value: Any
    notes: list[str]
    reason: str | None


def normalise_cells(column: ColumnSpec, cells: list[str | None], *, calendar: str = "CE") -> list[Normalised]:
    """Run one column's rule over text cells in an in-memory DuckDB (the property tests)."""
    table = TableSpec(table="t", primary_key=[column.name], columns=[column])
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE src (_f INT, _row_number INT, _line INT, _raw_text TEXT, _error TEXT, c0 TEXT)"
        )
        con.executemany(
            "INSERT INTO src VALUES (0, ?, ?, NULL, NULL, ?)", [(n, n, v) for n, v in enumerate(cells, 1)]
        )
        sql = normalise_sql(table, "src", calendar=calendar)
        rows = con.execute(
            f"SELECT {quote(column.name)}, _normalisations, _reason FROM ({sql}) ORDER BY _row_number"
        ).fetchall()
    return [Normalised(v, list(n), r.split(": ", 1)[1] if r else None) for v, n, r in rows]
