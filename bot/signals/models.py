"""Signals, the subjects they are about (bot/subjects), and the weighing's record.

What a signal shows in a channel (its summary, category, subject codes) is separate from what is
restricted (details, subject identities): restricted fields are `Sealed` (encrypted at rest) and shown
only to the originating partner and the partners it gave access (docs/domain.md rules 1–3).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.crypto import Sealed
from bot.people import CHAT_ID_LENGTH
from bot.vocabulary import FocusElement, SignalCategory, SubjectRole, enum_column


class SignalStatus(StrEnum):
    NIEUW = "NIEUW"  # registered, not yet weighed
    IN_WEGING = "IN_WEGING"  # weighing started
    GEEN_ACTIE = "GEEN_ACTIE"  # weighed: no action; the retention clock runs from closed_at
    DOORVERWEZEN = "DOORVERWEZEN"  # referred to one partner
    CASUS = "CASUS"  # became (part of) a case


class Signal(SQLModel, table=True):
    __tablename__ = "signal"
    # The coordinator's Home: the oldest signals waiting to be weighed. The search indexes (PostgreSQL
    # trigram GIN, SQLite FTS5) are made by migration 0011 only: they are not SQLModel tables or columns.
    # Retention's plan (the coordinator's Home): the oldest closed signals, walked in order (migration 0014).
    __table_args__ = (
        sa.Index("ix_signal_status_created", "status", "created_at", "id"),
        sa.Index("ix_signal_closed", "closed_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    summary: str = Field(max_length=300)  # checked for personal data before it may be shown in a channel
    category: SignalCategory = Field(sa_type=enum_column(SignalCategory, 32))
    focus_element: FocusElement | None = Field(default=None, sa_type=enum_column(FocusElement, 32))
    location_or_sector: str | None = Field(default=None, max_length=200)
    details: str | None = Field(default=None, sa_type=Sealed())  # restricted
    source_permalink: str | None = Field(
        default=None, sa_type=Sealed()
    )  # restricted: the message it came from
    # Restricted: what was taken out of the summary and the location because it was personal data,
    # as JSON {"summary": original, "location_or_sector": original}. Shown only with the details.
    kept_out: str | None = Field(default=None, sa_type=Sealed())
    partner_id: int = Field(foreign_key="partner.id", index=True)  # originating partner
    reporter_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    reporter_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    status: SignalStatus = Field(
        default=SignalStatus.NIEUW, sa_type=enum_column(SignalStatus, 16), index=True
    )
    referred_to_partner_id: int | None = Field(default=None, foreign_key="partner.id")
    # Who may see the details besides the originating partner and the partners in SignalAccess:
    # the partnership's coordinators, unless the reporter chose otherwise (the default is yes).
    share_with_coordinators: bool = Field(default=True)
    # Where the signal's message (with its weighing button) was posted, so later updates go there too.
    message_channel: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    # Slack's view id of the submission that created it: a modal submitted twice registers once.
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    closed_at: datetime | None = None  # when weighed to no action or referred: retention starts here


class SignalSubject(SQLModel, table=True):
    __tablename__ = "signal_subject"

    signal_id: int = Field(foreign_key="signal.id", primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", primary_key=True, index=True)
    role: SubjectRole = Field(default=SubjectRole.BETROKKENE, sa_type=enum_column(SubjectRole, 16))


class SignalAccess(SQLModel, table=True):
    """A partner given access to a signal's restricted details by the originating partner."""

    __tablename__ = "signal_access"

    signal_id: int = Field(foreign_key="signal.id", primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", primary_key=True)
    granted_at: datetime = Field(default_factory=utcnow)


class CaseSignal(SQLModel, table=True):
    """The case a signal became part of (its weighing's outcome CASUS). Kept with the signals, below the
    cases: a signal's card names its case; bot.cases.models names it too."""

    __tablename__ = "case_signal"

    case_id: int = Field(foreign_key="case.id", primary_key=True)
    signal_id: int = Field(foreign_key="signal.id", primary_key=True, index=True)


class WeighingStep(StrEnum):
    ONDERMIJNING = "ONDERMIJNING"  # is it ondermijning?
    TAAK = "TAAK"  # whose task, on what legal basis?
    ERNST = "ERNST"  # how serious and how recent?
    UITKOMST = "UITKOMST"  # no action, refer, or case


class Recency(StrEnum):
    """How recent what the signal describes is (the ERNST step)."""

    WEEK = "WEEK"  # within the last week
    MAAND = "MAAND"  # within the last month
    JAAR = "JAAR"  # within the last year
    OUDER = "OUDER"  # longer ago


class Assessment(SQLModel, table=True):
    """One step of a signal's weighing (Weging), by a coordinator, with the reason."""

    __tablename__ = "assessment"
    __table_args__ = (sa.UniqueConstraint("signal_id", "step", name="uq_assessment_step"),)

    id: int | None = Field(default=None, primary_key=True)
    signal_id: int = Field(foreign_key="signal.id", index=True)
    step: WeighingStep = Field(sa_type=enum_column(WeighingStep, 16))
    answer: str = Field(max_length=64)  # e.g. "ja"/"nee", a partner id, "3" (seriousness)
    legal_basis: str | None = Field(default=None, max_length=200)  # Grondslag, for the TAAK step
    recency: str | None = Field(default=None, max_length=16)  # for the ERNST step: a Recency value
    reason: str = Field(max_length=1000)
    by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    at: datetime = Field(default_factory=utcnow)
