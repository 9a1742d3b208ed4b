"""Incoming text that every layer behind the edge can store, encode and show.

Slack sends UTF-8, and UTF-8 cannot carry two things Python strings can: a lone UTF-16 surrogate (a JSON
escape such as `"\\udfff"` decodes to one) and nothing else breaks like it — encoding the text for the
database, for Slack or for a log line raises. U+0000 is valid UTF-8, but PostgreSQL cannot store it in a
text column. Noncharacters (U+FFFE, U+FFFF, U+FDD0…U+FDEF and the last two of every plane) are meant
never to be exchanged. None of them is anything a person typed, so the edge (bot/slack/wsgi.py for
HTTP, bot/slack/socketmode.py for Socket Mode) cleans every payload before Bolt sees it: NUL is removed, the
others become U+FFFD, the character Unicode has for "something was here that cannot be shown".
"""

from __future__ import annotations

import re
from typing import Any, Final

NUL: Final = "\x00"
REPLACEMENT: Final = "\ufffd"
# The last two code points of planes 1-16 are noncharacters too.
_PLANE_ENDS: Final = "".join(chr(plane << 16 | end) for plane in range(1, 17) for end in (0xFFFE, 0xFFFF))
_UNSHOWABLE: Final = re.compile(f"[\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff{_PLANE_ENDS}]")


def clean_text(text: str) -> str:
    """The text without NUL, with surrogates and noncharacters replaced by U+FFFD."""
    if NUL in text:
        text = text.replace(NUL, "")
    if text.isascii():
        return text
    return _UNSHOWABLE.sub(REPLACEMENT, text)


def clean_payload(payload: Any, *, max_depth: int) -> Any:
    """Every string in the payload (keys included) cleaned, in place for dicts and lists.

    Returns the payload, or raises `TooDeep` beyond `max_depth` levels: a walk that follows whatever
    nesting a sender chose would overflow Python's stack, and Slack's own payloads nest about ten deep.
    """
    if isinstance(payload, str):
        return clean_text(payload)
    pending: list[tuple[Any, int]] = [(payload, 1)]
    while pending:
        container, depth = pending.pop()
        if depth > max_depth:
            raise TooDeep(max_depth)
        if isinstance(container, dict):
            for key in list(container):
                value = container.pop(key)
                container[clean_text(key) if isinstance(key, str) else key] = _cleaned(value)
                if isinstance(value, dict | list):
                    pending.append((value, depth + 1))
        elif isinstance(container, list):
            for index, value in enumerate(container):
                container[index] = _cleaned(value)
                if isinstance(value, dict | list):
                    pending.append((value, depth + 1))
    return payload


def _cleaned(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


class TooDeep(ValueError):
    """A payload nested deeper than any Slack sends."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"nested deeper than {max_depth} levels")
