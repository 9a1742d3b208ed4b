"""Samples for the privacy templates (tests/test_templates.py injects HOSTILE).

Nothing in these templates is typed by a person: the periods and counts come from settings and the
database. The labels are message ids; a hostile one is shown to prove it would arrive inert all the same.
"""

_PERIODS = [
    {"label": "Signals not taken up (no action, or referred)", "days": 365, "due": 3},
    {"label": "Closed cases (anonymised)", "days": 1825, "due": 0},
    {"label": HOSTILE, "days": 30, "due": 12},  # noqa: F821
]

SAMPLES = {
    # Core: the apology when a form could not be saved (bot/slack/app.py, _handle_error).
    "apology_modal.json.j2": ({"message": HOSTILE}, True),  # noqa: F821
    "privacy_overview.json.j2": ({"periods": _PERIODS, "may_see_due": True, "due": 15, "kept": 2}, True),
    "privacy_home.json.j2": ({"periods": _PERIODS, "may_see_due": True, "due": 15, "kept": 0}, False),
}
