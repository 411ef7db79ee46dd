"""A candidate costs what the night changed, and publishes the same content as writing it whole.

The candidate starts from the served version's file: unchanged tables are kept, a table that only gained
rows gets them appended; any other change writes the whole candidate afresh (DuckDB keeps deleted rows'
and dropped tables' bytes in the file, and a correction must not carry the superseded figures into the
next published file). Whatever the path, the published file must hold exactly the build's published
content, keys, comments and views, and none of the gate's inputs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import Settings
from borderwatch.files import sha256_file
from borderwatch.gate import GateResult
from borderwatch.publish import Publication, PublishError, content_fingerprint, release, verify_version
from borderwatch.publish.candidate import candidate_from_dir
from borderwatch.publish.core import GATE_INPUTS_DB, attach_gate_inputs
from borderwatch.warehouse import BuildResult, dbt_target_dir

RAID_DOC = "One row per raid operation."


def _dbt_manifest(settings: Settings, *, raid_description: str = RAID_DOC) -> None:
    """A dbt manifest declaring fct_raids' key and descriptions (the synthetic build has none of its own)."""
    node = {
        "resource_type": "model",
        "schema": "marts",
        "name": "fct_raids",
        "description": raid_description,
        "columns": {
            "raid_id": {"description": "Raid key.", "constraints": [{"type": "primary_key"}]},
            "date_start": {"description": "First day.", "constraints": [{"type": "not_null"}]},
        },
    }
    target = dbt_target_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(json.dumps({"nodes": {"model.bw.fct_raids": node}}))


