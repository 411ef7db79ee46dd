"""A change to the reference seeds reaches rows no delivery touches: the next build rebuilds every partition.

The documented fix for an unmapped nationality is "add the label to the seeds and rebuild"; the
partitioned models only rebuild what new deliveries touch, so without this the old rows would keep their
'unmapped' partition and a NULL nationality until someone thought of `--full-refresh`.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from datetime import datetime
from pathlib import Path

import duckdb

from borderwatch.config import REPO_ROOT, get_settings
from borderwatch.warehouse import BuildResult, build_warehouse

sys.path.insert(0, str(Path(__file__).parent))
from wh_raw_fixture import _kh, create_raw_schema, insert_file, load_first

LABEL = "Shan State Burmese"  # not in seeds/nationality_labels.csv


def _nationality(db: Path, deportation_id: str) -> tuple[str | None, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = "select nationality_iso3, _partition_key from marts.fct_deportations where deportation_id = ?"
        row = con.execute(sql, [deportation_id]).fetchone()
    finally:
        con.close()
    assert row is not None
    return row


def _types(build: BuildResult) -> set[str]:
    return {r["resource_type"] for r in build.results}


def test_a_label_added_to_the_seeds_maps_the_old_rows_on_the_next_build(tmp_path: Path) -> None:
    skip = shutil.ignore_patterns("target", "logs")
    shutil.copytree(REPO_ROOT / "dbt_project", tmp_path / "dbt_project", ignore=skip)
    shutil.copytree(REPO_ROOT / "seeds", tmp_path / "seeds")
    settings = dataclasses.replace(get_settings(tmp_path / "home"), dbt_project_dir=tmp_path / "dbt_project")
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.build_db))
    tables = create_raw_schema(con, settings.feeds_dir)
    load_first(con, tables)
    rows = [_kh("GDI-090", 1, "18/03/2025", "Poipet", LABEL, 14, 12, 26, "Myanmar")]
    insert_file(con, tables, "kh_gdi_deportations", "kh_gdi_deportations_2025-03-19.csv", rows,
                load_id="x", loaded_at=datetime(2025, 3, 22, 1, 0))  # fmt: skip
    con.close()
    first = build_warehouse(settings)
    nationality, partition = _nationality(settings.build_db, "KH-GDI-090-1")
    assert nationality is None and "unmapped:" in partition

    unchanged = build_warehouse(settings)  # same seeds: an ordinary incremental night
    assert unchanged.rebuilt_models == []
    assert "unit_test" in _types(first) and not {"unit_test", "seed"} & _types(unchanged)

    with (tmp_path / "seeds" / "nationality_labels.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{LABEL},MMR,Latn,curated\n")
    after = build_warehouse(settings)
    assert "every incremental model (reference seeds changed)" in after.rebuilt_models
    assert {"unit_test", "seed"} <= _types(after)  # other inputs: loaded and unit-tested again
    mapped = ("MMR", "xing_poipet_aranyaprathet|MMR|2025-03-18")
    assert _nationality(settings.build_db, "KH-GDI-090-1") == mapped
    assert first.ok and after.ok

    assert build_warehouse(settings).rebuilt_models == []  # recorded: the next night is incremental again


def test_a_build_file_from_before_the_record_is_rebuilt_once(tmp_path: Path) -> None:
    settings = get_settings(tmp_path / "home")
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.build_db))
    load_first(con, create_raw_schema(con, settings.feeds_dir))
    con.close()
    assert build_warehouse(settings).rebuilt_models == []  # a first build is a full one anyway
    con = duckdb.connect(str(settings.build_db))
    con.execute("drop table audit.reference_inputs")  # what an installation upgraded from before looks like
    con.close()
    assert "every incremental model (reference seeds changed)" in build_warehouse(settings).rebuilt_models
    assert build_warehouse(settings).rebuilt_models == []


def test_a_failing_seed_test_runs_again_on_the_next_build_of_the_same_inputs(tmp_path: Path) -> None:
    """A build whose seed test failed records no verified project: the next build on the same code and
    seeds runs that test (and the unit tests) again, so a blocked gate never turns into a passed one."""
    skip = shutil.ignore_patterns("target", "logs")
    shutil.copytree(REPO_ROOT / "dbt_project", tmp_path / "dbt_project", ignore=skip)
    shutil.copytree(REPO_ROOT / "seeds", tmp_path / "seeds")
    yml = tmp_path / "seeds" / "_reference__seeds.yml"  # a family the seed has becomes unacceptable
    yml.write_text(yml.read_text(encoding="utf-8").replace("people_planned, telecom]", "people_planned]"))
    settings = dataclasses.replace(get_settings(tmp_path / "home"), dbt_project_dir=tmp_path / "dbt_project")
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.build_db))
    load_first(con, create_raw_schema(con, settings.feeds_dir))
    con.close()
    first, second = build_warehouse(settings), build_warehouse(settings)
    for build in (first, second):
        failed = [uid.split(".")[2] for uid in build.failed_tests]
        assert any(name.startswith("accepted_values_metric_taxonomy_family") for name in failed), failed
        assert "unit_test" in _types(build) and build.not_rerun == []
