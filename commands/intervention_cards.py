"""What the intervention listeners show: an intervention's card and a list's items, a problem with what to
do next (what the partner carries, an override for a coordinator, planning round 2, whom to ask), and the
answer after a change, where the person clicked (their App Home, or the message they clicked in)."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any, Final, Literal

from pydantic import BaseModel
from sqlmodel import Session

from bot.authz import NotAllowed
from bot.interventions import messages
from bot.interventions import reading as interventions
from bot.interventions.models import STATUS_LABELS, Intervention, InterventionStatus, next_steps
from bot.interventions.problems import CapacityExceeded, NotOwner, SecondRoundMissing
from bot.partners import service as partners
from bot.partners.models import Member
from bot.problems import Problem
from bot.slack.interaction import Interaction, Number, metadata_json
from bot.slack.unfurl import NoUnfurlRespond
from bot.slack.urls import is_response_url
from bot.vocabulary import CONTRIBUTION_LABELS
from commands.home import publish_home

logger = logging.getLogger(__name__)

CODE: Final = re.compile(r"^(?:i-?|#)?(\d{1,9})$", re.IGNORECASE)
# A domain field that is not a block of the form has the block it belongs to.
BLOCKS = {"joining": "joining_SPELER_IN_POSITIE", "window": "window_day"}


class Origin(BaseModel):
    """Where a click came from, so that the answer after its form goes back there."""

    home: bool = False
    response_url: str | None = None


class Override(BaseModel):
    """The override button's value: a coordinator goes ahead anyway, with a reason."""

    id: Number
    to: InterventionStatus
    kind: Literal["capacity", "second_round"]


def code_number(text: str) -> int | None:
    """The number in an intervention's code as typed: I-12, i12, #12 or 12; None for anything else."""
    found = CODE.match(text.strip())
    return int(found.group(1)) if found else None


def block_of(field: str) -> str:
    return BLOCKS.get(field, field)


def origin_of(i: Interaction) -> Origin:
    """Where the click came from: the App Home, or a message (its response_url)."""
    if i.in_home:
        return Origin(home=True)
    return Origin(response_url=i.response_url)


def card_context(session: Session, actor: Member | None, intervention: Intervention) -> dict[str, Any]:
    """What intervention_card.json.j2 shows: the intervention, who joins and is asked, what it waits for,
    and the restricted result for those who may read it (the read is logged)."""
    shown = interventions.read_result(session, actor=actor, intervention=intervention) if actor else None
    before = session.get(Intervention, intervention.depends_on_id) if intervention.depends_on_id else None
    names = {p.id: p.name for p in partners.list_partners(session)}
    number = intervention.id or 0
    joining = [
        {"partner": names.get(j.partner_id, "?"), "contribution": CONTRIBUTION_LABELS[j.contribution]}
        for j in interventions.joining_of(session, intervention_id=number)
    ]
    asked = [
        {"partner": names.get(a.partner_id, "?"), "contribution": CONTRIBUTION_LABELS[a.contribution]}
        for a in interventions.asked_of(session, intervention_id=number)
        if a.accepted_at is None
    ]
    return {
        "asked": asked,
        "subject": interventions.subject_code_of(session, intervention_id=number),
        "iv": messages.summary(session, intervention, for_channel=False),
        "steps": [status.value for status in next_steps(intervention)],
        "after": {"code": before.code, "status": STATUS_LABELS[before.status]} if before else None,
        "joining": joining,
        "result": shown[0] if shown else None,
        "effect": shown[1] if shown else None,
        "reason": intervention.cancel_reason,
    }


def list_item(
    session: Session, intervention: Intervention, related: interventions.Related | None = None
) -> dict[str, Any]:
    """One line of a list; `related`: its partner and case read for the whole list (interventions.related)."""
    steps = [status.value for status in next_steps(intervention)]
    partner = related.partner_of(intervention) if related else None
    case = related.case_of(intervention) if related else None
    iv = messages.summary(session, intervention, for_channel=False, partner=partner, case=case)
    return {"iv": iv, "steps": steps}


# --- problems ------------------------------------------------------------------------------------------


def answering(
    handler: Callable[[Interaction], None], *, default_field: str | None = None
) -> Callable[[Interaction], None]:
    """Run `handler`; a problem it raises is shown with what an intervention's problem offers next (in a
    form: under its field, else under `default_field`)."""

    @functools.wraps(handler)
    def run(i: Interaction) -> None:
        try:
            handler(i)
        except Problem as problem:
            show_problem(i, problem, default_field=default_field)

    return run


def show_problem(
    i: Interaction,
    problem: Problem,
    *,
    step: tuple[int, InterventionStatus] | None = None,
    default_field: str | None = None,
) -> None:
    """Tell the person what went wrong and what to do next: the open interventions when the partner is at
    its capacity, planning round 2 when it is missing; a coordinator may override (on `step`: the
    intervention and the status it was to get), anyone else is told whom to ask."""
    extra: dict[str, Any] = {"open": [], "override": None, "plan_round2": None, "ask": None}
    if isinstance(problem, CapacityExceeded):
        extra["open"] = problem.open
    if isinstance(problem, SecondRoundMissing):
        extra["plan_round2"] = str(problem.case_id)
    if isinstance(problem, CapacityExceeded | SecondRoundMissing) and problem.can_override:
        if step is not None:
            kind: Literal["capacity", "second_round"] = (
                "capacity" if isinstance(problem, CapacityExceeded) else "second_round"
            )
            extra["override"] = metadata_json(Override(id=step[0], to=step[1], kind=kind))
    elif isinstance(problem, CapacityExceeded | SecondRoundMissing | NotAllowed | NotOwner):
        extra["ask"] = i.coordinators()
    i.show(
        problem,
        template="intervention_problem.json.j2",
        default_field=default_field,
        block_of=block_of,
        **extra,
    )


# --- after a change ------------------------------------------------------------------------------------


def answer_card(i: Interaction, card: dict[str, Any], *, changed: bool) -> None:
    """After a click: the Home shows the change, a card or a reminder becomes the intervention as it is
    now, and a list gets a new message (so that it keeps its place). Answered before the click is
    acknowledged: whatever the person does next finds the answer there."""
    if i.in_home:
        refresh_home(i)
        return
    message = i.render("intervention_card.json.j2", **card, changed=changed)
    answer_in_place(i, message, replace=not str(i.action.get("block_id") or "").startswith("ivlist_"))


def answer_in_place(i: Interaction, message: dict[str, Any], *, replace: bool = True) -> None:
    """Answer a click in its conversation, seen by the person alone (in place of what they clicked:
    `replace`), before the click is acknowledged."""
    if i.response_url:
        i.respond(
            text=message.get("text", ""),
            blocks=message.get("blocks"),
            response_type="ephemeral",
            replace_original=replace,
        )


def after_change(i: Interaction, origin: Origin, card: dict[str, Any]) -> None:
    """After a form: show the intervention as it is now where the person clicked to open it."""
    if origin.home:
        refresh_home(i)
    elif is_response_url(origin.response_url, i.services.settings):  # Slack's, not a forged one
        message = i.render("intervention_card.json.j2", **card, changed=True)
        try:
            NoUnfurlRespond(response_url=origin.response_url)(
                text=message.get("text", ""),
                blocks=message.get("blocks"),
                response_type="ephemeral",
                replace_original=True,
            )
        except Exception:  # the response_url may have expired (30 minutes): the change stands
            logger.info("could not update the message the change came from")


def refresh_home(i: Interaction) -> None:
    publish_home(i.client, i.for_home(i.actor, i.language))
