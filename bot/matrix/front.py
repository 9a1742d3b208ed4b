"""The front door on Matrix: what people do in their rooms, turned into the requests the listeners answer.

The sync loop (mautrix, on the connection's own event loop) hands each event to a pool of threads; there
one person's events are handled in order (a lock per person), so that two quick answers to a form never
race. What arrives becomes one of the requests Slack would send for the same act, dispatched to the one
Bolt app with every listener (bot/matrix/bolt.py answers the Web API calls they make):

- `!samen <subcommand> …` or `!rugdekking …` in a room Samen is in, or in a direct room → a slash command;
- a reply with a number (`2`) to a message of Samen's with choices, in its thread or as a reply (or, in a
  direct room, to the last such message) → a click on that button; a ✅ reaction → a click on its primary
  button (the backup alert's "Ontvangen"); a keycap (1️⃣ …) → that number;
- the answers of a guided conversation (bot/matrix/forms.py) → a submitted form.

Who may use Samen is the partnership's business, as on Slack: an invitation is accepted only from a member
(rooms and direct rooms), anyone else's is declined; a stranger typing `!samen` in a shared room is told,
in a reply there, whom to ask. Samen cannot read encrypted rooms (docs/matrix.md): it says so in the room,
once, instead of failing silently.

Events from before this process started are not acted on (the first sync replays a room's recent past).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt.request import BoltRequest

from bot.chat import ChatFailure, matrix_server
from bot.i18n import N_, t
from bot.matrix.forms import Conversation, has_questions, mentioned_in
from bot.matrix.html import CHOICES_KEY, Choice, choices_of, message_content
from bot.runtime import Services

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.matrix.chat import MatrixChat
    from bot.matrix.connection import MatrixConnection

logger = logging.getLogger(__name__)

# What people type: the word, and the slash command it stands for on Slack.
COMMANDS: dict[str, str] = {"!samen": "/samen", "!rugdekking": "/rugdekking"}
ACKNOWLEDGE = "\u2705"  # ✅: the primary choice (a backup alert's "Ontvangen")
KEYCAPS = {f"{n}\ufe0f\u20e3": n for n in range(1, 10)} | {f"{n}\u20e3": n for n in range(1, 10)}
NUMBER = re.compile(r"^\s*(\d{1,2})[.)]?\s*$")
FORM_IDLE_SECONDS = 3600  # a form not answered for an hour is dropped (the person starts it again)
REMEMBERED = 2000  # triggers and last choices kept, oldest dropped first
HTML_FORMAT = "org.matrix.custom.html"
PASSED_ON = 2.0  # seconds: an event stamped this long before start is from before this process


@dataclass
class Asker:
    """Who a request came from and where: what a form opened in answer to it needs."""

    user_id: str
    room_id: str
    language: str


@dataclass
class OpenForm:
    """One person's form in progress, in their direct room."""

    conversation: Conversation
    view_id: str
    room_id: str
    language: str
    asked: float = field(default_factory=time.monotonic)


