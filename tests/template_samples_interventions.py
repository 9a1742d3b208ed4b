"""Sample contexts for the intervention, goal and lesson templates (tests/test_templates.py).

`HOSTILE` is put into this module's namespace by the test: it stands in every field a person can type.
"""

from typing import Any

IV: dict[str, Any] = {
    "id": 7,
    "code": "I-7",
    "instrument": HOSTILE,  # noqa: F821
    "instrument_type": "Administrative law",
    "focus": "Disrupt business models",
    "partner": HOSTILE,  # noqa: F821
    "owner": "U0OWNER01",
    "round": 1,
    "status": "planned",
    "status_code": "GEPLAND",
    "steps": ["IN_UITVOERING", "UITGEVOERD", "GEANNULEERD"],
    "case_id": 3,
    "case_title": HOSTILE,  # noqa: F821
    "start": "2026-12-01T07:15:00+00:00",
    "end": "2026-12-01T07:45:00+00:00",
    "has_time": True,
}
PROPOSED = {
    **IV,
    "status": "proposed",
    "status_code": "VOORGESTELD",
    "steps": ["TOEGEZEGD", "GEPLAND", "GEANNULEERD"],
}
DAY_ONLY = {**IV, "start": "2026-12-03T23:00:00+00:00", "end": None, "has_time": False}
NO_WINDOW = {**IV, "start": None, "end": None, "has_time": False}
INDEPENDENT = {**PROPOSED, "case_id": None, "case_title": None}  # on no case (issue 20)
ITEM = {"iv": IV, "steps": IV["steps"]}
METADATA = '{"id":7,"what":"Fatima \\u003c!channel\\u003e \\u0026"}'

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "intervention_thread.json.j2": (
        {"iv": IV, "event": "status", "actor": "U0ACTOR01", "reason": HOSTILE, "success": True},  # noqa: F821
        True,
    ),
    "intervention_assigned.json.j2": (
        {
            "iv": PROPOSED,
            "by": "U0ACTOR01",
            "event": "proposed",
            "after": {"code": "I-3", "partner": HOSTILE},  # noqa: F821
        },
        True,
    ),
    "intervention_window.json.j2": ({"iv": IV}, True),
    "intervention_turn.json.j2": (
        {"done": IV, "iv": DAY_ONLY, "by": "U0ACTOR01", "done_at": "2026-12-01T08:00:00+00:00"},
        True,
    ),
    "intervention_success.json.j2": ({"iv": IV}, True),
    "intervention_reminder.json.j2": (
        {"iv": IV, "kind": "overdue", "days_overdue": 2, "stale_days": 14, "to_lead": False},
        True,
    ),
    "intervention_ask.json.j2": (
        {"iv": INDEPENDENT, "by": "U0ACTOR01", "partner": HOSTILE, "contribution": "Strike power"},  # noqa: F821
        True,
    ),
    "intervention_joined.json.j2": (
        {"iv": INDEPENDENT, "by": "U0ACTOR01", "partner": HOSTILE, "contribution": "Strike power"},  # noqa: F821
        True,
    ),
    "intervention_card.json.j2": (
        {
            "iv": IV,
            "steps": IV["steps"],
            "after": {"code": "I-6", "status": "carried out"},
            "joining": [{"partner": HOSTILE, "contribution": "Strike power"}],  # noqa: F821
            "asked": [{"partner": HOSTILE, "contribution": "Information position"}],  # noqa: F821
            "subject": "S-2026-0042",
            "result": HOSTILE,  # noqa: F821
            "effect": HOSTILE,  # noqa: F821
            "reason": HOSTILE,  # noqa: F821
            "changed": False,
        },
        True,
    ),
    "intervention_list.json.j2": (
        {"mine": [ITEM], "partner": [{"iv": NO_WINDOW, "steps": []}], "partner_name": HOSTILE},  # noqa: F821
        True,
    ),
    "intervention_home.json.j2": (
        {"mine": [], "partner": [ITEM], "partner_name": HOSTILE},  # noqa: F821
        True,
    ),
    "intervention_problem.json.j2": (
        {
            "message": "%(partner)s is at its capacity for open interventions (%(count)s of %(capacity)s). "
            "Take on no more than you can finish: finish or call off one of these first.",
            "values": {"partner": HOSTILE, "count": 2, "capacity": 2},  # noqa: F821
            "usage": None,
            "open": [IV],
            "override": '{"id": 7, "to": "TOEGEZEGD", "kind": "capacity"}',
            "plan_round2": "3",
            "ask": None,
        },
        True,
    ),
    "intervention_done.json.j2": (
        {
            "kind": "window_proposed",
            "iv": IV,
            "changed": True,
            "after": None,
            "window": {**IV, "value": METADATA},
        },
        False,
    ),
    "intervention_modal.json.j2": (
        {
            "cases": [{"id": 3, "title": HOSTILE}],  # noqa: F821
            "partners": [{"id": 1, "name": HOSTILE}, {"id": 2, "name": "Politie"}],  # noqa: F821
            "instrument_types": [("BESTUURSRECHTELIJK", "Administrative law"), ("FISCAAL", "Tax")],
            "focus_elements": [("OPROLLEN", "Roll up networks")],
            "contributions": [("SLAGKRACHT", "Strike power")],
            "goals": [{"id": 4, "label": HOSTILE, "focus": "Seize criminal assets"}],  # noqa: F821
            "case_id": 3,
            "round": 2,
            "owner_partner_id": 1,
            "owner": "U0OWNER01",
            "what": HOSTILE,  # noqa: F821
            "day": "2026-12-08",
        },
        False,
    ),
    "intervention_confirm.json.j2": (
        {
            "case_title": HOSTILE,  # noqa: F821
            "case_id": 3,
            "instrument": HOSTILE,  # noqa: F821
            "instrument_type": "Tax",
            "focus": "Seize criminal assets",
            "partner": HOSTILE,  # noqa: F821
            "owner": "U0OWNER01",
            "round": 1,
            "start": "2026-12-01T07:15:00+00:00",
            "end": "2026-12-01T07:45:00+00:00",
            "has_time": True,
            "after": "I-6",
            "joining": [
                {"partner": HOSTILE, "contribution": "Strike power", "asked": False},  # noqa: F821
                {"partner": HOSTILE, "contribution": "Information position", "asked": True},  # noqa: F821
            ],
            "subject": "S-2026-0042",
            "goal": HOSTILE,  # noqa: F821
            "metadata": METADATA,
        },
        True,
    ),
    "intervention_saved.json.j2": ({"iv": IV, "kind": "handed_over", "changed": True}, True),
    "intervention_finish.json.j2": ({"iv": IV, "metadata": METADATA}, True),
    "intervention_reason.json.j2": ({"iv": IV, "kind": "capacity", "metadata": METADATA}, True),
    "intervention_handover.json.j2": ({"iv": IV, "metadata": METADATA}, True),
    "goal_modal.json.j2": (
        {
            "partners": [{"id": 1, "name": HOSTILE}],  # noqa: F821
            "focus_elements": [("AFPAKKEN", "Seize criminal assets")],
            "instrument_types": [("FISCAAL", "Tax")],
            "partner_id": 1,
        },
        False,
    ),
    "goal_list.json.j2": (
        {
            "goals": [
                {
                    "partner": HOSTILE,  # noqa: F821
                    "focus": "Seize criminal assets",
                    "instrument_type": "Tax",
                    "description": HOSTILE,  # noqa: F821
                    "target": 10,
                    "done": 3,
                    "percent": 30,
                }
            ],
            "page": 45,
            "unlisted": 155,
            "year": 2026,
        },
        True,
    ),
    "lesson_list.json.j2": (
        {
            "lessons": [
                {
                    "text": HOSTILE,  # noqa: F821
                    "code": "I-7",
                    "partner": HOSTILE,  # noqa: F821
                    "focus": "Roll up networks",
                    "instrument_type": "Criminal law",
                    "at": "2026-11-20T10:00:00+00:00",
                }
            ],
            "term": HOSTILE,  # noqa: F821
        },
        True,
    ),
}
