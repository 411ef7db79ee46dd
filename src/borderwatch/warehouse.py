"""Build the warehouse: one in-process ``dbt build`` (seeds, models, snapshots, tests) on the build file.

One dbt invocation per refresh, never one per model: the DuckDB build file has a single writer, and dbt
runs its own threads inside that one process. dbt's target/ and logs/ go under ``settings.home/dbt`` so
the repository stays clean and parallel test runs never share artefacts.

The fixed cost is paid once: the project is parsed once per refresh (``dbt parse``, which reuses
``target/partial_parse.msgpack`` when the home's path is unchanged, so keep the home at a stable path),
and that manifest is handed to ``dbt build`` and ``dbt source freshness`` (the gate's freshness
verdict, thresholds declared once in the dbt sources) so neither parses again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from borderwatch import duck
from borderwatch.config import Settings

logger = logging.getLogger(__name__)

MART_SCHEMA = "marts"
MART_TABLES: tuple[tuple[str, str], ...] = (
    (MART_SCHEMA, "dim_country"),
    (MART_SCHEMA, "dim_admin_area"),
    (MART_SCHEMA, "dim_site"),
    (MART_SCHEMA, "dim_agency"),
    (MART_SCHEMA, "dim_date"),
    (MART_SCHEMA, "fct_raids"),
    (MART_SCHEMA, "fct_raid_reports"),
    (MART_SCHEMA, "fct_raids_history"),
    (MART_SCHEMA, "fct_raid_persons"),
    (MART_SCHEMA, "fct_deportations"),
    (MART_SCHEMA, "fct_repatriations"),
    (MART_SCHEMA, "fct_repatriation_periods"),
    (MART_SCHEMA, "fct_repatriation_plans"),
    (MART_SCHEMA, "fct_assistance_snapshots"),
    (MART_SCHEMA, "fct_assistance_snapshots_latest"),
    (MART_SCHEMA, "fct_assistance_totals"),
    (MART_SCHEMA, "fct_telecom_actions"),
    (MART_SCHEMA, "fct_figure_claims"),
    (MART_SCHEMA, "fct_reconciliation"),
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
    rebuilt_models: list[str] = field(default_factory=list)
    # unit tests, seed loads and tests of seeds that passed on the same code and seeds in an earlier build
    not_rerun: list[str] = field(default_factory=list)

    @property
    def failed_nodes(self) -> list[str]:
        """Every node (model, seed, test) that errored or failed; stale sources are the gate's call."""
        return [
            r["unique_id"] for r in self.results if r["status"] in _FAILED and r["resource_type"] != "source"
        ]

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
    settings: Settings,
    command: list[str],
    *,
    full_refresh: bool = False,
    select: str | None = None,
    exclude_resource_types: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
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
    for resource_type in exclude_resource_types:
        args += ["--exclude-resource-type", resource_type]
    if exclude:
        args += ["--exclude", *exclude]
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


def _invoke(settings: Settings, args: list[str], manifest: Any = None) -> Any:
    """Run dbt in-process (reusing ``manifest`` when given); release dbt-duckdb's handle afterwards."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    dbt_log_dir(settings).mkdir(parents=True, exist_ok=True)
    with _build_db_env(settings):
        try:
            return dbtRunner(manifest=manifest).invoke(args)
        finally:
            DuckDBConnectionManager.close_all_connections()


def parse_project(settings: Settings) -> Any:
    """Parse the project once (partial parse when possible); the manifest serves every later invocation."""
    res = _invoke(settings, dbt_args(settings, ["parse"]))
    if not res.success or res.result is None:
        raise WarehouseBuildError(
            f"dbt could not parse the project {settings.dbt_project_dir}: {res.exception}. "
            f"Fix the model or YAML it names; see {dbt_log_dir(settings) / 'dbt.log'}"
        )
    return res.result


def _node_result(result: Any) -> dict[str, Any]:
    """One node's outcome plus what the gate's report needs (owner, severity, constraints), as plain JSON."""
    node = result.node
    out: dict[str, Any] = {
        "unique_id": node.unique_id,
        "resource_type": str(node.resource_type),
        "status": str(result.status),
        "failures": result.failures,
        "message": result.message,
        "execution_time": round(float(result.execution_time or 0.0), 3),
    }
    if out["resource_type"] == "test":
        metadata = getattr(node, "test_metadata", None)
        out["severity"] = str(getattr(node.config, "severity", "ERROR")).lower()
        out["test_name"] = metadata.name if metadata else "singular"
        out["attached_node"] = getattr(node, "attached_node", None)
        out["column_name"] = getattr(node, "column_name", None) or _merged_columns(metadata)
    elif out["resource_type"] == "model" and _enforces_constraints(node):
        out["constraints"] = _constraints(node)
    return out


def _merged_columns(metadata: Any) -> str | None:
    """What a test merged over several columns checks (``not_null_columns``, ``foreign_keys``), so the
    gate's report lists each rule as its target, as it would list one test per column."""
    kwargs = getattr(metadata, "kwargs", None) or {}
    name = getattr(metadata, "name", None)
    if name == "not_null_columns":
        return ", ".join(kwargs.get("columns") or [])
    if name == "foreign_keys":
        return ", ".join(f"{k['column']} -> {k['to']}.{k['field']}" for k in kwargs.get("keys") or [])
    return None


