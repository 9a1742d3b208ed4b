"""The pseudonymised subject: known in channels only by its code; who or what it is stays restricted."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.crypto import Sealed
from bot.people import CHAT_ID_LENGTH
from bot.vocabulary import SubjectKind, SubjectRole, enum_column


class Subject(SQLModel, table=True):
    """A person, company, location or network, known in channels only by its code (S-2026-0042)."""

    __tablename__ = "subject"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    kind: SubjectKind = Field(sa_type=enum_column(SubjectKind, 16))
    role: SubjectRole = Field(default=SubjectRole.BETROKKENE, sa_type=enum_column(SubjectRole, 16))
    # Who or what it is, as the registering partner described it: restricted, encrypted at rest.
    identity: str | None = Field(default=None, sa_type=Sealed())
    partner_id: int = Field(foreign_key="partner.id", index=True)  # the partner that first described it
    created_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_at: datetime = Field(default_factory=utcnow)
