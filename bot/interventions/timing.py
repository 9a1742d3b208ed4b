"""Timing interventions: a time window (its owner is reminded the working day before and on the day), and
"start when that one is done": an intervention can wait on another, never in a circle, and when that one
is carried out the owner of every intervention waiting on it is told at once (bot.interventions.progress).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import audit, clock
from bot.authz import Principal
from bot.config import Settings
from bot.i18n import N_
from bot.interventions import messages
from bot.interventions.dates import Window
from bot.interventions.models import Intervention, InterventionStatus
from bot.interventions.planning import PURPOSE_PLAN
from bot.interventions.problems import InterventionError
from bot.interventions.reading import get, id_of
from bot.interventions.rules import Outcome, locked_to_plan, record_change, window_problems

S = InterventionStatus


def set_window(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    window: Window,
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    now = now or clock.now(session)
    intervention = locked_to_plan(session, actor, intervention_id)
    problems = window_problems(window, now=now)
    if problems:
        raise problems[0]
    if (intervention.window_start, intervention.window_end, intervention.window_has_time) == (
        window.start,
        window.end,
        window.has_time,
    ):
        return Outcome(intervention, changed=False)
    intervention.window_start, intervention.window_end = window.start, window.end
    intervention.window_has_time = window.has_time
    intervention.last_reminded_on = None  # a new day: its reminders start afresh
    record_change(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.window_set",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose=PURPOSE_PLAN,
        details={"start": window.start.isoformat(), "end": window.end.isoformat() if window.end else None},
    )
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="window", actor_user_id=actor.user_id
    )
    messages.announce_window(session, settings=settings, intervention=intervention)
    return Outcome(intervention, changed=True)


def set_dependency(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    depends_on_id: int | None,
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    """ "Start when intervention N is done" — refused on itself and when it would close a circle."""
    now = now or clock.now(session)
    intervention = locked_to_plan(session, actor, intervention_id)
    if depends_on_id == intervention.depends_on_id:
        return Outcome(intervention, changed=False)
    if depends_on_id is not None:
        if depends_on_id == intervention.id:
            raise InterventionError(
                N_("%(code)s cannot wait for itself."), field="after", code=intervention.code
            )
        before = get(session, intervention_id=depends_on_id)
        if before.status is S.GEANNULEERD:
            raise InterventionError(
                N_("%(code)s was called off: nothing can wait for it."), field="after", code=before.code
            )
        chain = [intervention.code, before.code]
        current: Intervention | None = before
        seen = {intervention.id}
        while current is not None and current.depends_on_id is not None:
            if current.depends_on_id in seen:
                raise InterventionError(
                    N_("That would make a circle: %(chain)s. An intervention cannot wait for itself."),
                    field="after",
                    chain=" → ".join([*chain, intervention.code]),
                )
            seen.add(current.id)
            current = session.get(Intervention, current.depends_on_id)
            if current is not None:
                chain.append(current.code)
    previous = intervention.depends_on_id
    intervention.depends_on_id = depends_on_id
    record_change(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.dependency_set",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose=PURPOSE_PLAN,
        details={"from": previous, "to": depends_on_id},
    )
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="dependency", actor_user_id=actor.user_id
    )
    return Outcome(intervention, changed=True)
