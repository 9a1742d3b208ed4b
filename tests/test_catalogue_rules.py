"""Every catalogue entry, in both languages, follows the rules for texts people read under pressure.

- A count followed by a word that depends on it ("1 open interventies", "1 partners hebben") uses
  plural forms (`ngettext`, `msgid_plural`), or is rephrased so that no word depends on the count.
- No Dutch text has a decimal point between digits (Dutch writes 0,3); numbers are formatted per
  language in code (babel), and no template formats a number itself with `'%g'|format`.
- Dutch plural forms are complete (both forms filled) and every Dutch catalogue says how to choose.
- The placeholders of a translation are exactly those of the message id: a lost one hides a fact,
  an added one fails at run time.

The rules are functions of one entry, so `test_the_rules_can_fail` shows each catches a broken entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("nl", "en")

# Placeholders that hold a count. A name here followed by a word means that word depends on the count.
# `limit` and `maximum` are not here: they are bounds fixed in code (MAX_…), all 2 or more, so
# "at most %(limit)s characters" is always plural; nor `length`, said only of a text over such a bound.
COUNTS = frozenset(
    {
        "num", "n", "count", "total", "minutes", "seconds", "hours", "days", "weeks",
        "capacity", "expected", "answered", "acknowledged", "done", "failed", "open", "closed",
        "started", "moments", "target", "previous",
    }
)  # fmt: skip
# Words between a count and its noun: "%(count)s open interventions"; alone ("and %(num)s more") fine.
ADJECTIVES = frozenset({"open", "lopende", "more", "expired", "verlopen", "new", "nieuwe"})
# Words after a count that do not change with it: prepositions, conjunctions, participles.
INDEPENDENT = frozenset(
    {
        "of", "van", "to", "tot", "and", "en", "or", "in", "op", "on", "per", "uit", "from", "out",
        "de", "the", "carried", "uitgevoerd", "acknowledged", "bevestigd", "closed", "gesloten",
        "failed", "mislukt", "started", "gestart", "answered", "geantwoord", "waiting", "wachtend",
    }
)  # fmt: skip
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
COUNT_THEN_WORDS = re.compile(r"%\((\w+)\)[sdif]((?:[ \t]+[^\W\d_][\w’'-]*){1,3})")
DECIMAL_POINT = re.compile(r"\d\.\d")
OWN_NUMBER_FORMAT = re.compile(r"""['"]%[-+ 0#]*\d*(?:\.\d+)?[gfe]['"]\s*\|\s*format""")


@dataclass(frozen=True)
class Entry:
    where: str  # file:line, for the failure message
    language: str
    msgid: str
    msgid_plural: str | None
    strings: tuple[str, ...]  # one translation, or every plural form

    @property
    def read(self) -> tuple[str, ...]:
        """What people read: the translation, or the message id where it is left empty (English)."""
        if any(self.strings):
            return tuple(s for s in self.strings if s)
        return (self.msgid,) if self.msgid_plural is None else (self.msgid, self.msgid_plural)


def entries() -> list[Entry]:
    found = []
    for language in LANGUAGES:
        for path in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
            with path.open("rb") as po_file:
                catalog = read_po(po_file, locale=language)
            for message in catalog:
                if not message.id:
                    continue
                plural = isinstance(message.id, tuple)
                strings = message.string if plural else (message.string,)
                found.append(
                    Entry(
                        where=f"{language}/{path.name}:{message.lineno}",
                        language=language,
                        msgid=message.id[0] if plural else message.id,
                        msgid_plural=message.id[1] if plural else None,
                        strings=tuple(strings),
                    )
                )
    return found


# --- the rules: each returns what is wrong with one entry (empty: nothing) --------------------------


def count_without_plural(entry: Entry) -> list[str]:
    if entry.msgid_plural is not None:
        return []
    problems = []
    for text in entry.read:
        for name, after in COUNT_THEN_WORDS.findall(text):
            words = after.lower().split()
            word = next((w for w in words if w not in ADJECTIVES), "")  # the noun after "open", "more"
            if name in COUNTS and word and word not in INDEPENDENT:
                problems.append(
                    f"“%({name})s{after}”: the words depend on the count; use ngettext or rephrase"
                )
    return problems


def dutch_decimal_point(entry: Entry) -> list[str]:
    if entry.language != "nl":
        return []
    return [f"decimal point in “{s}”: Dutch writes a comma" for s in entry.strings if DECIMAL_POINT.search(s)]


def incomplete_plural(entry: Entry, nplurals: int = 2) -> list[str]:
    if entry.msgid_plural is None:
        return []
    if entry.language == "nl" and (len(entry.strings) != nplurals or not all(entry.strings)):
        return [f"Dutch needs {nplurals} filled plural forms, has {list(entry.strings)}"]
    if any(entry.strings) and not all(entry.strings):
        return [f"some plural forms are empty: {list(entry.strings)}"]
    return []


