"""Escaping for Slack's mrkdwn.

Slack turns `<!channel>`, `<@U…>` and `<https://evil|gemeente.nl>` into live mentions and disguised
links; only `&`, `<` and `>` need escaping to make typed text inert. No SDK helper does this, so the
templates do it for every value unless it is explicitly marked safe (`markupsafe.Markup`).
"""

from __future__ import annotations

import re

from markupsafe import Markup

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")


def escape(text: object) -> Markup:
    if isinstance(text, Markup):
        return text
    return Markup(str(text).translate(_ESCAPES))


def mention(user_id: str) -> Markup:
    """A live mention of a person; only well-formed Slack ids become one."""
    if not _USER_ID.match(user_id or ""):
        return escape(user_id)
    return Markup(f"<@{user_id}>")


def channel_link(channel_id: str) -> Markup:
    if not _CHANNEL_ID.match(channel_id or ""):
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
    escaped = str(escape(text))
    if len(escaped) <= limit:
        return Markup(escaped)
    cut = escaped[: max(0, limit - 1)]
    cut = _ENTITY_TAIL.sub("", cut)
    return Markup(cut + "…")
