"""Planning an intervention: what a new one is (`Draft`), every problem with it, saving it proposed, and
the partners that hook in. Most interventions a partner carries out on its own ("zelfstandig"): one
needs no case (attach it to one later), and other partners hook in where needed: a partner on the case
joins at once, any other is asked and joins when one of its people accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel import Session, select

from bot import audit, clock
from bot.authz import Action, Principal, SystemActor, authorize, is_allowed, relation_to
from bot.cases.models import Case, CaseStatus
from bot.config import Settings
from bot.i18n import N_
from bot.interventions import messages
from bot.interventions.dates import Window
from bot.interventions.models import (
    Goal,
    Intervention,
    InterventionAsk,
    InterventionPartner,
    InterventionStatus,
    InterventionSubject,
)
from bot.interventions.problems import InterventionError, NotShared
from bot.interventions.reading import asked_of, case_of, case_relation, get, id_of, partners_on_case
from bot.interventions.reminders import reschedule
from bot.interventions.rules import Outcome, check_active, locked_to_plan, record_change, window_problems
from bot.partners import service as partners
from bot.partners.models import Partner, PersonRef
from bot.subjects import codes as subjects
from bot.vocabulary import Contribution, FocusElement, InstrumentType

S = InterventionStatus
MAX_INSTRUMENT: Final = 200
MAX_ROUND: Final = 9
PURPOSE_PLAN: Final = "intervention planning (/samen interventie)"


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
        problems += window_problems(draft.window, now=now)
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
    now = now or clock.now(session)
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
        session.add(InterventionSubject(intervention_id=id_of(intervention), subject_id=subject.id or 0))
    reschedule(session, intervention, settings=settings, now=now)
    session.add(intervention)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intervention.created",
        object_type="intervention",
        object_id=id_of(intervention),
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
    for ask in asked_of(session, intervention_id=id_of(intervention)):
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
                intervention_id=id_of(intervention), partner_id=partner_id, contribution=contribution
            )
        else:
            asked.add(partner_id)
            row = InterventionAsk(
                intervention_id=id_of(intervention),
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
    now = now or clock.now(session)
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
    check_active(intervention)
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
        object_id=id_of(intervention),
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
    now = now or clock.now(session)
    intervention = locked_to_plan(session, actor, intervention_id)
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
    record_change(session, intervention, settings=settings, now=now)
    audit.record(
        session,
        actor=actor,
        action="intervention.attached",
        object_type="intervention",
        object_id=id_of(intervention),
        purpose=PURPOSE_PLAN,
        details={"case_id": case_id},
    )
    messages.post_to_case(
        session, settings=settings, intervention=intervention, event="attached", actor_user_id=actor.user_id
    )
    return Outcome(intervention, changed=True)
