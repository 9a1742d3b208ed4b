"""Cases: make a case from a weighed signal, join it, set the selection criteria, score it, look it up.

A case's rank is the sum of human judgements — one score and one reason per criterion the partnership
chose together, weighed by the criterion's weight — never an automatic score of a person (docs/domain.md
rule 6); the ranking itself is the work queue's (bot/cases/queue.py). A case shows its subjects by code;
the details of its signals follow each signal's own sharing (originator control), so joining a case gives
a partner no other partner's details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot import audit, clock, pii
from bot.authz import Action, Principal, Relation, Role, SystemActor, authorize, is_allowed
from bot.cases.models import (
    Case,
    CasePartner,
    CaseScore,
    CaseSignal,
    CaseStatus,
    CaseSubject,
    SelectionCriterion,
)
from bot.cases.queue import CaseCard, ScoreLine, card, cards, criteria, queue_place, score_lines, total_of
from bot.i18n import N_
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.partners.models import Partner
from bot.problems import Label, Problem
from bot.signals import cards as signals
from bot.signals import notices
from bot.signals.access import get_signal, may_see_details
from bot.signals.cards import SignalDetail
from bot.signals.models import Signal, SignalSubject
from bot.signals.notices import Outbound
from bot.subjects.models import Subject
from bot.vocabulary import CONTRIBUTION_LABELS, Contribution, FocusElement, SubjectRole

MANAGING_ROLES: Final = (Role.COORDINATOR, Role.ADMIN)
MAX_CRITERION_NAME: Final = 100
MAX_WEIGHT: Final = 10
MAX_SCALE: Final = 10
MAX_REASON: Final = 1000
HOME_LIMIT: Final = 5


class CaseError(Problem):
    """A problem about a case, a criterion or a score that the person can fix."""


class NotFound(CaseError):
    """No case (or criterion) by that number or name."""


class InvalidInput(CaseError):
    """What was given cannot be used: a score out of range, a reason with personal data, a closed case."""


class Change(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# --- access ---------------------------------------------------------------------------------------


def joined_partner_ids(session: Session, case_id: int) -> frozenset[int]:
    return frozenset(session.exec(select(CasePartner.partner_id).where(CasePartner.case_id == case_id)).all())


def case_relation(session: Session, actor: Principal, case: Case) -> Relation:
    """OWN for the lead partner; GIVEN_ACCESS for the partners that joined it and the coordinators (they
    keep the shared work queue); OTHER for the rest."""
    if isinstance(actor, SystemActor) or actor.partner_id == case.lead_partner_id:
        return Relation.OWN
    if case.id is not None and actor.partner_id in joined_partner_ids(session, case.id):
        return Relation.GIVEN_ACCESS
    if Role(actor.role) in MANAGING_ROLES:
        return Relation.GIVEN_ACCESS
    return Relation.OTHER


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(N_("There is no case with number %(number)s."), number=case_id)
    return case


def message_key(case_id: int) -> str:
    """The outbox key of the case's message in the partnership channel.

    Reply in its thread with `thread_ts=bot.outbox.ts_of(message_key(case.id))` on the lane
    `case.thread_channel`: the outbox fills in the ts once the message is posted.
    """
    return f"case:{case_id}:message"


def thread_ts(session: Session, case: Case) -> str | None:
    """The ts of the case's message once it was posted (None before), for callers outside the outbox."""
    if case.thread_ts:
        return case.thread_ts
    if case.id is None:
        return None
    posted = session.exec(
        select(OutboxMessage.result_ts).where(
            OutboxMessage.key == message_key(case.id), OutboxMessage.status == OutboxStatus.SENT
        )
    ).first()
    return posted or None


# --- making a case --------------------------------------------------------------------------------


