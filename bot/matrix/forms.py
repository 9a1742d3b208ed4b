"""A form on Matrix: a Slack modal filled in as a short guided conversation in a direct message.

Matrix has no modals. The same view the listeners open on Slack (a `templates/*_modal.json.j2`) is asked
one input block at a time: its label, its hint, the choices numbered, what to type for a day, a time or a
person, `-` to skip an optional question and `stop` to cancel. When every question is answered the
answers are handed to the listener exactly as Slack would have: a `view_submission` whose
`view.state.values[block_id][action_id]` holds each answer in Slack's shape (what `bot.slack.interaction.Form`
reads), so no listener needs a second copy of its form.

Pure logic: no network, no Matrix or Slack library. What it returns to show is Slack-shaped content
(`{"text", "blocks"}`, mrkdwn in section and context blocks) that the Matrix front renders as any message;
what the form or the person wrote is escaped (`bot.mrkdwn.escape`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.checkins.timing import parse_clock
from bot.i18n import N_, t, translations
from bot.interventions.dates import WindowError, parse_window
from bot.mrkdwn import escape, shorten
from bot.problems import describe

# What a person types instead of an answer.
SKIP: Final = "-"  # leave an optional question empty
KEEP: Final = "."  # keep what the field holds now (its initial value, or the answer given before)
STOP_WORDS: Final = frozenset({"stop", "annuleer", "annuleren", "cancel"})

# Slack's limit for a section's text; a long list of choices is split over several sections.
SECTION_LIMIT: Final = 3000
# A typed day longer than this is no day: dateparser is not handed arbitrarily long text.
DAY_TEXT_LIMIT: Final = 60
CURRENT_LIMIT: Final = 200  # how much of the current answer is shown back

TEXT_KINDS: Final = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
ONE_KINDS: Final = frozenset({"static_select", "radio_buttons"})
MANY_KINDS: Final = frozenset({"multi_static_select", "checkboxes"})
# Non-input blocks that still mean something in a message; buttons (`actions`) cannot be pressed here.
SHOWN_BLOCKS: Final = frozenset({"section", "context", "header", "divider", "image"})

_RANGE = re.compile(r"(\d+)(?:-(\d+))?")
_DASHES = str.maketrans({"–": "-", "—": "-", "‒": "-", "‑": "-", "−": "-"})
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# A Matrix user id (spec: user identifiers): @localpart:server_name, the server a DNS name or IP literal
# with an optional port. Found anywhere in the reply, so a matrix.to link or a pill's text also works.
_MATRIX_USER = re.compile(
    r"@[A-Za-z0-9._=\-/+]+:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::\d{1,5})?(?![A-Za-z0-9.\-])"
)


# Where a pill points: https://matrix.to/#/@anne:example.nl (spec: matrix.to navigation) or the matrix:
# URI scheme's matrix:u/anne:example.nl; the id may be percent-encoded, a `?via=` may follow.
_MATRIX_TO: Final = "https://matrix.to/#/"
_MATRIX_URI: Final = "matrix:u/"
MENTION_HTML_LIMIT: Final = 20_000  # a reply's HTML read for pills at most this far


def mentioned_in(formatted_body: str) -> list[str]:
    """The user ids a message's HTML mentions by a pill (a link to matrix.to or a matrix: URI), in the
    order they appear, each once. What the person wrote is only read, never shown."""
    links = _Links()
    try:
        links.feed(formatted_body[:MENTION_HTML_LIMIT])
        links.close()
    except (ValueError, AssertionError):  # malformed HTML: the pills read so far
        pass
    found: list[str] = []
    for href in links.hrefs:
        if href.startswith(_MATRIX_TO):
            target = unquote(href[len(_MATRIX_TO) :].split("?", 1)[0])
        elif href.startswith(_MATRIX_URI):
            target = "@" + unquote(href[len(_MATRIX_URI) :].split("?", 1)[0])
        else:
            continue
        if _MATRIX_USER.fullmatch(target) and target not in found:
            found.append(target)
    return found


class _Links(HTMLParser):
    """The links of a message's HTML, outside a reply's quoted original (`<mx-reply>`: its links name
    whoever was replied to, not whom the person mentions)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self._quoted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mx-reply":
            self._quoted += 1
        elif tag == "a" and not self._quoted:
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply" and self._quoted:
            self._quoted -= 1


