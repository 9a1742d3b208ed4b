"""Samples for the answers every listener shares (bot/slack/interaction.py); HOSTILE is set by
tests/test_templates.py."""

# ruff: noqa: F821  (HOSTILE is provided by tests/test_templates.py)

from typing import Any

from markupsafe import Markup

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "notice.json.j2": (
        {
            "message": "Signal %(number)s could not be found: %(reason)s",
            "values": {"number": 12, "reason": HOSTILE},
            "usage": "Write it like this: `/samen signalen <term>`.",
            "ask": Markup("<@U0COORD01>"),
        },
        True,
    ),
    "info_modal.json.j2": (
        {
            "title": "Samen",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Klaar."}}],
        },
        False,
    ),
}
