"""Reading a time window as people type it, in Dutch or English: "morgen 9:00", "dinsdag 08:15–08:45",
"volgende week dinsdag 08:15-08:45", "3 december", "tomorrow 9am".

The times (one, or two for a window) are taken out first and the rest is the day, which the
`dateparser` library reads (Dutch and English, day before month, the future preferred, relative to now
in the partnership's zone). "volgende week <dag>" / "next week <day>", which dateparser does not know,
is read here. A day without a time is a day ("vrijdag"), not a moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.i18n import N_
from bot.problems import Problem

WEEKDAYS: Final[dict[str, int]] = {
    **dict.fromkeys(("maandag", "ma", "monday", "mon"), 0),
    **dict.fromkeys(("dinsdag", "di", "tuesday", "tue", "tues"), 1),
    **dict.fromkeys(("woensdag", "wo", "wednesday", "wed"), 2),
    **dict.fromkeys(("donderdag", "do", "thursday", "thu", "thur", "thurs"), 3),
    **dict.fromkeys(("vrijdag", "vr", "friday", "fri"), 4),
    **dict.fromkeys(("zaterdag", "za", "saturday", "sat"), 5),
    **dict.fromkeys(("zondag", "zo", "sunday", "sun"), 6),
}
_NEXT_WEEK = re.compile(r"\b(volgende week|next week)\b")
# 08:15, 8.15, 9 uur, 9u, 9h, 9am, 9:30pm
_TIME = re.compile(
    r"(?<![\d./])(\d{1,2})(?:[:.](\d{2}))?(?:\s*(uur|u|h|am|pm)\b)?(?![\d./])",
)
_DASHES = str.maketrans({"–": "-", "—": "-", "‒": "-", "‑": "-", "−": "-"})
_FILLER = re.compile(r"\b(om|van|vanaf|tot|t/m|at|from|to|until|till)\b|-|,")


class WindowError(Problem):
    """The text (or what was picked) is not a usable window: a problem the person can fix."""


@dataclass(frozen=True)
class Window:
    start: datetime  # aware UTC
    end: datetime | None  # aware UTC
    has_time: bool  # False: the whole day of `start` (local midnight)

    def local_day(self, zone: ZoneInfo) -> date:
        return self.start.astimezone(zone).date()


def _times(text: str) -> tuple[list[time], str]:
    """The clock times in the text (in order) and the text without them."""
    found: list[time] = []
    rest: list[str] = []
    position = 0
    for match in _TIME.finditer(text):
        hours, minutes, suffix = match.group(1), match.group(2), match.group(3)
        if minutes is None and suffix is None:
            continue  # a bare number is a day of the month, not a time
        hour, minute = int(hours), int(minutes or 0)
        if suffix == "pm" and hour < 12:
            hour += 12
        if suffix == "am" and hour == 12:
            hour = 0
        if hour > 23 or minute > 59:
            raise WindowError(N_("“%(time)s” is not a time of day."), time=match.group(0).strip())
        found.append(time(hour, minute))
        rest.append(text[position : match.start()])
        position = match.end()
    rest.append(text[position:])
    return found, " ".join(rest)


def _day(text: str, now_local: datetime) -> date | None:
    words = " ".join(_FILLER.sub(" ", text).split())
    if not words:
        return None
    if _NEXT_WEEK.search(words):
        rest = _NEXT_WEEK.sub(" ", words).split()
        monday = now_local.date() - timedelta(days=now_local.weekday()) + timedelta(days=7)
        if not rest:
            return monday
        if len(rest) == 1 and rest[0] in WEEKDAYS:
            return monday + timedelta(days=WEEKDAYS[rest[0]])
        raise WindowError(N_("“%(text)s” is not a day I can read."), text=text.strip())
    # Loaded on first use: dateparser costs ~3 MB that an idle `samen run` need not carry.
    import dateparser

    parsed = dateparser.parse(
        words,
        languages=["nl", "en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": now_local.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if parsed is None:
        raise WindowError(N_("“%(text)s” is not a day I can read."), text=text.strip())
    return parsed.date()


def parse_window(text: str, *, now: datetime, zone: ZoneInfo) -> Window:
    """Read a window typed in Dutch or English; refuse one in the past or ending before it starts."""
    cleaned = " ".join((text or "").lower().translate(_DASHES).split())
    if not cleaned:
        raise WindowError(N_("Type a day and, if you like, a time or a window, e.g. “dinsdag 08:15-08:45”."))
    now_local = now.astimezone(zone)
    times, rest = _times(cleaned)
    if len(times) > 2:
        raise WindowError(N_("Give one time, or a start and an end time, not more."))
    day = _day(rest, now_local)
    if not times:
        if day is None:
            raise WindowError(N_("“%(text)s” is not a day I can read."), text=text.strip())
        if day < now_local.date():
            raise WindowError(N_("%(day)s is in the past. Choose a day from today on."), day=day.isoformat())
        start = datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
        return Window(start=start, end=None, has_time=False)
    if day is None:
        # A time alone: today if it is still to come, else tomorrow.
        day = now_local.date() if times[0] > now_local.time() else now_local.date() + timedelta(days=1)
    start = datetime.combine(day, times[0], tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day, times[1], tzinfo=zone).astimezone(UTC) if len(times) == 2 else None
    if end is not None and end <= start:
        raise WindowError(
            N_("The window ends (%(end)s) before it starts (%(start)s)."),
            start=times[0].strftime("%H:%M"),
            end=times[1].strftime("%H:%M"),
        )
    if start < now:
        raise WindowError(
            N_("%(moment)s is in the past. Choose a moment still to come."),
            moment=f"{day.isoformat()} {times[0].strftime('%H:%M')}",
        )
    return Window(start=start, end=end, has_time=True)


def window_from_pickers(
    day: str | None, start: str | None, end: str | None, *, now: datetime, zone: ZoneInfo
) -> Window | None:
    """A window from the form's pickers (Slack's datepicker "2026-12-08", timepickers "08:15"), in
    `zone`; None when nothing was picked. The same rules as a typed window: nothing in the past, the
    end after the start."""
    if not (day or start or end):
        return None
    if not day:
        raise WindowError(N_("Choose the day too, or leave the times empty."))
    if end and not start:
        raise WindowError(N_("Choose the start time too, or leave the end time empty."))
    try:
        chosen = date.fromisoformat(day)
        first = time.fromisoformat(start) if start else None
        last = time.fromisoformat(end) if end else None
    except ValueError as bad:  # not what Slack's pickers send: forged or mistyped
        raise WindowError(N_("Choose the day and the times with the pickers.")) from bad
    if first is None:
        if chosen < now.astimezone(zone).date():
            raise WindowError(
                N_("%(day)s is in the past. Choose a day from today on."), day=chosen.isoformat()
            )
        return Window(
            start=datetime.combine(chosen, time(0, 0), tzinfo=zone).astimezone(UTC), end=None, has_time=False
        )
    begins = datetime.combine(chosen, first, tzinfo=zone).astimezone(UTC)
    ends = datetime.combine(chosen, last, tzinfo=zone).astimezone(UTC) if last else None
    if ends is not None and ends <= begins:
        raise WindowError(
            N_("The window ends (%(end)s) before it starts (%(start)s)."),
            start=first.strftime("%H:%M"),
            end=(last or first).strftime("%H:%M"),
        )
    if begins < now:
        raise WindowError(
            N_("%(moment)s is in the past. Choose a moment still to come."),
            moment=f"{chosen.isoformat()} {first.strftime('%H:%M')}",
        )
    return Window(start=begins, end=ends, has_time=True)


def picked_for(text: str, *, now: datetime, zone: ZoneInfo) -> dict[str, str]:
    """What a person picks in the form for a window said as `text` (the demo and the tests type it):
    block id → the datepicker's date or a timepicker's time."""
    window = parse_window(text, now=now, zone=zone)
    start = window.start.astimezone(zone)
    picked = {"window_day": start.date().isoformat()}
    if window.has_time:
        picked["window_from"] = start.strftime("%H:%M")
        if window.end is not None:
            picked["window_to"] = window.end.astimezone(zone).strftime("%H:%M")
    return picked
