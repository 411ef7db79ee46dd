"""Crash safety: SIGKILL at every step, disk full, and readers during twenty publications."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.publish import CRASH_STEPS, current_version, list_versions, sha256_file

PUBLISH_SCRIPT = textwrap.dedent(
    """
    import sys
    from borderwatch import pipeline
    from borderwatch.config import get_settings
    from borderwatch.gate import GateResult
    settings = get_settings(sys.argv[1])
    audited = pipeline.Audited(pipeline.snapshot(settings), GateResult(passed=True, run_id="sub"))
    pipeline.publish(settings, audited, notify=False)
    print("published")
    """
)


def _assert_current_complete(settings: Settings) -> dict:
    """current resolves to a version whose every file matches its manifest."""
    version_dir = settings.current_dir.resolve()
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["version"] == current_version(settings)
    for rel, digest in manifest["files"].items():
        assert sha256_file(version_dir / rel) == digest
    con = duckdb.connect(str(settings.current_db), read_only=True)
    try:
        assert (
            con.execute("select count(*) from marts.fct_raids").fetchone()[0]
            == manifest["row_counts"]["marts.fct_raids"]
        )
    finally:
        con.close()
    return manifest


def _run(home: Path, env_extra: dict[str, str], script: str = PUBLISH_SCRIPT) -> subprocess.CompletedProcess:
    env = dict(os.environ, **env_extra)
    return subprocess.run(
        [sys.executable, "-c", script, str(home)], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("step", CRASH_STEPS)
def test_sigkill_at_each_step_leaves_a_complete_current(
    step: str, home: Settings, passed: GateResult, synthetic: ModuleType, publish_now
) -> None:
    first = publish_now(home, passed)
    synthetic.make_build(home.build_db, raids=333)
    proc = _run(home.home, {"BORDERWATCH_PUBLISH_CRASH_AT": step})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    manifest = _assert_current_complete(home)
    # before the switch, readers still see the old version; after it, the new one, complete
    expected_rows = 333 if step == "retention" else 300
    assert manifest["row_counts"]["marts.fct_raids"] == expected_rows
    if step != "retention":
        assert current_version(home) == first.version
    again = publish_now(home, passed)
    assert current_version(home) == again.version
    assert _assert_current_complete(home)["row_counts"]["marts.fct_raids"] == 333
    leftovers = [p.name for p in home.published_dir.iterdir() if p.name.startswith(".")]
    leftovers += [p.name for p in home.warehouse_dir.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


DISK_FULL_SCRIPT = textwrap.dedent(
    """
    import resource, signal, sys
    from borderwatch import pipeline
    from borderwatch.config import get_settings
    from borderwatch.gate import GateResult
    from borderwatch.publish import PublishError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # make oversize writes fail with EFBIG, not kill us
    limit = int(sys.argv[2])
    settings = get_settings(sys.argv[1])
    candidate = pipeline.snapshot(settings)  # taken before the limit: the build is what we test
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        pipeline.publish(settings, pipeline.Audited(candidate, GateResult(passed=True)), notify=False)
    except PublishError as exc:
        print("PublishError:", exc)
        sys.exit(3)
    print("published")
    """
)


def test_disk_full_is_a_clean_error_and_current_stays(
    home: Settings, passed: GateResult, synthetic: ModuleType, publish_now
) -> None:
    first = publish_now(home, passed)
    before = sha256_file(home.current_db)
    synthetic.make_build(home.build_db, raids=20_000)
    limit = 16 * 1024  # the database is linked, not written: the Parquet export meets the limit
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-c", DISK_FULL_SCRIPT, str(home.home), str(limit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "disk full" in proc.stdout
    assert current_version(home) == first.version
    assert sha256_file(home.current_db) == before
    assert list_versions(home) == [first.version]
    assert [p.name for p in home.published_dir.iterdir() if p.name.startswith(".")] == []


READER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, duckdb
    db, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    import os
    seen, errors = [], []
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(db, read_only=True)
            try:
                counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
                          for t in ("fct_raids", "fct_raid_persons", "fct_deportations")}
            finally:
                con.close()
            seen.append(counts)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    json.dump({"seen": seen, "errors": errors}, open(out, "w"))
    """
)


@pytest.mark.slow
def test_reader_never_sees_a_mix_through_twenty_publications(
    home: Settings, passed: GateResult, synthetic: ModuleType, tmp_path: Path, publish_now
) -> None:
    publish_now(home, passed)
    valid = [{"fct_raids": 300, "fct_raid_persons": 300, "fct_deportations": 300}]
    out, stop = tmp_path / "reader.json", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(home.current_db), str(out), str(stop)]
    )
    try:
        for i in range(20):
            raids = 100 + 17 * i
            synthetic.make_build(home.build_db, raids=raids)
            pub = publish_now(home, passed)
            valid.append({"fct_raids": raids, "fct_raid_persons": raids, "fct_deportations": 300})
            assert pub.row_counts["marts.fct_raids"] == raids
            time.sleep(0.02)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())
    assert result["errors"] == []
    assert len(result["seen"]) > 20
    for counts in result["seen"]:
        assert counts in valid
    assert len({json.dumps(c, sort_keys=True) for c in result["seen"]}) > 2
    assert len(list_versions(home)) == 3


SNAPSHOT_DISK_FULL = textwrap.dedent(
    """
    import resource, signal, sys
    from borderwatch import pipeline
    from borderwatch.config import get_settings
    from borderwatch.publish import PublishError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    settings = get_settings(sys.argv[1])
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        pipeline.snapshot(settings)
    except PublishError as exc:
        print("PublishError:", exc)
        sys.exit(3)
    print("snapshotted")
    """
)


def test_disk_full_while_snapshotting_the_candidate_is_a_clean_error(
    home: Settings, passed: GateResult, synthetic: ModuleType, publish_now
) -> None:
    """Fate: a "disk full" error naming the fix; `current` and its bytes unchanged; no half candidate left."""
    first = publish_now(home, passed)
    before = sha256_file(home.current_db)
    synthetic.make_build(home.build_db, raids=20_000)
    limit = home.build_db.stat().st_size // 2
    proc = subprocess.run(
        [sys.executable, "-c", SNAPSHOT_DISK_FULL, str(home.home), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "disk full" in proc.stdout and "Free space" in proc.stdout
    assert current_version(home) == first.version and sha256_file(home.current_db) == before
    assert [p.name for p in (home.warehouse_dir / "candidates").iterdir()] == []
