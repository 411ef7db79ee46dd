"""Atomic publication: layout, verification, retention, rollback, refusal on a failed gate."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.publish import (
    Publication,
    PublishError,
    cleanup_stale,
    current_version,
    list_versions,
    sha256_file,
)
from borderwatch.warehouse import BuildResult


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and symlink under ``root``: content hash or link target (byte-level snapshot)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() union all "
            "select schema_name || '.' || view_name from duckdb_views() where not internal"
        ).fetchall()
        return {n: con.execute(f"select count(*) from {n}").fetchone()[0] for (n,) in names}
    finally:
        con.close()


def test_publish_writes_a_complete_verified_version(home: Settings, passed: GateResult, publish_now) -> None:
    pub = publish_now(home, passed, code_version="v-test")
    assert current_version(home) == pub.version == list_versions(home)[0]
    assert os.readlink(home.current_dir) == f"published/{pub.version}"
    assert os.readlink(home.current_db) == "current/warehouse.duckdb"
    assert home.current_db.resolve() == (home.published_dir / pub.version / "warehouse.duckdb").resolve()
    manifest = json.loads(pub.manifest_path.read_text())
    assert manifest["code_version"] == "v-test"
    assert manifest["gate"]["run_id"] == "test-gate"
    assert manifest["row_counts"]["marts.fct_raids"] == 300
    assert manifest["row_counts"]["reference.countries"] == 6
    assert manifest["row_counts"]["marts.fct_assistance_snapshots_latest"] == 3
    for rel, digest in manifest["files"].items():
        assert sha256_file(pub.path / rel) == digest
    assert table_counts(home.current_db) == manifest["row_counts"]
    assert not stat.S_IMODE(pub.database_path.stat().st_mode) & 0o222
    con = duckdb.connect(str(home.current_db), read_only=True)
    try:
        parquet = pub.path / "parquet" / "fct_raids" / f"{pub.version}.parquet"
        assert con.execute(f"select count(*) from '{parquet}'").fetchone() == (300,)
        latest = con.execute("select max(as_of_date) from marts.fct_assistance_snapshots_latest").fetchone()
        assert str(latest[0]) == "2025-03-31"
    finally:
        con.close()
    assert Publication.from_dict(json.loads(json.dumps(pub.as_dict()))).row_counts == pub.row_counts
    assert sorted(p.name for p in (pub.path / "parquet").iterdir()) == sorted(
        n.split(".")[1] for n in manifest["row_counts"] if n.startswith("marts.")
    )
    part = f"published/{pub.version}/parquet/fct_raids/{pub.version}.parquet"
    assert manifest["parquet"]["fct_raids"] == [part]


def test_failed_gate_changes_nothing(
    home: Settings, passed: GateResult, synthetic: ModuleType, publish_now
) -> None:
    publish_now(home, passed)
    before = tree_digest(home.warehouse_dir / "published") | {"current": os.readlink(home.current_dir)}
    synthetic.make_build(home.build_db, raids=500)
    failed = GateResult(passed=False, blocking_failures=["fct_raids.persons_detained.non_negative"])
    with pytest.raises(pipeline.PublicationBlocked, match="non_negative"):
        pipeline.publish(home, pipeline.Audited(pipeline.snapshot(home), failed), notify=False)
    after = tree_digest(home.warehouse_dir / "published") | {"current": os.readlink(home.current_dir)}
    assert after == before


@pytest.mark.slow
def test_real_gate_failure_leaves_published_files_byte_identical(
    home: Settings, passed: GateResult, synthetic: ModuleType, publish_now
) -> None:
    publish_now(home, passed)
    before = tree_digest(home.warehouse_dir / "published") | {"current": os.readlink(home.current_dir)}
    synthetic.make_build(home.build_db, raids=300, negative_detained=7)
    failed_check = {
        "unique_id": "model.borderwatch.fct_raids",
        "status": "error",
        "resource_type": "model",
        "message": "CHECK constraint failed: persons_detained >= 0",
    }
    built = pipeline.Built(BuildResult(ok=False, results=[failed_check]), pipeline.snapshot(home))
    audited = pipeline.audit(home, built)
    assert not audited.passed and "model.borderwatch.fct_raids" in audited.gate.blocking_failures
    with pytest.raises(pipeline.PublicationBlocked):
        pipeline.publish(home, audited)
    after = tree_digest(home.warehouse_dir / "published") | {"current": os.readlink(home.current_dir)}
    assert after == before


def test_rollback_restores_previous_version_exactly(
    home: Settings, passed: GateResult, synthetic: ModuleType, publish_now
) -> None:
    first = publish_now(home, passed)
    first_sha = sha256_file(home.current_db)
    synthetic.make_build(home.build_db, raids=450)
    second = publish_now(home, passed)
    assert sha256_file(home.current_db) != first_sha
    back = pipeline.rollback(home)
    assert back.version == first.version == current_version(home)
    assert sha256_file(home.current_db) == first_sha == first.files["warehouse.duckdb"]
    assert table_counts(home.current_db)["marts.fct_raids"] == 300
    forward = pipeline.rollback(home, second.version)
    assert forward.version == current_version(home) == second.version
    assert table_counts(home.current_db)["marts.fct_raids"] == 450
    with pytest.raises(PublishError, match="not found"):
        pipeline.rollback(home, "19990101T000000.000000Z-nothere")


def test_rollback_without_older_version_fails(home: Settings, passed: GateResult, publish_now) -> None:
    publish_now(home, passed)
    with pytest.raises(PublishError, match="no version older"):
        pipeline.rollback(home)


def _new_data(home: Settings, tag: str) -> None:
    """Change the build's content, as a night with new rows would."""
    con = duckdb.connect(str(home.build_db))
    try:
        con.execute(
            "insert into marts.fct_figure_claims (claim_id, value, qualifier, as_of_date, resolution) "
            "values (?, 1, 'exact', date '2025-03-31', 'accepted')",
            [f"new-{tag}"],
        )
    finally:
        con.close()


