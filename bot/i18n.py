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

from bot.config import SUPPORTED_LANGUAGES

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
        return format_unit(round(minutes * 60), "duration-second", length="long", locale=language)
    return format_unit(round(minutes, 1), "duration-minute", length="long", locale=language)


def N_(message: str) -> str:
    """Mark a message id for extraction where it is translated later (in a template)."""
    return message