def create_from_signal(
    session: Session,
    *,
    actor: Principal,
    signal: Signal,
    lead_partner_id: int,
    focus: FocusElement,
    title: str,
    outbound: Outbound,
) -> Case:
    """A weighed signal becomes a case in the work queue, with the signal's subjects, led by a partner."""
    lead = session.get(Partner, lead_partner_id)
    if lead is None:
        raise InvalidInput(
            N_("There is no partner with number %(partner_id)s."),
            field="task_partner",
            partner_id=lead_partner_id,
        )
    subject_rows = session.exec(
        select(Subject)
        .join(SignalSubject, col(SignalSubject.subject_id) == col(Subject.id))
        .where(SignalSubject.signal_id == signal.id)
        .order_by(col(Subject.code))
    ).all()
    case = Case(
        title=title,
        lead_partner_id=lead_partner_id,
        focus_element=focus,
        # Untouchables: strategy over single actions, a second round ready before the first (issue 5).
        strategic=any(s.role is SubjectRole.ONAANTASTBARE for s in subject_rows),
        created_by_team_id=actor.team_id,
        created_by_user_id=actor.user_id,
    )
    authorize(actor, Action.MANAGE_CASES, relation=case_relation(session, actor, case))
    session.add(case)
    session.flush()
    case_id = _id(case)
    session.add(CaseSignal(case_id=case_id, signal_id=signal.id or 0))
    for subject in subject_rows:
        session.add(CaseSubject(case_id=case_id, subject_id=subject.id or 0))
    if outbound.channel:
        case.thread_channel = outbound.channel
        session.add(case)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.created",
        object_type="case",
        object_id=case_id,
        purpose="making a weighed signal a case in the work queue",
        details={
            "signal_id": signal.id,
            "lead_partner_id": lead_partner_id,
            "focus_element": focus.value,
            "subjects": [s.code for s in subject_rows],
            "strategic": case.strategic,
        },
    )
    if outbound.channel:
        notices.to_channel(
            session,
            outbound,
            key=message_key(case_id),
            channel=outbound.channel,
            template="case_message.json.j2",
            context={
                "case": card(session, case).as_context(),
                "signal_id": signal.id,
                "contributions": contribution_options(case_id),
            },
            ref=f"case:{case_id}",
        )
    return case


def contribution_options(case_id: int) -> list[tuple[str, str]]:
    """(value, label id) for the "join with …" menu: the value names the case and the contribution."""
    return [(f"{case_id}:{c.value}", CONTRIBUTION_LABELS[c]) for c in Contribution]


# --- joining --------------------------------------------------------------------------------------


def join(
    session: Session, *, actor: Principal, case_id: int, contribution: Contribution, outbound: Outbound
) -> Change:
    """The actor's partner joins a case with what it brings; joining again with another contribution
    changes it."""
    case = get_case(session, case_id)
    authorize(actor, Action.JOIN_CASE)
    if isinstance(actor, SystemActor):
        raise InvalidInput(N_("A partner joins a case through one of its members."))
    if case.status is not CaseStatus.OPEN:
        raise InvalidInput(N_("Case %(number)s is closed: it can no longer be joined."), number=case_id)
    if actor.partner_id == case.lead_partner_id:
        raise InvalidInput(
            N_("Your partner leads case %(number)s, so it is already part of it."), number=case_id
        )
    existing = session.get(CasePartner, (case_id, actor.partner_id))
    if existing is not None and existing.contribution is contribution:
        return Change.UNCHANGED
    change = Change.UPDATED if existing is not None else Change.ADDED
    joined = existing or CasePartner(case_id=case_id, partner_id=actor.partner_id, contribution=contribution)
    joined.contribution = contribution
    session.add(joined)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.joined",
        object_type="case",
        object_id=case_id,
        purpose="joining a case",
        details={"partner_id": actor.partner_id, "contribution": contribution.value, "change": change.value},
    )
    if case.thread_channel:
        notices.to_channel(
            session,
            outbound,
            key=f"case:{case_id}:joined:{actor.partner_id}:{contribution.value}",
            channel=case.thread_channel,
            template="case_joined.json.j2",
            context={
                "case_id": case_id,
                "partner": _partner_name(session, actor.partner_id),
                "contribution_label": CONTRIBUTION_LABELS[contribution],
            },
            ref=f"case:{case_id}",
            thread_of=message_key(case_id),
        )
    return change


# --- selection criteria ---------------------------------------------------------------------------


def find_criterion(session: Session, name: str) -> SelectionCriterion | None:
    return session.exec(
        select(SelectionCriterion).where(
            func.lower(SelectionCriterion.name) == " ".join(name.split()).lower()
        )
    ).first()


