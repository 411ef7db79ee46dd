"""Asset events per published mart: which marts a publication changed, and the events that say so.

The publisher's manifest holds, per published relation, its row count and an order-independent content
fingerprint (``content``: ``"<rows>:<hash sum>"``). Comparing the new manifest with the one served before
tells which marts changed; each changed mart gets one event on ``borderwatch://warehouse/marts/<mart>``
(through the ``borderwatch_changed_marts`` alias, so unchanged marts get none) with the version and the
row count in ``extra``. Imported inside task bodies only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MART_SCHEMA = "marts"


def _marts(manifest: Mapping[str, Any] | None) -> dict[str, str]:
    """``{mart: fingerprint}`` of the ``marts`` schema in a manifest (``{}`` before the first publication)."""
    content = (manifest or {}).get("content") or {}
    prefix = f"{MART_SCHEMA}."
    return {
        name.removeprefix(prefix): str(value) for name, value in content.items() if name.startswith(prefix)
    }


def changed_marts(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The ``extra`` of one event per mart whose fingerprint differs from the previous publication's.

    A mart that is new, or whose rows changed in any way, counts as changed; a removed mart emits nothing.
    """
    before, after = _marts(previous), _marts(current)
    counts = current.get("row_counts") or {}
    return {
        mart: {
            "version": current.get("version"),
            "row_count": int(counts.get(f"{MART_SCHEMA}.{mart}", counts.get(mart, 0))),
            "fingerprint": fingerprint,
            "previous_version": (previous or {}).get("version"),
        }
        for mart, fingerprint in sorted(after.items())
        if before.get(mart) != fingerprint
    }


def read_manifest(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def announce_mart_events(
    previous: Mapping[str, Any] | None, publication: Mapping[str, Any], outlet_events: Any
) -> dict[str, dict[str, Any]]:
    """Attach one asset event per changed mart to the alias; returns what was announced."""
    from airflow.sdk import AssetAlias

    from borderwatch.orchestration.factory import MART_ALIAS_NAME, mart_asset

    current = read_manifest(publication["manifest_path"])
    changed = changed_marts(previous, current)
    for mart, extra in changed.items():
        outlet_events[AssetAlias(MART_ALIAS_NAME)].add(mart_asset(mart), extra=extra)
    return changed
