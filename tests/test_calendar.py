"""Reminders and check-ins skip weekends and Dutch holidays, and 09:00 stays 09:00 across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import (
    at_local,
    is_holiday,
    is_working_day,
    local_date,
    next_working_day,
    previous_working_day,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 4, 27), True),  # Koningsdag on a Monday
        (date(2025, 4, 26), True),  # 27 April 2025 is a Sunday: Koningsdag moves to Saturday the 26th
        (date(2025, 4, 27), False),
        (date(2026, 12, 25), True),
        (date(2026, 12, 26), True),
        (date(2026, 5, 14), True),  # Hemelvaartsdag
        (date(2026, 11, 30), False),
        (date(2026, 4, 3), False),  # Goede Vrijdag: no general day off
        (date(2026, 4, 6), True),  # Tweede Paasdag
    ],
)
def test_dutch_public_holidays(day: date, holiday: bool) -> None:
    assert is_holiday(day) is holiday


def test_the_working_day_after_christmas_eve_2026_is_monday_the_28th() -> None:
    # Thursday 24th → Friday 25th (1e Kerstdag) and Saturday 26th (2e Kerstdag) and Sunday are skipped.
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 28)
    assert previous_working_day(date(2026, 4, 28)) == date(2026, 4, 24)  # over Koningsdag and a weekend
    assert not is_working_day(date(2026, 11, 28))  # a Saturday


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2026, 3, 27), 8),  # Friday before the switch to summer time: 09:00 CET = 08:00 UTC
        (date(2026, 3, 30), 7),  # Monday after the last Sunday of March: 09:00 CEST = 07:00 UTC
        (date(2026, 10, 23), 7),  # Friday before the last Sunday of October
        (date(2026, 10, 26), 8),  # Monday after: back to CET
    ],
)
def test_nine_oclock_stays_nine_oclock_across_daylight_saving(day: date, utc_hour: int) -> None:
    moment = at_local(day, time(9, 0), AMSTERDAM)
    assert moment.hour == utc_hour
    assert moment.astimezone(AMSTERDAM).time() == time(9, 0)
    assert local_date(moment, AMSTERDAM) == day


def test_late_evening_utc_is_already_tomorrow_in_amsterdam() -> None:
    assert local_date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), AMSTERDAM) == date(2026, 7, 1)


def test_the_holiday_table_agrees_with_the_holidays_package_year_by_year() -> None:
    # The package is the oracle: production computes the same days itself to keep ~17 MB out of every
    # process (bot/calendar.py). Good Friday is in the package's list but is no general day off.
    import holidays

    from bot.calendar import holiday_name

    for year in range(1990, 2101):
        listed = holidays.country_holidays("NL", years=year, language="en_US")
        expected = {day: str(name) for day, name in listed.items() if str(name) != "Good Friday"}
        ours = {day: holiday_name(day) for day in expected}
        assert ours == expected, year
        start = date(year, 1, 1)
        extra = [
            start + timedelta(days=n)
            for n in range(366)
            if (start + timedelta(days=n)).year == year
            and is_holiday(start + timedelta(days=n))
            and start + timedelta(days=n) not in expected
        ]
        assert extra == [], year
