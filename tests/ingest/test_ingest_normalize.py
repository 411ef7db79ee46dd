"""Normalisers: every rule on the quirks agencies actually send, plus property tests."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borderwatch import normalize as nz
from borderwatch.normalize import NormaliseError

THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
KHMER = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def test_to_ascii_digits_reports_what_it_changed() -> None:
    assert nz.to_ascii_digits("๒๕๖๘") == ("2568", ["thai_digits"])
    assert nz.to_ascii_digits("១២/០៣/២០២៥") == ("12/03/2025", ["khmer_digits"])
    assert nz.to_ascii_digits("๑ and ១") == ("1 and 1", ["thai_digits", "khmer_digits"])
    assert nz.to_ascii_digits("plain 42") == ("plain 42", [])
    assert nz.to_ascii_digits("จีน") == ("จีน", [])


@given(
    st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from([THAI, KHMER, None]), st.booleans()
)
def test_digits_normalise_for_any_integer(n: int, table: dict[int, str] | None, commas: bool) -> None:
    text = f"{n:,}" if commas else str(n)
    if table:
        text = text.translate(table)
    ascii_text, notes = nz.to_ascii_digits(text)
    assert ascii_text.isascii()
    assert nz.parse_int(text) == n
    assert bool(notes) == (table is not None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7,372", 7372),
        (" 3,634 ", 3634),
        ("๗๓๗๒", 7372),
        ("៧,៣៧២", 7372),
        (120, 120),
        (220.0, 220),
        ("12.0", 12),
    ],
)
def test_parse_int_accepts(raw: object, expected: int) -> None:
    assert nz.parse_int(raw) == expected


@pytest.mark.parametrize(
    "raw", ["about 7,000", "more than 1,500", "at least 2,000", "up to 120,000", "ประมาณ 500"]
)
def test_parse_int_refuses_qualified_figures(raw: str) -> None:
    with pytest.raises(ValueError, match="qualified figure"):
        nz.parse_int(raw)


@pytest.mark.parametrize("raw", ["7,37", "12a", "1.5", 1.5, True, "", "1,2345"])
def test_parse_int_refuses_garbage(raw: object) -> None:
    with pytest.raises(NormaliseError):
        nz.parse_int(raw)


def test_parse_iso_date() -> None:
    assert nz.parse_iso_date("2025-02-19") == dt.date(2025, 2, 19)
    assert nz.parse_iso_date(dt.datetime(2025, 3, 31, 0, 0)) == dt.date(2025, 3, 31)
    with pytest.raises(NormaliseError, match="not an ISO date"):
        nz.parse_iso_date("19/02/2025")
    with pytest.raises(NormaliseError, match="not a real calendar date"):
        nz.parse_iso_date("2025-02-30")
    with pytest.raises(NormaliseError, match="CE"):
        nz.parse_iso_date("2568-02-19")


def test_parse_dmy_date_with_khmer_digits() -> None:
    assert nz.parse_dmy_date("14/03/2025") == dt.date(2025, 3, 14)
    assert nz.parse_dmy_date_noted("១៤/០៣/២០២៥") == (dt.date(2025, 3, 14), ["khmer_digits"])
    assert nz.parse_dmy_date("1/3/2025") == dt.date(2025, 3, 1)
    with pytest.raises(NormaliseError, match="not a DD/MM/YYYY"):
        nz.parse_dmy_date("2025-03-14")


def test_khmer_be_year_is_never_converted_blindly() -> None:
    with pytest.raises(NormaliseError, match=r"Buddhist Era.*Gregorian"):
        nz.parse_dmy_date("១៤/០៣/២៥៦៨")
    with pytest.raises(NormaliseError, match="Buddhist Era"):
        nz.parse_dmy_date("14/03/2568")


@pytest.mark.parametrize(
    ("raw", "expected", "notes"),
    [
        ("15 มี.ค. 2568", dt.date(2025, 3, 15), ["be_year"]),
        ("15 ม.ค. 2568", dt.date(2025, 1, 15), ["be_year"]),
        ("15 มีนาคม 2568", dt.date(2025, 3, 15), ["be_year"]),
        ("15 มกราคม 2568", dt.date(2025, 1, 15), ["be_year"]),
        ("๑๕ มี.ค. ๒๕๖๘", dt.date(2025, 3, 15), ["thai_digits", "be_year"]),
        ("18 ก.ย. 02568 11:20", dt.date(2025, 9, 18), ["padded_year", "be_year"]),
        ("1 ธ.ค. 2567", dt.date(2024, 12, 1), ["be_year"]),
        ("29 ก.พ. 2567", dt.date(2024, 2, 29), ["be_year"]),
        ("15 มี.ค. 2025", dt.date(2025, 3, 15), []),
        ("15 มีค 2568", dt.date(2025, 3, 15), ["be_year"]),
    ],
)
def test_parse_thai_date(raw: str, expected: dt.date, notes: list[str]) -> None:
    assert nz.parse_thai_date_noted(raw) == (expected, notes)


def test_thai_date_never_confuses_january_and_march() -> None:
    table = nz.thai_month_table()
    assert table[nz._month_key("ม.ค.")] == 1
    assert table[nz._month_key("มี.ค.")] == 3
    assert nz.parse_thai_date("1 ม.ค. 2568").month == 1
    assert nz.parse_thai_date("1 มี.ค. 2568").month == 3


@pytest.mark.parametrize(
    "raw", ["15 มีน. 2568", "15 March 2568", "31 ก.พ. 2568", "15 มี.ค. 12568", "15 มี.ค. 1200"]
)
def test_parse_thai_date_refuses(raw: str) -> None:
    with pytest.raises(NormaliseError):
        nz.parse_thai_date(raw)


def test_fallback_month_tables_match_cldr() -> None:
    from babel.dates import get_month_names

    assert dict(get_month_names("abbreviated", locale="th")) == nz.FALLBACK_THAI_MONTHS_ABBREVIATED
    assert dict(get_month_names("wide", locale="th")) == nz.FALLBACK_THAI_MONTHS_WIDE
    assert len(set(nz.FALLBACK_THAI_MONTHS_ABBREVIATED.values())) == 12


def test_fallback_table_used_without_babel(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_babel(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("babel"):
            raise ImportError("no babel")
        return real_import(name, *args, **kwargs)

    nz.thai_month_table.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_babel)
    try:
        table = nz.thai_month_table()
    finally:
        monkeypatch.undo()
        nz.thai_month_table.cache_clear()
    assert table[nz._month_key("มี.ค.")] == 3 and table[nz._month_key("ธันวาคม")] == 12
    assert len(table) == 24


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2150, 12, 31)),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_any_date_round_trips_through_thai_be_formatting(
    day: dt.date, wide: bool, thai_digits: bool, padded: bool
) -> None:
    text = nz.format_thai_date(day, wide=wide, thai_digits=thai_digits)
    if padded:
        head, year = text.rsplit(" ", 1)
        text = f"{head} {('0' if not thai_digits else '๐')}{year}"
    parsed, notes = nz.parse_thai_date_noted(text)
    assert parsed == day
    assert "be_year" in notes
    assert ("thai_digits" in notes) == thai_digits


def test_parse_year_month() -> None:
    assert nz.parse_year_month("2025-01") == dt.date(2025, 1, 1)
    assert nz.parse_year_month_noted("2568-01") == (dt.date(2025, 1, 1), ["be_year"])
    assert nz.parse_year_month_noted("๒๕๖๘-๐๑") == (dt.date(2025, 1, 1), ["thai_digits", "be_year"])
    with pytest.raises(NormaliseError):
        nz.parse_year_month("2025-13")
    with pytest.raises(NormaliseError):
        nz.parse_year_month("Jan 2025")


def test_parse_iso_timestamp_is_utc_naive() -> None:
    assert nz.parse_iso_timestamp("2025-02-05T09:00:00+07:00") == dt.datetime(2025, 2, 5, 2, 0)
    assert nz.parse_iso_timestamp("2025-02-05T23:45:00+06:30") == dt.datetime(2025, 2, 5, 17, 15)
    assert nz.parse_iso_timestamp("2025-02-05T02:00:00Z") == dt.datetime(2025, 2, 5, 2, 0)
    with pytest.raises(NormaliseError, match="offset"):
        nz.parse_iso_timestamp("2025-02-05T09:00:00")
    with pytest.raises(NormaliseError):
        nz.parse_iso_timestamp("yesterday")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("FALSE", False), ("yes", True), ("0", False), (1, True), (True, True),
     ("total", True), ("nationality", False)],
)  # fmt: skip
def test_parse_bool(raw: object, expected: bool) -> None:
    assert nz.parse_bool(raw) is expected


def test_parse_bool_refuses() -> None:
    with pytest.raises(NormaliseError):
        nz.parse_bool("maybe")


def test_parse_value_blank_is_null_and_json_is_canonical() -> None:
    assert nz.parse_value("int", "  ") == (None, [])
    assert nz.parse_value("text", "  แม่สอด ") == ("แม่สอด", [])
    assert nz.parse_value("json", [{"b": 1, "a": "ไทย"}]) == ('[{"a":"ไทย","b":1}]', [])
    with pytest.raises(NormaliseError, match="unknown parse rule"):
        nz.parse_value("roman", "XII")
