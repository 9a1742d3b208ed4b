"""One `Interaction` for every kind of request, built once by middleware and handed to every listener.

A command, a click on a button, a submitted form, a shortcut, an event, the App Home opened: each arrives
from Slack in its own shape. The middleware (`bot/slack/app.py`) reads who acts, in which language, and
builds this object; a listener then only parses what it needs (`form`, `value`, `metadata`), calls the
domain and renders the answer with `reply`, `open`, `update_view` or `field_errors`.

Two rules live here rather than in every listener:
- **Commit, then acknowledge.** A write session opened with `session()` must be closed (committed) before
  `ack()`: an acknowledgement tells the person it is done, so it may only follow the commit. `ack()`
  inside an open write session raises.
- **One way to refuse.** A domain raises `bot.problems.Problem`; `listener()` catches it and `show()` tells
  the person in their language wherever they are, and acknowledges. Someone who is not a member gets one
  and the same answer everywhere (`partner_not_a_member.json.j2`: you are not a member, ask …).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.chat import Kind
from bot.i18n import N_
from bot.pii import KIND_LABELS
from bot.problems import Problem, field_errors, register_labels, shown_values
from bot.runtime import Services
from bot.slack.registry import Registry
from bot.slack.urls import is_response_url

if TYPE_CHECKING:
    from bot.partners.models import Member

logger = logging.getLogger(__name__)

# A problem may name kinds of personal data it found (bot.pii.Kind): people read their labels. Registered
# here, where problems are shown, since the core's pii and problems modules do not know each other.
register_labels(KIND_LABELS)

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=Enum)
# An id in typed metadata: a number Samen could have written (the database's integers hold it).
Number = Annotated[int, Field(ge=0, lt=1_000_000_000)]

# How many coordinators a stranger is told to ask.
COORDINATORS_SHOWN = 5


@dataclass(frozen=True)
class Actor:
    """A person as Slack identifies them, across Slack Connect: never by name or e-mail."""

    team_id: str
    user_id: str


class StaleForm(Problem):
    """A form's metadata or a button's value that is not what Samen wrote: forged, or from an older
    version of Samen. Nothing is changed; opening the form again helps."""


def metadata_json(value: BaseModel | dict[str, Any]) -> str:
    """JSON for a form's private_metadata or a button's value, read back by `Interaction.metadata`.
    `<`, `>` and `&` become unicode escapes: text a person typed never reaches Slack as markup, not even
    where nobody sees it."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class Form:
    """What was typed and chosen in a form (a submitted modal, or the state of a message's inputs).

    Slack nests every value as `values[block_id][action_id]`; Samen's forms use one action per block, so
    a value is read by its block alone (the action id may be named where a block holds several)."""

    def __init__(self, values: dict[str, dict[str, Any]] | None) -> None:
        self.values = values or {}

    def element(self, block: str, action: str | None = None) -> dict[str, Any]:
        elements = self.values.get(block) or {}
        if action is not None:
            return elements.get(action) or {}
        return next(iter(elements.values()), {}) if elements else {}

    def text(self, block: str, action: str | None = None) -> str | None:
        """What was typed, stripped; None when nothing was."""
        value = self.element(block, action).get("value")
        return value.strip() or None if isinstance(value, str) else None

    def choice(self, block: str, action: str | None = None) -> str | None:
        """The one option chosen (a select, radio buttons), a picked person, date or time."""
        element = self.element(block, action)
        option = element.get("selected_option")
        if isinstance(option, dict):
            return str(option.get("value") or "") or None
        for key in ("selected_user", "selected_conversation", "selected_channel", "selected_date"):
            if element.get(key):
                return str(element[key])
        if element.get("selected_time"):
            return str(element["selected_time"])
        return self.text(block, action)

    def enum(self, block: str, kind: type[E], action: str | None = None) -> E | None:
        """The option chosen as a member of `kind`; None when none was. A value Samen did not offer (forged,
        or from an older Samen) is a `StaleForm` problem."""
        chosen = self.choice(block, action)
        if chosen is None:
            return None
        try:
            return kind(chosen)
        except ValueError:
            raise StaleForm(N_("This form is out of date. Open it again and fill it in once more.")) from None

    def number(self, block: str, action: str | None = None) -> int | None:
        """The option chosen (or typed) as a whole number; None when nothing was. Anything else is a
        `StaleForm` problem."""
        chosen = self.choice(block, action)
        if chosen is None:
            return None
        if chosen.isascii() and chosen.isdecimal() and len(chosen) < 10:
            return int(chosen)
        raise StaleForm(N_("This form is out of date. Open it again and fill it in once more."))

    def choices(self, block: str, action: str | None = None) -> list[str]:
        """Every option chosen (checkboxes, a multi-select), people picked."""
        element = self.element(block, action)
        options = element.get("selected_options") or []
        chosen = [str(o.get("value")) for o in options if isinstance(o, dict) and o.get("value")]
        return chosen or [str(u) for u in element.get("selected_users") or [] if u]


