"""dbt's share of the gate: tests, contract constraints and source freshness, read from the build's results.

Nothing here queries the build file: dbt already ran these rules (tests as queries, constraints on
write, freshness against the thresholds in the dbt sources), and ``borderwatch.warehouse`` hands over
each node's outcome with the test severity and the model's constraints, so the gate report can list
every rule and its owner without a second copy of any rule.
"""

from __future__ import annotations

from typing import Any, Protocol

from borderwatch.gate.checks import check

_FAILED = ("fail", "error", "runtime error")
_BUILT = ("success", "pass")


class BuildResultLike(Protocol):
    """What the gate reads from ``borderwatch.warehouse.BuildResult``."""

    ok: bool
    results: list[dict[str, Any]]


def dbt_checks(build_result: BuildResultLike, *, freshness_severity: str = "warn") -> list[dict[str, Any]]:
    """dbt's verdicts as gate checks: failed error-severity tests and failed nodes block, warns warn.

    Stale sources (``dbt source freshness``) take ``freshness_severity`` (the checkpoint's policy);
    the thresholds themselves are only in the dbt sources.
    """
    checks: list[dict[str, Any]] = []
    for node in getattr(build_result, "results", None) or []:
        kind = str(node.get("resource_type", "")).lower()
        if kind == "source":
            checks.append(_freshness_check(node, freshness_severity))
            continue
        checks += _node_checks(node, kind)
    not_rerun = list(getattr(build_result, "not_rerun", None) or [])
    if not_rerun:  # the report still accounts for them: passed on the same code and seeds, not repeated
        checks.append(
            check(
                "dbt.unchanged_inputs",
                "dbt",
                "block",
                True,
                0,
                {
                    "message": f"{len(not_rerun)} nodes (unit tests, seed loads, tests reading only seeds) "
                    "passed on this code and these seeds in an earlier build and were not rerun",
                    "nodes": not_rerun,
                },
                owner="dbt test",
                target="unchanged project and seeds",
            )
        )
    ran = [c for c in checks if c["owner"] != "dbt freshness"]
    if not getattr(build_result, "ok", True) and not any(not c["success"] for c in ran):
        checks.append(
            check(
                "dbt.build",
                "dbt",
                "block",
                False,
                None,
                {"message": "dbt build did not succeed"},
                owner="dbt test",
            )
        )
    return checks


def _node_checks(node: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    unique_id = str(node.get("unique_id", "?"))
    status = str(node.get("status", "")).lower()
    details = {"status": status, "resource_type": kind, "message": node.get("message")}
    failures = node.get("failures")
    target = _target(node) or (unique_id.rsplit(".", 1)[-1] if kind != "test" else "")
    out: list[dict[str, Any]] = []
    if status in _FAILED:
        out.append(
            check(unique_id, "dbt", "block", False, failures, details, owner=_owner(kind), target=target)
        )
    elif status == "warn":
        out.append(check(unique_id, "dbt", "warn", False, failures, details, owner="dbt test", target=target))
    elif kind == "test":
        severity = "warn" if node.get("severity") == "warn" else "block"
        out.append(
            check(unique_id, "dbt", severity, True, failures or 0, details, owner="dbt test", target=target)
        )
    out += _constraint_checks(node, unique_id, status)
    return out


def _constraint_checks(node: dict[str, Any], unique_id: str, status: str) -> list[dict[str, Any]]:
    """One row per contract constraint: it held when the model was written, else the model's error."""
    model = unique_id.rsplit(".", 1)[-1]
    rows = []
    for constraint in node.get("constraints") or []:
        column = constraint.get("column")
        kind = constraint.get("type", "?")
        name = f"contract.{model}.{column or 'model'}.{kind}"
        if kind == "check":
            name += f".{constraint.get('expression')}"
        held = status in _BUILT
        details = {
            "constraint": kind,
            "column": column,
            "expression": constraint.get("expression"),
            "status": status,
            "message": None if held else f"{model} was not written ({status}): {node.get('message')}",
        }
        rows.append(
            check(
                name, "dbt", "block", held, 0 if held else None, details, owner="dbt contract", target=model
            )
        )
    return rows


def _freshness_check(node: dict[str, Any], severity: str) -> dict[str, Any]:
    unique_id = str(node.get("unique_id", "source.?"))
    source = ".".join(unique_id.split(".")[-2:])
    status = str(node.get("status", "")).lower()
    details = {
        key: node.get(key)
        for key in ("status", "max_loaded_at", "age_hours", "warn_after", "error_after", "message")
    }
    if status == "pass":
        return check(f"freshness.{source}", "freshness", severity, True, 0, details, owner="dbt freshness")
    level = "warn" if status == "warn" else severity
    return check(f"freshness.{source}", "freshness", level, False, None, details, owner="dbt freshness")


def _owner(kind: str) -> str:
    return "dbt test" if kind in ("test", "unit_test") else f"dbt {kind or 'build'}"


def _target(node: dict[str, Any]) -> str:
    attached = node.get("attached_node") or ""
    target = attached.rsplit(".", 1)[-1] if attached else ""
    if target and node.get("column_name"):
        target += f".{node['column_name']}"
    return target