def has_questions(view: Mapping[str, Any]) -> bool:
    """Whether a view asks anything (has input blocks); a view without is information to show."""
    return any(_is_input(block) for block in view.get("blocks") or [])


def _is_input(block: Any) -> bool:
    return (
        isinstance(block, Mapping)
        and block.get("type") == "input"
        and isinstance(block.get("element"), Mapping)
    )


def _text_of(obj: Any) -> str:
    """A text object's text (plain_text or mrkdwn); "" when there is none."""
    if isinstance(obj, Mapping):
        return str(obj.get("text") or "")
    return ""


def _shown(obj: Any) -> Markup:
    """A text object as mrkdwn: plain text is escaped, mrkdwn is already what Slack would show."""
    if isinstance(obj, Mapping) and obj.get("type") == "mrkdwn":
        return Markup(_text_of(obj))  # noqa: S704  the form's own mrkdwn, escaped by its template
    return escape(_text_of(obj))


@dataclass
class _Field:
    """One question: an input block of the form."""

    block_id: str
    action_id: str
    kind: str
    element: dict[str, Any]
    label: Any
    hint: Any
    optional: bool
    options: list[dict[str, Any]]
    intro: list[dict[str, Any]] = field(default_factory=list)  # non-input blocks shown before it

    @property
    def multiline(self) -> bool:
        return bool(self.element.get("multiline"))

    def initial(self) -> dict[str, Any]:
        """The answer the form starts with, in Slack's state shape."""
        e = self.element
        if self.kind in ONE_KINDS:
            return {"selected_option": copy.deepcopy(e.get("initial_option")) or None}
        if self.kind in MANY_KINDS:
            return {"selected_options": copy.deepcopy(list(e.get("initial_options") or []))}
        if self.kind == "datepicker":
            return {"selected_date": e.get("initial_date") or None}
        if self.kind == "timepicker":
            return {"selected_time": e.get("initial_time") or None}
        if self.kind == "users_select":
            return {"selected_user": e.get("initial_user") or None}
        if self.kind == "multi_users_select":
            return {"selected_users": list(e.get("initial_users") or [])}
        value = e.get("initial_value")
        return {"value": str(value) if value not in (None, "") else None}

    def empty(self) -> dict[str, Any]:
        if self.kind in ONE_KINDS:
            return {"selected_option": None}
        if self.kind in MANY_KINDS:
            return {"selected_options": []}
        if self.kind == "datepicker":
            return {"selected_date": None}
        if self.kind == "timepicker":
            return {"selected_time": None}
        if self.kind == "users_select":
            return {"selected_user": None}
        if self.kind == "multi_users_select":
            return {"selected_users": []}
        return {"value": None}


def _options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A select's options in the order shown, groups flattened (numbering runs on across groups)."""
    if element.get("options"):
        return [dict(o) for o in element["options"] if isinstance(o, Mapping)]
    found: list[dict[str, Any]] = []
    for group in element.get("option_groups") or []:
        if isinstance(group, Mapping):
            found.extend(dict(o) for o in group.get("options") or [] if isinstance(o, Mapping))
    return found


