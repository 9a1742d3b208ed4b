"""Moving an intervention on: commit, plan, start (`advance`), carry out with its result and a lesson
(`finish`), call off, hand over, and snooze its reminders. Finishing tells the owners of the
interventions that waited on it that it is their turn.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal

from sqlmodel import Session, col, select

from bot import audit, clock, pii
from bot.authz import Action, Principal, authorize
from bot.calendar import local_date, next_working_day
from bot.config import Settings
from bot.i18n import N_
from bot.interventions import messages
from bot.interventions.models import ACTIVE_STATUSES, OPEN_STATUSES, Intervention, InterventionStatus, Lesson
from bot.interventions.problems import InterventionError
from bot.interventions.reading import get, id_of, intervention_relation
from bot.interventions.reminders import owner_zone
from bot.interventions.rules import (
    BEFORE_EXECUTION,
    CLOSING,
    MAX_REASON,
    Outcome,
    check_capacity,
    check_second_round,
    check_step,
    locked_to_close,
    may_close,
    may_update,
    record_change,
)
from bot.partners import service as partners
from bot.partners.models import PersonRef

S = InterventionStatus
MAX_RESULT: Final = 2000
MAX_LESSON_TEXT: Final = 2000
PURPOSE_STATUS: Final = "intervention progress"


def advance(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    to: InterventionStatus,
    settings: Settings,
    capacity_override: str | None = None,
    second_round_override: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Commit to, plan or start an intervention (finish and cancel have their own functions)."""
    if to in CLOSING or to is S.VOORGESTELD:
        raise ValueError(f"advance() does not go to {to}")
    now = now or clock.now(session)
    intervention = get(session, intervention_id=intervention_id, lock=True)
    if intervention.status is to:
        return Outcome(intervention, changed=False)
    may_update(session, actor, intervention)
    check_step(intervention, to)
    if to is S.GEPLAND and intervention.window_start is None:
        raise InterventionError(
            N_(
                "%(code)s has no time window yet. Give it one first: "
                "`/samen interventie %(code)s wanneer dinsdag 08:15-08:45`."
            ),
            code=intervention.code,
        )
    check_capacity(session, actor, intervention, intervention.owner_partner_id, capacity_override, now)
    if to is S.IN_UITVOERING:
        check_second_round(session, actor, intervention, second_round_override)
        intervention.started_at = now
    _become(session, actor, intervention, to, settings=settings, now=now)
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="status", actor_user_id=actor.user_id
    )
    return Outcome(intervention, changed=True)


