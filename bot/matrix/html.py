"""What a template renders (Slack's Block Kit with mrkdwn) as a Matrix `m.room.message`.

One source for what people read: the templates stay as they are; this turns their output into Matrix
HTML (`formatted_body`) with a plain-text `body`, and the message's buttons and menu options into
numbered choices, listed in the message ("1. Ontvangen") and carried in the event under `CHOICES_KEY`
so that the Matrix edge can map a numbered reply or a ✅ reaction back to the button Slack would have
sent.

No library converts Slack's mrkdwn (single `*bold*`, `<url|label>`, `<@id>`) to HTML; Markdown parsers
read it differently. The converter here is small and safe by construction: every character of text is
HTML-escaped on the way out and the only tags written are the ones built here, all from the Matrix
spec's list of tags clients render (`h4 p br strong em del code pre blockquote ol ul li a hr font`).
The input is escaped mrkdwn (bot/mrkdwn.py), so in it a raw `<` only ever opens Slack's own markup.
"""

from __future__ import annotations

import bisect
import html
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from bot.chat import MATRIX_ROOM_ID, MATRIX_USER_ID

logger = logging.getLogger(__name__)

CHOICES_KEY: Final = "nl.samen.choices"  # the event content key carrying the message's choices
HTML_FORMAT: Final = "org.matrix.custom.html"

# Matrix refuses events over 65,536 bytes (the whole event, with its envelope, and in an encrypted room
# the ciphertext in base64): past this the HTML goes and the plain body carries the message alone,
# shortened if it must be.
_CONTENT_BYTES: Final = 45_000  # encrypted, base64 makes it a third larger
_MAX_CHOICES: Final = 100  # more than any Block Kit message can hold (50 blocks × 25 elements is not)

# Slack's context blocks are small and grey; Element renders a <font> with data-mx-color.
_MUTED: Final = "#6F7882"

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_LINK_SCHEMES: Final = ("http", "https", "mailto", "tel")
_URL = re.compile(r"^(?:https?://[^\s<>\"'`]+|mailto:[^\s<>\"'`]+|tel:[0-9+\-(). ]{1,40})$", re.IGNORECASE)

# The shortcodes Samen's templates and translations use, as Slack shows them. A shortcode not listed
# stays as written.
_EMOJI: Final = {
    "alarm_clock": "⏰",
    "arrow_forward": "▶️",
    "bar_chart": "📊",
    "bell": "🔔",
    "bulb": "💡",
    "calendar": "📆",
    "dart": "🎯",
    "eyes": "👀",
    "handshake": "🤝",
    "heavy_check_mark": "✔️",
    "hourglass": "⌛",
    "lock": "🔒",
    "memo": "📝",
    "rotating_light": "🚨",
    "seedling": "🌱",
    "shield": "🛡️",
    "sos": "🆘",
    "tada": "🎉",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "x": "❌",
}
_SHORTCODE = re.compile(r":([a-z0-9_+\-]{1,40}):")

_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES: Final = {"amp": "&", "lt": "<", "gt": ">"}
_SLACK_FORM = re.compile(r"<([^<>\n]*)>")
_QUOTE = re.compile(r"^(?:&gt;|>) ?")
_MARKERS: Final = {"*": "strong", "_": "em", "~": "del"}
_MAX_NESTING: Final = 6  # deeper markers stay literal: hostile `*_~*_~…` cannot exhaust the stack


@dataclass(frozen=True)
class Choice:
    number: int  # 1, 2, … as shown to people
    label: str  # the button's text, plain
    action_id: str
    block_id: str
    value: str | None  # the button's value (or the option's value for a select/overflow option)
    primary: bool  # style "primary" (a ✅ reaction chooses the first primary choice, else nothing)


# --- mrkdwn → HTML and plain text ---------------------------------------------------------------------


@dataclass
class _Out:
    """HTML and plain text built side by side, and the people mentioned (for `m.mentions`)."""

    html: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    def text(self, text: str) -> None:
        self.html.append(html.escape(text, quote=False))
        self.plain.append(text)


