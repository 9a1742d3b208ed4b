"""`samen demo` plays its conversation with no Slack account and no network, in Dutch and in English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SAMEN = str(Path(sys.executable).with_name("samen"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "nl",
            ["Kennismaken met Samen", "Wat Samen kan", "Bedoelde je `/samen help`?", "Einde van de demo."],
        ),
        ("en", ["Meeting Samen", "What Samen can do", "Did you mean `/samen help`?", "End of the demo."]),
    ],
)
def test_the_demo_plays_its_conversation(language: str, expected: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [SAMEN, "demo", "--language", language],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        # A clean environment: nothing points at Slack, a database or anything beside the checkout.
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    for line in expected:
        assert line in result.stdout
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir()), "the demo left files behind"
