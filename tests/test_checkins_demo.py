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
                "*Afstemmoment van maandag",
                "heeft Politie Rotterdam nodig @Jan",
                "Samenvatting: 2 van 3 hebben geantwoord",
                "belegt een korte afstemming over",
                "Bibob-toets en sluiting loods",
            ],
        ),
        (
            "en",
            [
                "Check-in 1 is planned in",
                "*Check-in of Monday",
                "needs Politie Rotterdam @Jan",
                "Summary: 2 of 3 answered",
                "calls a short alignment on",
                "Bibob check and closure",
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
    invitation = transcript.split("[DM] Samen → alleen zichtbaar voor Fatima:")[-1].split("[DM] Fatima")[0]
    assert "Belastingdienst" not in invitation and "RIEC" not in invitation
