"""One gate check as the report and the verdict see it, whoever owns it.

Every rule has exactly one owner (issue 13, "one owner per check"):

* ``dbt contract`` — a constraint DuckDB enforces when the model is written (``not_null``,
  ``primary_key``, ``check``); it holds when the model built;
* ``dbt test`` — row and integrity rules dbt runs as queries (keys, accepted values, relationships,
  reconciliation);
* ``dbt freshness`` — ``dbt source freshness`` against the thresholds declared in the dbt sources;
* ``gx`` — what dbt does not do well: volume against the served version, distributions, feed health.
"""

from __future__ import annotations

from typing import Any

OWNERS = ("dbt contract", "dbt test", "dbt freshness", "gx")


def check(
    name: str,
    suite: str,
    severity: str,
    success: bool,
    unexpected_count: int | None,
    details: dict[str, Any],
    *,
    owner: str,
    target: str = "",
) -> dict[str, Any]:
    """A check row: the verdict reads ``severity`` and ``success``; the report shows owner and target."""
    return {
        "name": name,
        "owner": owner,
        "suite": suite,
        "target": target,
        "severity": severity,
        "success": success,
        "unexpected_count": unexpected_count,
        "details": details,
    }
