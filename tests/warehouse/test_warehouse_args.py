"""Fast checks of how build_warehouse calls dbt (no dbt run)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from dbt_common.contracts.constraints import ConstraintType

from borderwatch.config import get_settings
from borderwatch.warehouse import MART_TABLES, BuildResult, _node_result, dbt_args


def test_dbt_args_keep_artefacts_out_of_the_repo(tmp_path: Path) -> None:
    settings = get_settings(tmp_path / "home")
    args = dbt_args(settings, ["build"], full_refresh=True, select="fct_raids+")
    assert args[0] == "build"
    assert args[args.index("--project-dir") + 1] == str(settings.dbt_project_dir)
    assert args[args.index("--profiles-dir") + 1] == str(settings.dbt_project_dir)
    assert Path(args[args.index("--target-path") + 1]).is_relative_to(settings.home)
    assert Path(args[args.index("--log-path") + 1]).is_relative_to(settings.home)
    assert "--full-refresh" in args and args[args.index("--select") + 1] == "fct_raids+"
    assert "--full-refresh" not in dbt_args(settings, ["build"])


def test_mart_tables_are_the_public_contract() -> None:
    names = {name for schema, name in MART_TABLES}
    assert {schema for schema, _ in MART_TABLES} == {"marts"}
    assert {
        "fct_raids", "fct_raid_persons", "fct_deportations", "fct_repatriations", "fct_assistance_snapshots",
        "fct_assistance_snapshots_latest", "fct_telecom_actions", "fct_figure_claims", "dim_country",
        "dim_admin_area", "dim_site", "dim_agency", "dim_date",
    } <= names  # fmt: skip


def test_build_result_as_dict_is_json_ready() -> None:
    result = BuildResult(
        ok=False,
        results=[
            {"unique_id": "test.x", "resource_type": "test", "status": "fail", "failures": 2, "message": "m"}
        ],
        failed_tests=["test.x"],
        run_results_path=Path("/tmp/run_results.json"),
    )
    data = result.as_dict()
    assert data["run_results_path"] == "/tmp/run_results.json"
    assert data["failed_nodes"] == ["test.x"] and data["manifest_path"] is None


def _model(materialized: str) -> SimpleNamespace:
    check = SimpleNamespace(type=ConstraintType.check, expression="n >= 0")
    return SimpleNamespace(
        unique_id=f"model.borderwatch.m_{materialized}",
        resource_type="model",
        contract=SimpleNamespace(enforced=True),
        config=SimpleNamespace(materialized=materialized),
        constraints=[check],
        columns={
            "id": SimpleNamespace(
                constraints=[SimpleNamespace(type=ConstraintType.primary_key, expression=None)]
            )
        },
    )


def test_node_results_carry_the_constraints_duckdb_enforces() -> None:
    """The gate lists contract constraints from the results; dbt ignores a view's, so they are not listed."""
    table = _node_result(
        SimpleNamespace(node=_model("table"), status="success", failures=None, message=None, execution_time=1)
    )
    view = _node_result(
        SimpleNamespace(node=_model("view"), status="success", failures=None, message=None, execution_time=1)
    )
    assert table["constraints"] == [
        {"column": None, "type": "check", "expression": "n >= 0"},
        {"column": "id", "type": "primary_key", "expression": None},
    ]
    assert "constraints" not in view


def test_freshness_failures_never_count_as_failed_nodes() -> None:
    result = BuildResult(
        ok=True,
        results=[{"unique_id": "source.bw.rtp.rtp_raids", "resource_type": "source", "status": "error"}],
    )
    assert result.failed_nodes == []
