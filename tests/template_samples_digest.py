"""Samples for the digest templates; HOSTILE is injected by tests/test_templates.py. Partner names, goal
descriptions, instruments and lessons are typed by people, so they carry HOSTILE."""

# ruff: noqa: F821  (HOSTILE is provided by tests/test_templates.py)

from typing import Any

_ALERT = {
    "code": "RD-3",
    "partner": HOSTILE,
    "type": "Threat",
    "seriousness": "High: danger now",
    "acknowledged": 3,
    "total": 4,
    "first": 45.0,
    "all": None,
}
_FULL: dict[str, Any] = {
    "for_channel": True,
    "first": "2026-03-06",
    "last": "2026-03-12",
    "quiet": False,
    "charts": 2,
    "signals": 3,
    "by_category": [["Drugs", 2], ["Money laundering", 1]],
    "cases_started": 1,
    "cases_closed": 0,
    "finished": 2,
    "by_focus": [["Roll up networks", 2]],
    "open": 4,
    "overdue": 1,
    "partners": [{"name": HOSTILE, "open": 3, "capacity": 2, "overdue": 1, "over": True}],
    "successes": [{"code": "I-4", "partner": HOSTILE, "focus": "Roll up networks", "instrument": HOSTILE}],
    "successes_total": 2,
    "successes_unlisted": 1,
    "lessons": [{"partner": HOSTILE, "focus": "Seize criminal assets", "text": HOSTILE}],
    "lessons_more": 2,
    "alerts": [_ALERT],
    "drills": [{**_ALERT, "code": "RD-4", "all": 130.0}],
    "checkins": {"moments": 5, "expected": 20, "answered": 17, "percent": 85},
    "goals": [
        {
            "partner": HOSTILE,
            "focus": "Roll up networks",
            "description": HOSTILE,
            "done": 3,
            "target": 10,
            "percent": 30,
        }
    ],
}

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "digest_message.json.j2": (_FULL, True),
    "digest_home.json.j2": ({"day": "Every Friday", "time": "15:00"}, False),
}
