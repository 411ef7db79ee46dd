"""Tell someone the gate blocked publication: a pluggable notifier with an alert-file fallback.

``borderwatch.pipeline`` decides "blocked" and calls :func:`notify_failure` once per blocked run; the
gate itself only judges and never notifies.
"""

from __future__ import annotations

import importlib
import logging
import os
from importlib.metadata import entry_points
from pathlib import Path

from borderwatch.gate.result import GateError, GateResult, write_json

logger = logging.getLogger(__name__)

NOTIFIER_ENV = "BORDERWATCH_NOTIFIER"
NOTIFIER_ENTRY_POINT_GROUP = "borderwatch.notifiers"
_NOTIFIED: set[str] = set()


def notify_failure(gate_result: GateResult) -> None:
    """Tell someone the gate blocked publication.

    Uses ``BORDERWATCH_NOTIFIER=module:function`` if set, else the first entry point in group
    ``borderwatch.notifiers``, else :func:`default_notifier`. A broken notifier must never hide the
    verdict, so its errors are logged and the default runs instead. Called by
    ``borderwatch.pipeline.block_if_failed``; a second call for the same run in this process is a no-op.
    """
    if gate_result.run_id:
        if gate_result.run_id in _NOTIFIED:
            return
        _NOTIFIED.add(gate_result.run_id)
    target = os.environ.get(NOTIFIER_ENV, "").strip()
    try:
        if target:
            module_name, _, func_name = target.partition(":")
            if not func_name:
                raise GateError(f"{NOTIFIER_ENV}={target!r}: expected 'module:function'")
            getattr(importlib.import_module(module_name), func_name)(gate_result)
            return
        plugins = sorted(entry_points(group=NOTIFIER_ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        if plugins:
            plugins[0].load()(gate_result)
            return
    except Exception:
        logger.exception(
            "notifier %r failed; falling back to the default alert file", target or "entry point"
        )
    default_notifier(gate_result)


def default_notifier(gate_result: GateResult) -> Path:
    """Log one line and write ``reports/alerts/gate-<run_id>.json`` next to the gate reports."""
    reports_dir = _reports_dir_of(gate_result)
    alerts = reports_dir / "alerts"
    alerts.mkdir(parents=True, exist_ok=True)
    path = alerts / f"gate-{gate_result.run_id}.json"
    logger.error(
        "quality gate blocked publication (run %s): %s; report %s",
        gate_result.run_id,
        ", ".join(gate_result.blocking_failures) or "see report",
        gate_result.summary_path,
    )
    write_json(
        path,
        {
            "kind": "gate_failed",
            "run_id": gate_result.run_id,
            "blocking_failures": gate_result.blocking_failures,
            "warnings": gate_result.warnings,
            "summary_path": str(gate_result.summary_path),
            "data_docs_path": str(gate_result.data_docs_path) if gate_result.data_docs_path else None,
        },
    )
    return path


def _reports_dir_of(gate_result: GateResult) -> Path:
    """summary_path is reports/gate/<run_id>/summary.json; alerts live in reports/alerts."""
    if gate_result.summary_path is not None:
        return Path(gate_result.summary_path).parents[2]
    from borderwatch.config import get_settings

    return get_settings().reports_dir
