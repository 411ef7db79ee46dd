"""The figures the warehouse must reproduce and the disagreements it must flag."""

from __future__ import annotations

from typing import Any

from borderwatch.simulator.scenario.deportations import KH_RESEND, SCENARIO_BATCHES
from borderwatch.simulator.scenario.mfa import MFA_MARCH
from borderwatch.simulator.scenario.nbtc import P12_SIMS, P13_NAMED, P13_PREVIOUS_TOTAL, P13_TOTAL, P14_LINKS
from borderwatch.simulator.scenario.rtp import (
    P1_OPERATION_ID,
    P3_OPERATION_ID,
    POIPET_RAID_ID,
    REVISED_IDS,
    TOMBSTONED_IDS,
)

# --------------------------------------------------------------------------------------------------
# Figures the warehouse must reproduce
# --------------------------------------------------------------------------------------------------


def expected_figures() -> dict[str, Any]:
    """The public figures the scenario encodes, where each lives, and the designed data problems.

    Independent of seed and scale (background never touches them). Keys are the ``ref_id`` of
    ``public_figures.csv`` plus a few scenario facts (conflicts, one-sided batches, revisions).
    """
    march = {code: (label, a, r) for label, code, a, r in MFA_MARCH}
    mfa = "mfa_assistance_2025-03.xlsx"
    return {
        "S1": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "ALL",
            "metric": "persons_assisted_cumulative",
            "value": 7372,
        },
        "S2": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "ALL",
            "metric": "persons_repatriated_cumulative",
            "value": 4895,
        },
        "S3": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "CHN",
            "label": march["CHN"][0],
            "metric": "persons_assisted_cumulative",
            "value": 3634,
        },
        "S4": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "IDN",
            "label": march["IDN"][0],
            "metric": "persons_assisted_cumulative",
            "value": 653,
        },
        "S5": {
            "feed": "mfa_assistance",
            "file": mfa,
            "as_of": "2025-03-31",
            "nationality": "IND",
            "label": march["IND"][0],
            "metric": "persons_assisted_cumulative",
            "value": 549,
        },
        "S6": {
            "feeds": ["kh_gdi_deportations", "th_imm_receptions"],
            "month": "2025-03",
            "nationality": "THA",
            "kh_checkpoint": "Poipet (KH-1)",
            "th_checkpoint": "ด่านอรัญประเทศ (TH-27)",
            "metric": "persons_deported",
            "value": 93,
            "batches": [
                {
                    "kh_date": b.kh_day.isoformat(),
                    "th_date": b.th_day.isoformat() if b.th_day else None,
                    "total": b.total,
                }
                for b in SCENARIO_BATCHES[:3]
            ],
        },
        "mfa_2025-03_by_nationality": {
            code: {"label": label, "assisted": a, "repatriated": r} for code, (label, a, r) in march.items()
        },
        "P1": {
            "feed": "rtp_raids",
            "operation_id": P1_OPERATION_ID,
            "metric": "persons_rescued",
            "value": 53,
        },
        "P3": {
            "feed": "rtp_raids",
            "operation_id": P3_OPERATION_ID,
            "metric": "persons_detained",
            "value": 1303,
        },
        "P4": {
            "feed": "mfa_assistance",
            "date": "2025-02-20",
            "nationality": "CHN",
            "status": "executed",
            "metric": "persons_repatriated",
            "value": 200,
            "legs": 4,
        },
        "P5": {
            "feed": "mfa_assistance",
            "from": "2025-02-20",
            "to": "2025-02-22",
            "nationality": "CHN",
            "status": "executed",
            "metric": "persons_repatriated",
            "value": 621,
        },
        "P6": {
            "feed": "mfa_assistance",
            "from": "2025-03-06",
            "to": "2025-03-09",
            "nationality": "CHN",
            "status": "executed",
            "metric": "persons_repatriated",
            "value": 1439,
        },
        "P8": {
            "feed": "mfa_assistance",
            "date": "2025-02-27",
            "nationality": "IDN",
            "status": "executed",
            "mode": "bridge",
            "metric": "persons_crossed",
            "value": 84,
        },
        "P9": {
            "feed": "mfa_assistance",
            "to": "2025-03-06",
            "nationality": "IDN",
            "status": "executed",
            "metric": "persons_repatriated_cumulative",
            "value": 130,
        },
        "P10": {
            "feed": "mfa_assistance",
            "date": "2025-03-18",
            "nationality": "IDN",
            "departure": "Don Mueang",
            "executed": 400,
            "planned": 554,
            "value": 400,
        },
        "P12": {
            "feed": "nbtc_telecom",
            "month": "2024-07",
            "province": "ALL",
            "action_type": "sims_suspended",
            "value": P12_SIMS,
        },
        "P13": {
            "feed": "nbtc_telecom",
            "month": "2025-01",
            "action_type": "numbers_suspended",
            "value": P13_TOTAL,
            "by_province": dict(P13_NAMED),
            "previous_month": "2024-12",
            "previous_value": P13_PREVIOUS_TOTAL,
        },
        "P14": {
            "feed": "nbtc_telecom",
            "month": "2025-06",
            "province": "ALL",
            "action_type": "cross_border_links_suspended",
            "value": P14_LINKS,
        },
        "poipet_raid": {
            "feed": "rtp_raids",
            "operation_id": POIPET_RAID_ID,
            "country": "KHM",
            "persons_detained": 215,
            "thai_in_breakdown": 93,
            "revisions": 2,
        },
        "kh_th_conflict": {
            "kh_date": "2025-04-10",
            "th_date": "2025-04-11",
            "kh_checkpoint": "Cham Yeam",
            "th_checkpoint": "ด่านหาดเล็ก",
            "kh_total": 41,
            "th_total": 39,
        },
        "kh_only_batches": [{"kh_date": "2025-05-20", "kh_checkpoint": "O Smach", "total": 12}],
        "th_only_batches": [{"th_date": "2025-06-11", "th_checkpoint": "ด่านอรัญประเทศ", "total": 22}],
        "duplicate_delivery": {
            "feed": "kh_gdi_deportations",
            "original": "kh_gdi_deportations_2025-03-14.csv",
            "resend": KH_RESEND[1],
        },
        "rtp_revised_ids": list(REVISED_IDS),
        "rtp_tombstoned_ids": list(TOMBSTONED_IDS),
    }
