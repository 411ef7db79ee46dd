"""The disagreement classes C1-C10 of issue 9 in the default scenario: what each looks like in the feeds.

Independent of seed and scale (background never touches them). ``rule`` is the ``fct_reconciliation``
rule the warehouse should report for it (``None`` where the class is not a reconciliation check);
``left`` / ``right`` give the two sides with the feed and record keys they come from.
"""

from __future__ import annotations

from typing import Any

from borderwatch.simulator.scenario.deportations import SCENARIO_BATCHES
from borderwatch.simulator.scenario.incidents import (
    C1_EXPLICIT,
    C1_LINK,
    C1_RULE,
    C1_UNLINK,
    C2_RAID_ID,
    C8_ARREST_ONLY,
    C9_NCCT_LABEL,
    C9_NCCT_REPORT,
    C9_RTP_LABEL,
    SCENARIO_NCCT_REPORTS,
)
from borderwatch.simulator.scenario.mfa import NO_TOTAL_ROW_MONTH, SUMMARY_NOTES
from borderwatch.simulator.scenario.movements import (
    C3_GAP,
    PLAN_CHN_ROUND3,
    PLAN_IDN,
    ROUND3_PLANNED_FLIGHTS,
    ROUND3_STATED_TOTAL,
    c3_legs,
)


def expected_disagreements() -> dict[str, dict[str, Any]]:
    """C1-C10 keyed by class id; numbers are the scenario's invented ones."""
    ncct = {r.report_id: r for r in SCENARIO_NCCT_REPORTS}
    (c3_ym, c3_code), c3_gap = next(iter(C3_GAP.items()))
    c3_moved = sum(m.persons for m in c3_legs())
    c2_batch = next(b for b in SCENARIO_BATCHES if b.kh_remark == C2_RAID_ID)
    return {
        "C1": {
            "rule": "raid_reports_disagree",
            "explicit_ref": {
                "reports": list(C1_EXPLICIT),
                "left": {"feed": "rtp_raids", "metric": "persons_detained", "value": 215},
                "right": {"feed": "kh_ncct_raids", "metric": "persons_rescued", "value": 228},
            },
            "rule_only": {
                "reports": list(C1_RULE),
                "left": {"feed": "rtp_raids", "metric": "persons_detained", "value": 36},
                "right": {"feed": "kh_ncct_raids", "metric": "persons_rescued", "value": 38},
                "site": "Cham Yeam casino",
                "dates": ["2025-04-08", "2025-04-09"],
            },
            "analyst_unlink": {"reports": list(C1_UNLINK), "dates": ["2025-05-10", "2025-05-11"]},
            "analyst_link": {
                "reports": list(C1_LINK),
                "sites": ["O'Smach casino resort", "Golden Crown casino, Ou Smach"],
                "thai": 41,
            },
        },
        "C2": {
            "rule": "raid_vs_deportation",
            "raid": C2_RAID_ID,
            "nationality": "THA",
            "left": {"feed": "rtp_raids", "metric": "persons_detained", "value": 30},  # Thai in the raid
            "right": {
                "feed": "kh_gdi_deportations",
                "metric": "persons_deported",
                "value": c2_batch.total,
                "date": c2_batch.kh_day.isoformat(),
                "remarks": C2_RAID_ID,
            },
        },
        "C3": {
            "rule": "legs_vs_snapshot",
            "nationality": c3_code,
            "as_of": ["2025-03-31", f"{c3_ym[0]}-{c3_ym[1]:02d}-30"],
            "gap": c3_gap,
            "designed_legs": c3_moved,
            "note": "snapshot change = all executed legs of the month + gap (background legs included)",
        },
        "C4": {
            "rule": "period_vs_legs",
            "nationality": "CHN",
            "period": ["2025-03-13", "2025-03-14"],
            "left": {
                "metric": "persons_repatriated",
                "row_type": "period_total",
                "value": ROUND3_STATED_TOTAL,
            },
            "right": {"metric": "persons_repatriated", "row_type": "leg", "value": 810},
        },
        "C5": {
            "plan_vs_execution": {
                "rule": "plan_vs_execution",
                "plan_id": PLAN_IDN,
                "left": {"metric": "persons_planned", "value": 554},
                "right": {"metric": "persons_repatriated", "value": 400},
            },
            "plan_vs_schedule": {
                "rule": "plan_vs_schedule",
                "plan_id": PLAN_CHN_ROUND3,
                "left": {"metric": "flights_planned", "value": ROUND3_PLANNED_FLIGHTS},
                "right": {"metric": "flights_scheduled", "value": ROUND3_PLANNED_FLIGHTS - 1},
            },
        },
        "C6": {
            "rule": "derived_vs_stated_total",
            "file": f"mfa_assistance_{NO_TOTAL_ROW_MONTH[0]}-{NO_TOTAL_ROW_MONTH[1]:02d}.xlsx",
            "figure_origin": "derived",
        },
        "C7": {
            "raid_minor_cells": {
                C1_UNLINK[0]: [("THA", "F", "minor", 2)],
                C1_UNLINK[1]: [("THA", "F", "minor", 2)],
                C1_EXPLICIT[1]: [("THA", "F", "minor", 3), ("VNM", "F", "minor", 9)],
                C9_NCCT_REPORT: [("VNM", "F", "minor", 14)],  # at or over k = 11: published
            },
            "deportation_minors": {"kh_gdi_deportations": 3, "th_imm_receptions": 3, "date": "2025-04-10"},
            "stated_zero": {"kh_gdi_deportations": 0, "date": "2025-03-08"},
        },
        "C8": {"arrest_only": list(C8_ARREST_ONLY), "arrested": {C8_ARREST_ONLY[0]: 4, C8_ARREST_ONLY[1]: 6}},
        "C9": {
            "rule": "unknown_label",
            "kh_ncct_raids": {"report_id": C9_NCCT_REPORT, "label": C9_NCCT_LABEL, "column": "age_group"},
            "rtp_raids": {"operation_id": C1_LINK[0], "label": C9_RTP_LABEL, "field": "age_group"},
        },
        "C10": {
            "kh_ncct_raids": {r: ncct[r].summary for r in (C1_EXPLICIT[1], C8_ARREST_ONLY[1])},
            "mfa_assistance": {
                "Summary": SUMMARY_NOTES["UNVERIFIED"],
                "Movements": "round 3 total as announced",
            },
        },
    }
