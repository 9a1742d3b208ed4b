"""The listeners, unchanged, on Matrix: what they ask of Slack's Web API, answered on Matrix.

Samen's listeners (commands/) are registered on a Bolt app and answer through `Interaction`, which speaks
a handful of Web API methods (`chat.postEphemeral`, `views.open`, `users.info`, `conversations.open` …).
On Matrix the same Bolt app runs with `MatrixWebClient` as its client: each of those methods is carried
out through the chat seam (`MatrixChat`) and the front's form conversations, so that every listener works
on Matrix without a second copy of it. Matrix differs where it must:
- an ephemeral message (only you see it) is a direct message to you — never a post in the shared room;
- a form (`views.open`) is a guided conversation in your direct room (bot/matrix/forms.py);
- there is no App Home (`views.publish` does nothing: `!samen mijn` shows your work).

A method Samen does not use on Matrix fails loudly (`not_supported_on_matrix`), never silently.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.chat import ChatFailure

if TYPE_CHECKING:
    from bot.matrix.chat import MatrixChat
    from bot.matrix.connection import MatrixConnection

logger = logging.getLogger(__name__)

# What a form request is handed to: the front's conversations (bot/matrix/front.py). Arguments: the trigger
# (who and where, written by the front), the view; returns the form's id.
OpenForm = Callable[[str, Mapping[str, Any]], str]
UpdateForm = Callable[[str, Mapping[str, Any]], None]


class MatrixWebClient(WebClient):
    """A `WebClient` whose calls are carried out on Matrix rather than sent to Slack."""

    def __init__(
        self,
        chat: MatrixChat,
        connection: MatrixConnection,
        *,
        open_form: OpenForm,
        update_form: UpdateForm,
    ) -> None:
        # The token is never sent anywhere (api_call below); Bolt only needs one to be there.
        super().__init__(token="matrix", base_url="https://matrix.invalid/api/")  # noqa: S106
        self.chat = chat
        self.connection = connection
        self.open_form = open_form
        self.update_form = update_form

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        arguments = {**(params or {}), **(data or {}), **(json or {})}
        method = _METHODS.get(api_method)
        if method is None:
            logger.warning("a listener asked %s, which Samen does not do on Matrix", api_method)
            return self._answer(api_method, {"ok": False, "error": "not_supported_on_matrix"})
        try:
            answer = method(self, arguments)
        except ChatFailure as failure:
            logger.info("%s on Matrix failed: %s", api_method, failure.outcome.reason)
            return self._answer(api_method, {"ok": False, "error": failure.outcome.reason})
        return self._answer(api_method, {"ok": True, **answer})

    def _answer(self, api_method: str, data: dict[str, Any]) -> SlackResponse:
        response = SlackResponse(
            client=self,
            http_verb="POST",
            api_url=api_method,
            req_args={},
            data=data,
            headers={},
            status_code=200,
        )
        if not data.get("ok"):
            raise SlackApiError(f"{api_method} failed on Matrix: {data.get('error')}", response)
        return response

    # -- the methods ---------------------------------------------------------------------------------

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        me = self.chat.whoami()
        return {"user_id": me.user_id, "bot_id": me.bot_id, "team_id": me.team_id}

    def _post_message(self, a: dict[str, Any]) -> dict[str, Any]:
        sent = self.chat.post(str(a["channel"]), _content(a), thread=a.get("thread_ts") or None)
        return {"channel": sent.channel, "ts": sent.message}

    def _post_ephemeral(self, a: dict[str, Any]) -> dict[str, Any]:
        self.chat.ephemeral(str(a.get("channel") or ""), str(a["user"]), _content(a))
        return {"message_ts": ""}

    def _update(self, a: dict[str, Any]) -> dict[str, Any]:
        sent = self.chat.update(str(a["channel"]), str(a["ts"]), _content(a))
        return {"channel": sent.channel, "ts": sent.message}

    def _delete(self, a: dict[str, Any]) -> dict[str, Any]:
        self.chat.delete(str(a["channel"]), str(a["ts"]))
        return {}

    def _views_open(self, a: dict[str, Any]) -> dict[str, Any]:
        view = _json_value(a.get("view"))
        return {"view": {**view, "id": self.open_form(str(a.get("trigger_id") or ""), view)}}

    def _views_update(self, a: dict[str, Any]) -> dict[str, Any]:
        view = _json_value(a.get("view"))
        self.update_form(str(a.get("view_id") or ""), view)
        return {"view": {**view, "id": a.get("view_id")}}

    def _views_publish(self, _: dict[str, Any]) -> dict[str, Any]:
        return {}  # no App Home on Matrix: `!samen mijn` shows a person their work

    def _users_info(self, a: dict[str, Any]) -> dict[str, Any]:
        person = self.chat.person(str(a["user"]))
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        return {
            "user": {
                "id": person.user_id,
                "team_id": person.team_id,
                "name": person.name,
                "real_name": person.name,
                "is_bot": person.is_bot,
                "deleted": person.deleted,
            }
        }

    def _conversations_info(self, a: dict[str, Any]) -> dict[str, Any]:
        room = str(a["channel"])
        members = self.connection.members(room)
        me = self.connection.whoami()
        return {
            "channel": {
                "id": room,
                "is_member": me in members,
                # A room of two (Samen and one person) is a direct conversation, whatever it was created as.
                "is_im": len(members) <= 2,
                "is_mpim": False,
                "is_private": True,
            }
        }

    def _conversations_open(self, a: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(a.get("users") or "").split(",") if u]
        if len(users) == 1:
            return {"channel": {"id": self.connection.direct_room(users[0])}}
        from mautrix.types import RoomCreatePreset

        # A group conversation (an ad-hoc alignment): a private room with exactly those people.
        created = self.connection.run(
            self.connection.client.create_room(preset=RoomCreatePreset.PRIVATE, invitees=users)
        )
        return {"channel": {"id": str(created)}}


class MatrixApp(App):
    """Bolt's app, whose requests all use its one `MatrixWebClient`: Bolt would make each request a
    fresh WebClient bound for Slack with the same token (a copy, so that a listener may change its
    token); on Matrix no listener does, and every call must reach the homeserver."""

    def _init_context(self, req: BoltRequest) -> None:
        super()._init_context(req)
        req.context["client"] = self.client


def _content(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A message's text and blocks as the listener passed them (the SDK may have turned blocks into JSON)."""
    blocks = arguments.get("blocks")
    content: dict[str, Any] = {"text": str(arguments.get("text") or "")}
    if blocks:
        content["blocks"] = _json_value(blocks)
    return content


def _json_value(value: Any) -> Any:
    return (
        json.loads(value)
        if isinstance(value, str)
        else dict(value or {})
        if isinstance(value, Mapping)
        else value
    )


_METHODS: dict[str, Callable[[MatrixWebClient, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": MatrixWebClient._auth_test,
    "chat.postMessage": MatrixWebClient._post_message,
    "chat.postEphemeral": MatrixWebClient._post_ephemeral,
    "chat.update": MatrixWebClient._update,
    "chat.delete": MatrixWebClient._delete,
    "views.open": MatrixWebClient._views_open,
    "views.push": MatrixWebClient._views_open,
    "views.update": MatrixWebClient._views_update,
    "views.publish": MatrixWebClient._views_publish,
    "users.info": MatrixWebClient._users_info,
    "conversations.info": MatrixWebClient._conversations_info,
    "conversations.open": MatrixWebClient._conversations_open,
}