def set_criterion(
    session: Session,
    *,
    actor: Principal,
    name: str,
    weight: int,
    scale_max: int,
    description: str | None = None,
) -> tuple[SelectionCriterion, Change]:
    """Add a criterion, or change the weight or scale of one with this name (case-insensitive)."""
    authorize(actor, Action.MANAGE_CRITERIA)
    name = " ".join(name.split())
    if not name or len(name) > MAX_CRITERION_NAME:
        raise InvalidInput(
            N_("A criterion's name must be 1 to %(maximum)s characters long."), maximum=MAX_CRITERION_NAME
        )
    if not 1 <= weight <= MAX_WEIGHT:
        raise InvalidInput(N_("The weight must be a whole number from 1 to %(maximum)s."), maximum=MAX_WEIGHT)
    if not 1 <= scale_max <= MAX_SCALE:
        raise InvalidInput(
            N_("The scale must run from 0 to a whole number from 1 to %(maximum)s."), maximum=MAX_SCALE
        )
    criterion = find_criterion(session, name)
    if criterion is None:
        criterion = SelectionCriterion(name=name, weight=weight, scale_max=scale_max, description=description)
        change = Change.ADDED
    elif (criterion.weight, criterion.scale_max, criterion.active) == (weight, scale_max, True):
        return criterion, Change.UNCHANGED
    else:
        if criterion.scale_max != scale_max:
            _refuse_if_scores_exceed(session, criterion, scale_max)
        criterion.weight, criterion.scale_max, criterion.active = weight, scale_max, True
        change = Change.UPDATED
    session.add(criterion)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"criterion.{change.value}",
        object_type="selection_criterion",
        object_id=criterion.id or 0,
        purpose="setting the partnership's selection criteria",
        details={"weight": weight, "scale_max": scale_max},
    )
    return criterion, change


def _refuse_if_scores_exceed(session: Session, criterion: SelectionCriterion, scale_max: int) -> None:
    highest = session.exec(
        select(func.max(CaseScore.score)).where(CaseScore.criterion_id == criterion.id)
    ).one()
    if highest is not None and highest > scale_max:
        raise InvalidInput(
            N_("Cases already scored up to %(highest)s on “%(name)s”: the scale cannot end below that."),
            highest=highest,
            name=criterion.name,
        )


def retire_criterion(session: Session, *, actor: Principal, name: str) -> bool:
    """Stop using a criterion (its scores are kept, but no longer count); False if it was not in use."""
    authorize(actor, Action.MANAGE_CRITERIA)
    criterion = find_criterion(session, name)
    if criterion is None:
        raise NotFound(N_("There is no criterion called “%(name)s”."), name=name[:100])
    if not criterion.active:
        return False
    criterion.active = False
    session.add(criterion)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="criterion.retired",
        object_type="selection_criterion",
        object_id=criterion.id or 0,
        purpose="setting the partnership's selection criteria",
    )
    return True


# --- scoring --------------------------------------------------------------------------------------


def scoring(session: Session, *, actor: Principal, case_id: int) -> tuple[CaseCard, list[ScoreLine]]:
    """What the scoring form shows: the case's card and a line per criterion in use. Refused when the
    actor may not score this case, or when the partnership has no criteria yet."""
    case = get_case(session, case_id)
    authorize(actor, Action.SCORE_CASE, relation=case_relation(session, actor, case))
    active = criteria(session)
    if not active:
        raise InvalidInput(
            N_(
                "The partnership has no selection criteria yet: "
                "a coordinator sets them with `/samen criteria`."
            )
        )
    return card(session, case), score_lines(session, case_id, active)


