"""The buttons on an intervention (in its card, a list, a reminder, the App Home) and the small forms some
of them open: the result when it is carried out, the reason to call it off or to override a limit, the
member it is handed over to. Each change commits before the click is acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from bot.i18n import N_
from bot.interventions import messages, progress, timing
from bot.interventions.dates import Window
from bot.interventions.models import InterventionStatus
from bot.interventions.planning import accept_ask
from bot.interventions.problems import CapacityExceeded
from bot.interventions.reading import get
from bot.interventions.rules import CLOSING, check_may_close
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.problems import Problem, describe
from bot.slack.interaction import Interaction, Number, metadata_json
from commands.intervention_cards import (
    Origin,
    Override,
    after_change,
    answer_card,
    answer_in_place,
    card_context,
    origin_of,
    show_problem,
)
from commands.intervention_forms import new_intervention_view

S = InterventionStatus
STEP_ACTION = "intervention_to_"
STEPS = {status.value: status for status in S}


class Closing(BaseModel):
    """A closing form's private_metadata: which intervention, where the click came from, and for the
    reason form what the reason is for (calling off, or overriding a limit on the way to `to`)."""

    id: Number
    origin: Origin = Origin()
    to: InterventionStatus | None = None
    kind: Literal["cancel", "capacity", "second_round"] | None = None


class WindowValue(BaseModel):
    """The "yes, set this window" button's value: the window as it was read back to the person."""

    id: Number
    s: datetime
    e: datetime | None = None
    t: bool


# --- buttons -------------------------------------------------------------------------------------------


def click_step(i: Interaction) -> None:
    to = STEPS.get(str(i.action.get("action_id") or "").removeprefix(STEP_ACTION))
    if to is not None:  # else not a step Samen offers
        _step(i, i.number(), to)


def click_done(i: Interaction) -> None:
    _step(i, i.number(), S.UITGEVOERD)


def _step(i: Interaction, number: int, to: InterventionStatus) -> None:
    if to in CLOSING:
        # Both ask something first (the result; the reason): open the form while the trigger is fresh.
        _open_closing_form(i, number, to)
        return
    try:
        with i.session() as session:
            actor = i.require_member(session)
            outcome = progress.advance(
                session, actor=actor, intervention_id=number, to=to, settings=i.services.settings
            )
            card = card_context(session, actor, outcome.intervention)
    except Problem as problem:  # a coordinator may override a limit on the way to `to`
        show_problem(i, problem, step=(number, to))
        return
    answer_card(i, card, changed=outcome.changed)


def _open_closing_form(i: Interaction, number: int, to: InterventionStatus) -> None:
    with i.session(read_only=True) as session:
        actor = i.require_member(session)
        intervention = get(session, intervention_id=number)
        check_may_close(session, actor=actor, intervention=intervention, to=to)
        iv = messages.summary(session, intervention, for_channel=False)
    if to is S.UITGEVOERD:
        metadata = metadata_json(Closing(id=number, origin=origin_of(i)))
        i.open("intervention_finish.json.j2", iv=iv, metadata=metadata)
    else:
        metadata = metadata_json(Closing(id=number, to=to, kind="cancel", origin=origin_of(i)))
        i.open("intervention_reason.json.j2", iv=iv, kind="cancel", metadata=metadata)


def click_snooze(i: Interaction) -> None:
    span: Literal["day", "week"] = "day" if str(i.action.get("action_id")).endswith("day") else "week"
    with i.session() as session:
        actor = i.require_member(session)
        outcome = progress.snooze(
            session, actor=actor, intervention_id=i.number(), span=span, settings=i.services.settings
        )
        iv = messages.summary(session, outcome.intervention, for_channel=False)
        until = outcome.intervention.snoozed_until
    _done(i, "snoozed", iv, changed=outcome.changed, until=until.isoformat() if until else None)


def _done(i: Interaction, kind: str, iv: dict[str, object], *, changed: bool, **extra: object) -> None:
    """What is so now, in place of the message clicked in (a reminder, the proposed window)."""
    message = i.render(
        "intervention_done.json.j2", kind=kind, iv=iv, changed=changed, after=None, window=None, **extra
    )
    answer_in_place(i, message)


def click_handover(i: Interaction) -> None:
    number = i.number()
    with i.session(read_only=True) as session:
        actor = i.require_member(session)
        intervention = get(session, intervention_id=number)
        check_may_close(session, actor=actor, intervention=intervention, to=None)
        iv = messages.summary(session, intervention, for_channel=False)
    metadata = metadata_json(Closing(id=number, origin=origin_of(i)))
    i.open("intervention_handover.json.j2", iv=iv, metadata=metadata)


