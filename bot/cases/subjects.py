"""What the partnership holds on one subject (`/samen subject <code>`): which partners have something on
it (the hit/no-hit, bot/subjects/holders.py), its signals and its cases, and who or what it is where need
to know allows — that reading audited. Here, above both signals and cases, because it shows both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot import audit
from bot.authz import Action, Principal, is_allowed
from bot.cases.models import Case, CaseSubject
from bot.signals.access import partner_name, signals_on, subject_relation
from bot.signals.cards import SignalCard, SubjectRef, card, subject_ref
from bot.subjects import codes
from bot.subjects.holders import holders


@dataclass
class SubjectView:
    subject: SubjectRef
    created_at: datetime
    described_by: str
    partners: list[str]  # every partner that has something on it: the hit/no-hit
    signals: list[SignalCard]
    cases: list[dict[str, Any]]  # {"id", "title", "lead", "status"}
    may_see_identity: bool
    identity: str | None = None


def subject_view(session: Session, *, actor: Principal, code: str, purpose: str) -> SubjectView:
    subject = codes.require(session, code)
    subject_id = subject.id or 0
    relation = subject_relation(session, actor, subject)
    allowed = is_allowed(actor, Action.VIEW_SIGNAL_DETAILS, relation=relation)
    cases = session.exec(
        select(Case)
        .join(CaseSubject, col(CaseSubject.case_id) == col(Case.id))
        .where(CaseSubject.subject_id == subject_id)
        .order_by(col(Case.id))
    ).all()
    view = SubjectView(
        subject=subject_ref(subject),
        created_at=subject.created_at,
        described_by=partner_name(session, subject.partner_id),
        partners=sorted(partner_name(session, p) for p in holders(session, subject_id=subject_id)),
        signals=[card(session, s) for s in signals_on(session, subject_id=subject_id)],
        cases=[
            {
                "id": c.id,
                "title": c.title,
                "lead": partner_name(session, c.lead_partner_id),
                "status": c.status.value,
            }
            for c in cases
        ],
        may_see_identity=allowed,
    )
    if allowed and subject.identity:
        view.identity = subject.identity
        audit.record(
            session,
            actor=actor,
            action="subject.identity_viewed",
            object_type="subject",
            object_id=subject_id,
            purpose=purpose,
            details={"relation": relation.value},
        )
    return view
