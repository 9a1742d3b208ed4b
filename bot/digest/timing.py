"""When the weekly digest goes out, and the periods `/samen overzicht` and `samen export` accept.

Pure functions, no database: the period words people type ("", "4w", "maand", "2026-W10",
"2026-03-01..2026-03-31"). The setting `SAMEN_DIGEST_AT` ("vrijdag 15:00") is parsed in bot/config_values.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.i18n import N_
from bot.problems import Problem

MAX_DAYS: Final = 366  # the longest period one overview or export covers
WEEKS_CHARTED: Final = 12


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, with the local days people see (the last day inclusive)."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.zone).date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(self.zone).date()

    @property
    def label(self) -> str:
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


class PeriodError(Problem, ValueError):
    """A period that cannot be read; `message` is a message id for the person."""


PERIOD_HELP: Final = N_(
    "Give a period as `week`, `4w` (the last 4 weeks), `maand`, an ISO week such as `2026-W10`, "
    "or two dates: `2026-03-01..2026-03-31`."
)


def last_week(now: datetime, zone: ZoneInfo) -> Period:
    """The seven days up to `now`: the weekly digest's period."""
    return Period(now - timedelta(days=7), now, zone)


def days_between(first: date, last: date, zone: ZoneInfo) -> Period:
    """From the start of `first` to the end of `last`, local days, as UTC."""
    start = datetime.combine(first, time(0), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
    return Period(start, end, zone)


def parse_period(text: str, *, now: datetime, zone: ZoneInfo) -> Period:
    """A period as people type it, ending no later than `now`; PeriodError otherwise."""
    words = " ".join((text or "").lower().split())
    if words in ("", "week", "deze week", "this week", "1w"):
        return last_week(now, zone)
    if words in ("maand", "month", "deze maand", "this month"):
        return Period(now - timedelta(days=30), now, zone)
    if weeks := re.fullmatch(r"(\d{1,2})\s*(w|wk|weken|weeks|week)", words):
        count = int(weeks.group(1))
        if not 1 <= count <= 52:
            raise PeriodError(N_("Ask for 1 to 52 weeks."))
        return Period(now - timedelta(days=7 * count), now, zone)
    if iso := re.fullmatch(r"(\d{4})-?w(\d{1,2})", words):
        try:
            monday = date.fromisocalendar(int(iso.group(1)), int(iso.group(2)), 1)
        except ValueError:
            raise PeriodError(N_("There is no week %(week)s."), week=text.strip()) from None
        return _bounded(days_between(monday, monday + timedelta(days=6), zone), now)
    if dates := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/| tot | to | )\s*(\d{4}-\d{2}-\d{2})", words):
        try:
            first, last = date.fromisoformat(dates.group(1)), date.fromisoformat(dates.group(2))
        except ValueError:
            raise PeriodError(PERIOD_HELP) from None
        return _bounded(dates_period(first, last, zone), now)
    raise PeriodError(PERIOD_HELP)


def dates_period(first: date, last: date, zone: ZoneInfo) -> Period:
    if last < first:
        raise PeriodError(N_("The period ends before it starts: put the earliest date first."))
    if (last - first).days >= MAX_DAYS:
        raise PeriodError(N_("A period covers at most a year."))
    return days_between(first, last, zone)


def _bounded(period: Period, now: datetime) -> Period:
    if period.start >= now:
        raise PeriodError(N_("That period has not started yet: choose one in the past."))
    return Period(period.start, min(period.end, now), period.zone)


def week_starts(end: datetime, zone: ZoneInfo, weeks: int = WEEKS_CHARTED) -> list[datetime]:
    """The Mondays 00:00 (local, as UTC) of the `weeks` ISO weeks up to and including `end`'s week."""
    local = (end - timedelta(microseconds=1)).astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    firsts = [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    return [datetime.combine(day, time(0), zone).astimezone(UTC) for day in firsts]


DAY_NAMES: Final = (
    N_("Every Monday"),
    N_("Every Tuesday"),
    N_("Every Wednesday"),
    N_("Every Thursday"),
    N_("Every Friday"),
    N_("Every Saturday"),
    N_("Every Sunday"),
)
