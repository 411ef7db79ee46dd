"""The `borderwatch` CLI as an operator meets it: one-line errors naming the fix, exit 2 for usage errors,
typed dates, initialised homes only, a short gate verdict, fast failure when sources refuse connections."""

from __future__ import annotations

import errno
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from borderwatch.cli import app, error_message
from borderwatch.config import HOME_MARKER

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An initialised home, created the way an operator does: `borderwatch init`."""
    path = tmp_path / "home"
    result = runner.invoke(app, ["init", "--home", str(path)])
    assert result.exit_code == 0, result.output
    assert "initialised" in result.output
    return path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on exit: nothing listens there


def test_help_lists_every_operation() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "init",
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
        "deploy-init",
        "docs",
        "seeds",
        "feeds",
    ):
        assert command in result.output


def test_init_is_explicit_and_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    first = runner.invoke(app, ["init", "--home", str(target)])
    again = runner.invoke(app, ["init", "--home", str(target)])
    assert first.exit_code == again.exit_code == 0
    assert (target / HOME_MARKER).is_file() and (target / "inbox").is_dir() and (target / "reports").is_dir()
    assert "already initialised" in again.output


def test_a_mistyped_home_is_refused_and_nothing_is_created(home: Path, tmp_path: Path) -> None:
    typo = tmp_path / "hmoe"
    result = runner.invoke(app, ["versions", "--home", str(typo)])
    assert result.exit_code == 2
    assert "not an initialised BorderWatch home" in result.output
    assert f"borderwatch init --home {typo}" in result.output
    assert "Traceback" not in result.output
    assert not typo.exists(), "a typo must not create a new empty installation"


def test_a_mistyped_borderwatch_home_variable_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BORDERWATCH_HOME", str(tmp_path / "typo"))
    result = runner.invoke(app, ["versions"])
    assert result.exit_code == 2
    assert "BORDERWATCH_HOME" in result.output and not (tmp_path / "typo").exists()


def test_versions_on_an_empty_home_lists_nothing(home: Path) -> None:
    result = runner.invoke(app, ["versions", "--home", str(home)])
    assert result.exit_code == 0
    assert result.output.strip() == ""


def test_a_version_without_rollback_is_a_usage_error(home: Path) -> None:
    result = runner.invoke(app, ["publish", "20250101T000000.000000Z-deadbeef", "--home", str(home)])
    assert result.exit_code == 2
    assert "--rollback" in result.output


def test_rollback_with_nothing_published_is_one_line_naming_the_problem(home: Path) -> None:
    result = runner.invoke(app, ["publish", "--rollback", "--home", str(home)])
    assert result.exit_code == 1
    assert "no version older" in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2025-13-01", "--to", "2025-03-07"],
        ["--from", "01/03/2025", "--to", "2025-03-07"],
        ["--from", "2025-03-07", "--to", "2025-03-01"],
    ],
    ids=["month-13", "not-iso", "reversed"],
)
def test_backfill_dates_are_typed_and_bad_ones_are_usage_errors(home: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["backfill", *args, "--home", str(home), "--in-process"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "--from" in result.output


def test_bad_setting_is_one_line_not_a_traceback(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("BORDERWATCH_KEEP_VERSIONS", "five")
    result = runner.invoke(app, ["versions", "--home", str(home)])
    assert result.exit_code == 2
    assert "BORDERWATCH_KEEP_VERSIONS='five'" in result.output and "whole number" in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root writes through permissions (and the venv's interpreter "
    "under /root is not executable by another uid); the message is checked below",
)
def test_read_only_home_is_one_line(home: Path) -> None:
    (home / "reports").rmdir()
    home.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = runner.invoke(app, ["versions", "--home", str(home)])
    finally:
        home.chmod(0o755)
    assert result.exit_code == 1
    assert "cannot write" in result.output and "Traceback" not in result.output


def test_read_only_and_disk_full_errors_name_the_cause() -> None:
    message, code = error_message(PermissionError(errno.EROFS, "Read-only file system", "/srv/bw/reports"))
    assert code == 1 and "cannot write /srv/bw/reports" in message and "writable" in message
    message, _ = error_message(OSError(errno.ENOSPC, "No space left on device", "/srv/bw/build.duckdb"))
    assert "disk holding /srv/bw/build.duckdb is full" in message
    message, _ = error_message(RuntimeError("dbt build could not run: IO Error: No space left on device"))
    assert message.startswith("the disk is full")


def test_feeds_subcommands_are_mounted() -> None:
    result = runner.invoke(app, ["feeds", "--help"])
    assert result.exit_code == 0
    assert "serve" in result.output and "generate" in result.output


def test_ingest_with_nothing_to_do_is_a_usage_error(home: Path) -> None:
    result = runner.invoke(app, ["ingest", "--no-pull", "--no-inbox", "--home", str(home)])
    assert result.exit_code == 2
    assert "nothing to ingest" in result.output


def test_ingest_fails_fast_when_the_sources_refuse_connections(home: Path, monkeypatch) -> None:
    port = _closed_port()
    monkeypatch.setenv("BORDERWATCH_SIMULATOR_URL", f"http://127.0.0.1:{port}")
    result = runner.invoke(app, ["ingest", "--home", str(home)])
    assert result.exit_code == 2
    assert f"nothing listens on 127.0.0.1:{port}" in result.output
    assert "borderwatch feeds serve" in result.output
    assert not (home / "warehouse" / "build.duckdb").exists(), "nothing was pulled or loaded"


def test_gate_verdict_is_short(capsys) -> None:
    from borderwatch.cli import _print_gate_verdict

    gate = {
        "passed": False,
        "checks": [{"name": f"check_{n}"} for n in range(4752)],
        "blocking_failures": [f"suite.fct_x.check_{n}" for n in range(30)],
        "warnings": ["freshness.rtp_raids"],
        "summary_path": "/h/reports/gate/r1/summary.json",
    }
    _print_gate_verdict(gate)
    out = capsys.readouterr().out
    assert "blocked" in out and "4752 checks, 30 blocking, 1 warnings" in out
    assert "… and 20 more" in out and "/h/reports/gate/r1/summary.json" in out
    assert len(out.splitlines()) < 20


RAW_FIXTURE = Path(__file__).resolve().parent / "warehouse" / "wh_raw_fixture.py"
FULL_DISK = """
import resource, signal, sys
from borderwatch.cli import app
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))  # writes past it: EFBIG
sys.argv = ["borderwatch", *sys.argv[2:]]
app(prog_name="borderwatch")
"""


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("limit", [65_536, 2_000_000])
def test_disk_full_during_dbt_says_the_disk_is_full(tmp_path: Path, limit: int) -> None:
    """Fate: one line on stderr naming a full disk (never "fix the dbt project"), exit 1, no traceback."""
    import importlib.util

    import duckdb

    from borderwatch.config import get_settings, init_home

    spec = importlib.util.spec_from_file_location("wh_raw_fixture_cli", RAW_FIXTURE)
    assert spec and spec.loader
    fixture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixture)
    settings = get_settings(tmp_path / "home")
    init_home(settings)
    con = duckdb.connect(str(settings.build_db))
    fixture.load_first(con, fixture.create_raw_schema(con, settings.feeds_dir))
    con.close()
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(limit), "build", "--home", str(settings.home)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, proc.stderr[-3000:]
    assert "full" in error[0] and "disk" in error[0], error[0]
    assert "Fix the dbt project" not in error[0]


@pytest.mark.slow
def test_each_load_report_is_printed_once(home: Path, tmp_path: Path) -> None:
    """A delivered inbox file, `ingest --no-pull`: one report table, not the library's and the CLI's both."""
    generated = tmp_path / "generated"
    made = runner.invoke(app, ["feeds", "generate", "--out", str(generated), "--until", "2025-03-02"])
    assert made.exit_code == 0, made.output
    first = sorted((generated / "kh_gdi_deportations").glob("*.csv"))[0]
    (home / "inbox" / first.name).write_bytes(first.read_bytes())
    result = runner.invoke(app, ["ingest", "--no-pull", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert result.output.count("BorderWatch ingest") == 1, result.output
    assert "kh_gdi_deportations" in result.output
