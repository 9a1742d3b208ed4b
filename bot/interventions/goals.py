"""Partners' goals (Doel) per focus element, and their progress from finished interventions.

A goal counts the interventions its partner carried out (UITGEVOERD) on its focus element in its year,
only those of its instrument type when it names one: "naheffen bij 10 sleutelpersonen" is a FISCAAL
goal of the Belastingdienst on AFPAKKEN with target 10. An intervention named under a goal in its form
(`Intervention.goal_id`) counts towards that goal too, whoever owns it: partners that join another's
goal with their own work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot import audit, clock
from bot.authz import Action, Principal, authorize, relation_to
from bot.i18n import N_
from bot.interventions.models import Goal, Intervention, InterventionStatus
from bot.interventions.problems import InterventionError
from bot.partners.models import Partner
from bot.vocabulary import FocusElement, InstrumentType

MAX_DESCRIPTION: Final = 200
MAX_TARGET: Final = 10_000
PURPOSE_GOALS: Final = "the partnership's goals (/samen doelen)"
PAGE: Final = 45  # goals `/samen doelen` shows: 1 header + 45 sections stay within Slack's 50 blocks


@dataclass(frozen=True)
class Progress:
    goal: Goal
    partner: str
    done: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.goal.target)) if self.goal.target else 0


def add_goal(
    session: Session,
    *,
    actor: Principal,
    partner_id: int,
    focus_element: FocusElement,
    description: str,
    target: int,
    instrument_type: InstrumentType | None = None,
    year: int | None = None,
    submission_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Goal, bool]:
    """Add a goal; (goal, False) when this submission made one already."""
    now = now or clock.now(session)
    if submission_key is not None:
        existing = session.exec(select(Goal).where(Goal.submission_key == submission_key)).first()
        if existing is not None:
            return existing, False
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise InterventionError(N_("Choose the partner whose goal it is."), field="partner")
    authorize(actor, Action.MANAGE_GOALS, relation=relation_to(actor, partner_id))
    description = " ".join((description or "").split())
    if not description or len(description) > MAX_DESCRIPTION:
        raise InterventionError(
            N_("Describe the goal in 1 to %(limit)s characters."), field="description", limit=MAX_DESCRIPTION
        )
    if isinstance(target, bool) or not 1 <= target <= MAX_TARGET:
        raise InterventionError(
            N_("The target is a whole number from 1 to %(limit)s."), field="target", limit=MAX_TARGET
        )
    goal = Goal(
        partner_id=partner_id,
        focus_element=focus_element,
        instrument_type=instrument_type,
        description=description,
        target=target,
        year=year or now.year,
        submission_key=submission_key,
        created_by_team_id=actor.team_id,
        created_by_user_id=actor.user_id,
        created_at=now,
    )
    session.add(goal)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="goal.added",
        object_type="goal",
        object_id=goal.id or 0,
        purpose=PURPOSE_GOALS,
        details={
            "partner_id": partner_id,
            "focus_element": focus_element.value,
            "instrument_type": instrument_type.value if instrument_type else None,
            "target": target,
            "year": goal.year,
        },
    )
    return goal, True


def progress(session: Session, *, year: int | None = None, limit: int = PAGE) -> list[Progress]:
    """The year's first `limit` goals (by partner, focus element, age) with the number of finished
    interventions that count towards each.

    One statement whose rows read follow the page, not the year: the page of goals from `ix_goal_year`,
    and per shown goal two counts — its partner's own finished work on its focus element in its year (of
    its instrument type, when it names one), one range of `ix_intervention_goal_progress`; plus those
    named under it (`goal_id`) that are not its own work already, so that one matching both ways counts
    once."""
    year = year or clock.now(session).year
    page = (
        select(Goal)
        .where(col(Goal.year) == year)
        .order_by(col(Goal.partner_id), col(Goal.focus_element), col(Goal.id))
        .limit(limit)
        .subquery("page")
    )
    shown = aliased(Goal, page)
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    finished = (
        col(Intervention.status) == InterventionStatus.UITGEVOERD,
        col(Intervention.done_at) >= start,
        col(Intervention.done_at) < end,
    )
    own_work = sa.and_(
        col(Intervention.owner_partner_id) == shown.partner_id,
        col(Intervention.focus_element) == shown.focus_element,
        sa.or_(
            col(shown.instrument_type).is_(None),
            col(Intervention.instrument_type) == shown.instrument_type,
        ),
    )
    # Every column in own_work is NOT NULL but goal.instrument_type, tested with IS NULL first: the rule
    # is plainly true or false, so NOT(own_work) holds exactly for the named ones it does not cover.
    by_rule = sa.select(func.count()).select_from(Intervention).where(own_work, *finished).scalar_subquery()
    by_name = (
        sa.select(func.count())
        .select_from(Intervention)
        .where(col(Intervention.goal_id) == shown.id, *finished, sa.not_(own_work))
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(shown, col(Partner.name), by_rule + by_name)
        .outerjoin(Partner, col(Partner.id) == shown.partner_id)
        .order_by(col(shown.partner_id), col(shown.focus_element), col(shown.id))
    ).all()
    return [Progress(goal, name or "?", int(done)) for goal, name, done in rows]


def count_goals(session: Session, *, year: int | None = None) -> int:
    """How many goals the year has (the page shows `PAGE` of them): a count of one range of `ix_goal_year`."""
    year = year or clock.now(session).year
    return int(session.exec(select(func.count()).select_from(Goal).where(col(Goal.year) == year)).one())
