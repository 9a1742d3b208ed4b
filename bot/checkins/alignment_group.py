"""An alignment's group conversation: its live message (who takes part, the time slots and who can make
them, what was agreed), the slots voted on, the agreements recorded, and an agreement made an intervention.

The chat edge opens the conversation with the people `alignment.group_of` (or `answer_invite`) gives;
`started` records it and queues the group's message through the outbox; every vote and agreement after
that queues an edit of the same message. Only the people in the group act here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import audit, clock
from bot.authz import Action, authorize
from bot.calendar import at_local, local_date, next_working_day
from bot.cases.models import CaseSubject
from bot.checkins import alignment as alignments
from bot.checkins.models import (
    Alignment,
    AlignmentAgreement,
    AlignmentInvite,
    AlignmentStatus,
    AlignmentVote,
)
from bot.checkins.problems import CheckinError, refuse_personal_data
from bot.checkins.timing import shown_time
from bot.config import Settings
from bot.i18n import N_
from bot.interventions import reading
from bot.outbox import enqueue, ts_of
from bot.partners import service as partners
from bot.partners.models import Member, PersonRef
from bot.problems import Problem, Problems
from bot.subjects.models import Subject
from bot.vocabulary import SUBJECT_KIND_LABELS

MAX_WHAT: Final = 200
MAX_AGREEMENTS_SHOWN: Final = 20
SLOT_MINUTES: Final = 15
SLOT_TIMES: Final = (time(9, 0), time(13, 30))


def started(
    session: Session,
    *,
    actor: Member,
    alignment_id: int,
    conversation_id: str,
    settings: Settings,
    now: datetime | None = None,
) -> bool:
    """Record the group conversation Slack opened and post the group's message there; False if it was
    already posted there (a second click)."""
    now = now or clock.now(session)
    alignment = alignments.get(session, alignment_id)
    people = alignments.people_of(session, alignment)
    invited = session.get(AlignmentInvite, (alignment_id, actor.team_id, actor.user_id))
    if invited is None:  # the last to answer opens it, even by declining; else someone in the group
        alignments.require_in_group(alignment, people, actor)
    if alignment.conversation_id == conversation_id:
        return False
    first = alignment.status is AlignmentStatus.GEVRAAGD
    alignment.status = AlignmentStatus.GESTART
    alignment.conversation_id = conversation_id
    alignment.started_at = alignment.started_at or now
    if alignment.slots is None:
        alignment.slots = json.dumps([s.isoformat() for s in propose_slots(now, settings.timezone)])
    alignment.version += 1
    session.add(alignment)
    session.flush()
    enqueue(
        session,
        key=group_key(alignment),
        method="chat.postMessage",
        lane=conversation_id,
        args={"channel": conversation_id},
        template="alignment_group.json.j2",
        language=alignment.language,
        context=board(session, alignment, settings),
        ref=alignments.alignment_ref(alignment),
    )
    audit.record(
        session,
        actor=actor,
        action="alignment.started" if first else "alignment.reopened",
        object_type="alignment",
        object_id=alignment_id,
        purpose=alignments.PURPOSE,
        details={"people": len(people)},
    )
    return True


def group_key(alignment: Alignment) -> str:
    return f"alignment:{alignment.id}:group:{alignment.conversation_id}"


def propose_slots(now: datetime, zone: ZoneInfo) -> list[datetime]:
    """A few short slots on the next working days: 09:00 and 13:30 on the first, 09:00 on the second."""
    first = next_working_day(local_date(now, zone))
    second = next_working_day(first)
    return [
        at_local(first, SLOT_TIMES[0], zone),
        at_local(first, SLOT_TIMES[1], zone),
        at_local(second, SLOT_TIMES[0], zone),
    ]


def board(session: Session, alignment: Alignment, settings: Settings) -> dict[str, Any]:
    """The group's live message: who takes part, the slots and who can make them, what was agreed."""
    subject = session.get(Subject, alignment.subject_id)
    people = alignments.people_of(session, alignment)
    names = {p.id: p.name for p in partners.list_partners(session)}
    member_partner = {}
    for person in people:
        member = partners.find_member(session, team_id=person.team_id, user_id=person.user_id)
        member_partner[person.user_id] = names.get(member.partner_id, "?") if member else "?"
    votes = session.exec(select(AlignmentVote).where(AlignmentVote.alignment_id == alignment.id)).all()
    zone = settings.timezone
    slots = []
    for index, iso in enumerate(json.loads(alignment.slots or "[]")):
        start = datetime.fromisoformat(iso)
        who = sorted(v.user_id for v in votes if v.slot == index)
        slots.append(
            {
                "index": index,
                "day": shown_time(start, zone, alignment.language, "EEEE d MMMM"),
                "start": shown_time(start, zone, alignment.language, "HH:mm"),
                "end": shown_time(start + timedelta(minutes=SLOT_MINUTES), zone, alignment.language, "HH:mm"),
                "who": who,
                "everyone": len(who) >= len(people) and len(people) > 0,
            }
        )
    agreements = session.exec(
        select(AlignmentAgreement)
        .where(AlignmentAgreement.alignment_id == alignment.id)
        .order_by(col(AlignmentAgreement.id))
    ).all()
    return {
        "alignment_id": alignment.id,
        "code": subject.code if subject else "?",
        "kind": SUBJECT_KIND_LABELS[subject.kind] if subject else "",
        "topic": alignment.topic or "",
        "caller": alignment.called_by_user_id,
        "people": [{"user": p.user_id, "partner": member_partner[p.user_id]} for p in people],
        "slots": slots,
        "agreements": [
            {
                "id": a.id,
                "what": a.what,
                "owner": a.owner_user_id,
                "partner": names.get(a.owner_partner_id, "?"),
                "due": shown_time(at_local(a.due_on, time(12), zone), zone, alignment.language, "EEEE d MMMM")
                if a.due_on
                else None,
            }
            for a in agreements[-MAX_AGREEMENTS_SHOWN:]
        ],
        "more_agreements": max(0, len(agreements) - MAX_AGREEMENTS_SHOWN),
    }


