"""Working days and Dutch public holidays, for reminders, check-ins and digests.

The holidays are those the Algemene Termijnenwet names, computed here from Easter (python-dateutil)
and fixed dates, Koningsdag's move to 26 April when the 27th is a Sunday included. The `holidays`
package knows them too, but it costs every process that asks about a date ~17 MB and ~400 modules
(the idle-memory budget is 90 MB), so it is only the oracle tests/test_calendar.py checks this
table against, year by year. Times are computed in the partnership's zone with zoneinfo, so "09:00"
stays 09:00 across daylight-saving changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from dateutil.easter import easter

# Good Friday is no general day off: the Algemene Termijnenwet does not name it, and the partners'
# offices (gemeente, politie, OM, Belastingdienst) are open. Liberation Day is one in lustrum years.
LIBERATION_DAY_EVERY = 5


def _kings_day(year: int) -> date:
    if year >= 2014:  # Koningsdag: 27 April, the 26th when the 27th is a Sunday
        kings = date(year, 4, 27)
        return kings - timedelta(days=1) if kings.weekday() == 6 else kings
    queens = date(year, 4, 30)  # Koninginnedag until 2013: the 29th when the 30th is a Sunday
    return queens - timedelta(days=1) if queens.weekday() == 6 else queens


@cache
def _dutch_holidays(year: int) -> dict[date, str]:
    sunday = easter(year)
    days = {
        date(year, 1, 1): "New Year's Day",
        sunday: "Easter Sunday",
        sunday + timedelta(days=1): "Easter Monday",
        _kings_day(year): "King's Day" if year >= 2014 else "Queen's Day",
        sunday + timedelta(days=39): "Ascension Day",
        sunday + timedelta(days=49): "Pentecost",
        sunday + timedelta(days=50): "Pentecost Monday",
        date(year, 12, 25): "Christmas Day",
        date(year, 12, 26): "Second Day of Christmas",
    }
    if year % LIBERATION_DAY_EVERY == 0:  # may fall on Ascension Day (2005): both names, as the package does
        liberation = date(year, 5, 5)
        days[liberation] = "; ".join(filter(None, (days.get(liberation), "Liberation Day")))
    return days


def is_holiday(day: date) -> bool:
    return day in _dutch_holidays(day.year)


def holiday_name(day: date) -> str | None:
    return _dutch_holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def next_working_day(day: date) -> date:
    """The first working day after `day`."""
    candidate = day + timedelta(days=1)
    while not is_working_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def previous_working_day(day: date) -> date:
    candidate = day - timedelta(days=1)
    while not is_working_day(candidate):
        candidate -= timedelta(days=1)
    return candidate


def at_local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """`clock` on `day` in `zone`, as aware UTC (the way it is stored)."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()