def placeholders_differ(entry: Entry) -> list[str]:
    problems = []
    expected = set(PLACEHOLDER.findall(entry.msgid))
    plural_expected = set(PLACEHOLDER.findall(entry.msgid_plural or "")) | expected
    for index, text in enumerate(entry.strings):
        if not text:
            continue
        got = set(PLACEHOLDER.findall(text))
        if entry.msgid_plural is None and got != expected:
            problems.append(f"placeholders {sorted(got)} instead of {sorted(expected)}")
        elif entry.msgid_plural is not None and (
            not got <= plural_expected or (index > 0 and got != set(PLACEHOLDER.findall(entry.msgid_plural)))
        ):
            problems.append(
                f"plural form {index}: placeholders {sorted(got)}, id has {sorted(plural_expected)}"
            )
        try:
            text % dict.fromkeys(got, 1)
        except (ValueError, TypeError, KeyError) as error:
            problems.append(f"cannot be filled ({error}): a lone % must be written %%")
    return problems


RULES = (count_without_plural, dutch_decimal_point, incomplete_plural, placeholders_differ)


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_every_entry_follows_the_rule(rule) -> None:  # type: ignore[no-untyped-def]
    broken = [f"  {e.where}: {e.msgid[:70]!r}: {p}" for e in entries() for p in rule(e)]
    assert not broken, f"{rule.__name__}:\n" + "\n".join(broken)


def test_every_dutch_catalogue_says_how_to_choose_a_plural() -> None:
    for path in sorted((LOCALE_DIR / "nl" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po_file:
            catalog = read_po(po_file, locale="nl")
        assert catalog.num_plurals == 2 and catalog.plural_expr == "(n != 1)", path.name


def test_no_template_formats_a_number_itself() -> None:
    # '%g'|format(0.3) reads "0.3" in Dutch too; the template filters format per language.
    found = [
        f"{path.name}:{number}: {line.strip()[:90]}"
        for path in sorted((ROOT / "templates").glob("*.j2"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OWN_NUMBER_FORMAT.search(line)
    ]
    assert not found, "format numbers with a locale-aware filter:\n" + "\n".join(found)


def _entry(
    msgid: str, string: str | tuple[str, ...], *, language: str = "nl", plural: str | None = None
) -> Entry:
    strings = string if isinstance(string, tuple) else (string,)
    return Entry("test", language, msgid, plural, strings)


@pytest.mark.parametrize(
    ("rule", "broken"),
    [
        (
            count_without_plural,
            _entry(
                "%(partner)s has %(count)s open interventions",
                "%(partner)s heeft %(count)s open interventies",
            ),
        ),
        (count_without_plural, _entry("after %(minutes)s minutes", "na %(minutes)s minuten")),
        (count_without_plural, _entry("%(n)s go tonight", "vannacht gaan er %(n)s weg")),
        (dutch_decimal_point, _entry("In %(duration)s", "Over 0.3 minuten")),
        (incomplete_plural, _entry("%(num)s signal", ("%(num)s signaal", ""), plural="%(num)s signals")),
        (incomplete_plural, _entry("%(num)s signal", ("%(num)s signaal",), plural="%(num)s signals")),
        (placeholders_differ, _entry("Signal %(number)s from %(partner)s", "Signaal van %(partner)s")),
        (placeholders_differ, _entry("Signal %(number)s", "Signaal %(number)s van %(partner)s")),
        (placeholders_differ, _entry("%(percent)s%% answered", "%(percent)s% beantwoord")),
        (
            placeholders_differ,
            _entry("one signal", ("één signaal", "%(num)s signalen van %(who)s"), plural="%(num)s signals"),
        ),
    ],
)
def test_the_rules_can_fail(rule, broken: Entry) -> None:  # type: ignore[no-untyped-def]
    assert rule(broken), f"{rule.__name__} let a broken entry through: {broken}"


@pytest.mark.parametrize(
    ("rule", "good"),
    [
        (
            count_without_plural,
            _entry("%(answered)s of %(expected)s answered", "%(answered)s van %(expected)s"),
        ),
        (
            count_without_plural,
            _entry("%(num)s signal", ("%(num)s signaal", "%(num)s signalen"), plural="%(num)s signals"),
        ),
        (
            count_without_plural,
            _entry("Signal %(number)s from %(partner)s", "Signaal %(number)s van %(partner)s"),
        ),
        (dutch_decimal_point, _entry("In %(duration)s", "Over 0,3 minuut")),
        (dutch_decimal_point, _entry("In %(duration)s", "In 0.3 minutes", language="en")),
        (
            placeholders_differ,
            _entry("one signal", ("één signaal", "%(num)s signalen"), plural="%(num)s signals"),
        ),
        (placeholders_differ, _entry("%(percent)s%% answered", "%(percent)s%% beantwoord")),
    ],
)
def test_the_rules_pass_a_good_entry(rule, good: Entry) -> None:  # type: ignore[no-untyped-def]
    assert not rule(good)
