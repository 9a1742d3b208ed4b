"""The messages about interventions, queued through the outbox in the caller's transaction.

Each is a template reference rendered at send time in the recipient's language, under a unique key:
a change's thread post is keyed by the intervention's version, a reminder by the owner's local day, a
"your turn" by the pair of interventions, so none can be queued twice. Text people typed that goes to
a channel passes bot.pii first; restricted fields (result, effect) never go anywhere here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot import pii
from bot.cases import service as cases
from bot.cases.models import Case
from bot.config import Settings
from bot.i18n import language_for
from bot.interventions.models import (
    ACTIVE_STATUSES,
    STATUS_LABELS,
    Intervention,
    InterventionAsk,
    next_steps,
)
from bot.outbox import Priority, cancel, enqueue, ts_of
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.partners.models import Partner, PersonRef
from bot.people import get_person
from bot.vocabulary import CONTRIBUTION_LABELS, FOCUS_LABELS, INSTRUMENT_TYPE_LABELS


def reminders_ref(intervention_id: int) -> str:
    """What pending reminders of one intervention are filed under (cancelled when it is finished)."""
    return f"intervention:{intervention_id}:reminders"


def window_ref(intervention_id: int) -> str:
    """What the pending announcement of one intervention's window is filed under."""
    return f"intervention:{intervention_id}:window"


def cancel_pending(session: Session, *, intervention_id: int) -> None:
    """A finished or called-off intervention needs no more reminders or announcements."""
    cancel(session, ref=reminders_ref(intervention_id))
    cancel(session, ref=window_ref(intervention_id))


def language_of(session: Session, person: PersonRef, default: str) -> str:
    found = get_person(session, team_id=person.team_id, user_id=person.user_id)
    return language_for(found.locale if found else None, default)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def summary(
    session: Session,
    intervention: Intervention,
    *,
    for_channel: bool,
    partner: Partner | None = None,
    case: Case | None = None,
) -> dict[str, Any]:
    """What every message shows of an intervention (JSON-safe: it is stored with the outbox row).
    Without a case (an independent intervention) `case_id` and `case_title` are None."""
    partner = partner or session.get(Partner, intervention.owner_partner_id)
    if case is None and intervention.case_id is not None:
        case = session.get(Case, intervention.case_id)
    instrument = pii.redact(intervention.instrument) if for_channel else intervention.instrument
    return {
        "id": intervention.id,
        "code": intervention.code,
        "instrument": instrument,
        "instrument_type": INSTRUMENT_TYPE_LABELS[intervention.instrument_type],
        "focus": FOCUS_LABELS[intervention.focus_element],
        "partner": partner.name if partner else "?",
        "owner": intervention.owner_user_id,
        "round": intervention.round,
        "status": STATUS_LABELS[intervention.status],
        "status_code": intervention.status.value,
        "steps": [status.value for status in next_steps(intervention)],
        "case_id": intervention.case_id,
        "case_title": (pii.redact(case.title) if for_channel else case.title) if case else None,
        "start": _iso(intervention.window_start),
        "end": _iso(intervention.window_end),
        "has_time": intervention.window_has_time,
    }


