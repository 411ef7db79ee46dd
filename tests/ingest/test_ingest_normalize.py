"""The one normaliser (spec parse rules as DuckDB SQL): every rule on the quirks agencies send."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_payloads import Normalised, normalise_cells

from borderwatch import normalize as nz
from borderwatch import thai_calendar as tc
from borderwatch.specs import ColumnSpec

THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
KHMER = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
TYPES = {"int": "bigint", "float": "double", "bool": "boolean", "json": "json", "text": "varchar"}
TYPES |= {"iso_timestamp": "timestamp"}


def column(parse: str, **extra: Any) -> ColumnSpec:
    return ColumnSpec(**{"name": "x", "parse": parse, "type": TYPES.get(parse, "date"), **extra})


def one(parse: str, raw: str | None, *, calendar: str = "CE", **extra: Any) -> Normalised:
    return normalise_cells(column(parse, **extra), [raw], calendar=calendar)[0]


def value(parse: str, raw: str | None, **kw: Any) -> Any:
    result = one(parse, raw, **kw)
    assert result.reason is None, result.reason
    return result.value


def refused(parse: str, raw: str, match: str = "", **kw: Any) -> str:
    result = one(parse, raw, **kw)
    assert result.value is None and result.reason is not None and match in result.reason, result
    return result.reason


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-(10**12), max_value=10**12),
            st.sampled_from([THAI, KHMER, None]),
            st.booleans(),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_digits_normalise_for_any_integer(cases: list[tuple[int, dict[int, str] | None, bool]]) -> None:
    texts = [(f"{n:,}" if commas else str(n)).translate(table or {}) for n, table, commas in cases]
    results = normalise_cells(column("int"), texts)
    assert [r.value for r in results] == [n for n, _t, _c in cases]
    for (_n, table, _c), result in zip(cases, results, strict=True):
        expected = [] if table is None else ["thai_digits"] if table is THAI else ["khmer_digits"]
        assert result.notes == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7,372", 7372),
        (" 3,634 ", 3634),
        ("๗๓๗๒", 7372),
        ("៧,៣៧២", 7372),
        ("120", 120),
        ("12.0", 12),
        ("1 234", 1234),
    ],
)
def test_int_accepts(raw: str, expected: int) -> None:
    assert value("int", raw) == expected


@pytest.mark.parametrize(
    "raw", ["about 7,000", "more than 1,500", "at least 2,000", "up to 120,000", "ประมาณ 500"]
)
def test_int_refuses_qualified_figures(raw: str) -> None:
    refused("int", raw, "qualified figure")


@pytest.mark.parametrize("raw", ["7,37", "12a", "1.5", "1,2345", "1e3", "1_000", "true"])
def test_int_refuses_garbage(raw: str) -> None:
    refused("int", raw, "is not an integer")


def test_int_out_of_range_is_a_reason_not_an_overflow() -> None:
    refused("int", "9" * 5000, "out of range")
    assert one("int", "3000000000", type="integer").reason is not None


def test_iso_date() -> None:
    assert value("iso_date", "2025-02-19") == dt.date(2025, 2, 19)
    assert value("iso_date", "2025-03-31T00:00:00") == dt.date(2025, 3, 31)
    refused("iso_date", "19/02/2025", "not an ISO date")
    refused("iso_date", "2025-02-30", "not a real calendar date")
    refused("iso_date", "2568-02-19", "CE")


def test_dmy_date_with_khmer_digits() -> None:
    assert value("dmy_date", "14/03/2025") == dt.date(2025, 3, 14)
    assert one("dmy_date", "១៤/០៣/២០២៥") == (dt.date(2025, 3, 14), ["khmer_digits"], None)
    assert value("dmy_date", "1/3/2025") == dt.date(2025, 3, 1)
    refused("dmy_date", "2025-03-14", "not a DD/MM/YYYY")


def test_khmer_be_year_is_never_converted_blindly() -> None:
    refused("dmy_date", "១៤/០៣/២៥៦៨", "Gregorian")
    refused("dmy_date", "14/03/2568", "Buddhist Era")


@pytest.mark.parametrize(
    ("raw", "expected", "notes"),
    [
        ("15 มี.ค. 2568", dt.date(2025, 3, 15), ["be_year"]),
        ("15 ม.ค. 2568", dt.date(2025, 1, 15), ["be_year"]),
        ("15 มีนาคม 2568", dt.date(2025, 3, 15), ["be_year"]),
        ("15 มกราคม 2568", dt.date(2025, 1, 15), ["be_year"]),
        ("๑๕ มี.ค. ๒๕๖๘", dt.date(2025, 3, 15), ["be_year", "thai_digits"]),
        ("18 ก.ย. 02568 11:20", dt.date(2025, 9, 18), ["be_year", "padded_year"]),
        ("1 ธ.ค. 2567", dt.date(2024, 12, 1), ["be_year"]),
        ("29 ก.พ. 2567", dt.date(2024, 2, 29), ["be_year"]),
        ("15 มี.ค. 2025", dt.date(2025, 3, 15), []),
        ("15 มีค 2568", dt.date(2025, 3, 15), ["be_year"]),
    ],
)
def test_thai_date(raw: str, expected: dt.date, notes: list[str]) -> None:
    assert one("thai_date", raw) == (expected, notes, None)


def test_thai_date_never_confuses_january_and_march() -> None:
    table = tc.thai_month_table()
    assert table[tc._month_key("ม.ค.")] == 1 and table[tc._month_key("มี.ค.")] == 3
    assert value("thai_date", "1 ม.ค. 2568").month == 1
    assert value("thai_date", "1 มี.ค. 2568").month == 3


@pytest.mark.parametrize(
    "raw", ["15 มีน. 2568", "15 March 2568", "31 ก.พ. 2568", "15 มี.ค. 12568", "15 มี.ค. 1200"]
)
def test_thai_date_refuses(raw: str) -> None:
    refused("thai_date", raw)


def test_be_calendar_notes_ce_years_and_refuses_impossible_ones() -> None:
    assert one("thai_date", "15 มี.ค. 2025", calendar="BE") == (dt.date(2025, 3, 15), ["ce_year"], None)
    refused("thai_date", "15 มี.ค. 2168", "neither a Buddhist Era year", calendar="BE")
    refused("year_month", "2168-01", "calendar: BE", calendar="BE")
    assert one("year_month", "2568-01", calendar="BE") == (dt.date(2025, 1, 1), ["be_year"], None)


def test_fallback_month_tables_match_cldr() -> None:
    from babel.dates import get_month_names

    assert dict(get_month_names("abbreviated", locale="th")) == tc.FALLBACK_THAI_MONTHS_ABBREVIATED
    assert dict(get_month_names("wide", locale="th")) == tc.FALLBACK_THAI_MONTHS_WIDE
    assert len(set(tc.FALLBACK_THAI_MONTHS_ABBREVIATED.values())) == 12


def test_fallback_table_used_without_babel(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_babel(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("babel"):
            raise ImportError("no babel")
        return real_import(name, *args, **kwargs)

    tc.thai_month_table.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_babel)
    try:
        table = tc.thai_month_table()
    finally:
        monkeypatch.undo()
        tc.thai_month_table.cache_clear()
    assert table[tc._month_key("มี.ค.")] == 3 and table[tc._month_key("ธันวาคม")] == 12
    assert len(table) == 24


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2150, 12, 31)),
            st.booleans(),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_any_date_round_trips_through_thai_be_formatting(
    cases: list[tuple[dt.date, bool, bool, bool]],
) -> None:
    texts = []
    for day, wide, thai_digits, padded in cases:
        text = tc.format_thai_date(day, wide=wide, thai_digits=thai_digits)
        if padded:
            head, year = text.rsplit(" ", 1)
            text = f"{head} {('0' if not thai_digits else '๐')}{year}"
        texts.append(text)
    results = normalise_cells(column("thai_date"), texts)
    for (day, _w, thai_digits, _p), result in zip(cases, results, strict=True):
        assert result.value == day and "be_year" in result.notes
        assert ("thai_digits" in result.notes) == thai_digits


def test_year_month() -> None:
    assert value("year_month", "2025-01") == dt.date(2025, 1, 1)
    assert one("year_month", "2568-01") == (dt.date(2025, 1, 1), ["be_year"], None)
    assert one("year_month", "๒๕๖๘-๐๑") == (dt.date(2025, 1, 1), ["be_year", "thai_digits"], None)
    refused("year_month", "2025-13")
    refused("year_month", "Jan 2025")


def test_iso_timestamp_is_utc_naive() -> None:
    assert value("iso_timestamp", "2025-02-05T09:00:00+07:00") == dt.datetime(2025, 2, 5, 2, 0)
    assert value("iso_timestamp", "2025-02-05T23:45:00+06:30") == dt.datetime(2025, 2, 5, 17, 15)
    assert value("iso_timestamp", "2025-02-05T02:00:00Z") == dt.datetime(2025, 2, 5, 2, 0)
    assert value("iso_timestamp", "2025-02-05T02:00:00.250+00:00") == dt.datetime(2025, 2, 5, 2, 0, 0, 250000)
    refused("iso_timestamp", "2025-02-05T09:00:00", "offset")
    refused("iso_timestamp", "yesterday")
    refused("iso_timestamp", "0001-01-01T00:00:00+07:00", "year 0001")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("FALSE", False), ("yes", True), ("0", False), ("1", True), ("total", True),
     ("nationality", False)],
)  # fmt: skip
def test_bool(raw: str, expected: bool) -> None:
    assert value("bool", raw) is expected


def test_bool_refuses() -> None:
    refused("bool", "maybe", "not a boolean")


def test_blank_is_null_text_is_trimmed_and_json_is_compact() -> None:
    assert one("int", "  ") == (None, [], None)
    assert value("text", "  แม่สอด\u00a0") == "แม่สอด"
    assert value("json", '[{"a": "ไทย", "b": 1}]') == '[{"a":"ไทย","b":1}]'
    refused("json", "{bad", "not valid JSON")
    assert one("int", None, required=True).reason == "x ('x'): required but empty"


def test_label_maps_accepted_labels_and_names_unknown_ones() -> None:
    col = ColumnSpec(name="sex", parse="label", labels={"M": ["M", "male", "ប្រុស"], "F": ["F", "female"]})
    results = normalise_cells(col, [" Male ", "ប្រុស", "f", "", "เด็กชาย?"])
    assert [r.value for r in results] == ["M", "M", "F", None, None]
    assert results[4].reason == "unknown label 'เด็กชาย?' for sex (accepted: M, F)"


def test_keys_never_take_control_or_bidi_characters_or_huge_ids() -> None:
    col = ColumnSpec(name="report_id")
    results = normalise_cells(col, ["RTP-1", "RTP\u202e-1", "RTP\x1b[2J", "R" * 201])
    assert results[0] == ("RTP-1", [], None)
    assert "bidirectional" in (results[1].reason or "") and "control" in (results[2].reason or "")
    assert "201 characters" in (results[3].reason or "")


def test_every_spec_parse_rule_has_a_sql_form() -> None:
    from typing import get_args

    from borderwatch.specs import ParseRule

    assert set(get_args(ParseRule)) == set(nz.RULES)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15 มี.ค. พ.ศ. 2568", dt.date(2025, 3, 15)),  # era marker: the regex, not the split, reads it
        ("15 มี.ค.พ.ศ. 2568", dt.date(2025, 3, 15)),
        ("15  มี.ค.  2568", dt.date(2025, 3, 15)),
        ("15มี.ค. 2568", dt.date(2025, 3, 15)),
        ("๑๕ มีนาคม ๒๐๒๕", dt.date(2025, 3, 15)),
    ],
)
def test_thai_date_shapes_beside_the_common_one(raw: str, expected: dt.date) -> None:
    assert value("thai_date", raw) == expected


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)), st.integers(1, 31))
def test_plain_dates_take_the_cast_and_agree_with_the_calendar(day: dt.date, wrong_day: int) -> None:
    """The one-cast shape (DD/MM/YYYY, YYYY-MM-DD) types exactly what the full rule would, refusals too."""
    assert value("dmy_date", day.strftime("%d/%m/%Y")) == day
    assert value("iso_date", day.isoformat()) == day
    try:
        real = day.replace(day=wrong_day)
    except ValueError:
        refused("dmy_date", f"{wrong_day:02d}/{day:%m/%Y}", "not a real calendar date")
        refused("iso_date", f"{day:%Y-%m}-{wrong_day:02d}", "not a real calendar date")
    else:
        assert value("dmy_date", f"{wrong_day:02d}/{day:%m/%Y}") == real


@settings(max_examples=40, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2199, 12, 30)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.integers(-14 * 60, 14 * 60),
)
def test_plain_timestamps_take_the_cast_and_are_stored_utc(local: dt.datetime, minutes: int) -> None:
    zone = dt.timezone(dt.timedelta(minutes=minutes))
    text = local.replace(tzinfo=zone).isoformat()
    assert value("iso_timestamp", text) == local - dt.timedelta(minutes=minutes)
