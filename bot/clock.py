"""Time: UTC in the database, the partnership's zone for people."""

from __future__ import annotations

from datetime import UTC, datetime

# `samen demo` tells one story on one clock: a fixed moment that only the demo moves (set_demo_time).
_demo_now: datetime | None = None


def utcnow() -> datetime:
    """Aware UTC: SQLModel's datetime columns accept aware values only, and return them in UTC."""
    return _demo_now or datetime.now(UTC)


def set_demo_time(moment: datetime | None) -> None:
    """For `samen demo` only: every part of this process sees `moment` until it is set again (None: the
    real clock). The demo's times then read as one week's story, whenever and however fast it runs."""
    global _demo_now  # one clock per process, as the real one
    _demo_now = moment.astimezone(UTC) if moment else None