def click_override(i: Interaction) -> None:
    """A coordinator goes ahead anyway: the form asks the reason (recorded in the log)."""
    override = i.metadata(Override, source=i.value)
    with i.session(read_only=True) as session:
        iv = messages.summary(session, get(session, intervention_id=override.id), for_channel=False)
    metadata = metadata_json(Closing(id=override.id, to=override.to, kind=override.kind, origin=origin_of(i)))
    i.open("intervention_reason.json.j2", iv=iv, kind=override.kind, metadata=metadata)


def click_plan_round2(i: Interaction) -> None:
    case_id = i.number()
    with i.session(read_only=True) as session:
        view = new_intervention_view(session, i, i.require_member(session), case_id=case_id, round_=2)
    i.open(view)


def click_window_confirm(i: Interaction) -> None:
    chosen = i.metadata(WindowValue, source=i.value)
    window = Window(start=chosen.s, end=chosen.e, has_time=chosen.t)
    with i.session() as session:
        actor = i.require_member(session)
        outcome = timing.set_window(
            session, actor=actor, intervention_id=chosen.id, window=window, settings=i.services.settings
        )
        iv = messages.summary(session, outcome.intervention, for_channel=False)
    _done(i, "window_set", iv, changed=outcome.changed)


def click_join(i: Interaction) -> None:
    """An asked partner accepts: it joins with the contribution it was asked for."""
    with i.session() as session:
        actor = i.require_member(session)
        outcome = accept_ask(session, actor=actor, intervention_id=i.number(), settings=i.services.settings)
        card = card_context(session, actor, outcome.intervention)
    answer_card(i, card, changed=outcome.changed)


# --- the closing forms ---------------------------------------------------------------------------------


def submit_finish(i: Interaction) -> None:
    data = i.metadata(Closing)
    form = i.form
    with i.session() as session:
        actor = i.require_member(session)
        outcome = progress.finish(
            session,
            actor=actor,
            intervention_id=data.id,
            settings=i.services.settings,
            result=form.text("result") or "",
            effect=form.text("effect"),
            success="success" in form.choices("success"),
            lesson=form.text("lesson"),
        )
        card = card_context(session, actor, outcome.intervention)
    view = i.render(
        "intervention_saved.json.j2",
        iv=card["iv"],
        kind="finished",
        changed=outcome.changed,
        told=list(outcome.told),
    )
    i.update_view(view)
    after_change(i, data.origin, card)


def submit_reason(i: Interaction) -> None:
    data = i.metadata(Closing)
    reason = i.form.text("reason") or ""
    with i.session() as session:
        actor = i.require_member(session)
        if data.kind == "cancel":
            outcome = progress.cancel(
                session, actor=actor, intervention_id=data.id, reason=reason, settings=i.services.settings
            )
        else:
            to = data.to or S.IN_UITVOERING
            if to in CLOSING or to is S.VOORGESTELD:  # not a step this form takes
                to = S.IN_UITVOERING
            outcome = progress.advance(
                session,
                actor=actor,
                intervention_id=data.id,
                to=to,
                settings=i.services.settings,
                capacity_override=reason if data.kind == "capacity" else None,
                second_round_override=reason if data.kind == "second_round" else None,
            )
        card = card_context(session, actor, outcome.intervention)
    i.update_view(
        i.render("intervention_saved.json.j2", iv=card["iv"], kind="changed", changed=outcome.changed)
    )
    after_change(i, data.origin, card)


def submit_handover(i: Interaction) -> None:
    data = i.metadata(Closing)
    form = i.form
    user_id = form.choice("owner")
    if not user_id:
        raise Problem(N_("Choose the person who owns it."), field="owner")
    try:
        with i.session() as session:
            actor = i.require_member(session)
            member = partners.find_member_by_user(session, user_id=user_id)
            outcome = progress.hand_over(
                session,
                actor=actor,
                intervention_id=data.id,
                to=member.person if member is not None else PersonRef(actor.team_id, user_id),
                settings=i.services.settings,
                capacity_override=form.text("override"),
            )
            card = card_context(session, actor, outcome.intervention)
    except CapacityExceeded as full:  # the form has room for the list of what the partner carries
        listing = ", ".join(f"{iv['code']} {iv['instrument']}" for iv in full.open)
        i.field_errors({"owner": (describe(full, i.language, plain=True) + " " + listing)[:1900]})
        return
    i.update_view(
        i.render("intervention_saved.json.j2", iv=card["iv"], kind="handed_over", changed=outcome.changed)
    )
    after_change(i, data.origin, card)
