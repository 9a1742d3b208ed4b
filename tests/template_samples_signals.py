"""Template samples for signals and cases: hostile text (HOSTILE, injected by tests/test_templates.py) in
every field a person can type: summaries, details, identities, reasons, titles, names, search terms."""
# ruff: noqa: F821

from datetime import UTC, datetime

from bot.cases.queue import CaseCard, QueueEntry, ScoreLine
from bot.cases.service import CaseView
from bot.cases.subjects import SubjectView
from bot.pii import KIND_LABELS, Kind
from bot.signals.cards import AssessmentView, HomeOverview, SignalCard, SignalDetail, SubjectRef
from bot.signals.registering import Match
from commands.signals import options

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
SUBJECT = SubjectRef("S-2026-0042", "LOCATIE", "Location", "BETROKKENE", "Involved", new=True)
CARD = SignalCard(
    id=12,
    partner=HOSTILE,
    category="VASTGOED",
    category_label="Real estate",
    focus_label="Disrupt business models",
    status="NIEUW",
    status_label="new, not yet weighed",
    summary=HOSTILE,
    location=HOSTILE,
    subjects=[SUBJECT],
    case_id=3,
    referred_to=HOSTILE,
)
ASSESSMENTS = [
    AssessmentView(
        "ONDERMIJNING", "Is it ondermijning?", "yes", None, None, "ja", None, HOSTILE, "U0RIEC0001", NOW
    ),
    AssessmentView(
        "TAAK",
        "Whose task, on what legal basis?",
        HOSTILE,
        None,
        None,
        "2",
        HOSTILE,
        HOSTILE,
        "U0RIEC0001",
        NOW,
    ),
    AssessmentView(
        "ERNST",
        "How serious, how recent?",
        "4",
        "within the last month",
        "MAAND",
        "4",
        None,
        HOSTILE,
        "U0RIEC0001",
        NOW,
    ),
]
DETAIL = SignalDetail(
    card=CARD,
    created_at=NOW,
    may_see=True,
    own=True,
    details=HOSTILE,
    kept_out={"summary": HOSTILE},
    permalink=HOSTILE,
    reporter_user_id="U0BREDA001",
    shared_with=[HOSTILE],
    assessments=ASSESSMENTS,
    identities={"S-2026-0042": HOSTILE},
    may_weigh=True,
)
HIDDEN = SignalDetail(card=CARD, created_at=NOW, may_see=False, own=False)


def _options(*pairs):
    return options("en", list(pairs), translate=False)  # as the listener makes them


CASE = CaseCard(
    id=3,
    title=HOSTILE,
    lead=HOSTILE,
    focus="OPROLLEN",
    focus_label="Roll up networks",
    status="OPEN",
    status_label="open",
    strategic=True,
    subjects=[SUBJECT],
    partners=[{"name": HOSTILE, "contribution_label": "Strike power"}],
)
LINES = [
    ScoreLine(1, HOSTILE, 3, 5, 4, HOSTILE, "U0RIEC0001"),
    ScoreLine(2, HOSTILE, 1, 5, None, None, None),
]
CONTRIBUTIONS = [("3:SLAGKRACHT", "Strike power"), ("3:INFORMATIEPOSITIE", "Information position")]


class _Criterion:
    name = HOSTILE
    weight = 3
    scale_max = 5


SAMPLES = {
    "signal_modal.json.j2": (
        {
            "summary": HOSTILE,
            "details": HOSTILE,
            "metadata": '{"r": "https://hooks.example/x"}',
            "categories": _options(("DRUGS", "Drugs")),
            "kinds": _options(("LOCATIE", "Location")),
            "roles": _options(("BETROKKENE", "Involved")),
            "focus_elements": _options(("OPROLLEN", "Roll up networks")),
            "partners": _options(("2", HOSTILE)),
            "own_partner": HOSTILE,
        },
        False,  # plain_text fields only: Slack shows them literally, nothing in them can become live
    ),
    "signal_weigh_modal.json.j2": (
        {
            "signal": DETAIL,
            "current": {a.step: a for a in ASSESSMENTS},
            "metadata": '{"s": 12}',
            "verdicts": _options(("ja", "yes"), ("nee", "no")),
            "partners": _options(("2", HOSTILE)),
            "seriousness": _options(("4", "4")),
            "recencies": _options(("MAAND", "within the last month")),
            "outcomes": _options(("CASUS", "Make it a case")),
            "focus_elements": _options(("OPROLLEN", "Roll up networks")),
        },
        True,
    ),
    "signal_registered.json.j2": (
        {
            "signal": CARD,
            "kept_out": [(KIND_LABELS[Kind.BSN], 1), (KIND_LABELS[Kind.PHONE], 2)],
            "matches": [Match("S-2026-0042", (HOSTILE, "Politie"))],
            "announced": True,
        },
        True,
    ),
    "signal_message.json.j2": ({"signal": CARD.as_context()}, True),
    "signal_match.json.j2": (
        {"code": "S-2026-0042", "kind_label": "Location", "partners": [HOSTILE, "Politie"]},
        True,
    ),
    "signal_outcome.json.j2": (
        {
            "signal": CARD.as_context(),
            "outcome": "DOORVERWIJZEN",
            "case_id": None,
            "grant_partner": {"id": 2, "name": HOSTILE},
        },
        True,
    ),
    "signal_referred.json.j2": ({"signal": CARD.as_context(), "has_access": False}, True),
    "signal_access_granted.json.j2": ({"signal": CARD.as_context()}, True),
    "signal_list.json.j2": ({"signals": [CARD], "term": HOSTILE}, True),
    "signal_detail.json.j2": ({"signal": DETAIL}, True),
    "signal_subject.json.j2": (
        {
            "view": SubjectView(
                subject=SUBJECT,
                created_at=NOW,
                described_by=HOSTILE,
                partners=[HOSTILE],
                signals=[CARD],
                cases=[{"id": 3, "title": HOSTILE, "lead": HOSTILE, "status": "OPEN"}],
                may_see_identity=True,
                identity=HOSTILE,
            )
        },
        True,
    ),
    "signal_home.json.j2": (
        {"overview": HomeOverview(partner=HOSTILE, recent=[CARD], to_weigh=[CARD]), "cases": [CASE]},
        True,
    ),
    "case_message.json.j2": (
        {"case": CASE.as_context(), "signal_id": 12, "contributions": CONTRIBUTIONS},
        True,
    ),
    "case_joined.json.j2": (
        {"case_id": 3, "partner": HOSTILE, "contribution_label": "Strike power"},
        True,
    ),
    "case_detail.json.j2": (
        {
            "view": CaseView(
                card=CASE,
                created_at=NOW,
                relation="own",
                rank=1,
                total=72.5,
                lines=LINES,
                signals=[DETAIL, HIDDEN],
                may_score=True,
                may_join=True,
            ),
            "contributions": CONTRIBUTIONS,
        },
        True,
    ),
    "case_queue.json.j2": (
        {
            "entries": [QueueEntry(rank=1, case=CASE, total=72.5, lines=LINES, unscored=1)],
            "count": 3,
            "criteria": [_Criterion()],
        },
        True,
    ),
    "case_criteria.json.j2": (
        {"criteria": [_Criterion()], "changed": {"name": HOSTILE, "change": "added"}, "usage": None},
        True,
    ),
    "case_score_modal.json.j2": ({"case": CASE, "lines": LINES, "metadata": '{"c": 3}'}, False),
}
