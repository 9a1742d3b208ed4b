"""Every text a person sees exists in Dutch, and the catalogs hold nothing that the code no longer says."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from bot.i18n import language_for, read_catalog, t

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "t": (2,), "gettext": None, "ngettext": (1, 2)}
METHODS = [
    ("bot/**.py", "python"),
    ("commands/**.py", "python"),
    ("templates/**.j2", "jinja2"),
]


def extracted_ids() -> dict[str, str]:
    """message id → where it is used, as `make messages` would extract them."""
    found: dict[str, str] = {}
    for folder in ("bot", "commands", "templates"):
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[
                (pattern.split("/", 1)[1], method)
                for pattern, method in METHODS
                if pattern.startswith(folder)
            ],
            keywords=KEYWORDS,
            options_map={"**.j2": {"trim_blocks": "True", "lstrip_blocks": "True"}},
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{folder}/{filename}")
    return found


def test_every_text_is_translated_to_dutch() -> None:
    catalog = read_catalog("nl")
    missing = {
        msgid: where
        for msgid, where in extracted_ids().items()
        if msgid not in catalog or not catalog[msgid].string
    }
    assert not missing, "texts without a Dutch translation (add them to the feature's .po):\n" + "\n".join(
        f"  {where}: {msgid!r}" for msgid, where in missing.items()
    )


@pytest.mark.parametrize("language", ["nl", "en"])
def test_catalogs_hold_no_obsolete_texts(language: str) -> None:
    used = set(extracted_ids())
    obsolete = [
        m.id
        for m in read_catalog(language)
        if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in used
    ]
    assert not obsolete, f"{language}: texts no longer used anywhere: {obsolete}"


def test_english_catalog_lists_every_text() -> None:
    # English is the message id itself, but translators review from the English catalog.
    catalog = read_catalog("en")
    assert set(extracted_ids()) <= {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_placeholders_survive_translation() -> None:
    for message in read_catalog("nl"):
        if not message.id or not message.string or isinstance(message.id, tuple):
            continue
        for placeholder in ("%(" + part.split(")")[0] + ")" for part in message.id.split("%(")[1:]):
            assert placeholder in message.string, f"{message.id!r} lost {placeholder} in Dutch"


@pytest.mark.parametrize(
    ("slack_locale", "expected"),
    [("nl-NL", "nl"), ("en-US", "en"), ("en-GB", "en"), ("de-DE", "nl"), (None, "nl"), ("", "nl")],
)
def test_language_follows_the_slack_locale(slack_locale: str | None, expected: str) -> None:
    assert language_for(slack_locale, "nl") == expected


def test_python_texts_are_translated() -> None:
    assert t("nl", "Unknown command: /samen %(word)s", word="x") == "Onbekend commando: /samen x"
    assert t("en", "Unknown command: /samen %(word)s", word="x") == "Unknown command: /samen x"