def _enforces_constraints(node: Any) -> bool:
    """DuckDB enforces a contract's constraints on tables only; dbt ignores them on views (with a warning)."""
    enforced = bool(getattr(node.contract, "enforced", False))
    return enforced and node.config.materialized in ("table", "incremental")


def _constraints(node: Any) -> list[dict[str, Any]]:
    """The contract constraints DuckDB enforces on write for this model (model- and column-level)."""
    found = [
        {"column": None, "type": _kind(c.type), "expression": c.expression}
        for c in getattr(node, "constraints", []) or []
    ]
    for name, column in node.columns.items():
        found += [
            {"column": name, "type": _kind(c.type), "expression": c.expression}
            for c in column.constraints or []
        ]
    return found


def _kind(constraint_type: Any) -> str:
    """'primary_key', not 'ConstraintType.primary_key' (the enum's str())."""
    return str(getattr(constraint_type, "value", constraint_type))


def _freshness_result(result: Any) -> dict[str, Any]:
    """``dbt source freshness`` for one source table, shaped like a node result (resource_type source)."""
    node = result.node
    freshness = getattr(node, "freshness", None)
    age = getattr(result, "age", None)
    return {
        "unique_id": node.unique_id,
        "resource_type": "source",
        "status": str(result.status),
        "failures": None,
        "message": result.message,
        "execution_time": round(float(result.execution_time or 0.0), 3),
        "max_loaded_at": str(getattr(result, "max_loaded_at", "") or "") or None,
        "age_hours": round(float(age) / 3600, 2) if age is not None else None,
        "warn_after": _threshold(freshness, "warn_after"),
        "error_after": _threshold(freshness, "error_after"),
    }


def _threshold(freshness: Any, which: str) -> str | None:
    after = getattr(freshness, which, None) if freshness else None
    if not after or not after.count or not after.period:
        return None
    return f"{after.count} {after.period}"


def source_freshness(settings: Settings, manifest: Any = None) -> list[dict[str, Any]]:
    """Run ``dbt source freshness`` (thresholds from the dbt sources); one result per source table."""
    res = _invoke(settings, dbt_args(settings, ["source", "freshness"]), manifest=manifest)
    execution = res.result
    if execution is None or not hasattr(execution, "results"):
        return [
            {
                "unique_id": "source.freshness",
                "resource_type": "source",
                "status": "runtime error",
                "failures": None,
                "message": f"dbt source freshness could not run: {res.exception}",
                "execution_time": 0.0,
            }
        ]
    # the project's on-run-start/-end hooks run with every command and report as results too: not sources
    return [_freshness_result(r) for r in execution.results if r.node.resource_type == "source"]


