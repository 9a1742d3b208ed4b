"""The chat seam: what Samen needs from a chat platform, and what it receives from one.

Samen's domain, jobs and outbox speak to people through one `Chat`; Slack is its one implementation
today (`bot/slack/chat.py: SlackChat`), Matrix the next (issue 18). Nothing here imports a platform's
library, so that a second platform plugs in without the outbox or the domain changing.

Why these shapes:
- **Content** is what a template renders (`{"text": …, "blocks": […]}`, Block Kit today). It stays one
  source for what people read: a platform without Block Kit renders it to its own form (Matrix: HTML with
  a plain-text body) inside its implementation, never in a second hand-written copy.
- **Addresses are strings the platform gave Samen**: a conversation (Slack `C…`/`D…`, Matrix `!room`), a
  person (Slack `U…`, Matrix `@user:server`), a message (Slack's `ts`, Matrix's event id). Posting *to a
  person* means their direct conversation with Samen; the implementation finds or opens it.
- **`team`** names which of Samen's installations speaks where Samen has several (Slack workspaces through
  OAuth); None is the person's own for a direct message, else the home installation. A platform with
  one account (Matrix's bot user) ignores it.
- **A failure is an `Outcome`** (raised as `ChatFailure`) in the outbox's terms, not the platform's error:
  wait as long as the platform asked (rate limited), try again with backoff (temporary, or refused
  credentials an operator must fix), give up with a reason (permanent) — and whether the call may have
  been carried out all the same, so that a post is looked for before it is made twice.
- **What arrives** from a platform is one of a few kinds of request (`Kind`), read into `Incoming`:
  a command, a click, a submitted form, a shortcut, an event, the home view opened.
"""

from __future__ import annotations

import http.client
import re
import socket
import urllib.error
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, Protocol

# Matrix's ids (the spec's grammar, loosely for historical user ids): a person `@localpart:server`, a room
# `!opaque:server` or, from room version 12 on, `!opaque` without the server. Here, in the core, because the
# partners file, the mentions and the Matrix edge all read them.
_SERVER: Final = r"[A-Za-z0-9.\-]{1,255}(?::[0-9]{1,5})?"
MATRIX_USER_ID: Final = re.compile(rf"^@[A-Za-z0-9._=/+\-]{{1,255}}:{_SERVER}$")
MATRIX_ROOM_ID: Final = re.compile(rf"^![A-Za-z0-9._~=/+\-]{{1,255}}(?::{_SERVER})?$")


def matrix_server(user_id: str) -> str:
    """The server a Matrix person's account lives on: Samen's `team` for them, as a Slack person's
    workspace is (a partner's people may sit on their own homeserver, federated)."""
    return user_id.partition(":")[2]


# What a template renders: the message's text (its plain fallback) and its rich content.
Content = Mapping[str, Any]

# How a call failed, as the outbox acts on it.
RETRY_AFTER: Final = "retry_after"  # rate limited: wait `retry_after` seconds, then the same call again
TRANSIENT: Final = "transient"  # the platform is away or in trouble, or refuses the credentials: back off
PERMANENT: Final = "permanent"  # will never succeed: the message fails with the reason

# Failures of the network under any HTTP client: nobody answered, or the answer was cut off.
NETWORK_ERRORS: Final = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    socket.timeout,
    TimeoutError,
    OSError,
)


@dataclass(frozen=True)
class Outcome:
    """What a failed call means for the message it carried."""

    kind: str  # RETRY_AFTER, TRANSIENT or PERMANENT
    reason: str  # short and free of people's text: it is stored on the row and is a metric's label
    retry_after: float | None = None
    # The platform may have carried the call out all the same (a 5xx, a dropped connection, a timeout):
    # a post is looked for (`Chat.find_posted`) before it is made again.
    maybe_delivered: bool = False
    # The platform refuses Samen's credentials (a revoked token): an operator fixes it; never lost.
    refused: bool = False


