"""The ways out of chat, behind one small interface: `Way.send(to, letter, key=…)`.

- **e-mail** (`bot/reach/mail.py: MailSender`): SMTP on the standard library; `SAMEN_SMTP_URL`,
  `SAMEN_MAIL_FROM`.
- **SMS** (`bot/reach/sms.py: JsonGateway`): `POST SAMEN_SMS_URL` with `{"to": "+31…", "body": "…"}` and
  `Authorization: Bearer SAMEN_SMS_TOKEN`. A provider with another API is one more class with the same
  `send`, chosen in `ways_from`; nothing else changes.

A way that fails raises `bot.chat.ChatFailure` with an `Outcome` in the outbox's terms (wait as long as
asked, back off and try again, or give up with a reason; and whether the message may have gone all the
same), so that the outbox carries SMS and e-mail rows exactly as it carries chat messages. `key` is the
outbox row's key: sent along (the e-mail's Message-ID, the gateway's Idempotency-Key) so that a message
sent twice after a crash can be recognised as one by whoever receives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol

from bot.config import Settings

WayName = Literal["sms", "email"]
SMS: Final = "sms"
EMAIL: Final = "email"


@dataclass(frozen=True)
class Letter:
    """What leaves chat: a subject (e-mail only) and a plain text. Written by bot/reach/texts.py only."""

    subject: str
    body: str


class Way(Protocol):
    """One way to reach a person outside chat. Raises `ChatFailure` when the message did not go."""

    name: WayName

    def send(self, to: str, letter: Letter, *, key: str) -> str | None:
        """Send `letter` to `to` (an E.164 number, an e-mail address); returns the id the other side
        gave it (the Message-ID, the gateway's message id), if any."""
        ...


def ways_from(settings: Settings) -> dict[WayName, Way]:
    """The ways this installation has: none, one or both (a way whose settings are unset is off)."""
    from bot.reach.mail import MailSender
    from bot.reach.sms import JsonGateway

    ways: dict[WayName, Way] = {}
    if settings.smtp is not None and settings.mail_from is not None:
        ways[EMAIL] = MailSender(settings.smtp, settings.mail_from)
    if settings.sms_url is not None and settings.sms_token is not None:
        ways[SMS] = JsonGateway(settings.sms_url, settings.sms_token)
    return ways


def status(settings: Settings) -> dict[WayName, bool]:
    """For `/samen status`: which ways are on (set) and which are off (unset)."""
    return {EMAIL: settings.email_on, SMS: settings.sms_on}