def finish(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    settings: Settings,
    result: str,
    effect: str | None = None,
    success: bool = False,
    lesson: str | None = None,
    second_round_override: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Mark an intervention carried out, with its result, the effect seen and a lesson.

    Tells the owner of every intervention waiting on it that it is their turn (urgent), posts a success
    to the partnership channel, and records the lesson for everyone to find.
    """
    now = now or clock.now(session)
    intervention = get(session, intervention_id=intervention_id, lock=True)
    if intervention.status is S.UITGEVOERD:
        return Outcome(intervention, changed=False)
    may_close(session, actor, intervention)
    check_step(intervention, S.UITGEVOERD)
    result = (result or "").strip()
    if not result:
        raise InterventionError(N_("Say what the result was."), field="result")
    if len(result) > MAX_RESULT or len(effect or "") > MAX_RESULT:
        raise InterventionError(
            N_("Keep the result and the effect to %(limit)s characters each."),
            field="result",
            limit=MAX_RESULT,
        )
    lesson = (lesson or "").strip() or None
    if lesson is not None and len(lesson) > MAX_LESSON_TEXT:
        raise InterventionError(
            N_("Keep what was learnt to %(limit)s characters."), field="lesson", limit=MAX_LESSON_TEXT
        )
    if intervention.status in BEFORE_EXECUTION:
        check_second_round(session, actor, intervention, second_round_override)
        intervention.started_at = intervention.started_at or now
    intervention.result = result
    intervention.effect = (effect or "").strip() or None
    intervention.success = bool(success)
    intervention.done_at = now
    _become(session, actor, intervention, S.UITGEVOERD, settings=settings, now=now, success=bool(success))
    if lesson is not None:
        authorize(actor, Action.RECORD_LESSON, relation=intervention_relation(session, actor, intervention))
        session.add(
            Lesson(
                intervention_id=id_of(intervention),
                partner_id=intervention.owner_partner_id,
                focus_element=intervention.focus_element,
                instrument_type=intervention.instrument_type,
                text=lesson,
                by_team_id=actor.team_id,
                by_user_id=actor.user_id,
                created_at=now,
            )
        )
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="lesson.recorded",
            object_type="intervention",
            object_id=id_of(intervention),
            purpose=PURPOSE_STATUS,
        )
    messages.post_to_case(
        session,
        settings=settings,
        intervention=intervention,
        event="status",
        actor_user_id=actor.user_id,
        extra={"success": bool(success)},
    )
    told = []
    for waiting in session.exec(
        select(Intervention)
        .where(Intervention.depends_on_id == intervention.id, col(Intervention.status).in_(ACTIVE_STATUSES))
        .order_by(col(Intervention.id))
    ).all():
        messages.tell_turn(
            session, settings=settings, done=intervention, waiting=waiting, by_user_id=actor.user_id
        )
        told.append(waiting.code)
    if success:
        messages.celebrate(session, settings=settings, intervention=intervention)
    return Outcome(intervention, changed=True, told=tuple(told))


def cancel(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    reason: str,
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    """Call an intervention off, with the reason (shown in the case's thread)."""
    now = now or clock.now(session)
    intervention = get(session, intervention_id=intervention_id, lock=True)
    if intervention.status is S.GEANNULEERD:
        return Outcome(intervention, changed=False)
    may_close(session, actor, intervention)
    check_step(intervention, S.GEANNULEERD)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InterventionError(N_("Say why it is called off."), field="reason")
    if len(reason) > MAX_REASON:
        raise InterventionError(
            N_("Keep the reason to %(limit)s characters."), field="reason", limit=MAX_REASON
        )
    intervention.cancel_reason = reason
    _become(session, actor, intervention, S.GEANNULEERD, settings=settings, now=now)
    messages.post_to_case(
        session,
        settings=settings,
        intervention=intervention,
        event="status",
        actor_user_id=actor.user_id,
        extra={"reason": _for_channel(reason)},
    )
    return Outcome(intervention, changed=True)


def hand_over(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    to: PersonRef,
    settings: Settings,
    capacity_override: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Give an intervention to another member; their partner becomes the owner partner."""
    now = now or clock.now(session)
    intervention = locked_to_close(session, actor, intervention_id)
    member = partners.find_member(session, team_id=to.team_id, user_id=to.user_id)
    if member is None:
        raise InterventionError(
            N_("%(person)s is not a member of the partnership, so cannot own an intervention."),
            field="owner",
            person=to,
        )
    if (member.team_id, member.user_id) == (intervention.owner_team_id, intervention.owner_user_id):
        return Outcome(intervention, changed=False)
    if member.partner_id != intervention.owner_partner_id and intervention.status in OPEN_STATUSES:
        check_capacity(session, actor, intervention, member.partner_id, capacity_override, now)
    previous = f"{intervention.owner_team_id}/{intervention.owner_user_id}"
    intervention.owner_team_id, intervention.owner_user_id = member.team_id, member.user_id
    intervention.owner_partner_id = member.partner_id
    intervention.last_reminded_on = None
    record_change(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.handed_over",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose=PURPOSE_STATUS,
        details={
            "from": previous,
            "to": f"{member.team_id}/{member.user_id}",
            "partner_id": member.partner_id,
        },
    )
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="owner", actor_user_id=actor.user_id
    )
    messages.tell_new_owner(
        session, settings=settings, intervention=intervention, by_user_id=actor.user_id, event="handed_over"
    )
    messages.announce_window(session, settings=settings, intervention=intervention)
    return Outcome(intervention, changed=True)


def snooze(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    span: Literal["day", "week"],
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    """No reminders for a working day (the next reminder comes the working day after next) or a week.

    Counted from today, so clicking twice is the same as clicking once.
    """
    now = now or clock.now(session)
    intervention = locked_to_close(session, actor, intervention_id)
    today = local_date(now, owner_zone(session, intervention, settings.timezone))
    if span == "day":
        until = next_working_day(next_working_day(today))
    else:
        until = today + timedelta(days=7)
        while until != next_working_day(until - timedelta(days=1)):
            until += timedelta(days=1)
    if intervention.snoozed_until is not None and intervention.snoozed_until >= until:
        return Outcome(intervention, changed=False)
    intervention.snoozed_until = until
    record_change(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.snoozed",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose=PURPOSE_STATUS,
        details={"until": until.isoformat()},
    )
    return Outcome(intervention, changed=True)


def _become(
    session: Session,
    actor: Principal,
    intervention: Intervention,
    to: InterventionStatus,
    *,
    settings: Settings,
    now: datetime,
    **details: object,
) -> None:
    """The intervention's status becomes `to`: a change (its reminders recomputed; a closed one's pending
    messages withdrawn) recorded in the audit log."""
    previous = intervention.status
    intervention.status = to
    record_change(session, intervention, settings=settings, now=now)
    if to in CLOSING:
        messages.cancel_pending(session, intervention_id=id_of(intervention))
    audit.record(
        session,
        actor=actor,
        action="intervention.status_changed",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose=PURPOSE_STATUS,
        details={"from": previous.value, "to": to.value, **details},
    )


def _for_channel(text: str) -> str:
    return pii.redact(text)
