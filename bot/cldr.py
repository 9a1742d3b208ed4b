"""The CLDR data Samen formats with, carried in bot/locale/cldr.json (scripts/derive_locale_data.py).

Babel's own Locale loads the language's whole CLDR data on first use (~8 MB of objects, kept for the
life of the process: more than the idle-memory budget leaves). The Locale given here reads the same
values from the small carried file instead; tests/test_cldr.py checks the file against the locked Babel
and that every format Samen uses comes out the same.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.localedata import LocaleDataDict
from babel.numbers import parse_pattern
from babel.plural import PluralRule

CARRIED = Path(__file__).parent / "locale" / "cldr.json"
FALLBACK = "en"


def decode(value: Any) -> Any:
    """The inverse of the derive script's encode: patterns, plural rules, None and int keys back."""
    if isinstance(value, dict):
        if "__number_pattern__" in value:
            return parse_pattern(value["__number_pattern__"])
        if "__plural_rule__" in value:
            return PluralRule(value["__plural_rule__"])
        return {_key(k): decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _key(key: str) -> Any:
    if key == "__none__":
        return None
    if key.startswith("__int__"):
        return int(key.removeprefix("__int__"))
    return key


class CarriedLocale(Locale):
    """A Babel Locale whose data is the carried subset: Babel's formatters read only `_data`."""

    def __init__(self, language: str, data: dict[str | int | None, Any]) -> None:
        super().__init__(language)
        self._carried = LocaleDataDict(data)

    @property
    def _data(self) -> LocaleDataDict:
        return self._carried


@cache
def _languages() -> dict[str, Any]:
    return dict(json.loads(CARRIED.read_text(encoding="utf-8"))["languages"])


@cache
def locale(language: str) -> Locale:
    """The Locale to format for `language` ("nl", "en"; anything else formats as English)."""
    carried = _languages()
    code = language if language in carried else FALLBACK
    return CarriedLocale(code, decode(carried[code]))
