"""The committed reference seeds equal what borderwatch.reference generates, and their codes are ISO."""

from __future__ import annotations

import csv
from pathlib import Path

import pycountry
import pytest
import yaml
from wh_raw_fixture import raw_columns

from borderwatch import reference
from borderwatch.config import REPO_ROOT
from borderwatch.specs import load_specs

SEEDS = REPO_ROOT / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_committed_seeds_are_up_to_date(tmp_path: Path) -> None:
    written = reference.write_seeds(tmp_path)
    assert {p.name for p in written} == {f"{n}.csv" for n in reference.SEED_BUILDERS}
    for path in written:
        assert path.read_bytes() == (SEEDS / path.name).read_bytes(), (
            f"seeds/{path.name} is stale: run `python -m borderwatch.reference`"
        )


def test_main_writes_to_the_given_dir(tmp_path: Path) -> None:
    assert reference.main(["--seeds-dir", str(tmp_path)]) == 0
    assert (tmp_path / "countries.csv").exists()


def test_country_codes_match_pycountry() -> None:
    rows = {r["iso3"]: r for r in _rows("countries")}
    for row in rows.values():
        if row["code_kind"] != "iso":
            continue
        country = pycountry.countries.get(alpha_3=row["iso3"])
        assert country is not None, row
        assert (row["iso2"], row["numeric"]) == (country.alpha_2, country.numeric)
    assert len([r for r in rows.values() if r["code_kind"] == "iso"]) == len(pycountry.countries)
    assert rows["XXU"]["code_kind"] == "user_assigned" and "XAA" <= "XXU" <= "XZZ"
    assert rows["ALL"]["code_kind"] == "aggregate"
    assert rows["TWN"]["iso2"] == "TW" and rows["CHN"]["iso2"] == "CN"


@pytest.mark.parametrize(
    ("iso3", "fips", "collides_with"),
    [("MMR", "BM", "BMU"), ("CHN", "CH", "CHE"), ("KHM", "CB", None), ("BGD", "BG", "BGR")],
)
def test_fips_crosswalk_and_collisions(iso3: str, fips: str, collides_with: str | None) -> None:
    rows = {r["iso3"]: r for r in _rows("countries")}
    by_iso2 = {r["iso2"]: r["iso3"] for r in rows.values() if r["iso2"]}
    assert rows[iso3]["fips_10_4"] == fips
    assert by_iso2.get(fips) == collides_with


def test_admin_areas_are_pycountry_subdivisions() -> None:
    rows = {r["admin1_iso"]: r for r in _rows("admin_areas")}
    for code, row in rows.items():
        sub = pycountry.subdivisions.get(code=code)
        assert sub is not None, code
        assert row["iso_name"] == sub.name
    expected = {s.code for cc in ("TH", "KH", "MM") for s in pycountry.subdivisions.get(country_code=cc)}
    assert set(rows) == expected
    assert "KH-1" in rows and "KH-01" not in rows
    assert rows["KH-1"]["name_en"] == "Banteay Meanchey"
    assert rows["TH-S"]["name_en"] == "Pattaya"
    assert rows["TH-63"]["name_local"] == "ตาก"


def test_nationality_labels_cover_the_feeds_scripts() -> None:
    labels = {r["label"].lower(): r["nationality_iso3"] for r in _rows("nationality_labels")}
    assert labels["chinese"] == "CHN" and labels["จีน"] == "CHN"
    assert labels["taiwanese"] == "TWN" and labels["ไต้หวัน"] == "TWN"
    assert labels["ថៃ"] == "THA" and labels["thai"] == "THA"
    assert labels["unverified / อยู่ระหว่างพิสูจน์สัญชาติ"] == "XXU"
    assert labels["cambodia"] == "KHM" and labels["tha"] == "THA"
    countries = {r["iso3"] for r in _rows("countries")}
    assert set(labels.values()) <= countries


def test_place_aliases_resolve_to_known_codes() -> None:
    aliases = _rows("place_aliases")
    keys = [(" ".join(r["alias"].lower().split()), r["target_type"]) for r in aliases]
    assert len(keys) == len(set(keys)), "an alias must be unique per target type"
    admin = {r["admin1_iso"] for r in _rows("admin_areas")}
    sites = {r["site_id"]: r for r in _rows("sites")}
    for row in aliases:
        if row["target_type"] == "admin1":
            assert row["target_id"] in admin, row
        else:
            assert sites[row["target_id"]]["site_type"] == row["target_type"], row
    crossing = {r["alias"] for r in aliases if r["target_id"] == "xing_poipet_aranyaprathet"}
    assert {"Poipet", "Poi Pet", "Paoy Paet", "ប៉ោយប៉ែត", "Aranyaprathet", "ด่านอรัญประเทศ"} <= crossing
    for site in sites.values():
        assert site["admin1_iso"] in admin and pycountry.countries.get(alpha_3=site["country_iso3"])


def test_fixture_raw_tables_match_the_ingest_loader() -> None:
    """The warehouse fixture's raw DDL is the ingest contract's (``borderwatch.ingest.contract``)."""
    from borderwatch.ingest import contract as loader

    for spec in load_specs(REPO_ROOT / "feeds").values():
        for table in spec.tables:
            assert [(n, t.upper()) for n, t in raw_columns(spec, table.table)] == [
                (n, t.upper()) for n, t in loader.table_columns(table)
            ], table.table


def test_every_seed_column_is_documented() -> None:
    """Each seed's YAML lists exactly its CSV's columns, each with a description."""
    documented = {
        seed["name"]: {column["name"]: column.get("description", "") for column in seed.get("columns", [])}
        for seed in yaml.safe_load((SEEDS / "_reference__seeds.yml").read_text(encoding="utf-8"))["seeds"]
    }
    for csv_path in sorted(SEEDS.glob("*.csv")):
        header = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
        columns = documented.get(csv_path.stem)
        assert columns is not None, f"seeds/{csv_path.name} has no entry in seeds/_reference__seeds.yml"
        assert list(columns) and set(columns) == set(header), (
            f"seeds/{csv_path.name}: YAML documents {sorted(columns)}, CSV has {sorted(header)}"
        )
        blank = [name for name, text in columns.items() if not str(text).strip()]
        assert not blank, f"seeds/{csv_path.name}: columns without a description: {blank}"