def _unescape(escaped: str) -> str:
    """Slack's three entities, once: `&amp;lt;` (a person typed `&lt;`) becomes `&lt;`, not `<`."""
    return _ENTITY.sub(lambda found: _ENTITIES[found.group(1)], escaped)


def _emoji(text: str) -> str:
    return _SHORTCODE.sub(lambda found: _EMOJI.get(found.group(1), found.group(0)), text)


def _link(href: str, label: str, out: _Out) -> None:
    out.html.append(f'<a href="{html.escape(href, quote=True)}">{html.escape(label, quote=False)}</a>')
    out.plain.append(label if label == href else f"{label} ({href})")


def _form(inside: str, out: _Out, *, live: bool = True) -> None:
    """One of Slack's `<…>` forms (already unescaped around it, its own text still escaped): a link, a
    mention, a room. `live=False` (in code) writes it out as text. Whatever is not well formed is text."""
    target, _bar, label_escaped = inside.partition("|")
    target = _unescape(target)
    label = _unescape(label_escaped) if _bar else ""
    if target.startswith("@"):
        user_id = target[1:]
        if MATRIX_USER_ID.match(user_id):
            if live:
                out.html.append(
                    f'<a href="https://matrix.to/#/{html.escape(user_id, quote=True)}">'
                    f"{html.escape(user_id, quote=False)}</a>"
                )
                out.plain.append(user_id)
                if user_id not in out.mentions:
                    out.mentions.append(user_id)
            else:
                out.text(user_id)
            return
        # A Slack id has no meaning on Matrix: its id (or the name Slack gave with it) as text.
        out.text("@" + (label.lstrip("@") or user_id) if _SLACK_USER_ID.match(user_id) else label or target)
        return
    if target.startswith("#"):
        room_id = target[1:]
        if MATRIX_ROOM_ID.match(room_id):
            if live:
                href = html.escape(f"https://matrix.to/#/{room_id}", quote=True)
                out.html.append(f'<a href="{href}">{html.escape(label or room_id, quote=False)}</a>')
                out.plain.append(label or room_id)
            else:
                out.text(label or room_id)
        elif _SLACK_CHANNEL_ID.match(room_id):
            out.text("#" + (label or room_id))
        else:
            out.text(label or target)
        return
    if target.startswith("!"):
        # <!here>, <!channel>, <!everyone>, <!subteam^S1|@team>, <!date^…|fallback>: never a room ping.
        name = target[1:].split("^")[0]
        if name == "date":
            out.text(label)
        else:
            out.text("@" + (label.lstrip("@") or name))
        return
    scheme = target.partition(":")[0].lower()
    if scheme in _LINK_SCHEMES and _URL.match(target):
        if live:
            _link(target, label or target, out)
        else:
            out.text(f"{label} ({target})" if label else target)
        return
    out.text(f"<{target}{'|' + label if _bar else ''}>")


def _literal(escaped: str, out: _Out) -> None:
    """Text shown as written (code): entities undone, Slack's forms written out, nothing else parsed."""
    position = 0
    for found in _SLACK_FORM.finditer(escaped):
        out.text(_unescape(escaped[position : found.start()]))
        _form(found.group(1), out, live=False)
        position = found.end()
    out.text(_unescape(escaped[position:]))


# A line is read as units: one character of text each, or an opaque piece (a form or a code span) that
# the emphasis markers may surround but never split.
@dataclass(frozen=True)
class _Piece:
    kind: str  # "form" | "code"
    text: str


_Unit = str | _Piece


def _units(line: str) -> list[_Unit]:
    units: list[_Unit] = []
    parts = line.split("`")
    # parts[odd] lie between backticks: a code span when closed and not empty, else the backtick is text.
    index = 0
    while index < len(parts):
        units.extend(_text_units(parts[index]))
        if index + 1 < len(parts):
            if index + 2 < len(parts) and parts[index + 1]:
                units.append(_Piece("code", parts[index + 1]))
                index += 2
                continue
            units.append("`")
        index += 1
    return units