@dataclass
class Interaction:
    """One request from a person, resolved: who, in which language, what they sent, and how to answer."""

    kind: Kind
    body: dict[str, Any]
    services: Services
    registry: Registry
    acting: Actor | None  # None only for an event no person caused (an uninstall)
    language: str
    context: BoltContext
    command: str = ""  # the slash command, e.g. "/samen"
    name: str = ""  # the subcommand word as typed
    args: str = ""  # the rest of the text
    known_member: Member | None = None  # set by the membership guard or require_member
    acked: bool = False
    _writing: int = field(default=0, repr=False)

    # --- what arrived ---------------------------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        """The person acting. A request no person caused cannot act: a `NotAMember` problem."""
        if self.acting is None:
            from bot.partners.service import NotAMember

            raise NotAMember(N_("You are not (yet) a member of the partnership."))
        return self.acting

    @property
    def member(self) -> Member:
        """The acting member as the guard (or `require_member`) found them."""
        if self.known_member is None:
            from bot.partners.service import NotAMember

            raise NotAMember(N_("You are not (yet) a member of the partnership."))
        return self.known_member

    @member.setter
    def member(self, member: Member) -> None:
        self.known_member = member

    @property
    def client(self) -> WebClient:
        return self.context.client

    @property
    def respond(self) -> Any:
        return self.context.respond

    @property
    def channel_id(self) -> str | None:
        channel = self.body.get("channel_id") or (self.body.get("channel") or {}).get("id")
        return str(channel) if channel else None

    @property
    def trigger_id(self) -> str | None:
        return self.body.get("trigger_id")

    @property
    def response_url(self) -> str | None:
        """Slack's response URL for this request, if it has one Samen may answer through."""
        url = self.body.get("response_url") or self.context.response_url
        return url if is_response_url(url, self.services.settings) else None

    @property
    def view(self) -> dict[str, Any]:
        return self.body.get("view") or {}

    @property
    def in_home(self) -> bool:
        """A click in the App Home: there is no conversation to answer in."""
        return self.view.get("type") == "home"

    @property
    def action(self) -> dict[str, Any]:
        return (self.body.get("actions") or [{}])[0] or {}

    @property
    def value(self) -> str:
        """The clicked button's value, or the option chosen in a select that was changed."""
        option = self.action.get("selected_option")
        if isinstance(option, dict):
            return str(option.get("value") or "")
        return str(self.action.get("value") or "")

    @property
    def form(self) -> Form:
        state = self.view.get("state") or self.body.get("state") or {}
        return Form(state.get("values"))

    def metadata(self, model: type[M], *, source: str | None = None) -> M:
        """A form's `private_metadata` (or a button's value) as the typed model it was written from.
        Anything else — forged, cut, or from an older Samen — is a `StaleForm` problem: nothing changes."""
        raw = source if source is not None else self.view.get("private_metadata") or self.value
        try:
            return model.model_validate(json.loads(raw or "{}"))
        except (ValueError, RecursionError, ValidationError):  # RecursionError: JSON nested 3,000 deep
            raise StaleForm(N_("This form is out of date. Open it again and fill it in once more.")) from None

    def number(self, text: object = None) -> int:
        """The clicked button's value (or `text`) as the number of what it is about. Anything else —
        forged, or too big for the database — is a `StaleForm` problem: nothing changes."""
        raw = str(self.value if text is None else text).strip()
        if raw.isascii() and raw.isdecimal() and len(raw) < 10:
            return int(raw)
        raise StaleForm(N_("This form is out of date. Open it again and fill it in once more."))

    # --- doing ----------------------------------------------------------------------------------------

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A transaction; a write commits when the block ends, and only then may the request be acked."""
        if read_only:
            with self.services.session(read_only=True) as session:
                yield session
            return
        self._writing += 1
        try:
            with self.services.session() as session:
                yield session
        finally:
            self._writing -= 1

    def require_member(self, session: Session) -> Member:
        """The acting person as a member, read in this transaction; a `NotAMember` problem otherwise."""
        from bot.partners import service as partners

        actor = self.actor
        self.member = partners.require_member(session, team_id=actor.team_id, user_id=actor.user_id)
        return self.member

    def render(self, template: str, **context: Any) -> Any:
        return self.services.renderer.render(template, self.language, **context)

    def for_home(self, actor: Actor, language: str | None = None) -> Interaction:
        """The same request as seen by the App Home of `actor` (the Home is rendered per person)."""
        return dataclasses.replace(self, kind="home", acting=actor, language=language or self.language)

    # --- answering ------------------------------------------------------------------------------------

    def ack(self, **kwargs: Any) -> None:
        """Acknowledge the request (once). Never inside an open write session: commit, then acknowledge."""
        if self.acked:
            return
        if self._writing:
            raise RuntimeError("acknowledge after the change commits, not inside its transaction")
        self.acked = True
        self.context.ack(**kwargs)

    def ack_ephemeral(self, template: str, **context: Any) -> None:
        """Answer the person alone, inside the 3-second ack: the fastest reply Slack allows."""
        message = self.render(template, **context)
        self.ack(response_type="ephemeral", text=message.get("text", ""), blocks=message.get("blocks"))

    def reply(self, template: str, *, replace: bool = False, **context: Any) -> None:
        """Tell the person something, wherever they are, seen by them alone: the answer to their command,
        an ephemeral message under what they clicked (or in its place: `replace`), the form they submitted
        turned into the message, or, from the App Home where there is no conversation, a small window."""
        message = self.render(template, **context)
        text, blocks = message.get("text", ""), message.get("blocks")
        if self.kind == "command" and not self.acked:
            self.ack(response_type="ephemeral", text=text, blocks=blocks)
            return
        if self.kind == "view" and not self.acked:
            self.update_view(self.render("info_modal.json.j2", title=N_("Samen"), blocks=blocks or []))
            return
        self.ack()
        if self.response_url:
            if replace:
                self.respond(text=text, blocks=blocks, replace_original=True)
            else:
                self.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        elif self.trigger_id:
            self.open("info_modal.json.j2", title=N_("Samen"), blocks=blocks or [])
        elif self.acting is not None and self.channel_id:
            self.client.chat_postEphemeral(
                channel=self.channel_id, user=self.acting.user_id, text=text, blocks=blocks
            )

    def open(self, template: str | dict[str, Any], **context: Any) -> None:
        """Open a form (a modal) with this request's trigger, then acknowledge. The trigger lives three
        seconds: when Slack refuses it nothing was changed, and the person simply tries again."""
        view = self.render(template, **context) if isinstance(template, str) else template
        try:
            if self.kind == "view" or (self.view.get("type") == "modal"):
                self.client.views_push(trigger_id=self.trigger_id or "", view=view)
            else:
                self.client.views_open(trigger_id=self.trigger_id or "", view=view)
        except SlackApiError as exc:
            logger.warning("views.open failed: %s", exc.response.get("error"))
        self.ack()

    def update_view(self, view: dict[str, Any]) -> None:
        """The submitted form becomes `view` (a confirmation, the next step)."""
        self.ack(response_action="update", view=view)

    def field_errors(self, errors: dict[str, str]) -> None:
        """The form stays open with each text under its field (block id)."""
        self.ack(response_action="errors", errors=errors)

    def show(
        self,
        problem: Problem,
        *,
        template: str = "notice.json.j2",
        default_field: str | None = None,
        block_of: Callable[[str], str] = str,
        **extra: Any,
    ) -> None:
        """The one way a problem reaches a person: under the form's field it names, else as a reply.
        A stranger is told they are not a member and whom to ask, the same everywhere."""
        from bot.partners.service import NotAMember

        submitted = self.kind == "view" and not self.acked and self.body.get("type") == "view_submission"
        if isinstance(problem, NotAMember) and self.known_member is None and not submitted:
            self.reply("partner_not_a_member.json.j2", coordinators=self.coordinators())
            return
        if submitted:  # a form stays open, the problem (a stranger's too) under its field
            fields = [str(b.get("block_id")) for b in self.view.get("blocks") or [] if b.get("block_id")]
            default = default_field or (fields[0] if fields else "")
            if fields:
                self.field_errors(
                    field_errors(problem, self.language, fields=fields, default=default, block_of=block_of)
                )
                return
        values = shown_values(problem.values, self.language)
        context = {"message": problem.message, "values": values, "usage": None, **extra}
        self.reply(template, **context)

    def coordinators(self) -> Any:
        """The coordinators to ask (mentions, the first few), empty when there are none."""
        return coordinators_to_ask(self.services)


def coordinators_to_ask(services: Services) -> Any:
    """Whom someone who is not a member is told to ask: the first few coordinators' mentions, the same
    on every platform (the Matrix front answers a stranger with it too)."""
    from markupsafe import Markup

    from bot.mrkdwn import mention
    from bot.partners import service as partners

    with services.session(read_only=True) as session:
        found = [m.person for m in partners.coordinators(session)[:COORDINATORS_SHOWN]]
    return Markup(", ").join(mention(p.user_id) for p in found)


def listener(handler: Callable[[Interaction], None]) -> Callable[[BoltContext], None]:
    """A Bolt listener for `handler(interaction)`: a problem the domain raised is shown to the person, and
    the request is acknowledged once the handler is done (if it did not acknowledge itself)."""

    def run(context: BoltContext) -> None:
        run_answering_problems(handler, context["interaction"])

    # Not functools.wraps: Bolt reads the listener's parameters to know what to pass, and `wraps` would
    # show it the handler's (`interaction`) instead of `context`.
    run.__name__ = run.__qualname__ = getattr(handler, "__name__", "listener")
    run.__doc__ = handler.__doc__
    return run


def run_answering_problems(handler: Callable[[Interaction], None], interaction: Interaction) -> None:
    """Run a listener; a problem it raised (uncaught) is shown to the person; acknowledge at the end."""
    try:
        handler(interaction)
    except Problem as problem:
        interaction.show(problem)
    interaction.ack()