def mart_row_counts(db_path: Path) -> dict[str, int]:
    """Rows in each public mart that exists in the build file (missing ones are left out)."""
    counts: dict[str, int] = {}
    con = duck.connect(db_path)
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
    """Run ONE ``dbt build`` on ``settings.build_db``, then source freshness, on one parse of the project.

    Failing tests give ok=False, not an exception; freshness results are appended to ``results`` with
    resource_type ``source`` (the gate judges them) and never change ``ok``.
    """
    started = time.monotonic()
    manifest = parse_project(settings)
    seeds, project = seeds_checksum(manifest), project_checksum(manifest)
    recorded = _recorded_inputs(settings)
    reference_changed = (
        not full_refresh and select is None and _reference_changed(recorded, seeds, _incremental(manifest))
    )
    if reference_changed:
        logger.warning(
            "the reference seeds changed since the incremental models were built (a label mapped, a site "
            "added): rebuilding every partition from scratch, once"
        )
        full_refresh = True
    skipped = () if full_refresh else unchanged_inputs(recorded, seeds, project, _seed_relations(manifest))
    seed_tests = _seed_tests(manifest)
    left_out = seed_tests if "seed" in skipped else {}
    build_args = dbt_args(
        settings,
        ["build"],
        full_refresh=full_refresh,
        select=select,
        exclude_resource_types=skipped,
        exclude=tuple(sorted(left_out.values())),
    )
    not_rerun = _not_rerun(manifest, skipped) + sorted(left_out)
    if not_rerun:
        logger.info(
            "project and reference seeds unchanged since the last complete build: %d nodes not rerun (%s)",
            len(not_rerun),
            ", ".join(skipped),
        )
    rebuilt = [] if full_refresh else rebuild_drifted_models(settings, manifest)
    res = _invoke(settings, build_args, manifest=manifest)
    out_of_sync = [] if full_refresh else _schema_change_failures(res.result)
    if out_of_sync:  # an incremental model without a contract changed shape: dbt itself found it
        rebuilt += _rebuild_from_scratch(settings, manifest, out_of_sync, "dbt found its columns changed")
        res = _invoke(settings, build_args, manifest=manifest)
    execution = res.result
    if execution is None or not hasattr(execution, "results"):
        fix = "Fix the dbt project or profile"
        if any(s in str(res.exception).lower() for s in ("no space left", "disk quota", "file too large")):
            fix = f"The disk holding {settings.build_db.parent} is full: free space there and rerun"
        raise WarehouseBuildError(
            f"dbt build could not run on {settings.build_db} (project {settings.dbt_project_dir}): "
            f"{res.exception}. {fix}; see {dbt_log_dir(settings) / 'dbt.log'}"
        )
    results = [_node_result(r) for r in execution.results]
    tests = [r for r in results if r["resource_type"] in ("test", "unit_test")]
    if select is None and not any(
        r["status"] in (*_FAILED, "skipped") for r in results if r["resource_type"] in ("model", "seed")
    ):
        _record_reference(settings, seeds, project if verified(results, seed_tests) else None)
    if reference_changed:
        rebuilt.append("every incremental model (reference seeds changed)")
    if select is None:
        results += source_freshness(settings, manifest)
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
        rebuilt_models=rebuilt,
        not_rerun=not_rerun,
    )


