"""The public-report payloads (tests/support/public_reports.py) are in the documented wire formats.

Read back with the independent parsers and checked against the feed specs: every header is what the spec
declares, every file name is claimed by its feed's inbox glob, and the figures are the published ones.
"""

from __future__ import annotations

import csv
import io
import json
from fnmatch import fnmatch
from pathlib import Path

import public_reports as pr
from openpyxl import load_workbook

from borderwatch.config import REPO_ROOT
from borderwatch.specs import load_specs

SPECS = load_specs(REPO_ROOT / "feeds")


def _csv(data: bytes, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode(encoding))))


def test_every_file_is_claimed_by_its_feed_and_has_the_spec_header(tmp_path: Path) -> None:
    files = pr.public_report_files()
    assert {f.feed for f in files} == {
        "rtp_raids",
        "kh_ncct_raids",
        "kh_gdi_deportations",
        "th_imm_receptions",
        "mfa_assistance",
    }
    for f in files:
        spec = SPECS[f.feed]
        assert fnmatch(f.name, spec.inbox_glob or ""), f.name
        if spec.format.type == "csv":
            header = next(csv.reader(io.StringIO(f.data.decode(spec.format.encoding))))
            assert header == [c.source_key for c in spec.tables[0].columns], f.feed
    paths = pr.write_to_inbox(tmp_path / "inbox")
    assert [p.name for p in paths] == [f.name for f in files] and all(p.is_file() for p in paths)


def test_poipet_raid_reports_and_deportation_figures() -> None:
    [op] = pr.poipet_raid_rtp_page()["data"]
    assert op["persons_rescued"] == sum(c["count"] for c in op["nationality_breakdown"]) == 215
    assert sum(c["count"] for c in op["nationality_breakdown"] if c["nationality"] == "Thai") == 109
    assert json.loads(json.dumps(op)) == op
    spec_columns = {c.name for c in SPECS["rtp_raids"].tables[0].columns}
    assert set(op) <= spec_columns
    [ncct] = _csv(pr.poipet_raid_ncct_csv(), "utf-8-sig")
    assert (ncct["Detained"], ncct["Nationality"], ncct["Persons"]) == ("230", "Thai", "119")
    [kh] = _csv(pr.poipet_deportation_kh_csv(), "utf-8-sig")
    assert (kh["Male"], kh["Female"], kh["Total"], kh["Checkpoint"]) == ("61", "58", "119", "Poipet")
    assert pr.NCCT_POIPET_ID in kh["Remarks"]
    [th] = _csv(pr.poipet_reception_th_csv(), "cp874")
    assert (th["รวม"], th["ด่านตรวจคนเข้าเมือง"]) == ("119", "ด่านอรัญประเทศ")


def test_mae_sot_movements_have_plans_legs_and_period_totals() -> None:
    wb = load_workbook(io.BytesIO(pr.mae_sot_workbook()), read_only=True)
    header, *rows = list(wb["Movements"].iter_rows(values_only=True))
    spec = next(t for t in SPECS["mfa_assistance"].tables if t.sheet == "Movements")
    assert list(header) == [c.source_key for c in spec.columns]
    moves = [dict(zip(header, r, strict=True)) for r in rows]

    def total(nat: str, row_type: str, status: str = "executed", plan: str | None = None) -> int:
        return sum(
            m["Persons"]
            for m in moves
            if m["Nationality"] == nat
            and m["Row type"] == row_type
            and m["Status"] == status
            and (plan is None or m["Plan ID"] == plan)
        )

    assert total("Chinese", "plan", "planned") == pr.FIGURES["chn_plan"]["value"] == 600
    assert total("Chinese", "leg") == 200 and total("Chinese", "period_total") == 621
    assert total("Indian", "plan", "planned") == 540
    assert total("Indian", "leg", plan=pr.PLAN_IND) == 283
    assert total("Indian", "period_total") == 549 + 467
    assert {m["Female"] for m in moves if m["Persons"] == 270} == {26}
    for name, fig in pr.FIGURES.items():
        assert fig["source"]["publisher"] and fig["source"]["published"].startswith("2025-"), name
