"""ORTPSA working-day counting (seva.working_days) and the shipped Odisha holiday tables.

Synthetic tables live in a temporary folder and use 2031 (no real table will exist for it
soon): 1 Jan 2031 is a Wednesday, 5 Jan a Sunday, 11 Jan the second Saturday.
"""
import dataclasses
import datetime as dt
import textwrap

import pytest
import yaml

from seva import working_days
from seva.working_days import DEFAULT_DIR, DueDate, HolidayCalendar, HolidayTableError

D = dt.date
SOURCE = """\
source:
  department: Test Department
  notification: a test notification
  urls: [https://example.invalid/notice]
"""


def write_table(folder, year, body, *, complete=True, source=SOURCE, weekly="[sunday]", saturdays="[2, 4]"):
    text = (f"year: {year}\ncomplete: {str(complete).lower()}\n{source}weekly_off: {weekly}\n"
            f"saturdays_off: {saturdays}\n{textwrap.dedent(body)}")
    (folder / f"odisha-{year}.yml").write_text(text, encoding="utf-8")


@pytest.fixture
def folder(tmp_path):
    write_table(tmp_path, 2031, """\
        holidays:
          - {date: 2031-01-08, name: Test Festival}
          - {date: 2031-01-20, name: Disputed Festival, other_dates: [2031-01-22]}
        working_days:
          - {date: 2031-01-25, name: Fourth Saturday made a working day}
        """)
    return tmp_path


@pytest.fixture
def calendar(folder):
    return HolidayCalendar.load(folder)


@pytest.fixture(scope="module")
def shipped():
    return HolidayCalendar.load(DEFAULT_DIR)


# --- the counting rule ---------------------------------------------------------------

def test_day_of_receipt_is_not_counted(calendar):
    # received Monday 6 Jan: the first day of the limit is Tuesday 7 Jan
    assert calendar.due_date(D(2031, 1, 6), 1) == DueDate(D(2031, 1, 7), True)
    assert calendar.working_day_number(D(2031, 1, 6), D(2031, 1, 6)) == 0
    assert calendar.working_day_number(D(2031, 1, 6), D(2031, 1, 7)) == 1


def test_a_holiday_in_the_window_moves_the_due_date_by_one_day(calendar):
    # Tue 7 (1), Wed 8 holiday, Thu 9 (2), Fri 10 (3)
    assert calendar.due_date(D(2031, 1, 6), 3) == DueDate(D(2031, 1, 10), True)
    without = HolidayCalendar([dataclasses.replace(calendar.table(2031), holidays={})])
    assert without.due_date(D(2031, 1, 6), 3).date == D(2031, 1, 9)


def test_sunday_and_second_saturday_are_skipped(calendar):
    assert calendar.off_reason(D(2031, 1, 5)) == "Sunday"
    assert calendar.off_reason(D(2031, 1, 11)) == "second Saturday"
    assert calendar.is_working_day(D(2031, 1, 4))  # first Saturday
    # received Fri 3 Jan: Sat 4 (1), Sun 5 skipped, Mon 6 (2)
    assert calendar.due_date(D(2031, 1, 3), 2).date == D(2031, 1, 6)
    # received Fri 10 Jan: Sat 11 and Sun 12 skipped, Mon 13 (1)
    assert calendar.due_date(D(2031, 1, 10), 1).date == D(2031, 1, 13)


def test_a_declared_working_saturday_counts(calendar):
    assert calendar.is_working_day(D(2031, 1, 25))  # fourth Saturday, made a working day
    assert not calendar.is_working_day(D(2031, 2, 22))  # an ordinary fourth Saturday


def test_working_day_number_on_a_holiday_is_the_count_so_far(calendar):
    received = D(2031, 1, 6)
    assert calendar.working_day_number(received, D(2031, 1, 8)) == 1  # the holiday
    assert calendar.working_day_number(received, D(2031, 1, 9)) == 2
    assert calendar.working_day_number(received, D(2031, 1, 12)) == 3  # 7, 9, 10; Sat 11 and Sun 12 off
    assert calendar.working_day_number(received, D(2031, 1, 1)) == 0  # before receipt


