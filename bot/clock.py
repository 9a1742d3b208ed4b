"""Time: UTC in the database, the partnership's zone for people; one clock per Services.

A process reads time from `Services.clock`: the system clock in production, a settable one for the demo
(one week's story on a fixed moment that only the demo moves) and for tests (`later(minutes=…)`).
Domain code reads the clock of the session it was handed (`now(session)`: `Services.session()` puts it in
`session.info`); jobs and the outbox read `services.clock.now()`. Rows' default timestamps
(`Field(default_factory=utcnow)`) read the clock of the session open in the same thread, so a row made
while the demo's clock stands at Monday 09:00 was made at Monday 09:00.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC: SQLModel's datetime columns accept aware values only, and return them in UTC."""
        ...


class SystemClock:
    """The real time. It reads `datetime.now`: time-machine (SAMEN_TEST_NOW, tests/conftest.py) moves it."""

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM = SystemClock()


class SettableClock:
    """A clock that is where it was set: fixed (the demo) or ticking on from there (`tick=True`, tests).
    `set` and `advance` move it; every thread that reads it sees the move."""

    def __init__(self, moment: datetime | None = None, *, tick: bool = False) -> None:
        self._tick = tick
        self._lock = threading.Lock()
        self._at = (moment or datetime.now(UTC)).astimezone(UTC)
        self._set_on = datetime.now(UTC)  # the real moment of the last set, for a ticking clock

    def now(self) -> datetime:
        with self._lock:
            if not self._tick:
                return self._at
            return self._at + (datetime.now(UTC) - self._set_on)

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("a clock is set to one instant: the moment needs a zone")
        with self._lock:
            self._at, self._set_on = moment.astimezone(UTC), datetime.now(UTC)
        return self._at

    def advance(self, **delta: float) -> datetime:
        """Move the clock on by a timedelta's arguments (minutes=5, days=1) and return the new moment."""
        return self.set(self.now() + timedelta(**delta))


# The clock of the innermost `Services.session()` open in this thread (the system clock when none is).
_in_use: ContextVar[Clock] = ContextVar("samen_clock", default=SYSTEM)


def now(session: Session | None = None) -> datetime:
    """The time on the session's clock (`Services.session()` puts it there); the system clock otherwise."""
    clock = session.info.get("clock") if session is not None else None
    return (clock or _in_use.get()).now()


def utcnow() -> datetime:
    """The time on the clock in use in this thread: rows' default timestamps (`default_factory=utcnow`)."""
    return _in_use.get().now()


@contextmanager
def in_use(clock: Clock) -> Iterator[None]:
    """Rows made inside read `clock` for their default timestamps (Services.session() enters it)."""
    token = _in_use.set(clock)
    try:
        yield
    finally:
        _in_use.reset(token)
