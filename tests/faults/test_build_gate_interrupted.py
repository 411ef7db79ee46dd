"""Fault class: the dbt build or the audit dies half-way: kill -9, or a full disk (held in issue 10's run).

Expected fate: the writer lock is released with the process; nothing is published and `current` stays on
its complete, verified version; rerunning the step gives the same marts and verdict as an uninterrupted
run, and publishing then changes nothing (same content). The disk is "full" through RLIMIT_FSIZE in a
child process. Runs dbt and GX: marked slow. (How the disk-full error reads is item 12's row.)
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import Settings, get_settings
from borderwatch.publish import Publication, current_version, list_versions, verify_version
from borderwatch.warehouse import dbt_log_dir, mart_row_counts

pytestmark = pytest.mark.slow

RAW_FIXTURE = Path(__file__).resolve().parents[1] / "warehouse" / "wh_raw_fixture.py"

STEP = r"""
import json, resource, signal, sys
from borderwatch import pipeline
from borderwatch.config import get_settings
settings = get_settings(sys.argv[1])
if int(sys.argv[4]):  # a full disk: writes past this size fail with EFBIG
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[4]), int(sys.argv[4])))
if sys.argv[2] == "build":
    print("started", flush=True)
    pipeline.build(settings, full_refresh=True)
else:
    built = pipeline.Built.from_dict(json.loads(sys.argv[3]))
    print("started", flush=True)
    pipeline.audit(settings, built)
print("finished", flush=True)
"""


def _raw_fixture() -> ModuleType:
    """The warehouse tests' raw-schema builder (two loads of every feed), imported by path."""
    spec = importlib.util.spec_from_file_location("wh_raw_fixture", RAW_FIXTURE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Published:
    settings: Settings
    built: pipeline.Built
    publication: Publication
    counts: dict[str, int]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """Raw loaded, built, audited and published once, uninterrupted: the reference for the crashes."""
    settings = get_settings(tmp_path_factory.mktemp("crash") / "home")
    settings.ensure_dirs()
    raw = _raw_fixture()
    con = duckdb.connect(str(settings.build_db))
    tables = raw.create_raw_schema(con, settings.feeds_dir)
    raw.load_first(con, tables)
    raw.load_second(con, tables)
    con.close()
    built = pipeline.build(settings, full_refresh=True)
    audited = pipeline.audit(settings, built)
    assert built.ok and audited.passed, audited.gate.as_dict()
    publication = pipeline.publish(settings, audited, notify=False)
    yield Published(settings, built, publication, mart_row_counts(settings.build_db))


def _kill_mid_step(settings: Settings, step: str, payload: str, started: Path | None) -> None:
    """Start the step in a child process; SIGKILL it once it is working (``started`` has appeared)."""
    child = subprocess.Popen(
        [sys.executable, "-c", STEP, str(settings.home), step, payload, "0"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "started"
        for _ in range(600):
            if started is None or (started.is_file() and "START" in started.read_text(errors="replace")):
                break
            time.sleep(0.1)
        time.sleep(2.0)  # well inside the step (dbt build ~30 s, audit ~25 s here)
        assert child.poll() is None, "the step finished before it could be killed"
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)


def _assert_current_untouched(done: Published) -> None:
    settings = done.settings
    assert current_version(settings) == done.publication.version
    assert list_versions(settings) == [done.publication.version]
    manifest = json.loads(done.publication.manifest_path.read_text(encoding="utf-8"))
    assert verify_version(done.publication.path, manifest) == []
    with pipeline.build_file_access(settings, timeout=0):  # the dead process's lock is gone
        pass


def test_kill_9_during_dbt_build(published: Published) -> None:
    """Fate: lock released, nothing published; the rerun builds the same marts; publishing adds nothing."""
    settings = published.settings
    log = dbt_log_dir(settings) / "dbt.log"
    log.unlink(missing_ok=True)
    _kill_mid_step(settings, "build", "", log)
    _assert_current_untouched(published)

    built = pipeline.build(settings, full_refresh=True)
    assert built.ok and mart_row_counts(settings.build_db) == published.counts
    audited = pipeline.audit(settings, built)
    assert audited.passed
    assert pipeline.publish(settings, audited, notify=False).unchanged
    assert list_versions(settings) == [published.publication.version]


def test_kill_9_during_audit(published: Published) -> None:
    """Fate: nothing published; re-auditing the same candidate passes and publishing it adds nothing."""
    settings = published.settings
    built = pipeline.build(settings, full_refresh=True)
    _kill_mid_step(settings, "audit", json.dumps(built.as_dict()), None)
    _assert_current_untouched(published)

    audited = pipeline.audit(settings, built)
    assert audited.passed
    assert pipeline.publish(settings, audited, notify=False).unchanged


@pytest.mark.parametrize(("step", "limit"), [("build", 2_000_000), ("build", 65_536), ("audit", 65_536)])
def test_disk_full_during_build_or_audit(published: Published, step: str, limit: int) -> None:
    """Fate: the step fails or blocks; nothing published; with space back it reruns to the same result."""
    settings = published.settings
    built = pipeline.build(settings, full_refresh=True) if step == "audit" else published.built
    payload = json.dumps(built.as_dict()) if step == "audit" else ""
    child = subprocess.run(
        [sys.executable, "-c", STEP, str(settings.home), step, payload, str(limit)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode != 0 or step == "audit", child.stdout[-2000:]
    _assert_current_untouched(published)

    if step == "build":
        built = pipeline.build(settings, full_refresh=True)
        assert built.ok and mart_row_counts(settings.build_db) == published.counts
    audited = pipeline.audit(settings, built)
    assert audited.passed
    assert pipeline.publish(settings, audited, notify=False).unchanged
