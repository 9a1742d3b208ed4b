"""One way to write what people see (issue 20 leftovers, helper-16): a measured duration and a moment read
the same on every screen of one language — the backup-alert board, its figures, the digest and its export.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import format_duration
from bot.render import Renderer


@pytest.mark.parametrize(
    ("seconds", "nl", "en"),
    [
        (None, "–", "–"),
        (0, "0 s", "0 s"),
        (45.9, "45 s", "45 s"),  # cut off as a stopwatch does, never rounded up
        (60, "1 min", "1 min"),
        (150.6, "2 min 30 s", "2 min 30 s"),
        (3600, "1 u", "1 h"),
        (3900 + 59, "1 u 5 min", "1 h 5 min"),
    ],
)
def test_a_duration_is_written_one_way(seconds: float | None, nl: str, en: str) -> None:
    assert (format_duration(seconds, "nl"), format_duration(seconds, "en")) == (nl, en)


@pytest.mark.parametrize(
    ("fmt", "nl", "en"),
    [
        ("moment", "04-12-2026 21:40", "4 Dec 2026, 21:40"),
        ("short", "04-12-2026 21:40", "4 Dec 2026, 21:40"),  # never babel's US "12/4/26, 9:40 PM"
        ("medium", "04-12-2026 21:40", "4 Dec 2026, 21:40"),
        ("HH:mm", "21:40", "21:40"),
        ("EEEE d MMMM, HH:mm", "vrijdag 4 december, 21:40", "Friday 4 December, 21:40"),
    ],
)
def test_a_moment_is_written_one_way_per_language(fmt: str, nl: str, en: str) -> None:
    renderer = Renderer(timezone="Europe/Amsterdam")
    raised = datetime(2026, 12, 4, 20, 40, tzinfo=UTC)  # 21:40 in Amsterdam
    shown = [renderer.environment(language).globals["when"](raised, fmt) for language in ("nl", "en")]
    assert shown == [nl, en]
    from_json = [
        renderer.environment(language).globals["when"](raised.isoformat(), fmt) for language in ("nl", "en")
    ]
    assert from_json == shown  # a context that went through the outbox as JSON reads the same
