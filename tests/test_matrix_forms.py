"""Samen's real forms (templates/*_modal.json.j2) asked as a guided conversation (bot/matrix/forms.py): the
answers reach the listeners as the `view_submission` Slack would send, read back by the same `Form`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts.models import SERIOUSNESS_LABELS, Seriousness
from bot.checkins import service as checkins
from bot.checkins import timing
from bot.interventions.dates import window_from_pickers
from bot.matrix.forms import Conversation, has_questions
from bot.render import Renderer
from bot.slack.chat import incoming
from bot.slack.interaction import Form
from bot.vocabulary import (
    CATEGORY_LABELS,
    CONTRIBUTION_LABELS,
    FOCUS_LABELS,
    INCIDENT_TYPE_LABELS,
    INSTRUMENT_TYPE_LABELS,
    SUBJECT_KIND_LABELS,
    SUBJECT_ROLE_LABELS,
    FocusElement,
    IncidentType,
    InstrumentType,
    SignalCategory,
    SubjectKind,
    SubjectRole,
)
from commands.intervention_forms import label_options
from commands.signals import options

RENDERER = Renderer()
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday
ZONE = ZoneInfo("Europe/Amsterdam")
HOSTILE = "<!channel> & <@U0EVIL|boss>"


def raise_form(language: str = "nl") -> dict[str, Any]:
    """The backup form exactly as commands/rugdekking.py opens it."""
    view: dict[str, Any] = RENDERER.render(
        "rugdekking_modal.json.j2",
        language,
        drill=False,
        description="",
        metadata='{"drill":false,"description":""}',
        types=list(INCIDENT_TYPE_LABELS.items()),
        levels=list(SERIOUSNESS_LABELS.items()),
        default_level=Seriousness.MIDDEN.value,
    )
    return view


def signal_form(language: str = "en") -> dict[str, Any]:
    """The registration form as commands/signals.py renders it (partners from the database stand in)."""
    view: dict[str, Any] = RENDERER.render(
        "signal_modal.json.j2",
        language,
        summary="",
        details="",
        metadata="{}",
        categories=options(language, [(c.value, CATEGORY_LABELS[c]) for c in SignalCategory]),
        kinds=options(language, [(k.value, SUBJECT_KIND_LABELS[k]) for k in SubjectKind]),
        roles=options(language, [(r.value, SUBJECT_ROLE_LABELS[r]) for r in SubjectRole]),
        focus_elements=options(language, [(f.value, FOCUS_LABELS[f]) for f in FocusElement]),
        partners=options(language, [("2", HOSTILE), ("3", "Belastingdienst")], translate=False),
        own_partner="Gemeente",
    )
    return view


def intervention_form(language: str = "nl") -> dict[str, Any]:
    view: dict[str, Any] = RENDERER.render(
        "intervention_modal.json.j2",
        language,
        cases=[{"id": 3, "title": "Bedrijventerrein Noord"}],
        partners=[{"id": 1, "name": "Gemeente"}, {"id": 2, "name": "Politie"}],
        goals=[],
        instrument_types=label_options(INSTRUMENT_TYPE_LABELS),
        focus_elements=label_options(FOCUS_LABELS),
        contributions=label_options(CONTRIBUTION_LABELS)[:1],
        case_id=None,
        round=1,
        owner_partner_id=1,
        owner="@karin:example.nl",
        what=None,
        day=None,
    )
    return view


def plan_form(language: str = "nl") -> dict[str, Any]:
    view: dict[str, Any] = RENDERER.render(
        "checkin_plan_modal.json.j2",
        language,
        channel="!partners:example.nl",
        metadata="{}",
        weekdays=[(str(d), label) for d, label in enumerate(checkins.WEEKDAY_LABELS)],
        chosen_days=[str(d) for d in sorted(checkins.DEFAULT_WEEKDAYS)],
        clock=checkins.DEFAULT_CLOCK,
        zones=list(timing.ZONES),
        zone="Europe/Amsterdam",
        questions=checkins.default_questions(language),
        partners=[("1", "Gemeente"), ("2", "Politie")],
        windows=[(str(minutes), label) for minutes, label in checkins.WINDOWS.items()],
        window=str(checkins.DEFAULT_WINDOW),
    )
    return view


def conversation(view: dict[str, Any], language: str) -> Conversation:
    return Conversation(view, language=language, now=lambda: NOW)


def shown(content: dict[str, Any]) -> str:
    """Everything a question shows, as one text."""
    texts: list[str] = []
    for block in content["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(e.get("text", "") for e in block["elements"])
    return "\n".join(texts)


def walk(form: Conversation, answers: list[str]) -> None:
    """Answer the next questions in turn; every answer must be taken."""
    for reply in answers:
        assert not form.done
        form.question()
        problem = form.answer(reply)
        assert problem is None, (reply, problem)


def test_the_backup_form_is_asked_and_read_back_as_the_listener_reads_it() -> None:
    form = conversation(raise_form("nl"), "nl")
    first = shown(form.question())
    assert "*Rugdekking vragen*" in first, "the title, once"
    assert "112" in first, "the explanation before the first question"
    assert "Vraag 1 van 6" in first
    assert "1. Bedreiging" in first and "6. Overig" in first
    assert "Typ het nummer van je keuze." in first and "Typ stop om het formulier te annuleren." in first

    problem = form.answer("7")
    assert problem is not None and "1 tot en met 6" in problem
    assert "Rugdekking vragen" not in shown(form.question()), "the title is shown once"
    assert form.answer("geweld") is None, "a choice may be typed as it reads"

    level = shown(form.question())
    assert "Nu: Midden" in level and "Typ . om dat te houden." in level
    assert form.answer(".") is None  # the form's initial choice stays

    safe = shown(form.question())
    assert "(niet verplicht)" in safe and "Typ - om deze vraag over te slaan." in safe
    assert form.answer("-") is None

    assert "meerdere regels" in shown(form.question())
    assert form.answer("Man bij de poort\nzwarte auto") is None
    problem = form.answer("x" * 201)
    assert problem is not None and "200" in problem and "201" in problem
    assert form.answer("  Bedrijventerrein   Noord ") is None
    walk(form, ["1"])

    values = Form(form.state_values())
    assert values.enum("rd_type", IncidentType) == IncidentType.GEWELD
    assert values.enum("rd_level", Seriousness) == Seriousness.MIDDEN
    assert values.choice("rd_safe") is None
    assert values.text("rd_description") == "Man bij de poort\nzwarte auto"
    assert values.text("rd_place") == "Bedrijventerrein Noord"
    assert values.choices("rd_name") == ["show"]
    assert set(form.state_values()) == {
        "rd_type",
        "rd_level",
        "rd_safe",
        "rd_description",
        "rd_place",
        "rd_name",
    }
    assert form.state_values()["rd_type"] == {
        "type": {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "Geweld"}, "value": "GEWELD"},
        }
    }


def test_the_submission_is_the_body_slack_sends() -> None:
    form = conversation(raise_form("en"), "en")
    walk(form, ["1", "1", "2", "-", "-", "-"])
    body = form.submission(user_id="@anne:example.nl", team_id="example.nl", view_id="V1", trigger_id="T1")
    assert body["type"] == "view_submission"
    assert body["view"]["callback_id"] == "rugdekking_raise"
    assert json.loads(body["view"]["private_metadata"]) == {"drill": False, "description": ""}
    assert body["view"]["id"] == "V1" and body["trigger_id"] == "T1"
    assert body["user"]["locale"] == "en-GB"
    seen = incoming(body)  # what the chat seam makes of a Slack request
    assert (seen.kind, seen.name, seen.user_id, seen.team_id) == (
        "view",
        "rugdekking_raise",
        "@anne:example.nl",
        "example.nl",
    )
    assert seen.values == form.state_values()
    read = Form(form.state_values())
    assert read.choice("rd_safe") == "no"
    assert read.choices("rd_name") == []
    assert "trigger_id" not in form.submission(user_id="@a:b", team_id="b", view_id="V2")


def test_the_signal_form_refuses_a_skipped_required_field_and_keeps_unticked_boxes() -> None:
    form = conversation(signal_form("en"), "en")
    problem = form.answer("-")
    assert problem == "This question needs an answer: it cannot be skipped."
    assert form.answer("Cash deliveries at night") is None
    category = shown(form.question())
    assert "Question 2 of" in category and "1. " in category
    first_category = Form(form.state_values()).choice("category")
    assert first_category is None
    assert form.answer("1") is None
    # subject codes, new kind, identity: skipped; the role keeps its initial choice
    walk(form, ["-", "-", "-", ".", "-", "-", "-"])
    share = shown(form.question())
    assert "1. @channel &amp; @boss" in share, "a partner's name is shown inert"
    assert "<" not in share
    assert "Type the numbers of your choices" in share
    assert form.answer("1, 2, 9") == "Type numbers from 1 to 2, e.g. 1, 3."
    assert form.answer("2 1") is None
    coordinators = shown(form.question())
    assert "Now: The coordinators may see the details" in coordinators
    walk(form, ["-"])

    values = Form(form.state_values())
    assert values.text("summary") == "Cash deliveries at night"
    assert values.enum("category", SignalCategory) == next(iter(SignalCategory))
    assert values.enum("new_kind", SubjectKind) is None
    assert values.enum("subject_role", SubjectRole) == list(SUBJECT_ROLE_LABELS)[-1]
    assert values.text("details") is None
    assert values.choices("share") == ["2", "3"]
    # as submit_registration reads it: unticked, and the field was in the form
    assert "yes" not in values.choices("coordinators") and "coordinators" in values.values


def test_the_intervention_form_reads_days_times_and_people() -> None:
    form = conversation(intervention_form("nl"), "nl")
    assert form.answer(".") is None  # on no case, as the form starts
    assert form.answer("1") is None
    assert form.answer("Sluiting pand (art. 13b Opiumwet)") is None
    walk(form, ["-", "-", "-", "."])  # goal, focus element, subject; the owner partner kept

    owner = shown(form.question())
    assert "Nu: @karin:example.nl" in owner and "@naam:server" in owner
    assert form.answer("Anne") == "Noem één persoon, bijv. @anne:example.nl."
    assert form.answer("@anne:example.nl en @bram:example.nl") is not None
    assert form.answer("https://matrix.to/#/%40anne%3Aexample.nl") is None
    assert form.answer("3") is None  # the round

    day = shown(form.question())
    assert "dd-mm-jjjj" in day
    assert form.answer("31-02-2027") == "“31-02-2027” is geen dag. Typ die als dd-mm-jjjj, bijv. 24-12-2026."
    problem = form.answer("blauw")
    assert problem is not None and "blauw" in problem
    assert form.answer("morgen") is None
    assert form.answer("25:00") == "“25:00” is geen tijd. Typ die als uu:mm, bijv. 09:30."
    assert form.answer("9.30") is None
    assert form.answer("10u") is None
    walk(form, ["-", "1 2"])

    values = Form(form.state_values())
    assert values.choice("case") == "none"
    assert values.enum("instrument_type", InstrumentType) == next(iter(InstrumentType))
    assert values.choice("owner") == "@anne:example.nl"
    assert values.number("round") == 3
    assert values.number("owner_partner") == 1
    assert (values.choice("window_day"), values.choice("window_from"), values.choice("window_to")) == (
        "2026-12-08",
        "09:30",
        "10:00",
    )
    window = window_from_pickers(
        values.choice("window_day"),
        values.choice("window_from"),
        values.choice("window_to"),
        now=NOW,
        zone=ZONE,
    )
    assert window is not None and window.has_time
    joining = next(b for b in form.state_values() if b.startswith("joining_"))
    assert values.choices(joining) == ["1", "2"]


def test_the_check_in_plan_takes_ranges_and_several_people() -> None:
    form = conversation(plan_form("nl"), "nl")
    days = shown(form.question())
    assert "Nu: Maandag, Dinsdag" in days or "Nu: maandag, dinsdag" in days
    assert form.answer("1-3, 5") is None
    walk(form, ["-", "8:15", ".", ".", "-"])  # holidays, time, zone, questions, partner question
    walk(form, ["2"])  # partners
    people = shown(form.question())
    assert "@naam:server" in people
    assert form.answer("niemand") is not None
    assert form.answer("@anne:example.nl, @bram:example.nl @anne:example.nl") is None
    walk(form, ["."])  # the window

    values = Form(form.state_values())
    assert values.choices("days") == ["0", "1", "2", "4"]
    assert values.choices("holidays") == []
    assert values.choice("time") == "08:15"
    assert values.choice("zone") == "Europe/Amsterdam"
    assert values.text("questions") == "\n".join(checkins.default_questions("nl"))
    assert values.choices("partner_question") == []
    assert values.choices("partners") == ["2"]
    assert values.choices("people") == ["@anne:example.nl", "@bram:example.nl"]
    assert values.number("window") == checkins.DEFAULT_WINDOW


@pytest.mark.parametrize("word", ["stop", "Stop", "STOP.", " annuleer ", "Cancel!", "annuleren"])
def test_stop_cancels(word: str) -> None:
    assert conversation(raise_form(), "nl").cancelled(word)


@pytest.mark.parametrize("word", ["stoppen", "1", "-", "", "stop het"])
def test_other_answers_do_not_cancel(word: str) -> None:
    assert not conversation(raise_form(), "nl").cancelled(word)


def test_the_listeners_errors_reopen_the_fields_they_name() -> None:
    form = conversation(raise_form("nl"), "nl")
    walk(form, ["1", ".", "1", "-", "<b>Poort</b>", "-"])
    form.reopen_with_errors({"rd_place": "Te vaag: noem de straat.", "rd_type": "Kies opnieuw."})
    assert not form.done
    again = shown(form.question())
    assert "⚠️ Kies opnieuw." in again and "Vraag 1 van 6" in again
    assert "Rugdekking vragen" not in again and "112" not in again, "the introduction is not repeated"
    assert form.answer(".") is None  # keeps Bedreiging
    place = shown(form.question())
    assert "⚠️ Te vaag: noem de straat." in place and "Vraag 5 van 6" in place
    assert "Nu: &lt;b&gt;Poort&lt;/b&gt;" in place, "what the person wrote is shown inert"
    assert form.answer("Stationsstraat") is None
    assert form.done

    values = Form(form.state_values())
    assert values.enum("rd_type", IncidentType) == IncidentType.BEDREIGING
    assert values.text("rd_place") == "Stationsstraat"
    assert values.choice("rd_safe") == "yes"


def test_an_error_on_no_field_of_the_form_asks_it_all_again() -> None:
    form = conversation(raise_form("en"), "en")
    walk(form, ["1", ".", "-", "-", "-", "-"])
    form.reopen_with_errors({"elsewhere": "Something changed <meanwhile>."})
    first = shown(form.question())
    assert "⚠️ Something changed &lt;meanwhile&gt;." in first
    walk(form, [".", ".", "-", "-", "-", "-"])
    assert Form(form.state_values()).enum("rd_type", IncidentType) == IncidentType.BEDREIGING


def test_a_view_without_input_blocks_is_information() -> None:
    info = RENDERER.render("info_modal.json.j2", "nl", title="Samen", blocks=[])
    assert not has_questions(info)
    assert has_questions(raise_form())
    empty = Conversation(info, language="nl")
    assert empty.done and empty.state_values() == {}


NUMBERS: dict[str, Any] = {
    "type": "modal",
    "callback_id": "numbers",
    "title": {"type": "plain_text", "text": "Numbers"},
    "blocks": [
        {
            "type": "input",
            "block_id": "count",
            "label": {"type": "plain_text", "text": "How many?"},
            "element": {
                "type": "number_input",
                "action_id": "n",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": "10",
            },
        },
        {
            "type": "input",
            "block_id": "share",
            "optional": True,
            "label": {"type": "plain_text", "text": "Share"},
            "element": {"type": "number_input", "action_id": "n", "is_decimal_allowed": True},
        },
        {
            "type": "input",
            "block_id": "pick",
            "label": {"type": "plain_text", "text": "Pick two"},
            "element": {
                "type": "multi_static_select",
                "action_id": "m",
                "max_selected_items": 2,
                "option_groups": [
                    {
                        "label": {"type": "plain_text", "text": "A"},
                        "options": [
                            {"text": {"type": "plain_text", "text": "one"}, "value": "1"},
                            {"text": {"type": "plain_text", "text": "two"}, "value": "2"},
                        ],
                    },
                    {
                        "label": {"type": "plain_text", "text": "B"},
                        "options": [{"text": {"type": "plain_text", "text": "three"}, "value": "3"}],
                    },
                ],
            },
        },
    ],
}


def test_numbers_and_limits() -> None:
    form = conversation(NUMBERS, "en")
    assert "From 1 to 10." in shown(form.question())
    assert form.answer("11") == "From 1 to 10."
    assert form.answer("2,5") == "Type a whole number."
    assert form.answer("4") is None
    assert form.answer("2,5") is None
    assert "Choose at most 2 options." in shown(form.question())
    assert "3. three" in shown(form.question())
    assert form.answer("1-3") == "At most 2 choices; you chose 3. Choose fewer."
    assert form.answer("3 1") is None
    values = Form(form.state_values())
    assert values.number("count") == 4
    assert values.text("share") == "2.5"
    assert values.choices("pick") == ["1", "3"]


FORMS = [raise_form("nl"), signal_form("en"), intervention_form("nl"), plan_form("en"), NUMBERS]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies=st.lists(st.text(max_size=400), min_size=1, max_size=25), which=st.integers(0, len(FORMS) - 1))
def test_no_answer_crashes_a_form(replies: list[str], which: int) -> None:
    form = conversation(FORMS[which], "nl")
    for reply in replies:
        if form.done:
            break
        content = form.question()
        assert content["blocks"] and all(
            len(b.get("text", {}).get("text", "")) <= 3000 for b in content["blocks"]
        )
        problem = form.answer(reply)
        assert problem is None or (isinstance(problem, str) and problem)
    Form(form.state_values())  # still Slack's shape
    json.dumps(form.submission(user_id="@a:b", team_id="b", view_id="V"))
