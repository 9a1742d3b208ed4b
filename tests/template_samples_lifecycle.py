"""Samples for the life-cycle notice (a workspace removed Samen); HOSTILE is injected by
tests/test_templates.py. The workspace's name comes from Slack (its administrators typed it)."""

# ruff: noqa: F821  (HOSTILE is provided by tests/test_templates.py)

from typing import Any

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "workspace_removed.json.j2": (
        {"workspace": HOSTILE, "team_id": "T0POLITIE1", "reason": "app_uninstalled", "failed": 3},
        True,
    ),
}
