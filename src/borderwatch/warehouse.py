"""Build the warehouse: one in-process ``dbt build`` (seeds, models, snapshots, tests) on the build file.

One dbt invocation per refresh, never one per model: the DuckDB build file has a single writer, and dbt
runs its own threads inside that one process. dbt's target/ and logs/ go under ``settings.home/dbt`` so
the repository stays clean and parallel test runs never share artefacts.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from borderwatch.config import Settings

MART_SCHEMA = "marts"
MART_TABLES: tuple[tuple[str, str], ...] = (
    (MART_SCHEMA, "dim_country"),
    (MART_SCHEMA, "dim_admin_area"),
    (MART_SCHEMA, "dim_site"),
    (MART_SCHEMA, "dim_agency"),
    (MART_SCHEMA, "dim_date"),
    (MART_SCHEMA, "fct_raids"),
    (MART_SCHEMA, "fct_raids_history"),
    (MART_SCHEMA, "fct_raid_persons"),
    (MART_SCHEMA, "fct_deportations"),
    (MART_SCHEMA, "fct_repatriations"),
    (MART_SCHEMA, "fct_assistance_snapshots"),
    (MART_SCHEMA, "fct_assistance_snapshots_latest"),
    (MART_SCHEMA, "fct_telecom_actions"),
    (MART_SCHEMA, "fct_figure_claims"),
)
"""The public marts (schema, name) BI reads: what the gate audits and the publisher copies."""

_BUILD_DB_ENV = "BORDERWATCH_BUILD_DB"
_FAILED = {"error", "fail", "runtime error"}


class WarehouseBuildError(RuntimeError):
    """dbt could not run at all (bad project, profile or database), as opposed to failing tests."""


@dataclass
class BuildResult:
    """What one ``dbt build`` did: per-node results, failing and warning tests, mart row counts."""

    ok: bool
    results: list[dict[str, Any]] = field(default_factory=list)
    failed_tests: list[str] = field(default_factory=list)
    warned_tests: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    run_results_path: Path | None = None
    manifest_path: Path | None = None

    @property
    def failed_nodes(self) -> list[str]:
        """Every node (model, seed, test) that errored or failed."""
        return [r["unique_id"] for r in self.results if r["status"] in _FAILED]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_results_path"] = str(self.run_results_path) if self.run_results_path else None
        data["manifest_path"] = str(self.manifest_path) if self.manifest_path else None
        data["failed_nodes"] = self.failed_nodes
        return data


def dbt_target_dir(settings: Settings) -> Path:
    """Where dbt writes manifest.json and run_results.json for this installation."""
    return settings.home / "dbt" / "target"


def dbt_log_dir(settings: Settings) -> Path:
    return settings.home / "dbt" / "logs"


def dbt_args(
    settings: Settings, command: list[str], *, full_refresh: bool = False, select: str | None = None
) -> list[str]:
    """The dbt CLI arguments for one invocation: project, profile and artefact paths, never the repo's."""
    args = [
        *command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(dbt_target_dir(settings)),
        "--log-path",
        str(dbt_log_dir(settings)),
    ]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", select]
    return args


@contextmanager
def _build_db_env(settings: Settings) -> Iterator[None]:
    """Point the dbt profile at this installation's build file for the duration of one invocation."""
    previous = os.environ.get(_BUILD_DB_ENV)
    os.environ[_BUILD_DB_ENV] = str(settings.build_db)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_BUILD_DB_ENV, None)
        else:
            os.environ[_BUILD_DB_ENV] = previous


def _invoke(settings: Settings, args: list[str]) -> Any:
    """Run dbt in-process; release dbt-duckdb's handle afterwards so others can open the file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    dbt_log_dir(settings).mkdir(parents=True, exist_ok=True)
    with _build_db_env(settings):
        try:
            return dbtRunner().invoke(args)
        finally:
            DuckDBConnectionManager.close_all_connections()


def _node_result(result: Any) -> dict[str, Any]:
    node = result.node
    return {
        "unique_id": node.unique_id,
        "resource_type": str(node.resource_type),
        "status": str(result.status),
        "failures": result.failures,
        "message": result.message,
        "execution_time": round(float(result.execution_time or 0.0), 3),
    }


def mart_row_counts(db_path: Path) -> dict[str, int]:
    """Rows in each public mart that exists in the build file (missing ones are left out)."""
    counts: dict[str, int] = {}
    con = duckdb.connect(str(db_path), config={"autoinstall_known_extensions": False})
    try:
        existing = {
            (schema, name)
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for schema, name in MART_TABLES:
            if (schema, name) in existing:
                row = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
                counts[name] = int(row[0]) if row else 0
    finally:
        con.close()
    return counts


def build_warehouse(
    settings: Settings, *, full_refresh: bool = False, select: str | None = None
) -> BuildResult:
    """Run ONE ``dbt build`` on ``settings.build_db``; failing tests give ok=False, not an exception."""
    started = time.monotonic()
    res = _invoke(settings, dbt_args(settings, ["build"], full_refresh=full_refresh, select=select))
    execution = res.result
    if execution is None or not hasattr(execution, "results"):
        raise WarehouseBuildError(
            f"dbt build could not run on {settings.build_db} (project {settings.dbt_project_dir}): "
            f"{res.exception}. Fix the dbt project or profile; see {dbt_log_dir(settings) / 'dbt.log'}"
        )
    results = [_node_result(r) for r in execution.results]
    tests = [r for r in results if r["resource_type"] in ("test", "unit_test")]
    target = dbt_target_dir(settings)
    return BuildResult(
        ok=bool(res.success),
        results=results,
        failed_tests=[r["unique_id"] for r in tests if r["status"] in _FAILED],
        warned_tests=[r["unique_id"] for r in tests if r["status"] == "warn"],
        row_counts=mart_row_counts(settings.build_db) if settings.build_db.exists() else {},
        elapsed_s=round(time.monotonic() - started, 2),
        run_results_path=target / "run_results.json",
        manifest_path=target / "manifest.json",
    )


def docs_generate(settings: Settings) -> Path:
    """Write dbt docs (index.html, catalog.json) for the build file; returns the directory."""
    res = _invoke(settings, dbt_args(settings, ["docs", "generate"]))
    if not res.success:
        raise WarehouseBuildError(
            f"dbt docs generate failed on {settings.build_db}: {res.exception}. "
            f"See {dbt_log_dir(settings) / 'dbt.log'}"
        )
    return dbt_target_dir(settings)


def load_manifest(settings: Settings) -> dict[str, Any]:
    """The manifest of the last dbt invocation (for the gate, explain and convention tests)."""
    path = dbt_target_dir(settings) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))
