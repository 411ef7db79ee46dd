"""The quality gate: dbt's results plus Great Expectations suites give one publish/no-publish verdict.

Each rule has one owner (``borderwatch.gate.checks``); the verdict and an offline report of every
check are written per run. Modules: ``run`` (the verdict), ``dbt_rules`` (dbt's share), ``gx_run``
(GX's share and its warm worker), ``suites`` (stored suites), ``report`` (HTML), ``notify`` (alerts).
"""

from __future__ import annotations

from borderwatch.gate.dbt_rules import BuildResultLike, dbt_checks
from borderwatch.gate.gx_run import discard_worker, warm_up
from borderwatch.gate.notify import default_notifier, notify_failure
from borderwatch.gate.result import GateError, GateResult, new_run_id
from borderwatch.gate.run import run_gate
from borderwatch.gate.suites import SuiteError

__all__ = [
    "BuildResultLike",
    "GateError",
    "GateResult",
    "SuiteError",
    "dbt_checks",
    "default_notifier",
    "discard_worker",
    "new_run_id",
    "notify_failure",
    "run_gate",
    "warm_up",
]
