"""NBTC telecom enforcement: monthly NDJSON files."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime

from borderwatch.simulator.scenario.common import (
    NBTC_ACTIONS,
    Chunks,
    ScenarioFile,
    _months,
    _rng,
    _ts,
    iso_ts,
)
from borderwatch.simulator.scenario.places import PROVINCES

# --------------------------------------------------------------------------------------------------
# NBTC: monthly NDJSON
# --------------------------------------------------------------------------------------------------

NBTC_MONTHS = tuple(_months((2024, 1), (2025, 11)))
P13_NAMED = {"Sa Kaeo": 7331, "Chiang Rai": 4231, "Nong Khai": 3898, "Narathiwat": 2534, "Bangkok": 511}
P13_TOTAL = 28112
P13_PREVIOUS_TOTAL = 23057
P12_SIMS = 2141317
P14_LINKS = 14
# (month, action) pairs the scenario owns: background never adds rows to them.
NBTC_SCENARIO_KEYS = {
    ((2024, 7), "sims_suspended"),
    ((2024, 12), "numbers_suspended"),
    ((2025, 1), "numbers_suspended"),
    ((2025, 6), "cross_border_links_suspended"),
}


def _spread(total: int, names: list[str], rng: random.Random) -> dict[str, int]:
    """Split ``total`` over ``names`` with positive parts that sum exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in names]
    parts = [max(1, int(total * w / sum(weights))) for w in weights]
    parts[0] += total - sum(parts)
    return dict(zip(names, parts, strict=True))


def _nbtc_scenario_rows(ym: tuple[int, int]) -> list[tuple[str, str, int, bool]]:
    """(province label, action, count, BE month?) rows behind P12, P13 and P14; fixed, not seed-dependent."""
    others = [en for en, _th in PROVINCES if en not in P13_NAMED]
    thai = dict(PROVINCES)
    if ym == (2024, 7):
        return [("ALL", "sims_suspended", P12_SIMS, False)]
    if ym == (2024, 12):
        parts = _spread(P13_PREVIOUS_TOTAL, [en for en, _ in PROVINCES[:25]], random.Random("P13-previous"))
        return [(p, "numbers_suspended", n, False) for p, n in parts.items()]
    if ym == (2025, 1):
        rest = _spread(P13_TOTAL - sum(P13_NAMED.values()), others[:20], random.Random("P13-rest"))
        rows = [(p, "numbers_suspended", n, False) for p, n in {**P13_NAMED, **rest}.items()]
        # Some labels in Thai script and some months in Buddhist Era, as NBTC sends them.
        return [
            (thai[p] if p in ("Chiang Rai", "Surin") else p, a, n, p in ("Nong Khai", "Loei", "Yala"))
            for p, a, n, _be in rows
        ]
    if ym == (2025, 6):
        return [("ALL", "cross_border_links_suspended", P14_LINKS, False)]
    return []


_NBTC_RANGES = {
    "sims_suspended": (500, 60000),
    "numbers_suspended": (50, 6000),
    "cross_border_links_suspended": (0, 4),
    "towers_removed": (0, 30),
}


def _nbtc_lines(seed: int, scale: float, ym: tuple[int, int], reported_at: str) -> Iterator[str]:
    month_ce = f"{ym[0]}-{ym[1]:02d}"
    month_be = f"{ym[0] + 543}-{ym[1]:02d}"

    def line(province: str, action: str, count: int, be: bool) -> str:
        record = {
            "month": month_be if be else month_ce,
            "province": province,
            "action_type": action,
            "count": count,
            "reported_at": reported_at,
        }
        return json.dumps(record, ensure_ascii=False)

    for province, action, count, be in _nbtc_scenario_rows(ym):
        yield line(province, action, count, be)
    if scale <= 0:
        return
    rng = _rng(seed, "nbtc", month_ce)
    per_action = min(len(PROVINCES), max(1, round(8 * scale)))
    be_month = rng.random() < 0.25  # whole files sometimes come in BE
    for action in NBTC_ACTIONS:
        if (ym, action) in NBTC_SCENARIO_KEYS:
            continue
        low, high = _NBTC_RANGES[action]
        for en, th in sorted(rng.sample(PROVINCES, per_action)):
            label = th if rng.random() < 0.15 else en
            yield line(label, action, rng.randint(low, high), be_month)


def _nbtc_files(seed: int, scale: float) -> list[ScenarioFile]:
    files = []
    for ym in NBTC_MONTHS:
        if scale <= 0 and not _nbtc_scenario_rows(ym):
            continue  # no background at scale 0: no empty monthly files either
        published = _ts(date(ym[0] + ym[1] // 12, ym[1] % 12 + 1, 5), 9)

        def render(ym: tuple[int, int] = ym, published: datetime = published) -> Chunks:
            lines = _nbtc_lines(seed, scale, ym, iso_ts(published))
            buf, rows = [], 0
            for text in lines:
                buf.append(text + "\n")
                rows += 1
            yield "".join(buf).encode("utf-8"), rows

        files.append(
            ScenarioFile("nbtc_telecom", f"nbtc_telecom_{ym[0]}-{ym[1]:02d}.ndjson", published, render)
        )
    return files
