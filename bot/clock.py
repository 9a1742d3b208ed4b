"""Time: UTC in the database, the partnership's zone for people."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC, as stored: SQLite keeps no zone, so every stored time is UTC by convention."""
    return datetime.now(UTC).replace(tzinfo=None)
