"""`samen demo` plays its conversation with no Slack account and no network, in Dutch and in English, and
tells one story: one clock, the right message under each narration line, names instead of ids, one name
per case, and every label in the language asked for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMEN = str(Path(sys.executable).with_name("samen"))

# What each language must read, and the Dutch of the transcript's own labels that English must not show.
EXPECTED = {
    "nl": {
        "lines": [
            "Kennismaken met Samen",
            "Wat Samen kan",
            "Bedoelde je `/samen help`?",
            "Einde van de demo.",
        ],
        "raised": r"Gemeld (\d\d-\d\d-\d{4}) (\d\d:\d\d)",  # 04-12-2026 21:40
        "escalation": "⏰ *Belastingdienst* heeft rugdekking RD-1 na 2 minuten nog niet bevestigd",
        "board_all": "allemaal na 2 min 30 s",
        "digest_all": "allemaal na 2 min 30 s",
        "reminder_narration": "Om 10:30 heeft Ilse (Belastingdienst) nog niet geantwoord",
        "reminder": "Het afstemmoment in #afstemming sluit om 11:00",
        "case": "Casus: 1 (Loods De Hoogt)",  # the case by number and title, as the work queue names it
        "turn": "alleen zichtbaar voor Ilse:\n    :arrow_forward: Jouw beurt: *I-1*",
        "week": "Samen deze week (2026-12-04 tot en met 2026-12-11)",
    },
    "en": {
        "lines": ["Meeting Samen", "What Samen can do", "Did you mean `/samen help`?", "End of the demo."],
        "raised": r"Raised (\d\d? [A-Z][a-z]{2} \d{4}), (\d\d:\d\d)",  # 4 Dec 2026, 21:40: 24-hour
        "escalation": "⏰ *Belastingdienst* has not acknowledged backup alert RD-1 after 2 minutes",
        "board_all": "all after 2 min 30 s",
        "digest_all": "all after 2 min 30 s",
        "reminder_narration": "At 10:30 Ilse (Belastingdienst) has not answered yet",
        "reminder": "The check-in in #afstemming closes at 11:00",
        "case": "On case: 1 (Warehouse De Hoogt)",
        "turn": "only visible to Ilse:\n    :arrow_forward: Your turn: *I-1*",
        "week": "Samen this week (2026-12-04 to 2026-12-11)",
    },
}
DUTCH_LABELS = [
    "alleen zichtbaar voor",
    "[formulier]",
    "(draad)",
    "[groepsgesprek]",
    "[grafiek]",
    "afbeelding",
]


def _play(language: str, folder: Path) -> str:
    result = subprocess.run(
        [SAMEN, "demo", "--language", language],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        # A clean environment: nothing points at Slack, a database or anything beside the checkout.
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(folder)},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not list(folder.iterdir()), "the demo left files behind"
    return result.stdout


def _after(transcript: str, narration: str) -> str:
    """What the transcript shows under a narration line, up to the next one."""
    return transcript.split(narration, 1)[1].split("\n(", 1)[0]


@pytest.mark.slow
@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_demo_tells_one_story(language: str, tmp_path: Path) -> None:
    expected = EXPECTED[language]
    transcript = _play(language, tmp_path)
    for line in expected["lines"]:
        assert line in transcript

    # One clock: the alert is raised at the same moment in every message that says when, also after closing.
    raised = set(re.findall(expected["raised"], transcript))
    assert len(raised) == 1, raised
    # The narration's two minutes are the escalation's two minutes; board and digest agree on the time.
    assert expected["escalation"] in _after(transcript, "(21:42, ")
    assert expected["board_all"] in transcript
    assert expected["digest_all"] in _after(transcript, expected["week"])  # the digest writes it the same way
    assert expected["week"] in transcript

    # Under the check-in narration: the check-in reminder, not the backup alert's escalation.
    reminder = _after(transcript, expected["reminder_narration"])
    assert expected["reminder"] in reminder and "RD-1" not in reminder

    # Names, not ids: a channel by its name, a person by theirs.
    assert not re.search(r"#[CGD]0[A-Z0-9]{3,}", transcript), "a raw channel id"
    assert not re.search(r"@[UW]0[A-Z0-9]{3,}", transcript), "a raw user id"
    # One name per case: the signals scene's case 1 under its one title, no made-up code beside it.
    assert expected["case"] in transcript and not re.search(r"C-\d{4}-\d{4}", transcript)
    # Ilse's turn is shown once.
    assert transcript.count(expected["turn"]) == 1

    if language == "en":
        for label in DUTCH_LABELS:
            assert label not in transcript
