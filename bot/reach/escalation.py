"""Who is reached outside chat about a backup alert, by which way, when — and, at the moment of sending,
the address and the text. Ready for the outbox to carry (issue 19; docs/rugdekking.md):

- `escalation_deliveries`: a silent partner's T2 (its lead) and T3 (the coordinators), by SMS and by
  e-mail for each of them who has a number or address in the partners file and for each way that is on;
  T1 stays in chat. The reporter is never among them.
- `safety_deliveries`: the reporter's "Ben je veilig?" by SMS, when chat stayed unanswered.
- `compose`: at send time, the address (decrypted from the member's sealed column) and the letter (for
  e-mail with a fresh one-time link). Outbox rows therefore hold no number, address or link: only who,
  which way and about what.

Keys and refs follow bot/alerts/messages.py: `rugdekking:<alert>:p<partner>:t<tier>:<way>:<user>` once per
person, way and tier; the ref is the partner's escalation ref (`escalation_ref`) or the safety ref, so the
acknowledgement (or the safety answer) that cancels the chat rows cancels these in the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.alerts.messages import escalation_ref, safety_ref
from bot.alerts.models import BackupAlert
from bot.alerts.reading import partner_name, reporter_of
from bot.config import Settings
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.reach import links, texts
from bot.reach.texts import AlertFacts, Tier
from bot.reach.ways import EMAIL, SMS, Letter, WayName

TIERS: dict[Tier, int] = {"lead": 2, "coordinators": 3}


@dataclass(frozen=True)
class Delivery:
    """One message outside chat, as an outbox row would carry it: no address, no text, no link."""

    way: WayName
    person: PersonRef
    alert_id: int
    kind: str  # "lead" (T2), "coordinators" (T3) or "safety"
    partner_id: int | None  # the silent partner (escalations)
    key: str
    ref: str
    not_before: datetime


def _ways_on(settings: Settings) -> list[WayName]:
    ways: list[WayName] = []
    if settings.sms_on:
        ways.append(SMS)
    if settings.email_on:
        ways.append(EMAIL)
    return ways


def _has(session: Session, person: PersonRef, way: WayName) -> bool:
    return address_of(session, person, way) is not None


def address_of(session: Session, person: PersonRef, way: WayName) -> str | None:
    """The member's number (sms) or address (email) from the partners file, decrypted; None without."""
    member = partners.find_member(session, team_id=person.team_id, user_id=person.user_id)
    if member is None:
        return None
    return member.phone if way == SMS else member.email


def escalation_deliveries(
    session: Session, *, alert: BackupAlert, partner_id: int, settings: Settings
) -> list[Delivery]:
    """T2 and T3 of one partner outside chat (queued when the alert is raised, with `not_before`)."""
    assert alert.id is not None
    partner = partners.get_partner(session, partner_id=partner_id)
    reporter = reporter_of(alert)
    people: dict[Tier, list[PersonRef]] = {
        "lead": [partner.lead] if partner.lead else [],
        "coordinators": [m.person for m in partners.coordinators(session)],
    }
    minutes = {"lead": alert.escalate_t2, "coordinators": alert.escalate_t3}
    found: list[Delivery] = []
    for tier, persons in people.items():
        for person in dict.fromkeys(persons):
            if person == reporter:
                continue
            for way in _ways_on(settings):
                if not _has(session, person, way):
                    continue
                found.append(
                    Delivery(
                        way=way,
                        person=person,
                        alert_id=alert.id,
                        kind=tier,
                        partner_id=partner_id,
                        key=f"rugdekking:{alert.id}:p{partner_id}:t{TIERS[tier]}:{way}:{person.user_id}",
                        ref=escalation_ref(alert.id, partner_id),
                        not_before=alert.raised_at + timedelta(minutes=minutes[tier]),
                    )
                )
    return found


def safety_deliveries(
    session: Session, *, alert: BackupAlert, settings: Settings, after: datetime
) -> list[Delivery]:
    """The reporter's safety question by SMS at `after` (when chat stayed unanswered)."""
    assert alert.id is not None
    reporter = reporter_of(alert)
    if not settings.sms_on or not _has(session, reporter, SMS):
        return []
    return [
        Delivery(
            way=SMS,
            person=reporter,
            alert_id=alert.id,
            kind="safety",
            partner_id=None,
            key=f"rugdekking:{alert.id}:safety:{SMS}:{reporter.user_id}",
            ref=safety_ref(alert.id),
            not_before=after,
        )
    ]


def compose(
    session: Session, delivery: Delivery, *, settings: Settings, language: str
) -> tuple[str, Letter] | None:
    """At send time: the address and the letter; None when the person has no address for that way any
    more (the partners file changed since), so the row is dropped, not failed."""
    address = address_of(session, delivery.person, delivery.way)
    alert = session.get(BackupAlert, delivery.alert_id)
    if address is None or alert is None:
        return None
    facts = AlertFacts.of(session, alert)
    if delivery.kind == "safety":
        return address, texts.safety_check(language, facts)
    assert delivery.partner_id is not None and delivery.kind in TIERS
    link = until = None
    if delivery.way == EMAIL and settings.public_url is not None:
        token, expires_at = links.issue(
            session, alert_id=delivery.alert_id, person=delivery.person, settings=settings
        )
        link = links.url_of(settings, token)
        until = expires_at.astimezone(settings.timezone).strftime("%d-%m-%Y %H:%M")
    letter = texts.escalation(
        language,
        facts,
        way=delivery.way,
        tier="lead" if delivery.kind == "lead" else "coordinators",
        silent_partner=partner_name(session, delivery.partner_id),
        link=link,
        link_until=until,
    )
    return address, letter
