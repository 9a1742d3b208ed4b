"""Queueing the messages signals and cases send: to the partnership channel, and to people by DM.

Every notice is an outbox row rendered at send time from a template and a plain-JSON context, in the
recipient's language. The outbox table is not encrypted, so a context never holds restricted data
(details, identities, the source message): codes, partner names, numbers and the channel-safe summary
only. Keys make each notice once-only: the same key queued twice is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import Settings
from bot.i18n import language_for
from bot.outbox import Priority, enqueue, ts_of
from bot.partners import service as partners
from bot.partners.models import Partner, PersonRef
from bot.people import get_person

MAX_CONTACTS = 5  # people of a partner told about something addressed to the partner


@dataclass(frozen=True)
class Outbound:
    """Where notices go, and in which language when the recipient's is unknown."""

    channel: str | None  # the partnership's shared channel (SAMEN_PARTNERSHIP_CHANNEL)
    language: str
    timezone: ZoneInfo

    @classmethod
    def of(cls, settings: Settings) -> Outbound:
        return cls(settings.samen_partnership_channel, settings.samen_language, settings.timezone)


def language_of(session: Session, person: PersonRef, default: str) -> str:
    known = get_person(session, team_id=person.team_id, user_id=person.user_id)
    return language_for(known.locale if known else None, default)


def to_person(
    session: Session,
    outbound: Outbound,
    *,
    key: str,
    person: PersonRef,
    template: str,
    context: dict[str, Any],
    ref: str,
) -> bool:
    return enqueue(
        session,
        key=key,
        method="chat.postMessage",
        lane=person.user_id,
        args={"channel": person.user_id},
        template=template,
        language=language_of(session, person, outbound.language),
        context=context,
        ref=ref,
        priority=Priority.NORMAL,
    )


def to_channel(
    session: Session,
    outbound: Outbound,
    *,
    key: str,
    channel: str,
    template: str,
    context: dict[str, Any],
    ref: str,
    thread_of: str | None = None,
) -> bool:
    args: dict[str, Any] = {"channel": channel}
    if thread_of is not None:
        args["thread_ts"] = ts_of(thread_of)
    return enqueue(
        session,
        key=key,
        method="chat.postMessage",
        lane=channel,
        args=args,
        template=template,
        language=outbound.language,
        context=context,
        ref=ref,
    )


def update_in_channel(
    session: Session,
    outbound: Outbound,
    *,
    key: str,
    channel: str,
    message_key: str,
    template: str,
    context: dict[str, Any],
    ref: str,
) -> bool:
    """Replace a message queued earlier under `message_key` (same lane, so it is posted by then)."""
    return enqueue(
        session,
        key=key,
        method="chat.update",
        lane=channel,
        args={"channel": channel, "ts": ts_of(message_key)},
        template=template,
        language=outbound.language,
        context=context,
        ref=ref,
    )


def contacts_of(session: Session, partner: Partner) -> list[PersonRef]:
    """Whom to tell when something is addressed to a partner: its lead, else its duty contacts, else
    its first members."""
    assert partner.id is not None
    if partner.lead is not None:
        return [partner.lead]
    duty = [c.person for c in partners.duty_contacts(session, partner_id=partner.id)]
    if duty:
        return duty[:MAX_CONTACTS]
    return [m.person for m in partners.members_of(session, partner_id=partner.id)][:MAX_CONTACTS]


def coordinator_people(session: Session) -> list[PersonRef]:
    return [m.person for m in partners.coordinators(session)]


def distinct(people: Iterable[PersonRef]) -> list[PersonRef]:
    seen: list[PersonRef] = []
    for person in people:
        if person not in seen:
            seen.append(person)
    return seen


def person_key(person: PersonRef) -> str:
    return f"{person.team_id}/{person.user_id}"
