"""run_gate end to end on synthetic builds: block vs warn, reports, Data Docs, notifier."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

from borderwatch.gate import GateResult, dbt_checks, notify_failure, run_gate
from borderwatch.gate.suites import SuiteError, load_suites

pytestmark = pytest.mark.slow

EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"
PASSING_TEST = {"unique_id": "test.bw.unique_fct_raids_raid_id", "resource_type": "test", "status": "pass"}


def _passing_dbt(synthetic: ModuleType) -> object:
    return synthetic.FakeBuildResult(results=[dict(PASSING_TEST, failures=0)])


def _checks(result: GateResult) -> dict[str, dict]:
    return {c["name"]: c for c in result.checks}


@pytest.fixture(scope="module")
def clean_gate(tmp_path_factory: pytest.TempPathFactory, synthetic: ModuleType) -> GateResult:
    """A valid build whose feeds were last loaded long ago: freshness warns, nothing blocks."""
    settings = synthetic.make_settings(tmp_path_factory.mktemp("clean") / "home")
    synthetic.make_build(settings.build_db, loaded_at=datetime(2020, 1, 1, tzinfo=UTC))
    return run_gate(settings, _passing_dbt(synthetic))


@pytest.fixture(scope="module")
def dirty_gate(tmp_path_factory: pytest.TempPathFactory, synthetic: ModuleType) -> GateResult:
    """Planted problems: 37 negative counts, 11 BE years, 5 bad sex totals, a missing mart, a shrink."""
    settings = synthetic.make_settings(tmp_path_factory.mktemp("dirty") / "home")
    synthetic.make_build(
        settings.build_db, negative_detained=37, be_years=11, bad_sex_totals=5, drop=("fct_figure_claims",)
    )
    version = settings.published_dir / "20250101T000000.000000Z-deadbeef"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(json.dumps({"row_counts": {"marts.fct_raids": 3000}}))
    settings.current_dir.symlink_to(version.relative_to(settings.warehouse_dir))
    return run_gate(settings, _passing_dbt(synthetic))


def test_clean_build_passes_with_warn_only(clean_gate: GateResult) -> None:
    assert clean_gate.passed is True
    assert clean_gate.blocking_failures == []
    assert "freshness.rtp_raids" in clean_gate.warnings
    checks = _checks(clean_gate)
    assert checks["fct_raids.raid_id.unique"]["success"] is True
    assert checks["fct_raids.raid_id.unique"]["unexpected_count"] == 0
    assert checks["test.bw.unique_fct_raids_raid_id"]["suite"] == "dbt"
    assert {c["suite"] for c in clean_gate.checks} >= {"fct_raids", "reconciliation", "freshness", "dbt"}
    assert len(clean_gate.checks) > 80


def test_fresh_loads_do_not_warn(tmp_path: Path, synthetic: ModuleType) -> None:
    settings = synthetic.make_settings(tmp_path / "home")
    synthetic.make_build(settings.build_db, raids=50)
    result = run_gate(settings, _passing_dbt(synthetic))
    assert result.passed is True, result.blocking_failures
    assert not [w for w in result.warnings if w.startswith("freshness.")]


def test_block_severity_failures_block_with_exact_counts(dirty_gate: GateResult) -> None:
    assert dirty_gate.passed is False
    checks = _checks(dirty_gate)
    assert checks["fct_raids.persons_detained.non_negative"]["unexpected_count"] == 37
    assert checks["fct_raids.date_start.plausible_year"]["unexpected_count"] == 11
    assert checks["fct_raids.date_start.not_in_future"]["unexpected_count"] == 11
    assert checks["reconciliation.deportation_male_plus_female_eq_total"]["unexpected_count"] == 5
    assert checks["reconciliation.deportation_parts_le_total"]["unexpected_count"] == 5
    assert checks["fct_raids.volume_vs_published"]["details"]["observed_value"] == 1200
    for name in (
        "fct_raids.persons_detained.non_negative",
        "fct_raids.date_start.plausible_year",
        "reconciliation.deportation_male_plus_female_eq_total",
        "fct_raids.volume_vs_published",
        "fct_figure_claims.table_exists",
    ):
        assert name in dirty_gate.blocking_failures
    assert "fct_figure_claims.claim_id.unique" not in checks
    assert checks["fct_deportations.persons_total.non_negative"]["success"] is True


def test_verdict_round_trips_through_json(dirty_gate: GateResult) -> None:
    payload = json.loads(json.dumps(dirty_gate.as_dict()))
    assert GateResult.from_dict(payload) == dirty_gate


def test_reports_are_written_even_on_failure(dirty_gate: GateResult) -> None:
    summary = json.loads(Path(dirty_gate.summary_path).read_text())
    assert summary["passed"] is False
    assert summary["blocking_failures"] == dirty_gate.blocking_failures
    assert Path(dirty_gate.summary_path).parent.name == dirty_gate.run_id
    assert Path(dirty_gate.data_docs_path).is_file()
    alerts = Path(dirty_gate.summary_path).parents[2] / "alerts" / f"gate-{dirty_gate.run_id}.json"
    assert json.loads(alerts.read_text())["blocking_failures"] == dirty_gate.blocking_failures


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.extend(v for k, v in attrs if k == "href" and v)


def _rendered_text(index: Path) -> str:
    """The page as a browser shows it (headless chromium when installed), else the parsed HTML."""
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser:
        out = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={index.parent.parent / 'chromium-profile'}",
                "--dump-dom",
                index.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        html = out.stdout
    else:
        html = index.read_text(encoding="utf-8")
    parser = _TextCollector()
    parser.feed(html)
    return " ".join(parser.text) + " " + " ".join(parser.links)


def test_data_docs_index_lists_every_suite(dirty_gate: GateResult) -> None:
    index = Path(dirty_gate.data_docs_path)
    assert index.parent.parent.name == dirty_gate.run_id
    text = _rendered_text(index)
    suites = {p.stem for p in EXPECTATIONS.glob("*.json")} - {"checkpoint", "fct_figure_claims"}
    for suite in [*suites, "freshness"]:
        assert suite in text, f"suite {suite} missing from Data Docs index"
    validation_pages = list((index.parent / "validations").rglob("*.html"))
    assert len(validation_pages) >= 13  # 12 stored suites ran (one mart missing) + freshness


def test_dbt_failures_block_and_warns_warn(synthetic: ModuleType) -> None:
    build = synthetic.FakeBuildResult(
        ok=False,
        results=[
            {"unique_id": "test.a", "resource_type": "test", "status": "fail", "failures": 4, "message": "x"},
            {"unique_id": "test.b", "resource_type": "test", "status": "warn", "failures": 2, "message": "y"},
            {
                "unique_id": "test.c",
                "resource_type": "test",
                "status": "pass",
                "failures": 0,
                "message": None,
            },
            {
                "unique_id": "model.d",
                "resource_type": "model",
                "status": "error",
                "failures": None,
                "message": "z",
            },
            {"unique_id": "model.e", "resource_type": "model", "status": "success", "failures": None},
        ],
    )
    checks = {c["name"]: c for c in dbt_checks(build)}
    assert checks["test.a"]["severity"] == "block" and checks["test.a"]["success"] is False
    assert checks["test.a"]["unexpected_count"] == 4
    assert checks["test.b"]["severity"] == "warn" and checks["test.b"]["success"] is False
    assert checks["test.c"]["success"] is True
    assert checks["model.d"]["severity"] == "block" and checks["model.d"]["success"] is False
    assert "model.e" not in checks


def test_failed_dbt_build_without_results_blocks(synthetic: ModuleType) -> None:
    checks = dbt_checks(synthetic.FakeBuildResult(ok=False, results=[]))
    assert [(c["name"], c["success"]) for c in checks] == [("dbt.build", False)]


def test_every_stored_expectation_has_a_severity() -> None:
    suites = load_suites(EXPECTATIONS)
    assert {s.name for s in suites} >= {"fct_raids", "fct_deportations", "reconciliation", "dim_country"}
    for suite in suites:
        for exp in suite.expectations:
            assert exp["meta"]["severity"] in ("block", "warn")


def test_bad_severity_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(
        json.dumps(
            {
                "name": "x",
                "meta": {"borderwatch": {"table": "t"}},
                "expectations": [
                    {
                        "type": "expect_column_to_exist",
                        "kwargs": {"column": "a"},
                        "meta": {"severity": "fatal"},
                    }
                ],
            }
        )
    )
    with pytest.raises(SuiteError, match=r"meta\.severity"):
        load_suites(tmp_path)


def test_notifier_is_pluggable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "bw_test_notifier.py"
    module.write_text(
        "import json, os\n"
        "def notify(result):\n"
        "    open(os.environ['BW_NOTIFY_OUT'], 'w').write(json.dumps(result.blocking_failures))\n"
    )
    out = tmp_path / "notified.json"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BORDERWATCH_NOTIFIER", "bw_test_notifier:notify")
    monkeypatch.setenv("BW_NOTIFY_OUT", str(out))
    result = GateResult(
        passed=False, blocking_failures=["x.y"], summary_path=tmp_path / "r" / "gate" / "1" / "s.json"
    )
    notify_failure(result)
    assert json.loads(out.read_text()) == ["x.y"]
    out.unlink()
    notify_failure(GateResult(passed=False, blocking_failures=["x.y"], run_id="n2"))
    notify_failure(GateResult(passed=False, blocking_failures=["x.y"], run_id="n2"))
    assert out.exists()
    out.unlink()
    notify_failure(GateResult(passed=False, blocking_failures=["x.y"], run_id="n2"))
    assert not out.exists()  # one alert per gate run, even if a caller notifies again
    assert not (tmp_path / "r" / "alerts").exists()


def test_broken_notifier_falls_back_to_alert_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BORDERWATCH_NOTIFIER", "no_such_module_bw:notify")
    result = GateResult(
        passed=False,
        blocking_failures=["x.y"],
        run_id="r1",
        summary_path=tmp_path / "r" / "gate" / "r1" / "s.json",
    )
    notify_failure(result)
    assert json.loads((tmp_path / "r" / "alerts" / "gate-r1.json").read_text())["blocking_failures"] == [
        "x.y"
    ]


def test_gate_fails_closed_when_build_file_is_missing(tmp_path: Path, synthetic: ModuleType) -> None:
    settings = synthetic.make_settings(tmp_path / "home")
    result = run_gate(settings, _passing_dbt(synthetic))
    assert result.passed is False
    assert result.blocking_failures == ["gx.suites_ran"]
    assert "does not exist" in _checks(result)["gx.suites_ran"]["details"]["error"]
