"""Incremental by partition equals a full rebuild, on the marts a user reads, for the rules a night relies on.

int_deportations_matched, fct_deportations, the claims family and int_lineage rebuild only the deportation
partitions (crossing|nationality) touched by new KH/TH deliveries, plus what linking can change without a
KH/TH load. Each case below is a night that only those rules get right: after the incremental build, every
user-visible mart equals a full rebuild of a copy of the same build file (every model, not a selection).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from borderwatch.config import Settings, get_settings
from borderwatch.warehouse import build_warehouse, dbt_target_dir

sys.path.insert(0, str(Path(__file__).parent))
from wh_raw_fixture import (
    _kh,
    _kh_raid,
    _ncct,
    _raid,
    _th,
    built_after_two_loads,
    insert_file,
)

# user-visible marts and the lineage `borderwatch explain` reads, each with a total order
MARTS = {
    "marts.fct_deportations": "deportation_id",
    "marts.fct_figure_claims": "claim_id",
    "marts.fct_raids": "incident_id",
    "intermediate.int_lineage": "mart, mart_key, raw_table, file_sha256, row_number",
}

LOAD3 = datetime(2025, 4, 12, 2, 0)
LOAD4 = datetime(2025, 4, 13, 2, 0)
LOAD5 = datetime(2025, 4, 14, 2, 0)

# a bulletin citing an NCCT report (its own incident until an RTP operation links to it), and a Chinese batch
KH_LOAD3 = [
    _kh("GDI-050", 1, "10/04/2025", "Poipet", "Thai", 20, 15, 35, "Thailand", "after NCCT KH-NCCT-2025-0777"),
    _kh("GDI-050", 2, "10/04/2025", "Poipet", "Chinese", 12, 11, 23, "China"),
]
NCCT_0777 = _ncct(
    "KH-NCCT-2025-0777", "2025-04-10", "Poipet", 35, 0, 2,
    [("Thai", "M", "adult", 20), ("Thai", "F", "adult", 15)],
    summary="NCCT: Poipet compound",
)  # fmt: skip
# load 4 has no KH/TH row: an RTP operation one day before at the same compound links to the NCCT report
RAID_777 = _kh_raid(
    "Poipet casino compound", "2025-04-09", 36, 0, 2, [{"nationality": "Thai", "sex": "M", "count": 36}],
    "RTP summary: Poipet compound",
)  # fmt: skip
# load 5: the Thai side of the Thai batch arrives a day later; the Chinese line is corrected to Vietnamese
TH_LOAD5 = [_th("IMM-68-0050", "2025-04-11", "11 เม.ย. 2568", "ด่านอรัญประเทศ", "ไทย", 20, 15, 35, "กัมพูชา")]
KH_LOAD5 = [_kh("GDI-050", 2, "10/04/2025", "Poipet", "Vietnamese", 12, 11, 23, "Vietnam")]


# load 6: a file with an Indian batch alone in its partition; load 7 re-sends it without that line
KH_LOAD6 = [
    _kh("GDI-060", 1, "12/04/2025", "Poipet", "Thai", 11, 11, 22, "Thailand"),
    _kh("GDI-060", 2, "12/04/2025", "Poipet", "Indian", 14, 12, 26, "India"),
]
LOAD6 = datetime(2025, 4, 15, 2, 0)
LOAD7 = datetime(2025, 4, 16, 2, 0)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def full_rebuild_of_a_copy(settings: Settings, tmp: Path) -> Path:
    """A full rebuild (every model) of a copy of the build file: what the incremental build must equal."""
    copy = get_settings(tmp / "home")
    copy.ensure_dirs()
    shutil.copy(settings.build_db, copy.build_db)
    build_warehouse(copy, full_refresh=True)
    return copy.build_db


def differences(incremental: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Per mart, rows only in the incremental build and rows only in the full rebuild (both 0 = equal)."""
    out = {}
    for mart, order in MARTS.items():
        inc = rows(incremental, f"select * from {mart} order by {order}")
        ref = rows(full, f"select * from {mart} order by {order}")
        out[mart] = (len(set(inc) - set(ref)), len(set(ref) - set(inc))) if inc != ref else (0, 0)
    return out


