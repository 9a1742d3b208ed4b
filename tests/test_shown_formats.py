"""One way to write what people see (issue 20 leftovers, helper-16): a measured duration and a moment read
the same on every screen of one language — the backup-alert board, its figures, the digest and its export.
"""

from __future__ import annotations

import pytest

from bot.i18n import format_duration


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
