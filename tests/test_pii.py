"""Personal data is found before typed text reaches a shared channel, and ordinary Dutch is left alone.

Property tests (hypothesis): every valid BSN and IBAN, in any of the ways people write them, embedded in
random text, is caught and redacted. The false-positive rate on a few hundred ordinary Dutch sentences
(tests/data/dutch_sentences.txt) is measured and printed.
"""

from __future__ import annotations

import string
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from bot.pii import REDACTED, Kind, clean, counts, find, redact

SENTENCES = Path(__file__).parent / "data" / "dutch_sentences.txt"
MAX_FALSE_POSITIVE_RATE = 0.02

# --- generators --------------------------------------------------------------------------------------


@st.composite
def valid_bsns(draw: st.DrawFn) -> str:
    """Nine digits passing the 11-check: 9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11)."""
    digits = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    check = sum((9 - i) * d for i, d in enumerate(digits)) % 11
    assume(check <= 9)
    number = "".join(map(str, digits)) + str(check)
    assume(stdnum_bsn.is_valid(number))  # e.g. 000000000 is not
    return number


def bsn_as_written(number: str, form: int) -> str:
    return [number, f"{number[:4]}.{number[4:6]}.{number[6:]}", f"{number[:3]} {number[3:6]} {number[6:]}",
            f"{number[:3]}.{number[3:6]}.{number[6:]}"][form]  # fmt: skip


# BBAN formats (letters "A", digits "9") of a few countries whose IBANs partners meet.
BBANS = {
    "NL": "AAAA9999999999",
    "DE": "999999999999999999",
    "BE": "999999999999",
    "GB": "AAAA99999999999999",
    "LU": "999AAAAAAAAAAAAA",
    "FR": "9999999999AAAAAAAAAAA99",
}


@st.composite
def valid_ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(BBANS)))
    bban = "".join(
        draw(st.sampled_from(string.ascii_uppercase if kind == "A" else string.digits))
        for kind in BBANS[country]
    )
    check = stdnum_iban.calc_check_digits(f"{country}00{bban}")
    number = f"{country}{check}{bban}"
    assume(stdnum_iban.is_valid(number))  # some countries add their own national check
    return number


def iban_as_written(number: str, grouped: bool, lower: bool) -> str:
    written = " ".join(number[i : i + 4] for i in range(0, len(number), 4)) if grouped else number
    return written.lower() if lower else written


# Random text around the number; a separator keeps it a word of its own, as people type it.
TEXT = st.text(max_size=80)
SEPARATORS = st.sampled_from([" ", "\n", ": ", " (", ") ", ", ", " BSN ", " rekening "])


def embedded(prefix: str, before: str, value: str, after: str, suffix: str) -> tuple[str, int]:
    text = prefix + before + value + after + suffix
    return text, len(prefix) + len(before)


def caught(text: str, start: int, value: str, kind: Kind) -> bool:
    return any(f.kind is kind and f.start == start and f.end == start + len(value) for f in find(text))


# --- properties ----------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(valid_bsns(), st.integers(0, 3), TEXT, SEPARATORS, SEPARATORS, TEXT)
def test_every_valid_bsn_in_random_text_is_caught(
    number: str, form: int, prefix: str, before: str, after: str, suffix: str
) -> None:
    value = bsn_as_written(number, form)
    text, start = embedded(prefix, before, value, after, suffix)
    assert caught(text, start, value, Kind.BSN), f"{value!r} not caught in {text!r}: {find(text)}"
    shown = redact(text)
    assert shown[start : start + len(REDACTED)] == REDACTED


@settings(max_examples=400, deadline=None)
@given(valid_ibans(), st.booleans(), st.booleans(), TEXT, SEPARATORS, SEPARATORS, TEXT)
def test_every_valid_iban_in_random_text_is_caught(
    number: str, grouped: bool, lower: bool, prefix: str, before: str, after: str, suffix: str
) -> None:
    value = iban_as_written(number, grouped, lower)
    text, start = embedded(prefix, before, value, after, suffix)
    assert caught(text, start, value, Kind.IBAN), f"{value!r} not caught in {text!r}: {find(text)}"
    assert number not in redact(text).upper().replace(" ", "")


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_nine_digits_failing_the_11_check_are_not_a_bsn(number: str) -> None:
    assume(not stdnum_bsn.is_valid(number))
    assert not any(f.kind is Kind.BSN for f in find(f"nummer {number} graag"))


