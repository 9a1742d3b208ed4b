"""What Slack sends to an app: slash commands, interactions and events, shaped as Slack shapes them.

Used by `SlackDriver` (over HTTP, signed) and directly with `double.socket.send(...)` (Socket Mode
carries the same payloads inside envelopes). When a `SlackDouble` is given, the payloads point at
it: response_urls lead to the double, trigger ids are registered with it (so it can enforce their
3-second life), and a button click is built from the message or modal the bot actually showed.
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import TYPE_CHECKING, Any

from .ids import (
    BOT_USER_ID,
    DEFAULT_APP_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_TEAM_ID,
    DEFAULT_USER_ID,
)
from .ids import trigger_id as new_trigger_id

if TYPE_CHECKING:
    from .server import SlackDouble

# Slack's deprecated verification token is still sent in every payload; Bolt ignores it.
VERIFICATION_TOKEN = "samen-verification-token"

# Which state/action field carries the choice, per element type.
_SINGLE_CHOICE = {"static_select", "external_select", "radio_buttons", "overflow"}
_MULTI_CHOICE = {"multi_static_select", "multi_external_select", "checkboxes"}
_SELECTED_FIELD = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}


def _options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return [option for option in options if isinstance(option, dict)]


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The option with this value as the element offered it (Slack echoes the whole option)."""
    for option in _options_of(element):
        if option.get("value") == value:
            return option
    return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}


def state_value(element: dict[str, Any] | None, value: Any) -> dict[str, Any]:
    """How Slack reports a value in `view.state.values` for this kind of element.

    A dict is taken as already Slack-shaped; otherwise a plain Python value (a string, a list of
    option values, a user id) is dressed according to the element the bot rendered.
    """
    if isinstance(value, dict):
        return value
    kind = str((element or {}).get("type") or "plain_text_input")
    if kind in _SINGLE_CHOICE:
        return {"type": kind, "selected_option": None if value is None else _option(element or {}, value)}
    if kind in _MULTI_CHOICE:
        return {"type": kind, "selected_options": [_option(element or {}, v) for v in value or []]}
    if kind in _SELECTED_FIELD:
        return {"type": kind, _SELECTED_FIELD[kind]: value}
    if kind == "rich_text_input":
        text = "" if value is None else str(value)
        return {
            "type": kind,
            "rich_text_value": {
                "type": "rich_text",
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
            },
        }
    return {"type": kind, "value": value}