def test_an_unchanged_build_publishes_nothing_new(home: Settings, passed: GateResult, publish_now) -> None:
    first = publish_now(home, passed)
    before = sorted(p.name for p in home.published_dir.iterdir())
    again = publish_now(home, passed)
    assert again.unchanged is True and first.unchanged is False
    assert again.version == first.version == current_version(home)
    assert sorted(p.name for p in home.published_dir.iterdir()) == before
    _new_data(home, "1")
    changed = publish_now(home, passed)
    assert changed.unchanged is False and changed.version != first.version


def test_rollback_refuses_a_damaged_version(home: Settings, passed: GateResult, publish_now) -> None:
    first = publish_now(home, passed)
    _new_data(home, "1")
    publish_now(home, passed)
    db = first.database_path
    db.chmod(0o644)
    with db.open("r+b") as handle:
        handle.seek(5000)
        handle.write(b"corrupt")
    with pytest.raises(PublishError, match="damaged"):
        pipeline.rollback(home)


def test_retention_keeps_last_n_and_never_the_current(
    home: Settings, passed: GateResult, publish_now
) -> None:
    versions = []
    for night in range(5):
        _new_data(home, str(night))
        versions.append(publish_now(home, passed).version)
    assert list_versions(home) == versions[-3:]
    pipeline.rollback(home, versions[-3])
    _new_data(home, "after-rollback")
    publish_now(home, passed)
    kept = list_versions(home)
    assert len(kept) == 3 and current_version(home) == kept[-1]


def test_stale_leftovers_are_cleaned(home: Settings, passed: GateResult) -> None:
    stale_dir = home.published_dir / ".tmp-20200101T000000.000000Z-abc"
    (stale_dir / "parquet").mkdir(parents=True)
    (stale_dir / "warehouse.duckdb").write_bytes(b"half")
    stale_link = home.warehouse_dir / ".tmp-current-99999"
    stale_link.symlink_to("published/nowhere")
    removed = cleanup_stale(home)
    assert {stale_dir, stale_link} <= set(removed)
    assert not stale_dir.exists() and not stale_link.is_symlink()


def test_publishing_without_marts_is_refused(home: Settings, passed: GateResult, publish_now) -> None:
    home.build_db.unlink()
    con = duckdb.connect(str(home.build_db))
    con.execute("create schema reference; create table reference.x as select 1 as a")
    con.close()
    with pytest.raises(PublishError, match="no tables in schema 'marts'"):
        publish_now(home, passed)
    assert current_version(home) is None
    assert [p.name for p in home.published_dir.iterdir()] == []
