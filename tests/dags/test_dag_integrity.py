"""Every DAG file imports cleanly, follows the house conventions, and parses fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderwatch.orchestration.factory import (
    BUILD_POOL,
    MART_ALIAS_NAME,
    OWNER,
    PUBLISHED_ASSET_URI,
    feed_asset,
    mart_asset,
)
from borderwatch.specs import load_specs

from .conftest import DAGS_DIR, REPO_ROOT

FEEDS = sorted(load_specs(REPO_ROOT / "feeds"))
EXPECTED_DAG_IDS = {
    *(f"ingest_{feed}" for feed in FEEDS),
    "inbox_watch",
    "warehouse_refresh",
    "bi_refresh",
    "deportations_watch",
}
PARSE_BUDGET_SECONDS = 2.0
# Tasks that open the DuckDB build file for writing (directly or through the writer lock).
BUILD_WRITERS = {
    **{f"ingest_{feed}": {"ingest"} for feed in FEEDS},
    "inbox_watch": {"ingest_inbox"},
    "warehouse_refresh": {"ingest_all_feeds", "dbt_build", "quality_gate", "publish"},
}


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dag_ids(dagbag):
    assert set(dagbag.dag_ids) == EXPECTED_DAG_IDS


def test_one_dag_per_file_and_stem_is_dag_id(dagbag):
    files = {path.stem for path in DAGS_DIR.glob("*.py")}
    assert files == EXPECTED_DAG_IDS
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAG_IDS))
def test_conventions(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.catchup is False
    assert dag.tags and "borderwatch" in dag.tags
    assert dag.doc_md and dag.doc_md.lstrip().startswith(f"# {dag_id}")
    assert dag.owner == OWNER
    for task in dag.tasks:
        assert task.retries >= 2, task.task_id
        assert task.retry_exponential_backoff, task.task_id
        assert task.on_failure_callback, task.task_id


@pytest.mark.parametrize("dag_id", sorted(BUILD_WRITERS))
def test_build_file_writers_share_the_size_one_pool(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    in_pool = {t.task_id for t in dag.tasks if t.pool == BUILD_POOL}
    assert BUILD_WRITERS[dag_id] <= in_pool


def test_ingest_dags_follow_the_spec_schedule_and_emit_their_asset(dagbag):
    specs = load_specs(REPO_ROOT / "feeds")
    for feed, spec in specs.items():
        dag = dagbag.dags[f"ingest_{feed}"]
        assert dag.schedule == spec.schedule
        outlets = [o for t in dag.tasks for o in t.outlets]
        assert [o.uri for o in outlets] == [feed_asset(feed).uri]
        emitter = next(t for t in dag.tasks if t.outlets)
        assert emitter.upstream_task_ids == {"ingest"}


def test_warehouse_refresh_is_asset_or_nightly_cron(dagbag):
    from airflow.sdk import AssetAny, AssetOrTimeSchedule, CronTriggerTimetable

    dag = dagbag.dags["warehouse_refresh"]
    timetable = dag.timetable
    assert isinstance(timetable, AssetOrTimeSchedule)
    assert isinstance(timetable.timetable, CronTriggerTimetable)
    assert timetable.timetable.expression == "0 2 * * *"
    assert str(timetable.timetable.timezone) == "Asia/Bangkok"
    assert isinstance(timetable.asset_condition, AssetAny)
    uris = {a.uri for a in timetable.asset_condition.objects}
    assert uris == {feed_asset(f).uri for f in FEEDS}
    assert dag.max_active_runs == 1
    assert dag.on_failure_callback


def test_warehouse_refresh_order_is_build_audit_publish(dagbag):
    dag = dagbag.dags["warehouse_refresh"]
    assert dag.get_task("dbt_build").upstream_task_ids == {"ingest_all_feeds"}
    assert dag.get_task("quality_gate").upstream_task_ids == {"dbt_build"}
    assert dag.get_task("publish").upstream_task_ids >= {"quality_gate"}
    outlets = dag.get_task("publish").outlets
    assert [getattr(o, "uri", None) for o in outlets] == [PUBLISHED_ASSET_URI, None]
    assert outlets[1].name == MART_ALIAS_NAME, "one event per changed mart goes through the alias"


def test_a_consumer_can_wait_on_fct_deportations_alone(dagbag):
    dag = dagbag.dags["deportations_watch"]
    assets = list(dag.timetable.asset_condition.objects)
    assert [a.uri for a in assets] == [mart_asset("fct_deportations").uri]
    assert assets[0].uri == "borderwatch://warehouse/marts/fct_deportations"


def test_inbox_watch_is_driven_by_the_inbox_watcher(dagbag):
    from borderwatch.orchestration.triggers import InboxTrigger

    dag = dagbag.dags["inbox_watch"]
    assets = list(dag.timetable.asset_condition.objects)
    assert [a.uri for a in assets] == ["borderwatch://inbox/"]
    (watcher,) = assets[0].watchers
    assert isinstance(watcher.trigger, InboxTrigger)
    globs = {g for spec in load_specs(REPO_ROOT / "feeds").values() for g in [spec.inbox_glob] if g}
    assert set(watcher.trigger.patterns) == globs


def test_bi_refresh_consumes_the_published_asset(dagbag):
    dag = dagbag.dags["bi_refresh"]
    assert [a.uri for a in dag.timetable.asset_condition.objects] == [PUBLISHED_ASSET_URI]


def test_parse_time_budget(dagbag):
    stats = {Path(s.file).stem: s.duration.total_seconds() for s in dagbag.dagbag_stats}
    for stem, seconds in sorted(stats.items()):
        print(f"parse {stem}: {seconds:.3f}s")
    assert set(stats) == EXPECTED_DAG_IDS
    slow = {stem: s for stem, s in stats.items() if s > PARSE_BUDGET_SECONDS}
    assert not slow, f"DAG files over the {PARSE_BUDGET_SECONDS}s parse budget: {slow}"


def test_dag_files_have_no_heavy_top_level_imports():
    heavy = ("duckdb", "dbt", "great_expectations", "pandas", "borderwatch.pipeline", "borderwatch.ingest")
    for path in DAGS_DIR.glob("*.py"):
        top = [line for line in path.read_text().splitlines() if line.startswith(("import ", "from "))]
        offenders = [line for line in top if any(h in line for h in heavy)]
        assert not offenders, f"{path.name}: heavy import at module level: {offenders}"
