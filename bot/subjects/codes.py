"""Subject codes: how channels and summaries speak of a person, company, location or network.

A new subject gets `S-<year>-<4 digits>`. The digits are drawn at random (from `secrets`), not counted
up: a sequential number would tell every partner how many subjects the partnership registered and in
which order (code 0042 was registered just after 0041, by whoever registered that one), and two codes
close together would suggest subjects registered together. A random code says nothing but the year.
It is never derived from the identity (no hash of a name): a code must not let anyone who guesses a
name check their guess. Uniqueness is the database's: a code drawn twice is drawn again.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.i18n import N_
from bot.problems import Problem
from bot.subjects.models import Subject

CODE: Final = re.compile(r"^S-(\d{4})-(\d{4})$")
# How codes are found in typed text: "S-2026-0042", "s-2026-0042", separated by commas or spaces.
CODE_IN_TEXT: Final = re.compile(r"(?i)\bS-\d{4}-\d{4}\b")
MAX_DRAWS: Final = 50
CODES_PER_YEAR: Final = 10_000


class CodesExhausted(Exception):
    """No free code found for this year: 10,000 codes per year, nearly all taken."""


class NotACode(Problem):
    """What was typed is not a subject code at all."""


class UnknownSubject(Problem):
    """A well-formed code that no subject has."""


def normalise(code: str) -> str | None:
    """`s-2026-0042 ` → `S-2026-0042`; None when it is not a subject code at all."""
    candidate = (code or "").strip().upper()
    return candidate if CODE.match(candidate) else None


def find(session: Session, code: str) -> Subject | None:
    normalised = normalise(code)
    if normalised is None:
        return None
    return session.exec(select(Subject).where(Subject.code == normalised)).first()


def require(session: Session, code: str) -> Subject:
    """The subject with this code, or the problem to show: not a code, or no such subject."""
    normalised = normalise(code)
    if normalised is None:
        raise NotACode(N_("“%(word)s” is not a subject code; a code looks like S-2026-0042."), word=code[:40])
    subject = find(session, normalised)
    if subject is None:
        raise UnknownSubject(N_("There is no subject %(code)s."), code=normalised)
    return subject


def add_with_new_code(session: Session, subject: Subject, *, year: int) -> Subject:
    """Insert `subject` under a fresh random code of `year`, inside the caller's transaction.

    Each draw is tried in a savepoint: on PostgreSQL a concurrent transaction that took the same code
    first makes only the savepoint fail, and another code is drawn.
    """
    for _ in range(MAX_DRAWS):
        subject.code = f"S-{year:04d}-{secrets.randbelow(CODES_PER_YEAR):04d}"
        if session.exec(select(Subject.id).where(Subject.code == subject.code)).first() is not None:
            continue
        try:
            with session.begin_nested():
                session.add(subject)
                session.flush()
        except IntegrityError:
            continue  # the savepoint's rollback took the object out of the session again
        return subject
    raise CodesExhausted(f"no free subject code found for {year} in {MAX_DRAWS} draws")
