"""Parquet readers that follow the README never mix versions, however fast publications land.

The README's way: read ``current/manifest.json`` once, then open the ``parquet`` paths it names
(``published/<version>/parquet/<mart>/<part>.parquet``, stable for the version's life). A reader in another
process does exactly that, with plain DuckDB, while this process publishes a dozen versions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.publish import Publication, parquet_set

READER = textwrap.dedent(
    """
    import json, os, sys, duckdb
    warehouse, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    con = duckdb.connect()
    reads, retries, errors = [], 0, []
    while not os.path.exists(stop):
        try:
            with open(os.path.join(warehouse, "current", "manifest.json")) as handle:
                manifest = json.load(handle)
        except FileNotFoundError:
            continue  # before the first publication
        raids, persons = ([os.path.join(warehouse, p) for p in manifest["parquet"][m]]
                          for m in ("fct_raids", "fct_raid_persons"))
        try:
            raids, persons, versions = con.execute(
                "select (select count(*) from read_parquet(?)), (select count(*) from read_parquet(?)), "
                "(select list(distinct decode(value) order by decode(value)) from parquet_kv_metadata(?) "
                " where decode(key) = 'borderwatch.version')",
                [raids, persons, raids + persons],
            ).fetchone()
        except duckdb.IOException:
            retries += 1  # the README: a version pruned under you -> read the manifest again
            continue
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        reads.append({"version": manifest["version"], "expected": manifest["row_counts"]["marts.fct_raids"],
                      "raids": raids, "persons": persons, "file_versions": versions})
    json.dump({"reads": reads, "retries": retries, "errors": errors}, open(out, "w"))
    """
)


def test_parquet_set_names_one_version(
    home: Settings, passed: GateResult, publish_now: Callable[..., Publication]
) -> None:
    pub = publish_now(home, passed)
    version, paths = parquet_set(home.warehouse_dir)
    assert version == pub.version
    assert paths and all(
        p.parent.parent.parent.name == pub.version and p.is_file() for parts in paths.values() for p in parts
    )
    assert paths["fct_raids"] == [pub.path / "parquet" / "fct_raids" / f"{pub.version}.parquet"]
    metadata = dict(
        duckdb.sql(
            f"select decode(key), decode(value) from parquet_kv_metadata('{paths['fct_raids'][0]}')"
        ).fetchall()
    )
    assert metadata["borderwatch.version"] == pub.version


@pytest.mark.slow
def test_readers_following_the_readme_never_mix_versions(
    home: Settings,
    passed: GateResult,
    synthetic: ModuleType,
    publish_now: Callable[..., Publication],
    tmp_path: Path,
) -> None:
    out, stop = tmp_path / "reads.json", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(home.warehouse_dir), str(out), str(stop)])
    published = set()
    try:
        for night in range(12):
            synthetic.make_build(home.build_db, raids=100 + 13 * night)
            published.add(publish_now(home, passed).version)
    finally:
        stop.touch()
        reader.wait(timeout=120)
    result = json.loads(out.read_text())
    assert result["errors"] == []
    reads = result["reads"]
    assert len(reads) > 12, "the reader must have overlapped the publications"
    assert len({r["version"] for r in reads}) > 2, "the reader must have seen several versions"
    for read in reads:
        # every part was written by a published version no newer than the one whose manifest was read
        assert set(read["file_versions"]) <= published and max(read["file_versions"]) <= read["version"]
        assert read["raids"] == read["persons"] == read["expected"], read
        assert read["version"] in published


def test_parquet_set_reads_a_version_from_before_parts(tmp_path: Path) -> None:
    """A rolled-back-to version written before parts names one file per mart: a list of one."""
    current = tmp_path / "current"
    current.mkdir()
    (current / "manifest.json").write_text(
        json.dumps({"version": "v1", "parquet": {"fct_raids": "published/v1/parquet/fct_raids.parquet"}})
    )
    single = tmp_path / "published/v1/parquet/fct_raids.parquet"
    assert parquet_set(tmp_path) == ("v1", {"fct_raids": [single]})
