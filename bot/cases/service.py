"""Cases and the shared work queue: make a case, join it, set the criteria, score it, rank the queue.

A case's rank is the sum of human judgements — one score and one reason per criterion the partnership
chose together, weighed by the criterion's weight — never an automatic score of a person (docs/domain.md
rule 6). A case shows its subjects by code; the details of its signals follow each signal's own sharing
(originator control), so joining a case gives a partner no other partner's details.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import case as sa_case
from sqlalchemy import func, or_
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from bot import audit, pii
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
from bot.clock import utcnow
from bot.i18n import N_
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.partners.models import Partner
from bot.signals import notices
from bot.signals import service as signals
from bot.signals.models import Signal, SignalSubject, Subject
from bot.signals.notices import Outbound
from bot.signals.service import InvalidInput, NotFound, SignalDetail, SubjectRef
from bot.vocabulary import CONTRIBUTION_LABELS, FOCUS_LABELS, Contribution, FocusElement, SubjectRole

MANAGING_ROLES: Final = (Role.COORDINATOR, Role.ADMIN)
MAX_CRITERION_NAME: Final = 100
MAX_WEIGHT: Final = 10
MAX_SCALE: Final = 10
MAX_REASON: Final = 1000
QUEUE_LIMIT: Final = 20
HOME_LIMIT: Final = 5

STATUS_LABELS: Final[dict[CaseStatus, str]] = {
    CaseStatus.OPEN: N_("open case"),
    CaseStatus.GESLOTEN: N_("closed case"),
}


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


def criteria(session: Session, *, active_only: bool = True) -> list[SelectionCriterion]:
    query = select(SelectionCriterion)
    if active_only:
        query = query.where(col(SelectionCriterion.active).is_(True))
    return list(
        session.exec(query.order_by(col(SelectionCriterion.weight).desc(), col(SelectionCriterion.id))).all()
    )


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
                kinds=tuple(pii.counts(found)),
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
        row.by_team_id, row.by_user_id, row.at = actor.team_id, actor.user_id, utcnow()
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


# --- the work queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    criterion_id: int
    criterion: str
    weight: int
    scale_max: int
    score: int | None
    reason: str | None
    by_user_id: str | None


@dataclass
class CaseCard:
    id: int
    title: str
    lead: str
    focus: str
    focus_label: str
    status: str
    status_label: str
    strategic: bool
    subjects: list[SubjectRef]
    partners: list[dict[str, str]]  # {"name", "contribution_label"}

    def as_context(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QueueEntry:
    rank: int
    case: CaseCard
    total: float  # 0–100: the weighed share of the highest possible score
    lines: list[ScoreLine]
    unscored: int


def card(session: Session, case: Case) -> CaseCard:
    return cards(session, [case])[0]


def cards(session: Session, shown: Sequence[Case]) -> list[CaseCard]:
    """Cards for a page of cases in three queries (subjects, partners, partner names), not per case."""
    ids = [_id(case) for case in shown]
    subjects: dict[int, list[Subject]] = {case_id: [] for case_id in ids}
    for case_id, subject in session.exec(
        select(CaseSubject.case_id, Subject)
        .join(CaseSubject, col(CaseSubject.subject_id) == col(Subject.id))
        .where(col(CaseSubject.case_id).in_(ids))
        .order_by(col(Subject.code))
        .options(defer(Subject.identity))  # type: ignore[arg-type]  # sealed, and not shown on a card
    ).all():
        subjects[case_id].append(subject)
    joined: dict[int, list[CasePartner]] = {case_id: [] for case_id in ids}
    for row in session.exec(
        select(CasePartner).where(col(CasePartner.case_id).in_(ids)).order_by(col(CasePartner.joined_at))
    ).all():
        joined[row.case_id].append(row)
    wanted = {case.lead_partner_id for case in shown} | {
        j.partner_id for rows in joined.values() for j in rows
    }
    names = dict(session.exec(select(Partner.id, Partner.name).where(col(Partner.id).in_(wanted))).all())
    return [
        CaseCard(
            id=_id(case),
            title=case.title,
            lead=names.get(case.lead_partner_id, "-"),
            focus=case.focus_element.value,
            focus_label=FOCUS_LABELS[case.focus_element],
            status=case.status.value,
            status_label=STATUS_LABELS[case.status],
            strategic=case.strategic,
            subjects=[signals.subject_ref(s) for s in subjects[_id(case)]],
            partners=[
                {
                    "name": names.get(j.partner_id, "-"),
                    "contribution_label": CONTRIBUTION_LABELS[j.contribution],
                }
                for j in joined[_id(case)]
            ],
        )
        for case in shown
    ]


def score_lines(session: Session, case_id: int, active: list[SelectionCriterion]) -> list[ScoreLine]:
    return _lines_of(session, [case_id], active)[case_id]


def _lines_of(
    session: Session, case_ids: list[int], active: list[SelectionCriterion]
) -> dict[int, list[ScoreLine]]:
    """The score lines of several cases, read in one query (a page of the queue, not one per case)."""
    given: dict[int, dict[int, CaseScore]] = {case_id: {} for case_id in case_ids}
    if case_ids:
        for s in session.exec(select(CaseScore).where(col(CaseScore.case_id).in_(case_ids))).all():
            given[s.case_id][s.criterion_id] = s
    return {case_id: [_line(c, scores.get(c.id or 0)) for c in active] for case_id, scores in given.items()}


def _line(criterion: SelectionCriterion, judged: CaseScore | None) -> ScoreLine:
    return ScoreLine(
        criterion_id=criterion.id or 0,
        criterion=criterion.name,
        weight=criterion.weight,
        scale_max=criterion.scale_max,
        score=judged.score if judged else None,
        reason=judged.reason if judged else None,
        by_user_id=judged.by_user_id if judged else None,
    )


def total_of(lines: list[ScoreLine]) -> float:
    """Σ weight × score/scale over Σ weight, as 0–100 to one decimal (half up); a criterion not yet
    scored counts as 0. Computed exactly in integers, the way the queue's SQL ranks (`_ranked`), so the
    order people see always agrees with the totals they see."""
    scales = _Scales.of([(line.weight, line.scale_max) for line in lines])
    earned = sum(line.weight * (scales.common // line.scale_max) * (line.score or 0) for line in lines)
    return scales.tenths(earned) / 10


@dataclass(frozen=True)
class _Scales:
    """Every criterion's score brought onto one common scale (the least common multiple of the scales),
    so a case's total is an integer sum that SQL can compute and compare exactly."""

    common: int  # lcm of the scales
    denominator: int  # common × Σ weight: the highest possible sum

    @classmethod
    def of(cls, criteria: list[tuple[int, int]]) -> _Scales:
        common = math.lcm(*(scale for _weight, scale in criteria)) if criteria else 1
        return cls(common, common * sum(weight for weight, _scale in criteria))

    def tenths(self, earned: Any) -> Any:
        """The total in tenths, rounded half up: works on an int and on an SQL integer expression."""
        if not self.denominator:
            return 0 * earned
        return (2000 * earned + self.denominator) // (2 * self.denominator)


