"""Interventions (Interventie), the partners joining them, lessons (Leerpunt) and goals (Doel).

An intervention is one partner's act, on a case or on its own ("zelfstandig": `case_id` NULL, later
attachable to a case), owned by one person, in a round, optionally in a time window, after another
intervention, on a subject code and under a partner's goal. Other partners hook in: a partner on the
case joins at once; any other is asked (`InterventionAsk`) and joins when one of its people accepts.
`next_reminder_at` is the moment its next reminder is due,
kept current on every change: the reminder sweep reads only the rows that are due, through its index,
so it costs what is due and not what exists.

Restricted: the result and the effect seen (they can name what was found and on whom) are `Sealed`.
The lesson is written to be shared with every partner, without names, and is searchable.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.crypto import Sealed
from bot.i18n import N_
from bot.people import CHAT_ID_LENGTH
from bot.vocabulary import Contribution, FocusElement, InstrumentType, enum_column


class InterventionStatus(StrEnum):
    VOORGESTELD = "VOORGESTELD"  # proposed: nobody has committed yet; does not count against capacity
    TOEGEZEGD = "TOEGEZEGD"  # the owner partner committed to it
    GEPLAND = "GEPLAND"  # it has a time window
    IN_UITVOERING = "IN_UITVOERING"
    UITGEVOERD = "UITGEVOERD"
    GEANNULEERD = "GEANNULEERD"


STATUS_LABELS: Final[dict[InterventionStatus, str]] = {
    InterventionStatus.VOORGESTELD: N_("proposed"),
    InterventionStatus.TOEGEZEGD: N_("committed"),
    InterventionStatus.GEPLAND: N_("planned"),
    InterventionStatus.IN_UITVOERING: N_("in execution"),
    InterventionStatus.UITGEVOERD: N_("carried out"),
    InterventionStatus.GEANNULEERD: N_("called off"),
}

# What a partner is carrying: these count against its capacity (a proposal does not, until committed).
OPEN_STATUSES: Final = (
    InterventionStatus.TOEGEZEGD,
    InterventionStatus.GEPLAND,
    InterventionStatus.IN_UITVOERING,
)
# Not finished: reminded, listed under "my work", can be waited on.
ACTIVE_STATUSES: Final = (InterventionStatus.VOORGESTELD, *OPEN_STATUSES)
# A round 2 that is "ready" for round 1 to start.
ROUND_TWO_READY: Final = (
    InterventionStatus.TOEGEZEGD,
    InterventionStatus.GEPLAND,
    InterventionStatus.IN_UITVOERING,
    InterventionStatus.UITGEVOERD,
)


class Intervention(SQLModel, table=True):
    __tablename__ = "intervention"
    __table_args__ = (
        sa.CheckConstraint("round >= 1", name="ck_intervention_round"),
        # The reminder sweep: WHERE next_reminder_at <= now, in that order.
        sa.Index("ix_intervention_next_reminder", "next_reminder_at"),
        sa.Index("ix_intervention_owner", "owner_team_id", "owner_user_id", "status"),
        sa.Index("ix_intervention_partner_status", "owner_partner_id", "status"),
        # The digest (bot/digest/figures.py): carried out in a period, newest first.
        sa.Index("ix_intervention_status_done", "status", "done_at"),
        # A goal's progress (bot/interventions/goals.py): its partner's own work finished in its year.
        sa.Index(
            "ix_intervention_goal_progress",
            "owner_partner_id",
            "focus_element",
            "status",
            "done_at",
            "instrument_type",
        ),
        # ...and those named under it (goal_id) finished in its year; its prefix serves the foreign key.
        sa.Index("ix_intervention_goal_named", "goal_id", "status", "done_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)  # None: independent
    instrument_type: InstrumentType = Field(sa_type=enum_column(InstrumentType, 32))
    instrument: str = Field(max_length=200)  # e.g. "Sluiting pand (art. 13b Opiumwet)"
    focus_element: FocusElement = Field(sa_type=enum_column(FocusElement, 32))
    owner_partner_id: int = Field(foreign_key="partner.id")
    owner_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    owner_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    round: int = Field(default=1)
    status: InterventionStatus = Field(
        default=InterventionStatus.VOORGESTELD, sa_type=enum_column(InterventionStatus, 16)
    )
    window_start: datetime | None = None  # UTC
    window_end: datetime | None = None  # UTC; None: from window_start on
    window_has_time: bool = Field(default=False)  # False: a day, not a moment ("vrijdag")
    depends_on_id: int | None = Field(default=None, foreign_key="intervention.id", index=True)
    # The partner's goal it serves (counted there even when another partner owns it).
    goal_id: int | None = Field(default=None, foreign_key="goal.id")  # indexed: ix_intervention_goal_named
    cancel_reason: str | None = Field(default=None, max_length=500)
    capacity_override_reason: str | None = Field(default=None, max_length=500)
    second_round_override_reason: str | None = Field(default=None, max_length=500)
    result: str | None = Field(default=None, sa_type=Sealed())  # restricted
    effect: str | None = Field(default=None, sa_type=Sealed())  # restricted
    success: bool | None = None
    # Reminders: the next one's moment (UTC), the last day one went out (owner's zone), snoozes, and
    # how far the "no update for N days" nudge went (0 none, 1 owner told, 2 the partner's lead told).
    next_reminder_at: datetime | None = None
    last_reminded_on: date | None = None
    snoozed_until: date | None = None
    stale_stage: int = Field(default=0)
    version: int = Field(default=1)  # +1 on every change: keys the messages about each change
    # The Slack view that created it: a modal submitted twice creates it once.
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    created_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)  # the last change by a person: the stale clock
    started_at: datetime | None = None
    done_at: datetime | None = None

    @property
    def code(self) -> str:
        return f"I-{self.id}"


class InterventionPartner(SQLModel, table=True):
    """A partner joining an intervention with its contribution (speler in positie, slagkracht, informatie)."""

    __tablename__ = "intervention_partner"

    intervention_id: int = Field(foreign_key="intervention.id", primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", primary_key=True, index=True)
    contribution: Contribution = Field(sa_type=enum_column(Contribution, 32))


class InterventionAsk(SQLModel, table=True):
    """A partner asked to join an intervention with a contribution; it joins when one of its people
    accepts (then an `InterventionPartner` row records the contribution)."""

    __tablename__ = "intervention_ask"

    intervention_id: int = Field(foreign_key="intervention.id", primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", primary_key=True, index=True)
    contribution: Contribution = Field(sa_type=enum_column(Contribution, 32))
    asked_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    accepted_by_team_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    accepted_by_user_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)


class InterventionSubject(SQLModel, table=True):
    """The subject (by its pseudonymised code) an intervention is about. A link row, not a column of
    the intervention: erasing the subject (bot/privacy/erase.py) removes the link and keeps the
    intervention, which is the partnership's own record."""

    __tablename__ = "intervention_subject"

    intervention_id: int = Field(foreign_key="intervention.id", primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", primary_key=True, index=True)


class Lesson(SQLModel, table=True):
    """What a finished intervention taught (Leerpunt): shared with every partner, searchable."""

    __tablename__ = "lesson"

    id: int | None = Field(default=None, primary_key=True)
    intervention_id: int = Field(foreign_key="intervention.id", unique=True)
    partner_id: int = Field(foreign_key="partner.id", index=True)
    focus_element: FocusElement = Field(sa_type=enum_column(FocusElement, 32))
    instrument_type: InstrumentType = Field(sa_type=enum_column(InstrumentType, 32))
    text: str = Field(max_length=2000)
    by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Goal(SQLModel, table=True):
    """A partner's goal for a year on one focus element, with a target number (Doel)."""

    __tablename__ = "goal"
    __table_args__ = (
        sa.CheckConstraint("target >= 1", name="ck_goal_target"),
        # `/samen doelen`: the year's goals in the page's order.
        sa.Index("ix_goal_year", "year", "partner_id", "focus_element", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", index=True)
    focus_element: FocusElement = Field(sa_type=enum_column(FocusElement, 32))
    # Counts only interventions of this instrument type, when set (e.g. FISCAAL for "naheffen").
    instrument_type: InstrumentType | None = Field(default=None, sa_type=enum_column(InstrumentType, 32))
    description: str = Field(max_length=200)  # e.g. "naheffen bij 10 sleutelpersonen"
    target: int
    year: int
    # The Slack view that created it: a modal submitted twice creates it once.
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    created_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    created_at: datetime = Field(default_factory=utcnow)


# Where each status may go. Execution (IN_UITVOERING or straight to UITGEVOERD) passes the second-round rule.
ALLOWED: Final[dict[InterventionStatus, frozenset[InterventionStatus]]] = {
    InterventionStatus.VOORGESTELD: frozenset(
        {InterventionStatus.TOEGEZEGD, InterventionStatus.GEPLAND, InterventionStatus.GEANNULEERD}
    ),
    InterventionStatus.TOEGEZEGD: frozenset(
        {
            InterventionStatus.GEPLAND,
            InterventionStatus.IN_UITVOERING,
            InterventionStatus.UITGEVOERD,
            InterventionStatus.GEANNULEERD,
        }
    ),
    InterventionStatus.GEPLAND: frozenset(
        {InterventionStatus.IN_UITVOERING, InterventionStatus.UITGEVOERD, InterventionStatus.GEANNULEERD}
    ),
    InterventionStatus.IN_UITVOERING: frozenset(
        {InterventionStatus.UITGEVOERD, InterventionStatus.GEANNULEERD}
    ),
    InterventionStatus.UITGEVOERD: frozenset(),
    InterventionStatus.GEANNULEERD: frozenset(),
}


def next_steps(intervention: Intervention) -> list[InterventionStatus]:
    """The statuses it can go to from here, in the order of the work."""
    return [status for status in InterventionStatus if status in ALLOWED[intervention.status]]
