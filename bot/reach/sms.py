"""SMS through a gateway: the one adapter Samen has, for the simplest shape a gateway can take.

    POST SAMEN_SMS_URL
    Authorization: Bearer SAMEN_SMS_TOKEN
    Content-Type: application/json
    Idempotency-Key: <the outbox row's key>

    {"to": "+31612345678", "body": "…"}

`to` is the number exactly as the partners file writes it (E.164). Any 2xx is sent (a JSON answer's
`id`, if any, is kept); 429 waits `Retry-After`; 401 and 403 are a refused token (an operator fixes it;
nothing is lost); other 4xx are permanent (the gateway will never take this message); 5xx, a timeout or
a dropped connection are transient, and the message may have gone. A provider with another API gets a
class of its own with the same `send` (bot/reach/ways.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Final

from bot.chat import NETWORK_ERRORS, PERMANENT, RETRY_AFTER, TRANSIENT, ChatFailure, Outcome
from bot.reach.ways import SMS, Letter, WayName

TIMEOUT_SECONDS: Final = 10.0
DEFAULT_RETRY_AFTER: Final = 30.0


class JsonGateway:
    name: WayName = SMS

    def __init__(self, url: str, token: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to: str, letter: Letter, *, key: str) -> str | None:
        # The URL is SAMEN_SMS_URL, checked to be http(s) when the settings were read.
        request = urllib.request.Request(  # noqa: S310
            self.url,
            data=json.dumps({"to": to, "body": letter.body}).encode("utf-8"),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Idempotency-Key": key,
                "User-Agent": "Samen",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                body = answer.read(65536)
        except urllib.error.HTTPError as error:
            raise ChatFailure(outcome_of_status(error.code, error.headers.get("Retry-After"))) from None
        except NETWORK_ERRORS as error:
            # Nobody answered, or the answer was cut off: the gateway may have taken the message.
            reason = "sms_timeout" if isinstance(error, TimeoutError) else "sms_unreachable"
            raise ChatFailure(Outcome(TRANSIENT, reason, maybe_delivered=True)) from None
        return _message_id(body)


def outcome_of_status(status: int, retry_after: str | None = None) -> Outcome:
    if status == 429:
        return Outcome(RETRY_AFTER, "sms_rate_limited", retry_after=_seconds(retry_after))
    if status in (401, 403):
        return Outcome(TRANSIENT, f"sms_token_refused_{status}", refused=True)
    if status == 408:
        return Outcome(TRANSIENT, "sms_408", maybe_delivered=True)
    if 400 <= status < 500:
        return Outcome(PERMANENT, f"sms_rejected_{status}")
    return Outcome(TRANSIENT, f"sms_{status}", maybe_delivered=True)


def _seconds(value: str | None) -> float:
    try:
        return max(1.0, min(float(value or DEFAULT_RETRY_AFTER), 3600.0))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _message_id(body: bytes) -> str | None:
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        return None
    found = answer.get("id") if isinstance(answer, dict) else None
    return str(found)[:128] if isinstance(found, str | int) else None
