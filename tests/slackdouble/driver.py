"""SlackDriver: plays Slack's part towards the bot, with real signed HTTP requests.

Every request is signed exactly as Slack signs it (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`
with the signing secret, in `X-Slack-Signature`, with `X-Slack-Request-Timestamp`), so a test
exercises the bot's real verification instead of switching it off. `raw()` sends forgeries.
The driver never raises on a 4xx/5xx answer: a refusal is something tests assert on.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from .ids import DEFAULT_APP_ID, DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID, DEFAULT_USER_ID, user_id
from .payloads import Payloads

if TYPE_CHECKING:
    from .server import SlackDouble

FORM: Final = "application/x-www-form-urlencoded"
JSON: Final = "application/json"
SLACK_USER_AGENT: Final = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class DriverResponse:
    """The bot's answer to one request."""

    status: int
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class SentRequest:
    """What the driver sent, so that a test can replay it (with the old signature)."""

    body: bytes
    content_type: str
    timestamp: str
    signature: str
    headers: dict[str, str] = field(default_factory=dict)


class SlackDriver:
    """Sends slash commands, interactions and events to a bot at `bot_url` as Slack would."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        double: SlackDouble | None = None,
        team_id: str = DEFAULT_TEAM_ID,
        *,
        app_id: str = DEFAULT_APP_ID,
        timeout: float = 10.0,
    ) -> None:
        self.bot_url = bot_url
        self.timeout = timeout
        self._verifier = SignatureVerifier(signing_secret)
        self.payloads = Payloads(double=double, team_id=team_id, app_id=app_id)
        self.sent: list[SentRequest] = []

    # -- helpers ---------------------------------------------------------------------------------

    user_id = staticmethod(user_id)

    def trigger_id(self) -> str:
        return self.payloads.trigger_id()

    @property
    def last(self) -> SentRequest:
        if not self.sent:
            raise AssertionError("the driver has sent nothing yet")
        return self.sent[-1]

    def sign(self, body: bytes, timestamp: str) -> str:
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body)
        assert signature is not None  # only None without a signing secret
        return signature

    # -- what Slack sends ----------------------------------------------------------------------------

    def command(
        self,
        command: str,
        text: str = "",
        user: str = DEFAULT_USER_ID,
        team: str | None = None,
        channel: str = DEFAULT_CHANNEL_ID,
        locale: str | None = None,
    ) -> DriverResponse:
        fields = self.payloads.command(command, text, user=user, team=team, channel=channel, locale=locale)
        return self.raw(urlencode(fields).encode("utf-8"), FORM)

    def action(
        self,
        action_id: str,
        value: Any = None,
        user: str = DEFAULT_USER_ID,
        block_id: str | None = None,
        view: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        container: dict[str, Any] | None = None,
        channel: str | None = None,
        *,
        action_type: str | None = None,
        state_values: dict[str, dict[str, Any]] | None = None,
        team: str | None = None,
    ) -> DriverResponse:
        payload = self.payloads.block_actions(
            action_id,
            value,
            user=user,
            block_id=block_id,
            view=view,
            message=message,
            container=container,
            channel=channel,
            action_type=action_type,
            state_values=state_values,
            team=team,
        )
        return self.interactive(payload)

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        user: str = DEFAULT_USER_ID,
        private_metadata: str | None = None,
        view_id: str | None = None,
        *,
        view: dict[str, Any] | None = None,
        team: str | None = None,
    ) -> DriverResponse:
        payload = self.payloads.view_submission(
            callback_id,
            values,
            user=user,
            private_metadata=private_metadata,
            view_id=view_id,
            view=view,
            team=team,
        )
        return self.interactive(payload)

    def view_closed(
        self,
        callback_id: str,
        user: str = DEFAULT_USER_ID,
        private_metadata: str | None = None,
        view_id: str | None = None,
        *,
        is_cleared: bool = False,
        team: str | None = None,
    ) -> DriverResponse:
        payload = self.payloads.view_closed(
            callback_id,
            user=user,
            private_metadata=private_metadata,
            view_id=view_id,
            is_cleared=is_cleared,
            team=team,
        )
        return self.interactive(payload)

    def shortcut(
        self, callback_id: str, user: str = DEFAULT_USER_ID, team: str | None = None
    ) -> DriverResponse:
        return self.interactive(self.payloads.shortcut(callback_id, user=user, team=team))

    def message_shortcut(
        self,
        callback_id: str,
        message: dict[str, Any],
        channel: str = DEFAULT_CHANNEL_ID,
        user: str = DEFAULT_USER_ID,
        team: str | None = None,
    ) -> DriverResponse:
        payload = self.payloads.message_shortcut(callback_id, message, user=user, channel=channel, team=team)
        return self.interactive(payload)

    def interactive(self, payload: dict[str, Any]) -> DriverResponse:
        """Any interaction payload, form-encoded as `payload=<json>` like Slack sends it."""
        return self.raw(urlencode({"payload": json.dumps(payload)}).encode("utf-8"), FORM)

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        *,
        team: str | None = None,
    ) -> DriverResponse:
        """An Events API `event_callback`; pass the same event_id with retry_num to model Slack's
        retries (it retries up to 3 times when the app did not answer 2xx within 3 seconds)."""
        body = self.payloads.event_callback(event, event_id=event_id, team=team)
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return self.raw(json.dumps(body).encode("utf-8"), JSON, headers=headers)

    def url_verification(self, challenge: str) -> DriverResponse:
        return self.raw(json.dumps(self.payloads.url_verification(challenge)).encode("utf-8"), JSON)

    # -- the wire ------------------------------------------------------------------------------------

    def raw(
        self,
        body: bytes,
        content_type: str,
        timestamp: str | int | None = None,
        signature: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> DriverResponse:
        """POST `body` to the bot. Signed correctly unless `signature` is given; `timestamp`
        defaults to now. Forgeries: a wrong signature, an old timestamp (signed, but stale), or a
        replay (`timestamp=now`, `signature=driver.last.signature`)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = signature if signature is not None else self.sign(body, stamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signed,
            "User-Agent": SLACK_USER_AGENT,
            **(headers or {}),
        }
        self.sent.append(SentRequest(body, content_type, stamp, signed, all_headers))
        request = urllib.request.Request(self.bot_url, data=body, headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return DriverResponse(
                    answer.status, dict(answer.headers.items()), answer.read().decode("utf-8")
                )
        except urllib.error.HTTPError as refused:
            # 4xx/5xx are answers, not errors, for the driver: tests assert on them.
            with refused:
                text = refused.read().decode("utf-8", "replace")
            return DriverResponse(refused.code, dict(refused.headers.items()), text)
