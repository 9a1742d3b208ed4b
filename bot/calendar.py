"""Working days and Dutch public holidays, for reminders, check-ins and digests.

The `holidays` package knows the Dutch holidays, Koningsdag's move to 26 April when the 27th is a
Sunday included; we add nothing by hand. Times are computed in the partnership's zone with zoneinfo,
so "09:00" stays 09:00 across daylight-saving changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

# Good Friday is in the package's Dutch list, but it is no general day off: the Algemene Termijnenwet
# does not name it, and the partners' offices (gemeente, politie, OM, Belastingdienst) are open.
NOT_A_DAY_OFF = frozenset({"Good Friday"})


@cache
def _dutch_holidays(year: int) -> dict[date, str]:
    # Imported when first needed: a process that never asks about a date does not carry it (memory).
    import holidays

    listed = holidays.country_holidays("NL", years=year, language="en_US")
    return {day: str(name) for day, name in listed.items() if str(name) not in NOT_A_DAY_OFF}


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
