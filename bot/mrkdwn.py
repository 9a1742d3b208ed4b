"""Escaping for Slack's mrkdwn.

Slack turns `<!channel>`, `<@U…>` and `<https://evil|gemeente.nl>` into live mentions and disguised
links; only `&`, `<` and `>` need escaping to make typed text inert. No SDK helper does this, so the
templates do it for every value unless it is explicitly marked safe (`markupsafe.Markup`).
"""

from __future__ import annotations

import re

from markupsafe import Markup

from bot.chat import MATRIX_ROOM_ID, MATRIX_USER_ID

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")


def escape(text: object) -> Markup:
    if isinstance(text, Markup):
        return text
    return Markup(str(text).translate(_ESCAPES))


def mention(user_id: str) -> Markup:
    """A live mention of a person; only well-formed Slack or Matrix ids become one (a Matrix id keeps its
    own `@`: `<@@karin:example.nl>`, which bot/matrix/html.py turns into a pill)."""
    if not (_USER_ID.match(user_id or "") or MATRIX_USER_ID.match(user_id or "")):
        return escape(user_id)
    return Markup(f"<@{user_id}>")


def channel_link(channel_id: str) -> Markup:
    """A link to a channel or, on Matrix, a room (`<#!abc:example.nl>`); anything else stays text."""
    if not (_CHANNEL_ID.match(channel_id or "") or MATRIX_ROOM_ID.match(channel_id or "")):
        return escape(channel_id)
    return Markup(f"<#{channel_id}>")


# Slack's special forms: <!channel>, <!subteam^S1|@team>, <@U123|name>, <#C123|name>, <https://x|label>.
_SLACK_MARKUP = re.compile(
    r"<(?P<target>[!@#][^<>|]*|(?:https?|mailto|tel|ftp):[^<>|]*)(?:\|(?P<label>[^<>]*))?>"
)


def readable(text: str) -> str:
    """Slack's markup as a person would read it, for places that show text literally (plain_text):
    `<!channel>` → `@channel`, `<@U1|anne>` → `@anne`, `<https://x|gemeente.nl>` → `gemeente.nl (https://x)`."""

    def written_out(found: re.Match[str]) -> str:
        target, label = found.group("target"), found.group("label")
        if target.startswith("!"):
            return "@" + (label.lstrip("@") if label else target[1:].split("^")[0])
        if target[0] in "@#":
            return target[0] + (label or target[1:])
        return f"{label} ({target})" if label else target

    return _SLACK_MARKUP.sub(written_out, text)


def clip(text: object, limit: int) -> Markup:
    """Escape, then shorten to `limit` characters without cutting an entity such as `&amp;` in half."""
    return Markup(shorten(str(escape(text)), limit))


# An entity or a Slack link/mention that the cut would split: `&am`, `<@U12`, `<https://x|lab`.
_OPEN_ENTITY = re.compile(r"&[A-Za-z0-9#]*$")
# Characters that glue to the one before them: cutting after them would leave half an emoji.
_JOINERS = "\u200d\ufe0e\ufe0f"


def shorten(escaped: str, limit: int, tail: str = "") -> str:
    """Shorten mrkdwn that is already escaped to at most `limit` characters: "…" and `tail` (where the
    whole can be read) end it. Never splits an entity (`&amp;`), a mention or link (`<@U…>`, `<#C…>`,
    `<url|label>`: in escaped text every `<` opens one) or an inline code span (it is closed again)."""
    if len(escaped) <= limit:
        return escaped
    ending = "…" + tail if 2 * len(tail) < limit else "…"
    room = max(0, limit - len(ending))
    cut = _whole_pieces(escaped[:room])
    closing = _closing_code(cut)
    if closing:  # room for the backtick(s) that close a code span the cut left open
        cut = _whole_pieces(cut[: room - len(closing)])
        closing = _closing_code(cut)
    return cut + closing + ending


def _whole_pieces(cut: str) -> str:
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    return _OPEN_ENTITY.sub("", cut).rstrip(_JOINERS)


def shorten_plain(text: str, limit: int) -> str:
    """Shorten text that Slack shows literally (plain_text) to at most `limit` characters, ending in "…"."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip(_JOINERS) + "…"


def _closing_code(cut: str) -> str:
    if cut.count("```") % 2:
        return "```"
    return "`" if cut.replace("```", "").count("`") % 2 else ""
