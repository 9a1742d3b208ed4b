"""Sample contexts for the /samen partner templates (tests/test_templates.py).

`HOSTILE` is put into this module's namespace by the test: it stands in every field a person can type
(partner names come from a file an admin typed; words from what a coordinator typed).
"""

from typing import Any

from bot.authz import Role
from bot.partners.models import (
    PARTNER_TYPE_LABELS,
    ROLE_LABELS,
    DutyContact,
    Member,
    Partner,
    PartnerType,
    PersonRef,
)
from bot.partners.service import PartnerOverview
from commands.partner import USAGE_CAPACITY, people

_PARTNER = Partner(
    id=1,
    name=HOSTILE,  # noqa: F821
    type=PartnerType.POLITIE,
    capacity=3,
    alert_channel_id="C0ALERT01",
    lead_team_id="T0SAMEN",
    lead_user_id="U0LEAD001",
)
_OVERVIEW = PartnerOverview(
    partner=_PARTNER,
    members=[
        Member(team_id="T0SAMEN", user_id="U0LEAD001", partner_id=1, role=Role.COORDINATOR),
        Member(team_id="T0SAMEN", user_id="U0MEMB001", partner_id=1, role=Role.MEMBER),
    ],
    duty_contacts=[DutyContact(partner_id=1, position=0, team_id="T0SAMEN", user_id="U0LEAD001")],
)
_TWO = people([PersonRef("T0SAMEN", "U0LEAD001"), PersonRef("T0SAMEN", "U0MEMB001")])

SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "partner_list.json.j2": (
        {
            "partners": [_OVERVIEW],
            "type_labels": PARTNER_TYPE_LABELS,
            "role_labels": ROLE_LABELS,
            "people": people,
            "reach": {PersonRef("T0SAMEN", "U0LEAD001"): (HOSTILE, HOSTILE)},  # noqa: F821
        },
        True,
    ),
    "partner_done.json.j2": (
        {"kind": "member_added", "person": _TWO, "partner": HOSTILE, "role": ROLE_LABELS[Role.MEMBER]},  # noqa: F821
        True,
    ),
    "partner_problem.json.j2": (
        {
            "message": "There is no partner called “%(name)s”. The partners are: %(known)s.",
            "values": {"name": HOSTILE, "known": HOSTILE},  # noqa: F821
            "usage": USAGE_CAPACITY,
            "ask": _TWO,
        },
        True,
    ),
    "partner_usage.json.j2": ({"word": HOSTILE}, False),  # noqa: F821  (clipped: the start only)
    "partner_not_a_member.json.j2": ({"coordinators": _TWO}, False),
}
