"""Translations: gettext catalogs (Dutch default, English), read with Babel.

Message ids are English; `bot/locale/<lang>/LC_MESSAGES/messages.po` holds the translations. We read
the .po files directly and compile them in memory, so no compiled .mo file lives in git next to its
source and they can never disagree.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.config import SUPPORTED_LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@cache
def translations(language: str) -> Translations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return Translations()  # the message ids themselves (English)
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
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


def N_(message: str) -> str:  # noqa: N802  (the conventional gettext name)
    """Mark a message id for extraction where it is translated later (in a template)."""
    return message
