"""Who may see a signal's restricted part, and finding signals: need to know (docs/domain.md rules 1–3).

A signal's details, the identities of its subjects, the message it came from and the weighing's reasons
are for the originating partner, the partners it gave access, and the coordinators unless the reporter
chose otherwise.
"""

from __future__ import annotations

from typing import Final

from sqlmodel import Session, col, select

from bot.authz import Action, Principal, Relation, Role, SystemActor, is_allowed, relation_to
from bot.i18n import N_
from bot.partners.models import Partner
from bot.signals.errors import NotFound
from bot.signals.models import Signal, SignalAccess, SignalSubject
from bot.subjects.models import Subject

MANAGING_ROLES: Final = (Role.COORDINATOR, Role.ADMIN)


def access_partner_ids(session: Session, signal_id: int) -> frozenset[int]:
    return frozenset(
        session.exec(select(SignalAccess.partner_id).where(SignalAccess.signal_id == signal_id)).all()
    )


def signal_relation(session: Session, actor: Principal, signal: Signal) -> Relation:
    """OWN for the originating partner; GIVEN_ACCESS for partners it shared with and, unless the reporter
    chose otherwise, the coordinators; OTHER for everyone else."""
    assert signal.id is not None
    relation = relation_to(actor, signal.partner_id, shared_with=access_partner_ids(session, signal.id))
    coordinator = not isinstance(actor, SystemActor) and Role(actor.role) in MANAGING_ROLES
    if relation is Relation.OTHER and signal.share_with_coordinators and coordinator:
        return Relation.GIVEN_ACCESS
    return relation


def may_see_details(session: Session, actor: Principal, signal: Signal) -> bool:
    return is_allowed(actor, Action.VIEW_SIGNAL_DETAILS, relation=signal_relation(session, actor, signal))


def subject_relation(session: Session, actor: Principal, subject: Subject) -> Relation:
    """Who or what a subject is was told by the partner that described it, in one of its signals:
    whoever may see the details of such a signal may see the identity too."""
    if isinstance(actor, SystemActor) or actor.partner_id == subject.partner_id:
        return Relation.OWN
    for signal in signals_on(session, subject_id=_id(subject), partner_id=subject.partner_id):
        if signal_relation(session, actor, signal) is not Relation.OTHER:
            return Relation.GIVEN_ACCESS
    return Relation.OTHER


def signals_on(session: Session, *, subject_id: int, partner_id: int | None = None) -> list[Signal]:
    query = (
        select(Signal)
        .join(SignalSubject, col(SignalSubject.signal_id) == col(Signal.id))
        .where(SignalSubject.subject_id == subject_id)
    )
    if partner_id is not None:
        query = query.where(Signal.partner_id == partner_id)
    return list(session.exec(query.order_by(col(Signal.id))).all())


def get_signal(session: Session, signal_id: int) -> Signal:
    signal = session.get(Signal, signal_id)
    if signal is None:
        raise NotFound(N_("There is no signal with number %(number)s."), number=signal_id)
    return signal


def partner_name(session: Session, partner_id: int | None) -> str:
    if partner_id is None:
        return "-"
    partner = session.get(Partner, partner_id)
    return partner.name if partner else "-"


def _id(row: Signal | Subject) -> int:
    assert row.id is not None, "flushed before use"
    return row.id