def test_received_on_a_holiday(calendar):
    assert calendar.due_date(D(2031, 1, 8), 1).date == D(2031, 1, 9)


def test_zero_and_negative_limits(calendar):
    assert calendar.due_date(D(2031, 1, 6), 0) == DueDate(D(2031, 1, 6), True)
    with pytest.raises(ValueError):
        calendar.due_date(D(2031, 1, 6), -1)


def test_due_date_is_a_working_day_and_counts_exactly_n(shipped):
    received = D(2026, 1, 1)
    for days in range(1, 90):
        due = shipped.due_date(received, days)
        assert shipped.is_working_day(due.date)
        assert shipped.working_day_number(received, due.date) == days


# --- years the tables do not cover -----------------------------------------------------

def test_a_year_without_a_table_is_approximate_but_skips_sundays(calendar):
    assert not calendar.covers(D(2032, 3, 1))
    # received Fri 2032-03-05: Sat 6 (1), Sun 7 skipped, Mon 8 (2); Saturdays count
    assert calendar.due_date(D(2032, 3, 5), 2) == DueDate(D(2032, 3, 8), False)
    assert calendar.is_working_day(D(2032, 3, 13))  # a second Saturday: unknown, counted


def test_counting_into_an_uncovered_year_is_approximate(calendar):
    due = calendar.due_date(D(2031, 12, 26), 5)
    assert due.exact is False and due.date.year == 2032
    assert calendar.due_date(D(2031, 12, 1), 5).exact is True


def test_a_partial_table_is_not_exact_but_its_holidays_are_skipped(folder):
    write_table(folder, 2032, """\
        holidays:
          - {date: 2032-03-09, name: Known Festival}
        """, complete=False)
    calendar = HolidayCalendar.load(folder)
    assert not calendar.covers(D(2032, 3, 9))
    # received Mon 8 Mar: Tue 9 holiday, Wed 10 (1)
    assert calendar.due_date(D(2032, 3, 8), 1) == DueDate(D(2032, 3, 10), False)


def test_a_disputed_holiday_date_makes_only_windows_touching_it_approximate(calendar):
    assert calendar.covers(D(2031, 1, 20))
    assert calendar.due_date(D(2031, 1, 16), 2).exact is True  # Fri 17, Sat 18 (third): before 20 Jan
    assert calendar.due_date(D(2031, 1, 17), 3).exact is False  # counts across 20 Jan
    assert calendar.due_date(D(2031, 1, 21), 1).exact is False  # 22 Jan, the other date
    assert calendar.due_date(D(2031, 1, 22), 2).exact is True


# --- the shipped tables ------------------------------------------------------------------

def test_shipped_2026_skips_sourced_holidays(shipped):
    assert shipped.covers(D(2026, 6, 1))
    assert shipped.off_reason(D(2026, 1, 26)) == "Republic Day"
    # received Mon 13 Jul 2026: Tue 14 (1), Wed 15 (2), Thu 16 Ratha Yatra, Fri 17 (3)
    assert shipped.off_reason(D(2026, 7, 16)) == "Ratha Yatra"
    assert shipped.due_date(D(2026, 7, 13), 3) == DueDate(D(2026, 7, 17), True)
    table = shipped.table(2026)
    holidays = {d: h for d, h in table.holidays.items() if d != D(2026, 7, 16)}
    without = HolidayCalendar([dataclasses.replace(table, holidays=holidays)])
    assert without.due_date(D(2026, 7, 13), 3).date == D(2026, 7, 16)


