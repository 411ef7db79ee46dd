"""``borderwatch feeds generate`` and ``serve`` through typer's test runner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from borderwatch.simulator.cli import app

runner = CliRunner()


def test_generate_writes_feeds_and_rtp_pages(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--until", "2025-03-31", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mfa_assistance" / "mfa_assistance_2025-03.xlsx").is_file()
    assert not (tmp_path / "mfa_assistance" / "mfa_assistance_2025-04.xlsx").exists()
    assert (tmp_path / "rtp_raids" / "operations_page_0001.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "kh_gdi_deportations",
        "kh_ncct_raids",
        "mfa_assistance",
        "nbtc_telecom",
        "rtp_raids",
        "th_imm_receptions",
    ]


def test_generate_names_rtp_pages_for_the_inbox(tmp_path: Path) -> None:
    from fnmatch import fnmatch

    from borderwatch.config import REPO_ROOT
    from borderwatch.specs import load_specs

    args = ["generate", "--out", str(tmp_path), "--until", "2025-03-31", "--inbox-names"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "rtp_raids").iterdir())
    assert names == ["rtp_raids_deletions_page_0001.json", "rtp_raids_operations_page_0001.json"]
    glob = load_specs(REPO_ROOT / "feeds")["rtp_raids"].inbox_glob
    assert glob and all(fnmatch(n, glob) for n in names)


def test_generate_rejects_bad_until(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--until", "31/03/2025"])
    assert result.exit_code != 0


def test_serve_refuses_remote_host_and_unknown_fault(tmp_path: Path) -> None:
    remote = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0", "--cache-dir", str(tmp_path)])
    assert remote.exit_code == 2
    unknown = runner.invoke(
        app, ["serve", "--port", "0", "--fault", "gremlins", "--cache-dir", str(tmp_path)]
    )
    assert unknown.exit_code != 0


def test_disagreements_lists_every_class() -> None:
    import json

    result = runner.invoke(app, ["disagreements"])
    assert result.exit_code == 0, result.output
    classes = json.loads(result.stdout)
    assert sorted(classes, key=lambda c: int(c[1:])) == [f"C{i}" for i in range(1, 11)]
    assert classes["C5"]["plan_vs_schedule"]["left"]["value"] == 11