def _sql(db: Path, query: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def _edit(settings: Settings, *statements: str) -> None:
    with duckdb.connect(str(settings.build_db)) as con:
        for statement in statements:
            con.execute(statement)


def _add_raids(settings: Settings, prefix: str, rows: int) -> None:
    """A night that only adds rows: ``rows`` copies of served raids under new keys (``prefix`` + key)."""
    _edit(
        settings,
        f"insert into marts.fct_raids select * replace ('{prefix}' || raid_id as raid_id) "
        f"from marts.fct_raids order by raid_id limit {rows}",
    )


def _fates(pub: Publication, settings: Settings) -> dict[str, str]:
    """What the candidate writer did per table (candidate.json, kept until the candidate is dropped)."""
    manifest = json.loads(pub.manifest_path.read_text())
    return manifest["candidate_tables"]


def _assert_same_as_build(settings: Settings, pub: Publication) -> None:
    published = content_fingerprint(pub.database_path)
    assert published == content_fingerprint(settings.build_db)
    tables = _sql(pub.database_path, "select schema_name || '.' || table_name from duckdb_tables()")
    assert all(t.split(".")[0] in ("marts", "reference") for (t,) in tables), tables


@pytest.fixture
def documented(home: Settings) -> Settings:
    _dbt_manifest(home)
    _edit(
        home,
        "create table raw._loads (feed varchar, status varchar, error varchar)",
        "insert into raw._loads values ('kh_ncct_raids', 'ok', null)",
    )
    return home


def test_a_night_that_adds_rows_appends_them_and_keeps_the_rest(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    first = publish_now(documented, passed)
    assert set(_fates(first, documented).values()) == {"new"}
    _add_raids(documented, "N", 7)
    second = publish_now(documented, passed)
    fates = _fates(second, documented)
    assert fates["marts.fct_raids"] == "appended"
    assert {f for t, f in fates.items() if t != "marts.fct_raids"} == {"kept"}
    assert second.row_counts["marts.fct_raids"] == first.row_counts["marts.fct_raids"] + 7
    _assert_same_as_build(documented, second)
    keys = _sql(
        second.database_path,
        "select constraint_column_names from duckdb_constraints() "
        "where table_name = 'fct_raids' and constraint_type = 'PRIMARY KEY'",
    )
    assert keys == [(["raid_id"],)]
    parquet = second.path / "parquet" / "fct_raids"
    assert sorted(p.stem for p in parquet.iterdir()) == [first.version, second.version]
    assert _sql(second.database_path, f"select count(*) from '{parquet}/{second.version}.parquet'") == [(7,)]
    assert _sql(second.database_path, f"select count(*) from '{parquet}/*.parquet'") == [(307,)]


def test_night_after_night_of_new_rows_keeps_appending(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    """An append leaves free blocks (the last row group's old bytes, still-served rows): the next night
    starts from that file again instead of writing it whole."""
    publish_now(documented, passed)
    for night in range(3):
        _add_raids(documented, f"N{night}", 3)
        pub = publish_now(documented, passed)
        assert _fates(pub, documented)["marts.fct_raids"] == "appended", night
        _assert_same_as_build(documented, pub)


def test_a_served_file_changed_on_disk_is_not_a_starting_point(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    """The content of a table kept or appended to is taken from the served version's manifest, not measured
    again: so the copy must be the published bytes. A served file edited in place (its figures changed after
    publication) is not started from; the candidate is written whole, from the build."""
    first = publish_now(documented, passed)
    first.database_path.chmod(0o644)
    with duckdb.connect(str(first.database_path)) as con:
        con.execute("update marts.fct_raids set persons_detained = 999999 where raid_id = 'R000001'")
        con.execute("update marts.dim_country set name = 'tampered'")
    _add_raids(documented, "N", 3)
    second = publish_now(documented, passed)
    assert set(_fates(second, documented).values()) == {"new"}
    _assert_same_as_build(documented, second)
    assert _sql(second.database_path, "select count(*) from marts.dim_country where name = 'tampered'") == [
        (0,)
    ]
    assert _sql(
        second.database_path, "select persons_detained from marts.fct_raids where raid_id = 'R000001'"
    ) != [(999999,)]


def test_a_version_from_before_gate_inputs_beside_is_not_a_starting_point(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    """Older versions had raw._loads dropped from their copy: its bytes sit in their free blocks, so the
    first candidate after the upgrade is written whole."""
    first = publish_now(documented, passed)
    manifest = json.loads(first.manifest_path.read_text())
    del manifest["gate_inputs"]
    first.manifest_path.chmod(0o644)
    first.manifest_path.write_text(json.dumps(manifest))
    _add_raids(documented, "N", 3)
    second = publish_now(documented, passed)
    assert set(_fates(second, documented).values()) == {"new"}


def test_a_table_that_grew_by_more_than_a_quarter_is_written_afresh(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    """Appending tens of millions of rows to a small served table (a history's first publication) costs
    several times writing the file afresh."""
    first = publish_now(documented, passed)
    _edit(
        documented,
        "insert into marts.fct_raids select * replace ('N' || raid_id as raid_id) from marts.fct_raids",
    )
    second = publish_now(documented, passed)
    assert set(_fates(second, documented).values()) == {"new"}
    assert second.row_counts["marts.fct_raids"] == 2 * first.row_counts["marts.fct_raids"]
    _assert_same_as_build(documented, second)


def test_a_table_keyed_by_its_unique_test_gets_new_rows_appended(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    """fct_deportations declares no primary key (too costly at 10 M rows); its dbt unique test is the key."""
    manifest_path = dbt_target_dir(documented) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["nodes"]["model.bw.fct_deportations"] = {
        "resource_type": "model",
        "schema": "marts",
        "name": "fct_deportations",
        "columns": {"deportation_id": {"description": "Batch key."}},
    }
    manifest["nodes"]["test.bw.unique_fct_deportations_deportation_id"] = {
        "resource_type": "test",
        "attached_node": "model.bw.fct_deportations",
        "column_name": "deportation_id",
        "test_metadata": {"name": "unique", "kwargs": {"column_name": "deportation_id"}},
    }
    manifest_path.write_text(json.dumps(manifest))
    first = publish_now(documented, passed)
    _edit(
        documented,
        "insert into marts.fct_deportations select * replace ('N' || deportation_id as deportation_id) "
        "from marts.fct_deportations order by deportation_id limit 5",
    )
    second = publish_now(documented, passed)
    assert _fates(second, documented)["marts.fct_deportations"] == "appended"
    assert second.row_counts["marts.fct_deportations"] == first.row_counts["marts.fct_deportations"] + 5
    _assert_same_as_build(documented, second)
    # a served row that changed is not an append: the candidate is written whole
    _edit(
        documented,
        "update marts.fct_deportations set handover_date = handover_date + 1 where deportation_id like 'N%'",
    )
    third = publish_now(documented, passed)
    assert set(_fates(third, documented).values()) == {"new"}
    _assert_same_as_build(documented, third)


def _parquet_matches_table(pub: Publication, mart: str) -> None:
    """The mart's Parquet parts hold exactly its published rows, and every part says who wrote it."""
    parts = sorted((pub.path / "parquet" / mart).iterdir())
    files = "[" + ", ".join(f"'{p}'" for p in parts) + "]"
    differ = _sql(
        pub.database_path,
        f"select count(*) from ((select * from read_parquet({files}) except all select * from marts.{mart}) "
        f"union all (select * from marts.{mart} except all select * from read_parquet({files})))",
    )
    assert differ == [(0,)], mart
    rows = _sql(pub.database_path, f"select count(*) from read_parquet({files})")
    assert rows == [(pub.row_counts[f"marts.{mart}"],)], mart
    for part in parts:
        query = f"select decode(key), decode(value) from parquet_kv_metadata('{part}')"
        kv = dict(_sql(pub.database_path, query))
        assert kv["borderwatch.version"] == part.stem, part
        assert kv["borderwatch.relation"] == f"marts.{mart}"


def test_unchanged_marts_link_their_served_parts_and_a_grown_one_gains_a_part(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    """No byte of an unchanged mart is re-encoded or copied (hard links), and a mart that only gained rows
    writes those rows alone as one more part: the night's Parquet costs what the night added."""
    first = publish_now(documented, passed)
    _add_raids(documented, "N", 3)
    second = publish_now(documented, passed)
    manifest = json.loads(second.manifest_path.read_text())
    reused = set(manifest["parquet_reused"])
    assert {"fct_raids", "fct_raid_persons", "fct_deportations", "dim_country"} <= reused
    assert manifest["parquet_appended"] == ["fct_raids"]
    assert verify_version(second.path, manifest) == []
    old = first.path / "parquet" / "fct_raid_persons" / f"{first.version}.parquet"
    new = second.path / "parquet" / "fct_raid_persons" / f"{first.version}.parquet"
    assert new.stat().st_ino == old.stat().st_ino
    assert manifest["parquet"]["fct_raids"] == [
        f"published/{second.version}/parquet/fct_raids/{v}.parquet" for v in (first.version, second.version)
    ]
    added = second.path / "parquet" / "fct_raids" / f"{second.version}.parquet"
    assert _sql(second.database_path, f"select count(*) from '{added}'") == [(3,)]
    for mart in manifest["parquet"]:
        _parquet_matches_table(second, mart)


def test_a_corrected_row_writes_the_mart_whole_as_one_part(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    """A served row that changed must not survive in a linked part: the mart is written afresh."""
    publish_now(documented, passed)
    _add_raids(documented, "N", 3)
    publish_now(documented, passed)
    _edit(documented, "update marts.fct_raids set date_start = date_start + 1 where raid_id like 'N%'")
    third = publish_now(documented, passed)
    manifest = json.loads(third.manifest_path.read_text())
    whole = f"published/{third.version}/parquet/fct_raids/{third.version}.parquet"
    assert manifest["parquet"]["fct_raids"] == [whole]
    assert "fct_raids" not in manifest["parquet_reused"]
    _parquet_matches_table(third, "fct_raids")


def test_parts_are_compacted_into_one_at_the_limit(
    documented: Settings,
    passed: GateResult,
    publish_now: Callable[..., Publication],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(release, "PARQUET_MAX_PARTS", 3)
    publish_now(documented, passed)
    counts = []
    for night in range(3):
        _add_raids(documented, f"N{night}", 2)
        pub = publish_now(documented, passed)
        counts.append(len(json.loads(pub.manifest_path.read_text())["parquet"]["fct_raids"]))
        _parquet_matches_table(pub, "fct_raids")
    assert counts == [2, 3, 1]


def test_a_served_parquet_part_that_changed_on_disk_is_written_afresh(
    documented: Settings,
    passed: GateResult,
    publish_now: Callable[..., Publication],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = publish_now(documented, passed)
    damaged = first.path / "parquet" / "fct_raid_persons" / f"{first.version}.parquet"
    damaged.chmod(0o644)
    with damaged.open("r+b") as handle:  # one byte inside the data pages: the footer still parses
        handle.seek(8)
        byte = handle.read(1)
        handle.seek(8)
        handle.write(bytes([byte[0] ^ 0xFF]))
    _edit(documented, "update marts.dim_country set name = name || ' ' where iso3 = 'THA'")
    with caplog.at_level(logging.INFO, logger="borderwatch.publish.release"):
        second = publish_now(documented, passed)
    assert f"{damaged}: sha256 differs from its manifest" in caplog.text
    manifest = json.loads(second.manifest_path.read_text())
    assert "fct_raid_persons" not in manifest["parquet_reused"]
    assert "fct_raids" in manifest["parquet_reused"]
    assert verify_version(second.path, manifest) == []
    assert manifest["parquet"]["fct_raid_persons"] == [
        f"published/{second.version}/parquet/fct_raid_persons/{second.version}.parquet"
    ]
    _parquet_matches_table(second, "fct_raid_persons")
    assert verify_version(first.path, json.loads(first.manifest_path.read_text())) != []


def test_a_changed_or_removed_row_writes_the_candidate_afresh(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    publish_now(documented, passed)
    _edit(
        documented,
        "update marts.fct_raids set persons_detained = persons_detained + 1000 where raid_id = 'R000001'",
        "delete from marts.fct_raid_persons where raid_id = 'R000002'",
    )
    pub = publish_now(documented, passed)
    assert set(_fates(pub, documented).values()) == {"new"}  # nothing of the served file is carried over
    _assert_same_as_build(documented, pub)
    detained = _sql(
        pub.database_path, "select persons_detained from marts.fct_raids where raid_id = 'R000001'"
    )
    assert detained == _sql(
        documented.build_db, "select persons_detained from marts.fct_raids where raid_id = 'R000001'"
    )


@pytest.mark.parametrize(
    "edit",
    [
        "update marts.fct_raids set persons_detained = persons_detained + 1 where raid_id = 'R000001'",
        "delete from marts.fct_raids where raid_id = 'R000002'",
    ],
    ids=["changed", "removed"],
)
def test_new_rows_beside_a_changed_or_removed_served_row_write_the_table_afresh(
    documented: Settings,
    passed: GateResult,
    publish_now: Callable[..., Publication],
    edit: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """New rows are found by key; the rows and row-hash sums must then add up (built = served + new), so
    a served row that changed or went is never carried over."""
    publish_now(documented, passed)
    _edit(
        documented,
        "insert into marts.fct_raids select * replace ('N' || raid_id as raid_id) "
        "from marts.fct_raids order by raid_id limit 2",
        edit,
    )
    with caplog.at_level(logging.WARNING, logger="borderwatch.publish.candidate"):
        pub = publish_now(documented, passed)
    assert _fates(pub, documented)["marts.fct_raids"] == "new"
    # refused by the equation, not caught afterwards by the written file's fingerprint
    assert not [r for r in caplog.records if "gave other content" in r.getMessage()]
    _assert_same_as_build(documented, pub)


def test_a_new_column_or_a_dropped_table_is_followed(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    publish_now(documented, passed)
    _edit(
        documented,
        "alter table marts.fct_raids add column source_note varchar default 'x'",
        "drop table marts.dim_agency",
    )
    pub = publish_now(documented, passed)
    assert set(_fates(pub, documented).values()) == {"new"}
    assert "marts.dim_agency" not in pub.row_counts
    assert not (pub.path / "parquet" / "dim_agency").exists()
    _assert_same_as_build(documented, pub)


def test_descriptions_follow_dbt_on_a_table_carried_over(
    documented: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    first = publish_now(documented, passed)
    comment = "select comment from duckdb_tables() where table_name = 'fct_raids'"
    assert _sql(first.database_path, comment) == [(RAID_DOC,)]
    _dbt_manifest(documented, raid_description="")
    _add_raids(documented, "N", 2)
    second = publish_now(documented, passed)
    assert _fates(second, documented)["marts.fct_raids"] == "appended"
    assert _sql(second.database_path, comment) == [(None,)]


def test_the_gate_reads_load_reports_that_are_never_published(
    documented: Settings, passed: GateResult
) -> None:
    marker = "GATE-ONLY-7f3a: feed server said 503 for https://internal.example/feed"
    _edit(documented, f"insert into raw._loads values ('th_imm_receptions', 'failed', '{marker}')")
    candidate = pipeline.snapshot(documented)
    with duckdb.connect(str(candidate.path), read_only=True) as con:
        assert attach_gate_inputs(con, candidate.path)
        assert con.execute("select feed, status from raw._loads order by 1").fetchall() == [
            ("kh_ncct_raids", "ok"),
            ("th_imm_receptions", "failed"),
        ]
    assert _sql(candidate.path, "select count(*) from duckdb_schemas() where schema_name = 'raw'") == [(0,)]
    pub = pipeline.publish(documented, pipeline.Audited(candidate, passed), notify=False)
    assert _sql(pub.database_path, "select count(*) from duckdb_schemas() where schema_name = 'raw'") == [
        (0,)
    ]
    assert "raw._loads" not in pub.row_counts
    # The published file is the audited bytes themselves, and no byte of the gate's inputs is in it
    # (dropping them from a copy, as before, left them in the file's free blocks).
    assert pub.files["warehouse.duckdb"] == candidate.sha256
    assert marker.encode() not in pub.database_path.read_bytes()
    assert sorted(p.name for p in pub.path.iterdir()) == [
        "manifest.json",
        "parquet",
        "report.html",
        "warehouse.duckdb",
    ]


def test_gate_inputs_swapped_after_the_snapshot_fail_the_gate_unread(
    documented: Settings, passed: GateResult
) -> None:
    """The gate reads feed health from the file beside the candidate: a swapped one (here: every feed
    'ok' where the build saw a failed feed) must block, like a changed candidate, and a candidate found
    again by its bytes must point at the warehouse file, not at the gate-input file beside it."""
    _edit(documented, "insert into raw._loads values ('th_imm_receptions', 'failed', 'HTTP 503')")
    candidate = pipeline.snapshot(documented)
    assert candidate.gate_inputs is not None
    assert candidate_from_dir(candidate.path.parent) == candidate  # how an identical rebuild finds it
    sidecar = candidate.path.parent / GATE_INPUTS_DB
    sidecar.chmod(0o644)
    with duckdb.connect(str(sidecar)) as con:
        con.execute("update _loads set status = 'ok', error = null")
    audited = pipeline.audit(documented, pipeline.Built(BuildResult(ok=True), candidate))
    assert not audited.gate.passed
    assert audited.gate.blocking_failures == ["gate.candidate_intact"]
    (failure,) = [c for c in audited.gate.checks if c["name"] == "gate.candidate_intact"]
    assert "differs from the snapshot's" in failure["details"]["error"]
    assert not any(c["owner"] == "gx" for c in audited.gate.checks), "no suite may read the changed file"
    sidecar.unlink()
    again = pipeline.audit(documented, pipeline.Built(BuildResult(ok=True), candidate))
    assert again.gate.blocking_failures == ["gate.candidate_intact"]


def test_a_candidate_that_holds_gate_inputs_inside_is_never_published(
    documented: Settings, passed: GateResult
) -> None:
    """A candidate written by an older BorderWatch kept raw._loads inside its file: refused, not served."""
    candidate = pipeline.snapshot(documented)
    served = documented.current_dir.resolve() if documented.current_dir.exists() else None
    candidate.path.chmod(0o644)
    with duckdb.connect(str(candidate.path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw._loads as select 'kh_ncct_raids' as feed")
    old = replace(candidate, sha256=sha256_file(candidate.path))
    with pytest.raises(PublishError, match=r"schemas that are never published \(raw\).*run the refresh"):
        pipeline.publish(documented, pipeline.Audited(old, passed), notify=False)
    now = documented.current_dir.resolve() if documented.current_dir.exists() else None
    assert now == served


def test_a_version_from_before_parts_is_not_linked(home: Settings) -> None:
    """A served version with one Parquet file per mart (before parts) has nothing to link: written whole."""
    old_layout = {
        "version": "v1",
        "content": {"marts.fct_raids": "3:42"},
        "dictionary": {},
        "files": {"parquet/fct_raids.parquet": "ab"},
        "parquet": {"fct_raids": "published/v1/parquet/fct_raids.parquet"},
    }
    assert release.served_parquet(home, old_layout, {}) == {}
    parts = {**old_layout, "files": {"parquet/fct_raids/v1.parquet": "ab"}}
    parts["parquet"] = {"fct_raids": ["published/v1/parquet/fct_raids/v1.parquet"]}
    (served,) = release.served_parquet(home, parts, {}).values()
    assert served.paths == [home.published_dir / "v1" / "parquet" / "fct_raids" / "v1.parquet"]
    assert (served.sha256, served.fingerprint) == (["ab"], "3:42")
    described = {"marts.fct_raids": {"description": "changed"}}
    assert release.served_parquet(home, parts, described) == {}, "new descriptions: every part is stale"


def test_new_rows_are_found_by_load_time_and_by_key_when_some_were_loaded_before(
    documented: Settings,
    passed: GateResult,
    publish_now: Callable[..., Publication],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A table with ``_loaded_at`` (the claims, fct_deportations) gives its night's rows by load time; a
    new row loaded before the served version (a report newly linked) sends the search to the keys, and a
    served row reloaded with other figures is neither way an append."""
    _edit(
        documented,
        "alter table marts.fct_raids add column _loaded_at timestamp default timestamp '2026-01-01'",
    )
    publish_now(documented, passed)

    def night(prefix: str, loaded_at: str, rows: int) -> None:
        _edit(
            documented,
            f"insert into marts.fct_raids select * replace ('{prefix}' || raid_id as raid_id, "
            f"timestamp '{loaded_at}' as _loaded_at) from marts.fct_raids order by raid_id limit {rows}",
        )

    found = "borderwatch.publish.candidate"
    night("A", "2026-01-02", 4)
    with caplog.at_level(logging.INFO, logger=found):
        pub = publish_now(documented, passed)
    assert _fates(pub, documented)["marts.fct_raids"] == "appended"
    assert "marts.fct_raids: 4 new rows found by load time, appended" in caplog.text
    _assert_same_as_build(documented, pub)

    caplog.clear()
    night("B", "2026-01-03", 3)
    night("C", "2026-01-01", 2)  # new, but loaded before the newest served row
    with caplog.at_level(logging.INFO, logger=found):
        pub = publish_now(documented, passed)
    assert _fates(pub, documented)["marts.fct_raids"] == "appended"
    assert "marts.fct_raids: 5 new rows found by key, appended" in caplog.text
    _assert_same_as_build(documented, pub)

    caplog.clear()
    _edit(
        documented,
        "update marts.fct_raids set _loaded_at = timestamp '2026-01-04', date_start = date_start + 1 "
        "where raid_id = (select min(raid_id) from marts.fct_raids where raid_id like 'A%')",
    )
    with caplog.at_level(logging.INFO, logger=found):
        pub = publish_now(documented, passed)
    assert set(_fates(pub, documented).values()) == {"new"}
    assert "new rows found" not in caplog.text
    _assert_same_as_build(documented, pub)
