"""Derive the little of CLDR that Samen formats with, for Dutch and English, from the installed Babel.

Babel loads a locale's whole CLDR data (root merged with the language: ~8 MB of Python objects in a
process that formats one date), and a process keeps it. Samen formats dates, durations in units, lists
and decimals, so it carries only those parts, in bot/locale/cldr.json, and hands Babel a Locale built
from them (bot/cldr.py). tests/test_cldr.py derives this file anew from the locked Babel and fails when
the carried copy differs, so upgrading Babel means running this script:

    .venv/bin/python scripts/derive_locale_data.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import babel
from babel import Locale
from babel.numbers import NumberPattern
from babel.plural import PluralRule

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "bot" / "locale" / "cldr.json"
LANGUAGES = ("nl", "en")
# What babel.dates (patterns with names of months, days, day periods, eras and quarters), babel.units
# (durations), babel.lists and babel.numbers read of a locale's data.
KEYS = (
    "months",
    "days",
    "day_periods",
    "eras",
    "quarters",
    "week_data",
    "number_symbols",
    "default_numbering_system",
    "decimal_formats",
    "unit_patterns",
    "list_patterns",
    "plural_form",
)
UNITS = ("duration-second", "duration-minute", "duration-hour", "duration-day", "duration-week")


def encode(value: Any) -> Any:
    """JSON for Babel's data: patterns and plural rules by their source, None and int keys tagged."""
    if isinstance(value, NumberPattern):
        return {"__number_pattern__": value.pattern}
    if isinstance(value, PluralRule):
        return {"__plural_rule__": dict(value.rules)}
    if hasattr(value, "items"):
        return {_key(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def _key(key: Any) -> str:
    if key is None:
        return "__none__"
    if isinstance(key, int):
        return f"__int__{key}"
    return str(key)


def derive() -> dict[str, Any]:
    carried: dict[str, Any] = {"babel": babel.__version__, "languages": {}}
    for language in LANGUAGES:
        data = Locale.parse(language)._data
        picked = {key: data[key] for key in KEYS if key in data}
        picked["unit_patterns"] = {u: data["unit_patterns"][u] for u in UNITS}
        carried["languages"][language] = encode(picked)
    return carried


def main() -> int:
    TARGET.write_text(json.dumps(derive(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"wrote {TARGET.relative_to(ROOT)} from Babel {babel.__version__}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