def _text_units(escaped: str) -> list[_Unit]:
    units: list[_Unit] = []
    position = 0
    for found in _SLACK_FORM.finditer(escaped):
        units.extend(_emoji(_unescape(escaped[position : found.start()])))
        units.append(_Piece("form", found.group(1)))
        position = found.end()
    units.extend(_emoji(_unescape(escaped[position:])))
    return units


def _is_space(unit: _Unit) -> bool:
    return isinstance(unit, str) and unit.isspace()


def _is_word(unit: _Unit) -> bool:
    return isinstance(unit, str) and unit.isalnum()


def _emphasis(units: list[_Unit]) -> tuple[dict[str, list[int]], list[bool]]:
    """Where each marker may close a span (sorted), and where a marker may open one: as Slack, a marker
    opens after a space or punctuation, before a non-space; it closes after a non-space, before a non-word."""
    closers: dict[str, list[int]] = {marker: [] for marker in _MARKERS}
    opens = [False] * len(units)
    for i, unit in enumerate(units):
        if not (isinstance(unit, str) and unit in _MARKERS):
            continue
        before = units[i - 1] if i else " "
        after = units[i + 1] if i + 1 < len(units) else " "
        opens[i] = not _is_word(before) and not _is_space(after) and after != unit
        if i and not _is_space(before) and before != unit and not _is_word(after):
            closers[unit].append(i)
    return closers, opens


def _inline(units: list[_Unit], start: int, end: int, depth: int, scan: Any, out: _Out) -> None:
    closers, opens = scan
    run: list[str] = []

    def flush() -> None:
        if run:
            out.text("".join(run))
            run.clear()

    i = start
    while i < end:
        unit = units[i]
        if isinstance(unit, _Piece):
            flush()
            if unit.kind == "form":
                _form(unit.text, out)
            else:
                out.html.append("<code>")
                out.plain.append("`")
                _literal(unit.text, out)
                out.html.append("</code>")
                out.plain.append("`")
            i += 1
            continue
        if unit in _MARKERS and opens[i] and depth < _MAX_NESTING:
            candidates = closers[unit]
            k = bisect.bisect_right(candidates, i + 1)
            if k < len(candidates) and candidates[k] < end:
                close = candidates[k]
                flush()
                tag = _MARKERS[unit]
                out.html.append(f"<{tag}>")
                _inline(units, i + 1, close, depth + 1, scan, out)
                out.html.append(f"</{tag}>")
                i = close + 1
                continue
        run.append(unit)
        i += 1
    flush()


def _line(line: str, out: _Out) -> None:
    units = _units(line)
    _inline(units, 0, len(units), 0, _emphasis(units), out)


@dataclass(frozen=True)
class _Segment:
    kind: str  # "inline" | "quote" | "pre"
    html: str
    plain: str


def _segments(mrkdwn: str, mentions: list[str]) -> list[_Segment]:
    """Escaped mrkdwn as inline runs (lines joined with <br>), block quotes and preformatted blocks."""
    segments: list[_Segment] = []
    fences = mrkdwn.split("```")
    if len(fences) % 2 == 0:  # an unclosed ``` is text
        fences[-2:] = [fences[-2] + "```" + fences[-1]]
    for index, part in enumerate(fences):
        if index % 2:
            out = _Out(mentions=mentions)
            _literal(part.removeprefix("\n").removesuffix("\n"), out)
            segments.append(
                _Segment("pre", "<pre><code>" + "".join(out.html) + "</code></pre>", "".join(out.plain))
            )
            continue
        if index and part.startswith("\n"):  # the line break after a closing fence is the block's own
            part = part[1:]
        if index + 1 < len(fences) and part.endswith("\n"):
            part = part[:-1]
        if not part:
            continue
        for quoted, lines in _grouped(part.split("\n")):
            htmls, plains = [], []
            for line in lines:
                out = _Out(mentions=mentions)
                _line(_QUOTE.sub("", line, count=1) if quoted else line, out)
                htmls.append("".join(out.html))
                plains.append(("> " if quoted else "") + "".join(out.plain))
            if quoted:
                segments.append(
                    _Segment(
                        "quote", "<blockquote>" + "<br>".join(htmls) + "</blockquote>", "\n".join(plains)
                    )
                )
            else:
                segments.append(_Segment("inline", "<br>".join(htmls), "\n".join(plains)))
    return segments


