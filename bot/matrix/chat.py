"""Matrix as the chat seam's implementation (`bot.chat.Chat`), on one `MatrixConnection`.

Matrix's side of the seam's promises:
- what a template renders becomes a Matrix message through `bot.matrix.html.message_content` (HTML with
  a plain-text body, the buttons as numbered choices in `nl.samen.choices`): one source for what people read;
- a post to a person (`@…`) goes to the bot's direct room with them (`MatrixConnection.direct_room`);
- a post made for an outbox row carries the row's id in its content (`nl.samen.outbox_id`), and is PUT
  under a transaction id derived from the row (`txn_id_for`): the homeserver itself answers a retried send
  of the same row with the event it already made. `find_posted` reads the room back for the id after a
  crash, for what the transaction cache no longer covers (a restart of the homeserver, or after its
  cache time);
- an update is an edit (`m.replace`): the message keeps its first event id, which the outbox stores;
- follow-ups in a thread are `m.thread` relations, with the reply fallback for clients without threads;
- no ephemeral messages on Matrix: what only one person may see goes to their direct room, never into
  the shared room (need-to-know);
- no App Home on Matrix: `publish_home` does nothing;
- forms are the front's guided conversations (bot/matrix/forms.py), reached through hooks the front
  sets (`forms`, `update_forms`);
- encrypted rooms: Samen cannot encrypt — mautrix's end-to-end encryption needs libolm (python-olm), which
  is deprecated upstream and not installable here, so a post or an edit to a room with `m.room.encryption`
  fails at once with PERMANENT "encrypted_room" instead of sending what nobody can read; the front says
  so in the room when it joins (docs/matrix.md).
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from bot.chat import (
    MATRIX_ROOM_ID,
    MATRIX_USER_ID,
    PERMANENT,
    RETRY_AFTER,
    ChatFailure,
    Content,
    Identity,
    Outcome,
    PersonInfo,
    Sent,
    matrix_server,
)
from bot.matrix.connection import MatrixConnection, txn_id_for
from bot.matrix.html import message_content

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Services

logger = logging.getLogger(__name__)

OUTBOX_FIELD: Final = "nl.samen.outbox_id"  # the outbox row a message was sent for
RECONCILE_EVENTS: Final = 500  # of the bot's own latest messages in the room; busier: send again (a twin)
# The homeserver's clock and ours may differ: look a little further back than the send began.
CLOCK_SLACK: Final = timedelta(minutes=5)

FormOpener = Callable[[str, Content], str]
FormUpdater = Callable[[str, Content], None]

_shared: dict[tuple[str, str], MatrixConnection] = {}
_shared_lock = threading.Lock()


def shared_connection(settings: Settings) -> MatrixConnection:
    """The process's one connection for these settings (its loop, its session, its DM cache)."""
    key = (str(settings.matrix_homeserver_url), str(settings.matrix_user_id))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = MatrixConnection.from_settings(settings)
        return _shared[key]


