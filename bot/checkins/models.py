"""Check-ins and ad-hoc alignment: the tables.

A `CheckinSchedule` says when a channel's check-in happens (days, a wall-clock time in a zone, a window)
and keeps `next_at`, the next moment in UTC, current: the every-minute job reads only schedules that are
due through its index. Each moment is a `CheckinMoment`, unique per schedule and local day, so however
many workers run the job a moment exists (and is posted) once. Each person expected to answer has a
`CheckinAnswer` row from the start (version 0: not answered yet); answering raises its version, and each
version is one outbox row (the first a post in the prompt's thread, later ones an edit of it).

An `Alignment` brings together the partners that have something on one subject: each partner's contact
people are asked privately (`AlignmentInvite`), and only those who join meet in a group conversation,
where they pick a short time slot (`AlignmentVote`) and record what they agree (`AlignmentAgreement`).

Nothing here is restricted by nature: answers and agreements are posted to the people taking part, and
are checked for personal data (bot.pii) before they are accepted.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.people import CHAT_ID_LENGTH
from bot.vocabulary import enum_column


class ScheduleStatus(StrEnum):
    ACTIEF = "ACTIEF"
    GEPAUZEERD = "GEPAUZEERD"
    VERWIJDERD = "VERWIJDERD"  # kept for the moments that refer to it; never scheduled again


class CheckinSchedule(SQLModel, table=True):
    __tablename__ = "checkin_schedule"
    __table_args__ = (
        sa.CheckConstraint("window_minutes > 0", name="ck_checkin_schedule_window"),
        # The job: WHERE next_at <= now, in that order.
        sa.Index("ix_checkin_schedule_next_at", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=CHAT_ID_LENGTH, index=True)
    team_id: str = Field(max_length=CHAT_ID_LENGTH)  # the workspace of the channel (the planner's)
    weekdays: str = Field(max_length=16)  # "0,1,2,3,4": Monday is 0
    clock: str = Field(max_length=5)  # "09:00", wall-clock time in `timezone`
    timezone: str = Field(max_length=64)
    include_holidays: bool = Field(default=False)  # False: Dutch public holidays are skipped
    window_minutes: int
    questions: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON list of strings
    ask_partner_need: bool = Field(default=True)  # "where do you need a partner?"
    partner_ids: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON list of partner ids
    people: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON list of [team_id, user_id]
    language: str = Field(max_length=8)  # what the channel's posts are written in
    status: ScheduleStatus = Field(default=ScheduleStatus.ACTIEF, sa_type=enum_column(ScheduleStatus, 16))
    next_at: datetime | None = None  # UTC; None when paused or deleted
    # The Slack view that created it: a modal submitted twice plans once.
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    created_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MomentStatus(StrEnum):
    OPEN = "OPEN"
    GESLOTEN = "GESLOTEN"


class CheckinMoment(SQLModel, table=True):
    __tablename__ = "checkin_moment"
    __table_args__ = (
        sa.UniqueConstraint("schedule_id", "local_date", name="uq_checkin_moment_day"),
        # The job: WHERE next_step_at <= now (the reminder, then the close).
        sa.Index("ix_checkin_moment_next_step_at", "next_step_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="checkin_schedule.id", index=True)
    local_date: date  # the day in the schedule's zone
    channel_id: str = Field(max_length=CHAT_ID_LENGTH)
    opens_at: datetime  # UTC
    remind_at: datetime  # UTC: three quarters of the window
    closes_at: datetime  # UTC
    questions: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON, as they were asked
    ask_partner_need: bool = Field(default=True)
    language: str = Field(max_length=8)
    status: MomentStatus = Field(default=MomentStatus.OPEN, sa_type=enum_column(MomentStatus, 16))
    reminded: bool = Field(default=False)
    next_step_at: datetime | None = None  # UTC: the reminder, then the close; None when closed
    created_at: datetime = Field(default_factory=utcnow)


class CheckinAnswer(SQLModel, table=True):
    """One person's answer to one moment; a row exists from the start for everyone expected."""

    __tablename__ = "checkin_answer"

    moment_id: int = Field(foreign_key="checkin_moment.id", primary_key=True)
    team_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    user_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    partner_id: int = Field(foreign_key="partner.id")
    expected: bool = Field(default=True)  # False: answered without being asked (a colleague stepping in)
    version: int = Field(default=0)  # 0: not answered; n: the n-th answer (n > 1 edits the first post)
    answers: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))  # JSON
    need_partner_ids: str | None = Field(default=None, max_length=200)  # JSON list of partner ids
    need_text: str | None = Field(default=None, max_length=500)
    last_view_id: str | None = Field(default=None, max_length=64)  # a modal submitted twice counts once
    answered_at: datetime | None = None
    reminded_at: datetime | None = None


class AlignmentStatus(StrEnum):
    GEVRAAGD = "GEVRAAGD"  # the partners are being asked
    GESTART = "GESTART"  # the group conversation is open


class Alignment(SQLModel, table=True):
    __tablename__ = "alignment"
    __table_args__ = (
        # One alignment per subject, calling partner and day: a second click changes nothing.
        sa.UniqueConstraint("subject_id", "partner_id", "day", name="uq_alignment_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    topic: str | None = Field(default=None, max_length=200)  # checked for personal data
    partner_id: int = Field(foreign_key="partner.id")  # the partner of the person who called it
    called_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    called_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    day: date  # in the partnership's zone
    status: AlignmentStatus = Field(
        default=AlignmentStatus.GEVRAAGD, sa_type=enum_column(AlignmentStatus, 16)
    )
    conversation_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)  # the group conversation
    slots: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))  # JSON ISO times
    version: int = Field(default=0)  # +1 on every change of the group's message: keys its edits
    language: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None


class InviteAnswer(StrEnum):
    OPEN = "OPEN"
    MEEDOEN = "MEEDOEN"
    AFGESLAGEN = "AFGESLAGEN"


class AlignmentInvite(SQLModel, table=True):
    """One contact person of a partner that has something on the subject, asked privately to join."""

    __tablename__ = "alignment_invite"

    alignment_id: int = Field(foreign_key="alignment.id", primary_key=True)
    team_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    user_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    partner_id: int = Field(foreign_key="partner.id")
    answer: InviteAnswer = Field(default=InviteAnswer.OPEN, sa_type=enum_column(InviteAnswer, 16))
    answered_at: datetime | None = None


class AlignmentVote(SQLModel, table=True):
    """A person who can make one of the proposed time slots."""

    __tablename__ = "alignment_vote"

    alignment_id: int = Field(foreign_key="alignment.id", primary_key=True)
    slot: int = Field(primary_key=True)
    team_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    user_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)


class AlignmentAgreement(SQLModel, table=True):
    """What was agreed: who does what, by when."""

    __tablename__ = "alignment_agreement"

    id: int | None = Field(default=None, primary_key=True)
    alignment_id: int = Field(foreign_key="alignment.id", index=True)
    what: str = Field(max_length=200)  # checked for personal data
    owner_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    owner_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    owner_partner_id: int = Field(foreign_key="partner.id")
    due_on: date | None = None
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    created_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_at: datetime = Field(default_factory=utcnow)