def _grouped(lines: list[str]) -> Iterable[tuple[bool, list[str]]]:
    group: list[str] = []
    quoted = False
    for line in lines:
        is_quote = bool(_QUOTE.match(line))
        if group and is_quote != quoted:
            yield quoted, group
            group = []
        quoted = is_quote
        group.append(line)
    if group:
        yield quoted, group


def plain_text(mrkdwn: str) -> str:
    """Slack mrkdwn (escaped) → what a person reads in plain text: entities undone, emphasis markers
    gone, links as `label (url)`, a Matrix mention as `@karin:example.nl`, quotes as `> `."""
    return "\n".join(segment.plain for segment in _segments(mrkdwn, []))


def html_text(mrkdwn: str) -> str:
    """Slack mrkdwn (escaped) → Matrix HTML (safe): no text becomes a tag, only http(s)/mailto/tel links."""
    return "".join(segment.html for segment in _segments(mrkdwn, []))


# --- Block Kit → a message ------------------------------------------------------------------------------


@dataclass
class _Message:
    html: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)

    def add(self, html_part: str, plain_part: str) -> None:
        self.html.append(html_part)
        if plain_part:
            self.plain.append(plain_part)

    def mrkdwn(self, text: str, *, muted: bool = False) -> None:
        for segment in _segments(text, self.mentions):
            if segment.kind == "inline":
                inner = f'<font data-mx-color="{_MUTED}">{segment.html}</font>' if muted else segment.html
                self.add(f"<p>{inner}</p>", segment.plain)
            else:
                self.add(segment.html, segment.plain)

    def inline_html(self, obj: Mapping[str, Any]) -> str:
        """A text object's HTML where no paragraph may stand (a list item)."""
        if obj.get("type") == "mrkdwn":
            return "".join(segment.html for segment in _segments(str(obj.get("text", "")), self.mentions))
        return "<br>".join(html.escape(line, quote=False) for line in _text_of(obj).split("\n"))

    def choose(self, choices: list[Choice]) -> None:
        if not choices:
            return
        start = f' start="{choices[0].number}"' if choices[0].number != 1 else ""
        items = "".join(f"<li>{html.escape(c.label, quote=False)}</li>" for c in choices)
        self.add(f"<ol{start}>{items}</ol>", "\n".join(f"{c.number}. {c.label}" for c in choices))
        self.choices.extend(choices)


