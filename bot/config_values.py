"""The settings that are more than a string, parsed once when the settings are read (bot/config.py).

Pure functions and plain values, in the core: this module imports nothing of Samen, so that the settings
(and everything below the features) never import a feature. The features read the typed fields of
`Settings`, never the text. Each parser raises ValueError with a reason that starts with "must" or
"is", which bot/config.py turns into one line naming the variable.

- `SAMEN_RUGDEKKING_ESCALATION` (backup alerts, docs/rugdekking.md): per seriousness, minutes T1/T2/T3
  after the alert was raised, e.g. `hoog:2,5,10;midden:5,15,30;laag:10,30,60` (the default). Levels
  left out keep their default. T1: a silent partner's duty contacts and all its members are notified
  again; T2: its lead; T3: the partnership's coordinators.
- `SAMEN_RUGDEKKING_SAFETY`: `N,M` (default `10,10`): N minutes after the alert the reporter is asked
  "Ben je veilig?"; no answer within M more minutes goes to the coordinators and the reporter's partner.
- `SAMEN_DIGEST_AT`: the weekly digest's day and time ("vrijdag 15:00", "fri 15:00").
- `SAMEN_RETENTION` (docs/SECURITY.md): days per kind after which what was kept is deleted or
  anonymised, e.g. `signalen:365;casussen:1825`; kinds left out keep their default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Final

# -- backup alerts: escalation and the safety check ------------------------------------------------------

DEFAULT_ESCALATION: Final = "hoog:2,5,10;midden:5,15,30;laag:10,30,60"
DEFAULT_SAFETY: Final = "10,10"
# The words for a seriousness → its value (bot.alerts.models.Seriousness, a StrEnum: its members are
# these strings, so a plan keyed by them is looked up with the member).
LEVEL_WORDS: Final = {
    "hoog": "HOOG",
    "high": "HOOG",
    "midden": "MIDDEN",
    "medium": "MIDDEN",
    "laag": "LAAG",
    "low": "LAAG",
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


def parse_escalation(text: str) -> dict[str, Escalation]:
    """`hoog:2,5,10;midden:5,15,30` → the plan per seriousness; levels left out keep the default."""
    plan: dict[str, Escalation] = {}
    for source in (DEFAULT_ESCALATION, text):
        for part in filter(None, (p.strip() for p in source.split(";"))):
            word, sep, numbers = part.partition(":")
            level = LEVEL_WORDS.get(word.strip().lower())
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


# -- the weekly digest's day and time ----------------------------------------------------------------------

# Day names people write, Dutch and English, full and short → Monday is 0 (APScheduler's numbering).
DAYS: Final[dict[str, int]] = {
    **dict.fromkeys(("ma", "maandag", "mon", "monday"), 0),
    **dict.fromkeys(("di", "dinsdag", "tue", "tuesday"), 1),
    **dict.fromkeys(("wo", "woensdag", "wed", "wednesday"), 2),
    **dict.fromkeys(("do", "donderdag", "thu", "thursday"), 3),
    **dict.fromkeys(("vr", "vrijdag", "fri", "friday"), 4),
    **dict.fromkeys(("za", "zaterdag", "sat", "saturday"), 5),
    **dict.fromkeys(("zo", "zondag", "sun", "sunday"), 6),
}
DEFAULT_DIGEST_AT: Final = "vrijdag 15:00"


@dataclass(frozen=True)
class DigestAt:
    weekday: int  # Monday is 0
    clock: time


def parse_digest_at(text: str) -> DigestAt:
    """`vrijdag 15:00` → (4, 15:00); ValueError with a readable reason otherwise."""
    match = re.fullmatch(r"\s*([a-zA-Z]+)\s+(\d{1,2})[:.](\d{2})\s*", text or "")
    if not match or match.group(1).lower() not in DAYS:
        raise ValueError("must be a day and a time, e.g. 'vrijdag 15:00' or 'fri 15:00'")
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ValueError("the time must be between 00:00 and 23:59")
    return DigestAt(DAYS[match.group(1).lower()], time(hour, minute))


# -- retention periods ---------------------------------------------------------------------------------------

MAX_RETENTION_DAYS: Final = 36500


class RetentionKind(StrEnum):
    """What Samen keeps for a while and then deletes or anonymises (bot/privacy/retention.py)."""

    SIGNALS = "signalen"
    CASES = "casussen"
    BACKUP_ALERTS = "rugdekking"
    CHECKINS = "afstemmomenten"
    MESSAGES = "berichten"


DEFAULT_RETENTION_DAYS: Final[Mapping[RetentionKind, int]] = {
    RetentionKind.SIGNALS: 365,
    RetentionKind.CASES: 1825,
    RetentionKind.BACKUP_ALERTS: 365,
    RetentionKind.CHECKINS: 90,
    RetentionKind.MESSAGES: 30,
}
_RETENTION_ALIASES: Final = {
    "signals": RetentionKind.SIGNALS,
    "cases": RetentionKind.CASES,
    "backup_alerts": RetentionKind.BACKUP_ALERTS,
    "alerts": RetentionKind.BACKUP_ALERTS,
    "checkins": RetentionKind.CHECKINS,
    "messages": RetentionKind.MESSAGES,
    "outbox": RetentionKind.MESSAGES,
}


def parse_periods(text: str | None) -> dict[RetentionKind, int]:
    """`signalen:365;casussen:1825` → days per kind; kinds left out keep their default.

    Raises ValueError with a message that says what is wrong (bot/config.py shows it as one line)."""
    periods = dict(DEFAULT_RETENTION_DAYS)
    for part in (text or "").replace(",", ";").split(";"):
        if not part.strip():
            continue
        name, separator, value = part.partition(":")
        name = name.strip().lower()
        kind = _RETENTION_ALIASES.get(name) or next((k for k in RetentionKind if k.value == name), None)
        if kind is None or not separator:
            raise ValueError(
                "must name kinds with days, e.g. signalen:365;casussen:1825 (kinds: "
                + ", ".join(k.value for k in RetentionKind)
                + ")"
            )
        try:
            days = int(value.strip())
        except ValueError:
            raise ValueError(f"must give whole days for {kind.value}, e.g. {kind.value}:365") from None
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise ValueError(f"must give {kind.value} between 1 and {MAX_RETENTION_DAYS} days")
        periods[kind] = days
    return periods


# -- reaching people outside chat: e-mail (bot/reach/mail.py) ---------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    """`SAMEN_SMTP_URL`: `smtp://[user:pass@]host:port` (STARTTLS when the server offers it) or
    `smtps://…` (TLS from the first byte). Without a port: 25 for smtp, 465 for smtps."""

    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    user: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password, wherever the settings are printed
        return f"SmtpServer(host={self.host!r}, port={self.port}, tls={self.tls}, user={self.user!r})"


def parse_smtp_url(text: str) -> SmtpServer:
    from urllib.parse import unquote, urlsplit

    try:
        url = urlsplit(text.strip())
        port = url.port
    except ValueError as exc:
        raise ValueError("must be smtp://[user:password@]host:port or smtps://…") from exc
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ValueError("must be smtp://[user:password@]host:port or smtps://…")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError("must be smtp://[user:password@]host:port, without a path or query")
    tls = url.scheme == "smtps"
    return SmtpServer(
        host=url.hostname,
        port=port or (465 if tls else 25),
        tls=tls,
        user=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
    )
