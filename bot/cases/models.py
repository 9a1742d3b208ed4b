"""Cases (Casus) in the shared work queue (Werkvoorraad), ranked by criteria the partners set together.

A case's score is the sum of human judgements, one per criterion with its reason: never an automatic
score of a person (docs/domain.md rule 6).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.people import CHAT_ID_LENGTH
from bot.signals.models import CaseSignal as CaseSignal  # the case a signal became part of
from bot.vocabulary import Contribution, FocusElement, enum_column


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    GESLOTEN = "GESLOTEN"


class Case(SQLModel, table=True):
    __tablename__ = "case"
    __table_args__ = (
        sa.Index("ix_case_status_created", "status", "created_at"),  # the work queue
        sa.Index("ix_case_closed", "closed_at", "id"),  # retention's plan (migration 0014)
        # The work queue's order (highest total first, the older case first on a tie): migration 0016.
        sa.Index("ix_case_queue", "status", sa.desc(sa.column("total_tenths")), "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)  # shown in channels: codes only, checked for personal data
    lead_partner_id: int = Field(foreign_key="partner.id", index=True)
    focus_element: FocusElement = Field(sa_type=enum_column(FocusElement, 32))
    # Strategic cases (and cases on an onaantastbare) need round 2 ready before round 1 executes.
    strategic: bool = Field(default=False)
    status: CaseStatus = Field(default=CaseStatus.OPEN, sa_type=enum_column(CaseStatus, 16), index=True)
    # The case's message in the partnership channel: status changes of its interventions go in its thread.
    thread_channel: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    thread_ts: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    created_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    # The total in tenths (0–1000) of an open case, kept in step by bot/cases/totals.py (migration 0016).
    total_tenths: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class CaseSubject(SQLModel, table=True):
    __tablename__ = "case_subject"

    case_id: int = Field(foreign_key="case.id", primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", primary_key=True, index=True)


class CasePartner(SQLModel, table=True):
    """A partner that joined a case, with its contribution (speler in positie, slagkracht, informatie)."""

    __tablename__ = "case_partner"

    case_id: int = Field(foreign_key="case.id", primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", primary_key=True)
    contribution: Contribution = Field(sa_type=enum_column(Contribution, 32))
    joined_at: datetime = Field(default_factory=utcnow)


class SelectionCriterion(SQLModel, table=True):
    """A criterion the partnership chose together, with its weight and scale (e.g. 0–5)."""

    __tablename__ = "selection_criterion"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    description: str | None = Field(default=None, max_length=500)
    weight: int = Field(default=1)
    scale_max: int = Field(default=5)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class CaseScore(SQLModel, table=True):
    """One person's judgement of one case on one criterion, with the reason. The latest one counts."""

    __tablename__ = "case_score"
    __table_args__ = (sa.UniqueConstraint("case_id", "criterion_id", name="uq_case_score"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    criterion_id: int = Field(foreign_key="selection_criterion.id")
    score: int
    reason: str = Field(max_length=1000)
    by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    at: datetime = Field(default_factory=utcnow)


@event.listens_for(Session, "after_flush")
def _keep_totals(session: Session, _context: object) -> None:
    """Every open case's stored total follows its scores and the criteria in the same transaction."""
    from bot.cases.totals import after_flush  # imports these models

    after_flush(session)