def _text_of(obj: Any) -> str:
    """A Block Kit text object as a person reads it: a plain_text's text is shown literally by Slack
    (its shortcodes as emoji), a mrkdwn's as `plain_text` reads it."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
        return ""
    text: str = obj["text"]
    if obj.get("type") == "mrkdwn":
        return plain_text(text)
    return _emoji(text) if obj.get("emoji", True) else text


def _plain_label(obj: Any) -> str:
    return " ".join(_text_of(obj).split())


def _block_text(message: _Message, obj: Any, *, muted: bool = False) -> None:
    if not isinstance(obj, Mapping):
        return
    if obj.get("type") == "mrkdwn":
        message.mrkdwn(str(obj.get("text", "")), muted=muted)
        return
    shown = _text_of(obj)
    if shown:
        inner = "<br>".join(html.escape(line, quote=False) for line in shown.split("\n"))
        if muted:
            inner = f'<font data-mx-color="{_MUTED}">{inner}</font>'
        message.add(f"<p>{inner}</p>", shown)


def _choices_of_element(element: Mapping[str, Any], block_id: str, first: int) -> list[Choice]:
    kind = element.get("type")
    action_id = str(element.get("action_id", ""))
    if kind == "button" and not element.get("url"):
        return [
            Choice(
                number=first,
                label=_plain_label(element.get("text")),
                action_id=action_id,
                block_id=block_id,
                value=element["value"] if isinstance(element.get("value"), str) else None,
                primary=element.get("style") == "primary",
            )
        ]
    if kind in ("static_select", "overflow", "radio_buttons"):
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            if isinstance(group, Mapping):
                options.extend(group.get("options") or [])
        return [
            Choice(
                number=first + n,
                label=_plain_label(option.get("text")),
                action_id=action_id,
                block_id=block_id,
                value=option["value"] if isinstance(option.get("value"), str) else None,
                primary=False,
            )
            for n, option in enumerate(o for o in options if isinstance(o, Mapping))
        ]
    return []


def _link_button(message: _Message, element: Mapping[str, Any]) -> None:
    url, label = str(element.get("url", "")), _plain_label(element.get("text"))
    out = _Out()
    if _URL.match(url) and url.partition(":")[0].lower() in _LINK_SCHEMES:
        _link(url, label or url, out)
    else:
        out.text(label)
    message.add(f"<p>{''.join(out.html)}</p>", "".join(out.plain))


def _elements(message: _Message, elements: Iterable[Any], block_id: str) -> None:
    """Interactive elements: buttons and menu options become numbered choices, link buttons links. A
    menu's options are a list of their own, led by its placeholder ("Sluit aan met…"), so that a button
    beside it does not read as one of them. Date and people pickers have no place in a message."""
    buttons: list[Choice] = []
    links: list[Mapping[str, Any]] = []
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        if element.get("type") == "button":
            if element.get("url"):
                links.append(element)
            else:
                buttons.extend(
                    _choices_of_element(element, block_id, len(message.choices) + len(buttons) + 1)
                )
            continue
        if not _choices_of_element(element, block_id, 1):
            continue
        message.choose(buttons)
        buttons = []
        _block_text(message, element.get("placeholder"))
        message.choose(_choices_of_element(element, block_id, len(message.choices) + 1))
    message.choose(buttons)
    for element in links:
        _link_button(message, element)


def _block(message: _Message, block: Mapping[str, Any]) -> None:
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    if kind == "header":
        label = _text_of(block.get("text"))
        message.add(f"<h4>{html.escape(label, quote=False)}</h4>", label)
    elif kind == "section":
        _block_text(message, block.get("text"))
        fields = [f for f in block.get("fields") or [] if isinstance(f, Mapping)]
        if fields:
            items = "".join(f"<li>{message.inline_html(f)}</li>" for f in fields)
            message.add(f"<ul>{items}</ul>", "\n".join(f"• {_text_of(f)}" for f in fields))
        if isinstance(block.get("accessory"), Mapping):
            _elements(message, [block["accessory"]], block_id)
    elif kind == "context":
        for element in block.get("elements") or []:
            if isinstance(element, Mapping) and element.get("type") == "image":
                element = {"type": "plain_text", "text": str(element.get("alt_text", ""))}
            _block_text(message, element, muted=True)
    elif kind == "divider":
        message.add("<hr>", "---")
    elif kind == "actions":
        _elements(message, block.get("elements") or [], block_id)
    elif kind == "input":
        _block_text(message, block.get("label"))
    elif kind == "image":
        title = block.get("title") or {"type": "plain_text", "text": str(block.get("alt_text", ""))}
        _link_button(message, {"url": block.get("image_url", ""), "text": title})
    elif kind == "rich_text":
        # No template writes rich_text; what a person may paste in one is shown as its plain text.
        _block_text(message, {"type": "plain_text", "text": _rich_text_plain(block), "emoji": False})


def _rich_text_plain(value: Any) -> str:
    if isinstance(value, Mapping):
        if isinstance(value.get("text"), str):
            return value["text"]
        return "".join(_rich_text_plain(e) for e in value.get("elements") or [])
    if isinstance(value, list):
        return "".join(_rich_text_plain(e) for e in value)
    return ""


def message_content(
    content: Mapping[str, Any], *, msgtype: str = "m.text", language: str | None = None
) -> dict[str, Any]:
    """Matrix content: {"msgtype", "body" (plain text), "format": "org.matrix.custom.html",
    "formatted_body" (HTML), CHOICES_KEY: [asdict(choice)...] (only when there are choices)}, and
    `m.mentions` naming exactly the people mentioned: with it, no `@room` or name in the text pings.
    With `language`, a message with choices says how to choose (a number, or ✅ for the primary one).
    Slack's command names in the text (`/samen …`) read as Matrix's (`!samen …`): what people type here."""
    message = _Message()
    blocks = [b for b in content.get("blocks") or [] if isinstance(b, Mapping)]
    if content.get("type") in ("modal", "home") and isinstance(content.get("title"), Mapping):
        _block(message, {"type": "header", "text": content["title"]})
    for block in blocks:
        _block(message, block)
    if not blocks and isinstance(content.get("text"), str):
        message.mrkdwn(content["text"])
    if message.choices and language:
        message.mrkdwn(_how_to_choose(message.choices, language), muted=True)
    result: dict[str, Any] = {
        "msgtype": msgtype,
        "body": _matrix_commands("\n".join(message.plain)),
        "format": HTML_FORMAT,
        "formatted_body": _matrix_commands("".join(message.html)),
        "m.mentions": {"user_ids": message.mentions} if message.mentions else {},
    }
    if message.choices:
        result[CHOICES_KEY] = [asdict(choice) for choice in message.choices[:_MAX_CHOICES]]
    return _within_size(result)


# `/samen` and `/rugdekking` where a person reads them (not inside a word or an address: `x/samen`).
_SLASH_COMMAND = re.compile(r"(?<![\w/.:-])/(samen|rugdekking)\b")


def _matrix_commands(text: str) -> str:
    return _SLASH_COMMAND.sub(r"!\1", text)


def _how_to_choose(choices: list[Choice], language: str) -> str:
    from bot.i18n import t
    from bot.mrkdwn import escape

    hint = t(language, "Reply to this message with the number of your choice.")
    primary = next((c for c in choices if c.primary), None)
    if primary is not None:
        hint += " " + t(language, "A ✅ reaction chooses “%(label)s”.", label=escape(primary.label))
    return hint


def _within_size(result: dict[str, Any]) -> dict[str, Any]:
    def size() -> int:
        return len(json.dumps(result, ensure_ascii=False).encode())

    if size() <= _CONTENT_BYTES:
        return result
    del result["format"], result["formatted_body"]
    body: str = result["body"]
    while size() > _CONTENT_BYTES and len(body) > 1:
        body = body[: len(body) * 9 // 10]
        result["body"] = body + "…"
    logger.info("a message too large for Matrix went out as plain text only")  # sizes only, no text
    return result


# --- reading the choices back -----------------------------------------------------------------------------


def choices_of(event_content: Mapping[str, Any]) -> list[Choice]:
    """The choices carried by a message Samen sent (validated: anything malformed → []). An edit's content
    (`m.new_content`) carries the choices the message shows now."""
    if not isinstance(event_content, Mapping):
        return []
    newer = event_content.get("m.new_content")
    raw = (newer if isinstance(newer, Mapping) else event_content).get(CHOICES_KEY)
    if not isinstance(raw, list) or not raw or len(raw) > _MAX_CHOICES:
        return []
    choices: list[Choice] = []
    for expected, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping) or set(item) != _CHOICE_FIELDS:
            return []
        number, value, primary = item["number"], item["value"], item["primary"]
        texts = (item["label"], item["action_id"], item["block_id"])
        if (
            type(number) is not int
            or number != expected
            or not all(isinstance(t, str) and len(t) <= 2_000 for t in texts)
            or not (value is None or (isinstance(value, str) and len(value) <= 2_000))
            or type(primary) is not bool
        ):
            return []
        choices.append(Choice(number, texts[0], texts[1], texts[2], value, primary))
    return choices


_CHOICE_FIELDS: Final = frozenset(Choice.__dataclass_fields__)
