"""E-mail through SMTP, on the standard library (smtplib, email.message).

`smtps://` speaks TLS from the first byte; `smtp://` upgrades with STARTTLS whenever the server offers it
(and logs in only after that, unless the server is this machine). Failures are `ChatFailure`s in the
outbox's terms (`outcome_of`): a 5xx answer to the recipient or the message is permanent, a 4xx answer
or an unreachable server is transient, refused credentials or sender are transient and `refused` (an
operator fixes them; nothing is lost).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Final

from bot.chat import NETWORK_ERRORS, PERMANENT, TRANSIENT, ChatFailure, Outcome
from bot.clock import utcnow
from bot.config_values import SmtpServer
from bot.reach.ways import EMAIL, Letter, WayName

TIMEOUT_SECONDS: Final = 10.0
_LOCAL_HOSTS: Final = ("localhost", "127.0.0.1", "::1")


class MailSender:
    name: WayName = EMAIL

    def __init__(
        self,
        server: SmtpServer,
        sender: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.sender = sender
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()

    def message(self, to: str, letter: Letter, *, key: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr(("Samen", self.sender))
        message["To"] = to
        message["Subject"] = letter.subject
        message["Date"] = format_datetime(utcnow())
        # The same outbox row always has the same Message-ID: a copy sent again after a crash is one
        # message to the recipient's mail program.
        domain = self.sender.rpartition("@")[2]
        message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        message.set_content(letter.body)
        return message

    def send(self, to: str, letter: Letter, *, key: str) -> str:
        message = self.message(to, letter, key=key)
        handing_over = False
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if not self.server.tls and smtp.has_extn("starttls"):
                    smtp.starttls(context=self.tls_context)
                    smtp.ehlo()
                if self.server.user is not None:
                    self._login(smtp)
                handing_over = True
                smtp.send_message(message)
        except ChatFailure:
            raise
        except Exception as error:
            raise ChatFailure(outcome_of(error, handing_over=handing_over)) from None
        return str(message["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        if self.server.tls:
            return smtplib.SMTP_SSL(
                self.server.host, self.server.port, timeout=self.timeout, context=self.tls_context
            )
        return smtplib.SMTP(self.server.host, self.server.port, timeout=self.timeout)

    def _login(self, smtp: smtplib.SMTP) -> None:
        encrypted = self.server.tls or (smtp.sock is not None and isinstance(smtp.sock, ssl.SSLSocket))
        if not encrypted and self.server.host not in _LOCAL_HOSTS:
            # Never a password in clear text over the network.
            raise ChatFailure(Outcome(TRANSIENT, "smtp_no_tls_for_login", refused=True))
        smtp.login(self.server.user or "", self.server.password or "")


def outcome_of(error: BaseException, *, handing_over: bool) -> Outcome:
    """What a failed SMTP conversation means for the message (`handing_over`: the failure came while
    the message itself was being handed over, so the server may have taken it)."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Outcome(TRANSIENT, "smtp_login_refused", refused=True)
    if isinstance(error, smtplib.SMTPSenderRefused):
        if error.smtp_code >= 500:
            return Outcome(TRANSIENT, "smtp_sender_refused", refused=True)
        return Outcome(TRANSIENT, f"smtp_{error.smtp_code}")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return Outcome(PERMANENT, "smtp_recipient_refused")
        return Outcome(TRANSIENT, "smtp_recipient_deferred")
    if isinstance(error, smtplib.SMTPResponseException):
        if error.smtp_code >= 500 and handing_over:
            return Outcome(PERMANENT, f"smtp_{error.smtp_code}")
        return Outcome(TRANSIENT, f"smtp_{error.smtp_code}")
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return Outcome(TRANSIENT, "smtp_not_supported", refused=True)
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return Outcome(TRANSIENT, "smtp_tls_failed", refused=True)
    if isinstance(error, (smtplib.SMTPException, *NETWORK_ERRORS)):
        return Outcome(
            TRANSIENT,
            "smtp_unreachable" if not handing_over else "smtp_cut_off",
            maybe_delivered=handing_over,
        )
    return Outcome(TRANSIENT, "smtp_" + type(error).__name__.lower(), maybe_delivered=handing_over)