def post_to_case(
    session: Session,
    *,
    settings: Settings,
    intervention: Intervention,
    event: str,
    actor_user_id: str,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Post a change in the case's thread (or the partnership channel when the case has none yet).

    An independent intervention is posted nowhere: need to know is its owner partner, the partners that
    joined and the coordinators, not the whole channel (its owner hears of it in direct messages)."""
    if intervention.case_id is None:
        return False
    case = session.get(Case, intervention.case_id)
    channel = (case.thread_channel if case else None) or settings.samen_partnership_channel
    if channel is None:
        return False
    args: dict[str, Any] = {"channel": channel}
    if case is not None and case.thread_channel:
        thread = _case_thread(session, case)
        if thread is not None:
            args["thread_ts"] = thread
    context = {
        "iv": summary(session, intervention, for_channel=True),
        "event": event,
        "actor": actor_user_id,
        **(extra or {}),
    }
    return enqueue(
        session,
        key=f"intervention:{intervention.id}:v{intervention.version}:thread",
        method="chat.postMessage",
        lane=channel,
        args=args,
        template="intervention_thread.json.j2",
        language=settings.samen_language,
        context=context,
    )


def _case_thread(session: Session, case: Case) -> str | dict[str, str] | None:
    """The case's thread: its ts when known, else a reference the outbox fills in once the case's own
    message (queued earlier on the same lane) is posted; None when there is no such message."""
    if case.thread_ts:
        return case.thread_ts
    assert case.id is not None
    key = cases.message_key(case.id)
    queued = session.exec(select(OutboxMessage.status).where(OutboxMessage.key == key)).first()
    if queued is None or queued in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
        return None
    return cases.thread_ts(session, case) or ts_of(key)


def send_to_person(
    session: Session,
    *,
    settings: Settings,
    person: PersonRef,
    key: str,
    template: str,
    context: dict[str, Any],
    priority: int = Priority.NORMAL,
    not_before: datetime | None = None,
    ref: str | None = None,
    language: str | None = None,
) -> bool:
    """Queue a direct message, in the person's language (looked up unless the caller knows it)."""
    return enqueue(
        session,
        key=key,
        method="chat.postMessage",
        lane=person.user_id,
        args={"channel": person.user_id},
        template=template,
        language=language or language_of(session, person, settings.samen_language),
        context=context,
        priority=priority,
        not_before=not_before,
        ref=ref,
    )


def tell_new_owner(
    session: Session, *, settings: Settings, intervention: Intervention, by_user_id: str, event: str
) -> bool:
    """The owner learns that an intervention is theirs (proposed to them, or handed over)."""
    owner = PersonRef(intervention.owner_team_id, intervention.owner_user_id)
    return send_to_person(
        session,
        settings=settings,
        person=owner,
        key=f"intervention:{intervention.id}:v{intervention.version}:owner",
        template="intervention_assigned.json.j2",
        context={
            "iv": summary(session, intervention, for_channel=False),
            "by": by_user_id,
            "event": event,
            "after": waits_on(session, intervention),
        },
    )


def waits_on(session: Session, intervention: Intervention) -> dict[str, str] | None:
    """The intervention this one waits on while that is not carried out yet: its code and owner partner,
    so the owner knows why it cannot start and that they will hear it (bot.interventions.progress.finish)."""
    if intervention.depends_on_id is None:
        return None
    before = session.get(Intervention, intervention.depends_on_id)
    if before is None or before.status not in ACTIVE_STATUSES:
        return None
    partner = session.get(Partner, before.owner_partner_id)
    return {"code": before.code, "partner": partner.name if partner else "?"}


def announce_window(session: Session, *, settings: Settings, intervention: Intervention) -> None:
    """The owner is told when the window starts; a changed window replaces the announcement."""
    assert intervention.id is not None
    cancel(session, ref=window_ref(intervention.id))
    if intervention.window_start is None or not intervention.window_has_time:
        return
    send_to_person(
        session,
        settings=settings,
        person=PersonRef(intervention.owner_team_id, intervention.owner_user_id),
        key=f"intervention:{intervention.id}:v{intervention.version}:window",
        template="intervention_window.json.j2",
        context={"iv": summary(session, intervention, for_channel=False)},
        not_before=intervention.window_start,
        ref=window_ref(intervention.id),
    )


def tell_turn(
    session: Session, *, settings: Settings, done: Intervention, waiting: Intervention, by_user_id: str
) -> bool:
    """Timed chains: the predecessor is done, so it is the waiting intervention's owner's turn. Urgent."""
    return send_to_person(
        session,
        settings=settings,
        person=PersonRef(waiting.owner_team_id, waiting.owner_user_id),
        key=f"intervention:{done.id}:turn:{waiting.id}",
        template="intervention_turn.json.j2",
        context={
            "done": summary(session, done, for_channel=False),
            "iv": summary(session, waiting, for_channel=False),
            "by": by_user_id,
            "done_at": _iso(done.done_at),
        },
        priority=Priority.URGENT,
    )


def celebrate(session: Session, *, settings: Settings, intervention: Intervention) -> bool:
    """A success goes to the partnership channel, with its focus element: celebrate, keep momentum."""
    channel = settings.samen_partnership_channel
    if channel is None:
        return False
    return enqueue(
        session,
        key=f"intervention:{intervention.id}:success",
        method="chat.postMessage",
        lane=channel,
        args={"channel": channel},
        template="intervention_success.json.j2",
        language=settings.samen_language,
        context={"iv": summary(session, intervention, for_channel=True)},
    )


def ask_ref(intervention_id: int) -> str:
    return f"intervention:{intervention_id}:asks"


def ask_partner(
    session: Session, *, settings: Settings, intervention: Intervention, ask: InterventionAsk, by: str
) -> None:
    """A partner asked to join hears it through its contacts (its lead, else its duty contacts, else its
    first members: bot.signals.notices.contacts_of), each with a button to accept."""
    from bot.signals.notices import contacts_of

    partner = session.get(Partner, ask.partner_id)
    if partner is None:
        return
    context = {
        "iv": summary(session, intervention, for_channel=False),
        "by": by,
        "partner": partner.name,
        "contribution": CONTRIBUTION_LABELS[ask.contribution],
    }
    for person in contacts_of(session, partner):
        send_to_person(
            session,
            settings=settings,
            person=person,
            key=f"intervention:{intervention.id}:ask:{ask.partner_id}:{person.user_id}",
            template="intervention_ask.json.j2",
            context=context,
            ref=ask_ref(intervention.id or 0),
        )


def tell_joined(
    session: Session, *, settings: Settings, intervention: Intervention, ask: InterventionAsk, by: str
) -> bool:
    """The owner learns that an asked partner joined, and with what."""
    partner = session.get(Partner, ask.partner_id)
    return send_to_person(
        session,
        settings=settings,
        person=PersonRef(intervention.owner_team_id, intervention.owner_user_id),
        key=f"intervention:{intervention.id}:joined:{ask.partner_id}",
        template="intervention_joined.json.j2",
        context={
            "iv": summary(session, intervention, for_channel=False),
            "by": by,
            "partner": partner.name if partner else "?",
            "contribution": CONTRIBUTION_LABELS[ask.contribution],
        },
    )
