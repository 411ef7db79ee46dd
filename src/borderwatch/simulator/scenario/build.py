"""Building the whole scenario and writing its payloads to disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from borderwatch.simulator.scenario.common import DEFAULT_UNTIL, FILE_FEEDS, Scenario, iso_ts, rtp_sort_key
from borderwatch.simulator.scenario.deportations import _DayIndex, _kh_files, _th_files
from borderwatch.simulator.scenario.incidents import incident_operations
from borderwatch.simulator.scenario.mfa import _mfa_files
from borderwatch.simulator.scenario.nbtc import _nbtc_files
from borderwatch.simulator.scenario.ncct import _ncct_files
from borderwatch.simulator.scenario.rtp import background_operations, scenario_operations

# --------------------------------------------------------------------------------------------------
# Building and writing
# --------------------------------------------------------------------------------------------------


def build_scenario(seed: int = 7, scale: float = 1.0) -> Scenario:
    """The whole dataset for (seed, scale): file descriptors (bodies render lazily) and API records."""
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    index = _DayIndex(seed, scale)
    files = {
        "kh_gdi_deportations": _kh_files(seed, scale, index),
        "th_imm_receptions": _th_files(seed, scale, index),
        "mfa_assistance": _mfa_files(seed),
        "nbtc_telecom": _nbtc_files(seed, scale),
        "kh_ncct_raids": _ncct_files(seed, scale),
    }
    versions, tombstones = scenario_operations()
    versions = sorted(
        [*versions, *incident_operations(), *background_operations(seed, scale)], key=rtp_sort_key
    )
    return Scenario(seed, scale, files, versions, sorted(tombstones, key=rtp_sort_key))


@dataclass(frozen=True)
class WrittenFile:
    """What ``write_feed_files`` records about each payload (also in ``manifest.json``)."""

    feed: str
    name: str
    path: Path
    published: datetime
    size: int
    sha256: str
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "name": self.name,
            "path": str(self.path),
            "published": iso_ts(self.published),
            "size": self.size,
            "sha256": self.sha256,
            "rows": self.rows,
        }


MANIFEST_NAME = "manifest.json"


def write_scenario_files(
    scenario: Scenario,
    out_dir: Path,
    until: date | None = None,
    progress: Callable[[WrittenFile], None] | None = None,
) -> list[WrittenFile]:
    """Stream each payload dated on or before ``until`` to ``out_dir/<feed>/<name>``, plus a manifest."""
    import hashlib

    written: list[WrittenFile] = []
    for feed in FILE_FEEDS:
        feed_dir = out_dir / feed
        feed_dir.mkdir(parents=True, exist_ok=True)
        for item in scenario.files_until(feed, until):
            path = feed_dir / item.name
            digest, size, rows = hashlib.sha256(), 0, 0
            with path.open("wb") as fh:
                for chunk, n in item.render():
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    rows += n
            record = WrittenFile(feed, item.name, path, item.published, size, digest.hexdigest(), rows)
            written.append(record)
            if progress is not None:
                progress(record)
    manifest = {
        "seed": scenario.seed,
        "scale": scenario.scale,
        "until": until.isoformat() if until else None,
        "files": [w.as_dict() for w in written],
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return written


def write_feed_files(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    until: date | None = None,
    progress: Callable[[WrittenFile], None] | None = None,
) -> dict[str, list[Path]]:
    """Write every file-feed payload exactly as served (one subdirectory per feed); returns paths per feed."""
    written = write_scenario_files(build_scenario(seed, scale), Path(out_dir), until, progress)
    out: dict[str, list[Path]] = {feed: [] for feed in FILE_FEEDS}
    for w in written:
        out[w.feed].append(w.path)
    return out


def rtp_page(
    records: list[dict[str, Any]], page: int, page_size: int, *, include_paging: bool = True
) -> dict[str, Any]:
    """One API page over already filtered and ordered records (``next_page`` null on the last page)."""
    start = (page - 1) * page_size
    data = records[start : start + page_size]
    has_next = start + page_size < len(records)
    body: dict[str, Any] = {"data": data}
    if include_paging:
        body.update(page=page, page_size=page_size, total=len(records))
    body["next_page"] = page + 1 if has_next else None
    return body


def write_rtp_pages(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    until: date | None = None,
    page_size: int = 500,
    *,
    inbox_names: bool = False,
) -> list[Path]:
    """The RTP API as JSON files (``operations_page_0001.json``, ``deletions_page_0001.json``, ...).

    With ``inbox_names`` the files are named for the drop inbox (``rtp_raids_operations_page_0001.json``,
    ``rtp_raids_deletions_page_0001.json``: the ``rtp_raids*.json`` glob), so raids arrive without HTTP.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ops, tombs = build_scenario(seed, scale).rtp_state(until or DEFAULT_UNTIL)
    prefix = "rtp_raids_" if inbox_names else ""
    paths = []
    for kind, records in (("operations", ops), ("deletions", tombs)):
        pages = max(1, -(-len(records) // page_size))
        for page in range(1, pages + 1):
            path = out_dir / f"{prefix}{kind}_page_{page:04d}.json"
            path.write_text(
                json.dumps(rtp_page(records, page, page_size), ensure_ascii=False), encoding="utf-8"
            )
            paths.append(path)
    return paths
