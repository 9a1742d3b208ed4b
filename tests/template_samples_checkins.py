"""Sample contexts for the check-in and alignment templates (tests/test_templates.py).

`HOSTILE` is put into this module's namespace by the test: it stands in every field a person can type.
"""

from typing import Any

from bot.checkins.answers import AnswerForm, InterventionChoice
from bot.checkins.service import HomeMoment, HomeOverview, HomeSchedule, ScheduleView

H: str = HOSTILE  # noqa: F821

OPTION_LABELS = {
    "VOORGESTELD": "proposed",
    "TOEGEZEGD": "committed",
    "GEPLAND": "planned",
    "IN_UITVOERING": "in execution",
}
FORM = AnswerForm(
    moment_id=3,
    channel_id="C0CHECKIN",
    closes_at="11:00",
    questions=[H, "What will you do next?"],
    answers=[H, ""],
    ask_partner_need=True,
    partners=[(1, H), (2, "Politie")],
    need_partner_ids=[1],
    need_text=H,
    interventions=[
        InterventionChoice(
            id=7, code="I-7", instrument=H, case_id=3, status="GEPLAND", options=["GEPLAND", "IN_UITVOERING"]
        )
    ],
    answered=True,
)
SCHEDULE = ScheduleView(
    id=2,
    channel_id="C0CHECKIN",
    days=["Monday", "Wednesday"],
    clock="09:00",
    timezone="Europe/Amsterdam",
    include_holidays=True,
    window="2 hours",
    status="active",
    next_at="maandag 30 november 09:00",
    partners=[H, "Politie"],
    people=["U0PERSON1"],
    questions=[H],
)
PROMPT: dict[str, Any] = {
    "moment_id": 3,
    "questions": [H, "What will you do next?"],
    "ask_partner_need": True,
    "closes_at": "11:00",
    "day": "maandag 30 november",
    "zone": "Europe/Amsterdam",
    "people": ["U0PERSON1", "U0PERSON2"],
    "more": 2,
    "answered": 1,
    "expected": 4,
}
BOARD: dict[str, Any] = {
    "alignment_id": 4,
    "code": "S-2026-0042",
    "kind": "Location",
    "topic": H,
    "caller": "U0CALLER1",
    "people": [{"user": "U0CALLER1", "partner": H}, {"user": "U0PERSON2", "partner": "Politie"}],
    "slots": [
        {
            "index": 0,
            "day": "dinsdag 1 december",
            "start": "09:00",
            "end": "09:15",
            "who": ["U0CALLER1"],
            "everyone": False,
        },
        {
            "index": 1,
            "day": "dinsdag 1 december",
            "start": "13:30",
            "end": "13:45",
            "who": ["U0CALLER1", "U0PERSON2"],
            "everyone": True,
        },
    ],
    "agreements": [{"id": 1, "what": H, "owner": "U0PERSON2", "partner": H, "due": "vrijdag 4 december"}],
    "more_agreements": 1,
}

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "checkin_plan_modal.json.j2": (
        {
            "channel": "C0CHECKIN",
            "metadata": '{"c": "C0CHECKIN"}',
            "weekdays": [
                (str(i), d)
                for i, d in enumerate(
                    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
                )
            ],
            "chosen_days": ["0", "1", "2", "3", "4"],
            "clock": "09:00",
            "zones": ["Europe/Amsterdam", "UTC"],
            "zone": "Europe/Amsterdam",
            "questions": [H, "What will you do next?"],
            "partners": [("1", H), ("2", "Politie")],
            "windows": [("60", "1 hour"), ("120", "2 hours")],
            "window": "120",
        },
        False,
    ),
    "checkin_prompt.json.j2": ({**PROMPT, "closed": False}, True),
    "checkin_answer_modal.json.j2": (
        {"form": FORM, "metadata": '{"m": 3}', "status_labels": OPTION_LABELS},
        False,
    ),
    "checkin_answer.json.j2": (
        {
            "person": "U0PERSON1",
            "partner": H,
            "items": [{"q": H, "a": H}],
            "needs": [H, "Politie"],
            "need_text": H,
            "interventions": [{"code": "I-7", "status": "planned"}],
            "edited": True,
        },
        True,
    ),
    "checkin_reminder.json.j2": ({"moment_id": 3, "channel": "C0CHECKIN", "closes_at": "11:00"}, False),
    "checkin_summary.json.j2": (
        {
            "groups": [{"partner": H, "answered": ["U0PERSON1"], "silent": ["U0PERSON2"]}],
            "needs": [
                {"person": "U0PERSON1", "partner": H, "needed": H, "contacts": ["U0PERSON3"], "what": H}
            ],
            "answered": 1,
            "expected": 2,
            "reason": "coordinator",
            "closed_by": "U0PERSON3",
        },
        True,
    ),
    "checkin_list.json.j2": ({"schedules": [SCHEDULE]}, True),
    "checkin_home.json.j2": (
        {
            "overview": HomeOverview(
                open=[HomeMoment(3, "C0CHECKIN", "maandag 30 november 11:00", True)],
                upcoming=[HomeSchedule("C0CHECKIN", "maandag 7 december 09:00")],
            )
        },
        False,
    ),
    "alignment_invite.json.j2": (
        {
            "alignment_id": 4,
            "code": "S-2026-0042",
            "kind": "Location",
            "topic": H,
            "caller": "U0CALLER1",
            "caller_partner": H,
            "partner": H,
        },
        True,
    ),
    "alignment_joined.json.j2": (
        {"alignment_id": 4, "code": "S-2026-0042", "person": "U0PERSON2", "partner": H, "started": False},
        True,
    ),
    "alignment_group.json.j2": (BOARD, True),
    "alignment_agreement_modal.json.j2": ({"owner": "U0PERSON1", "metadata": '{"a": 4}'}, False),
}
SAMPLES["checkin_prompt.json.j2"] = ({**PROMPT, "closed": False}, True)
