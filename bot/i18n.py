"""Translations: gettext catalogs (Dutch default, English), read with Babel.

Message ids are English; `bot/locale/<lang>/LC_MESSAGES/*.po` hold the translations, one file per
feature (core.po, partners.po, …) so that features never edit each other's catalog. We read the .po
files directly and compile them in memory into one catalog per language, so no compiled .mo file
lives in git next to its source and they can never disagree.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from babel.units import format_unit

from bot import cldr

SUPPORTED_LANGUAGES = ("nl", "en")  # Dutch first: the default (SAMEN_LANGUAGE, bot/config.py)
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def catalog_files(language: str) -> list[Path]:
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


def read_catalog(language: str) -> Catalog:
    """Every feature's .po for one language, merged; a message id defined twice is an error."""
    merged = Catalog(locale=language, domain=DOMAIN)
    for path in catalog_files(language):
        with path.open("rb") as po_file:
            part = read_po(po_file, locale=language)
        for message in part:
            if not message.id:
                continue  # the header
            if message.id in merged:
                raise ValueError(f"{path.name}: message {message.id!r} is already in another catalog")
            merged[message.id] = message
    return merged


@cache
def translations(language: str) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(language))
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def language_for(slack_locale: str | None, default: str) -> str:
    """Map a Slack locale such as `nl-NL` or `en-GB` to a supported language, else the default."""
    if slack_locale:
        language = slack_locale.replace("_", "-").split("-")[0].lower()
        if language in SUPPORTED_LANGUAGES:
            return language
    return default


def t(language: str, message: str, **values: object) -> str:
    """Translate a message for Python code (not templates); `%(name)s` placeholders are filled.

    Extracted by `make messages` with the keyword `t:2` (the message is the second argument).
    """
    translated = translations(language).gettext(message)
    return translated % values if values else translated


def format_minutes(minutes: float, language: str) -> str:
    """A span of minutes as a person reads it: "18 seconden", "1 minuut", "2,5 minuten".

    Babel writes the number per language (a decimal comma in Dutch) and picks the plural from CLDR;
    under a minute reads better in whole seconds than as "0,3 minuten"."""
    if minutes < 1:
        return format_unit(
            round(minutes * 60), "duration-second", length="long", locale=cldr.locale(language)
        )
    return format_unit(round(minutes, 1), "duration-minute", length="long", locale=cldr.locale(language))


# A moment people see, one pattern per language (babel's "short" is US style in English: "12/4/26, 9:40 PM").
# 24-hour in both: the partnership is Dutch, and an English reader there keeps its clock.
MOMENT_PATTERNS = {"nl": "dd-MM-y HH:mm", "en": "d MMM y, HH:mm"}  # 04-12-2026 21:40 · 4 Dec 2026, 21:40


def moment_pattern(language: str) -> str:
    return MOMENT_PATTERNS.get(language, MOMENT_PATTERNS["en"])


# The hour's abbreviation per language; "min" and "s" are the same in Dutch and English.
HOUR_SYMBOL = {"nl": "u", "en": "h"}


def format_duration(seconds: float | None, language: str) -> str:
    """A measured span (how fast partners acknowledged) the one way people see it everywhere: "45 s",
    "2 min 30 s", "5 min", "1 u 5 min" ("1 h 5 min"); "–" when there is none.

    Whole seconds, cut off as a stopwatch does, so the board and the digest never disagree by rounding;
    symbols rather than words, so a count never needs a plural and the line stays short under pressure."""
    if seconds is None:
        return "–"
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:  # past an hour the seconds no longer matter
        parts = [(hours, HOUR_SYMBOL.get(language, "h")), (minutes, "min")]
    else:
        parts = [(minutes, "min"), (secs, "s")]
    shown = " ".join(f"{n} {unit}" for n, unit in parts if n)
    return shown or "0 s"


def N_(message: str) -> str:
    """Mark a message id for extraction where it is translated later (in a template)."""
    return message