# --- each kind, as partners write it -------------------------------------------------------------------

EXAMPLES = [
    ("Zijn BSN is 111222333.", Kind.BSN, "111222333"),
    ("bsn 1112.22.333 volgens de BRP", Kind.BSN, "1112.22.333"),
    ("Betaald vanaf NL91 ABNA 0417 1643 00 in maart", Kind.IBAN, "NL91 ABNA 0417 1643 00"),
    ("rekening nl91abna0417164300", Kind.IBAN, "nl91abna0417164300"),
    ("Geld ging naar DE89370400440532013000.", Kind.IBAN, "DE89370400440532013000"),
    ("Busje met kenteken 12-ABC-3 stond er weer", Kind.LICENCE_PLATE, "12-ABC-3"),
    ("kenteken VZ123X gezien", Kind.LICENCE_PLATE, "VZ123X"),
    ("de auto (XX-99-99) reed weg", Kind.LICENCE_PLATE, "XX-99-99"),
    ("Bel hem op 06-12345678 na vijven", Kind.PHONE, "06-12345678"),
    ("tel. +31 6 1234 5678", Kind.PHONE, "+31 6 1234 5678"),
    ("vaste lijn 076 529 4000", Kind.PHONE, "076 529 4000"),
    ("mail naar j.jansen@example.nl", Kind.EMAIL, "j.jansen@example.nl"),
    ("Industrieweg 12, 4811 AB Breda", Kind.POSTCODE_HOUSE_NUMBER, "12, 4811 AB"),
    ("adres 4811AB 12a", Kind.POSTCODE_HOUSE_NUMBER, "4811AB 12a"),
    ("postcode 4811 AB nr 7", Kind.POSTCODE_HOUSE_NUMBER, "4811 AB nr 7"),
]


@pytest.mark.parametrize(("text", "kind", "value"), EXAMPLES, ids=[e[2] for e in EXAMPLES])
def test_each_kind_of_personal_data_is_found(text: str, kind: Kind, value: str) -> None:
    assert [(f.kind, f.text) for f in find(text)] == [(kind, value)]
    assert value not in clean(text).shown


@pytest.mark.parametrize(
    "text",
    [
        "In 2023 is 12 keer gecontroleerd.",  # "2023 is" looks like a postcode in lower case
        "Postcodegebied 4811 AB heeft veel bedrijven.",  # a postcode alone names an area, not a home
        "Op 12-03-2024 om 10.30 uur, zaak 2024-123456, € 1.250.000.",
        "Sluiting op grond van artikel 13b Opiumwet en 174a Gemeentewet.",
        "Zaak 24-118-03 is gesloten.",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert find(text) == []
    assert clean(text).shown == text and not clean(text).changed


def test_a_bsn_is_not_also_a_phone_number_and_overlaps_are_resolved() -> None:
    text = "BSN 111222333 en tel 020-1234567, rekening NL91ABNA0417164300"
    found = find(text)
    assert [f.kind for f in found] == [Kind.BSN, Kind.PHONE, Kind.IBAN]
    for one, other in pairwise(found):
        assert one.end <= other.start
    assert Kind.IBAN in {f.kind for f in found}
    assert not any(f.kind is Kind.PHONE and "0417" in f.text for f in found)


def test_redaction_and_counts_tell_what_was_kept_out() -> None:
    text = "Jan (BSN 111222333, 06-12345678) woont op 4811 AB 12; ook 06-87654321."
    cleaned = clean(text)
    assert cleaned.shown == "Jan (BSN […], […]) woont op […]; ook […]."
    assert counts(list(cleaned.findings)) == {
        Kind.BSN: 1,
        Kind.POSTCODE_HOUSE_NUMBER: 1,
        Kind.PHONE: 2,
    }


def test_the_false_positive_rate_on_ordinary_dutch_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    sentences = [
        line.strip()
        for line in SENTENCES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(sentences) >= 300
    flagged = {sentence: find(sentence) for sentence in sentences if find(sentence)}
    rate = len(flagged) / len(sentences)
    with capsys.disabled():
        print(
            f"\npersonal-data detection: {len(flagged)} of {len(sentences)} ordinary Dutch sentences "
            f"flagged (false-positive rate {rate:.1%})"
        )
        for sentence, findings in flagged.items():
            print(f"  flagged: {sentence!r}: {[(f.kind.value, f.text) for f in findings]}")
    assert rate <= MAX_FALSE_POSITIVE_RATE