def score(
    session: Session, *, actor: Principal, case_id: int, scores: Mapping[int, tuple[int | None, str | None]]
) -> list[int]:
    """Record judgements: criterion id → (score, reason). One score and one reason per criterion; the
    latest counts. Returns the criteria whose judgement changed."""
    case = get_case(session, case_id)
    authorize(actor, Action.SCORE_CASE, relation=case_relation(session, actor, case))
    changed: list[int] = []
    for criterion_id, (value, reason_typed) in scores.items():
        block = f"criterion_{criterion_id}"
        criterion = session.get(SelectionCriterion, criterion_id)
        if criterion is None or not criterion.active:
            raise InvalidInput(N_("This criterion is no longer in use."), field=block)
        reason = " ".join((reason_typed or "").split())
        if value is None and not reason:
            continue
        if value is None:
            raise InvalidInput(N_("Choose a score, or leave the reason empty too."), field=block)
        if not 0 <= value <= criterion.scale_max:
            raise InvalidInput(
                N_("The score must be from 0 to %(maximum)s."), field=block, maximum=criterion.scale_max
            )
        reason_block = f"reason_{criterion_id}"
        if not reason:
            raise InvalidInput(
                N_("Give the reason for this score: the queue shows it to every partner."), field=reason_block
            )
        if len(reason) > MAX_REASON:
            raise InvalidInput(
                N_("This is %(length)s characters long; the most is %(maximum)s."),
                field=reason_block,
                length=len(reason),
                maximum=MAX_REASON,
            )
        found = pii.find(reason)
        if found:
            raise InvalidInput(
                N_(
                    "Every partner reads the reasons: take out the personal data (%(kinds)s) "
                    "and use subject codes."
                ),
                field=reason_block,
                kinds=tuple(Label(pii.KIND_LABELS[kind]) for kind in pii.counts(found)),
            )
        existing = session.exec(
            select(CaseScore).where(CaseScore.case_id == case_id, CaseScore.criterion_id == criterion_id)
        ).first()
        if existing is not None and (existing.score, existing.reason) == (value, reason):
            continue
        row = existing or CaseScore(
            case_id=case_id,
            criterion_id=criterion_id,
            score=value,
            reason=reason,
            by_team_id="",
            by_user_id="",
        )
        row.score, row.reason = value, reason
        row.by_team_id, row.by_user_id, row.at = actor.team_id, actor.user_id, clock.now(session)
        session.add(row)
        changed.append(criterion_id)
    if changed:
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="case.scored",
            object_type="case",
            object_id=case_id,
            purpose="scoring a case on the selection criteria",
            details={"criteria": changed},
        )
    return changed


# --- looking up -----------------------------------------------------------------------------------


@dataclass
class CaseView:
    card: CaseCard
    created_at: datetime
    relation: str
    rank: int | None
    total: float
    lines: list[ScoreLine]
    signals: list[SignalDetail] = field(default_factory=list)
    may_score: bool = False
    may_join: bool = False


def case_view(session: Session, *, actor: Principal, case_id: int, purpose: str) -> CaseView:
    """A case for one person. Its signals' details show where that person's partner may see them (each
    such reading audited by the signals' own rule)."""
    case = get_case(session, case_id)
    relation = case_relation(session, actor, case)
    lines = score_lines(session, case_id, criteria(session))
    place = queue_place(session, case_id)
    signal_ids = session.exec(
        select(CaseSignal.signal_id).where(CaseSignal.case_id == case_id).order_by(col(CaseSignal.signal_id))
    ).all()
    return CaseView(
        card=card(session, case),
        created_at=case.created_at,
        relation=relation.value,
        rank=place[0] if place else None,
        total=total_of(lines),
        lines=lines,
        signals=[signals.detail(session, actor=actor, signal_id=s, purpose=purpose) for s in signal_ids],
        may_score=is_allowed(actor, Action.SCORE_CASE, relation=relation) and bool(lines),
        may_join=(
            case.status is CaseStatus.OPEN
            and not isinstance(actor, SystemActor)
            and actor.partner_id != case.lead_partner_id
        ),
    )


def shows_details(session: Session, *, actor: Principal, case_id: int) -> bool:
    """Whether `case_view` would show (and so audit) the details of one of the case's signals."""
    get_case(session, case_id)  # NotFound, as case_view says it
    signal_ids = session.exec(select(CaseSignal.signal_id).where(CaseSignal.case_id == case_id)).all()
    return any(may_see_details(session, actor, get_signal(session, s)) for s in signal_ids)


def home_cases(session: Session, *, actor: Principal) -> list[CaseCard]:
    """The open cases my partner leads or joined."""
    assert not isinstance(actor, SystemActor)
    joined = select(CasePartner.case_id).where(CasePartner.partner_id == actor.partner_id)
    found = session.exec(
        select(Case)
        .where(Case.status == CaseStatus.OPEN)
        .where(or_(col(Case.lead_partner_id) == actor.partner_id, col(Case.id).in_(joined)))
        .order_by(col(Case.created_at).desc(), col(Case.id).desc())
        .limit(HOME_LIMIT)
    ).all()
    return cards(session, found)


def _partner_name(session: Session, partner_id: int) -> str:
    partner = session.get(Partner, partner_id)
    return partner.name if partner else "-"


def _id(case: Case) -> int:
    assert case.id is not None, "flushed before use"
    return case.id
