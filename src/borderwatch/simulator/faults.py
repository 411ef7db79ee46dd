"""Fault switches the simulator can turn on, the payload rewrites behind them, and hostile inbox files.

Each switch mimics something a real agency endpoint or file drop does, so the ingest code can be tested
against it: retries and back-off (``rate_limit``, ``server_error``, ``truncated_body``), idempotence
(``duplicate_delivery``, ``out_of_order_pages``), row- and file-level rejection (``malformed_*``,
``schema_drift_*``, ``wrong_encoding``, ``empty_file``). The rewrites are pure functions of bytes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import zlib
from enum import StrEnum
from pathlib import Path

from borderwatch.simulator.scenario import CSV_NEWLINE, KH_BOM, TH_ENCODING


class UnknownFaultError(ValueError):
    """A fault name that ``Fault`` does not define; the message lists the valid names."""


class Fault(StrEnum):
    """A fault switch; ``Fault.X.__doc__`` says exactly what it does to the served payload."""

    def __new__(cls, value: str, doc: str) -> Fault:
        member = str.__new__(cls, value)
        member._value_ = value
        member.__doc__ = doc
        return member

    DUPLICATE_DELIVERY = (
        "duplicate_delivery",
        "File feeds: the newest file is also listed as `<stem>_dup<ext>` with identical bytes. "
        "RTP API: every page repeats its first record at its end.",
    )
    OUT_OF_ORDER_PAGES = (
        "out_of_order_pages",
        "RTP API: page n serves the slice of page (pages + 1 - n), records shuffled within the page, so the "
        "newest records come first; the union over all pages is unchanged. File indexes list names in "
        "reverse order.",
    )
    RATE_LIMIT = (
        "rate_limit",
        "The first request of each path answers 429 with `Retry-After: 1`; later requests succeed.",
    )
    SERVER_ERROR = (
        "server_error",
        "The first request of each path (after any rate-limit answer) answers 503; later requests succeed.",
    )
    TRUNCATED_BODY = (
        "truncated_body",
        "The first full answer of each path sends `Content-Length` of the whole body but only its first "
        "half, then closes the connection (JSON cut mid-way); later requests succeed.",
    )
    MALFORMED_ROWS = (
        "malformed_rows",
        "kh/th/nbtc/kh-ncct: the largest visible file gets a few extra rows with an unparseable date or "
        "required number or (kh-ncct) an unknown label (about 3 %, always under the 5 % reject threshold); "
        "the good rows are untouched.",
    )
    MALFORMED_MANY = (
        "malformed_many",
        "kh/th/nbtc/kh-ncct: the newest visible file gets extra malformed rows amounting to at least 30 % "
        "of its rows, so ingest must refuse the whole file.",
    )
    SCHEMA_DRIFT_ADDED = (
        "schema_drift_added",
        "kh/th: the newest file has an extra column (`Officer` / `เจ้าหน้าที่`) inserted before the last column.",
    )
    SCHEMA_DRIFT_RENAMED = (
        "schema_drift_renamed",
        "kh/th: in the newest file the required total column is renamed (`Total` → `Total persons`, "
        "`รวม` → `รวมทั้งสิ้น`).",
    )
    SCHEMA_DRIFT_REMOVED = (
        "schema_drift_removed",
        "kh/th: the newest file lacks the optional destination column (`Destination` / `ส่งตัวจากประเทศ`).",
    )
    WRONG_ENCODING = (
        "wrong_encoding",
        "th: the newest file is served as UTF-8 (no BOM) instead of cp874.",
    )
    EMPTY_FILE = (
        "empty_file",
        "Every file feed: the newest file is served (and listed) as zero bytes.",
    )


TRANSIENT_FAULTS: tuple[Fault, ...] = (Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.TRUNCATED_BODY)
DRIFT_FAULTS: tuple[Fault, ...] = (
    Fault.SCHEMA_DRIFT_ADDED,
    Fault.SCHEMA_DRIFT_RENAMED,
    Fault.SCHEMA_DRIFT_REMOVED,
)
MALFORMED_FEEDS = ("kh_gdi_deportations", "th_imm_receptions", "nbtc_telecom", "kh_ncct_raids")
CSV_FEEDS = ("kh_gdi_deportations", "th_imm_receptions")
MALFORMED_ROWS_SHARE = 0.03
MIN_ROWS_FOR_FEW_MALFORMED = 20  # 1 bad row in 21 is under 5 %

DRIFT_ADDED_COLUMN = {
    "kh_gdi_deportations": ("Officer", "GDI team 2"),
    "th_imm_receptions": ("เจ้าหน้าที่", "ชุด 2"),
}
DRIFT_RENAMED_COLUMN = {
    "kh_gdi_deportations": ("Total", "Total persons"),
    "th_imm_receptions": ("รวม", "รวมทั้งสิ้น"),
}
DRIFT_REMOVED_COLUMN = {"kh_gdi_deportations": "Destination", "th_imm_receptions": "ส่งตัวจากประเทศ"}


def parse_faults(names: list[str] | tuple[str, ...]) -> frozenset[Fault]:
    """Fault names (as posted to ``/_admin/faults`` or given to ``--fault``) to switches."""
    valid = {f.value: f for f in Fault}
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UnknownFaultError(f"unknown fault(s) {unknown}; valid names: {sorted(valid)}")
    return frozenset(valid[n] for n in names)


# --------------------------------------------------------------------------------------------------
# Payload rewrites
# --------------------------------------------------------------------------------------------------


def _encoding(feed: str) -> str:
    return TH_ENCODING if feed == "th_imm_receptions" else "utf-8"


def _decode(feed: str, body: bytes) -> str:
    text = body.decode(_encoding(feed))
    return text[1:] if text.startswith(KH_BOM) else text


def _encode(feed: str, text: str) -> bytes:
    prefix = KH_BOM if feed == "kh_gdi_deportations" else ""
    return (prefix + text).encode(_encoding(feed))


def _read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _write_csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=CSV_NEWLINE).writerows(rows)
    return buf.getvalue()


_KH_BAD = (
    ("31/02/2025", "5"),
    ("14/03/2025", "1O"),
    ("n/a", "3"),
    ("00/13/2025", "7"),
    ("15/03/2025", "twelve"),
)
_TH_BAD = (
    ("31 ก.พ. 2568", "5"),
    ("15 มี.ค. 2568", "สิบ"),
    ("-", "3"),
    ("32 มี.ค. 2568", "7"),
    ("1 ม.ค. 2568", "1O"),
)
_NCCT_BAD = (  # (date, line, age group): a bad date, a bad required number or an unknown label
    ("31/02/2025", "1", "adult"),
    ("17/07/2025", "x2", "adult"),
    ("n/a", "3", "minor"),
    ("17/07/2025", "4", "teenager"),
    ("០០/១៣/២០២៥", "5", "adult"),
)
_NBTC_BAD = (("2025-13", 10), ("2025-01", "n/a"), ("20XX-02", 4), ("2025-03", "12,3x4"))


def _malformed_ndjson(count: int) -> bytes:
    lines = (
        json.dumps(
            {
                "month": m,
                "province": "Bangkok",
                "action_type": "towers_removed",
                "count": c,
                "reported_at": "2025-01-05T09:00:00+07:00",
            },
            ensure_ascii=False,
        )
        + "\n"
        for m, c in (_NBTC_BAD[i % len(_NBTC_BAD)] for i in range(count))
    )
    return "".join(lines).encode("utf-8")


def _extra_csv_rows(feed: str, rows: list[list[str]], bad: int, good: int) -> list[list[str]]:
    """``good`` valid filler rows then ``bad`` rows with one unparseable date or required number each."""
    last = rows[-1] if len(rows) > 1 else None
    out: list[list[str]] = []
    for i in range(good + bad):
        is_bad, k = i >= good, i - good
        if feed == "kh_gdi_deportations":
            bulletin = last[0] if last else "GDI/2025/999"
            line = (int(last[1]) if last and last[1].isdigit() else 0) + i + 1
            when, total = _KH_BAD[k % len(_KH_BAD)] if is_bad else ("14/03/2025", "5")
            out.append(
                [
                    bulletin,
                    str(line),
                    when,
                    "Phnom Penh International Airport",
                    "Phnom Penh",
                    "Chinese",
                    "3",
                    "2",
                    total,
                    "China",
                    "malformed" if is_bad else "",
                ]
            )
        elif feed == "kh_ncct_raids":
            when, line_cell, age = _NCCT_BAD[k % len(_NCCT_BAD)] if is_bad else ("17/07/2025", "1", "adult")
            report = f"KH-NCCT-2025-{'BAD' if is_bad else 'PAD'}{len(rows) + i:05d}"
            place = ["Kampot", "Kampot hotel floor", "3", "", "0"]
            bad_mark = "malformed" if is_bad else ""
            out.append([report, line_cell, when, *place, "Thai", "M", age, "3", "", bad_mark])
        else:
            when, total = _TH_BAD[k % len(_TH_BAD)] if is_bad else ("1 ม.ค. 2568", "5")
            out.append(
                [
                    f"{'BAD' if is_bad else 'PAD'}-{len(rows) + i:06d}",
                    when,
                    "ด่านแม่สอด",
                    "ไทย",
                    "3",
                    "2",
                    total,
                    "เมียนมา",
                    "",
                    "malformed" if is_bad else "",
                ]
            )
    return out


def _append(feed: str, body: bytes, bad: int, good: int = 0) -> bytes:
    if feed == "nbtc_telecom":
        return body + _malformed_ndjson(bad)
    rows = _read_csv(_decode(feed, body)) if body else [[]]
    width = len(rows[0])  # optional trailing columns (e.g. Minors) stay empty on the extra rows
    extra = [r + [""] * (width - len(r)) for r in _extra_csv_rows(feed, rows, bad, good)]
    return body + _write_csv(extra).encode(_encoding(feed))


def add_few_malformed(feed: str, body: bytes) -> bytes:
    """About 3 % extra malformed rows (at least one); CSV files under 20 rows are first padded with valid
    filler rows so the share stays under the 5 % reject threshold."""
    rows = count_data_rows(feed, body)
    floor = MIN_ROWS_FOR_FEW_MALFORMED * (3 if feed == "kh_ncct_raids" else 1)  # its C9 line is bad already
    good = max(0, floor - rows) if feed != "nbtc_telecom" else 0
    return _append(feed, body, max(1, int((rows + good) * MALFORMED_ROWS_SHARE)), good)


def add_many_malformed(feed: str, body: bytes) -> bytes:
    """Half as many malformed rows as good ones (a third of the file): ingest must refuse it."""
    return _append(feed, body, max(1, -(-count_data_rows(feed, body) // 2)))


def count_data_rows(feed: str, body: bytes) -> int:
    if feed == "nbtc_telecom":
        return sum(1 for line in body.splitlines() if line.strip())
    return max(0, len(_read_csv(_decode(feed, body))) - 1)


def drift_schema(feed: str, body: bytes, fault: Fault) -> bytes:
    """Change the header of a kh/th CSV file as ``fault`` describes (and the cells with it)."""
    rows = _read_csv(_decode(feed, body))
    header = rows[0]
    if fault is Fault.SCHEMA_DRIFT_ADDED:
        name, value = DRIFT_ADDED_COLUMN[feed]
        pos = len(header) - 1
        rows = [[*r[:pos], name if i == 0 else value, *r[pos:]] for i, r in enumerate(rows)]
    elif fault is Fault.SCHEMA_DRIFT_RENAMED:
        old, new = DRIFT_RENAMED_COLUMN[feed]
        rows[0] = [new if h == old else h for h in header]
    elif fault is Fault.SCHEMA_DRIFT_REMOVED:
        pos = header.index(DRIFT_REMOVED_COLUMN[feed])
        rows = [[c for j, c in enumerate(r) if j != pos] for r in rows]
    else:
        raise ValueError(f"{fault} is not a schema drift fault")
    return _encode(feed, _write_csv(rows))


def reencode_utf8(body: bytes) -> bytes:
    """The th_imm file as UTF-8: what a misconfigured export sends."""
    return body.decode(TH_ENCODING).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Hostile drop-inbox files
# --------------------------------------------------------------------------------------------------

ZIP_BOMB_NAME = "mfa_assistance_2025-09.xlsx"
ZIP_BOMB_INFLATED_BYTES = (1 << 30) + (16 << 20)  # a little over 1 GiB
HUGE_LINE_NAME = "nbtc_telecom_2025-09.ndjson"
HUGE_LINE_BYTES = 70 << 20  # one line of 70 MiB: over a 64 MiB line limit
SYMLINK_NAME = "kh_gdi_deportations_2025-09-01.csv"
_ZERO_CHUNK = bytes(1 << 20)


def hostile_names() -> list[str]:
    """File names an inbox API must refuse (they cannot exist on disk, so tests pass them as names)."""
    return [
        "../escape.csv",
        "a/../../b.csv",
        "../../etc/passwd",
        "/etc/passwd",
        "..\\escape.csv",
        "kh_gdi_deportations_../../x.csv",
        "kh_gdi_deportations_2025-03-14.csv/..",
        "nul\x00byte.csv",
        "..",
        ".",
        "",
    ]


def _zip_entry(
    name: str, method: int, crc: int, data_len: int, size: int, offset: int
) -> tuple[bytes, bytes]:
    """Local and central headers of one plain (non-zip64) zip entry dated 2025-09-01."""
    raw = name.encode()
    dos_date = ((2025 - 1980) << 9) | (9 << 5) | 1
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, dos_date, crc, data_len, size, len(raw), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        method,
        0,
        dos_date,
        crc,
        data_len,
        size,
        len(raw),
        0,
        0,
        0,
        0,
        0o600 << 16,
        offset,
    )
    return local + raw, central + raw


def write_zip_bomb(path: Path, inflated_bytes: int = ZIP_BOMB_INFLATED_BYTES) -> Path:
    """A ~1 MB XLSX-named zip whose worksheet inflates to ``inflated_bytes`` of zeros.

    Fast: after a full flush, deflate emits the same bytes for every identical 1 MiB block, so one block is
    compressed and repeated; only the CRC has to walk the whole inflated size.
    """
    block_size = len(_ZERO_CHUNK)
    if inflated_bytes % block_size or inflated_bytes >= 1 << 32:
        raise ValueError("inflated_bytes must be a whole number of MiB below 4 GiB")
    blocks = inflated_bytes // block_size
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflater.compress(_ZERO_CHUNK) + deflater.flush(zlib.Z_FULL_FLUSH)
    final = deflater.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(_ZERO_CHUNK, crc)
    types = b'<?xml version="1.0" encoding="UTF-8"?><Types/>'
    centrals: list[bytes] = []
    with path.open("wb") as fh:
        local, central = _zip_entry("[Content_Types].xml", 0, zlib.crc32(types), len(types), len(types), 0)
        fh.write(local + types)
        centrals.append(central)
        compressed = len(block) * blocks + len(final)
        local, central = _zip_entry("xl/worksheets/sheet1.xml", 8, crc, compressed, inflated_bytes, fh.tell())
        fh.write(local)
        for _ in range(blocks):
            fh.write(block)
        fh.write(final)
        centrals.append(central)
        directory_at = fh.tell()
        directory = b"".join(centrals)
        fh.write(directory)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(directory), directory_at, 0))
    return path


def write_huge_line(path: Path, line_bytes: int = HUGE_LINE_BYTES) -> Path:
    """An NDJSON file whose single line is ``line_bytes`` long, written in 1 MiB steps."""
    head = b'{"month": "2025-09", "province": "'
    tail = b'", "action_type": "towers_removed", "count": 1}\n'
    filler = b"A" * (1 << 20)
    with path.open("wb") as fh:
        fh.write(head)
        remaining = line_bytes - len(head) - len(tail)
        while remaining > 0:
            step = min(remaining, len(filler))
            fh.write(filler[:step])
            remaining -= step
        fh.write(tail)
    return path


def write_hostile_inbox_files(inbox: Path, *, include_huge_line: bool = False) -> dict[str, Path]:
    """Write hostile files into a drop inbox; returns them by kind.

    ``symlink``: a feed-named symlink to a file outside the inbox; ``zip_bomb``: an ``.xlsx`` that
    inflates past 1 GiB; ``huge_line`` (only when asked; ~70 MB on disk): one NDJSON line > 64 MiB;
    ``unknown``: a file no feed's glob matches; ``empty``: a zero-byte file with a feed name.
    """
    inbox.mkdir(parents=True, exist_ok=True)
    outside = inbox.parent / f"{inbox.name}-outside-target.csv"
    outside.write_text("secret,not,part,of,the,inbox\n", encoding="utf-8")
    link = inbox / SYMLINK_NAME
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(outside, link)
    files: dict[str, Path] = {"symlink": link, "symlink_target": outside}
    files["zip_bomb"] = write_zip_bomb(inbox / ZIP_BOMB_NAME)
    unknown = inbox / "readme_from_agency.txt"
    unknown.write_text("not a feed file\n", encoding="utf-8")
    files["unknown"] = unknown
    empty = inbox / "th_imm_receptions_2025-09-02.csv"
    empty.write_bytes(b"")
    files["empty"] = empty
    if include_huge_line:
        files["huge_line"] = write_huge_line(inbox / HUGE_LINE_NAME)
    return files
