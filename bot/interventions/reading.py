"""Reading interventions: one by its number, what a person may see of it (need to know), what a partner
carries, what a case needs before round 1 may start, and a member's own work list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot import audit
from bot.authz import Action, Principal, Relation, Role, SystemActor, is_allowed, relation_to
from bot.cases import service as cases
from bot.cases.models import Case, CasePartner, CaseStatus, CaseSubject
from bot.i18n import N_
from bot.interventions.models import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    ROUND_TWO_READY,
    Goal,
    Intervention,
    InterventionAsk,
    InterventionPartner,
    InterventionStatus,
    InterventionSubject,
)
from bot.interventions.problems import InterventionError, NotShared, UnknownIntervention
from bot.partners.models import Member, Partner, PersonRef
from bot.problems import Label
from bot.subjects.models import Subject
from bot.vocabulary import SubjectRole

S = InterventionStatus
LIST_LIMIT: Final = 20
PURPOSE_READ_RESULT: Final = "need to know: the result of an intervention on a shared case"


@dataclass
class MyWork:
    mine: list[Intervention] = field(default_factory=list)
    partner: list[Intervention] = field(default_factory=list)
    partner_name: str | None = None


@dataclass
class Related:
    """What a list of interventions shows beside each one: its owner partner and its case."""

    partners: dict[int, Partner] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)

    def partner_of(self, intervention: Intervention) -> Partner | None:
        return self.partners.get(intervention.owner_partner_id)

    def case_of(self, intervention: Intervention) -> Case | None:
        return self.cases.get(intervention.case_id) if intervention.case_id is not None else None


def related(session: Session, interventions: Sequence[Intervention]) -> Related:
    """The owner partners and cases of `interventions`, one query for each kind whatever the list holds:
    looked up one by one, a page of 20 cost 30 statements more than a page of 2 (issue 21)."""
    partner_ids = {iv.owner_partner_id for iv in interventions}
    case_ids = {iv.case_id for iv in interventions if iv.case_id is not None}
    found = Related()
    if partner_ids:
        partners = session.exec(select(Partner).where(col(Partner.id).in_(partner_ids))).all()
        found.partners = {p.id: p for p in partners if p.id is not None}
    if case_ids:
        cases_shown = session.exec(select(Case).where(col(Case.id).in_(case_ids))).all()
        found.cases = {c.id: c for c in cases_shown if c.id is not None}
    return found


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


def partners_on_case(session: Session, case_id: int | None) -> set[int]:
    """The partners already on a case (its lead and those that joined): they join its work at once."""
    if case_id is None:
        return set()
    case = session.get(Case, case_id)
    joined = set(session.exec(select(CasePartner.partner_id).where(CasePartner.case_id == case_id)).all())
    return joined | ({case.lead_partner_id} if case is not None else set())


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


def my_work(session: Session, *, actor: Member, limit: int = LIST_LIMIT) -> MyWork:
    """My unfinished interventions, and my partner's, soonest window first; at most `limit` of each."""
    order = (col(Intervention.window_start).is_(None), col(Intervention.window_start), col(Intervention.id))
    mine = session.exec(
        select(Intervention)
        .where(
            Intervention.owner_team_id == actor.team_id,
            Intervention.owner_user_id == actor.user_id,
            col(Intervention.status).in_(ACTIVE_STATUSES),
        )
        .order_by(*order)
        .limit(limit)
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
        .limit(limit)
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
        object_id=id_of(intervention),
        purpose=PURPOSE_READ_RESULT,
        details={"relation": relation.value},
    )
    return intervention.result, intervention.effect


def id_of(intervention: Intervention) -> int:
    assert intervention.id is not None, "an intervention is flushed before it is used"
    return intervention.id
