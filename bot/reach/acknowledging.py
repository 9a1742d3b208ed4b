"""Acknowledging from outside chat: one function for the SMS reply and the e-mail's link.

`acknowledge_for` acknowledges a backup alert for a person's partner exactly as the "Ontvangen" button
does (bot.alerts.service.acknowledge: the partner's escalations are cancelled, the board is updated),
and records by which way it came. `answer_sms` reads an SMS reply: `OK RD-12` acknowledges,
`VEILIG RD-12` / `HULP RD-12` (or SAFE / HELP) answer the reporter's "Ben je veilig?". A sender is known
by the phone number in the partners file, compared after decryption (it is sealed, so never searched).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final, Literal

from sqlmodel import Session, col, select

from bot import audit
from bot.alerts import service as alerts
from bot.alerts.problems import AlertClosed, NotInvolved, NotTheReporter, UnknownAlert
from bot.alerts.reading import partner_name
from bot.authz import NotAllowed
from bot.config import Settings
from bot.partners import service as partners
from bot.partners.models import Member, PersonRef
from bot.reach.ways import WayName

logger = logging.getLogger(__name__)

Status = Literal[
    "acknowledged",
    "already",
    "closed",
    "not_involved",
    "unknown_alert",
    "unknown_person",
    "not_understood",
    "safe",
    "help",
    "not_the_reporter",
]
PURPOSE: Final = "backup alert acknowledged outside chat"
_REPLY = re.compile(r"\s*(ok|oké|oke|veilig|safe|hulp|help)\b[\s:;,.!-]*rd[\s-]*(\d{1,9})\b", re.IGNORECASE)
_WORDS: Final = {
    "ok": "ok",
    "oké": "ok",
    "oke": "ok",
    "veilig": "safe",
    "safe": "safe",
    "hulp": "help",
    "help": "help",
}


@dataclass(frozen=True)
class Answer:
    status: Status
    code: str = ""
    partner: str = ""  # the partner acknowledged for (its name): shown to the person who answered


def acknowledge_for(
    session: Session, *, person: PersonRef, alert_id: int, way: WayName, settings: Settings
) -> Answer:
    """Acknowledge alert `alert_id` for `person`'s partner, from outside chat (`way`: sms, email)."""
    code = f"RD-{alert_id}"
    member = partners.find_member(session, team_id=person.team_id, user_id=person.user_id)
    if member is None:
        return Answer("unknown_person", code)
    partner = partner_name(session, member.partner_id)
    try:
        done = alerts.acknowledge(session, actor=member, alert_id=alert_id, settings=settings, via=way)
    except UnknownAlert:
        return Answer("unknown_alert", code)
    except AlertClosed:
        return Answer("closed", code, partner)
    except (NotInvolved, NotAllowed):
        return Answer("not_involved", code, partner)
    if done.already:
        return Answer("already", code, partner)
    audit.record(
        session,
        actor=member,
        action="backup_alert.acknowledged_outside_chat",
        object_type="backup_alert",
        object_id=alert_id,
        purpose=PURPOSE,
        details={"partner_id": member.partner_id, "way": way},
    )
    logger.info("backup alert %s acknowledged outside chat by %s", code, way)
    return Answer("acknowledged", code, partner)


def parse_reply(text: str) -> tuple[str, int] | None:
    """`OK RD-12` → ("ok", 12); `veilig rd 12` → ("safe", 12); `HULP RD-12` → ("help", 12); else None."""
    found = _REPLY.match(text or "")
    if found is None:
        return None
    return _WORDS[found.group(1).lower()], int(found.group(2))


def member_by_phone(session: Session, phone: str) -> Member | None:
    """The member with this number in the partners file (exactly as written there, E.164)."""
    wanted = phone.strip()
    found = [
        member
        for member in session.exec(select(Member).where(col(Member.phone).is_not(None))).all()
        if member.phone == wanted
    ]
    return found[0] if len(found) == 1 else None  # a number two people share names nobody


def answer_sms(session: Session, *, sender: str, text: str, settings: Settings) -> Answer:
    """An SMS reply to Samen (POST /sms/inbound): acknowledge, or answer the safety question."""
    member = member_by_phone(session, sender)
    if member is None:
        return Answer("unknown_person")
    parsed = parse_reply(text)
    if parsed is None:
        return Answer("not_understood")
    word, number = parsed
    if word == "ok":
        return acknowledge_for(session, person=member.person, alert_id=number, way="sms", settings=settings)
    code = f"RD-{number}"
    try:
        alerts.answer_safety(session, actor=member, alert_id=number, safe=word == "safe", settings=settings)
    except UnknownAlert:
        return Answer("unknown_alert", code)
    except NotTheReporter:
        return Answer("not_the_reporter", code)
    return Answer("safe" if word == "safe" else "help", code)
