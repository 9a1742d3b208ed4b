"""Personal data in free text: find it before anything typed is shown in a shared channel.

docs/domain.md rule 2: channels show subject codes, never who someone is. Before text a person typed is
posted where other partners read it, `find` looks for the personal data that identifies someone
directly, and `redact` takes it out. What was found stays in the restricted (encrypted) details, and
the person is told what was kept out of the channel (`counts`).

What is found, and how it is told apart from ordinary numbers:
- BSN: 9 digits (also written 1234.56.782 or 123 456 782) that pass the 11-check (python-stdnum's
  `stdnum.nl.bsn`); a 9-digit number that fails it is not a BSN.
- IBAN: a country code, two check digits and the account, compact or in groups of four, that pass the
  ISO 13616 mod-97 check and the country's format (`stdnum.iban`).
- Dutch licence plates: the RDW's side codes 1–14 (XX-99-99 … 999-XX-9), with their dashes, or
  without them right after the word "kenteken".
- Phone numbers: what Google's libphonenumber (the `phonenumbers` package) accepts as a valid number,
  Dutch numbers without a country code included.
- E-mail addresses.
- A postcode with its house number (1234 AB 12, or 12, 1234 AB): the postcode checked by
  `stdnum.nl.postcode`. A postcode alone names an area, not a home, and is left in.

Overlaps are resolved in favour of the kinds with a checksum (a BSN is not also a phone number), then
the longer match. The module is generic: any feature that posts typed text uses it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from types import ModuleType

from bot.i18n import N_


# The checkers load on first use: python-stdnum and phonenumbers cost ~2 MB that an idle process
# (one that never checks a text) need not carry.
def _stdnum(module: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"stdnum.{module}")


def _phonenumbers() -> ModuleType:
    import phonenumbers

    return phonenumbers


REDACTED: Final = "[…]"


class Kind(StrEnum):
    BSN = "bsn"
    IBAN = "iban"
    EMAIL = "email"
    POSTCODE_HOUSE_NUMBER = "postcode_house_number"
    LICENCE_PLATE = "licence_plate"
    PHONE = "phone"


# Lower wins when two findings overlap: checksummed kinds first.
_PRIORITY: Final[dict[Kind, int]] = {
    Kind.BSN: 0,
    Kind.IBAN: 0,
    Kind.EMAIL: 1,
    Kind.POSTCODE_HOUSE_NUMBER: 2,
    Kind.LICENCE_PLATE: 3,
    Kind.PHONE: 4,
}

# What people are told was kept out of the channel; `ngettext`-free on purpose: "1 × BSN".
KIND_LABELS: Final[dict[Kind, str]] = {
    Kind.BSN: N_("citizen service number (BSN)"),
    Kind.IBAN: N_("bank account (IBAN)"),
    Kind.EMAIL: N_("e-mail address"),
    Kind.POSTCODE_HOUSE_NUMBER: N_("postcode with house number"),
    Kind.LICENCE_PLATE: N_("licence plate"),
    Kind.PHONE: N_("phone number"),
}


@dataclass(frozen=True)
class Finding:
    kind: Kind
    start: int
    end: int
    text: str

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end


# --- BSN --------------------------------------------------------------------------------------------
# ASCII digits only (`\d` would also match Arabic-Indic and other digits). Every position is tried, so a
# number that only looks like a BSN cannot hide a real one that starts inside it.
_BSN_FORMS = tuple(
    re.compile(form + r"(?![0-9])")
    for form in (
        r"[0-9]{9}",
        r"[0-9]{4}\.[0-9]{2}\.[0-9]{3}",  # the official notation: 1234.56.782
        r"[0-9]{3}[ .][0-9]{3}[ .][0-9]{3}",
    )
)
_DIGIT_START = re.compile(r"(?<![0-9])(?=[0-9])")


def _bsns(text: str) -> list[Finding]:
    found = []
    for start in _DIGIT_START.finditer(text):
        for form in _BSN_FORMS:
            match = form.match(text, start.start())
            if match and _stdnum("nl.bsn").is_valid(match.group(0)):
                found.append(Finding(Kind.BSN, match.start(), match.end(), match.group(0)))
                break
    return found


# --- IBAN -------------------------------------------------------------------------------------------
_IBAN_START = re.compile(r"(?=[A-Za-z]{2}[0-9]{2})")
_IBAN_MIN, _IBAN_MAX = 15, 34  # Norway's are the shortest, Saint Lucia's the longest


def _ibans(text: str) -> list[Finding]:
    found: list[Finding] = []
    covered_until = -1
    for start_match in _IBAN_START.finditer(text):
        start = start_match.start()
        if start < covered_until:
            continue
        # Walk on over letters and digits, allowing one space (or dash) between groups.
        compact: list[str] = []
        ends: list[int] = []
        position = start
        while position < len(text) and len(compact) < _IBAN_MAX:
            char = text[position]
            if char.isascii() and char.isalnum():
                compact.append(char.upper())
                ends.append(position + 1)
                position += 1
            elif (
                char in " -"
                and position + 1 < len(text)
                and text[position + 1].isascii()
                and (text[position + 1].isalnum())
            ):
                position += 1
            else:
                break
        # The longest prefix that is a valid IBAN (each country has one fixed length).
        for length in range(len(compact), _IBAN_MIN - 1, -1):
            candidate = "".join(compact[:length])
            if _stdnum("iban").is_valid(candidate):
                end = ends[length - 1]
                found.append(Finding(Kind.IBAN, start, end, text[start:end]))
                covered_until = end
                break
    return found


# --- e-mail -----------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _emails(text: str) -> list[Finding]:
    return [Finding(Kind.EMAIL, m.start(), m.end(), m.group(0)) for m in _EMAIL.finditer(text)]


# --- postcode with house number ---------------------------------------------------------------------
# A postcode: four digits (not starting with 0) and two letters, upper case with or without a space,
# or lower case right after the digits ("4811ab"); lower case with a space is ordinary prose ("2023 is").
_POSTCODE = r"[1-9][0-9]{3}(?: ?[A-Z]{2}|[a-z]{2})"
_HOUSE_NUMBER = r"[0-9]{1,5}(?: ?[A-Za-z](?![A-Za-z]))?(?:-[0-9A-Za-z]{1,4})?"
_POSTCODE_THEN_NUMBER = re.compile(
    rf"(?<![0-9A-Za-z])(?P<postcode>{_POSTCODE})[ ,]*(?:nr\.? ?)?{_HOUSE_NUMBER}(?![0-9])"
)
_NUMBER_THEN_POSTCODE = re.compile(
    rf"(?<![0-9A-Za-z]){_HOUSE_NUMBER},? +(?P<postcode>{_POSTCODE})(?![0-9A-Za-z])"
)


def _postcode_addresses(text: str) -> list[Finding]:
    found = []
    for pattern in (_POSTCODE_THEN_NUMBER, _NUMBER_THEN_POSTCODE):
        for match in pattern.finditer(text):
            if _stdnum("nl.postcode").is_valid(match.group("postcode")):
                found.append(Finding(Kind.POSTCODE_HOUSE_NUMBER, match.start(), match.end(), match.group(0)))
    return found


# --- Dutch licence plates ---------------------------------------------------------------------------
# The RDW's side codes: L = letter, D = digit, in groups separated by dashes.
_SIDECODES: Final = (
    "LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL",  # 1–6
    "DD-LLL-D", "D-LLL-DD", "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "L-DD-LLL",  # 7–12
    "D-LL-DDD", "DDD-LL-D",  # 13–14
)  # fmt: skip


def _sidecode_pattern(code: str, separator: str) -> str:
    groups = []
    for group in code.split("-"):
        kind = "[A-Za-z]" if group[0] == "L" else "[0-9]"
        groups.append(f"{kind}{{{len(group)}}}")
    return separator.join(groups)


_PLATE_DASHED = re.compile(
    r"(?<![0-9A-Za-z-])(?:" + "|".join(_sidecode_pattern(c, "-") for c in _SIDECODES) + r")(?![0-9A-Za-z-])"
)
_PLATE_AFTER_WORD = re.compile(
    r"(?i:kenteken(?:s|nummer)?)[: ]+(?P<plate>(?:"
    + "|".join(_sidecode_pattern(c, "") for c in _SIDECODES)
    + r"))(?![0-9A-Za-z])"
)


def _plates(text: str) -> list[Finding]:
    found = [
        Finding(Kind.LICENCE_PLATE, m.start(), m.end(), m.group(0)) for m in _PLATE_DASHED.finditer(text)
    ]
    for match in _PLATE_AFTER_WORD.finditer(text):
        start, end = match.span("plate")
        found.append(Finding(Kind.LICENCE_PLATE, start, end, match.group("plate")))
    return found


# --- phone numbers ----------------------------------------------------------------------------------


def _phones(text: str) -> list[Finding]:
    return [
        Finding(Kind.PHONE, m.start, m.end, m.raw_string)
        for m in _phonenumbers().PhoneNumberMatcher(text, "NL", leniency=_phonenumbers().Leniency.VALID)
    ]


# --- together ---------------------------------------------------------------------------------------


def find(text: str | None) -> list[Finding]:
    """The personal data in `text`, in order of position, without overlaps."""
    if not text:
        return []
    candidates = [
        *_bsns(text),
        *_ibans(text),
        *_emails(text),
        *_postcode_addresses(text),
        *_plates(text),
        *_phones(text),
    ]
    candidates.sort(key=lambda f: (_PRIORITY[f.kind], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for candidate in candidates:
        if not any(candidate.overlaps(other) for other in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda f: f.start)


def redact(text: str, findings: list[Finding] | None = None, placeholder: str = REDACTED) -> str:
    """`text` with every finding replaced by the placeholder."""
    findings = find(text) if findings is None else findings
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        parts.append(text[position : finding.start])
        parts.append(placeholder)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def counts(findings: list[Finding]) -> dict[Kind, int]:
    """How many of each kind, in a stable order (for "kept out of the channel: …")."""
    counted = Counter(f.kind for f in findings)
    return {kind: counted[kind] for kind in Kind if counted[kind]}


@dataclass(frozen=True)
class Cleaned:
    """Text made fit for a channel: what may be shown, and what was kept out."""

    shown: str
    findings: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.findings)


def clean(text: str | None) -> Cleaned:
    text = text or ""
    findings = find(text)
    return Cleaned(redact(text, findings), tuple(findings))
