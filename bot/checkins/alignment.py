"""Ad-hoc alignment on one subject: bring together exactly the partners that have something on it.

Need to know: the person who calls it is not told which partners hold something. The partners that do
(a signal on the subject, its description, a case on it — leading or joined — or an intervention on such
a case) are asked privately, through their contact people, whether they want to join; only those who
join are put together in a group conversation, so no partner learns who else holds something unless
they joined too. In the group the bot proposes a few short time slots and keeps a live message with who
can make which slot and what was agreed (who does what, by when); an agreement becomes an intervention
through the interventions' own form (issue 5).

Who has something on a subject is the one definition of bot.subjects.holders. The group conversation is
opened by the chat edge (`conversations.open` with the people's ids) with the list `group_of` gives;
what happens in it — its message, slots and agreements — is bot/checkins/alignment_group.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session, col, select

from bot import audit, clock
from bot.authz import Action, Relation, Role, SystemActor, authorize, relation_to
from bot.calendar import local_date
from bot.checkins.models import Alignment, AlignmentInvite, AlignmentStatus, InviteAnswer
from bot.checkins.problems import CheckinError, refuse_personal_data
from bot.config import Settings
from bot.i18n import N_, language_for
from bot.outbox import enqueue
from bot.partners import service as partners
from bot.partners.models import Member, PersonRef
from bot.people import get_person
from bot.problems import Problem
from bot.signals.notices import contacts_of
from bot.subjects import codes
from bot.subjects.holders import holders as holders_of
from bot.subjects.models import Subject
from bot.vocabulary import SUBJECT_KIND_LABELS

MAX_TOPIC: Final = 200
MAX_GROUP: Final = 8  # Slack's limit on the people in a group conversation
PURPOSE: Final = "ad-hoc alignment on a subject (/samen afstemmen)"
# What is typed for an alignment is shown to the other partners: it holds no personal data (bot.pii).
PERSONAL_DATA: Final = N_(
    "This is shown to the other partners: take out the personal data (%(kinds)s) and use subject codes."
)


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
    now = now or clock.now(session)
    if not isinstance(actor, Member):
        raise CheckinError(N_("An alignment is called by a member of the partnership."))
    subject = codes.require(session, code)
    subject_id = subject.id or 0
    holders = holders_of(session, subject_id=subject_id)
    relation = relation_to(actor, actor.partner_id) if actor.partner_id in holders else Relation.OTHER
    if relation is Relation.OTHER and Role(actor.role) in partners.MANAGING_ROLES:
        relation = Relation.GIVEN_ACCESS  # the partnership's coordinators bring partners together
    authorize(actor, Action.CALL_ALIGNMENT, relation=relation)
    topic = " ".join((topic or "").split()) or None
    if topic is not None:
        problems: list[Problem] = []
        if len(topic) > MAX_TOPIC:
            problems.append(CheckinError(N_("Keep the topic to %(limit)s characters."), limit=MAX_TOPIC))
        refuse_personal_data(topic, "topic", problems, PERSONAL_DATA)
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
                ref=alignment_ref(alignment),
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


# --- joining --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    alignment: Alignment
    changed: bool
    joined: bool
    code: str  # the subject's
    partner: str  # the name of the partner of the person who answered
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
    now = now or clock.now(session)
    alignment = get(session, alignment_id)
    invite = session.get(AlignmentInvite, (alignment_id, actor.team_id, actor.user_id))
    if invite is None:
        raise CheckinError(N_("This invitation is not for you."))
    subject = session.get(Subject, alignment.subject_id)
    code = subject.code if subject else "?"
    partner = partners.get_partner(session, partner_id=actor.partner_id)
    wanted = InviteAnswer.MEEDOEN if join else InviteAnswer.AFGESLAGEN
    if invite.answer is wanted or (invite.answer is InviteAnswer.MEEDOEN and not join):
        # Twice the same click changes nothing; who joined stays in (the group exists with them).
        joined = invite.answer is InviteAnswer.MEEDOEN
        return Answered(alignment, changed=False, joined=joined, code=code, partner=partner.name)
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
        _to_person(
            session,
            settings,
            PersonRef(alignment.called_by_team_id, alignment.called_by_user_id),
            key=f"alignment:{alignment_id}:joined:{actor.user_id}",
            template="alignment_joined.json.j2",
            context={
                "alignment_id": alignment_id,
                "code": code,
                "person": actor.user_id,
                "partner": partner.name,
                "started": alignment.status is AlignmentStatus.GESTART,
            },
            ref=alignment_ref(alignment),
        )
    invites = list(
        session.exec(select(AlignmentInvite).where(AlignmentInvite.alignment_id == alignment_id)).all()
    )
    everyone_answered = all(i.answer is not InviteAnswer.OPEN for i in invites)
    anyone_joined = any(i.answer is InviteAnswer.MEEDOEN for i in invites)
    late = join and alignment.status is AlignmentStatus.GESTART
    opens = late or (everyone_answered and anyone_joined and alignment.status is AlignmentStatus.GEVRAAGD)
    group = tuple(people_of(session, alignment)[:MAX_GROUP]) if opens else ()
    return Answered(alignment, changed=True, joined=join, code=code, partner=partner.name, group=group)


def check_takes_part(session: Session, *, actor: Member, alignment_id: int) -> None:
    """Before a form opens: only the people in the group record agreements."""
    alignment = get(session, alignment_id)
    require_in_group(alignment, people_of(session, alignment), actor)


def group_of(session: Session, *, actor: Member, alignment_id: int) -> list[PersonRef]:
    """Who goes into the group conversation when it is started by hand: the caller and everyone who
    joined (Slack allows 8)."""
    alignment = get(session, alignment_id)
    people = people_of(session, alignment)
    require_in_group(alignment, people, actor)
    if len(people) < 2:
        raise CheckinError(N_("Nobody has joined yet. You will hear it when someone does."))
    return people[:MAX_GROUP]


def people_of(session: Session, alignment: Alignment) -> list[PersonRef]:
    """The group: the person who called it first, then those who joined, in the order they did."""
    joined = session.exec(
        select(AlignmentInvite)
        .where(AlignmentInvite.alignment_id == alignment.id, AlignmentInvite.answer == InviteAnswer.MEEDOEN)
        .order_by(col(AlignmentInvite.answered_at), col(AlignmentInvite.user_id))
    ).all()
    caller = PersonRef(alignment.called_by_team_id, alignment.called_by_user_id)
    return [caller, *[PersonRef(i.team_id, i.user_id) for i in joined if (i.team_id, i.user_id) != caller]]


def require_in_group(alignment: Alignment, people: list[PersonRef], actor: Member) -> None:
    if actor.person not in people:
        raise CheckinError(N_("Only the people taking part in this alignment can do this."))


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


def alignment_ref(alignment: Alignment) -> str:
    """What the alignment's outbox rows are filed under (retention purges by it)."""
    return f"alignment:{alignment.id}"


def _id(alignment: Alignment) -> int:
    assert alignment.id is not None
    return alignment.id
