"""Lessons (Leerpunt) from finished interventions: shared with every partner, searchable.

A lesson is written to be shared (the form says so: no names), so every member may search them;
the result and effect of the intervention it came from stay restricted.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.interventions.models import Lesson

MAX_TERM: Final = 100
LIMIT: Final = 10


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, *, term: str | None, limit: int = LIMIT) -> list[Lesson]:
    """The newest lessons containing every word of `term` (case-insensitive), or the newest of all."""
    query = select(Lesson)
    for word in (term or "").split()[:10]:
        query = query.where(func.lower(Lesson.text).like(_like(word[:MAX_TERM]), escape="\\"))
    return list(
        session.exec(query.order_by(col(Lesson.created_at).desc(), col(Lesson.id).desc()).limit(limit)).all()
    )
