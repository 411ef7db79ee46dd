"""The simulator's payloads meet the real loader: dropped into an inbox, each gets its named fate.

The feed contract end to end (issue 9): a KH-NCCT line with an unknown age label is quarantined with the
contract's reason and nothing else of its file is lost; raids arrive as dropped ``rtp_raids*.json`` pages;
files carrying the new optional columns load them, and the public-report payloads load whole.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import public_reports

from borderwatch.config import Settings
from borderwatch.ingest import ingest_inbox
from borderwatch.simulator.scenario import build_scenario, expected_disagreements, write_rtp_pages

C9 = expected_disagreements()["C9"]["kh_ncct_raids"]


def _drop_scenario_files(inbox: Path) -> None:
    scenario = build_scenario(seed=7, scale=0)
    picks = {
        "kh_ncct_raids": ("kh_ncct_raids_2025-07-18.csv", "kh_ncct_raids_2025-03-05.csv"),
        "kh_gdi_deportations": ("kh_gdi_deportations_2025-04-10.csv",),
        "th_imm_receptions": ("th_imm_receptions_2025-04-11.csv",),
        "mfa_assistance": ("mfa_assistance_2025-03.xlsx", "mfa_assistance_2025-05.xlsx"),
    }
    for feed, names in picks.items():
        for f in scenario.files[feed]:
            if f.name in names:
                (inbox / f.name).write_bytes(f.read_bytes())
    write_rtp_pages(inbox, seed=7, scale=0, inbox_names=True)


def _db(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.home / "warehouse" / "build.duckdb"), read_only=True)


def test_scenario_files_dropped_in_the_inbox_get_their_named_fates(bw_settings: Settings) -> None:
    inbox = bw_settings.home / "inbox"
    _drop_scenario_files(inbox)
    reports = ingest_inbox(bw_settings)
    assert {r.feed: r.status for r in reports} == {
        "kh_ncct_raids": "loaded",
        "kh_gdi_deportations": "loaded",
        "th_imm_receptions": "loaded",
        "mfa_assistance": "loaded",
        "rtp_raids": "loaded",
    }
    with _db(bw_settings) as con:
        quarantined = con.sql("select file_name, reason from raw._quarantine").fetchall()
        assert quarantined == [
            (
                "kh_ncct_raids_2025-07-18.csv",
                "line 26: unknown label 'teen' for age_group (accepted: adult, minor, unknown)",
            )
        ]
        ncct = con.sql(
            "select report_id, count(*), list(distinct age_group order by age_group) "
            "from raw.kh_ncct_raids group by 1 order by 1"
        ).fetchall()
        assert ncct == [
            ("KH-NCCT-2025-0031", 8, ["adult", "minor"]),
            (C9["report_id"], 24, ["adult", "minor"]),  # 25 lines, the "teen" one quarantined
        ]
        assert con.sql(
            "select sex, age_group from raw.kh_ncct_raids "
            "where report_id = 'KH-NCCT-2025-0031' and line_no = 3"
        ).fetchall() == [("F", "minor")]  # ស្រី / អនីតិជន
        related = con.sql("select related_reports from raw.rtp_raids where related_reports is not null")
        assert related.fetchall() == [('["KH-NCCT-2025-0031"]',)]
        assert con.sql(
            "select count(*) from raw.rtp_raids where operation_id = 'RTP-2025-000060'"
        ).fetchall() == [(1,)]
        assert con.sql("select remarks, minors from raw.kh_gdi_deportations").fetchall() == [
            ("RTP-2025-000044", 3)
        ]
        assert con.sql("select minors from raw.th_imm_receptions").fetchall() == [(3,)]
        periods = con.sql(
            "select persons, period_start::varchar, flights from raw.mfa_assistance_movements "
            "where row_type = 'period_total'"
        ).fetchall()
        assert periods == [(806, "2025-03-13", 10)]
        totals = con.sql(
            "select as_of_date::varchar, count(*) from raw.mfa_assistance_snapshots "
            "where is_total_row group by 1"
        ).fetchall()
        assert totals == [("2025-03-31", 1)]  # the May workbook has none (C6)
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []


def test_public_report_payloads_load_whole(bw_settings: Settings) -> None:
    public_reports.write_to_inbox(bw_settings.home / "inbox")
    reports = ingest_inbox(bw_settings)
    assert {r.feed: r.status for r in reports} == {
        f.feed: "loaded" for f in public_reports.public_report_files()
    }
    with _db(bw_settings) as con:
        assert con.sql("select count(*) from raw._quarantine").fetchall() == [(0,)]
        assert con.sql("select persons_detained from raw.kh_ncct_raids").fetchall() == [(230,)]
        assert con.sql("select persons_rescued from raw.rtp_raids").fetchall() == [(215,)]
        assert con.sql("select count(*), sum(persons) from raw.mfa_assistance_movements").fetchall() == [
            (len(public_reports.movements_rows()), sum(r[9] for r in public_reports.movements_rows()))
        ]
