"""When a backup alert escalates, and when the reporter is asked whether they are safe.

Both are settings (bot/config.py), in minutes, so that a partnership can agree its own times:

- `SAMEN_RUGDEKKING_ESCALATION`: per seriousness, T1/T2/T3 after the alert was raised, e.g.
  `hoog:2,5,10;midden:5,15,30;laag:10,30,60` (the default). Levels left out keep their default.
  T1: a silent partner's duty contacts and all its members are notified again; T2: its lead;
  T3: the partnership's coordinators.
- `SAMEN_RUGDEKKING_SAFETY`: `N,M` (default `10,10`): N minutes after the alert the reporter is asked
  "Ben je veilig?"; no answer within M more minutes goes to the coordinators and the reporter's partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.alerts.models import Seriousness

DEFAULT_ESCALATION: Final = "hoog:2,5,10;midden:5,15,30;laag:10,30,60"
DEFAULT_SAFETY: Final = "10,10"
_LEVEL_WORDS: Final = {
    "hoog": Seriousness.HOOG,
    "high": Seriousness.HOOG,
    "midden": Seriousness.MIDDEN,
    "medium": Seriousness.MIDDEN,
    "laag": Seriousness.LAAG,
    "low": Seriousness.LAAG,
}
MAX_MINUTES: Final = 24 * 60.0


@dataclass(frozen=True)
class Escalation:
    t1: float  # minutes after raising: duty contacts and all members of a silent partner
    t2: float  # its lead
    t3: float  # the coordinators


@dataclass(frozen=True)
class SafetyCheck:
    after: float  # minutes after raising: "Ben je veilig?"
    answer_within: float  # minutes more: no answer goes to the coordinators and the reporter's partner


def _minutes(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError("must give minutes as numbers, e.g. 5,15,30") from None
    if any(not 0 < value <= MAX_MINUTES for value in values):
        raise ValueError("must give minutes above 0 and at most a day (1440)")
    return values


def parse_escalation(text: str) -> dict[Seriousness, Escalation]:
    """`hoog:2,5,10;midden:5,15,30` → the plan per seriousness; levels left out keep the default."""
    plan: dict[Seriousness, Escalation] = {}
    for source in (DEFAULT_ESCALATION, text):
        for part in filter(None, (p.strip() for p in source.split(";"))):
            word, sep, numbers = part.partition(":")
            level = _LEVEL_WORDS.get(word.strip().lower())
            if not sep or level is None:
                raise ValueError("must look like hoog:2,5,10;midden:5,15,30;laag:10,30,60")
            values = _minutes(numbers)
            if len(values) != 3 or not values[0] < values[1] < values[2]:
                raise ValueError("must give three increasing times per level, e.g. midden:5,15,30")
            plan[level] = Escalation(*values)
    return plan


def parse_safety(text: str) -> SafetyCheck:
    values = _minutes(text)
    if len(values) != 2:
        raise ValueError("must give two times in minutes, e.g. 10,10")
    return SafetyCheck(*values)
