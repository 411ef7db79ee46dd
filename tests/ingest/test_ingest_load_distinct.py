"""A large batch types its repeating columns once per distinct cell (``load.SAMPLE_ROWS``); the raw
rows, quarantine and per-file accounting it commits must be exactly those of the per-row path."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ingest_payloads import kh_csv, kh_rows, nbtc_lines, ndjson_bytes, th_csv, th_rows

from borderwatch.ingest import load
from borderwatch.ingest.landing import LandedFile
from borderwatch.ingest.report import FileLoadResult
from borderwatch.specs import FeedSpec

STAMPS = "COLUMNS(lambda c: c NOT IN ('_load_id', '_loaded_at', 'load_id', 'quarantined_at', 'loaded_at'))"


def _payloads(feed: str) -> list[bytes]:
    """Two files that share rows (duplicates), with Thai/Khmer digits and one refused row each."""
    if feed == "kh_gdi_deportations":
        a, b = kh_rows(60, bulletin="A", khmer_every=4), kh_rows(60, bulletin="A", start=31)
        a[5][8] = b[7][8] = "about 40"
        return [kh_csv(a), kh_csv(b)]
    if feed == "th_imm_receptions":
        a, b = th_rows(60), th_rows(60, start=31)
        a[5][1] = "15 ฟฟ. 2568"
        return [th_csv(a), th_csv(b)]
    records = nbtc_lines(60)
    records[3]["count"] = "lots"
    return [ndjson_bytes(records), ndjson_bytes(records[20:] + nbtc_lines(10, be_every=2))]


def _load(spec: FeedSpec, tmp: Path, payloads: list[bytes]) -> dict[str, Any]:
    files = []
    for n, payload in enumerate(payloads):
        path = tmp / f"{spec.name}_{n}.{'ndjson' if spec.format.type == 'ndjson' else 'csv'}"
        path.write_bytes(payload)
        sha = hashlib.sha256(payload).hexdigest()
        files.append(
            LandedFile(spec.name, f"inbox:{path.name}", path.name, None, {}, "", len(payload), sha, path)
        )
    with duckdb.connect() as con:
        results = load.load_files(con, spec, files, "load-1")
        table = spec.tables[0].table
        return {
            "results": [
                (
                    r.status,
                    [(t.rows_in, t.rows_loaded, t.rows_quarantined, t.rows_duplicate) for t in r.tables],
                )
                for r in results
                if isinstance(r, FileLoadResult)
            ],
            "raw": con.execute(f"SELECT {STAMPS} FROM raw.{table} ORDER BY ALL").fetchall(),
            "quarantine": con.execute(f"SELECT {STAMPS} FROM raw._quarantine ORDER BY ALL").fetchall(),
            "files": con.execute(f"SELECT {STAMPS} FROM raw._files ORDER BY ALL").fetchall(),
        }


@pytest.mark.parametrize("feed", ["kh_gdi_deportations", "th_imm_receptions", "nbtc_telecom"])
def test_a_batch_typed_per_distinct_cell_commits_what_the_per_row_path_does(
    feed: str, specs: dict[str, FeedSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = specs[feed]
    payloads = _payloads(feed)
    per_row = _load(spec, tmp_path, payloads)
    chosen: list[list[int]] = []
    repeating = load._repeating
    monkeypatch.setattr(load, "SAMPLE_ROWS", 100)  # these small files count as a large batch
    monkeypatch.setattr(load, "_repeating", lambda *a: chosen.append(repeating(*a)) or chosen[-1])
    per_cell = _load(spec, tmp_path, payloads)
    assert chosen and len(chosen[0]) >= 3, chosen
    assert per_cell == per_row
    assert per_row["raw"] and per_row["quarantine"]  # rows stored and rows refused
    assert len(per_row["results"]) == len(payloads)
    counts = [t for _status, tables in per_row["results"] for t in tables]
    rows_in, loaded, quarantined, duplicate = (sum(t[i] for t in counts) for i in range(4))
    assert duplicate > 0 and rows_in == loaded + quarantined + duplicate
