"""The shared work queue (werkvoorraad): the open cases in rank order, each on a card with its score lines.

A case's rank is the sum of human judgements — one score and one reason per selection criterion, weighed by
the criterion's weight — computed exactly in integers, stored on each open case for the queue's order
(bot/cases/totals.py) and in Python for a card (`total_of`), so the order people see always agrees with the
totals they see (docs/domain.md rule 6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from sqlalchemy import func, tuple_
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from bot.cases.models import Case, CasePartner, CaseScore, CaseStatus, CaseSubject, SelectionCriterion
from bot.cases.totals import Scales
from bot.i18n import N_
from bot.partners.models import Partner
from bot.signals.cards import SubjectRef, subject_ref
from bot.subjects.models import Subject
from bot.vocabulary import CONTRIBUTION_LABELS, FOCUS_LABELS

QUEUE_LIMIT: Final = 20
# Highest total first, the older case first on a tie: the order of the index ix_case_queue.
_QUEUE_ORDER: Final = (col(Case.total_tenths).desc(), col(Case.created_at), col(Case.id))

STATUS_LABELS: Final[dict[CaseStatus, str]] = {
    CaseStatus.OPEN: N_("open case"),
    CaseStatus.GESLOTEN: N_("closed case"),
}


def criteria(session: Session, *, active_only: bool = True) -> list[SelectionCriterion]:
    query = select(SelectionCriterion)
    if active_only:
        query = query.where(col(SelectionCriterion.active).is_(True))
    return list(
        session.exec(query.order_by(col(SelectionCriterion.weight).desc(), col(SelectionCriterion.id))).all()
    )


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
            subjects=[subject_ref(s) for s in subjects[_id(case)]],
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
    scored counts as 0. Computed exactly in integers, as the stored totals are (bot/cases/totals.py), so
    the order people see always agrees with the totals they see."""
    scales = Scales.of([(line.weight, line.scale_max) for line in lines])
    earned = sum(line.weight * (scales.common // line.scale_max) * (line.score or 0) for line in lines)
    return scales.tenths(earned) / 10


def work_queue(
    session: Session, *, limit: int = QUEUE_LIMIT, offset: int = 0
) -> tuple[list[QueueEntry], int]:
    """One page of the open cases in rank order (highest total first; older first on a tie), and how
    many there are. The page is read in the order of the stored totals (`ix_case_queue`, kept in step by
    bot/cases/totals.py): the cost follows the page, not the queue."""
    active = criteria(session)
    shown = session.exec(
        select(Case).where(Case.status == CaseStatus.OPEN).order_by(*_QUEUE_ORDER).offset(offset).limit(limit)
    ).all()
    count = session.exec(select(func.count()).select_from(Case).where(Case.status == CaseStatus.OPEN)).one()
    ids = [_id(case) for case in shown]
    lines = _lines_of(session, ids, active)
    entries = [
        QueueEntry(
            rank=offset + n,
            case=made,
            total=total_of(lines[made.id]),
            lines=lines[made.id],
            unscored=sum(1 for line in lines[made.id] if line.score is None),
        )
        for n, made in enumerate(cards(session, shown), start=1)
    ]
    return entries, count


def queue_place(session: Session, case_id: int) -> tuple[int, float] | None:
    """An open case's rank in the work queue and its total; None for a closed or unknown case. The
    rank counts the open cases ahead of it through the queue's index."""
    found = session.exec(
        select(Case.total_tenths, Case.created_at).where(Case.id == case_id, Case.status == CaseStatus.OPEN)
    ).first()
    if found is None:
        return None
    tenths, created_at = found
    open_cases = select(func.count()).select_from(Case).where(Case.status == CaseStatus.OPEN)
    higher = open_cases.where(col(Case.total_tenths) > tenths).scalar_subquery()
    older_tie = open_cases.where(
        col(Case.total_tenths) == tenths, tuple_(col(Case.created_at), col(Case.id)) < (created_at, case_id)
    ).scalar_subquery()
    ahead = session.exec(select(higher + older_tie)).one()
    return int(ahead) + 1, tenths / 10


def _id(case: Case) -> int:
    assert case.id is not None, "flushed before use"
    return case.id