@dataclass
class Nights:
    settings: Settings
    tables: dict[str, tuple[str, list]]
    tmp: pytest.TempPathFactory

    def load(self, table: str, name: str, data: list[dict[str, Any]], loaded_at: datetime) -> None:
        con = duckdb.connect(str(self.settings.build_db))
        try:
            insert_file(con, self.tables, table, name, data, load_id=name, loaded_at=loaded_at)
        finally:
            con.close()

    def load_file(self, table: str, name: str, data: list[dict[str, Any]], loaded_at: datetime) -> str:
        """Like ``load``; returns the file's sha256."""
        con = duckdb.connect(str(self.settings.build_db))
        try:
            return insert_file(con, self.tables, table, name, data, load_id=name, loaded_at=loaded_at)
        finally:
            con.close()

    def deportation(self, deportation_id: str) -> dict[str, Any]:
        con = duckdb.connect(str(self.settings.build_db), read_only=True)
        try:
            sql = "select * from marts.fct_deportations where deportation_id = ?"
            cur = con.execute(sql, [deportation_id])
            names = [d[0] for d in cur.description]
            found = cur.fetchall()
        finally:
            con.close()
        assert len(found) == 1, f"{deportation_id}: {len(found)} rows"
        return dict(zip(names, found[0], strict=True))

    def assert_equals_full_rebuild(self) -> None:
        full = full_rebuild_of_a_copy(self.settings, self.tmp.mktemp("full"))
        assert differences(self.settings.build_db, full) == dict.fromkeys(MARTS, (0, 0))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    """The fixture's two loads, each followed by a build (full, then incremental), then load 3 built."""
    settings = get_settings(tmp_path_factory.mktemp("inc") / "home")
    tables = built_after_two_loads(settings)
    n = Nights(settings, tables, tmp_path_factory)
    n.load("kh_gdi_deportations", "kh_gdi_deportations_2025-04-11.csv", KH_LOAD3, LOAD3)
    n.load("kh_ncct_raids", "kh_ncct_raids_2025-04-11.csv", NCCT_0777, LOAD3)
    build_warehouse(settings)
    yield n


def test_a_raid_linked_without_any_deportation_load_reaches_the_old_batch(nights: Nights) -> None:
    before = nights.deportation("KH-GDI-050-1")
    assert (before["raid_report_id"], before["incident_id"]) == ("KH-NCCT-2025-0777", "KH-NCCT-2025-0777")
    raid = _raid("RTP-2025-000777", "2025-04-12 01:00:00", **RAID_777)
    nights.load("rtp_raids", "rtp_raids_page_3.json", [raid], LOAD4)
    build_warehouse(nights.settings)
    after = nights.deportation("KH-GDI-050-1")
    assert after["raid_report_id"] == "KH-NCCT-2025-0777"
    assert after["incident_id"] == "RTP-2025-000777"
    nights.assert_equals_full_rebuild()


def test_a_late_thai_reception_matches_an_old_bulletin_and_a_corrected_line_changes_partition(
    nights: Nights,
) -> None:
    assert nights.deportation("KH-GDI-050-2")["nationality_iso3"] == "CHN"
    nights.load("th_imm_receptions", "th_imm_receptions_2025-04-13.csv", TH_LOAD5, LOAD5)
    nights.load("kh_gdi_deportations", "kh_gdi_deportations_2025-04-13.csv", KH_LOAD5, LOAD5)
    build_warehouse(nights.settings)
    batch = nights.deportation("KH-GDI-050-1")
    assert (batch["reported_by"], batch["received_date"].isoformat()) == ("both", "2025-04-11")
    moved = nights.deportation("KH-GDI-050-2")
    assert (moved["nationality_iso3"], moved["_partition_key"]) == (
        "VNM",
        "xing_poipet_aranyaprathet|VNM|2025-04-10",
    )
    assert (moved["from_country_iso3"], moved["to_country_iso3"]) == ("KHM", "VNM")  # destination "Vietnam"
    # the old Chinese partition lost the line: no claim or lineage row still files it under CHN
    claims = rows(
        nights.settings.build_db,
        "select distinct _partition_key from marts.fct_figure_claims where fact_key = 'KH-GDI-050-2'",
    )
    assert claims == [("dep|xing_poipet_aranyaprathet|VNM|2025-04-10",)]
    nights.assert_equals_full_rebuild()


