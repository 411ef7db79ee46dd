"""Failure notifiers for BorderWatch DAGs, configured by environment, built from Airflow's notifier classes.

By default every task and DAG failure goes to ``AlertFileNotifier`` (an ERROR log line plus a JSON file in
``reports/alerts``). ``BORDERWATCH_NOTIFIERS`` (or the Airflow Variable ``BORDERWATCH_NOTIFIERS`` given as
``AIRFLOW_VAR_BORDERWATCH_NOTIFIERS``) replaces that list with any ``BaseNotifier`` subclasses, e.g. the
SMTP provider's::

    BORDERWATCH_NOTIFIERS='[
      "borderwatch.orchestration.notifiers.AlertFileNotifier",
      {"class": "airflow.providers.smtp.notifications.smtp.SmtpNotifier",
       "kwargs": {"to": "oncall@example.org", "smtp_conn_id": "smtp_default"}}]'

Read from the environment only (no metadata-DB lookups), because DAG files build it at parse time.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
from collections.abc import Callable
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
    """One name per DAG run (so the task's and the run's callbacks leave ONE alert), filesystem-safe.

    Without a run id (a callback outside a run): timestamp, DAG, task.
    """
    if payload.get("run_id"):
        parts = [payload.get("dag_id") or "unknown", payload["run_id"]]
    else:
        stamp = payload["raised_at"].replace(":", "").replace("-", "")
        parts = [stamp, payload.get("dag_id") or "unknown", payload.get("task_id") or "dag"]
    return _UNSAFE.sub("_", "__".join(str(p) for p in parts)) + ".json"


def default_alerts_dir() -> Path:
    """``$BORDERWATCH_HOME/reports/alerts``, resolved in the process that runs the callback."""
    from borderwatch.config import get_settings

    return get_settings().reports_dir / "alerts"


class AlertFileNotifier(BaseNotifier):
    """Write one JSON alert per failed DAG run under ``reports/alerts`` and log every failure at ERROR."""

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
            with (directory / alert_file_name(payload)).open("x", encoding="utf-8") as handle:
                handle.write(json.dumps(payload, indent=2))
        except FileExistsError:
            log.info("alert for run %s of %s already written", payload.get("run_id"), payload.get("dag_id"))
        except OSError:
            log.exception("could not write the alert file for %s", payload.get("dag_id"))


NOTIFIERS_ENV = "BORDERWATCH_NOTIFIERS"
NOTIFIERS_VARIABLE_ENV = "AIRFLOW_VAR_BORDERWATCH_NOTIFIERS"


class NotifierConfigError(ValueError):
    """``BORDERWATCH_NOTIFIERS`` cannot be turned into notifiers; the message names the entry and the fix."""


def _notifier_class(path: str) -> type[BaseNotifier]:
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise NotifierConfigError(
            f"{NOTIFIERS_ENV}: cannot import notifier {path!r} ({exc}); install its provider or fix the path"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseNotifier)):
        raise NotifierConfigError(f"{NOTIFIERS_ENV}: {path!r} is not an Airflow BaseNotifier subclass")
    return cls


def build_notifiers(spec: str | None) -> list[BaseNotifier]:
    """Notifier instances from the JSON list in ``spec`` (class paths, or ``{"class", "kwargs"}``)."""
    if not spec or not spec.strip():
        return [AlertFileNotifier()]
    try:
        entries = json.loads(spec)
    except json.JSONDecodeError as exc:
        raise NotifierConfigError(f"{NOTIFIERS_ENV} is not valid JSON ({exc.msg}); give a JSON list") from exc
    if isinstance(entries, str | dict):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise NotifierConfigError(f"{NOTIFIERS_ENV} must be a non-empty JSON list of notifiers")
    notifiers: list[BaseNotifier] = []
    for entry in entries:
        path, kwargs = (
            (entry, {}) if isinstance(entry, str) else (entry.get("class"), entry.get("kwargs", {}))
        )
        if not isinstance(path, str) or not isinstance(kwargs, dict):
            raise NotifierConfigError(
                f"{NOTIFIERS_ENV}: entry {entry!r} needs a class path string or "
                '{"class": "<module.Class>", "kwargs": {...}}'
            )
        try:
            notifiers.append(_notifier_class(path)(**kwargs))
        except TypeError as exc:
            raise NotifierConfigError(f"{NOTIFIERS_ENV}: {path} rejects its kwargs: {exc}") from exc
    return notifiers


def configured_notifiers(env: dict[str, str] | None = None) -> list[Callable[[Any], None]]:
    """The failure notifiers of every DAG: ``BORDERWATCH_NOTIFIERS``, else the Variable, else the default."""
    env = dict(os.environ) if env is None else env
    return list(build_notifiers(env.get(NOTIFIERS_ENV) or env.get(NOTIFIERS_VARIABLE_ENV)))
