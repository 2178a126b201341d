"""ORTPSA time limits counted in working days, from the Odisha holiday tables in the repo.

The rule, and where it comes from:

- Public holidays are not counted. Odisha Right to Public Services Rules, 2012 (notified in
  the Gazette on 7 December 2012), rule 6: "While calculating the given time limit for
  providing the services, public holidays shall not be included." The Lokaseba FAQ says the
  same ("time limits exclude public holidays"; /work/shared/reference/ortpsa-services.md).
- The day the application is received is not counted. The Act and Rules give the limit as a
  number of days from the application; a period counted from a day excludes that day
  (General Clauses Act, 1897, s. 9, "from" excludes the first day, and the Orissa General
  Clauses Act, 1937 for Orissa Acts; the Supreme Court applied the same in Econ Antri Ltd v
  Rom Industries Ltd, 2013). No text of the Rules found says otherwise.
- So the due date is the N-th working day after the day of receipt, and "day k of N" is the
  number of working days since receipt (0 on the day itself).

"Public holiday" is read as a day the State Government offices that designated officers work
in are closed: every Sunday; the second and fourth Saturday of each month (General
Administration Department office memorandum of 22 June 2019; the annual notifications treat
festivals on those Saturdays as already off); and the general holidays of the annual Revenue
and Disaster Management Department notification, with the year's amendments.
Optional holidays close no office and are not counted as holidays.

The tables are ``catalog/holidays/odisha-<year>.yml`` (``SEVA_HOLIDAYS_DIR`` overrides the
folder); their README says how an operator adds a year. A year whose table is missing or
marked ``complete: false`` is not exactly known: its days are still counted (skipping
Sundays, which every year has off, and whatever a partial table lists), but any due date
that counts across such a day, or across a date the sources disagree on
(``other_dates``), is marked ``exact=False`` so the assistant can say "about".

``python -m seva.working_days due 2026-01-20 15`` prints a due date and the days skipped;
``day RECEIVED TODAY`` prints which working day TODAY is; ``check`` validates the tables.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Set, Tuple, Union

import yaml

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "catalog" / "holidays"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SATURDAY = 5
# Off in every sourced year, so also assumed for a year without a table.
ALWAYS_OFF: FrozenSet[int] = frozenset({6})
_ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
_FILE = re.compile(r"^odisha-(\d{4})\.ya?ml$")
_KEYS = {"year", "complete", "source", "weekly_off", "saturdays_off", "holidays", "working_days"}
_HOLIDAY_KEYS = {"date", "name", "name_odia", "other_dates"}


class HolidayTableError(ValueError):
    """A malformed holiday table; the message lists every problem with its file."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__("holiday tables are invalid:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Holiday:
    date: dt.date
    name: str
    name_odia: Optional[str] = None


@dataclass(frozen=True)
class YearTable:
    """One year's notified holidays and weekly rules, as one file gives them."""

    year: int
    complete: bool
    source: Mapping[str, Any]
    weekly_off: FrozenSet[int]  # date.weekday() numbers, Monday 0
    saturdays_off: FrozenSet[int]  # which Saturdays of a month (2 = the second)
    holidays: Mapping[dt.date, Holiday]
    working_days: FrozenSet[dt.date]  # normally-off days an order made working days
    unsure: FrozenSet[dt.date]  # holiday dates the sources disagree on, every candidate

    def off_reason(self, day: dt.date) -> Optional[str]:
        """Why ``day`` is not a working day by this table, or None if it is one."""
        if day in self.working_days:
            return None
        if day in self.holidays:
            return self.holidays[day].name
        if day.weekday() in self.weekly_off:
            return WEEKDAYS[day.weekday()].capitalize()
        nth = (day.day - 1) // 7 + 1
        if day.weekday() == SATURDAY and nth in self.saturdays_off:
            return f"{_ORDINAL[nth]} Saturday"
        return None


@dataclass(frozen=True)
class DueDate:
    """An ORTPSA due date; ``exact`` is False where a missing or partial table, or a disputed
    holiday date, means the real date may differ."""

    date: dt.date
    exact: bool


