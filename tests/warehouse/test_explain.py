"""explain(): the feed rows and landing files behind one mart row."""

from __future__ import annotations

import pytest

from borderwatch.explain import ExplainError, explain
from conftest import WarehouseRun

pytestmark = pytest.mark.slow


def test_matched_deportation_lists_both_countries_files(wh_run: WarehouseRun) -> None:
    rows = explain(wh_run.settings, "fct_deportations", "KH-GDI-031-1")
    assert {(r["feed"], r["file_name"]) for r in rows} == {
        ("kh_gdi_deportations", "kh_gdi_deportations_2025-03-20.csv"),
        ("th_imm_receptions", "th_imm_receptions_2025-03-21.csv"),
    }
    by_feed = {r["feed"]: r for r in rows}
    assert by_feed["kh_gdi_deportations"]["row"]["nationality"] == "ថៃ"
    assert by_feed["th_imm_receptions"]["row"]["received_date_raw"] == "๑๕ มี.ค. ๒๕๖๘"
    assert by_feed["kh_gdi_deportations"]["row_number"] == 1


def test_revised_raid_lists_every_version(wh_run: WarehouseRun) -> None:
    rows = explain(wh_run.settings, "marts.fct_raids", "RTP-2025-000101")
    assert [r["row"]["persons_detained"] for r in rows] == [120, 125]
    assert [r["load_id"] for r in rows] == ["load-1", "load-2"]


def test_snapshot_and_claim_lineage(wh_run: WarehouseRun) -> None:
    rows = explain(wh_run.settings, "fct_assistance_snapshots_latest", "2025-03-31|CHN")
    assert [r["row"]["nationality_label"] for r in rows] == ["Chinese / จีน"]
    (claim,) = wh_run.query(
        "select claim_id, _file_sha256, _row_number from marts.fct_figure_claims "
        "where source_feed = 'nbtc_telecom' "
        "and value = 7400"
    )
    (row,) = explain(wh_run.settings, "fct_figure_claims", claim["claim_id"])
    assert (row["file_sha256"], row["row_number"]) == (claim["_file_sha256"], claim["_row_number"])
    assert row["row"]["province"] == "สระแก้ว"


def test_unknown_key_and_table(wh_run: WarehouseRun) -> None:
    assert explain(wh_run.settings, "fct_raids", "RTP-NOPE") == []
    with pytest.raises(ExplainError, match="not a public mart"):
        explain(wh_run.settings, "raw.rtp_raids", "x")
