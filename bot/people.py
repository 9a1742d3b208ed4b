"""People as Slack knows them: `(team_id, user_id)`, with the locale and time zone Slack reports.

A person's language follows their Slack locale when known; we learn it from `users.info` when they
open the App Home, and keep it here so that commands need not ask Slack again.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Final

from sqlmodel import Field, Session, SQLModel, select

from bot import clock
from bot.clock import utcnow

# The width of every column that holds a chat platform's id: a person, a team (Slack's workspace, a Matrix
# person's server), a channel or room, a message (Slack's ts, Matrix's event id), a bot. Matrix allows up to
# 255 characters for each (its spec's limit on user, room and event ids and server names); Slack's are far
# shorter. Migration 0017 widened the columns to it; a new column that holds such an id uses it too.
CHAT_ID_LENGTH: Final = 255


class LocaleCache:
    """Slack locales by person, kept for a while in the process: the language lookup is on every
    request's path, and a locale changes rarely (the App Home refreshes it)."""

    def __init__(self, ttl_seconds: float = 600.0) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[tuple[str, str], tuple[float, str | None]] = {}

    def get(self, team_id: str, user_id: str) -> tuple[bool, str | None]:
        """(known, locale): known is False when the cache has nothing fresh for this person."""
        entry = self._entries.get((team_id, user_id))
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return False, None
        return True, entry[1]

    def put(self, team_id: str, user_id: str, locale: str | None) -> None:
        if len(self._entries) > 50_000:  # a bound, not an eviction policy: people are few
            self._entries.clear()
        self._entries[(team_id, user_id)] = (time.monotonic(), locale)


class Person(SQLModel, table=True):
    team_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    user_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    locale: str | None = Field(default=None, max_length=16)
    tz: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


def get_person(session: Session, *, team_id: str, user_id: str) -> Person | None:
    return session.get(Person, (team_id, user_id))


def remember_profile(
    session: Session, *, team_id: str, user_id: str, locale: str | None, tz: str | None
) -> Person:
    person = session.exec(select(Person).where(Person.team_id == team_id, Person.user_id == user_id)).first()
    if person is None:
        person = Person(team_id=team_id, user_id=user_id)
    person.locale = locale
    person.tz = tz
    person.updated_at = clock.now(session)
    session.add(person)
    return person
