"""The `borderwatch` CLI: commands exist, bad arguments fail clearly, read-only commands touch nothing."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from borderwatch.cli import app

runner = CliRunner()


def test_help_lists_every_operation() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "run",
        "refresh",
        "ingest",
        "replay",
        "build",
        "gate",
        "publish",
        "versions",
        "explain",
        "backfill",
        "airflow-live",
        "docs",
        "seeds",
        "feeds",
    ):
        assert command in result.output


def test_versions_on_an_empty_home_lists_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["versions", "--home", str(tmp_path / "home")])
    assert result.exit_code == 0
    assert result.output.strip() == ""


def test_a_version_without_rollback_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["publish", "20250101T000000.000000Z-deadbeef", "--home", str(tmp_path / "h")]
    )
    assert result.exit_code != 0
    assert "--rollback" in result.output


def test_rollback_with_nothing_published_names_the_problem(tmp_path: Path) -> None:
    result = runner.invoke(app, ["publish", "--rollback", "--home", str(tmp_path / "h")])
    assert result.exit_code != 0
    assert "no version older" in str(result.exception)


def test_backfill_rejects_a_malformed_date(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["backfill", "--from", "2025-13-01", "--to", "2025-03-07", "--home", str(tmp_path)]
    )
    assert result.exit_code != 0


def test_feeds_subcommands_are_mounted() -> None:
    result = runner.invoke(app, ["feeds", "--help"])
    assert result.exit_code == 0
    assert "serve" in result.output and "generate" in result.output


def test_ingest_with_nothing_to_do_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--no-pull", "--no-inbox", "--home", str(tmp_path / "h")])
    assert result.exit_code != 0
    assert "nothing to ingest" in result.output
