"""A backup alert's details: need to know. Who may read what the reporter wrote, and whom to ask.

The broadcast tells every partner only who asks and what kind of incident it is (docs/domain.md rule
7); the description, the place, the reporter and what each partner did are for those who act on it:
the reporter's own partner, each partner's duty contacts and lead, and the coordinators. Every view is
in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlmodel import Session, col, select

from bot import audit
from bot.alerts.models import AlertPartner, BackupAlert, SupportAction
from bot.alerts.reading import get_alert, partner_name, partner_rows, reporter_of
from bot.authz import Action, Relation, authorize
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef

PURPOSE_DETAILS: Final = "backup alert: need to know, to give cover"


@dataclass(frozen=True)
class Details:
    alert: BackupAlert
    reporter: PersonRef
    partner_name: str
    description: str | None
    place: str | None
    summary: str | None
    lesson: str | None
    actions: list[SupportAction]
    partner_names: dict[int, str]


def view_details(
    session: Session, *, actor: Member, alert_id: int, purpose: str = PURPOSE_DETAILS
) -> Details:
    """The restricted part, for those who need it to give cover; every view is in the audit log."""
    alert = get_alert(session, alert_id=alert_id)
    authorize(actor, Action.VIEW_BACKUP_ALERT_DETAILS, relation=details_relation(session, alert, actor))
    rows = partner_rows(session, alert)
    names = {row.partner_id: row.partner_name for row in rows}
    actions = list(
        session.exec(
            select(SupportAction)
            .where(SupportAction.alert_id == alert_id)
            .order_by(col(SupportAction.round), col(SupportAction.id))
        ).all()
    )
    audit.record(
        session,
        actor=actor,
        action="backup_alert.details_viewed",
        object_type="backup_alert",
        object_id=alert_id,
        purpose=purpose,
        details={"relation": details_relation(session, alert, actor).value},
    )
    return Details(
        alert=alert,
        reporter=reporter_of(alert),
        partner_name=names.get(alert.reporter_partner_id) or partner_name(session, alert.reporter_partner_id),
        description=alert.description,
        place=alert.place,
        summary=alert.summary,
        lesson=alert.lesson,
        actions=actions,
        partner_names=names,
    )


def details_relation(session: Session, alert: BackupAlert, actor: Member) -> Relation:
    """OWN: the reporter's partner. GIVEN_ACCESS: a duty contact or the lead of a partner the alert went
    to (they act on it for their partner). OTHER: anyone else, who sees only what was broadcast."""
    if actor.partner_id == alert.reporter_partner_id:
        return Relation.OWN
    row = session.get(AlertPartner, (alert.id, actor.partner_id))
    if row is None:
        return Relation.OTHER
    partner = session.get(Partner, actor.partner_id)
    if partner is not None and partner.lead == actor.person:
        return Relation.GIVEN_ACCESS
    if actor.person in {c.person for c in partners.duty_contacts(session, partner_id=actor.partner_id)}:
        return Relation.GIVEN_ACCESS
    return Relation.OTHER


def who_has_access(session: Session, *, partner_id: int) -> list[PersonRef]:
    """Whom a member without access asks: their own partner's duty contacts and lead, or, where it
    has neither, the coordinators (nobody of that partner can see the details)."""
    people = [c.person for c in partners.duty_contacts(session, partner_id=partner_id)]
    partner = session.get(Partner, partner_id)
    if partner is not None and partner.lead is not None and partner.lead not in people:
        people.append(partner.lead)
    return people or [m.person for m in partners.coordinators(session)]