class ChatFailure(Exception):
    """A call to the chat platform failed; `outcome` says what to do about it (its message is the reason)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


@dataclass(frozen=True)
class Sent:
    """Where a message now is: its conversation and its id there (Slack's `ts`, Matrix's event id),
    kept on the outbox row so that later updates and thread replies reach it."""

    channel: str | None
    message: str | None


@dataclass(frozen=True)
class Identity:
    """Who Samen is on the platform (`Chat.whoami`): its user, its bot (Slack's `bot_id`, by which its
    own posts are recognised), and the installation (Slack's team)."""

    user_id: str | None
    bot_id: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class PersonInfo:
    """What the platform says about a person (`Chat.person`): enough to greet them in their language."""

    user_id: str
    team_id: str | None = None
    name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    is_bot: bool = False
    deleted: bool = False


# The kinds of request a platform hands Samen. Slack: a slash command, a button or menu (`action`), a
# submitted or closed modal (`view`), a shortcut, an Events API event, the App Home opened (`home`), the
# options of an external select (`options`). Matrix: a `!samen …` message is a command, a reaction or a
# numbered reply an action, a guided conversation's last answer a view.
Kind = Literal["command", "action", "view", "shortcut", "event", "home", "options", "other"]


@dataclass(frozen=True)
class Incoming:
    """One request from a platform in plain terms, before Samen resolves who acts (member, language)."""

    kind: Kind
    team_id: str | None  # the installation it came through (Slack's team; None on Matrix)
    user_id: str | None  # the person acting; None for an event nobody caused (an uninstall)
    name: str = ""  # the command, the action or form's id, the shortcut's callback id, the event's type
    text: str = ""  # a command's text after its name
    value: str | None = None  # a button's value
    channel_id: str | None = None  # the conversation it happened in, if any
    message: str | None = None  # the id of the message acted on (a button in it, a message shortcut)
    trigger: str | None = None  # what opens a form in reply (Slack's trigger_id; Matrix has none)
    metadata: str = ""  # what Samen wrote into the form it opened (Slack's private_metadata)
    values: Mapping[str, Any] = field(default_factory=dict)  # a submitted form's fields


class Chat(Protocol):
    """What Samen asks of a chat platform. Every call raises `ChatFailure` when it fails."""

    def whoami(self) -> Identity:
        """Who Samen is; also the start-up check that the platform takes its credentials."""
        ...

    def post(
        self,
        to: str,
        content: Content,
        *,
        thread: str | None = None,
        outbox_id: int | None = None,
        team: str | None = None,
    ) -> Sent:
        """Post to a conversation, or to a person (their direct conversation with Samen); in `thread`
        (a message's id) when given. `outbox_id` is carried with the message where the platform can
        (Slack's message metadata), so that `find_posted` recognises it after a crash."""
        ...

    def update(self, channel: str, message: str, content: Content, *, team: str | None = None) -> Sent:
        """Replace a message Samen posted (a live board, a card) in place."""
        ...

    def delete(self, channel: str, message: str, *, team: str | None = None) -> None: ...

    def direct_message(
        self, user: str, content: Content, *, outbox_id: int | None = None, team: str | None = None
    ) -> Sent:
        """A message to one person in their direct conversation with Samen."""
        ...

    def ephemeral(
        self, channel: str, user: str, content: Content, *, thread: str | None = None, team: str | None = None
    ) -> None:
        """A reply in `channel` that only `user` sees (a platform without them sends a direct message)."""
        ...

    def open_form(self, trigger: str, form: Content, *, team: str | None = None) -> str:
        """Open a form in answer to a request (`Incoming.trigger`); returns the form's id."""
        ...

    def update_form(self, form_id: str, form: Content, *, team: str | None = None) -> None: ...

    def publish_home(self, user: str, view: Content, *, team: str | None = None) -> None:
        """Show `user` their own page of Samen (Slack's App Home)."""
        ...

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
        """A file (a chart) to a conversation or a person."""
        ...

    def person(self, user: str, *, team: str | None = None) -> PersonInfo | None:
        """What the platform says about a person; None when it knows nobody by that id."""
        ...

    def find_posted(
        self,
        to: str,
        *,
        outbox_id: int,
        since: datetime,
        thread: str | None = None,
        team: str | None = None,
    ) -> Sent | None:
        """Our message carrying `outbox_id`, posted to `to` (in `thread`) since `since`, if the platform
        has it: after a crash mid-call the outbox records it instead of posting a twin. None: not there,
        or the platform cannot say (then the message is posted again: at worst a twin, never a loss)."""
        ...
