"""Expectation suites under version control (``expectations/*.json``) and the parameters they need.

Suites are stored in GX's own JSON suite format; each expectation carries ``meta.severity``
(``block`` or ``warn``) and ``meta.check`` (a stable name used in reports). ``meta.borderwatch`` on
the suite names the table the suite validates. Values that change per run (the minimum row count
allowed against the published version) are GX suite parameters filled in by
:func:`expectation_parameters`; the per-feed health suite is generated from the feed specs.
Freshness is not here: ``dbt source freshness`` judges it against the thresholds declared in the dbt
sources (the checkpoint only sets its severity).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

SEVERITIES = ("block", "warn")
DEFAULT_MAX_SHRINK = 0.5
CHECKPOINT_FILE = "checkpoint.json"
FEED_HEALTH_SUITE = "feed_health"


class SuiteError(ValueError):
    """A suite file is unreadable or malformed; the message names the file, expectation and fix."""


@dataclass(frozen=True)
class SuiteSpec:
    """One suite as stored: the GX suite dict plus the table it validates."""

    name: str
    schema: str
    table: str
    suite: dict[str, Any]
    path: Path | None = None

    @property
    def expectations(self) -> list[dict[str, Any]]:
        return list(self.suite.get("expectations", []))


@dataclass(frozen=True)
class GateConfig:
    """The checkpoint definition (``expectations/checkpoint.json``)."""

    name: str = "borderwatch_publication_gate"
    result_format: str = "SUMMARY"
    max_shrink_share: float = DEFAULT_MAX_SHRINK
    freshness_severity: str = "warn"
    extra: dict[str, Any] = field(default_factory=dict)


def load_gate_config(expectations_dir: Path) -> GateConfig:
    """Read the checkpoint definition; a missing file means defaults."""
    path = expectations_dir / CHECKPOINT_FILE
    if not path.is_file():
        return GateConfig()
    data = _read_json(path)
    freshness = data.get("freshness", {})
    shrink = float(data.get("max_shrink_share", DEFAULT_MAX_SHRINK))
    if not 0 <= shrink <= 1:
        raise SuiteError(f"{path}: max_shrink_share must be between 0 and 1, got {shrink}")
    return GateConfig(
        name=str(data.get("name", GateConfig.name)),
        result_format=str(data.get("result_format", "SUMMARY")),
        max_shrink_share=shrink,
        freshness_severity=_severity(freshness.get("severity", "warn"), path, "freshness"),
        extra=data,
    )


def load_suites(expectations_dir: Path) -> list[SuiteSpec]:
    """Every suite file in the folder, validated (severity, check names, target table)."""
    paths = sorted(p for p in expectations_dir.glob("*.json") if p.name != CHECKPOINT_FILE)
    if not paths:
        raise SuiteError(f"{expectations_dir}: no expectation suites (*.json) found")
    suites = [_load_suite(p) for p in paths]
    names = [s.name for s in suites]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SuiteError(f"{expectations_dir}: duplicate suite names {dupes}; suite names must be unique")
    return suites


def _load_suite(path: Path) -> SuiteSpec:
    data = _read_json(path)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise SuiteError(f"{path}: 'name' is missing; give the suite a name")
    target = (data.get("meta") or {}).get("borderwatch") or {}
    if not target.get("table"):
        raise SuiteError(f"{path}: meta.borderwatch.table is missing; name the table this suite validates")
    expectations = data.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{path}: 'expectations' must be a non-empty list")
    for index, exp in enumerate(expectations):
        where = f"{path}: expectations[{index}]"
        if not isinstance(exp, dict) or "type" not in exp:
            raise SuiteError(f"{where}: each expectation needs a 'type' and 'kwargs'")
        meta = exp.setdefault("meta", {})
        meta["severity"] = _severity(meta.get("severity"), path, f"expectations[{index}]")
        meta.setdefault("check", f"{name}.{exp['type']}.{index}")
    return SuiteSpec(
        name=name, schema=target.get("schema", "marts"), table=target["table"], suite=data, path=path
    )


def _severity(value: Any, path: Path, where: str) -> str:
    if value not in SEVERITIES:
        raise SuiteError(f"{path}: {where}: meta.severity must be one of {SEVERITIES}, got {value!r}")
    return str(value)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read suite JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: a suite file must hold a JSON object")
    return data


def feed_health_suite(feeds: list[str], *, severity: str = "block") -> SuiteSpec:
    """Per feed, three rules over ``raw._loads`` (the latest load per feed and source: pull, inbox):

    - ``feed_health.<feed>`` (block): a latest load failed because what arrived is wrong (schema drift,
      reject rate, an unreadable file). Publishing would serve that feed's stale figures as current.
    - ``feed_source.<feed>`` (warn): the latest pull could not reach the agency. Its figures are stale,
      not wrong, and its inbox files still load, so the other feeds publish.
    - ``feed_awaiting.<feed>`` (warn): the feed has never delivered a row ("awaiting first delivery";
      its raw tables exist, empty, from its spec), so onboarding a feed never holds publication.
    """
    expectations = []
    latest = (
        "select feed, load_id, report->>'source' as source, report->>'status' as status, "
        "coalesce(report->>'failure_kind', 'data') as failure_kind, report->>'error' as error "
        "from {{batch}} where feed = '{feed}' "
        "qualify row_number() over (partition by report->>'source' "
        "order by started_at desc, load_id desc) = 1"
    )
    for feed in sorted(feeds):
        quoted = feed.replace("'", "''")
        base = latest.format(feed=quoted)
        rules = [
            (
                f"feed_health.{feed}",
                severity,
                f"select * from ({base}) where status = 'failed' and failure_kind <> 'source'",
            ),
            (
                f"feed_source.{feed}",
                "warn",
                f"select * from ({base}) where status = 'failed' and failure_kind = 'source'",
            ),
            (
                f"feed_awaiting.{feed}",
                "warn",
                f"select '{quoted}' as feed, 'awaiting first delivery' as state from (select 1) as one "
                f"where not exists (select 1 from {{batch}} where feed = '{quoted}' "
                "and try_cast(report->>'rows_loaded' as bigint) > 0)",
            ),
        ]
        for check, level, query in rules:
            expectations.append(
                {
                    "type": "unexpected_rows_expectation",
                    "kwargs": {"unexpected_rows_query": query},
                    "meta": {"check": check, "severity": level},
                }
            )
    suite = {
        "name": FEED_HEALTH_SUITE,
        "expectations": expectations,
        "notes": "Per feed: no data failure in its latest loads (block); source reachable and first "
        "delivery made (warn). Source: raw._loads.",
        "meta": {"borderwatch": {"schema": "raw", "table": "_loads"}},
    }
    return SuiteSpec(name=FEED_HEALTH_SUITE, schema="raw", table="_loads", suite=suite)


def expectation_parameters(
    suites: list[SuiteSpec], published_row_counts: dict[str, int], *, today: date, max_shrink_share: float
) -> dict[str, Any]:
    """Values for ``$PARAMETER`` references: dates and the volume floor per table.

    A table may shrink by at most ``max_shrink_share`` against the current publication; with no
    publication (first run) or a table that is new, the floor is 0.
    """
    params: dict[str, Any] = {
        "today": today.isoformat(),
        "max_plausible_date": date(today.year + 1, 12, 31).isoformat(),
    }
    for spec in suites:
        previous = published_row_counts.get(spec.table, 0)
        params[f"min_rows__{spec.table}"] = math.ceil(previous * (1 - max_shrink_share)) if previous else 0
    return params


def published_row_counts(manifest_path: Path) -> dict[str, int]:
    """Row counts of the current publication, from its manifest (empty when nothing is published)."""
    if not manifest_path.is_file():
        return {}
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(
            f"{manifest_path}: the current publication's manifest is unreadable ({exc}); "
            "roll back to a complete version with `borderwatch rollback`"
        ) from exc
    counts = data.get("row_counts", {})
    return {_bare_table(k): int(v) for k, v in counts.items()}


def _bare_table(name: str) -> str:
    return name.split(".")[-1]
