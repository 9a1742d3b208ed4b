"""What people see of signals: the labels, the card the whole partnership may see, one signal's detail
for one person (its restricted part only where need to know allows, and that reading audited), the
search and the App Home's overview. Nothing here changes a signal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import or_, union_all
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from bot import audit
from bot.authz import Action, Principal, Relation, Role, SystemActor, is_allowed
from bot.i18n import N_
from bot.partners.models import Partner
from bot.signals import search as signal_search
from bot.signals.access import (
    MANAGING_ROLES,
    access_partner_ids,
    get_signal,
    partner_name,
    signal_relation,
    subject_relation,
)
from bot.signals.models import (
    Assessment,
    CaseSignal,
    Recency,
    Signal,
    SignalAccess,
    SignalStatus,
    SignalSubject,
    WeighingStep,
)
from bot.subjects.models import Subject
from bot.vocabulary import (
    CATEGORY_LABELS,
    FOCUS_LABELS,
    SUBJECT_KIND_LABELS,
    SUBJECT_ROLE_LABELS,
    SubjectRole,
)

SEARCH_LIMIT: Final = 15
HOME_LIMIT: Final = 5
CLOSED: Final = (SignalStatus.GEEN_ACTIE, SignalStatus.DOORVERWEZEN, SignalStatus.CASUS)

STATUS_LABELS: Final[dict[SignalStatus, str]] = {
    SignalStatus.NIEUW: N_("new, not yet weighed"),
    SignalStatus.IN_WEGING: N_("being weighed"),
    SignalStatus.GEEN_ACTIE: N_("weighed, no action"),
    SignalStatus.DOORVERWEZEN: N_("weighed, referred"),
    SignalStatus.CASUS: N_("weighed, now a case"),
}

RECENCY_LABELS: Final[dict[Recency, str]] = {
    Recency.WEEK: N_("within the last week"),
    Recency.MAAND: N_("within the last month"),
    Recency.JAAR: N_("within the last year"),
    Recency.OUDER: N_("longer ago"),
}

STEP_LABELS: Final[dict[WeighingStep, str]] = {
    WeighingStep.ONDERMIJNING: N_("Is it ondermijning?"),
    WeighingStep.TAAK: N_("Whose task, on what legal basis?"),
    WeighingStep.ERNST: N_("How serious, how recent?"),
    WeighingStep.UITKOMST: N_("Outcome of the weighing"),
}


class Verdict(StrEnum):
    """The answer to "is it ondermijning?"."""

    JA = "ja"
    NEE = "nee"
    TWIJFEL = "twijfel"


VERDICT_LABELS: Final[dict[Verdict, str]] = {
    Verdict.JA: N_("yes, ondermijning"),
    Verdict.NEE: N_("no, not ondermijning"),
    Verdict.TWIJFEL: N_("in doubt"),
}


class Outcome(StrEnum):
    GEEN_ACTIE = "GEEN_ACTIE"
    DOORVERWIJZEN = "DOORVERWIJZEN"
    CASUS = "CASUS"


OUTCOME_LABELS: Final[dict[Outcome, str]] = {
    Outcome.GEEN_ACTIE: N_("No action"),
    Outcome.DOORVERWIJZEN: N_("Refer to a partner"),
    Outcome.CASUS: N_("Make it a case"),
}


@dataclass(frozen=True)
class SubjectRef:
    """A subject as channels show it: its code, kind and role."""

    code: str
    kind: str
    kind_label: str
    role: str
    role_label: str
    new: bool = False


@dataclass(frozen=True)
class SignalCard:
    """What the whole partnership may see of a signal (plain JSON, so it can ride in an outbox row)."""

    id: int
    partner: str
    category: str
    category_label: str
    focus_label: str | None
    status: str
    status_label: str
    summary: str
    location: str | None
    subjects: list[SubjectRef]
    case_id: int | None = None
    referred_to: str | None = None

    def as_context(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AssessmentView:
    step: str
    step_label: str
    answer_label: str
    extra_label: str | None  # the recency, for the ERNST step
    recency: str | None
    answer: str
    legal_basis: str | None
    reason: str
    by_user_id: str
    at: datetime


@dataclass
class SignalDetail:
    """One signal for one person: the card, and the restricted part when they may see it."""

    card: SignalCard
    created_at: datetime
    may_see: bool
    own: bool
    details: str | None = None
    kept_out: dict[str, str] = field(default_factory=dict)
    permalink: str | None = None
    reporter_user_id: str | None = None
    shared_with: list[str] = field(default_factory=list)
    share_with_coordinators: bool = True
    assessments: list[AssessmentView] = field(default_factory=list)
    identities: dict[str, str] = field(default_factory=dict)  # code → identity, where it may be seen
    may_weigh: bool = False


def assessments_of(session: Session, signal_id: int) -> list[Assessment]:
    return list(
        session.exec(
            select(Assessment).where(Assessment.signal_id == signal_id).order_by(col(Assessment.id))
        ).all()
    )


def card(
    session: Session, signal: Signal, *, new_codes: set[str] | frozenset[str] = frozenset()
) -> SignalCard:
    return cards(session, [signal], new_codes=new_codes)[0]


def cards(
    session: Session, shown: Sequence[Signal], *, new_codes: set[str] | frozenset[str] = frozenset()
) -> list[SignalCard]:
    """Cards for a list of signals in three queries (subjects, cases, partner names), not per signal."""
    ids = [_id(signal) for signal in shown]
    subjects: dict[int, list[tuple[Subject, str]]] = {signal_id: [] for signal_id in ids}
    for signal_id, subject, role in session.exec(
        select(SignalSubject.signal_id, Subject, SignalSubject.role)
        .join(SignalSubject, col(SignalSubject.subject_id) == col(Subject.id))
        .where(col(SignalSubject.signal_id).in_(ids))
        .order_by(col(Subject.code))
        .options(defer(Subject.identity))  # type: ignore[arg-type]  # sealed, and not on a card
    ).all():
        subjects[signal_id].append((subject, role))
    case_of: dict[int, int] = {}
    for signal_id, case_id in session.exec(
        select(CaseSignal.signal_id, CaseSignal.case_id)
        .where(col(CaseSignal.signal_id).in_(ids))
        .order_by(col(CaseSignal.case_id))
    ).all():
        case_of.setdefault(signal_id, case_id)  # the first case it became part of
    wanted = {s.partner_id for s in shown} | {
        s.referred_to_partner_id for s in shown if s.referred_to_partner_id
    }
    names = dict(session.exec(select(Partner.id, Partner.name).where(col(Partner.id).in_(wanted))).all())
    return [
        SignalCard(
            id=_id(signal),
            partner=names.get(signal.partner_id, "-"),
            category=signal.category.value,
            category_label=CATEGORY_LABELS[signal.category],
            focus_label=FOCUS_LABELS[signal.focus_element] if signal.focus_element else None,
            status=signal.status.value,
            status_label=STATUS_LABELS[signal.status],
            summary=signal.summary,
            location=signal.location_or_sector,
            subjects=[
                subject_ref(subject, SubjectRole(role), new=subject.code in new_codes)
                for subject, role in subjects[_id(signal)]
            ],
            case_id=case_of.get(_id(signal)),
            referred_to=names.get(signal.referred_to_partner_id, "-")
            if signal.referred_to_partner_id
            else None,
        )
        for signal in shown
    ]


def subject_ref(subject: Subject, role: SubjectRole | None = None, *, new: bool = False) -> SubjectRef:
    role = role or subject.role
    return SubjectRef(
        code=subject.code,
        kind=subject.kind.value,
        kind_label=SUBJECT_KIND_LABELS[subject.kind],
        role=role.value,
        role_label=SUBJECT_ROLE_LABELS[role],
        new=new,
    )


def search(session: Session, *, actor: Principal, term: str = "") -> list[SignalCard]:
    """The newest signals matching a term in their summary, location, category or subject codes.

    Only what the whole partnership may see; details need `detail` (one signal, audited).
    """
    # Substring, case and accents ignored, through the search index (bot/signals/search.py).
    return cards(session, signal_search.newest_matching(session, term.split(), SEARCH_LIMIT))


def detail(session: Session, *, actor: Principal, signal_id: int, purpose: str) -> SignalDetail:
    """One signal; its restricted part only for those who may see it, and that reading is audited."""
    signal = get_signal(session, signal_id)
    relation = signal_relation(session, actor, signal)
    allowed = is_allowed(actor, Action.VIEW_SIGNAL_DETAILS, relation=relation)
    shown = SignalDetail(
        card=card(session, signal),
        created_at=signal.created_at,
        may_see=allowed,
        own=relation is Relation.OWN,
        may_weigh=is_allowed(actor, Action.WEIGH_SIGNAL, relation=relation) and signal.status not in CLOSED,
    )
    if not allowed:
        return shown
    shown.details = signal.details
    shown.kept_out = json.loads(signal.kept_out) if signal.kept_out else {}
    shown.permalink = signal.source_permalink
    shown.reporter_user_id = signal.reporter_user_id
    shown.shared_with = sorted(partner_name(session, p) for p in access_partner_ids(session, signal_id))
    shown.share_with_coordinators = signal.share_with_coordinators
    shown.assessments = [_assessment_view(session, a) for a in assessments_of(session, signal_id)]
    for link in session.exec(select(SignalSubject).where(SignalSubject.signal_id == signal_id)).all():
        subject = session.get(Subject, link.subject_id)
        if (
            subject is not None
            and subject.identity
            and subject_relation(session, actor, subject) is not Relation.OTHER
        ):
            shown.identities[subject.code] = subject.identity
    audit.record(
        session,
        actor=actor,
        action="signal.details_viewed",
        object_type="signal",
        object_id=signal_id,
        purpose=purpose,
        details={"relation": relation.value, "identities": sorted(shown.identities)},
    )
    return shown


def _assessment_view(session: Session, assessment: Assessment) -> AssessmentView:
    step = assessment.step
    extra = None
    if step is WeighingStep.ONDERMIJNING:
        label = VERDICT_LABELS.get(Verdict(assessment.answer), assessment.answer)
    elif step is WeighingStep.TAAK:
        label = partner_name(session, int(assessment.answer))
    elif step is WeighingStep.ERNST:
        label = assessment.answer
        extra = RECENCY_LABELS[Recency(assessment.recency)] if assessment.recency else None
    else:
        label = OUTCOME_LABELS[Outcome(assessment.answer)]
    return AssessmentView(
        step=step.value,
        step_label=STEP_LABELS[step],
        answer_label=label,
        extra_label=extra,
        recency=assessment.recency,
        answer=assessment.answer,
        legal_basis=assessment.legal_basis,
        reason=assessment.reason,
        by_user_id=assessment.by_user_id,
        at=assessment.at,
    )


@dataclass
class HomeOverview:
    partner: str
    recent: list[SignalCard]
    to_weigh: list[SignalCard]


def home_overview(session: Session, *, actor: Principal) -> HomeOverview:
    """My partner's recent signals and, for coordinators, the signals waiting to be weighed."""
    assert not isinstance(actor, SystemActor)
    recent = session.exec(
        select(Signal)
        .where(Signal.partner_id == actor.partner_id)
        .order_by(col(Signal.created_at).desc(), col(Signal.id).desc())
        .limit(HOME_LIMIT)
    ).all()
    to_weigh: list[SignalCard] = []
    if Role(actor.role) in MANAGING_ROLES:
        to_weigh = cards(session, _waiting_for(session, actor))
    return HomeOverview(
        partner=partner_name(session, actor.partner_id),
        recent=cards(session, recent),
        to_weigh=to_weigh,
    )


