"""Ad-hoc alignment on one subject: bring together exactly the partners that have something on it.

Need to know: the person who calls it is not told which partners hold something. The partners that do
(a signal on the subject, its description, a case on it — leading or joined — or an intervention on such
a case) are asked privately, through their contact people, whether they want to join; only those who
join are put together in a group conversation, so no partner learns who else holds something unless
they joined too. In the group the bot proposes a few short time slots and keeps a live message with who
can make which slot and what was agreed (who does what, by when); an agreement becomes an intervention
through the interventions' own form (issue 5).

The group conversation is opened by the Slack layer (`conversations.open` with the people's ids) with the
list `group_of` gives; `started` then records it and queues the group's message through the outbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import audit, pii
from bot.authz import Action, Relation, Role, SystemActor, authorize, relation_to
from bot.calendar import at_local, local_date, next_working_day
from bot.checkins.models import (
    Alignment,
    AlignmentAgreement,
    AlignmentInvite,
    AlignmentStatus,
    AlignmentVote,
    InviteAnswer,
)
from bot.checkins.service import CheckinError, Problems, shown_time
from bot.clock import utcnow
from bot.config import Settings
from bot.i18n import N_, language_for
from bot.outbox import enqueue, ts_of
from bot.partners import service as partners
from bot.partners.models import Member, PersonRef
from bot.people import get_person
from bot.signals.models import Signal, SignalSubject, Subject
from bot.vocabulary import SUBJECT_KIND_LABELS

MAX_TOPIC: Final = 200
MAX_WHAT: Final = 200
MAX_GROUP: Final = 8  # Slack's limit on the people in a group conversation
MAX_AGREEMENTS_SHOWN: Final = 20
SLOT_MINUTES: Final = 15
SLOT_TIMES: Final = (time(9, 0), time(13, 30))
PURPOSE: Final = "ad-hoc alignment on a subject (/samen afstemmen)"


# --- who has something on a subject ---------------------------------------------------------------


def holders_of(session: Session, *, subject_id: int) -> set[int]:
    """The partners that have something on a subject: a signal, its description, a case on it (leading
    or joined), an intervention on such a case (owning or joining)."""
    from bot.cases.models import Case, CasePartner, CaseSubject

    holders = set(
        session.exec(
            select(Signal.partner_id)
            .join(SignalSubject, col(SignalSubject.signal_id) == col(Signal.id))
            .where(SignalSubject.subject_id == subject_id)
        ).all()
    )
    subject = session.get(Subject, subject_id)
    if subject is not None:
        holders.add(subject.partner_id)
    case_ids = list(
        session.exec(select(CaseSubject.case_id).where(CaseSubject.subject_id == subject_id)).all()
    )
    if case_ids:
        holders |= set(session.exec(select(Case.lead_partner_id).where(col(Case.id).in_(case_ids))).all())
        holders |= set(
            session.exec(select(CasePartner.partner_id).where(col(CasePartner.case_id).in_(case_ids))).all()
        )
        holders |= _intervention_partners(session, case_ids)
    return holders


def _intervention_partners(session: Session, case_ids: list[int]) -> set[int]:
    from bot.interventions.models import Intervention, InterventionPartner

    found = set(
        session.exec(
            select(Intervention.owner_partner_id).where(col(Intervention.case_id).in_(case_ids))
        ).all()
    )
    found |= set(
        session.exec(
            select(InterventionPartner.partner_id)
            .join(Intervention, col(Intervention.id) == col(InterventionPartner.intervention_id))
            .where(col(Intervention.case_id).in_(case_ids))
        ).all()
    )
    return found


# --- calling an alignment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Called:
    alignment: Alignment
    created: bool
    code: str


def call(
    session: Session,
    *,
    actor: Member | SystemActor,
    code: str,
    topic: str | None,
    settings: Settings,
    language: str,
    now: datetime | None = None,
) -> Called:
    """Ask the partners that have something on the subject whether they join an alignment on it.

    Once per subject, calling partner and day: a second call that day changes nothing.
    """
    from bot.signals import service as signals

    now = now or utcnow()
    if not isinstance(actor, Member):
        raise CheckinError(N_("An alignment is called by a member of the partnership."))
    try:
        subject = signals.require_subject(session, code)
    except signals.SignalError as problem:
        refused = CheckinError(problem.message)
        refused.values = dict(problem.values)
        raise refused from problem
    subject_id = subject.id or 0
    holders = holders_of(session, subject_id=subject_id)
    relation = relation_to(actor, actor.partner_id) if actor.partner_id in holders else Relation.OTHER
    if relation is Relation.OTHER and Role(actor.role) in partners.MANAGING_ROLES:
        relation = Relation.GIVEN_ACCESS  # the partnership's coordinators bring partners together
    authorize(actor, Action.CALL_ALIGNMENT, relation=relation)
    topic = " ".join((topic or "").split()) or None
    if topic is not None:
        problems: list[CheckinError] = []
        if len(topic) > MAX_TOPIC:
            problems.append(CheckinError(N_("Keep the topic to %(limit)s characters."), limit=MAX_TOPIC))
        _refuse_personal_data(topic, "topic", problems)
        if problems:
            raise problems[0]
    day = local_date(now, settings.timezone)
    existing = session.exec(
        select(Alignment).where(
            Alignment.subject_id == subject_id, Alignment.partner_id == actor.partner_id, Alignment.day == day
        )
    ).first()
    if existing is not None:
        return Called(existing, created=False, code=subject.code)
    others = sorted(holders - {actor.partner_id})
    if not others:
        raise CheckinError(
            N_("There is nobody to ask: no other partner has anything on %(code)s yet."), code=subject.code
        )
    alignment = Alignment(
        subject_id=subject_id,
        topic=topic,
        partner_id=actor.partner_id,
        called_by_team_id=actor.team_id,
        called_by_user_id=actor.user_id,
        day=day,
        language=language,
        created_at=now,
    )
    session.add(alignment)
    session.flush()
    caller = partners.get_partner(session, partner_id=actor.partner_id)
    from bot.signals.notices import contacts_of

    for partner_id in others:
        partner = partners.get_partner(session, partner_id=partner_id)
        for person in contacts_of(session, partner):
            if person == actor.person:
                continue
            session.add(
                AlignmentInvite(
                    alignment_id=_id(alignment),
                    team_id=person.team_id,
                    user_id=person.user_id,
                    partner_id=partner_id,
                )
            )
            _to_person(
                session,
                settings,
                person,
                key=f"alignment:{_id(alignment)}:invite:{person.user_id}",
                template="alignment_invite.json.j2",
                context={
                    "alignment_id": _id(alignment),
                    "code": subject.code,
                    "kind": SUBJECT_KIND_LABELS[subject.kind],
                    "topic": topic or "",
                    "caller": actor.user_id,
                    "caller_partner": caller.name,
                    "partner": partner.name,
                },
                ref=_ref(alignment),
            )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alignment.called",
        object_type="subject",
        object_id=subject_id,
        purpose=PURPOSE,
        details={"alignment_id": _id(alignment), "partners_asked": others},
    )
    return Called(alignment, created=True, code=subject.code)


def _refuse_personal_data(text: str, field_name: str, problems: list[CheckinError]) -> None:
    findings = pii.find(text)
    if findings:
        problems.append(
            CheckinError(
                N_(
                    "This is shown to the other partners: take out the personal data (%(kinds)s) and use "
                    "subject codes."
                ),
                field=field_name,
                kinds=tuple(pii.counts(findings)),
            )
        )


# --- joining --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    alignment: Alignment
    changed: bool
    joined: bool
    # Everyone answered and someone joined, or someone joined after the start: (re)open the group with
    # these people (the caller first). Empty: nothing to open.
    group: tuple[PersonRef, ...] = ()


def get(session: Session, alignment_id: int) -> Alignment:
    alignment = session.get(Alignment, alignment_id)
    if alignment is None:
        raise CheckinError(N_("This alignment does not exist (any more)."))
    return alignment


def answer_invite(
    session: Session,
    *,
    actor: Member,
    alignment_id: int,
    join: bool,
    settings: Settings,
    now: datetime | None = None,
) -> Answered:
    """Join or decline. Declining is told to nobody; joining is told to the person who called it."""
    now = now or utcnow()
    alignment = get(session, alignment_id)
    invite = session.get(AlignmentInvite, (alignment_id, actor.team_id, actor.user_id))
    if invite is None:
        raise CheckinError(N_("This invitation is not for you."))
    wanted = InviteAnswer.MEEDOEN if join else InviteAnswer.AFGESLAGEN
    if invite.answer is wanted or (invite.answer is InviteAnswer.MEEDOEN and not join):
        # Twice the same click changes nothing; who joined stays in (the group exists with them).
        return Answered(alignment, changed=False, joined=invite.answer is InviteAnswer.MEEDOEN)
    invite.answer = wanted
    invite.answered_at = now
    session.add(invite)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alignment.joined" if join else "alignment.declined",
        object_type="alignment",
        object_id=alignment_id,
        purpose=PURPOSE,
        details={"partner_id": actor.partner_id},
    )
    if join:
        subject = session.get(Subject, alignment.subject_id)
        partner = partners.get_partner(session, partner_id=actor.partner_id)
        _to_person(
            session,
            settings,
            PersonRef(alignment.called_by_team_id, alignment.called_by_user_id),
            key=f"alignment:{alignment_id}:joined:{actor.user_id}",
            template="alignment_joined.json.j2",
            context={
                "alignment_id": alignment_id,
                "code": subject.code if subject else "?",
                "person": actor.user_id,
                "partner": partner.name,
                "started": alignment.status is AlignmentStatus.GESTART,
            },
            ref=_ref(alignment),
        )
    invites = list(
        session.exec(select(AlignmentInvite).where(AlignmentInvite.alignment_id == alignment_id)).all()
    )
    everyone_answered = all(i.answer is not InviteAnswer.OPEN for i in invites)
    anyone_joined = any(i.answer is InviteAnswer.MEEDOEN for i in invites)
    late = join and alignment.status is AlignmentStatus.GESTART
    if late or (everyone_answered and anyone_joined and alignment.status is AlignmentStatus.GEVRAAGD):
        return Answered(
            alignment, changed=True, joined=join, group=tuple(_group(session, alignment)[:MAX_GROUP])
        )
    return Answered(alignment, changed=True, joined=join)


def check_takes_part(session: Session, *, actor: Member, alignment_id: int) -> None:
    """Before a form opens: only the people in the group record agreements."""
    alignment = get(session, alignment_id)
    _require_in_group(alignment, _group(session, alignment), actor)


def group_of(session: Session, *, actor: Member, alignment_id: int) -> list[PersonRef]:
    """Who goes into the group conversation when it is started by hand: the caller and everyone who
    joined (Slack allows 8)."""
    alignment = get(session, alignment_id)
    people = _group(session, alignment)
    _require_in_group(alignment, people, actor)
    if len(people) < 2:
        raise CheckinError(N_("Nobody has joined yet. You will hear it when someone does."))
    return people[:MAX_GROUP]


def _group(session: Session, alignment: Alignment) -> list[PersonRef]:
    joined = session.exec(
        select(AlignmentInvite)
        .where(AlignmentInvite.alignment_id == alignment.id, AlignmentInvite.answer == InviteAnswer.MEEDOEN)
        .order_by(col(AlignmentInvite.answered_at), col(AlignmentInvite.user_id))
    ).all()
    caller = PersonRef(alignment.called_by_team_id, alignment.called_by_user_id)
    return [caller, *[PersonRef(i.team_id, i.user_id) for i in joined if (i.team_id, i.user_id) != caller]]


def _require_in_group(alignment: Alignment, people: list[PersonRef], actor: Member) -> None:
    if actor.person not in people:
        raise CheckinError(N_("Only the people taking part in this alignment can do this."))


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
    now = now or utcnow()
    alignment = get(session, alignment_id)
    people = _group(session, alignment)
    invited = session.get(AlignmentInvite, (alignment_id, actor.team_id, actor.user_id))
    if invited is None:  # the last to answer opens it, even by declining; else someone in the group
        _require_in_group(alignment, people, actor)
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
        ref=_ref(alignment),
    )
    audit.record(
        session,
        actor=actor,
        action="alignment.started" if first else "alignment.reopened",
        object_type="alignment",
        object_id=alignment_id,
        purpose=PURPOSE,
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
    people = _group(session, alignment)
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
        ref=_ref(alignment),
    )


# --- in the group ------------------------------------------------------------------------------------------


def vote(session: Session, *, actor: Member, alignment_id: int, slot: int, settings: Settings) -> bool:
    """Say a slot suits you, or click again to take that back. True: it now suits you."""
    alignment = get(session, alignment_id)
    _require_in_group(alignment, _group(session, alignment), actor)
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
        purpose=PURPOSE,
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
    now = now or utcnow()
    authorize(actor, Action.RECORD_AGREEMENT)
    alignment = get(session, alignment_id)
    _require_in_group(alignment, _group(session, alignment), actor)
    if data.submission_key:
        existing = session.exec(
            select(AlignmentAgreement).where(AlignmentAgreement.submission_key == data.submission_key)
        ).first()
        if existing is not None:
            return existing, False
    problems: list[CheckinError] = []
    what = " ".join((data.what or "").split())
    if not what:
        problems.append(CheckinError(N_("Say what will be done."), field="what"))
    elif len(what) > MAX_WHAT:
        problems.append(CheckinError(N_("Keep it to %(limit)s characters."), field="what", limit=MAX_WHAT))
    _refuse_personal_data(what, "what", problems)
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
        purpose=PURPOSE,
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
    from bot.cases.models import CaseSubject
    from bot.interventions import service as interventions

    agreement = session.get(AlignmentAgreement, agreement_id)
    if agreement is None:
        raise CheckinError(N_("This agreement does not exist (any more)."))
    alignment = get(session, agreement.alignment_id)
    _require_in_group(alignment, _group(session, alignment), actor)
    on_subject = set(
        session.exec(select(CaseSubject.case_id).where(CaseSubject.subject_id == alignment.subject_id)).all()
    )
    cases = [c for c in interventions.cases_for(session, actor=actor) if c.id in on_subject]
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


# --- helpers -----------------------------------------------------------------------------------------------


def _to_person(
    session: Session,
    settings: Settings,
    person: PersonRef,
    *,
    key: str,
    template: str,
    context: dict[str, Any],
    ref: str,
) -> bool:
    known = get_person(session, team_id=person.team_id, user_id=person.user_id)
    return enqueue(
        session,
        key=key,
        method="chat.postMessage",
        lane=person.user_id,
        args={"channel": person.user_id},
        template=template,
        language=language_for(known.locale if known else None, settings.samen_language),
        context=context,
        ref=ref,
        team_id=person.team_id or None,
    )


def _ref(alignment: Alignment) -> str:
    return f"alignment:{alignment.id}"


def _id(alignment: Alignment) -> int:
    assert alignment.id is not None
    return alignment.id