def _fields(view: Mapping[str, Any]) -> tuple[list[_Field], list[dict[str, Any]]]:
    """The form's questions, each with the explaining blocks before it; and the blocks after the last."""
    fields: list[_Field] = []
    waiting: list[dict[str, Any]] = []
    for block in view.get("blocks") or []:
        if not isinstance(block, Mapping):
            continue
        if _is_input(block):
            element = dict(block["element"])
            fields.append(
                _Field(
                    block_id=str(block.get("block_id") or f"block_{len(fields)}"),
                    action_id=str(element.get("action_id") or "value"),
                    kind=str(element.get("type") or ""),
                    element=element,
                    label=block.get("label"),
                    hint=block.get("hint"),
                    optional=bool(block.get("optional")),
                    options=_options(element),
                    intro=waiting,
                )
            )
            waiting = []
        elif block.get("type") in SHOWN_BLOCKS:
            shown = {k: v for k, v in block.items() if k != "accessory"}  # a button beside it: not here
            waiting.append(copy.deepcopy(shown))
    return fields, waiting


class Conversation:
    """One form being filled in by one person."""

    def __init__(
        self,
        view: Mapping[str, Any],
        *,
        language: str,
        zone: str = "Europe/Amsterdam",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.view: dict[str, Any] = copy.deepcopy(dict(view))
        self.language = language
        self.zone = ZoneInfo(zone)
        self._now = now or (lambda: datetime.now(UTC))
        self._fields, trailing = _fields(self.view)
        if self._fields:  # what the form says after its last question still belongs to it
            self._fields[-1].intro = self._fields[-1].intro + trailing
        self._state: dict[int, dict[str, Any]] = {i: f.initial() for i, f in enumerate(self._fields)}
        self._queue: list[int] = list(range(len(self._fields)))
        self._position = 0
        self._errors: dict[str, str] = {}
        self._general: list[str] = []  # errors the listener gave for no field of this form
        self._introduced: set[int] = set()
        self._titled = False

    # --- where the conversation is ---------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._position >= len(self._queue)

    @property
    def _current(self) -> int:
        if self.done:
            raise RuntimeError("every question of the form is answered")
        return self._queue[self._position]

    def cancelled(self, text: str) -> bool:
        """Whether the reply cancels the form: stop, annuleer or cancel (any case, a full stop allowed)."""
        return (text or "").strip().rstrip(".!").strip().casefold() in STOP_WORDS

    # --- asking ---------------------------------------------------------------------------------------

    def question(self) -> dict[str, Any]:
        """The current question as Slack-shaped content: {"text": …, "blocks": […]}."""
        index = self._current
        f = self._fields[index]
        blocks: list[dict[str, Any]] = []
        if not self._titled:
            self._titled = True
            title = _text_of(self.view.get("title"))
            if title:
                blocks.append(_section(Markup("*%s*") % escape(title)))
        if index not in self._introduced:
            self._introduced.add(index)
            blocks.extend(copy.deepcopy(f.intro))
        problems = [*self._general, *([self._errors[f.block_id]] if f.block_id in self._errors else [])]
        self._general = []
        for problem in problems:
            blocks.append(_section(Markup("⚠️ %s") % escape(problem)))
        heading = Markup("*%s* · *%s*") % (
            self._t(N_("Question %(number)s of %(count)s"), number=index + 1, count=len(self._fields)),
            _shown(f.label),
        )
        if f.optional:
            heading += Markup(" ") + self._t(N_("(optional)"))
        blocks.append(_section(heading))
        if _text_of(f.hint):
            blocks.append(_context(_shown(f.hint)))
        if f.kind in ONE_KINDS or f.kind in MANY_KINDS:
            blocks.extend(_section(chunk) for chunk in _numbered(f.options))
        blocks.append(_context(self._how(f, index)))
        return {"text": str(_shown(f.label)), "blocks": blocks}

    def _how(self, f: _Field, index: int) -> Markup:
        """What to type: the way to answer, the current answer to keep, skipping, stopping."""
        lines: list[Markup] = [self._way(f)]
        current = self._describe(f, self._state[index])
        if current:
            lines.append(self._t(N_("Now: %(value)s. Type . to keep it."), value=current))
        if f.optional:
            lines.append(self._t(N_("Type - to skip this question.")))
        lines.append(self._t(N_("Type stop to cancel the form.")))
        return Markup("\n").join(lines)

    def _way(self, f: _Field) -> Markup:
        e = f.element
        if f.kind in ONE_KINDS:
            return self._t(N_("Type the number of your choice."))
        if f.kind in MANY_KINDS or f.kind == "multi_users_select":
            way = (
                self._t(N_("Type the numbers of your choices, e.g. 1, 3."))
                if f.kind in MANY_KINDS
                else self._t(N_("Mention the people, separated by spaces: @name:server."))
            )
            most = _whole(e.get("max_selected_items"))
            if most:
                way += Markup(" ") + ngettext(
                    "Choose at most %(num)s option.",
                    "Choose at most %(num)s options.",
                    most,
                    language=self.language,
                )
            return way
        if f.kind == "datepicker":
            return self._t(N_("Type a day as dd-mm-yyyy, or e.g. “tomorrow” or “friday”."))
        if f.kind == "timepicker":
            return self._t(N_("Type a time as hh:mm, e.g. 09:30."))
        if f.kind == "users_select":
            return self._t(N_("Mention the person: @name:server."))
        if f.kind == "number_input":
            return self._number_way(e)
        way = (
            self._t(N_("Type your answer; several lines are fine."))
            if f.multiline
            else self._t(N_("Type your answer."))
        )
        most = _whole(e.get("max_length"))
        if most:
            way += Markup(" ") + ngettext(
                "At most %(num)s character.", "At most %(num)s characters.", most, language=self.language
            )
        return way

    def _number_way(self, e: Mapping[str, Any]) -> Markup:
        low, high = _decimal(e.get("min_value")), _decimal(e.get("max_value"))
        way = (
            self._t(N_("Type a number, e.g. 2.5."))
            if e.get("is_decimal_allowed")
            else self._t(N_("Type a whole number."))
        )
        if low is not None and high is not None:
            way += Markup(" ") + self._t(N_("From %(low)s to %(high)s."), low=low, high=high)
        elif low is not None:
            way += Markup(" ") + self._t(N_("At least %(low)s."), low=low)
        elif high is not None:
            way += Markup(" ") + self._t(N_("At most %(high)s."), high=high)
        return way

    def _describe(self, f: _Field, state: Mapping[str, Any]) -> Markup | None:
        """The answer a field holds, as a person reads it; None when it holds none."""
        if f.kind in ONE_KINDS:
            option = state.get("selected_option")
            return _shown(option.get("text")) if isinstance(option, Mapping) else None
        if f.kind in MANY_KINDS:
            chosen = [
                _shown(o.get("text")) for o in state.get("selected_options") or [] if isinstance(o, Mapping)
            ]
            return Markup(", ").join(chosen) if chosen else None
        if f.kind == "datepicker":
            day = state.get("selected_date")
            try:
                return escape(date.fromisoformat(day).strftime("%d-%m-%Y")) if day else None
            except ValueError:
                return escape(day)
        if f.kind == "timepicker":
            return escape(state["selected_time"]) if state.get("selected_time") else None
        if f.kind == "users_select":
            return escape(state["selected_user"]) if state.get("selected_user") else None
        if f.kind == "multi_users_select":
            people = state.get("selected_users") or []
            return escape(" ".join(people)) if people else None
        value = state.get("value")
        return Markup(shorten(str(escape(value)), CURRENT_LIMIT)) if value else None  # noqa: S704

    # --- answering ------------------------------------------------------------------------------------

    def answer(self, text: str, *, mentioned: Sequence[str] = ()) -> str | None:
        """Take the person's reply to the current question. A problem text (mrkdwn, in the person's
        language) when it does not fit — the question stays; None when it was taken.

        `mentioned`: the people the reply mentions by a pill (Element puts only their display name in
        the plain body; their ids are in the HTML's matrix.to links, see `mentioned_in`), in order."""
        index = self._current
        f = self._fields[index]
        reply = (text or "").strip()
        if reply == KEEP and self._describe(f, self._state[index]) is not None:
            self._take(index, self._state[index])
            return None
        if f.kind in ("users_select", "multi_users_select") and mentioned:
            try:
                state = self._people(f, reply, mentioned)
            except _Refused as refused:
                return str(refused.text)
            self._take(index, state)
            return None
        if reply in (SKIP, ""):
            if not f.optional:
                return str(self._t(N_("This question needs an answer: it cannot be skipped.")))
            self._take(index, f.empty())
            return None
        try:
            state = self._read(f, reply)
        except _Refused as refused:
            return str(refused.text)
        self._take(index, state)
        return None

    def _take(self, index: int, state: dict[str, Any]) -> None:
        self._state[index] = state
        self._errors.pop(self._fields[index].block_id, None)
        self._position += 1

    def _read(self, f: _Field, reply: str) -> dict[str, Any]:
        if f.kind in ONE_KINDS:
            return {"selected_option": copy.deepcopy(self._pick_one(f, reply))}
        if f.kind in MANY_KINDS:
            return {"selected_options": copy.deepcopy(self._pick_many(f, reply))}
        if f.kind == "datepicker":
            return {"selected_date": self._day(reply).isoformat()}
        if f.kind == "timepicker":
            clock = parse_clock(reply)
            if clock is None:
                raise self._refuse(N_("“%(text)s” is not a time. Type it as hh:mm, e.g. 09:30."), text=reply)
            return {"selected_time": clock.strftime("%H:%M")}
        if f.kind in ("users_select", "multi_users_select"):
            return self._people(f, reply)
        if f.kind == "number_input":
            return {"value": self._number(f.element, reply)}
        return {"value": self._typed(f, reply)}

    def _pick_one(self, f: _Field, reply: str) -> dict[str, Any]:
        count = len(f.options)
        found = _label_match(f.options, reply)
        if found is not None:
            return found
        chosen = _numbers(reply)
        if chosen is None or len(chosen) != 1 or not 1 <= chosen[0] <= count:
            raise self._refuse(N_("Type one number from 1 to %(count)s."), count=count)
        return f.options[chosen[0] - 1]

    def _pick_many(self, f: _Field, reply: str) -> list[dict[str, Any]]:
        count = len(f.options)
        found = _label_match(f.options, reply)
        if found is not None:
            return [found]
        chosen = _numbers(reply)
        if chosen is None or not all(1 <= n <= count for n in chosen):
            raise self._refuse(N_("Type numbers from 1 to %(count)s, e.g. 1, 3."), count=count)
        unique = sorted(set(chosen))
        self._at_most(f, len(unique))
        return [f.options[n - 1] for n in unique]

    def _at_most(self, f: _Field, chosen: int) -> None:
        most = _whole(f.element.get("max_selected_items"))
        if most and chosen > most:
            raise _Refused(
                ngettext(
                    "At most %(num)s choice; you chose %(chosen)s. Choose fewer.",
                    "At most %(num)s choices; you chose %(chosen)s. Choose fewer.",
                    most,
                    chosen=chosen,
                    language=self.language,
                )
            )

    def _day(self, reply: str) -> date:
        written = reply.translate(_DASHES)
        numeric = _DMY.match(written)
        iso = _ISO_DAY.match(written)
        try:
            if numeric:
                return date(int(numeric.group(3)), int(numeric.group(2)), int(numeric.group(1)))
            if iso:
                return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            raise self._not_a_day(reply) from None
        if len(reply) > DAY_TEXT_LIMIT or not any(c.isalnum() for c in reply):
            raise self._not_a_day(reply)
        # Words ("morgen", "vrijdag", "3 december") are read as the intervention windows are: Dutch or
        # English, the future preferred, in the partnership's zone.
        try:
            window = parse_window(reply, now=self._now(), zone=self.zone)
        except WindowError as problem:
            raise _Refused(escape(describe(problem, self.language, plain=True))) from None
        except (ValueError, OverflowError):  # dateparser's own limits on odd text
            raise self._not_a_day(reply) from None
        return window.local_day(self.zone)

    def _people(self, f: _Field, reply: str, mentioned: Sequence[str] = ()) -> dict[str, Any]:
        found: list[str] = []
        for user in [*mentioned, *_MATRIX_USER.findall(unquote(reply))]:
            if user not in found:
                found.append(user)
        if f.kind == "users_select":
            if len(found) != 1:
                raise self._refuse(N_("Mention one person, e.g. @anne:example.nl."))
            return {"selected_user": found[0]}
        if not found:
            raise self._refuse(N_("Mention the people, e.g. @anne:example.nl @bram:example.nl."))
        self._at_most(f, len(found))
        return {"selected_users": found}

    def _number(self, e: Mapping[str, Any], reply: str) -> str:
        written = reply.replace(" ", "").replace(",", ".").translate(_DASHES)
        decimal = bool(e.get("is_decimal_allowed"))
        pattern = r"^-?\d{1,15}(\.\d{1,15})?$" if decimal else r"^-?\d{1,15}$"
        if not re.match(pattern, written):
            refusal = N_("Type a number, e.g. 2.5.") if decimal else N_("Type a whole number.")
            raise self._refuse(refusal)
        number = Decimal(written)
        low, high = _decimal(e.get("min_value")), _decimal(e.get("max_value"))
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                raise self._refuse(N_("From %(low)s to %(high)s."), low=low, high=high)
            if low is not None:
                raise self._refuse(N_("At least %(low)s."), low=low)
            raise self._refuse(N_("At most %(high)s."), high=high)
        return written

    def _typed(self, f: _Field, reply: str) -> str:
        # A one-line field cannot hold line breaks on Slack either.
        value = reply if f.multiline else " ".join(reply.split())
        e = f.element
        most, least = _whole(e.get("max_length")), _whole(e.get("min_length"))
        if most and len(value) > most:
            raise _Refused(
                ngettext(
                    "At most %(num)s character; yours has %(length)s. Shorten it and send it again.",
                    "At most %(num)s characters; yours has %(length)s. Shorten it and send it again.",
                    most,
                    length=len(value),
                    language=self.language,
                )
            )
        if least and len(value) < least:
            raise _Refused(
                ngettext(
                    "At least %(num)s character, please; yours has %(length)s.",
                    "At least %(num)s characters, please; yours has %(length)s.",
                    least,
                    length=len(value),
                    language=self.language,
                )
            )
        return value

    # --- what the listener receives ---------------------------------------------------------------------

    def state_values(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Slack's `view.state.values`: every input block, answered or as the form started."""
        values: dict[str, dict[str, dict[str, Any]]] = {}
        for index, f in enumerate(self._fields):
            values.setdefault(f.block_id, {})[f.action_id] = {
                "type": f.kind,
                **copy.deepcopy(self._state[index]),
            }
        return values

    def submission(
        self, *, user_id: str, team_id: str, view_id: str, trigger_id: str | None = None
    ) -> dict[str, Any]:
        """A complete Slack `view_submission` body, as the listeners receive one from Slack."""
        view = copy.deepcopy(self.view)
        view.update(id=view_id, team_id=team_id, state={"values": self.state_values()})
        view.setdefault("private_metadata", "")
        user = {"id": user_id, "team_id": team_id, "locale": _LOCALES.get(self.language, self.language)}
        body: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": team_id},
            "user": user,
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
        }
        if trigger_id is not None:
            body["trigger_id"] = trigger_id
        return body

    def reopen_with_errors(self, errors: Mapping[str, str]) -> None:
        """The listener refused the answers (response_action "errors", {block_id: text}): ask the fields
        with an error again, the first first, each showing its error above the question."""
        known = {f.block_id for f in self._fields}
        self._errors = {str(block): str(text) for block, text in errors.items() if block in known}
        self._general = [str(text) for block, text in errors.items() if block not in known]
        queue = [i for i, f in enumerate(self._fields) if f.block_id in self._errors]
        self._queue = queue or list(range(len(self._fields)))
        self._position = 0

    # --- texts ----------------------------------------------------------------------------------------

    def _t(self, message: str, **values: object) -> Markup:
        translated = escape(t(self.language, message))
        return translated % {k: escape(v) for k, v in values.items()} if values else translated

    def _not_a_day(self, reply: str) -> _Refused:
        return self._refuse(
            N_("“%(text)s” is not a day. Type it as dd-mm-yyyy, e.g. 24-12-2026."), text=reply
        )

    def _refuse(self, message: str, **values: object) -> _Refused:
        return _Refused(self._t(message, **values))


def ngettext(singular: str, plural: str, n: int, *, language: str, **values: object) -> Markup:
    """A count in a text, the plural chosen per language (named so that `make messages` finds it)."""
    translated = escape(translations(language).ngettext(singular, plural, n))
    return translated % {"num": n, **{k: escape(v) for k, v in values.items()}}


_LOCALES: Final = {"nl": "nl-NL", "en": "en-GB"}  # read back by bot.i18n.language_for


class _Refused(Exception):
    """An answer that does not fit the question; `text` says why (mrkdwn, translated)."""

    def __init__(self, text: Markup) -> None:
        super().__init__("refused")
        self.text = text


def _section(text: Markup) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": str(text)}}


def _context(text: Markup) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": str(text)}]}


def _numbered(options: list[dict[str, Any]]) -> list[Markup]:
    """The choices as "1. …" lines, in sections of at most Slack's length."""
    chunks: list[Markup] = []
    lines: list[Markup] = []
    size = 0
    for number, option in enumerate(options, start=1):
        line = Markup("%s. %s") % (number, _shown(option.get("text")))
        if _text_of(option.get("description")):
            line += Markup(" — ") + _shown(option.get("description"))
        line = Markup(shorten(str(line), SECTION_LIMIT))  # noqa: S704  escaped above
        if lines and size + len(line) + 1 > SECTION_LIMIT:
            chunks.append(Markup("\n").join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        chunks.append(Markup("\n").join(lines))
    return chunks


def _label_match(options: list[dict[str, Any]], reply: str) -> dict[str, Any] | None:
    """The one option whose text is what was typed (any case), for a person who types the choice."""
    wanted = " ".join(reply.split()).casefold()
    found = [o for o in options if " ".join(_text_of(o.get("text")).split()).casefold() == wanted]
    return found[0] if len(found) == 1 else None


def _numbers(reply: str) -> list[int] | None:
    """The numbers typed, "1, 3" or "1 3" or "2-4" (a range); None when the reply is not numbers.
    Read token by token, without a backtracking pattern over the whole (possibly long) reply."""
    written = " ".join(reply.translate(_DASHES).replace(",", " ").replace(";", " ").split())
    written = written.replace(" -", "-").replace("- ", "-")
    if not written:
        return None
    chosen: list[int] = []
    for token in written.split(" "):
        found = _RANGE.fullmatch(token)
        if found is None:
            return None
        first_text, last_text = found.group(1), found.group(2) or found.group(1)
        if len(first_text) > 4 or len(last_text) > 4:
            return [0]  # far beyond any list of choices: out of range, not a list to build
        first, last = int(first_text), int(last_text)
        if last < first or last - first > 500:
            return [0]
        chosen.extend(range(first, last + 1))
    return chosen


def _whole(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isdecimal() and len(value) < 10 and int(value) > 0:
        return int(value)
    return None


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
