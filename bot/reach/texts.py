"""What leaves chat, in Dutch and English: the alert's code (`RD-<nr>`), the asking partner and how to
acknowledge — never the description, the place, subject codes or the reporter.

That rule is kept by what the functions can see: they take `AlertFacts` (the code, the asking partner's
name, whether it is a drill), never a `BackupAlert`. SMS texts stay short and in the GSM alphabet where
the names allow (no curly quotes), so that most fit one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from bot.alerts.models import BackupAlert
from bot.alerts.reading import partner_name
from bot.i18n import t
from bot.reach.ways import EMAIL, Letter, WayName

Tier = Literal["lead", "coordinators"]  # T2: the silent partner's lead; T3: the coordinators


@dataclass(frozen=True)
class AlertFacts:
    """All a message outside chat may say about an alert."""

    code: str  # RD-<nr>
    asking_partner: str  # the reporter's partner: never the reporter
    drill: bool

    @classmethod
    def of(cls, session: Session, alert: BackupAlert) -> AlertFacts:
        return cls(alert.code, partner_name(session, alert.reporter_partner_id), alert.drill)


def _drill(language: str, facts: AlertFacts) -> str:
    return t(language, "DRILL") + " - " if facts.drill else ""


def escalation(
    language: str,
    facts: AlertFacts,
    *,
    way: WayName,
    tier: Tier,
    silent_partner: str,
    link: str | None = None,
    link_until: str | None = None,
) -> Letter:
    """T2 (the silent partner's lead) or T3 (the coordinators), by SMS or e-mail. `link` (e-mail only):
    the one-time acknowledgement link (bot/reach/links.py), valid until `link_until`."""
    values = {"code": facts.code, "asking": facts.asking_partner, "partner": silent_partner}
    if tier == "lead":
        said = t(
            language,
            "%(asking)s asks every partner for backup (%(code)s). %(partner)s has not acknowledged yet.",
            **values,
        )
    else:
        said = t(
            language,
            "%(partner)s has still not acknowledged backup alert %(code)s of %(asking)s. "
            "Call its lead or duty contacts (Samen shows who they are).",
            **values,
        )
    reply = t(language, 'Reply "OK %(code)s" to acknowledge for your partner.', code=facts.code)
    prefix = _drill(language, facts)
    if way != EMAIL:
        return Letter(subject="", body=f"{prefix}Samen: {said} {reply}")
    subject = prefix + t(language, "%(code)s: %(partner)s has not acknowledged the backup alert", **values)
    lines = [said, ""]
    if link is not None:
        lines += [
            t(
                language,
                "Acknowledge for your partner with this link (once, until %(until)s):",
                until=link_until or "",
            ),
            link,
            "",
        ]
    lines += [
        t(
            language,
            'Or press "Ontvangen" on the alert in Slack, or answer an SMS from Samen with "OK %(code)s".',
            code=facts.code,
        ),
        "",
        t(language, "What happened, and where, is in Samen for those who need to know; never in an e-mail."),
        "",
        "Samen",
    ]
    return Letter(subject=subject, body="\n".join(lines))


def safety_check(language: str, facts: AlertFacts) -> Letter:
    """The reporter's "Ben je veilig?" by SMS, when it was not answered in chat in time."""
    body = t(
        language,
        'Are you safe? (%(code)s) Reply "VEILIG %(code)s" if you are, "HULP %(code)s" if you need help.',
        code=facts.code,
    )
    return Letter(subject="", body=f"{_drill(language, facts)}Samen: {body}")


def reply(language: str, status: str, *, code: str = "", partner: str = "") -> str:
    """The answer to an SMS or a click on the link, as the gateway may send it back or the page shows."""
    texts = {
        "acknowledged": t(
            language, "Thank you: %(code)s is acknowledged for %(partner)s.", code=code, partner=partner
        ),
        "already": t(language, "%(partner)s had already acknowledged %(code)s.", code=code, partner=partner),
        "closed": t(language, "%(code)s has been closed already.", code=code),
        "not_involved": t(
            language, "%(partner)s is not asked to acknowledge %(code)s.", code=code, partner=partner
        ),
        "unknown_alert": t(language, "Samen knows no open backup alert %(code)s.", code=code),
        "safe": t(language, "Thank you. Glad you are safe (%(code)s).", code=code),
        "help": t(
            language,
            "Help is on its way: the coordinators and your partner are told now (%(code)s).",
            code=code,
        ),
        "not_the_reporter": t(
            language, "Only the person who asked for backup answers this (%(code)s).", code=code
        ),
        "not_understood": t(
            language, 'Samen did not understand that. Reply "OK RD-<number>", e.g. "OK RD-12".'
        ),
        "unknown_person": t(language, "Samen does not know this number. Ask your coordinator to add it."),
    }
    return texts[status]