def _waiting_for(session: Session, actor: Principal) -> list[Signal]:
    """The oldest signals waiting to be weighed that this coordinator may weigh, at most HOME_LIMIT.

    `signal_relation` in SQL (own partner's, shared with it, or shared with the coordinators), so the
    database stops at the fifth instead of Python loading every open signal; one ordered walk of
    ix_signal_status_created per status (with `status IN (…)` PostgreSQL walked every signal by date)."""
    assert not isinstance(actor, SystemActor)
    shared = select(SignalAccess.signal_id).where(SignalAccess.partner_id == actor.partner_id)
    may_weigh = or_(
        col(Signal.partner_id) == actor.partner_id,
        col(Signal.share_with_coordinators).is_(True),
        col(Signal.id).in_(shared),
    )
    oldest = (col(Signal.created_at), col(Signal.id))
    per_status = [
        select(col(Signal.id), col(Signal.created_at))
        .where(Signal.status == status, may_weigh)
        .order_by(*oldest)
        .limit(HOME_LIMIT)
        .subquery()  # SQLite takes no LIMIT inside a UNION's member itself
        for status in (SignalStatus.NIEUW, SignalStatus.IN_WEGING)
    ]
    each: Any = union_all  # (mypy 2.4 crashes inferring union_all(*list))
    both: Any = each(*(select(part.c.id, part.c.created_at) for part in per_status)).subquery()
    ids = session.exec(select(both.c.id).order_by(both.c.created_at, both.c.id).limit(HOME_LIMIT)).all()
    found = {s.id: s for s in session.exec(select(Signal).where(col(Signal.id).in_(ids))).all()}
    # The rule itself still decides each row shown: SQL only narrows what is read.
    return [
        found[i]
        for i in ids
        if is_allowed(actor, Action.WEIGH_SIGNAL, relation=signal_relation(session, actor, found[i]))
    ]


def _id(row: Signal | Subject) -> int:
    assert row.id is not None, "flushed before use"
    return row.id
