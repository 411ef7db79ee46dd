"""Rollback verifies every file of a version; damaged manifests name their repair; retention never leaks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.publish import (
    REPAIR_COMMAND,
    Publication,
    PublishError,
    current_version,
    list_versions,
    sha256_file,
)


def _new_data(home: Settings, tag: str) -> None:
    with duckdb.connect(str(home.build_db)) as con:
        con.execute(
            "insert into marts.fct_figure_claims (claim_id, value, qualifier, as_of_date, resolution) "
            "values (?, 1, 'exact', date '2025-03-31', 'accepted')",
            [f"new-{tag}"],
        )


def _publish_nights(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication], n: int
) -> list:
    versions = []
    for night in range(n):
        _new_data(home, f"{night}-{uuid.uuid4().hex}")
        versions.append(publish_now(home, passed).version)
    return versions


def _damage(path: Path) -> None:
    path.chmod(0o644)
    with path.open("r+b") as handle:
        handle.seek(max(0, path.stat().st_size // 2))
        handle.write(b"\x00corrupt\x00")


def test_rollback_refuses_a_version_with_a_damaged_parquet_file(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    first, second = _publish_nights(home, passed, publish_now, 2)
    _damage(home.published_dir / first / "parquet" / "fct_raids" / f"{first}.parquet")
    damaged = rf"parquet/fct_raids/{first}\.parquet sha256 does not match"
    with pytest.raises(PublishError, match=damaged) as err:
        pipeline.rollback(home)
    assert REPAIR_COMMAND in str(err.value)
    assert current_version(home) == second, "a refused rollback leaves readers where they were"


def test_rollback_refuses_a_version_with_a_missing_or_extra_file(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    first, _ = _publish_nights(home, passed, publish_now, 2)
    part = home.published_dir / first / "parquet" / "fct_deportations" / f"{first}.parquet"
    part.unlink()
    with pytest.raises(PublishError, match=rf"fct_deportations/{first}\.parquet is missing"):
        pipeline.rollback(home, first)
    part.write_bytes(b"PAR1")
    (part.parent / "planted.parquet").write_bytes(b"PAR1")
    with pytest.raises(PublishError, match=r"planted\.parquet is not in the manifest"):
        pipeline.rollback(home, first)


def test_a_deleted_current_manifest_does_not_wedge_publishing_and_repair_fixes_it(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    first, second = _publish_nights(home, passed, publish_now, 2)
    manifest = home.published_dir / second / "manifest.json"
    manifest.unlink()
    _new_data(home, "after-damage")
    third = publish_now(home, passed)  # not wedged by the unreadable manifest of `current`
    assert current_version(home) == third.version
    with pytest.raises(PublishError, match="no readable manifest") as err:
        pipeline.rollback(home, second)
    assert REPAIR_COMMAND in str(err.value)

    report = pipeline.repair(home)
    assert report.removed == [second]
    assert list_versions(home) == [first, third.version]
    assert sorted(p.name for p in home.published_dir.iterdir()) == [first, third.version]


def test_repair_moves_current_off_a_damaged_version(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    first, second = _publish_nights(home, passed, publish_now, 2)
    (home.published_dir / second / "manifest.json").chmod(0o644)
    (home.published_dir / second / "manifest.json").write_text("{not json")
    with pytest.raises(PublishError, match="unreadable manifest") as err:
        pipeline.rollback(home, second)
    assert REPAIR_COMMAND in str(err.value)
    report = pipeline.repair(home)
    assert report.current_before == second and report.current_after == first
    assert report.removed == [second]
    assert current_version(home) == first
    manifest = json.loads((home.current_dir / "manifest.json").read_text())
    assert sha256_file(home.current_db) == manifest["files"]["warehouse.duckdb"]


def test_retention_never_leaks_a_version_whose_manifest_is_gone(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    oldest = _publish_nights(home, passed, publish_now, 1)[0]
    (home.published_dir / oldest / "manifest.json").unlink()
    later = _publish_nights(home, passed, publish_now, home.keep_versions + 1)
    kept = sorted(p.name for p in home.published_dir.iterdir() if not p.name.startswith("."))
    assert kept == later[-home.keep_versions :], "a damaged version must age out like any other"
    assert oldest not in kept


def test_candidates_do_not_pile_up(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    _publish_nights(home, passed, publish_now, 4)
    for tag in range(3):  # builds that are audited but never published (blocked nights)
        _new_data(home, f"blocked-{tag}")
        pipeline.snapshot(home)
    candidates = [p for p in (home.warehouse_dir / "candidates").iterdir()]
    assert len(candidates) <= 2, candidates
