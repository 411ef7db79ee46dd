"""Hostile drop-inbox files and the pure payload rewrites behind the fault switches."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from borderwatch.simulator import faults as fx
from borderwatch.simulator.faults import Fault, UnknownFaultError, parse_faults
from borderwatch.simulator.scenario import build_scenario


def test_hostile_names_all_try_to_escape() -> None:
    names = fx.hostile_names()
    assert "../escape.csv" in names and "a/../../b.csv" in names
    for name in names:
        assert name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name, name


def test_hostile_inbox_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    files = fx.write_hostile_inbox_files(inbox)
    link = files["symlink"]
    assert link.is_symlink() and link.parent == inbox
    target = Path(os.readlink(link))
    assert inbox not in target.resolve().parents and target.read_text(encoding="utf-8").startswith("secret")
    bomb = files["zip_bomb"]
    assert bomb.name == "mfa_assistance_2025-09.xlsx"
    assert bomb.stat().st_size < 8 * 1024 * 1024
    with zipfile.ZipFile(bomb) as zf:
        assert sum(i.file_size for i in zf.infolist()) > 1 << 30
    assert files["empty"].stat().st_size == 0
    assert "huge_line" not in files


@pytest.mark.slow
def test_huge_ndjson_line(tmp_path: Path) -> None:
    path = fx.write_huge_line(tmp_path / fx.HUGE_LINE_NAME)
    assert path.stat().st_size > 64 * 1024 * 1024
    with path.open("rb") as fh:
        assert b"\n" not in fh.read(64 * 1024 * 1024 + 1)


def test_parse_faults_names_the_valid_ones() -> None:
    assert parse_faults(["rate_limit", "empty_file"]) == {Fault.RATE_LIMIT, Fault.EMPTY_FILE}
    with pytest.raises(UnknownFaultError, match="schema_drift_added"):
        parse_faults(["schema_drift"])


def _file(feed: str, name: str) -> bytes:
    scenario = build_scenario()
    return next(f for f in scenario.files[feed] if f.name == name).read_bytes()


def test_few_malformed_pads_small_files_below_threshold() -> None:
    body = _file("kh_gdi_deportations", "kh_gdi_deportations_2025-03-14.csv")
    assert fx.count_data_rows("kh_gdi_deportations", body) == 1
    bad = fx.add_few_malformed("kh_gdi_deportations", body)
    rows = fx.count_data_rows("kh_gdi_deportations", bad)
    malformed = bad.decode("utf-8-sig").count(",malformed")
    assert malformed >= 1 and malformed / rows < 0.05
    assert bad.startswith(body)


def test_drift_keeps_rows_rectangular() -> None:
    body = _file("th_imm_receptions", "th_imm_receptions_2025-03-15.csv")
    added = fx.drift_schema("th_imm_receptions", body, Fault.SCHEMA_DRIFT_ADDED).decode("cp874")
    assert {line.count(",") for line in added.strip().splitlines()} == {11}
    with pytest.raises(ValueError, match="not a schema drift"):
        fx.drift_schema("th_imm_receptions", body, Fault.EMPTY_FILE)
