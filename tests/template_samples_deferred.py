"""Samples for the answer-first notices (bot/slack/deferred.py); HOSTILE is set by tests/test_templates.py."""

# ruff: noqa: F821  (HOSTILE is provided by tests/test_templates.py)

from typing import Any

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "deferred_notice.json.j2": (
        {
            "message": "Sorry, this could not be looked up. Please try again; if it keeps happening, give "
            "reference %(reference)s to your coordinator.",
            "values": {"reference": HOSTILE},
        },
        True,
    ),
}