class MatrixChat:
    """The chat seam on a Matrix homeserver. Every failure is a `ChatFailure` (connection.outcome_of)."""

    def __init__(
        self,
        connection: MatrixConnection,
        *,
        forms: FormOpener | None = None,
        update_forms: FormUpdater | None = None,
        language: str | None = None,
        patience: float = 0.0,
    ) -> None:
        self.connection = connection
        # How long a send may wait out the homeserver's rate limit itself (seconds, in all). The outbox's
        # chat has none: a `RETRY_AFTER` outcome goes back to the outbox, which waits per room. The front's
        # has a few seconds: a person waiting for an answer gets it late rather than never.
        self.patience = patience
        # The partnership's language (SAMEN_LANGUAGE): a message with choices says in it how to choose.
        self.language = language
        self.forms = forms  # set by the front: a form as a guided conversation
        self.update_forms = update_forms

    @classmethod
    def for_services(cls, services: Services) -> MatrixChat:
        """The process's Matrix: one connection per process, from the settings."""
        settings = services.settings
        return cls(shared_connection(settings), language=settings.samen_language)

    # -- the seam ----------------------------------------------------------------------------------
    def whoami(self) -> Identity:
        user_id = self.connection.whoami()
        return Identity(user_id=user_id, bot_id=user_id, team_id=matrix_server(user_id))

    def post(
        self,
        to: str,
        content: Content,
        *,
        thread: str | None = None,
        outbox_id: int | None = None,
        team: str | None = None,
    ) -> Sent:
        room = self._room(to)
        message = dict(message_content(content, language=self.language))
        return Sent(room, self._send(room, message, thread=thread, outbox_id=outbox_id))

    def update(self, channel: str, message: str, content: Content, *, team: str | None = None) -> Sent:
        """An edit (`m.replace`) of our message: clients show the new content in its place; the first
        event id stays the message's id (later edits replace that one too)."""
        room = self._room(channel)
        new = dict(message_content(content, language=self.language))
        new.pop("m.relates_to", None)  # an edit's new content carries no relation of its own
        edit: dict[str, Any] = {
            "msgtype": new.get("msgtype", "m.text"),
            "body": "* " + str(new.get("body", "")),
            "m.new_content": new,
            "m.relates_to": {"rel_type": "m.replace", "event_id": message},
        }
        if new.get("format") and new.get("formatted_body") is not None:
            edit["format"] = new["format"]
            edit["formatted_body"] = "* " + str(new["formatted_body"])
        self._check_unencrypted(room)
        self._patiently(room, edit, txn_id=None)
        return Sent(room, message)

    def delete(self, channel: str, message: str, *, team: str | None = None) -> None:
        self.connection.redact(self._room(channel), message)

    def direct_message(
        self, user: str, content: Content, *, outbox_id: int | None = None, team: str | None = None
    ) -> Sent:
        return self.post(self.connection.direct_room(user), content, outbox_id=outbox_id)

    def ephemeral(
        self, channel: str, user: str, content: Content, *, thread: str | None = None, team: str | None = None
    ) -> None:
        """Matrix has no message only one person in a room sees: it goes to the person's direct room with
        Samen, never into `channel` (what they alone may read stays theirs)."""
        self.direct_message(user, content)

    def open_form(self, trigger: str, form: Content, *, team: str | None = None) -> str:
        if self.forms is None:
            raise ChatFailure(Outcome(PERMANENT, "no_forms"))
        return self.forms(trigger, form)

    def update_form(self, form_id: str, form: Content, *, team: str | None = None) -> None:
        if self.update_forms is None:
            raise ChatFailure(Outcome(PERMANENT, "no_forms"))
        self.update_forms(form_id, form)

    def publish_home(self, user: str, view: Content, *, team: str | None = None) -> None:
        """Matrix has no App Home: nothing to show (`!samen help` and the DM carry what it would)."""
        return None

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
        """The file into the media repository, then a message showing it: `m.image` for a PNG (a chart),
        `m.file` otherwise; in `thread` when given."""
        room = self._room(to)
        self._check_unencrypted(room)
        is_png = filename.lower().endswith(".png") or data[:8] == b"\x89PNG\r\n\x1a\n"
        mime = "image/png" if is_png else (mimetypes.guess_type(filename)[0] or "application/octet-stream")
        uri = self.connection.upload(data, mime=mime, filename=filename)
        message: dict[str, Any] = {
            "msgtype": "m.image" if is_png else "m.file",
            "body": alt_text or title or filename,
            "filename": filename,
            "url": uri,
            "info": {"mimetype": mime, "size": len(data)},
        }
        return Sent(room, self._send(room, message, thread=thread, outbox_id=None))

    def person(self, user: str, *, team: str | None = None) -> PersonInfo | None:
        if not MATRIX_USER_ID.match(user or ""):
            return None
        try:
            profile = self.connection.profile(user)
        except ChatFailure as failure:
            if failure.outcome.kind == PERMANENT:
                return None
            raise
        if profile is None:
            return None
        name = profile.get("displayname")
        return PersonInfo(user_id=user, team_id=matrix_server(user), name=str(name) if name else None)

    def find_posted(
        self,
        to: str,
        *,
        outbox_id: int,
        since: datetime,
        thread: str | None = None,
        team: str | None = None,
    ) -> Sent | None:
        """Our message carrying `outbox_id`, among the bot's latest messages in the room (bounded) sent
        since `since`. The homeserver busy or away: `ChatFailure`, and the look-up comes again; a room we
        cannot read: None, and the row is sent again."""
        try:
            room = self._room(to)
            events = self.connection.recent(room, limit=RECONCILE_EVENTS, senders=[self.connection.user_id])
        except ChatFailure as failure:
            if failure.outcome.kind != PERMANENT:
                raise
            reason = failure.outcome.reason
            logger.warning("outbox row %s: cannot look for an earlier post (%s); sending", outbox_id, reason)
            return None
        oldest_ms = int((since - CLOCK_SLACK).timestamp() * 1000)
        for event in events:  # newest first
            if int(event.get("origin_server_ts") or 0) < oldest_ms:
                return None
            content = event.get("content") or {}
            if event.get("sender") == self.connection.user_id and content.get(OUTBOX_FIELD) == outbox_id:
                return Sent(room, str(event["event_id"]))
        return None

    # -- Matrix's details --------------------------------------------------------------------------
    def _room(self, to: str) -> str:
        """A room id as given, or a person's direct room with Samen."""
        if to.startswith("@"):
            return self.connection.direct_room(to)
        if not MATRIX_ROOM_ID.match(to or ""):
            raise ChatFailure(Outcome(PERMANENT, "bad_room_id"))
        return to

    def _check_unencrypted(self, room: str) -> None:
        if self.connection.is_encrypted(room):
            raise ChatFailure(Outcome(PERMANENT, "encrypted_room"))

    def _send(self, room: str, message: dict[str, Any], *, thread: str | None, outbox_id: int | None) -> str:
        self._check_unencrypted(room)
        if thread:
            message["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": thread},
            }
        txn_id = None
        if outbox_id is not None:
            message[OUTBOX_FIELD] = outbox_id
            txn_id = txn_id_for(outbox_id, room, message)
        return self._patiently(room, message, txn_id=txn_id)

    def _patiently(self, room: str, message: dict[str, Any], *, txn_id: str | None) -> str:
        waited = 0.0
        while True:
            try:
                return self.connection.send(room, message, txn_id=txn_id)
            except ChatFailure as failure:
                wait = failure.outcome.retry_after
                if failure.outcome.kind != RETRY_AFTER or wait is None or waited + wait > self.patience:
                    raise
                time.sleep(wait)
                waited += wait


def _check(chat: MatrixChat) -> Any:
    """mypy: MatrixChat is a `bot.chat.Chat`."""
    from bot.chat import Chat

    checked: Chat = chat
    return checked
