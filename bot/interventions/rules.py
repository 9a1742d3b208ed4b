"""The rules every change to an intervention follows, with the actor passed in. Nothing here knows Slack.

The booklet's hardest rules live here:
- take on no more than you can finish: a partner carries at most `Partner.capacity` open interventions
  (TOEGEZEGD, GEPLAND, IN_UITVOERING; a proposal does not count until someone commits to it), and one
  more is refused with the list of its open ones unless a coordinator overrides with a reason;
- prepare the second round before acting in the first: a round-1 intervention on a case about an
  onaantastbare, or on a strategic case, cannot go into execution until a round-2 intervention on that
  case is committed or planned, unless a coordinator overrides with a reason.

Every change is authorised (bot.authz), audited (bot.audit), reschedules the intervention's reminders
(`record_change`) and queues its messages (bot.interventions.messages) in the caller's transaction. A
change that changes nothing (a button clicked twice, a modal submitted twice) writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlmodel import Session, select

from bot import audit
from bot.authz import Action, Principal, Relation, authorize, is_allowed, relation_to
from bot.config import Settings
from bot.i18n import N_
from bot.interventions.dates import Window
from bot.interventions.models import (
    ACTIVE_STATUSES,
    ALLOWED,
    OPEN_STATUSES,
    STATUS_LABELS,
    Intervention,
    InterventionStatus,
)
from bot.interventions.problems import (
    CapacityExceeded,
    InterventionError,
    NotAllowedNow,
    NotOwner,
    SecondRoundMissing,
)
from bot.interventions.reading import case_of, get, id_of, needs_second_round, open_of, second_round_ready
from bot.interventions.reminders import reschedule
from bot.partners.models import Partner, PersonRef
from bot.problems import Label

S = InterventionStatus
MAX_REASON: Final = 500
CLOSING: Final = (S.UITGEVOERD, S.GEANNULEERD)
BEFORE_EXECUTION: Final = (S.VOORGESTELD, S.TOEGEZEGD, S.GEPLAND)


@dataclass(frozen=True)
class Outcome:
    intervention: Intervention
    changed: bool
    # Finishing: the codes of the interventions that waited on it, whose owners were told it is their turn.
    told: tuple[str, ...] = ()


def window_problems(window: Window, *, now: datetime) -> list[InterventionError]:
    if window.end is not None and window.end <= window.start:
        return [InterventionError(N_("The window ends before it starts."), field="window")]
    if window.has_time and window.start < now - timedelta(minutes=5):
        return [
            InterventionError(
                N_("The window starts in the past. Choose a moment still to come."), field="window"
            )
        ]
    if not window.has_time and window.start + timedelta(days=1) <= now:
        return [InterventionError(N_("That day is in the past. Choose a day from today on."), field="window")]
    return []


def check_may_update(session: Session, *, actor: Principal, intervention: Intervention) -> None:
    """Raise unless the actor may plan this intervention (before showing them a form or a prompt)."""
    may_update(session, actor, intervention)
    check_active(intervention)


def locked_to_plan(session: Session, actor: Principal, intervention_id: int) -> Intervention:
    """The intervention, locked for the change, once the actor may plan it and it is still active."""
    intervention = get(session, intervention_id=intervention_id, lock=True)
    check_may_update(session, actor=actor, intervention=intervention)
    return intervention


def locked_to_close(session: Session, actor: Principal, intervention_id: int) -> Intervention:
    """The intervention, locked for the change, once the actor may finish, call off, hand over or snooze
    it (its owner, or a coordinator) and it is still active."""
    intervention = get(session, intervention_id=intervention_id, lock=True)
    may_close(session, actor, intervention)
    check_active(intervention)
    return intervention


def check_may_close(
    session: Session, *, actor: Principal, intervention: Intervention, to: InterventionStatus | None
) -> None:
    """Raise unless the actor may finish, call off (`to`) or hand over (None) this intervention now."""
    if to is not None and intervention.status is to:
        raise NotAllowedNow(
            N_("%(code)s is %(status)s already: nothing changed."),
            code=intervention.code,
            status=Label(STATUS_LABELS[intervention.status]),
        )
    may_close(session, actor, intervention)
    if to is None:
        check_active(intervention)
    else:
        check_step(intervention, to)


def _is_owner(actor: Principal, intervention: Intervention) -> bool:
    return (actor.team_id, actor.user_id) == (intervention.owner_team_id, intervention.owner_user_id)


def may_update(session: Session, actor: Principal, intervention: Intervention) -> None:
    """Commit, plan, start, set the window or what it waits for: the owner partner's people."""
    authorize(actor, Action.UPDATE_INTERVENTION, relation=relation_to(actor, intervention.owner_partner_id))


