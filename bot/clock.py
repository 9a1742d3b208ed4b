"""Time: UTC in the database, the partnership's zone for people."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC: SQLModel's datetime columns accept aware values only, and return them in UTC."""
    return datetime.now(UTC)
