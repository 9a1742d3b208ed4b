"""When check-ins happen: wall-clock times in a zone, on chosen weekdays, skipping Dutch public holidays.

A moment is `clock` on a day in the schedule's zone, computed with zoneinfo: 09:00 stays 09:00 when the
clocks change (its UTC time moves instead). A time that does not exist on the night the clocks go forward
(02:30) is read with the offset before the change, i.e. an hour later on the wall clock; a time that exists
twice when they go back is its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime

from bot import cldr
from bot.calendar import at_local, is_holiday, local_date

HORIZON_DAYS: Final = 400  # weekdays that never fall outside the holidays turn up within a year
_CLOCK: Final = re.compile(r"^\s*(\d{1,2})(?:\s*[:.hu]\s*(\d{2}))?\s*(?:uur|u|h)?\s*$", re.IGNORECASE)

# Zones offered in the planning form: the Netherlands first, its neighbours, the Caribbean Netherlands.
ZONES: Final = (
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Berlin",
    "Europe/London",
    "America/Kralendijk",
    "America/Curacao",
    "America/Aruba",
    "America/Paramaribo",
    "UTC",
)


def parse_clock(text: str | None) -> time | None:
    """`9`, `9:00`, `09.30`, `9u30`, `9 uur` → a time; None when it is not one."""
    found = _CLOCK.match(text or "")
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def zone_of(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def weekdays_of(text: str) -> frozenset[int]:
    return frozenset(int(part) for part in text.split(",") if part.strip().isdigit() and int(part) < 7)


def is_moment_day(day: date, weekdays: Iterable[int], include_holidays: bool) -> bool:
    return day.weekday() in set(weekdays) and (include_holidays or not is_holiday(day))


def next_occurrence(
    *,
    after: datetime,
    weekdays: frozenset[int],
    clock: time,
    zone: ZoneInfo,
    include_holidays: bool,
) -> datetime | None:
    """The first moment strictly after `after` (aware UTC), or None when there is none within a year."""
    if not weekdays:
        return None
    day = local_date(after, zone)
    for _ in range(HORIZON_DAYS):
        if is_moment_day(day, weekdays, include_holidays):
            moment = at_local(day, clock, zone)
            if moment > after:
                return moment
        day += timedelta(days=1)
    return None


def shortest_gap(weekdays: frozenset[int]) -> timedelta:
    """The shortest time between two moments on these weekdays (holidays only make gaps longer)."""
    days = sorted(weekdays)
    if not days:
        return timedelta(0)
    if len(days) == 1:
        return timedelta(days=7)
    gaps = [b - a for a, b in pairwise(days)] + [days[0] + 7 - days[-1]]
    return timedelta(days=min(gaps))


def remind_at(opens_at: datetime, window: timedelta) -> datetime:
    """Three quarters of the way through the window."""
    return opens_at + window * 3 / 4


def shown_time(moment: datetime, zone: ZoneInfo, language: str, fmt: str = "EEEE d MMMM HH:mm") -> str:
    """A moment as people in `zone` read it, in their language (e.g. "maandag 30 november 09:00")."""
    return format_datetime(moment.astimezone(zone), fmt, tzinfo=zone, locale=cldr.locale(language))