class MatrixFront:
    def __init__(
        self,
        services: Services,
        app: App,
        connection: MatrixConnection,
        chat: MatrixChat,
        *,
        threads: int = 8,
    ) -> None:
        self.services = services
        self.app = app
        self.connection = connection
        self.chat = chat
        self.me = connection.user_id
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="matrix")
        self._people: dict[str, threading.Lock] = {}
        self._people_lock = threading.Lock()
        self._triggers: OrderedDict[str, Asker] = OrderedDict()
        self._last_choices: OrderedDict[str, str] = OrderedDict()  # room → Samen's last message with choices
        self._forms: dict[str, OpenForm] = {}  # person → their form in progress
        self._told_encrypted: set[str] = set()
        self._started_ms = 0
        self._sync: Any = None

    # -- running ---------------------------------------------------------------------------------------

    def start(self) -> None:
        from mautrix.types import EventType

        self._started_ms = int(time.time() * 1000)
        client = self.connection.client
        client.add_event_handler(EventType.ROOM_MEMBER, self._on(self.invited))
        client.add_event_handler(EventType.ROOM_MESSAGE, self._on(self.message))
        client.add_event_handler(EventType.REACTION, self._on(self.reaction))
        client.add_event_handler(EventType.ROOM_ENCRYPTED, self._on(self.encrypted, first=self._mark))
        # Encryption switched on in a room Samen is in: from that event on nothing is sent there in plain
        # text (the connection's cache would otherwise still hold the room as unencrypted for minutes).
        client.add_event_handler(EventType.ROOM_ENCRYPTION, self._on(self.encrypted, first=self._mark))

        async def begin() -> None:
            self._sync = client.start(None)

        self.connection.run(begin())
        logger.info("listening on Matrix as the bot account")

    def stop(self) -> None:
        async def end() -> None:
            self.connection.client.stop()

        try:
            self.connection.run(end(), timeout=5)
        except Exception:  # stopping: the loop may be gone already
            logger.info("the Matrix sync had stopped already")
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _on(
        self,
        handle: Callable[[dict[str, Any]], None],
        *,
        first: Callable[[dict[str, Any]], None] | None = None,
    ) -> Callable[[Any], Any]:
        """An event handler for mautrix: the event as plain JSON, handled in the pool, never on the loop;
        `first` (quick, no I/O) runs on the loop at once, before any later event is handled."""

        async def handler(event: Any) -> None:
            raw = event.serialize() if hasattr(event, "serialize") else dict(event)
            if first is not None:
                first(raw)
            sender = str(raw.get("sender") or "")
            if sender == self.me:
                self._remember_own(raw)
                return
            self._pool.submit(self._in_order, sender, handle, raw)

        return handler

    def _in_order(self, sender: str, handle: Callable[[dict[str, Any]], None], raw: dict[str, Any]) -> None:
        with self._people_lock:
            lock = self._people.setdefault(sender, threading.Lock())
        with lock:
            try:
                handle(raw)
            except Exception as error:  # one event's failure never stops the front
                logger.error("a Matrix event could not be handled: %s", type(error).__name__, exc_info=error)

    def _fresh(self, raw: Mapping[str, Any]) -> bool:
        stamp = raw.get("origin_server_ts")
        return not isinstance(stamp, int) or stamp >= self._started_ms - PASSED_ON * 1000

    def _remember_own(self, raw: Mapping[str, Any]) -> None:
        content = raw.get("content") or {}
        new = content.get("m.new_content") if isinstance(content, Mapping) else None
        if isinstance(content, Mapping) and (content.get(CHOICES_KEY) or (new and new.get(CHOICES_KEY))):
            relates = content.get("m.relates_to") or {}
            target = (
                relates.get("event_id") if relates.get("rel_type") == "m.replace" else raw.get("event_id")
            )
            if target:
                _remember(self._last_choices, str(raw.get("room_id")), str(target))

    # -- invitations and encrypted rooms ---------------------------------------------------------------

    def invited(self, raw: dict[str, Any]) -> None:
        content = raw.get("content") or {}
        if raw.get("state_key") != self.me or content.get("membership") != "invite":
            return
        room, inviter = str(raw.get("room_id")), str(raw.get("sender") or "")
        if not self._is_member(inviter):
            logger.info("declined an invitation from someone who is not a member of the partnership")
            self.connection.leave(room, reason="Samen joins rooms of the partnership's members only.")
            return
        self.connection.join(room)
        if self.connection.is_encrypted(room):
            self._say_encrypted(room, inviter)

    def _mark(self, raw: Mapping[str, Any]) -> None:
        if raw.get("room_id"):
            self.connection.mark_encrypted(str(raw["room_id"]))  # nothing more is sent there in plain text

    def encrypted(self, raw: dict[str, Any]) -> None:
        """Something encrypted in a room (a message, or encryption switched on): said once, if new."""
        self._mark(raw)
        if self._fresh(raw):
            self._say_encrypted(str(raw.get("room_id")), str(raw.get("sender") or ""))

    def _say_encrypted(self, room: str, person: str) -> None:
        """Samen cannot read an encrypted room: said once in the room, and a direct room of Samen's own
        (not encrypted) offered to the person, instead of silence."""
        if room in self._told_encrypted:
            return
        self._told_encrypted.add(room)
        language = self._language(person)
        text = t(
            language,
            "Samen cannot read encrypted rooms, so it will not answer here. Use a room without "
            "encryption for the partnership, or type !samen help in the direct conversation Samen opens "
            "with you.",
        )
        self.connection.send(room, {"msgtype": "m.notice", "body": text})
        if self._is_member(person):
            self.chat.direct_message(
                person, {"text": t(language, "Samen is here. Type !samen help to start.")}
            )

    # -- messages --------------------------------------------------------------------------------------

    def message(self, raw: dict[str, Any]) -> None:
        content = raw.get("content") or {}
        if not self._fresh(raw) or content.get("msgtype") not in ("m.text", "m.notice", None):
            return
        if (content.get("m.relates_to") or {}).get("rel_type") == "m.replace":
            return  # an edit of a message already handled
        sender, room = str(raw["sender"]), str(raw["room_id"])
        text = _without_reply_fallback(str(content.get("body") or ""))
        word, _, rest = text.strip().partition(" ")
        command = COMMANDS.get(word.lower())
        if command is not None:
            self.command(sender, room, command, rest.strip(), raw)
            return
        form = self._forms.get(sender)
        if form is not None and form.room_id == room:
            html = content.get("formatted_body") if content.get("format") == HTML_FORMAT else None
            pills = mentioned_in(html) if isinstance(html, str) else []
            self.answer_form(sender, form, text, mentioned=pills)
            return
        number = NUMBER.match(text)
        if number:
            target = self._target(room, content)
            if target:
                self.choose(sender, room, target, number=int(number.group(1)))

    def reaction(self, raw: dict[str, Any]) -> None:
        relates = (raw.get("content") or {}).get("m.relates_to") or {}
        if not self._fresh(raw) or relates.get("rel_type") != "m.annotation" or not relates.get("event_id"):
            return
        key = str(relates.get("key") or "")
        sender, room, target = str(raw["sender"]), str(raw["room_id"]), str(relates["event_id"])
        if key.replace("\ufe0f", "") == ACKNOWLEDGE:
            self.choose(sender, room, target, primary=True)
        elif key in KEYCAPS:
            self.choose(sender, room, target, number=KEYCAPS[key])

    def _target(self, room: str, content: Mapping[str, Any]) -> str | None:
        """The message a number answers: the one replied to, else the thread's first, else (in any room)
        Samen's last message with choices there."""
        relates = content.get("m.relates_to") or {}
        replied = (relates.get("m.in_reply_to") or {}).get("event_id")
        if replied and not relates.get("is_falling_back"):
            return str(replied)
        if relates.get("rel_type") == "m.thread" and relates.get("event_id"):
            return str(relates["event_id"])
        return self._last_choices.get(room)

    # -- what a person does, as Slack would have sent it -----------------------------------------------

    def command(self, sender: str, room: str, command: str, text: str, raw: Mapping[str, Any]) -> None:
        if not self._is_member(sender):
            self._tell_stranger(sender, room, str(raw.get("event_id") or ""))
            return
        team = matrix_server(sender)
        body = {
            "command": command,
            "text": text,
            "user_id": sender,
            "team_id": team,
            "channel_id": room,
            "trigger_id": self._trigger(sender, room),
            "api_app_id": "matrix",
        }
        self._answer(sender, room, self.dispatch(body))

    def choose(
        self, sender: str, room: str, target: str, *, number: int | None = None, primary: bool = False
    ) -> None:
        choices = self._choices(room, target)
        chosen: Choice | None
        if primary:
            chosen = next((c for c in choices if c.primary), None)
        else:
            chosen = next((c for c in choices if c.number == number), None)
        if chosen is None:
            return  # a number or reaction that answers nothing of Samen's: an ordinary message
        team = matrix_server(sender)
        action: dict[str, Any] = {
            "type": "button",
            "action_id": chosen.action_id,
            "block_id": chosen.block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if chosen.value is not None:
            action["value"] = chosen.value
            action["selected_option"] = {"value": chosen.value}
        body = {
            "type": "block_actions",
            "user": {"id": sender, "team_id": team},
            "team": {"id": team},
            "channel": {"id": room},
            "container": {"type": "message", "message_ts": target, "channel_id": room},
            "message": {"ts": target, "text": ""},
            "trigger_id": self._trigger(sender, room),
            "actions": [action],
            "api_app_id": "matrix",
        }
        self._answer(sender, room, self.dispatch(body))

    def _choices(self, room: str, target: str) -> list[Choice]:
        """The choices of a message Samen sent (never anyone else's), as its latest edit shows them."""
        try:
            event = self.connection.get_event(room, target)
        except ChatFailure:
            return []
        if event.get("sender") != self.me:
            return []
        latest = ((event.get("unsigned") or {}).get("m.relations") or {}).get("m.replace") or {}
        newest = (
            (latest.get("content") or {}).get("m.new_content") if latest.get("sender") == self.me else None
        )
        return choices_of(newest or event.get("content") or {})

    def dispatch(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Hand the request to the listeners; returns what they acknowledged with (their answer), if any."""
        response = self.app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        if not response.body:
            return None
        try:
            answer = json.loads(response.body)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    def _answer(self, sender: str, room: str, answer: Mapping[str, Any] | None) -> None:
        """The listener's acknowledgement, where Slack would have shown it: to the person alone (their
        direct room), or in the room when the listener answered for everyone there."""
        if not answer or not (answer.get("text") or answer.get("blocks")):
            return
        content = {"text": answer.get("text") or "", "blocks": answer.get("blocks") or []}
        if answer.get("response_type") == "in_channel":
            self.chat.post(room, content)
        else:
            self.chat.direct_message(sender, content)

    # -- forms as conversations ------------------------------------------------------------------------

    def open_form(self, trigger: str, view: Mapping[str, Any]) -> str:
        """`views.open`: a form becomes a conversation in the person's direct room; a view without
        questions (a confirmation, details) is simply sent there."""
        asker = self._triggers.get(trigger)
        if asker is None:
            raise ChatFailure(_expired())
        view_id = f"mx-{uuid.uuid4().hex[:16]}"
        self._show_view(asker, view_id, view)
        return view_id

    def update_form(self, view_id: str, view: Mapping[str, Any]) -> None:
        """`views.update`: the form in progress becomes `view` (the next step), or `view` is sent."""
        for person, form in list(self._forms.items()):
            if form.view_id == view_id:
                self._show_view(Asker(person, form.room_id, form.language), view_id, view)
                return

    def _show_view(self, asker: Asker, view_id: str, view: Mapping[str, Any]) -> None:
        room = self.connection.direct_room(asker.user_id)
        if has_questions(view):
            conversation = Conversation(
                view,
                language=asker.language,
                zone=self.services.settings.samen_timezone,
                now=self.services.clock.now,
            )
            self._forms[asker.user_id] = OpenForm(conversation, view_id, room, asker.language)
            self.chat.post(room, conversation.question())
        else:
            self._forms.pop(asker.user_id, None)
            self.chat.post(room, dict(view))

    def answer_form(self, sender: str, form: OpenForm, text: str, *, mentioned: Sequence[str] = ()) -> None:
        conversation = form.conversation
        if time.monotonic() - form.asked > FORM_IDLE_SECONDS or conversation.cancelled(text):
            del self._forms[sender]
            self.chat.post(form.room_id, {"text": t(form.language, "Stopped: nothing was saved.")})
            return
        form.asked = time.monotonic()
        problem = conversation.answer(text, mentioned=mentioned)
        if problem is not None:
            self.chat.post(form.room_id, {"text": problem})
            self.chat.post(form.room_id, conversation.question())
            return
        if not conversation.done:
            self.chat.post(form.room_id, conversation.question())
            return
        del self._forms[sender]
        team = matrix_server(sender)
        body = conversation.submission(user_id=sender, team_id=team, view_id=form.view_id)
        body["trigger_id"] = self._trigger(sender, form.room_id)
        answer = self.dispatch(body) or {}
        action = answer.get("response_action")
        if action == "errors":
            conversation.reopen_with_errors(answer.get("errors") or {})
            self._forms[sender] = form
            self.chat.post(form.room_id, conversation.question())
        elif action in ("update", "push") and isinstance(answer.get("view"), Mapping):
            asker = Asker(sender, form.room_id, form.language)
            self._show_view(asker, form.view_id, answer["view"])

    # -- who, and in which language --------------------------------------------------------------------

    def _is_member(self, user_id: str) -> bool:
        from bot.partners.service import find_member

        with self.services.session(read_only=True) as session:
            return find_member(session, team_id=matrix_server(user_id), user_id=user_id) is not None

    def _language(self, user_id: str) -> str:
        from bot.slack.app import Actor, resolve_language

        return resolve_language(self.services, Actor(team_id=matrix_server(user_id), user_id=user_id), {})

    def _trigger(self, sender: str, room: str) -> str:
        trigger = f"mxt-{uuid.uuid4().hex}"
        _remember(self._triggers, trigger, Asker(sender, room, self._language(sender)))
        return trigger

    def _tell_stranger(self, sender: str, room: str, event_id: str) -> None:
        """Someone who is not a member typed a command in a shared room: the same answer as on Slack
        (you are not a member, ask …), as a reply there — Samen opens no room for a stranger."""
        from bot.slack.interaction import coordinators_to_ask

        message = self.services.renderer.render(
            "partner_not_a_member.json.j2",
            self._language(sender),
            coordinators=coordinators_to_ask(self.services),
        )
        content = message_content(message)
        if event_id:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": event_id}}
        self.connection.send(room, content)


def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > REMEMBERED:
        store.popitem(last=False)


def _without_reply_fallback(body: str) -> str:
    """A reply's body begins with the quoted original (`> <@x> …` lines, then a blank line): not typed."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _expired() -> Any:
    from bot.chat import PERMANENT, Outcome

    return Outcome(PERMANENT, "trigger_expired")


# Texts of the front, marked for the catalogue (bot/locale/*/matrix.po).
_TEXTS = (N_("Stopped: nothing was saved."), N_("Samen is here. Type !samen help to start."))


def serve_matrix(
    settings: Any,
    *,
    features: Any,
    worker: Callable[[Services, Any], Any],
    metrics: tuple[str, int] | None = None,
) -> None:
    """`samen run` with SAMEN_CHAT=matrix: the sync loop, every listener, and the worker (outbox and
    jobs) in one process; SIGTERM stops the sync, lets the listeners and sends under way finish."""
    import signal

    from bot.matrix.bolt import MatrixApp, MatrixWebClient
    from bot.matrix.chat import MatrixChat, shared_connection
    from bot.slack.app import create_app

    services = Services.build(settings)
    if metrics is not None:
        from bot.probes import serve_operations

        serve_operations(services, host=metrics[0], port=metrics[1])
    connection = shared_connection(settings)  # the one a `MatrixChat.for_services` in this process uses
    connection.start()
    chat = MatrixChat(connection, language=settings.samen_language)  # the outbox's: it waits per room
    # The front's: a person waiting for an answer gets it late rather than never (bot/matrix/chat.py).
    answering = MatrixChat(connection, language=settings.samen_language, patience=10)
    front: MatrixFront | None = None

    def open_form(trigger: str, view: Mapping[str, Any]) -> str:
        assert front is not None
        return front.open_form(trigger, view)

    def update_form(view_id: str, view: Mapping[str, Any]) -> None:
        assert front is not None
        front.update_form(view_id, view)

    client = MatrixWebClient(answering, connection, open_form=open_form, update_form=update_form)
    app = create_app(
        settings,
        features=features,
        client=client,
        services=services,
        process_before_response=True,
        app_class=MatrixApp,
    )
    front = MatrixFront(services, app, connection, answering)
    front.start()
    running = worker(services, chat)
    running.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda _s, _f: stopped.set())
    signal.signal(signal.SIGINT, lambda _s, _f: stopped.set())
    stopped.wait()
    front.stop()
    running.stop()
    connection.close()