def _refresh_board(session: Session, alignment: Alignment, settings: Settings) -> None:
    """Queue an edit of the group's message with its current state (one outbox row per version)."""
    if alignment.conversation_id is None:
        return
    alignment.version += 1
    session.add(alignment)
    session.flush()
    enqueue(
        session,
        key=f"{group_key(alignment)}:v{alignment.version}",
        method="chat.update",
        lane=alignment.conversation_id,
        args={"channel": alignment.conversation_id, "ts": ts_of(group_key(alignment))},
        template="alignment_group.json.j2",
        language=alignment.language,
        context=board(session, alignment, settings),
        ref=alignments.alignment_ref(alignment),
    )


# --- in the group ------------------------------------------------------------------------------------------


def vote(session: Session, *, actor: Member, alignment_id: int, slot: int, settings: Settings) -> bool:
    """Say a slot suits you, or click again to take that back. True: it now suits you."""
    alignment = alignments.get(session, alignment_id)
    alignments.require_in_group(alignment, alignments.people_of(session, alignment), actor)
    slots = json.loads(alignment.slots or "[]")
    if not 0 <= slot < len(slots):
        raise CheckinError(N_("This time slot does not exist."))
    existing = session.get(AlignmentVote, (alignment_id, slot, actor.team_id, actor.user_id))
    if existing is None:
        session.add(
            AlignmentVote(alignment_id=alignment_id, slot=slot, team_id=actor.team_id, user_id=actor.user_id)
        )
    else:
        session.delete(existing)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alignment.slot_chosen" if existing is None else "alignment.slot_unchosen",
        object_type="alignment",
        object_id=alignment_id,
        purpose=alignments.PURPOSE,
        details={"slot": slot},
    )
    _refresh_board(session, alignment, settings)
    return existing is None


