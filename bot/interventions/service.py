"""Interventions: the rules, with the actor passed in. Nothing here knows Slack.

The booklet's hardest rules live here:
- take on no more than you can finish: a partner carries at most `Partner.capacity` open interventions
  (TOEGEZEGD, GEPLAND, IN_UITVOERING; a proposal does not count until someone commits to it), and one
  more is refused with the list of its open ones unless a coordinator overrides with a reason;
- prepare the second round before acting in the first: a round-1 intervention on a case about an
  onaantastbare, or on a strategic case, cannot go into execution until a round-2 intervention on that
  case is committed or planned, unless a coordinator overrides with a reason;
- time your interventions: an intervention can wait on another, and when that one is carried out the
  owner of every intervention waiting on it is told at once (an urgent outbox row);
- most interventions a partner carries out on its own ("zelfstandig"): one needs no case (attach it to
  one later), and other partners hook in where needed: a partner on the case joins at once, any other
  is asked and joins when one of its people accepts.

Every change is authorised (bot.authz), audited (bot.audit), reschedules the intervention's reminders
and queues its messages (bot.interventions.messages) in the caller's transaction. A change that changes
nothing (a button clicked twice, a modal submitted twice) writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot import audit, pii
from bot.authz import (
    Action,
    Principal,
    Relation,
    Role,
    SystemActor,
    authorize,
    is_allowed,
    relation_to,
)
from bot.calendar import local_date, next_working_day
from bot.cases import service as cases
from bot.cases.models import Case, CasePartner, CaseStatus, CaseSubject
from bot.clock import utcnow
from bot.config import Settings
from bot.i18n import N_
from bot.interventions import messages
from bot.interventions.dates import Window
from bot.interventions.models import (
    ACTIVE_STATUSES,
    ALLOWED,
    OPEN_STATUSES,
    ROUND_TWO_READY,
    STATUS_LABELS,
    Goal,
    Intervention,
    InterventionAsk,
    InterventionPartner,
    InterventionStatus,
    InterventionSubject,
    Lesson,
)
from bot.interventions.reminders import owner_zone, reschedule
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef
from bot.signals import subjects
from bot.signals.models import Subject
from bot.vocabulary import Contribution, FocusElement, InstrumentType, SubjectRole

S = InterventionStatus
MAX_INSTRUMENT: Final = 200
MAX_REASON: Final = 500
MAX_RESULT: Final = 2000
MAX_LESSON_TEXT: Final = 2000
MAX_ROUND: Final = 9
LIST_LIMIT: Final = 20

PURPOSE_PLAN: Final = "intervention planning (/samen interventie)"
PURPOSE_STATUS: Final = "intervention progress"
PURPOSE_READ_RESULT: Final = "need to know: the result of an intervention on a shared case"

CLOSING: Final = (S.UITGEVOERD, S.GEANNULEERD)
BEFORE_EXECUTION: Final = (S.VOORGESTELD, S.TOEGEZEGD, S.GEPLAND)


# --- problems --------------------------------------------------------------------------------------


class InterventionError(Exception):
    """A problem the person can fix. `message` is a message id, `values` fill it; `field` names the
    form field it is about (for a modal's field errors). A PersonRef value is shown as a mention."""

    def __init__(self, message: str, *, field: str | None = None, **values: object) -> None:
        super().__init__(message % {k: _plain(v) for k, v in values.items()} if values else message)
        self.message = message
        self.field = field
        self.values = values


def _plain(value: object) -> object:
    return value.user_id if isinstance(value, PersonRef) else value


class Label(str):
    """A value that is itself a message id (a status, a reason): translated when shown."""

    __slots__ = ()


class UnknownIntervention(InterventionError):
    pass


class NotAllowedNow(InterventionError):
    """The status change is not possible from the current status."""


class NotOwner(InterventionError):
    pass


class NotShared(InterventionError):
    """Need to know: the intervention is not the actor's partner's, nor shared with it."""


class CapacityExceeded(InterventionError):
    """The partner carries its capacity already; `open` lists what it carries."""

    def __init__(self, *, partner: Partner, open_ones: Sequence[Intervention], can_override: bool) -> None:
        super().__init__(
            N_(
                "%(partner)s is at its capacity for open interventions (%(count)s of %(capacity)s). "
                "Take on no more than you can finish: finish or call off one of these first."
            ),
            partner=partner.name,
            count=len(open_ones),
            capacity=partner.capacity,
        )
        self.partner_id = partner.id
        # Plain values, not rows: the transaction is rolled back before anyone shows them.
        self.open = [
            {
                "code": iv.code,
                "instrument": iv.instrument,
                "status": STATUS_LABELS[iv.status],
                "owner": iv.owner_user_id,
            }
            for iv in open_ones
        ]
        self.can_override = can_override


class SecondRoundMissing(InterventionError):
    """Round 1 on a case about an onaantastbare (or a strategic case) needs round 2 ready first."""

    def __init__(self, *, intervention: Intervention, why: str, can_override: bool) -> None:
        super().__init__(
            N_(
                "%(code)s is round 1 on %(why)s: prepare the second round before acting in the first. "
                "Plan a round-2 intervention on this case and have it committed or planned first."
            ),
            code=intervention.code,
            why=why,
        )
        self.intervention_id = intervention.id
        self.case_id = intervention.case_id
        self.can_override = can_override


# --- what a new intervention is -------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A new intervention as the form gave it, before it is saved. No case: an independent one."""

    case_id: int | None
    instrument_type: InstrumentType
    instrument: str
    focus_element: FocusElement
    owner_partner_id: int
    owner: PersonRef
    round: int = 1
    window: Window | None = None
    depends_on_id: int | None = None
    joining: tuple[tuple[int, Contribution], ...] = ()
    subject_code: str | None = None  # S-2026-0042: an existing subject
    goal_id: int | None = None  # the partner's goal it serves


@dataclass(frozen=True)
class Outcome:
    intervention: Intervention
    changed: bool
    # Finishing: the codes of the interventions that waited on it, whose owners were told it is their turn.
    told: tuple[str, ...] = ()


@dataclass
class MyWork:
    mine: list[Intervention] = field(default_factory=list)
    partner: list[Intervention] = field(default_factory=list)
    partner_name: str | None = None


# --- reading --------------------------------------------------------------------------------------


def get(session: Session, *, intervention_id: int, lock: bool = False) -> Intervention:
    query = select(Intervention).where(Intervention.id == intervention_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    found = session.exec(query).first()
    if found is None:
        raise UnknownIntervention(
            N_("There is no intervention I-%(number)s. `/samen mijn` lists yours."), number=intervention_id
        )
    return found


def case_of(session: Session, *, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise InterventionError(N_("There is no case %(number)s."), field="case", number=case_id)
    return case


def case_relation(session: Session, actor: Principal, case: Case) -> Relation:
    """Need to know about the case, as the cases feature decides it (one function per object)."""
    return cases.case_relation(session, actor, case)


def intervention_relation(session: Session, actor: Principal, intervention: Intervention) -> Relation:
    """Own: the owner partner's. Given access: a partner joining it, or one that may see its case;
    without a case (an independent intervention), the coordinators, who keep the partnership's view.

    bot/digest/figures.py `_visible` says the same in SQL (tests/test_digest.py checks they agree)."""
    if relation_to(actor, intervention.owner_partner_id) is Relation.OWN:
        return Relation.OWN
    joining = session.exec(
        select(InterventionPartner.partner_id).where(InterventionPartner.intervention_id == intervention.id)
    ).all()
    if not isinstance(actor, SystemActor) and actor.partner_id in set(joining):
        return Relation.GIVEN_ACCESS
    if intervention.case_id is None:
        managing = not isinstance(actor, SystemActor) and Role(actor.role) in (Role.COORDINATOR, Role.ADMIN)
        return Relation.GIVEN_ACCESS if managing else Relation.OTHER
    case = session.get(Case, intervention.case_id)
    if case is not None and case_relation(session, actor, case) is not Relation.OTHER:
        return Relation.GIVEN_ACCESS
    return Relation.OTHER


def asked_of(session: Session, *, intervention_id: int) -> list[InterventionAsk]:
    return list(
        session.exec(
            select(InterventionAsk)
            .where(InterventionAsk.intervention_id == intervention_id)
            .order_by(col(InterventionAsk.partner_id))
        ).all()
    )


def check_may_see(session: Session, *, actor: Principal, intervention: Intervention) -> None:
    """Need to know before an independent intervention is shown: anyone with a relation to it, or a
    partner that was asked to join it (the ask itself showed what it is). One on a case is posted in the
    case's thread anyway, so its card (without the restricted result) is for every member, as before."""
    if intervention.case_id is not None:
        return
    if intervention_relation(session, actor, intervention) is not Relation.OTHER:
        return
    if not isinstance(actor, SystemActor):
        asked = session.get(InterventionAsk, (intervention.id, actor.partner_id))
        if asked is not None:
            return
    raise NotShared(
        N_("%(code)s is not shared with your partner. Ask its owner, %(person)s, if you need it."),
        code=intervention.code,
        person=PersonRef(intervention.owner_team_id, intervention.owner_user_id),
    )


def subject_code_of(session: Session, *, intervention_id: int) -> str | None:
    return session.exec(
        select(Subject.code)
        .join(InterventionSubject, col(InterventionSubject.subject_id) == col(Subject.id))
        .where(InterventionSubject.intervention_id == intervention_id)
    ).first()


def goals_for(session: Session, *, year: int) -> list[Goal]:
    """This year's goals, for the form's list (every partner's: an intervention may serve another's)."""
    return list(
        session.exec(
            select(Goal).where(Goal.year == year).order_by(col(Goal.partner_id), col(Goal.id)).limit(100)
        ).all()
    )


def cases_for(session: Session, *, actor: Principal) -> list[Case]:
    """The open cases the actor may plan an intervention on (their partner's, or shared with it)."""
    cases = session.exec(
        select(Case).where(Case.status == CaseStatus.OPEN).order_by(col(Case.id).desc()).limit(500)
    ).all()
    return [
        case
        for case in cases
        if is_allowed(actor, Action.CREATE_INTERVENTION, relation=case_relation(session, actor, case))
    ][:100]


def open_of(session: Session, *, partner_id: int, excluding: int | None = None) -> list[Intervention]:
    query = select(Intervention).where(
        Intervention.owner_partner_id == partner_id, col(Intervention.status).in_(OPEN_STATUSES)
    )
    if excluding is not None:
        query = query.where(Intervention.id != excluding)
    return list(session.exec(query.order_by(col(Intervention.id))).all())


def joining_of(session: Session, *, intervention_id: int) -> list[InterventionPartner]:
    return list(
        session.exec(
            select(InterventionPartner).where(InterventionPartner.intervention_id == intervention_id)
        ).all()
    )


def needs_second_round(session: Session, case: Case) -> str | None:
    """Why round 1 on this case needs round 2 ready (a message id), or None."""
    untouchables = session.exec(
        select(func.count())
        .select_from(CaseSubject)
        .join(Subject, col(Subject.id) == col(CaseSubject.subject_id))
        .where(CaseSubject.case_id == case.id, Subject.role == SubjectRole.ONAANTASTBARE)
    ).one()
    if untouchables:
        return Label(N_("a case about an untouchable"))
    if case.strategic:
        return Label(N_("a strategic case"))
    return None


def second_round_ready(session: Session, *, case_id: int) -> bool:
    found = session.exec(
        select(Intervention.id).where(
            Intervention.case_id == case_id,
            col(Intervention.round) >= 2,
            col(Intervention.status).in_(ROUND_TWO_READY),
        )
    ).first()
    return found is not None


def my_work(session: Session, *, actor: Member) -> MyWork:
    """My unfinished interventions, and my partner's, soonest window first."""
    order = (col(Intervention.window_start).is_(None), col(Intervention.window_start), col(Intervention.id))
    mine = session.exec(
        select(Intervention)
        .where(
            Intervention.owner_team_id == actor.team_id,
            Intervention.owner_user_id == actor.user_id,
            col(Intervention.status).in_(ACTIVE_STATUSES),
        )
        .order_by(*order)
        .limit(LIST_LIMIT)
    ).all()
    others = session.exec(
        select(Intervention)
        .where(
            Intervention.owner_partner_id == actor.partner_id,
            col(Intervention.status).in_(ACTIVE_STATUSES),
            or_(
                col(Intervention.owner_team_id) != actor.team_id,
                col(Intervention.owner_user_id) != actor.user_id,
            ),
        )
        .order_by(*order)
        .limit(LIST_LIMIT)
    ).all()
    partner = session.get(Partner, actor.partner_id)
    return MyWork(list(mine), list(others), partner.name if partner else None)


def read_result(
    session: Session, *, actor: Principal, intervention: Intervention
) -> tuple[str | None, str | None] | None:
    """The restricted result and effect, for those who may see them (the read is logged); else None."""
    if intervention.result is None and intervention.effect is None:
        return None
    relation = intervention_relation(session, actor, intervention)
    if not is_allowed(actor, Action.VIEW_INTERVENTION_RESULT, relation=relation):
        return None
    audit.record(
        session,
        actor=actor,
        action="intervention.result_read",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_READ_RESULT,
        details={"relation": relation.value},
    )
    return intervention.result, intervention.effect


# --- checking a draft -----------------------------------------------------------------------------


def check_draft(
    session: Session, *, actor: Principal, draft: Draft, now: datetime
) -> list[InterventionError]:
    """Every problem with a new intervention, each naming its form field; empty when it can be saved."""
    problems: list[InterventionError] = []
    case = session.get(Case, draft.case_id) if draft.case_id is not None else None
    if draft.case_id is None:
        problems += _independent_problems(actor, draft)
    elif case is None or case.status != CaseStatus.OPEN:
        problems.append(
            InterventionError(
                N_("Case %(number)s does not exist or is closed."), field="case", number=draft.case_id
            )
        )
    elif not is_allowed(actor, Action.CREATE_INTERVENTION, relation=case_relation(session, actor, case)):
        problems.append(
            InterventionError(
                N_("Your partner is not on case %(number)s. Ask its lead partner to give yours access."),
                field="case",
                number=draft.case_id,
            )
        )
    instrument = " ".join(draft.instrument.split())
    if not instrument:
        problems.append(InterventionError(N_("Say what the intervention is."), field="instrument"))
    elif len(instrument) > MAX_INSTRUMENT:
        problems.append(
            InterventionError(
                N_("Describe the intervention in at most %(limit)s characters."),
                field="instrument",
                limit=MAX_INSTRUMENT,
            )
        )
    owner_partner = session.get(Partner, draft.owner_partner_id)
    if owner_partner is None:
        problems.append(InterventionError(N_("Choose the partner that owns it."), field="owner_partner"))
    else:
        member = partners.find_member(session, team_id=draft.owner.team_id, user_id=draft.owner.user_id)
        if member is None or member.partner_id != owner_partner.id:
            problems.append(
                InterventionError(
                    N_("%(person)s is not a member of %(partner)s. Choose one of its members as owner."),
                    field="owner",
                    person=draft.owner,
                    partner=owner_partner.name,
                )
            )
    if not 1 <= draft.round <= MAX_ROUND:
        problems.append(
            InterventionError(
                N_("The round is a number from 1 to %(limit)s."), field="round", limit=MAX_ROUND
            )
        )
    if draft.window is not None:
        problems += _window_problems(draft.window, now=now)
    if draft.depends_on_id is not None:
        before = session.get(Intervention, draft.depends_on_id)
        if before is None:
            problems.append(
                InterventionError(
                    N_("There is no intervention I-%(number)s to wait for."),
                    field="after",
                    number=draft.depends_on_id,
                )
            )
        elif before.status is S.GEANNULEERD:
            problems.append(
                InterventionError(
                    N_("%(code)s was called off: nothing can wait for it."), field="after", code=before.code
                )
            )
    for partner_id, _contribution in draft.joining:
        if session.get(Partner, partner_id) is None:
            problems.append(InterventionError(N_("Choose partners from the list."), field="joining"))
            break
    problems += _subject_and_goal_problems(session, draft, now=now)
    return problems


def _independent_problems(actor: Principal, draft: Draft) -> list[InterventionError]:
    """Without a case, an intervention is the actor's own partner's: one partner acting on its own.
    Proposing work to another partner goes through a case they share (or an ask to join)."""
    if isinstance(actor, SystemActor) or draft.owner_partner_id == actor.partner_id:
        return []
    return [
        InterventionError(
            N_(
                "Without a case, an intervention is your own partner's. Choose a case to propose work to "
                "another partner, or ask that partner to join yours."
            ),
            field="owner_partner",
        )
    ]


def _subject_and_goal_problems(session: Session, draft: Draft, *, now: datetime) -> list[InterventionError]:
    problems: list[InterventionError] = []
    if draft.subject_code and subjects.find(session, draft.subject_code) is None:
        problems.append(
            InterventionError(
                N_(
                    "There is no subject %(code)s. Write a code as S-2026-0042, or leave it empty; a new "
                    "subject gets its code when a signal on it is registered."
                ),
                field="subject",
                code=draft.subject_code.strip()[:20],
            )
        )
    if draft.goal_id is not None:
        goal = session.get(Goal, draft.goal_id)
        if goal is None or goal.year != now.year:
            problems.append(InterventionError(N_("Choose one of this year’s goals."), field="goal"))
    return problems


def partners_on_case(session: Session, case_id: int | None) -> set[int]:
    """The partners already on a case (its lead and those that joined): they join its work at once."""
    if case_id is None:
        return set()
    case = session.get(Case, case_id)
    joined = set(session.exec(select(CasePartner.partner_id).where(CasePartner.case_id == case_id)).all())
    return joined | ({case.lead_partner_id} if case is not None else set())


def _window_problems(window: Window, *, now: datetime) -> list[InterventionError]:
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


# --- changing ---------------------------------------------------------------------------------------


def create(
    session: Session,
    *,
    actor: Principal,
    draft: Draft,
    settings: Settings,
    submission_key: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Save a new intervention, proposed (VOORGESTELD): its owner commits to it, or not."""
    now = now or utcnow()
    if submission_key is not None:
        existing = session.exec(
            select(Intervention).where(Intervention.submission_key == submission_key)
        ).first()
        if existing is not None:
            return Outcome(existing, changed=False)
    if draft.case_id is None:  # independent: the actor's own partner's (check_draft says so when not)
        authorize(actor, Action.CREATE_INTERVENTION, relation=relation_to(actor, draft.owner_partner_id))
    else:
        case = case_of(session, case_id=draft.case_id)
        authorize(actor, Action.CREATE_INTERVENTION, relation=case_relation(session, actor, case))
    problems = check_draft(session, actor=actor, draft=draft, now=now)
    if problems:
        raise problems[0]
    intervention = Intervention(
        case_id=draft.case_id,
        instrument_type=draft.instrument_type,
        instrument=" ".join(draft.instrument.split()),
        focus_element=draft.focus_element,
        owner_partner_id=draft.owner_partner_id,
        owner_team_id=draft.owner.team_id,
        owner_user_id=draft.owner.user_id,
        round=draft.round,
        status=S.VOORGESTELD,
        window_start=draft.window.start if draft.window else None,
        window_end=draft.window.end if draft.window else None,
        window_has_time=draft.window.has_time if draft.window else False,
        depends_on_id=draft.depends_on_id,
        goal_id=draft.goal_id,
        submission_key=submission_key,
        created_by_team_id=actor.team_id,
        created_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(intervention)
    session.flush()
    seen, asked = _join_or_ask(session, intervention, draft, now=now)
    subject = subjects.find(session, draft.subject_code) if draft.subject_code else None
    if subject is not None:
        session.add(InterventionSubject(intervention_id=_id(intervention), subject_id=subject.id or 0))
    reschedule(session, intervention, settings=settings, now=now)
    session.add(intervention)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intervention.created",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_PLAN,
        details={
            "case_id": draft.case_id,
            "owner_partner_id": draft.owner_partner_id,
            "owner": f"{draft.owner.team_id}/{draft.owner.user_id}",
            "round": draft.round,
            "instrument_type": draft.instrument_type.value,
            "focus_element": draft.focus_element.value,
            "depends_on_id": draft.depends_on_id,
            "joining": sorted(seen),
            "asked": sorted(asked),
            "goal_id": draft.goal_id,
            "subject_id": subject.id if subject is not None else None,
        },
    )
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="created", actor_user_id=actor.user_id
    )
    if draft.owner.user_id != actor.user_id:
        messages.tell_new_owner(
            session, settings=settings, intervention=intervention, by_user_id=actor.user_id, event="proposed"
        )
    messages.announce_window(session, settings=settings, intervention=intervention)
    for ask in asked_of(session, intervention_id=_id(intervention)):
        messages.ask_partner(session, settings=settings, intervention=intervention, ask=ask, by=actor.user_id)
    return Outcome(intervention, changed=True)


def _join_or_ask(
    session: Session, intervention: Intervention, draft: Draft, *, now: datetime
) -> tuple[set[int], set[int]]:
    """A partner on the case joins at once (it works on the case already); any other is asked."""
    on_case = partners_on_case(session, draft.case_id)
    joined: set[int] = set()
    asked: set[int] = set()
    for partner_id, contribution in draft.joining:
        if partner_id in joined | asked or partner_id == draft.owner_partner_id:
            continue
        if partner_id in on_case:
            joined.add(partner_id)
            row: InterventionPartner | InterventionAsk = InterventionPartner(
                intervention_id=_id(intervention), partner_id=partner_id, contribution=contribution
            )
        else:
            asked.add(partner_id)
            row = InterventionAsk(
                intervention_id=_id(intervention),
                partner_id=partner_id,
                contribution=contribution,
                asked_at=now,
            )
        session.add(row)
    session.flush()
    return joined, asked


def accept_ask(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    """The asked partner joins, through one of its people, with the contribution it was asked for.

    Only a member of the partner asked can accept (checked here, like an alignment's agreements);
    a second click changes nothing."""
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    partner_id = None if isinstance(actor, SystemActor) else actor.partner_id
    ask = session.get(InterventionAsk, (intervention_id, partner_id)) if partner_id is not None else None
    if ask is None:
        raise NotShared(
            N_("Your partner was not asked to join %(code)s. Ask its owner, %(person)s, if you want to."),
            code=intervention.code,
            person=PersonRef(intervention.owner_team_id, intervention.owner_user_id),
        )
    if ask.accepted_at is not None:
        return Outcome(intervention, changed=False)
    _still_active(intervention)
    ask.accepted_at = now
    ask.accepted_by_team_id, ask.accepted_by_user_id = actor.team_id, actor.user_id
    session.add(ask)
    if session.get(InterventionPartner, (intervention_id, ask.partner_id)) is None:
        session.add(
            InterventionPartner(
                intervention_id=intervention_id, partner_id=ask.partner_id, contribution=ask.contribution
            )
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intervention.joined",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_PLAN,
        details={"partner_id": ask.partner_id, "contribution": ask.contribution.value},
    )
    messages.tell_joined(session, settings=settings, intervention=intervention, ask=ask, by=actor.user_id)
    return Outcome(intervention, changed=True)


def attach(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    case_id: int,
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    """Attach an independent intervention to a case: the owner partner's people (or a coordinator),
    on an open case they may plan on. Its history is posted in the case's thread from then on."""
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    _may_update(session, actor, intervention)
    _still_active(intervention)
    if intervention.case_id == case_id:
        return Outcome(intervention, changed=False)
    if intervention.case_id is not None:
        raise InterventionError(
            N_("%(code)s is on case %(number)s already: only an intervention without a case is attached."),
            code=intervention.code,
            number=intervention.case_id,
        )
    case = session.get(Case, case_id)
    if case is None or case.status != CaseStatus.OPEN:
        raise InterventionError(
            N_("Case %(number)s does not exist or is closed."), field="case", number=case_id
        )
    if not is_allowed(actor, Action.CREATE_INTERVENTION, relation=case_relation(session, actor, case)):
        raise InterventionError(
            N_("Your partner is not on case %(number)s. Ask its lead partner to give yours access."),
            field="case",
            number=case_id,
        )
    intervention.case_id = case_id
    _changed(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.attached",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_PLAN,
        details={"case_id": case_id},
    )
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="attached", actor_user_id=actor.user_id
    )
    return Outcome(intervention, changed=True)


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
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    if intervention.status is to:
        return Outcome(intervention, changed=False)
    _may_update(session, actor, intervention)
    _allowed(intervention, to)
    if to is S.GEPLAND and intervention.window_start is None:
        raise InterventionError(
            N_(
                "%(code)s has no time window yet. Give it one first: "
                "`/samen interventie %(code)s wanneer dinsdag 08:15-08:45`."
            ),
            code=intervention.code,
        )
    _check_capacity(session, actor, intervention, intervention.owner_partner_id, capacity_override, now)
    if to is S.IN_UITVOERING:
        _check_second_round(session, actor, intervention, second_round_override)
        intervention.started_at = now
    previous = intervention.status
    intervention.status = to
    _changed(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.status_changed",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_STATUS,
        details={"from": previous.value, "to": to.value},
    )
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
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    if intervention.status is S.UITGEVOERD:
        return Outcome(intervention, changed=False)
    _may_close(session, actor, intervention)
    _allowed(intervention, S.UITGEVOERD)
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
        _check_second_round(session, actor, intervention, second_round_override)
        intervention.started_at = intervention.started_at or now
    previous = intervention.status
    intervention.status = S.UITGEVOERD
    intervention.result = result
    intervention.effect = (effect or "").strip() or None
    intervention.success = bool(success)
    intervention.done_at = now
    _changed(session, intervention, settings=settings, now=now)
    messages.cancel_pending(session, intervention_id=_id(intervention))
    audit.record(
        session,
        actor=actor,
        action="intervention.status_changed",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_STATUS,
        details={"from": previous.value, "to": S.UITGEVOERD.value, "success": bool(success)},
    )
    if lesson is not None:
        authorize(actor, Action.RECORD_LESSON, relation=intervention_relation(session, actor, intervention))
        session.add(
            Lesson(
                intervention_id=_id(intervention),
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
            object_id=_id(intervention),
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
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    if intervention.status is S.GEANNULEERD:
        return Outcome(intervention, changed=False)
    _may_close(session, actor, intervention)
    _allowed(intervention, S.GEANNULEERD)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InterventionError(N_("Say why it is called off."), field="reason")
    if len(reason) > MAX_REASON:
        raise InterventionError(
            N_("Keep the reason to %(limit)s characters."), field="reason", limit=MAX_REASON
        )
    previous = intervention.status
    intervention.status = S.GEANNULEERD
    intervention.cancel_reason = reason
    _changed(session, intervention, settings=settings, now=now)
    messages.cancel_pending(session, intervention_id=_id(intervention))
    audit.record(
        session,
        actor=actor,
        action="intervention.status_changed",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_STATUS,
        details={"from": previous.value, "to": S.GEANNULEERD.value},
    )
    messages.post_to_case(
        session,
        settings=settings,
        intervention=intervention,
        event="status",
        actor_user_id=actor.user_id,
        extra={"reason": _for_channel(reason)},
    )
    return Outcome(intervention, changed=True)


def set_window(
    session: Session,
    *,
    actor: Principal,
    intervention_id: int,
    window: Window,
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    _may_update(session, actor, intervention)
    _still_active(intervention)
    problems = _window_problems(window, now=now)
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
    _changed(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.window_set",
        object_type="intervention",
        object_id=_id(intervention),
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
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    _may_update(session, actor, intervention)
    _still_active(intervention)
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
    _changed(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.dependency_set",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_PLAN,
        details={"from": previous, "to": depends_on_id},
    )
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="dependency", actor_user_id=actor.user_id
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
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    _may_close(session, actor, intervention)
    _still_active(intervention)
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
        _check_capacity(session, actor, intervention, member.partner_id, capacity_override, now)
    previous = f"{intervention.owner_team_id}/{intervention.owner_user_id}"
    intervention.owner_team_id, intervention.owner_user_id = member.team_id, member.user_id
    intervention.owner_partner_id = member.partner_id
    intervention.last_reminded_on = None
    _changed(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.handed_over",
        object_type="intervention",
        object_id=_id(intervention),
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
    now = now or utcnow()
    intervention = get(session, intervention_id=intervention_id, lock=True)
    _may_close(session, actor, intervention)
    _still_active(intervention)
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
    _changed(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.snoozed",
        object_type="intervention",
        object_id=_id(intervention),
        purpose=PURPOSE_STATUS,
        details={"until": until.isoformat()},
    )
    return Outcome(intervention, changed=True)


def check_may_update(session: Session, *, actor: Principal, intervention: Intervention) -> None:
    """Raise unless the actor may plan this intervention (before showing them a form or a prompt)."""
    _may_update(session, actor, intervention)
    _still_active(intervention)


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
    _may_close(session, actor, intervention)
    if to is None:
        _still_active(intervention)
    else:
        _allowed(intervention, to)


# --- rules ------------------------------------------------------------------------------------------


def _is_owner(actor: Principal, intervention: Intervention) -> bool:
    return (actor.team_id, actor.user_id) == (intervention.owner_team_id, intervention.owner_user_id)


def _may_update(session: Session, actor: Principal, intervention: Intervention) -> None:
    """Commit, plan, start, set the window or what it waits for: the owner partner's people."""
    authorize(actor, Action.UPDATE_INTERVENTION, relation=relation_to(actor, intervention.owner_partner_id))


def _may_close(session: Session, actor: Principal, intervention: Intervention) -> None:
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


def _allowed(intervention: Intervention, to: InterventionStatus) -> None:
    if to not in ALLOWED[intervention.status]:
        raise NotAllowedNow(
            N_("%(code)s is %(status)s: it cannot become %(to)s from there."),
            code=intervention.code,
            status=Label(STATUS_LABELS[intervention.status]),
            to=Label(STATUS_LABELS[to]),
        )


def _still_active(intervention: Intervention) -> None:
    if intervention.status not in ACTIVE_STATUSES:
        raise NotAllowedNow(
            N_("%(code)s is %(status)s already: it cannot be changed any more."),
            code=intervention.code,
            status=Label(STATUS_LABELS[intervention.status]),
        )


def _check_capacity(
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
    can_override = is_allowed(actor, Action.OVERRIDE_CAPACITY)
    override = " ".join((override or "").split())
    if not override or not can_override:
        raise CapacityExceeded(partner=partner, open_ones=carried, can_override=can_override)
    if len(override) > MAX_REASON:
        raise InterventionError(
            N_("Keep the reason to %(limit)s characters."), field="reason", limit=MAX_REASON
        )
    intervention.capacity_override_reason = override
    audit.record(
        session,
        actor=actor,
        action="intervention.capacity_overridden",
        object_type="intervention",
        object_id=_id(intervention),
        purpose="coordinator override: more than the partner's agreed capacity",
        details={"partner_id": partner_id, "open": len(carried), "capacity": partner.capacity},
    )


def _check_second_round(
    session: Session, actor: Principal, intervention: Intervention, override: str | None
) -> None:
    if intervention.round != 1 or intervention.case_id is None:
        return  # the rule is about a case's untouchable or strategy; an independent one has neither
    case = case_of(session, case_id=intervention.case_id)
    why = needs_second_round(session, case)
    if why is None or second_round_ready(session, case_id=case.id or 0):
        return
    can_override = is_allowed(actor, Action.OVERRIDE_SECOND_ROUND)
    override = " ".join((override or "").split())
    if not override or not can_override:
        raise SecondRoundMissing(intervention=intervention, why=why, can_override=can_override)
    if len(override) > MAX_REASON:
        raise InterventionError(
            N_("Keep the reason to %(limit)s characters."), field="reason", limit=MAX_REASON
        )
    intervention.second_round_override_reason = override
    audit.record(
        session,
        actor=actor,
        action="intervention.second_round_overridden",
        object_type="intervention",
        object_id=_id(intervention),
        purpose="coordinator override: round 1 without a second round ready",
        details={"case_id": intervention.case_id},
    )


def _changed(session: Session, intervention: Intervention, *, settings: Settings, now: datetime) -> None:
    """Every change by a person: a new version, the stale clock restarts, reminders are recomputed."""
    intervention.version += 1
    intervention.updated_at = now
    intervention.stale_stage = 0
    reschedule(session, intervention, settings=settings, now=now)
    session.add(intervention)
    session.flush()


def _for_channel(text: str) -> str:
    return pii.redact(text)


def _id(intervention: Intervention) -> int:
    assert intervention.id is not None, "an intervention is flushed before it is used"
    return intervention.id
