"""Incoming payloads without NUL characters.

Slack never sends U+0000 in what people type, but a payload can carry it (a forged request, a paste that
got through), and PostgreSQL cannot store it in a text column: the whole request would fail with an error
instead of an answer. Removed before any listener sees the payload, everywhere at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NUL = "\x00"


def without_nul(value: Any) -> Any:
    """The value with every NUL removed from its strings, in place for dicts and lists."""
    if isinstance(value, str):
        return value.replace(NUL, "") if NUL in value else value
    if isinstance(value, dict):
        for key, item in list(value.items()):
            value[key] = without_nul(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = without_nul(item)
    return value


def strip_nul_characters() -> Callable[..., Any]:
    def middleware(body: dict[str, Any], next: Callable[[], Any]) -> Any:
        without_nul(body)
        return next()

    return middleware
