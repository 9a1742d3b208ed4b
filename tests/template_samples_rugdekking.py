# Sample contexts for the backup-alert templates (tests/test_templates.py renders each in nl and en).
# HOSTILE is injected by tests/test_templates.py: it goes in every field a person can type.
# ruff: noqa: F821

ALERT = {
    "id": 12,
    "code": "RD-12",
    "drill": True,
    "incident_type": "Threat",
    "seriousness": "High: danger now",
    "level": "HOOG",
    "partner": HOSTILE,
    "reporter": "U0REPORTER",
    "raised_at": "2026-11-28T14:00:00+00:00",
    "safety": "HULP_NODIG",
    "closed_at": None,
    "closed_by": None,
}
CLOSED = {
    **ALERT,
    "drill": False,
    "reporter": None,
    "closed_at": "2026-11-28T15:00:00+00:00",
    "closed_by": "U0COORD01",
}
BOARD_PARTNERS = [
    {
        "name": HOSTILE,
        "acknowledged_by": "U0POL00001",
        "acknowledged_at": "2026-11-28T14:01:10+00:00",
        "after": 70.0,
        "gaps": [],
        "round1": ["Extra surveillance"],
        "round2": ["Fast-track prosecution"],
    },
    *[
        {
            "name": f"Gemeente {i}",
            "acknowledged_by": None,
            "acknowledged_at": None,
            "after": None,
            "gaps": ["channel", "duty", "lead"],
            "round1": [],
            "round2": [],
        }
        for i in range(24)
    ],
]
BOARD = {
    "alert": ALERT,
    "partners": BOARD_PARTNERS,
    "escalations": [
        "2026-11-28T14:02:00+00:00",
        "2026-11-28T14:05:00+00:00",
        "2026-11-28T14:10:00+00:00",
    ],
    "figures": {"first": 70.0, "all": None, "acknowledged": 1, "total": 25},
}
TYPES = [("BEDREIGING", "Threat"), ("OVERIG", "Other")]
LEVELS = [("HOOG", "High: danger now"), ("MIDDEN", "Medium: serious, no danger right now")]
KINDS = [("EXTRA_TOEZICHT", "Extra surveillance"), ("OVERIG", "Another supporting action")]

SAMPLES = {
    "rugdekking_alert.json.j2": (
        {
            "alert": ALERT,
            "to": "channel",
            "role": "channel",
            "partner": HOSTILE,
            "acknowledged_by": "U0POL00001",
            "acknowledged_at": "2026-11-28T14:01:10+00:00",
            "round1": ["Extra surveillance"],
            "round2": [],
        },
        True,
    ),
    "rugdekking_board.json.j2": (BOARD, True),
    "rugdekking_escalation.json.j2": (
        {
            "alert": ALERT,
            "level": 3,
            "minutes": 30.0,
            "partner": HOSTILE,
            "lead": "U0LEAD0001",
            "duty": ["U0DUTY0001"],
        },
        True,
    ),
    "rugdekking_safety_check.json.j2": ({"alert": ALERT}, False),
    "rugdekking_safety_alarm.json.j2": ({"alert": ALERT, "reason": "help", "reporter": "U0REPORTER"}, True),
    "rugdekking_reporter.json.j2": (
        {"alert": CLOSED, "kind": "closed", "partners": 0, "check_at": None},
        False,
    ),
    "rugdekking_gaps.json.j2": (
        {"alert": ALERT, "gaps": [{"partner": HOSTILE, "missing": ["channel", "duty"]}], "no_board": True},
        True,
    ),
    "rugdekking_modal.json.j2": (
        {
            "drill": True,
            "description": HOSTILE,
            "metadata": '{"drill": true}',
            "types": TYPES,
            "levels": LEVELS,
            "default_level": "MIDDEN",
        },
        False,
    ),
    "rugdekking_raised.json.j2": (
        {
            "code": "RD-12",
            "drill": True,
            "partners": 25,
            "joined": False,
            "minutes": 10.0,
            "as_modal": False,
        },
        False,  # nothing typed reaches the reporter's answer (the gaps go to the coordinators)
    ),
    "rugdekking_action_modal.json.j2": (
        {
            "alert": ALERT,
            "partner": HOSTILE,
            "round": 2,
            "recorded": "Extra surveillance",
            "kinds": KINDS,
            "metadata": '{"alert": 12, "round": 2}',
        },
        True,
    ),
    "rugdekking_close_modal.json.j2": (
        {"alert": ALERT, "lesson_only": False, "metadata": '{"alert": 12}'},
        False,
    ),
    "rugdekking_details.json.j2": (
        {
            "alert": ALERT,
            "reporter": "U0REPORTER",
            "description": HOSTILE,
            "place": HOSTILE,
            "summary": HOSTILE,
            "lesson": HOSTILE,
            "actions": [{"partner": HOSTILE, "round": 2, "kind": "Extra surveillance", "note": HOSTILE}],
        },
        True,
    ),
    "rugdekking_figures.json.j2": (
        {
            "items": [
                {
                    "code": "RD-12",
                    "drill": True,
                    "raised_at": "2026-11-28T14:00:00+00:00",
                    "partner": HOSTILE,
                    "incident_type": "Threat",
                    "closed_at": None,
                    "first": 70.0,
                    "all": 4000.0,
                    "acknowledged": 25,
                    "total": 25,
                    "partners": [{"name": HOSTILE, "after": 70.0, "by": "U0POL00001", "via": "sms"}],
                    "ways": [
                        {"way": "chat", "count": 24, "first": 70.0, "last": 4000.0},
                        {"way": "SMS", "count": 1, "first": 600.0, "last": 600.0},
                    ],
                }
            ],
            "detail": True,
        },
        True,
    ),
    "rugdekking_home.json.j2": (
        {
            "boards": [[{"type": "section", "text": {"type": "mrkdwn", "text": "board"}}]],
            "more": 2,
        },
        False,
    ),
}