def may_close(session: Session, actor: Principal, intervention: Intervention) -> None:
    """Finish, call off, hand over, snooze: the owner, or a coordinator."""
    relation = Relation.OWN if _is_owner(actor, intervention) else Relation.OTHER
    if not is_allowed(actor, Action.CLOSE_INTERVENTION, relation=relation):
        raise NotOwner(
            N_(
                "%(code)s belongs to %(person)s: only they, or a coordinator, can finish, call off or "
                "hand it over."
            ),
            code=intervention.code,
            person=PersonRef(intervention.owner_team_id, intervention.owner_user_id),
        )


def check_step(intervention: Intervention, to: InterventionStatus) -> None:
    if to not in ALLOWED[intervention.status]:
        raise NotAllowedNow(
            N_("%(code)s is %(status)s: it cannot become %(to)s from there."),
            code=intervention.code,
            status=Label(STATUS_LABELS[intervention.status]),
            to=Label(STATUS_LABELS[to]),
        )


def check_active(intervention: Intervention) -> None:
    if intervention.status not in ACTIVE_STATUSES:
        raise NotAllowedNow(
            N_("%(code)s is %(status)s already: it cannot be changed any more."),
            code=intervention.code,
            status=Label(STATUS_LABELS[intervention.status]),
        )


def check_capacity(
    session: Session,
    actor: Principal,
    intervention: Intervention,
    partner_id: int,
    override: str | None,
    now: datetime,
) -> None:
    """Entering the open statuses (or moving to another partner) takes capacity; refuse beyond it."""
    if intervention.status in OPEN_STATUSES and partner_id == intervention.owner_partner_id:
        return  # already counted
    query = select(Partner).where(Partner.id == partner_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # two commitments at once must not both take the last place
    partner = session.exec(query).one()
    carried = open_of(session, partner_id=partner_id, excluding=intervention.id)
    if len(carried) < partner.capacity:
        return
    intervention.capacity_override_reason = _override_reason(
        actor,
        Action.OVERRIDE_CAPACITY,
        override,
        lambda can_override: CapacityExceeded(partner=partner, open_ones=carried, can_override=can_override),
    )
    audit.record(
        session,
        actor=actor,
        action="intervention.capacity_overridden",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose="coordinator override: more than the partner's agreed capacity",
        details={"partner_id": partner_id, "open": len(carried), "capacity": partner.capacity},
    )


def check_second_round(
    session: Session, actor: Principal, intervention: Intervention, override: str | None
) -> None:
    if intervention.round != 1 or intervention.case_id is None:
        return  # the rule is about a case's untouchable or strategy; an independent one has neither
    case = case_of(session, case_id=intervention.case_id)
    why = needs_second_round(session, case)
    if why is None or second_round_ready(session, case_id=case.id or 0):
        return
    intervention.second_round_override_reason = _override_reason(
        actor,
        Action.OVERRIDE_SECOND_ROUND,
        override,
        lambda can_override: SecondRoundMissing(
            intervention=intervention, why=why, can_override=can_override
        ),
    )
    audit.record(
        session,
        actor=actor,
        action="intervention.second_round_overridden",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose="coordinator override: round 1 without a second round ready",
        details={"case_id": intervention.case_id},
    )


def _override_reason(
    actor: Principal, action: Action, override: str | None, refused: Callable[[bool], InterventionError]
) -> str:
    """A coordinator's reason to go beyond a limit, its spaces tidied. Without one, or for someone who
    may not override, the limit's problem (`refused(can_override)`): it says what to do instead."""
    can_override = is_allowed(actor, action)
    reason = " ".join((override or "").split())
    if not reason or not can_override:
        raise refused(can_override)
    if len(reason) > MAX_REASON:
        raise InterventionError(
            N_("Keep the reason to %(limit)s characters."), field="reason", limit=MAX_REASON
        )
    return reason


def record_change(session: Session, intervention: Intervention, *, settings: Settings, now: datetime) -> None:
    """Every change by a person: a new version, the stale clock restarts, reminders are recomputed."""
    intervention.version += 1
    intervention.updated_at = now
    intervention.stale_stage = 0
    reschedule(session, intervention, settings=settings, now=now)
    session.add(intervention)
    session.flush()