def test_shipped_2026_example_from_the_cli(shipped):
    # 23 Jan (Netaji Jayanti), 24 Jan (fourth Saturday), 25 Jan (Sunday), 26 Jan (Republic Day)
    assert shipped.due_date(D(2026, 1, 20), 15) == DueDate(D(2026, 2, 10), True)


def test_shipped_2025_amendments(shipped):
    assert shipped.is_working_day(D(2025, 3, 5))  # Panchayati Raj Divas withdrawn
    assert not shipped.is_working_day(D(2025, 8, 29))  # added after Nuakhai
    assert shipped.is_working_day(D(2025, 9, 13))  # second Saturday made a working day
    assert not shipped.is_working_day(D(2025, 10, 20))  # extra Diwali holiday
    assert shipped.is_working_day(D(2025, 10, 25))  # fourth Saturday made a working day


def test_shipped_files_are_well_formed():
    files = sorted(DEFAULT_DIR.glob("odisha-*.yml"))
    assert {f.name for f in files} >= {"odisha-2025.yml", "odisha-2026.yml"}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        year = int(path.stem.split("-")[1])
        assert data["year"] == year
        source = data["source"]
        assert source["department"].strip() and source["notification"].strip()
        assert source.get("urls") or source.get("number"), path.name
        dates = [h["date"] for h in data["holidays"]]
        assert all(isinstance(d, dt.date) and d.year == year for d in dates), path.name
        assert len(dates) == len(set(dates)), f"{path.name}: a date is listed twice"
        assert all(str(h["name"]).strip() for h in data["holidays"])


# --- loading -----------------------------------------------------------------------------

@pytest.mark.parametrize("body, problem", [
    ("holidays:\n  - {date: 2031-01-08, name: A}\n  - {date: 2031-01-08, name: B}\n", "listed twice"),
    ("holidays:\n  - {date: 2030-12-31, name: A}\n", "not in 2031"),
    ("holidays:\n  - {date: 31-01-2031, name: A}\n", "not a date"),
    ("holidays:\n  - {date: 2031-01-08}\n", "has no name"),
    ("holiday: []\nholidays: []\n", "unknown key 'holiday'"),
    ("holidays: []\nworking_days: [2031-01-07]\n", "changes nothing"),
])
def test_malformed_tables_are_refused(tmp_path, body, problem):
    write_table(tmp_path, 2031, body)
    with pytest.raises(HolidayTableError, match=problem):
        HolidayCalendar.load(tmp_path)


def test_a_table_needs_a_source(tmp_path):
    write_table(tmp_path, 2031, "holidays: []\n", source="")
    with pytest.raises(HolidayTableError, match="source"):
        HolidayCalendar.load(tmp_path)


def test_the_year_must_match_the_file_name(tmp_path):
    write_table(tmp_path, 2031, "holidays: []\n")
    (tmp_path / "odisha-2031.yml").rename(tmp_path / "odisha-2033.yml")
    with pytest.raises(HolidayTableError, match="file name says 2033"):
        HolidayCalendar.load(tmp_path)


def test_default_calendar_follows_the_environment(folder, monkeypatch):
    monkeypatch.setenv("SEVA_HOLIDAYS_DIR", str(folder))
    assert working_days.default_calendar().years == (2031,)
    monkeypatch.delenv("SEVA_HOLIDAYS_DIR")
    assert 2026 in working_days.default_calendar().years


def test_cli_prints_the_due_date_and_the_days_skipped(folder, monkeypatch, capsys):
    monkeypatch.setenv("SEVA_HOLIDAYS_DIR", str(folder))
    assert working_days.main(["due", "2031-01-06", "3"]) == 0
    out = capsys.readouterr().out
    assert "due 2031-01-10 Fri" in out and "2031-01-08 Wed  Test Festival" in out
    assert working_days.main(["day", "2031-01-06", "2031-01-09"]) == 0
    assert capsys.readouterr().out.strip() == "2"
    assert working_days.main(["due", "2031-13-01", "3"]) == 2