@dataclass(frozen=True)
class AgreementInput:
    what: str
    owner: PersonRef
    due_on: date | None
    submission_key: str | None = None


def record_agreement(
    session: Session,
    *,
    actor: Member,
    alignment_id: int,
    data: AgreementInput,
    settings: Settings,
    now: datetime | None = None,
) -> tuple[AlignmentAgreement, bool]:
    """Record who does what, by when; the same modal submitted twice records it once."""
    now = now or clock.now(session)
    authorize(actor, Action.RECORD_AGREEMENT)
    alignment = alignments.get(session, alignment_id)
    alignments.require_in_group(alignment, alignments.people_of(session, alignment), actor)
    if data.submission_key:
        existing = session.exec(
            select(AlignmentAgreement).where(AlignmentAgreement.submission_key == data.submission_key)
        ).first()
        if existing is not None:
            return existing, False
    problems: list[Problem] = []
    what = " ".join((data.what or "").split())
    if not what:
        problems.append(CheckinError(N_("Say what will be done."), field="what"))
    elif len(what) > MAX_WHAT:
        problems.append(CheckinError(N_("Keep it to %(limit)s characters."), field="what", limit=MAX_WHAT))
    refuse_personal_data(what, "what", problems, alignments.PERSONAL_DATA)
    owner = partners.find_member(session, team_id=data.owner.team_id, user_id=data.owner.user_id) or (
        partners.find_member_by_user(session, user_id=data.owner.user_id)
    )
    if owner is None:
        problems.append(
            CheckinError(N_("%(person)s is not a member of the partnership."), field="who", person=data.owner)
        )
    if data.due_on is not None and data.due_on < local_date(now, settings.timezone):
        problems.append(CheckinError(N_("This date is in the past."), field="when"))
    if problems:
        raise Problems(problems)
    assert owner is not None
    agreement = AlignmentAgreement(
        alignment_id=alignment_id,
        what=what,
        owner_team_id=owner.team_id,
        owner_user_id=owner.user_id,
        owner_partner_id=owner.partner_id,
        due_on=data.due_on,
        submission_key=data.submission_key,
        created_by_team_id=actor.team_id,
        created_by_user_id=actor.user_id,
        created_at=now,
    )
    session.add(agreement)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alignment.agreement_recorded",
        object_type="alignment",
        object_id=alignment_id,
        purpose=alignments.PURPOSE,
        details={"agreement_id": agreement.id, "owner_partner_id": owner.partner_id},
    )
    _refresh_board(session, alignment, settings)
    return agreement, True


@dataclass(frozen=True)
class ToIntervention:
    agreement: AlignmentAgreement
    case_id: int
    owner_partner_id: int


def agreement_to_intervention(session: Session, *, actor: Member, agreement_id: int) -> ToIntervention:
    """What the intervention form is filled with for an agreement: an open case on the subject that the
    person may plan on (issue 5's rule), the owner and their partner."""
    agreement = session.get(AlignmentAgreement, agreement_id)
    if agreement is None:
        raise CheckinError(N_("This agreement does not exist (any more)."))
    alignment = alignments.get(session, agreement.alignment_id)
    alignments.require_in_group(alignment, alignments.people_of(session, alignment), actor)
    on_subject = set(
        session.exec(select(CaseSubject.case_id).where(CaseSubject.subject_id == alignment.subject_id)).all()
    )
    cases = [c for c in reading.cases_for(session, actor=actor) if c.id in on_subject]
    if not cases:
        subject = session.get(Subject, alignment.subject_id)
        raise CheckinError(
            N_(
                "There is no open case on %(code)s that your partner is on. A case is opened from a weighed "
                "signal; then this agreement can become an intervention."
            ),
            code=subject.code if subject else "?",
        )
    return ToIntervention(agreement, cases[0].id or 0, agreement.owner_partner_id)
