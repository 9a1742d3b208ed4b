"""The demo's signals scene plays in Dutch and in English: register, match, weigh, case."""

from __future__ import annotations

import io

import pytest

from bot.demo import play
from bot.demo.scene_signals import scene_signals


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "nl",
            ["Signaal 1 is geregistreerd.", "Hit op subject", "*Nieuwe casus 1*", "Het is casus 1 geworden"],
        ),
        ("en", ["Signal 1 is registered.", "Hit on subject", "*New case 1*", "It became case 1"]),
    ],
)
def test_the_signals_scene_plays(language: str, expected: list[str]) -> None:
    out = io.StringIO()
    play(language=language, out=out, scenes=[scene_signals])
    transcript = out.getvalue()
    for line in expected:
        assert line in transcript
    # The politie's reporter hears of the match, never the gemeente's details.
    politie_part = transcript.split("Jan (Politie Rotterdam): /samen signalen 1")[-1]
    assert "Hoogt Vastgoed" not in politie_part and "06-12345678" not in politie_part
