"""Unit tests of the orchestration helpers: feed entries, trigger, notifier, payloads, env, backfill."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import date

import pytest

from borderwatch.orchestration import factory
from borderwatch.orchestration.backfill import BackfillRangeError, airflow_backfill_args, logical_dates
from borderwatch.orchestration.local import airflow_env, summarize_run
from borderwatch.orchestration.notifiers import AlertFileNotifier, alert_file_name
from borderwatch.orchestration.steps import feeds_with_new_rows, write_run_summary
from borderwatch.orchestration.triggers import InboxTrigger, new_arrivals, scan_inbox
from borderwatch.specs import load_specs

from .conftest import REPO_ROOT


def test_cheap_feed_reader_agrees_with_the_validated_specs():
    specs = load_specs(REPO_ROOT / "feeds")
    entries = {e.name: e for e in factory.read_feed_entries(REPO_ROOT / "feeds")}
    assert set(entries) == set(specs)
    for name, spec in specs.items():
        assert entries[name].schedule == spec.schedule
        expected = {g for g in (spec.inbox_glob, spec.source.inbox_glob) if g}
        assert set(entries[name].inbox_globs) == expected


def test_feed_entry_names_the_fix_when_the_spec_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"add feeds/nope.yaml"):
        factory.feed_entry("nope", tmp_path)


def test_the_factory_reads_specs_with_the_real_loader_and_sees_edits(tmp_path):
    import shutil

    from borderwatch.specs import FeedSpecError

    spec = tmp_path / "kh_gdi_deportations.yaml"
    shutil.copy(REPO_ROOT / "feeds" / "kh_gdi_deportations.yaml", spec)
    (entry,) = factory.read_feed_entries(tmp_path)
    assert entry.name == "kh_gdi_deportations" and entry.inbox_globs
    spec.write_text(spec.read_text().replace("schedule:", "schedule: '0 6 * * *'\nold_schedule:", 1))
    with pytest.raises(FeedSpecError, match=r"kh_gdi_deportations.yaml.*old_schedule"):
        factory.read_feed_entries(tmp_path)  # a regex reader would have accepted the unknown key


def test_new_arrivals_waits_for_settled_files_and_announces_each_version_once():
    announced: dict[str, tuple[int, int]] = {}
    now = 10_000_000_000
    fresh = {"a.csv": (10, now - 100)}
    assert new_arrivals(fresh, announced, now_ns=now, settle_ns=1_000_000) == []  # still being written
    settled = {"a.csv": (10, now - 5_000_000)}
    assert new_arrivals(settled, announced, now_ns=now, settle_ns=1_000_000) == ["a.csv"]
    assert new_arrivals(settled, announced, now_ns=now, settle_ns=1_000_000) == []  # not twice
    assert new_arrivals({}, announced, now_ns=now, settle_ns=1_000_000) == []  # ingested: forgotten
    assert new_arrivals(settled, announced, now_ns=now, settle_ns=1_000_000) == ["a.csv"]  # re-delivered


def test_scan_inbox_ignores_dotfiles_directories_and_other_names(tmp_path):
    (tmp_path / "kh_gdi_deportations_2025-04-01.csv").write_text("x")
    (tmp_path / ".kh_gdi_deportations_partial.csv").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".rejected").mkdir()
    found = scan_inbox(tmp_path, ["kh_gdi_deportations*.csv"])
    assert list(found) == ["kh_gdi_deportations_2025-04-01.csv"]
    assert scan_inbox(tmp_path / "missing", ["*"]) == {}


def test_inbox_trigger_serializes_to_an_importable_classpath(tmp_path):
    trigger = InboxTrigger(inbox_dir=str(tmp_path), patterns=["a*.csv"], poll_interval=0.05)
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    assert cls is InboxTrigger
    assert cls(**kwargs).serialize() == (classpath, kwargs)


def test_inbox_trigger_fires_with_the_dropped_file_names(tmp_path):
    trigger = InboxTrigger(inbox_dir=str(tmp_path), patterns=["a*.csv"], poll_interval=0.05, settle_seconds=0)

    async def first_event():
        gen = trigger.run()
        try:
            return await asyncio.wait_for(gen.__anext__(), timeout=5)
        finally:
            await gen.aclose()

    (tmp_path / "a_1.csv").write_text("x")
    (tmp_path / "b_1.csv").write_text("x")
    event = asyncio.run(first_event())
    assert event.payload == {"inbox": str(tmp_path), "files": ["a_1.csv"]}


def test_alert_notifier_writes_one_json_alert(tmp_path):
    class TI:
        dag_id, task_id, run_id, try_number = "warehouse_refresh", "dbt_build", "manual__x", 3

    AlertFileNotifier(alerts_dir=str(tmp_path)).notify({"ti": TI(), "exception": ValueError("boom")})
    (alert,) = tmp_path.glob("*.json")
    payload = json.loads(alert.read_text())
    assert payload["task_id"] == "dbt_build" and payload["exception"] == "ValueError: boom"
    assert alert.name == alert_file_name(payload)


def test_alert_notifier_never_raises_when_the_sink_is_broken(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    AlertFileNotifier(alerts_dir=str(blocker / "sub")).notify({})


def test_only_feeds_that_gained_rows_get_asset_events():
    loads = [
        {"feed": "a", "status": "loaded", "rows_loaded": 3},
        {"feed": "b", "status": "unchanged", "rows_loaded": 0},
        {"feed": "c", "status": "failed", "rows_loaded": 0},
    ]
    assert feeds_with_new_rows(loads) == ["a"]


def test_announce_skips_without_new_rows_and_adds_alias_events_otherwise():
    from airflow.sdk.exceptions import AirflowSkipException

    from borderwatch.orchestration.steps import announce_feed_events

    with pytest.raises(AirflowSkipException):
        announce_feed_events({"loads": [], "feeds_with_new_rows": []}, {})

    added = []

    class Accessor:
        def add(self, asset, extra=None):
            added.append((asset.uri, extra))

    class Events(dict):
        def __getitem__(self, key):
            return Accessor()

    result = {"loads": [{"feed": "a", "rows_loaded": 4}], "feeds_with_new_rows": ["a"]}
    assert announce_feed_events(result, Events()) == ["a"]
    assert added == [("borderwatch://raw/a", {"rows_loaded": 4})]


def test_run_summary_is_written_and_condensed(bw_settings):
    path = write_run_summary(
        "scheduled__2025-04-01T02:00:00+00:00",
        {
            "loads": {"loads": [{"feed": "a", "status": "loaded", "rows_loaded": 2, "x": 1}], "new_rows": 2},
            "gate": {"passed": True, "blocking_failures": []},
            "publication": {"version": "v1"},
        },
        settings=bw_settings,
    )
    assert path.parent == bw_settings.reports_dir / "runs" and ":" not in path.name
    summary = summarize_run(json.loads(path.read_text()), {"version": "v1", "row_counts": {"fct": 5}})
    assert summary["loads"] == [{"feed": "a", "status": "loaded", "rows_loaded": 2, "x": 1}]
    assert summary["new_rows"] == 2
    assert summary["version"] == "v1" and summary["row_counts"] == {"fct": 5}
    assert summary["gate"]["passed"] is True


def test_airflow_env_is_isolated_loopback_and_shares_one_secret(bw_settings, monkeypatch):
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    env = airflow_env(bw_settings, api_port=18080, simulator_url="http://127.0.0.1:9")
    assert env["AIRFLOW_HOME"] == str(bw_settings.home / "airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:////")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "True"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO_ROOT / "dags")
    assert env["BORDERWATCH_SIMULATOR_URL"] == "http://127.0.0.1:9"
    assert env["PATH"].split(os.pathsep)[0].endswith("bin")
    again = airflow_env(bw_settings)
    assert again["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 64
    secret_file = bw_settings.home / "airflow" / ".jwt_secret"
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"


def test_backfill_dates_and_airflow_args():
    assert logical_dates(date(2025, 3, 30), date(2025, 4, 1)) == [
        date(2025, 3, 30),
        date(2025, 3, 31),
        date(2025, 4, 1),
    ]
    with pytest.raises(BackfillRangeError, match="--from 2025-04-02 --to 2025-04-01"):
        logical_dates(date(2025, 4, 2), date(2025, 4, 1))
    args = airflow_backfill_args(date(2025, 3, 1), date(2025, 3, 3))
    assert args[:4] == ["backfill", "create", "--dag-id", "warehouse_refresh"]
    assert args[args.index("--reprocess-behavior") + 1] == "completed"


def test_inbox_trigger_settle_time_uses_mtime(tmp_path):
    path = tmp_path / "a_1.csv"
    path.write_text("x")
    snapshot = scan_inbox(tmp_path, ["a*.csv"])
    assert snapshot["a_1.csv"][0] == 1
    assert abs(snapshot["a_1.csv"][1] / 1e9 - time.time()) < 60


def test_one_mart_event_per_changed_mart_with_version_and_row_count():
    from borderwatch.orchestration.assets import changed_marts

    before = {
        "version": "v1",
        "content": {"marts.fct_deportations": "10:111", "marts.fct_raids": "5:55", "reference.x": "1:1"},
        "row_counts": {"marts.fct_deportations": 10, "marts.fct_raids": 5},
    }
    after = {
        "version": "v2",
        "content": {
            "marts.fct_deportations": "12:999",
            "marts.fct_raids": "5:55",
            "marts.fct_new": "3:3",
            "reference.x": "2:2",
        },
        "row_counts": {"marts.fct_deportations": 12, "marts.fct_raids": 5, "marts.fct_new": 3},
    }
    changed = changed_marts(before, after)
    assert set(changed) == {"fct_deportations", "fct_new"}, "unchanged marts and reference tables: no event"
    assert changed["fct_deportations"]["version"] == "v2"
    assert changed["fct_deportations"]["row_count"] == 12
    assert changed["fct_deportations"]["previous_version"] == "v1"
    assert set(changed_marts(None, after)) == {"fct_deportations", "fct_raids", "fct_new"}
    assert changed_marts(after, after) == {}


def test_notifiers_are_configured_from_airflow_notifier_classes(tmp_path):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from borderwatch.orchestration.notifiers import NotifierConfigError, configured_notifiers

    assert [type(n) for n in configured_notifiers({})] == [AlertFileNotifier]
    spec = json.dumps(
        [
            {
                "class": "borderwatch.orchestration.notifiers.AlertFileNotifier",
                "kwargs": {"alerts_dir": "/x"},
            },
            {
                "class": "airflow.providers.smtp.notifications.smtp.SmtpNotifier",
                "kwargs": {"to": "oncall@example.org", "smtp_conn_id": "smtp_default"},
            },
        ]
    )
    notifiers = configured_notifiers({"AIRFLOW_VAR_BORDERWATCH_NOTIFIERS": spec})
    assert [type(n) for n in notifiers] == [AlertFileNotifier, SmtpNotifier]
    assert notifiers[0].alerts_dir == "/x"
    with pytest.raises(NotifierConfigError, match="not an Airflow BaseNotifier"):
        configured_notifiers({"BORDERWATCH_NOTIFIERS": '["borderwatch.config.Settings"]'})
    with pytest.raises(NotifierConfigError, match="cannot import notifier"):
        configured_notifiers({"BORDERWATCH_NOTIFIERS": '["no.such.Notifier"]'})
    with pytest.raises(NotifierConfigError, match="valid JSON"):
        configured_notifiers({"BORDERWATCH_NOTIFIERS": "AlertFileNotifier"})


def test_every_dag_task_uses_the_configured_notifiers(monkeypatch):
    monkeypatch.setenv(
        "BORDERWATCH_NOTIFIERS",
        json.dumps(
            [
                {
                    "class": "borderwatch.orchestration.notifiers.AlertFileNotifier",
                    "kwargs": {"alerts_dir": "/a"},
                }
            ]
        ),
    )
    (notifier,) = factory.default_args()["on_failure_callback"]
    assert isinstance(notifier, AlertFileNotifier) and notifier.alerts_dir == "/a"


def test_a_scheduler_backfill_owns_its_new_runs_and_the_completed_runs_it_cleared():
    from datetime import UTC, datetime

    from borderwatch.orchestration.backfill import select_backfill_runs

    asked = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    runs = [
        {"run_id": "scheduled__1", "state": "success", "start_date": "2026-11-30T02:00:00+00:00"},
        {"run_id": "scheduled__2", "state": "running", "start_date": "2026-12-01T12:00:05+00:00"},
        {"run_id": "backfill__3", "state": "queued", "start_date": ""},
        {"run_id": "manual__x", "state": "failed", "start_date": "2026-12-01T11:00:00+00:00"},
        {"run_id": "scheduled__today", "state": "running", "start_date": "2026-12-01T12:00:09+00:00"},
    ]
    days = ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-02", "2026-11-30"]
    for run, day in zip(runs, days, strict=True):
        run["logical_date"] = f"{day}T19:00:00+00:00"
    chosen = [r["run_id"] for r in select_backfill_runs(runs, asked, date(2025, 3, 3), date(2025, 3, 4))]
    assert chosen == ["scheduled__2", "backfill__3"], "the backfill's runs only: not the nightly tick"


def test_list_runs_json_is_found_between_log_lines():
    from borderwatch.orchestration.backfill import parse_json_list

    output = '2026-12-01T16:30:00Z [info     ] Filling up the DagBag [airflow]\n[{"run_id": "backfill__x"}]\n'
    assert parse_json_list(output) == [{"run_id": "backfill__x"}]
    assert parse_json_list("[warning] nothing\nNo data found\n") == []


@pytest.mark.parametrize("step", ["ingest_feeds", "ingest_inbox_only", "run_build"])
def test_a_task_on_a_mistyped_home_fails_and_creates_nothing(step, tmp_path, monkeypatch):
    """A deployment whose BORDERWATCH_HOME has a typo must fail the task, not start an empty installation."""
    from borderwatch.config import HomeNotInitialisedError
    from borderwatch.orchestration import steps

    typo = tmp_path / "bordrewatch-home"
    monkeypatch.setenv("BORDERWATCH_HOME", str(typo))
    with pytest.raises(HomeNotInitialisedError, match="borderwatch init --home"):
        getattr(steps, step)()
    assert not typo.exists()
