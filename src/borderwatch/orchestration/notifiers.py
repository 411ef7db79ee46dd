"""Failure notifier for BorderWatch DAGs: log loudly and leave an alert file an operator (or a cron) can see.

A ``BaseNotifier`` so it is pluggable: swap it for a Slack/SMTP notifier in ``default_args`` without
touching the tasks. Imports only ``airflow.sdk`` and the standard library (DAG files import it at parse time).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def alert_payload(context: dict[str, Any]) -> dict[str, Any]:
    """The JSON-safe facts an on-call person needs from an Airflow callback context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    exception = context.get("exception")
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "reason": context.get("reason"),
        "exception": f"{type(exception).__name__}: {exception}" if exception else None,
        "raised_at": datetime.now(UTC).isoformat(),
    }


def alert_file_name(payload: dict[str, Any]) -> str:
    """A unique, sortable, filesystem-safe name: timestamp, DAG, task (or 'dag' for run-level alerts)."""
    stamp = payload["raised_at"].replace(":", "").replace("-", "")
    parts = [stamp, payload.get("dag_id") or "unknown", payload.get("task_id") or "dag"]
    return _UNSAFE.sub("_", "__".join(str(p) for p in parts)) + ".json"


def default_alerts_dir() -> Path:
    """``$BORDERWATCH_HOME/reports/alerts``, resolved in the process that runs the callback."""
    from borderwatch.config import get_settings

    return get_settings().reports_dir / "alerts"


class AlertFileNotifier(BaseNotifier):
    """Write one JSON alert per failure under ``reports/alerts`` and log it at ERROR level."""

    template_fields = ("alerts_dir",)

    def __init__(self, alerts_dir: str | None = None) -> None:
        super().__init__()
        self.alerts_dir = alerts_dir

    def notify(self, context: Any) -> None:
        """Never raises: a broken alert sink must not mask the failure being reported."""
        payload = alert_payload(dict(context))
        log.error("BorderWatch failure: %s", json.dumps(payload))
        try:
            directory = Path(self.alerts_dir) if self.alerts_dir else default_alerts_dir()
            directory.mkdir(parents=True, exist_ok=True)
            (directory / alert_file_name(payload)).write_text(json.dumps(payload, indent=2), encoding="utf-8")
        except OSError:
            log.exception("could not write the alert file for %s", payload.get("dag_id"))
