"""Slack as the chat seam's implementation (`bot.chat.Chat`): slack_sdk's WebClient behind Samen's calls.

One WebClient (SLACK_BOT_TOKEN), or in several workspaces (OAuth) the token of the workspace a call is
for (`bot/slack/workspaces/clients.py: TeamClients`). The WebClient has no retries of its own: the
outbox decides when to try again, from the `Outcome` a failure carries (bot/slack/errors.py).

Slack's side of the seam's promises:
- nothing unfurls: posts carry `unfurl_links`/`unfurl_media` = false (chat.update accepts only
  `unfurl_media`), since links in Samen's messages are typed by people;
- a post made for an outbox row carries the row's id in its message metadata (`OUTBOX_EVENT`), and
  `find_posted` reads the conversation (or the thread) back for it after a crash: `conversations.history`
  or `.replies` with `include_all_metadata`, from our bot only (`auth.test`'s `bot_id`, once per token);
- posting to a person (`U…`/`W…`) is Slack's own DM of the bot with them; a file and the history look-up
  need the DM's channel first (`conversations.open`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chat import (
    PERMANENT,
    TRANSIENT,
    ChatFailure,
    Content,
    Identity,
    Incoming,
    Kind,
    Outcome,
    PersonInfo,
    Sent,
)
from bot.slack.errors import outcome_of

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Services
    from bot.slack.workspaces.clients import TeamClients

logger = logging.getLogger(__name__)

# Message metadata on every post: the outbox row it is, so a post made just before a crash can be found.
OUTBOX_EVENT: Final = "samen_outbox"
RECONCILE_PAGE: Final = 200  # messages per conversations.history page
RECONCILE_PAGES: Final = 10  # a channel busier than this since the send began: send again (at worst a twin)
NO_UNFURL_POST: Final = {"unfurl_links": False, "unfurl_media": False}
NO_UNFURL_UPDATE: Final = {"unfurl_media": False}
CALL_TIMEOUT: Final = 10  # seconds; the outbox backs off and tries again


def web_client(token: str | None, api_url: str, **extra: Any) -> WebClient:
    """A WebClient without retries of its own: whoever calls decides when to try again."""
    return WebClient(token=token, base_url=api_url, timeout=CALL_TIMEOUT, retry_handlers=[], **extra)


def startup_chat(settings: Settings) -> SlackChat:
    """The chat the start-up check asks (bot/startup.py: check_slack): the bot token as configured, and
    quiet, because the SDK logs every failed attempt as an error and the one line about it is ours."""
    quiet = logging.getLogger("bot.startup.auth_test")
    quiet.setLevel(logging.CRITICAL)
    return SlackChat(web_client(settings.slack_bot_token, settings.slack_api_url, logger=quiet))


class SlackChat:
    """The chat seam on Slack's Web API. Every failure is a `ChatFailure` with Slack's code as its reason."""

    def __init__(self, client: WebClient | None = None, *, clients: TeamClients | None = None) -> None:
        assert client is not None or clients is not None, "SlackChat needs a client or TeamClients"
        self.client = client
        self.clients = clients  # several workspaces: a client per workspace
        self._bot_ids: dict[str, str | None] = {}  # per token: our bot's id, for recognising our posts

    @classmethod
    def for_services(cls, services: Services) -> SlackChat:
        """The process's Slack: its bot token, or (OAuth) each workspace's own."""
        settings = services.settings
        if settings.oauth:
            from bot.slack.workspaces.clients import TeamClients

            return cls(clients=TeamClients(services))
        return cls(web_client(settings.slack_bot_token, settings.slack_api_url))

    # -- the seam ----------------------------------------------------------------------------------
    def whoami(self) -> Identity:
        client = self._client(None, None)
        data = self._calling(client, client.auth_test)
        return Identity(user_id=data.get("user_id"), bot_id=data.get("bot_id"), team_id=data.get("team_id"))

    def post(
        self,
        to: str,
        content: Content,
        *,
        thread: str | None = None,
        outbox_id: int | None = None,
        team: str | None = None,
    ) -> Sent:
        args: dict[str, Any] = {**NO_UNFURL_POST, **content, "channel": to}
        if thread:
            args["thread_ts"] = thread
        if outbox_id is not None and "metadata" not in args:
            args["metadata"] = {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": outbox_id}}
        return _sent(self._api(self._client(team, to), "chat.postMessage", args))

    def update(self, channel: str, message: str, content: Content, *, team: str | None = None) -> Sent:
        args = {**NO_UNFURL_UPDATE, **content, "channel": channel, "ts": message}
        return _sent(self._api(self._client(team, channel), "chat.update", args))

    def delete(self, channel: str, message: str, *, team: str | None = None) -> None:
        self._api(self._client(team, channel), "chat.delete", {"channel": channel, "ts": message})

    def direct_message(
        self, user: str, content: Content, *, outbox_id: int | None = None, team: str | None = None
    ) -> Sent:
        return self.post(user, content, outbox_id=outbox_id, team=team)

    def ephemeral(
        self, channel: str, user: str, content: Content, *, thread: str | None = None, team: str | None = None
    ) -> None:
        args: dict[str, Any] = {**content, "channel": channel, "user": user}
        if thread:
            args["thread_ts"] = thread
        self._api(self._client(team, user), "chat.postEphemeral", args)

    def open_form(self, trigger: str, form: Content, *, team: str | None = None) -> str:
        data = self._api(self._client(team, None), "views.open", {"trigger_id": trigger, "view": form})
        return str((data.get("view") or {}).get("id") or "")

    def update_form(self, form_id: str, form: Content, *, team: str | None = None) -> None:
        self._api(self._client(team, None), "views.update", {"view_id": form_id, "view": form})

    def publish_home(self, user: str, view: Content, *, team: str | None = None) -> None:
        self._api(self._client(team, user), "views.publish", {"user_id": user, "view": view})

    def upload_file(
        self,
        to: str,
        data: bytes,
        *,
        filename: str,
        title: str,
        alt_text: str | None = None,
        thread: str | None = None,
        team: str | None = None,
    ) -> Sent:
        """Slack's three steps (files.getUploadURLExternal, the upload, files.completeUploadExternal),
        made by the SDK; to a person, into their DM with Samen."""
        client = self._client(team, to)
        args: dict[str, Any] = {"filename": filename, "title": title}
        if alt_text:
            args["alt_txt"] = alt_text
        if thread:
            args["thread_ts"] = thread

        def upload() -> Any:
            channel = self._dm_channel(client, to) if _is_person(to) else to
            return client.files_upload_v2(content=data, channel=channel, **args)

        return _sent(self._calling(client, upload))

    def person(self, user: str, *, team: str | None = None) -> PersonInfo | None:
        client = self._client(team, user)
        try:
            data = self._calling(client, lambda: client.users_info(user=user, include_locale=True))
        except ChatFailure as failure:
            if failure.outcome.reason in ("user_not_found", "user_not_visible"):
                return None
            raise
        found = data.get("user") or {}
        return PersonInfo(
            user_id=str(found.get("id") or user),
            team_id=found.get("team_id"),
            name=found.get("real_name") or found.get("name"),
            locale=found.get("locale"),
            timezone=found.get("tz"),
            is_bot=bool(found.get("is_bot")),
            deleted=bool(found.get("deleted")),
        )

    def find_posted(
        self,
        to: str,
        *,
        outbox_id: int,
        since: datetime,
        thread: str | None = None,
        team: str | None = None,
    ) -> Sent | None:
        """Reads the conversation (or the thread) from `since` for a message of our bot whose metadata
        names `outbox_id`. Slack busy or away: `ChatFailure`, and the look-up comes again. Without the
        history scopes, or where Samen cannot read: None, and the row is sent again."""
        client = self._client(team, to)
        try:
            channel = self._dm_channel(client, to) if _is_person(to) else to
            ts = self._find_marked(client, channel, thread, outbox_id, since)
        except SlackApiError as error:
            outcome = outcome_of(error)
            assert outcome is not None
            if outcome.kind != PERMANENT:
                raise self._failed(outcome) from None
            logger.warning(
                "outbox row %s: cannot look for an earlier post (%s); sending it", outbox_id, outcome.reason
            )
            return None
        except Exception as error:
            raise self._failure(error) from None
        return None if ts is None else Sent(channel, ts)

    # -- Slack's details ---------------------------------------------------------------------------
    def _client(self, team: str | None, to: str | None) -> WebClient:
        if self.clients is None:
            assert self.client is not None
            return self.client
        try:
            return self.clients.client_for(team, to if to and _is_person(to) else None)
        except LookupError:
            raise ChatFailure(Outcome(TRANSIENT, "no_installation")) from None

    def _api(self, client: WebClient, method: str, args: dict[str, Any]) -> dict[str, Any]:
        return self._calling(client, lambda: client.api_call(method, json=args))

    def _calling(self, client: WebClient, call: Callable[[], Any]) -> dict[str, Any]:
        try:
            response = call()
        except Exception as error:
            raise self._failure(error) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _failure(self, error: Exception) -> Exception:
        """The ChatFailure for a Slack or network error; anything else goes on as it is (a bug)."""
        if isinstance(error, ChatFailure):
            return error
        outcome = outcome_of(error)
        return error if outcome is None else self._failed(outcome)

    def _failed(self, outcome: Outcome) -> ChatFailure:
        if outcome.refused and self.clients is not None:
            self.clients.forget()  # a refused token: read the installations again next time
        return ChatFailure(outcome)

    def _dm_channel(self, client: WebClient, user: str) -> str:
        return str(client.conversations_open(users=user)["channel"]["id"])

    def _find_marked(
        self, client: WebClient, channel: str, thread_ts: str | None, row_id: int, oldest: datetime
    ) -> str | None:
        """The ts of our message carrying `row_id` in its metadata, posted since `oldest`."""
        bot_id = self._bot_id(client)
        cursor: str | None = None
        for _ in range(RECONCILE_PAGES):
            page_args: dict[str, Any] = {
                "channel": channel,
                "oldest": f"{oldest.timestamp():.6f}",
                "include_all_metadata": True,
                "limit": RECONCILE_PAGE,
            }
            if cursor:
                page_args["cursor"] = cursor
            if thread_ts:  # a reply lives in its thread, not in the channel's history
                page = client.conversations_replies(ts=thread_ts, **page_args)
            else:
                page = client.conversations_history(**page_args)
            for message in page.get("messages") or []:
                if _marks(message, row_id, bot_id):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
        return None

    def _bot_id(self, client: WebClient) -> str | None:
        """Our bot's id in the client's workspace (auth.test, once): another app's post never counts,
        even one from a copy of this database (a test installation posting into the same channel)."""
        token = client.token or ""
        if token not in self._bot_ids:
            self._bot_ids[token] = client.auth_test().get("bot_id")
        return self._bot_ids[token]


def _sent(data: dict[str, Any]) -> Sent:
    return Sent(data.get("channel"), data.get("ts"))


def _is_person(address: str) -> bool:
    return address.startswith(("U", "W"))


def _marks(message: dict[str, Any], row_id: int | None, bot_id: str | None) -> bool:
    """Is this message our post of outbox row `row_id`?"""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return (
        metadata.get("event_type") == OUTBOX_EVENT
        and payload.get("outbox_id") == row_id
        and (bot_id is None or message.get("bot_id") == bot_id)
    )


# -- what Slack hands Samen -----------------------------------------------------------------------------

_KINDS: Final[dict[str, Kind]] = {
    "block_actions": "action",
    "view_submission": "view",
    "view_closed": "view",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "block_suggestion": "options",
    "event_callback": "event",
}


def incoming(body: dict[str, Any]) -> Incoming:
    """A Slack request body (a command's form fields, an interaction's payload, an event) in the seam's
    plain terms."""
    if body.get("command"):
        return Incoming(
            kind="command",
            team_id=body.get("team_id"),
            user_id=body.get("user_id"),
            name=str(body["command"]),
            text=str(body.get("text") or ""),
            channel_id=body.get("channel_id"),
            trigger=body.get("trigger_id"),
        )
    kind = _KINDS.get(str(body.get("type") or ""), "other")
    event = body.get("event") or {}
    if kind == "event":
        return Incoming(
            kind="home" if event.get("type") == "app_home_opened" else "event",
            team_id=body.get("team_id"),
            user_id=event.get("user") if isinstance(event.get("user"), str) else None,
            name=str(event.get("type") or ""),
            channel_id=event.get("channel") if isinstance(event.get("channel"), str) else None,
        )
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id")
    view = body.get("view") or {}
    action = (body.get("actions") or [{}])[0] or {}
    message = body.get("message") or (body.get("container") or {})
    return Incoming(
        kind=kind,
        team_id=team,
        user_id=user.get("id"),
        name=str(action.get("action_id") or view.get("callback_id") or body.get("callback_id") or ""),
        value=action.get("value"),
        channel_id=(body.get("channel") or {}).get("id"),
        message=message.get("ts") or message.get("message_ts"),
        trigger=body.get("trigger_id"),
        metadata=str(view.get("private_metadata") or ""),
        values=(view.get("state") or {}).get("values") or {},
    )