def seeds_checksum(manifest: Any) -> str:
    """One checksum of every reference seed's content, from the parsed project (dbt hashes each file)."""
    parts = sorted(
        f"{node.name}:{node.checksum.checksum}"
        for node in manifest.nodes.values()
        if node.resource_type == "seed"
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _incremental(manifest: Any) -> set[str]:
    """``schema.table`` of every incremental model of the parsed project."""
    return {
        f"{node.schema}.{node.alias or node.name}"
        for node in manifest.nodes.values()
        if node.resource_type == "model" and node.config.materialized == "incremental"
    }


def project_checksum(manifest: Any) -> str:
    """One checksum of the project's code as dbt parsed it: every file (models, macros, YAML with the unit
    tests, seeds; dbt's own macros too, so an upgrade counts) by dbt's hash of it, plus the versions."""
    import dbt.version

    parts = sorted(f"{file_id}:{source.checksum.checksum}" for file_id, source in manifest.files.items())
    parts.append(f"dbt {dbt.version.__version__}, duckdb {duckdb.__version__}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _seed_relations(manifest: Any) -> set[str]:
    """``schema.table`` of every seed of the parsed project."""
    return {
        f"{node.schema}.{node.alias or node.name}"
        for node in manifest.nodes.values()
        if node.resource_type == "seed"
    }


def _seed_tests(manifest: Any) -> dict[str, str]:
    """``{unique_id: name}`` of the data tests that read nothing but seeds (keys and codes of the reference
    tables): their verdict can only change with the seeds."""
    seeds = {uid for uid, node in manifest.nodes.items() if node.resource_type == "seed"}
    return {
        uid: node.name
        for uid, node in manifest.nodes.items()
        if node.resource_type == "test" and node.depends_on.nodes and set(node.depends_on.nodes) <= seeds
    }


def _not_rerun(manifest: Any, skipped: tuple[str, ...]) -> list[str]:
    """Unique ids of the unit tests and seeds a build excluding ``skipped`` resource types leaves out."""
    nodes = [*manifest.nodes.values(), *manifest.unit_tests.values()]
    return sorted(
        n.unique_id for n in nodes if str(getattr(n.resource_type, "value", n.resource_type)) in skipped
    )


@dataclass(frozen=True)
class RecordedInputs:
    """What the build file's last complete build ran on (``audit.reference_inputs``), and its tables."""

    tables: frozenset[str]
    seeds: str | None
    project: str | None


def _recorded_inputs(settings: Settings) -> RecordedInputs | None:
    """The build file's record of its last complete build; None when there is no build file yet."""
    if not settings.build_db.exists():
        return None
    with contextlib.closing(duck.connect(settings.build_db, read_only=True)) as con:
        found = con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()
        tables = frozenset(name for (name,) in found)
        if "audit.reference_inputs" not in tables:
            return RecordedInputs(tables, None, None)  # built before this record existed
        columns = {
            c for (c,) in con.execute("select column_name from (describe audit.reference_inputs)").fetchall()
        }
        project = "project_checksum" if "project_checksum" in columns else "null::varchar"
        row = con.execute(f"select seeds_checksum, {project} from audit.reference_inputs").fetchone()
    return RecordedInputs(tables, *(row or (None, None)))


def unchanged_inputs(
    recorded: RecordedInputs | None, seeds: str, project: str, seed_relations: set[str]
) -> tuple[str, ...]:
    """Resource types this build need not run again: ``unit_test`` when the project's code is the one the
    last complete build ran (and passed) its unit tests on, ``seed`` when the reference seeds are also the
    ones already loaded and every seed table is there.

    Unit tests check the models' SQL on fixed inputs, never the data (dbt recommends running them in
    development and CI, not on every production build): a night on unchanged code would only repeat
    them. A deployment that changes any file, or an upgrade of dbt or DuckDB, runs them again, once.
    """
    if recorded is None or recorded.project is None or recorded.project != project:
        return ()
    if recorded.seeds == seeds and seed_relations <= recorded.tables:
        return ("unit_test", "seed")
    return ("unit_test",)


def verified(results: list[dict[str, Any]], seed_tests: dict[str, str]) -> bool:
    """Whether every unit test and test reading only seeds that ran in this build passed (not failed,
    errored, warned or skipped): only then may later builds on the same inputs leave them out. Those left
    out of this build had passed on the same inputs before."""
    return all(
        r["status"] == "pass"
        for r in results
        if r["resource_type"] == "unit_test" or r["unique_id"] in seed_tests
    )


def _reference_changed(recorded: RecordedInputs | None, seeds: str, incremental: set[str]) -> bool:
    """True when incremental models exist in the build file and were built on other seeds (or unknown ones).

    The partitioned models rebuild what new deliveries touch; a seed change (a nationality label mapped, a
    crossing added) changes rows that no delivery touches, so only a rebuild of every partition is right.
    """
    if recorded is None or not incremental & recorded.tables:
        return False  # nothing incremental built yet: the build is a full one anyway
    return recorded.seeds != seeds  # unknown (None) counts as changed


def _record_reference(settings: Settings, seeds: str, project: str | None) -> None:
    """Remember the seeds every node of the build file was built on (after a build where all ran), and
    the project code its unit tests and seed tests passed on (None when one of them did not pass: the
    next build runs them all again)."""
    with contextlib.closing(duck.connect(settings.build_db)) as con:
        con.execute("create schema if not exists audit")
        con.execute(
            "create or replace table audit.reference_inputs as select ?::varchar as seeds_checksum, "
            "?::varchar as project_checksum, current_timestamp as recorded_at",
            [seeds, project],
        )


def drifted_incremental_models(settings: Settings, manifest: Any) -> dict[str, str]:
    """Incremental models whose table in the build file lacks a column the model declares (or, under an
    enforced contract, has any other set of columns than the contract's).

    After an upgrade that adds or removes a column of an incremental model, ``on_schema_change='fail'``
    would stop every nightly build until someone ran a full refresh by hand; appending the new column would
    leave it NULL on every old row. Neither is what a user wants: such a model is rebuilt from scratch once.
    The same holds for a model whose partition keys changed form (``_stale_partition_key``).
    Returns ``{unique_id: what changed}``.
    """
    if not settings.build_db.exists():
        return {}
    models = [
        node
        for node in manifest.nodes.values()
        if node.resource_type == "model" and node.config.materialized == "incremental" and node.columns
    ]
    if not models:
        return {}
    with contextlib.closing(duck.connect(settings.build_db, read_only=True)) as con:
        return _drifted(con, models)


def _drifted(con: duckdb.DuckDBPyConnection, models: list[Any]) -> dict[str, str]:
    rows = con.execute(
        "select table_schema, table_name, list(lower(column_name)) from information_schema.columns "
        "where table_catalog = current_database() group by all"
    ).fetchall()
    existing = {(schema, table): set(columns) for schema, table, columns in rows}
    drifted: dict[str, str] = {}
    for node in models:
        have = existing.get((node.schema, node.alias or node.name))
        want = {name.lower() for name in node.columns}
        # a contract lists every column; a model without one documents some: each must exist
        contracted = bool(getattr(node.contract, "enforced", False))
        if have is not None and (have != want if contracted else not want <= have):
            added, removed = sorted(want - have), sorted(have - want)
            drifted[node.unique_id] = f"columns added {added or 'none'}, removed {removed or 'none'}"
        elif have is not None and (stale := _stale_partition_key(con, node)):
            drifted[node.unique_id] = stale
    return drifted


def _stale_partition_key(con: duckdb.DuckDBPyConnection, node: Any) -> str | None:
    """A partition key written in an earlier form (meta ``partition_key_format``: ``rows``, a predicate
    choosing the rows to look at, and ``pattern``, the form their ``_partition_key`` has now): one such
    row means the table was built before the form changed, and replacing partitions by the new keys would
    leave its old rows beside the new ones. One row is enough: every build writes every row in one form."""
    form = (node.config.meta or {}).get("partition_key_format")
    if not form:
        return None
    row = con.execute(
        f'select _partition_key from "{node.schema}"."{node.alias or node.name}" '
        f"where _partition_key is not null and ({form['rows']}) limit 1"
    ).fetchone()
    if row is None or re.fullmatch(form["pattern"], str(row[0])):
        return None
    return f"partition key {row[0]!r} is in an earlier form (now {form['pattern']})"


def rebuild_drifted_models(settings: Settings, manifest: Any) -> list[str]:
    """Rebuild from scratch, once, every incremental model whose declared columns or partition keys changed
    form."""
    drifted = drifted_incremental_models(settings, manifest)
    if not drifted:
        return []
    return _rebuild_from_scratch(settings, manifest, sorted(drifted), "; ".join(drifted.values()))


def _schema_change_failures(execution: Any) -> list[str]:
    """Incremental models dbt refused because their columns changed (``on_schema_change='fail'``)."""
    return sorted(
        result.node.unique_id
        for result in getattr(execution, "results", None) or []
        if str(result.status) == "error" and "are out of sync" in str(result.message or "")
    )


def _rebuild_from_scratch(settings: Settings, manifest: Any, unique_ids: list[str], why: str) -> list[str]:
    """``dbt run --full-refresh`` of these models and what they read: after an upgrade, once."""
    names = sorted(manifest.nodes[uid].name for uid in unique_ids)
    logger.warning("%s changed shape since the last build (%s): rebuilding from scratch once", names, why)
    selection = " ".join(f"+{name}" for name in names)
    res = _invoke(
        settings, dbt_args(settings, ["run"], full_refresh=True, select=selection), manifest=manifest
    )
    if not res.success:
        raise WarehouseBuildError(
            f"rebuilding {', '.join(names)} after their columns changed failed: {res.exception}. "
            f"Run `borderwatch build --full-refresh`; see {dbt_log_dir(settings) / 'dbt.log'}"
        )
    return names


def docs_generate(settings: Settings) -> Path:
    """Write dbt docs for the build file as one self-contained page; returns ``static_index.html``.

    ``--static`` inlines the manifest and catalog into the page: the plain ``index.html`` fetches them
    with JavaScript, which browsers refuse for pages opened from disk (``file://``), so it shows nothing.
    """
    res = _invoke(settings, dbt_args(settings, ["docs", "generate", "--static"]))
    if not res.success:
        raise WarehouseBuildError(
            f"dbt docs generate failed on {settings.build_db}: {res.exception}. "
            f"See {dbt_log_dir(settings) / 'dbt.log'}"
        )
    return dbt_target_dir(settings) / "static_index.html"


def load_manifest(settings: Settings) -> dict[str, Any]:
    """The manifest of the last dbt invocation (for the gate, explain and convention tests)."""
    path = dbt_target_dir(settings) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))