def _ranked(session: Session, active: list[SelectionCriterion]) -> Any:
    """The open cases with their total (in tenths) and their place, as one SQL subquery."""
    scales = _Scales.of([(c.weight, c.scale_max) for c in active])
    # Each criterion's factor comes from the criteria this transaction read, not from a second read.
    factors = {c.id: c.weight * (scales.common // c.scale_max) for c in active}
    weighed = (
        sa_case(factors, value=col(CaseScore.criterion_id), else_=0) * col(CaseScore.score) if factors else 0
    )
    earned = (
        select(col(CaseScore.case_id).label("case_id"), func.sum(weighed).label("earned"))
        .where(col(CaseScore.criterion_id).in_(list(factors)))
        .where(col(CaseScore.case_id).in_(select(Case.id).where(Case.status == CaseStatus.OPEN)))
        .group_by(col(CaseScore.case_id))
        .subquery()
    )
    tenths = scales.tenths(func.coalesce(earned.c.earned, 0))
    order = (tenths.desc(), col(Case.created_at), col(Case.id))  # on a tie the older case first
    return (
        select(
            col(Case.id).label("case_id"),
            tenths.label("tenths"),
            func.row_number().over(order_by=order).label("rank"),
        )
        .outerjoin(earned, earned.c.case_id == col(Case.id))
        .where(Case.status == CaseStatus.OPEN)
        .subquery()
    )


def work_queue(
    session: Session, *, limit: int = QUEUE_LIMIT, offset: int = 0
) -> tuple[list[QueueEntry], int]:
    """One page of the open cases in rank order (highest total first; older first on a tie), and how
    many there are. Ranking, counting and paging happen in SQL: the cost follows the page, not the queue."""
    active = criteria(session)
    ranked = _ranked(session, active)
    page = session.exec(
        select(ranked.c.case_id, ranked.c.rank).order_by(ranked.c.rank).offset(offset).limit(limit)
    ).all()
    count = session.exec(select(func.count()).select_from(Case).where(Case.status == CaseStatus.OPEN)).one()
    ids = [case_id for case_id, _rank in page]
    cases = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(ids))).all()} if ids else {}
    lines = _lines_of(session, ids, active)
    shown = dict(zip(ids, cards(session, [cases[case_id] for case_id in ids]), strict=True))
    entries = [
        QueueEntry(
            rank=rank,
            case=shown[case_id],
            total=total_of(lines[case_id]),
            lines=lines[case_id],
            unscored=sum(1 for line in lines[case_id] if line.score is None),
        )
        for case_id, rank in page
    ]
    return entries, count


def queue_place(session: Session, case_id: int) -> tuple[int, float] | None:
    """An open case's rank in the work queue and its total; None for a closed or unknown case."""
    active = criteria(session)
    ranked = _ranked(session, active)
    found = session.exec(select(ranked.c.rank, ranked.c.tenths).where(ranked.c.case_id == case_id)).first()
    return (int(found[0]), int(found[1]) / 10) if found else None


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
    return any(signals.may_see_details(session, actor, signals.get_signal(session, s)) for s in signal_ids)


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
