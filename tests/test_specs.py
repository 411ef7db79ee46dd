"""Feed specs: the bundled ones load, and a bad spec is an error that names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from borderwatch.config import REPO_ROOT
from borderwatch.specs import ColumnSpec, FeedSpecError, UnknownLabelError, label_key, load_spec, load_specs

FEEDS = REPO_ROOT / "feeds"


def test_bundled_specs_load_and_name_their_tables() -> None:
    specs = load_specs(FEEDS)
    assert set(specs) == {
        "rtp_raids",
        "kh_gdi_deportations",
        "kh_ncct_raids",
        "th_imm_receptions",
        "mfa_assistance",
        "nbtc_telecom",
    }
    assert [t.table for t in specs["mfa_assistance"].tables] == [
        "mfa_assistance_snapshots",
        "mfa_assistance_movements",
    ]
    assert specs["th_imm_receptions"].format.encoding == "cp874"
    assert specs["th_imm_receptions"].calendar == "BE"


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _spec_data(feed: str = "kh_gdi_deportations") -> dict:
    return yaml.safe_load((FEEDS / f"{feed}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d.update(schedul="@daily"), "schedul"),  # misspelled key is not silently ignored
        (lambda d: d["tables"][0].update(primary_key=["nope"]), "primary_key"),
        (lambda d: d["tables"][0]["columns"][0].update(parse="thai_lunar"), "parse"),
        (lambda d: d["source"].pop("url"), "url"),
        (lambda d: d.update(reject_rate_threshold=1.5), "reject_rate_threshold"),
        (lambda d: d["format"].update(type="xls"), "format.type"),
    ],
)
def test_a_bad_spec_names_the_file_and_the_key(tmp_path: Path, mutate, key: str) -> None:
    data = _spec_data()
    mutate(data)
    path = _write(tmp_path, "kh_gdi_deportations", data)
    with pytest.raises(FeedSpecError) as err:
        load_spec(path)
    assert str(path) in str(err.value)
    assert key in str(err.value)


def test_spec_name_must_match_its_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "other_name", _spec_data())
    with pytest.raises(FeedSpecError, match="must match the file name"):
        load_spec(path)


def test_unreadable_and_empty_specs_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(FeedSpecError, match="cannot read feed spec"):
        load_spec(broken)
    with pytest.raises(FeedSpecError, match="no feed specs"):
        load_specs(tmp_path / "empty")


def test_urls_expand_the_simulator_variable() -> None:
    spec = load_specs(FEEDS)["rtp_raids"]
    assert (
        spec.resolved_url(spec.source.url, "http://127.0.0.1:9") == "http://127.0.0.1:9/rtp/api/v1/operations"
    )


AGE_LABELS = {"adult": ["adult", "ពេញវ័យ"], "minor": ["minor", "child", "អនីតិជន"], "unknown": ["unknown"]}


def test_label_rule_maps_accepted_labels_case_insensitively_and_blank_to_null() -> None:
    column = ColumnSpec(name="age_group", parse="label", labels=AGE_LABELS)
    assert column.parse_label("  Child ") == "minor"
    assert column.parse_label("ADULT") == "adult"
    assert column.parse_label("អនីតិជន") == "minor"
    assert column.parse_label("   ") is None
    assert column.parse_label(None) is None


@pytest.mark.parametrize("text", ["teen", "เด็กชาย?", "M", "minors"])
def test_an_unknown_label_is_an_error_naming_the_column_and_the_accepted_values(text: str) -> None:
    column = ColumnSpec(name="age_group", parse="label", labels=AGE_LABELS)
    with pytest.raises(UnknownLabelError) as err:
        column.parse_label(f" {text} ")
    assert str(err.value) == f"unknown label '{text}' for age_group (accepted: adult, minor, unknown)"


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"name": "sex", "parse": "label"}, "has parse: label but no labels"),
        ({"name": "sex", "labels": {"M": ["male"]}}, "lists labels but its parse is 'text'"),
        ({"name": "sex", "parse": "label", "labels": {"M": ["male"], "F": [" Male"]}}, "listed under both"),
        ({"name": "sex", "parse": "label", "labels": {"M": []}}, "needs at least one label"),
        ({"name": "sex", "type": "integer", "parse": "label", "labels": {"M": ["m"]}}, "must be varchar"),
    ],
)
def test_label_columns_are_validated_in_the_spec_file(tmp_path: Path, column: dict, message: str) -> None:
    data = _spec_data()
    data["tables"][0]["columns"].append(column)
    path = _write(tmp_path, "kh_gdi_deportations", data)
    with pytest.raises(FeedSpecError) as err:
        load_spec(path)
    assert str(path) in str(err.value)
    assert "labels" in str(err.value)
    assert message in str(err.value)


def test_issue9_columns_are_declared() -> None:
    specs = load_specs(FEEDS)
    ncct = specs["kh_ncct_raids"]
    assert ncct.agency == "KH-NCCT"
    assert ncct.inbox_glob == "kh_ncct_raids*.csv"
    table = ncct.tables[0]
    assert table.primary_key == ["report_id", "line_no"]
    by_name = {c.name: c for c in table.columns}
    assert by_name["sex"].parse_label("ប្រុស") == "M"
    assert by_name["age_group"].parse_label("child") == "minor"
    assert specs["rtp_raids"].inbox_glob == "rtp_raids*.json"
    assert "related_reports" in {c.name for c in specs["rtp_raids"].tables[0].columns}
    for feed in ("kh_gdi_deportations", "th_imm_receptions"):
        assert specs[feed].tables[0].columns[-1].name == "minors"
    movements = {c.name for c in specs["mfa_assistance"].tables[1].columns}
    assert {"row_type", "plan_id", "flights", "persons_male", "persons_female", "period_start"} <= movements
    assert specs["mfa_assistance"].tables[0].columns[-1].name == "note"


@given(
    label=st.sampled_from([t for texts in AGE_LABELS.values() for t in texts]),
    left=st.text(" \t", max_size=3),
    right=st.text(" \t", max_size=3),
    upper=st.booleans(),
)
def test_label_rule_ignores_case_and_surrounding_whitespace(
    label: str, left: str, right: str, upper: bool
) -> None:
    column = ColumnSpec(name="age_group", parse="label", labels=AGE_LABELS)
    canonical = next(k for k, texts in AGE_LABELS.items() if label in texts)
    assert column.parse_label(f"{left}{label.upper() if upper else label}{right}") == canonical


@given(text=st.text(min_size=1, max_size=12))
def test_label_rule_never_maps_other_text_to_a_default(text: str) -> None:
    column = ColumnSpec(name="age_group", parse="label", labels=AGE_LABELS)
    if label_key(text) in column.label_lookup or not text.strip():
        return
    with pytest.raises(UnknownLabelError, match="unknown label"):
        column.parse_label(text)
