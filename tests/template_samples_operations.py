"""Samples for the operations templates (/samen status, its App Home line); HOSTILE is injected by
tests/test_templates.py. Nothing in them is typed by a person, but failure reasons and workspace names
come from outside Samen (Slack), so they carry HOSTILE too."""

# ruff: noqa: F821  (HOSTILE is provided by tests/test_templates.py)

from typing import Any

_STATUS: dict[str, Any] = {
    "healthy": False,
    "behind": True,
    "version": "0.1.0",
    "socket_mode": False,
    "several_workspaces": True,
    "sms_on": True,
    "email_on": False,
    "database_reachable": True,
    "database_current": True,
    "revision": "0009",
    "due": 12,
    "failed": 3,
    "oldest_seconds": 754.2,
    "failures": [(HOSTILE, 2), ("channel_not_found", 1)],
    "workspaces": [
        {"name": HOSTILE, "team_id": "T0GEMEENTE", "home": True},
        {"name": "Politie Rotterdam", "team_id": "T0POLITIE1", "home": False},
    ],
}

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "operations_status.json.j2": (_STATUS, True),
    "operations_home.json.j2": ({"healthy": True, "due": 0, "failed": 0}, False),
}