def _input_elements(view: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(block_id, action_id) -> element, for every element of a view."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict):
            continue
        candidates = [block.get("element"), block.get("accessory"), *(block.get("elements") or [])]
        for element in candidates:
            if isinstance(element, dict) and "action_id" in element:
                found[(str(block.get("block_id")), str(element["action_id"]))] = element
    return found


class Payloads:
    """Builds Slack's payloads for one workspace (team) and app."""

    def __init__(
        self,
        *,
        double: SlackDouble | None = None,
        team_id: str = DEFAULT_TEAM_ID,
        app_id: str = DEFAULT_APP_ID,
        team_domain: str = DEFAULT_TEAM_DOMAIN,
    ) -> None:
        self.double = double
        self.team_id = team_id
        self.app_id = app_id
        self.team_domain = team_domain
        self._counter = itertools.count(1)

    # -- small parts -------------------------------------------------------------------------------

    def trigger_id(self) -> str:
        if self.double is not None:
            return self.double.issue_trigger_id()
        return new_trigger_id()

    def response_url(self, kind: str) -> str:
        tag = f"{kind}-{next(self._counter)}"
        if self.double is not None:
            return self.double.response_url(tag)
        # Without a double: an address that refuses at once, never a real Slack host.
        return f"http://127.0.0.1:9/response/{tag}"

    def user(self, user_id: str = DEFAULT_USER_ID, team: str | None = None) -> dict[str, Any]:
        registered = self.double.users.get(user_id) if self.double is not None else None
        name = registered.name if registered else user_id.lower()
        team_id = team or (registered.team_id if registered else self.team_id)
        return {"id": user_id, "username": name, "name": name, "team_id": team_id}

    def team(self, team: str | None = None) -> dict[str, Any]:
        return {"id": team or self.team_id, "domain": self.team_domain}

    def _channel(self, channel: str) -> dict[str, Any]:
        registered = self.double.channels.get(channel) if self.double is not None else None
        return {
            "id": channel,
            "name": registered.name
            if registered
            else "directmessage"
            if channel[:1] == "D"
            else f"channel-{channel.lower()}",
        }

    def _common(self, kind: str, user: str, team: str | None) -> dict[str, Any]:
        return {
            "type": kind,
            "token": VERIFICATION_TOKEN,
            "team": self.team(team),
            "user": self.user(user, team),
            "api_app_id": self.app_id,
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- slash commands ------------------------------------------------------------------------------

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = DEFAULT_USER_ID,
        team: str | None = None,
        channel: str = DEFAULT_CHANNEL_ID,
        locale: str | None = None,
        trigger_id: str | None = None,
    ) -> dict[str, str]:
        """The form fields of a slash command. `locale` is included only when given, as Slack does
        only for apps that opted in."""
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": team or self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": self._channel(channel)["name"],
            "user_id": user,
            "user_name": self.user(user, team)["name"],
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url("command"),
            "trigger_id": trigger_id or self.trigger_id(),
        }
        if locale is not None:
            fields["locale"] = locale
        return fields

    # -- interactions --------------------------------------------------------------------------------

    def block_actions(
        self,
        action_id: str,
        value: Any = None,
        *,
        user: str = DEFAULT_USER_ID,
        block_id: str | None = None,
        view: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        container: dict[str, Any] | None = None,
        channel: str | None = None,
        action_type: str | None = None,
        state_values: dict[str, dict[str, Any]] | None = None,
        team: str | None = None,
    ) -> dict[str, Any]:
        """A block_actions payload: someone clicked or chose something.

        Without `message` or `view`, and with a double, the payload is built from the newest
        message or modal in which the bot showed an element with this action_id; that is what a
        real click would carry (ts, blocks, block_id, the option the element offered).
        """
        element: dict[str, Any] = {}
        if message is None and view is None and self.double is not None:
            place = self.double.locate_action(action_id, channel=channel)
            if place is not None:
                message, view = place.get("message"), place.get("view")
                channel = channel or place.get("channel")
                block_id = block_id or place.get("block_id")
                element = place["element"]
        kind = action_type or element.get("type") or "button"
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or "block",
            "action_ts": f"{time.time():.6f}",
        }
        if kind == "button":
            action.update(
                {"type": "button", "text": element.get("text") or {"type": "plain_text", "text": action_id}}
            )
            chosen = value if value is not None else element.get("value")
            if chosen is not None:
                action["value"] = chosen
            if "style" in element:
                action["style"] = element["style"]
        else:
            action.update(state_value({**element, "type": kind}, value))
        payload = self._common("block_actions", user, team)
        payload["trigger_id"] = self.trigger_id()
        payload["actions"] = [action]
        if view is not None:
            payload["container"] = container or {"type": "view", "view_id": view.get("id")}
            payload["view"] = self._view_with_state(view, state_values)
        else:
            channel = channel or DEFAULT_CHANNEL_ID
            message = message or {
                "type": "message",
                "ts": f"{time.time():.6f}",
                "text": "",
                "user": BOT_USER_ID,
            }
            payload["container"] = container or {
                "type": "message",
                "message_ts": message.get("ts"),
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = self._channel(channel)
            payload["message"] = message
            payload["state"] = {"values": self._state(message, state_values)}
            payload["response_url"] = self.response_url("action")
        return payload

    def _state(self, holder: dict[str, Any], values: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
        elements = _input_elements(holder)
        state: dict[str, Any] = {}
        for block_id, actions in (values or {}).items():
            state[block_id] = {
                action_id: state_value(elements.get((block_id, action_id)), value)
                for action_id, value in actions.items()
            }
        return state

    def _view_with_state(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]] | None
    ) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "id": f"V0{uuid.uuid4().hex[:9].upper()}",
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": {"type": "plain_text", "text": "Samen"},
            "root_view_id": None,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": "B0SAMENBOT",
        }
        merged = {**defaults, **view}
        merged["root_view_id"] = merged["root_view_id"] or merged["id"]
        merged["state"] = {"values": self._state(merged, values)}
        return merged

    def _known_view(self, view_id: str | None, callback_id: str) -> dict[str, Any]:
        """The view the bot opened (by id, else the newest with this callback_id), if known."""
        if self.double is None:
            return {}
        if view_id is not None:
            return self.double.view(view_id) or {"id": view_id}
        try:
            return dict(self.double.last_view(callback_id))
        except AssertionError:
            return {}

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = DEFAULT_USER_ID,
        private_metadata: str | None = None,
        view_id: str | None = None,
        view: dict[str, Any] | None = None,
        team: str | None = None,
    ) -> dict[str, Any]:
        """A view_submission payload. `values` is {block_id: {action_id: value}}; plain values are
        shaped after the element the bot rendered (see `state_value`)."""
        base = view if view is not None else self._known_view(view_id, callback_id)
        base = {**base, "callback_id": callback_id}
        if private_metadata is not None:
            base["private_metadata"] = private_metadata
        payload = self._common("view_submission", user, team)
        payload["trigger_id"] = self.trigger_id()
        payload["view"] = self._view_with_state(base, values)
        payload["response_urls"] = []
        return payload

    def view_closed(
        self,
        callback_id: str,
        *,
        user: str = DEFAULT_USER_ID,
        private_metadata: str | None = None,
        view_id: str | None = None,
        is_cleared: bool = False,
        team: str | None = None,
    ) -> dict[str, Any]:
        base = {**self._known_view(view_id, callback_id), "callback_id": callback_id}
        if private_metadata is not None:
            base["private_metadata"] = private_metadata
        payload = self._common("view_closed", user, team)
        payload["view"] = self._view_with_state(base, None)
        payload["is_cleared"] = is_cleared
        return payload

    def shortcut(
        self, callback_id: str, *, user: str = DEFAULT_USER_ID, team: str | None = None
    ) -> dict[str, Any]:
        """A global shortcut (from the lightning menu or search)."""
        payload = self._common("shortcut", user, team)
        payload.update(
            {"callback_id": callback_id, "trigger_id": self.trigger_id(), "action_ts": f"{time.time():.6f}"}
        )
        return payload

    def message_shortcut(
        self,
        callback_id: str,
        message: dict[str, Any],
        *,
        user: str = DEFAULT_USER_ID,
        channel: str = DEFAULT_CHANNEL_ID,
        team: str | None = None,
    ) -> dict[str, Any]:
        """A message shortcut ("message_action"): someone used the app's entry on a message."""
        message = {"type": "message", "ts": f"{time.time():.6f}", "text": "", **message}
        payload = self._common("message_action", user, team)
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.trigger_id(),
                "action_ts": f"{time.time():.6f}",
                "message_ts": message["ts"],
                "message": message,
                "channel": self._channel(channel),
                "response_url": self.response_url("shortcut"),
            }
        )
        return payload

    # -- Events API ------------------------------------------------------------------------------------

    def event_callback(
        self, event: dict[str, Any], *, event_id: str | None = None, team: str | None = None
    ) -> dict[str, Any]:
        """The Events API envelope around one event."""
        now = time.time()
        inner = {"event_ts": f"{now:.6f}", **event}
        if inner.get("type") == "message":
            inner.setdefault("ts", inner["event_ts"])
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": team or self.team_id,
            "context_team_id": team or self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev0{uuid.uuid4().hex[:9].upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team or self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    def url_verification(self, challenge: str) -> dict[str, Any]:
        return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