class HolidayCalendar:
    """Working days in Odisha State Government offices, year by year."""

    def __init__(self, tables: Iterable[YearTable] = ()):
        self._tables: Dict[int, YearTable] = {}
        for table in tables:
            if table.year in self._tables:
                raise HolidayTableError([f"two tables for {table.year}"])
            self._tables[table.year] = table

    @classmethod
    def load(cls, directory: Union[str, Path]) -> "HolidayCalendar":
        """Read every ``odisha-<year>.yml`` in ``directory``, checking all of them first."""
        root = Path(directory)
        if not root.is_dir():
            raise HolidayTableError([f"{root}: no such folder"])
        problems: List[str] = []
        tables: List[YearTable] = []
        for path in sorted(root.iterdir()):
            match = _FILE.match(path.name)
            if not match:
                continue
            table = _parse(path, int(match.group(1)), problems)
            if table is not None:
                tables.append(table)
        if problems:
            raise HolidayTableError(problems)
        return cls(tables)

    @property
    def years(self) -> Tuple[int, ...]:
        return tuple(sorted(self._tables))

    def table(self, year: int) -> Optional[YearTable]:
        return self._tables.get(year)

    def covers(self, day: dt.date) -> bool:
        """A complete table exists for ``day``'s year."""
        table = self._tables.get(day.year)
        return table is not None and table.complete

    def is_exact(self, day: dt.date) -> bool:
        """Whether ``day`` is known to be a working day or not (covered and not disputed)."""
        table = self._tables.get(day.year)
        return table is not None and table.complete and day not in table.unsure

    def off_reason(self, day: dt.date) -> Optional[str]:
        """Why ``day`` is not a working day ("Sunday", "second Saturday", a holiday's name),
        or None if it is one. A year without a table has only its Sundays off."""
        table = self._tables.get(day.year)
        if table is not None:
            return table.off_reason(day)
        if day.weekday() in ALWAYS_OFF:
            return WEEKDAYS[day.weekday()].capitalize()
        return None

    def is_working_day(self, day: dt.date) -> bool:
        return self.off_reason(day) is None

    def due_date(self, received_on: dt.date, days: int) -> DueDate:
        """The ``days``-th working day after ``received_on`` (the day of receipt is not
        counted; rule 6 of the ORTPS Rules 2012 leaves public holidays out)."""
        if days < 0:
            raise ValueError(f"a time limit cannot be negative: {days}")
        day, counted, exact = received_on, 0, True
        while counted < days:
            day += dt.timedelta(days=1)
            exact = exact and self.is_exact(day)
            if self.is_working_day(day):
                counted += 1
        return DueDate(day, exact)

    def working_day_number(self, received_on: dt.date, today: dt.date) -> int:
        """Which working day of the time limit ``today`` is: 0 on the day of receipt (and
        before it), 1 on the first working day after it; on a holiday, the working days so far."""
        count, day = 0, received_on
        while day < today:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def days_off_between(self, after: dt.date, until: dt.date) -> List[Tuple[dt.date, str]]:
        """The non-working days after ``after`` up to and including ``until``, with why."""
        found: List[Tuple[dt.date, str]] = []
        day = after
        while day < until:
            day += dt.timedelta(days=1)
            reason = self.off_reason(day)
            if reason is not None:
                found.append((day, reason))
        return found


def holidays_dir() -> Path:
    """The tables' folder: ``SEVA_HOLIDAYS_DIR`` or ``catalog/holidays`` in the repo."""
    return Path(os.environ.get("SEVA_HOLIDAYS_DIR") or DEFAULT_DIR)


@functools.lru_cache(maxsize=4)
def _cached(directory: str) -> HolidayCalendar:
    return HolidayCalendar.load(directory)


def default_calendar() -> HolidayCalendar:
    """The calendar from ``holidays_dir()``, read once per folder (files change with a deploy)."""
    return _cached(str(holidays_dir()))