def test_a_line_withdrawn_by_a_corrected_file_leaves_its_partition(nights: Nights) -> None:
    """The ingest deletes a superseded revision's rows: no new row names the withdrawn line's partition."""
    first = nights.load_file("kh_gdi_deportations", "kh_gdi_deportations_2025-04-14.csv", KH_LOAD6, LOAD6)
    build_warehouse(nights.settings)
    assert nights.deportation("KH-GDI-060-2")["_partition_key"] == "xing_poipet_aranyaprathet|IND|2025-04-12"
    con = duckdb.connect(str(nights.settings.build_db))
    try:  # what the loader does with a revision: old rows out, new rows in, raw._files names the old sha
        con.execute("delete from raw.kh_gdi_deportations where _file_sha256 = ?", [first])
        second = insert_file(
            con, nights.tables, "kh_gdi_deportations", "kh_gdi_deportations_2025-04-14.csv#2", KH_LOAD6[:1],
            load_id="load-7", loaded_at=LOAD7,
        )  # fmt: skip
        con.execute(
            "update raw._files set revision = 2, supersedes = ? where file_sha256 = ?", [first, second]
        )
    finally:
        con.close()
    build_warehouse(nights.settings)
    gone = "select count(*) from {} where {} = 'KH-GDI-060-2'"
    assert rows(nights.settings.build_db, gone.format("marts.fct_deportations", "deportation_id")) == [(0,)]
    assert rows(nights.settings.build_db, gone.format("marts.fct_figure_claims", "fact_key")) == [(0,)]
    assert rows(nights.settings.build_db, gone.format("intermediate.int_lineage", "mart_key")) == [(0,)]
    nights.assert_equals_full_rebuild()


LOAD8 = datetime(2025, 4, 21, 2, 0)
LOAD9 = datetime(2025, 4, 22, 2, 0)
THAI = "xing_poipet_aranyaprathet|THA"


def rebuilt_partitions(settings: Settings, model: str) -> set[str]:
    """The partitions the last build of ``model`` rebuilt: the literal list its compiled SQL keeps."""
    path = next((dbt_target_dir(settings) / "compiled" / "borderwatch" / "models").rglob(f"{model}.sql"))
    listed = re.findall(r"_partition_key in \(([^)]*)\)", path.read_text())[-1]
    return set(re.findall(r"'([^']*)'", listed))


def test_a_bulletin_line_of_the_day_before_takes_a_thai_reception_across_days(nights: Nights) -> None:
    """Partitions are days: a reception alone on 20 April is its own batch in day 20; the Cambodian line of
    19 April that arrives the next night matches it, so the batch moves to day 19 and day 20 loses it. The
    night rebuilds the days 17-21 of that crossing|nationality and nothing else: what a night costs does
    not grow with the days of history behind it."""
    reception = _th("IMM-68-0070", "2025-04-20", "20 เม.ย. 2568", "ด่านอรัญประเทศ", "ไทย", 14, 13, 27, "กัมพูชา")
    nights.load("th_imm_receptions", "th_imm_receptions_2025-04-20.csv", [reception], LOAD8)
    build_warehouse(nights.settings)
    alone = nights.deportation("TH-IMM-68-0070")
    assert (alone["reported_by"], alone["_partition_key"]) == ("receiving", f"{THAI}|2025-04-20")

    line = _kh("GDI-070", 1, "19/04/2025", "Poipet", "Thai", 14, 13, 27, "Thailand")
    nights.load("kh_gdi_deportations", "kh_gdi_deportations_2025-04-20.csv", [line], LOAD9)
    build_warehouse(nights.settings)
    batch = nights.deportation("KH-GDI-070-1")
    assert (batch["reported_by"], batch["received_date"].isoformat()) == ("both", "2025-04-20")
    assert batch["_partition_key"] == f"{THAI}|2025-04-19"
    db = nights.settings.build_db
    assert rows(
        db, "select count(*) from marts.fct_deportations where deportation_id = 'TH-IMM-68-0070'"
    ) == [(0,)]
    days = {f"{THAI}|2025-04-{day}" for day in range(17, 22)}
    for model in ("int_deportations_matched", "fct_deportations"):
        assert rebuilt_partitions(nights.settings, model) == days, model
    assert rebuilt_partitions(nights.settings, "fct_figure_claims") == {f"dep|{key}" for key in days}
    nights.assert_equals_full_rebuild()
