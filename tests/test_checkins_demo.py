"""The demo's check-in scene plays in Dutch and in English, after the signals scene whose subject it uses."""

from __future__ import annotations

import io

import pytest

from bot.demo import play
from bot.demo.scene_checkins import scene_checkins
from bot.demo.scene_signals import scene_signals


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "nl",
            [
                "Afstemmoment 1 is gepland in",
                "Afstemmoment 1 is gepland in #afstemming. Het eerste moment: woensdag 9 december 09:00.",
                "*Afstemmoment van woensdag 9 december*",
                "heeft Politie Rotterdam nodig @Jan",
                "Samenvatting: 2 van 3 geantwoord",
                "Het afstemmoment in #afstemming sluit om 11:00",
                "belegt een korte afstemming over",
                "Sluiting loods S-2026-",
                "uiterlijk donderdag 10 december",
            ],
        ),
        (
            "en",
            [
                "Check-in 1 is planned in",
                "Check-in 1 is planned in #afstemming. The first moment: Wednesday 9 December 09:00.",
                "*Check-in of Wednesday 9 December*",
                "needs Politie Rotterdam @Jan",
                "Summary: 2 of 3 answered",
                "The check-in in #afstemming closes at 11:00",
                "calls a short alignment on",
                "Closure of warehouse S-2026-",
                "by Thursday 10 December",
            ],
        ),
    ],
)
def test_the_check_in_scene_plays(language: str, expected: list[str]) -> None:
    out = io.StringIO()
    play(language=language, out=out, scenes=[scene_signals, scene_checkins])
    transcript = out.getvalue()
    for line in expected:
        assert line in transcript
    # The gemeente's invitation names the caller, never the other partners asked.
    only_for = "alleen zichtbaar voor" if language == "nl" else "only visible to"
    invitation = transcript.split(f"[DM] Samen → {only_for} Fatima:")[-1].split("[DM] Fatima")[0]
    assert "Belastingdienst" not in invitation and "RIEC" not in invitation
    # Each answer is shown once, in the thread, before the reminder.
    answers = transcript.split("10:30")[0]
    assert (
        answers.count("*@Fatima (Gemeente Rotterdam)*") == 1
        and answers.count("*@Jan (Politie Rotterdam)*") == 1
    )