def _as_date(value: Any) -> Optional[dt.date]:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _parse(path: Path, file_year: int, problems: List[str]) -> Optional[YearTable]:
    """One file as a YearTable, or None with its problems appended (all of them, not the first)."""
    where = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        problems.append(f"{where}: not YAML: {error}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a mapping at the top")
        return None
    start = len(problems)
    for key in sorted(set(data) - _KEYS):
        problems.append(f"{where}: unknown key {key!r}")

    if data.get("year") != file_year:
        problems.append(f"{where}: year is {data.get('year')!r}, the file name says {file_year}")
    complete = data.get("complete")
    if not isinstance(complete, bool):
        problems.append(f"{where}: complete must be true or false")

    source = data.get("source")
    if not isinstance(source, dict):
        problems.append(f"{where}: source must say which notification the dates come from")
        source = {}
    else:
        for key in ("department", "notification"):
            if not isinstance(source.get(key), str) or not source[key].strip():
                problems.append(f"{where}: source.{key} is missing")
        urls = source.get("urls") or []
        if not isinstance(urls, list) or not all(isinstance(u, str) and u.strip() for u in urls):
            problems.append(f"{where}: source.urls must be a list of addresses")
        elif not urls and not source.get("number"):
            problems.append(f"{where}: source needs the notification's number or an address (urls)")

    weekly_off: Set[int] = set()
    raw_weekly = data.get("weekly_off")
    if not isinstance(raw_weekly, list):
        problems.append(f"{where}: weekly_off must be a list of weekday names, e.g. [sunday]")
    else:
        for name in raw_weekly:
            if str(name).lower() in WEEKDAYS:
                weekly_off.add(WEEKDAYS.index(str(name).lower()))
            else:
                problems.append(f"{where}: weekly_off has {name!r}, not a weekday")

    saturdays = data.get("saturdays_off") or []
    if not isinstance(saturdays, list) or not all(isinstance(n, int) and 1 <= n <= 5 for n in saturdays):
        problems.append(f"{where}: saturdays_off must list which Saturdays of a month are off (1-5)")
        saturdays = []

    def in_year(value: Any, what: str) -> Optional[dt.date]:
        day = _as_date(value)
        if day is None:
            problems.append(f"{where}: {what}: {value!r} is not a date (YYYY-MM-DD)")
        elif day.year != file_year:
            problems.append(f"{where}: {what}: {day} is not in {file_year}")
            return None
        return day

    holidays: Dict[dt.date, Holiday] = {}
    unsure: Set[dt.date] = set()
    raw_holidays = data.get("holidays")
    if not isinstance(raw_holidays, list):
        problems.append(f"{where}: holidays must be a list of {{date, name}}")
        raw_holidays = []
    for number, entry in enumerate(raw_holidays, start=1):
        if not isinstance(entry, dict):
            problems.append(f"{where}: holiday {number} must be a mapping with date and name")
            continue
        for key in sorted(set(entry) - _HOLIDAY_KEYS):
            problems.append(f"{where}: holiday {number}: unknown key {key!r}")
        day = in_year(entry.get("date"), f"holiday {number}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: holiday {number} has no name")
            continue
        odia = entry.get("name_odia")
        if odia is not None and not isinstance(odia, str):
            problems.append(f"{where}: holiday {number}: name_odia must be text")
            odia = None
        if day is None:
            continue
        if day in holidays:
            problems.append(f"{where}: {day} is listed twice ({holidays[day].name}; {name})")
            continue
        holidays[day] = Holiday(day, name.strip(), odia)
        others = entry.get("other_dates") or []
        if not isinstance(others, list):
            problems.append(f"{where}: holiday {number}: other_dates must be a list of dates")
            others = []
        candidates = [in_year(value, f"holiday {number} other_dates") for value in others]
        if others:
            unsure.add(day)
            unsure.update(d for d in candidates if d is not None)

    working_days: Set[dt.date] = set()
    raw_working = data.get("working_days") or []
    if not isinstance(raw_working, list):
        problems.append(f"{where}: working_days must be a list of {{date, name}}")
        raw_working = []
    for number, entry in enumerate(raw_working, start=1):
        day = in_year(entry.get("date") if isinstance(entry, dict) else entry, f"working day {number}")
        if day is None:
            continue
        normally_off = day.weekday() in weekly_off or (
            day.weekday() == SATURDAY and (day.day - 1) // 7 + 1 in saturdays)
        if day in holidays:
            problems.append(f"{where}: {day} is both a holiday and a working day")
        elif not normally_off:
            problems.append(f"{where}: working day {day} is not a weekly off day, so it changes nothing")
        working_days.add(day)

    if len(problems) > start:
        return None
    return YearTable(
        year=file_year, complete=bool(complete), source=source, weekly_off=frozenset(weekly_off),
        saturdays_off=frozenset(saturdays), holidays=holidays, working_days=frozenset(working_days),
        unsure=frozenset(unsure),
    )


def _show(day: dt.date) -> str:
    return f"{day.isoformat()} {day.strftime('%a')}"


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = ("usage: python -m seva.working_days due RECEIVED DAYS | day RECEIVED TODAY | check\n"
             "  dates as YYYY-MM-DD; tables from SEVA_HOLIDAYS_DIR or catalog/holidays")
    try:
        calendar = HolidayCalendar.load(holidays_dir())
    except HolidayTableError as error:
        print(error, file=sys.stderr)
        return 1
    try:
        if args[:1] == ["check"] and len(args) == 1:
            for year in calendar.years:
                table = calendar.table(year)
                assert table is not None
                state = "complete" if table.complete else "partial"
                print(f"{year}: {len(table.holidays)} holidays, {state}")
            return 0
        if args[:1] == ["due"] and len(args) == 3:
            received, days = dt.date.fromisoformat(args[1]), int(args[2])
            due = calendar.due_date(received, days)
            print(f"received {_show(received)}; {days} working days; due {_show(due.date)}"
                  f"{'' if due.exact else ' (approximate)'}")
            window = [received + dt.timedelta(days=n) for n in range(1, (due.date - received).days + 1)]
            missing = sorted({d.year for d in window if not calendar.covers(d)})
            disputed = [d for d in window if calendar.covers(d) and not calendar.is_exact(d)]
            for year in missing:
                print(f"  the {year} holiday table is partial" if calendar.table(year) is not None
                      else f"  no holiday table for {year}: only its Sundays are skipped")
            for day in disputed:
                print(f"  sources disagree whether {_show(day)} is a holiday")
            for day, reason in calendar.days_off_between(received, due.date):
                print(f"  not counted: {_show(day)}  {reason}")
            return 0
        if args[:1] == ["day"] and len(args) == 3:
            received, today = dt.date.fromisoformat(args[1]), dt.date.fromisoformat(args[2])
            print(calendar.working_day_number(received, today))
            return 0
    except ValueError as error:
        print(f"{error}\n{usage}", file=sys.stderr)
        return 2
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
