"""Cases and the shared work queue: the partners choose criteria together, score cases with reasons, and
the queue shows why each case ranks where it does. No automatic scoring of persons anywhere.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import BotUnderTest
from test_signals import (
    BERT,
    CHANNEL,
    FATIMA,
    HANS,
    MARLEEN,
    ask,
    audit_actions,
    channel_texts,
    click,
    confirmation,
    deliver,
    register,
    set_up,
    snapshot,
    weigh,
)

from bot.partners.models import PersonRef
from slackdouble import visible_text


@pytest.fixture
def slack(bot: BotUnderTest) -> BotUnderTest:
    return set_up(bot)


def make_case(
    bot: BotUnderTest, who: PersonRef, summary: str, lead: str = "2", seriousness: str = "4"
) -> None:
    """A member registers a signal; the RIEC coordinator weighs it into a case led by `lead`."""
    signal = register(bot, who, summary, new_kind="NETWERK", details=f"afgeschermd: {summary}")
    deliver(bot)
    click(bot, FATIMA, "signal_weigh", channel=CHANNEL, value=str(signal.id), expect="views.open")
    weigh(
        bot,
        FATIMA,
        verdict="ja",
        verdict_reason="Past in de focus",
        task_partner=lead,
        legal_basis="Sv",
        task_reason="Opsporing",
        seriousness=seriousness,
        recency="MAAND",
        seriousness_reason="Actueel",
        outcome="CASUS",
        outcome_reason="Gezamenlijk oppakken",
        case_focus="OPROLLEN",
    )
    deliver(bot)


def score(bot: BotUnderTest, who: PersonRef, case_id: int, **fields: Any) -> dict[str, Any] | None:
    click(bot, who, "case_score", value=str(case_id), expect="views.open")
    view = bot.double.last_view("case_score")
    values = {block: {"value": value} for block, value in fields.items()}
    response = bot.driver.view_submission("case_score", values, user=who.user_id, view_id=view["id"])
    assert response.status == 200, response.body
    return response.json() if response.body else None


def test_coordinators_set_the_selection_criteria_and_members_cannot(slack: BotUnderTest) -> None:
    before = snapshot(slack.services.engine)
    refused = ask(slack, HANS, 'criteria "Impact op de wijk" 3 5')
    assert "Alleen een coördinator of beheerder" in refused
    assert snapshot(slack.services.engine) == before
    assert "Criterium “Impact op de wijk” is toegevoegd." in ask(
        slack, FATIMA, 'criteria "Impact op de wijk" 3 5'
    )
    assert "“Impact op de wijk” stond al zo ingesteld." in ask(
        slack, FATIMA, "criteria 'impact op de wijk' 3 5"
    )
    assert "“Impact op de wijk” is gewijzigd." in ask(slack, FATIMA, "criteria Impact op de wijk 2 5")
    ask(slack, FATIMA, "criteria Crimineel vermogen 1 3")
    listed = ask(slack, HANS, "criteria")
    assert "• Impact op de wijk: gewicht 2, schaal 0–5\n• Crimineel vermogen: gewicht 1, schaal 0–3" in listed
    assert "“Crimineel vermogen” telt niet meer mee" in ask(slack, FATIMA, "criteria uit Crimineel vermogen")
    assert "Crimineel vermogen" not in ask(slack, HANS, "criteria")
    assert audit_actions(slack.services.engine)[-1][0] == "criterion.retired"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("criteria Impact 0 5", "Het gewicht is een heel getal van 1 tot en met 10."),
        ("criteria Impact 3 11", "De schaal loopt van 0 tot een heel getal van 1 tot en met 10."),
        ("criteria Impact veel", "Noem het criterium, het gewicht en de schaal."),
        ("criteria uit Onbekend", "Er is geen criterium dat “Onbekend” heet."),
        ("casus 42", "Er is geen casus met nummer 42."),
        ("casus", "Noem het nummer van de casus"),
    ],
)
def test_case_mistakes_are_explained_and_change_nothing(
    slack: BotUnderTest, typed: str, expected: str
) -> None:
    before = snapshot(slack.services.engine)
    assert expected in ask(slack, FATIMA, typed)
    assert snapshot(slack.services.engine) == before


def test_the_work_queue_ranks_cases_by_human_scores_with_their_reasons(slack: BotUnderTest) -> None:
    assert "Geen lopende casussen." in ask(slack, HANS, "werkvoorraad")
    make_case(slack, MARLEEN, "Netwerk rond autobedrijven", lead="3")
    make_case(slack, HANS, "Netwerk rond coffeeshops", lead="2")
    queue = ask(slack, HANS, "werkvoorraad")
    assert "nog geen selectiecriteria" in queue
    assert queue.index("Casus 1") < queue.index("Casus 2")  # without scores, the oldest first

    ask(slack, FATIMA, 'criteria "Impact op de wijk" 3 5')
    ask(slack, FATIMA, 'criteria "Crimineel vermogen" 1 5')
    done = score(
        slack,
        HANS,
        2,
        criterion_1="5",
        reason_1="Drie wijken, veel overlast",
        criterion_2="2",
        reason_2="Beperkt vermogen in beeld",
    )
    assert (
        done is not None
        and "Casus 2 staat nu op plaats 1 in de werkvoorraad, met 85 van de 100."
        in visible_text(done["view"]["blocks"])
    )
    queue = ask(slack, BERT, "werkvoorraad")
    assert (
        "*1. Casus 2*: Netwerk rond coffeeshops · trekker: Politie · Netwerken oprollen · *85 van de 100*"
        in queue
    )
    assert "• Impact op de wijk (×3): 5/5 — Drie wijken, veel overlast" in queue
    assert "*2. Casus 1*" in queue and "• Impact op de wijk (×3): nog niet gescoord" in queue
    assert audit_actions(slack.services.engine)[-1] == (
        "case.scored",
        "scoring a case on the selection criteria",
    )

    before = snapshot(slack.services.engine)
    again = score(
        slack,
        HANS,
        2,
        criterion_1="5",
        reason_1="Drie wijken, veel overlast",
        criterion_2="2",
        reason_2="Beperkt vermogen in beeld",
    )
    assert again is not None and "Er is niets veranderd" in visible_text(again["view"]["blocks"])
    assert snapshot(slack.services.engine) == before


@pytest.mark.parametrize(
    ("fields", "block", "expected"),
    [
        ({"criterion_1": "4"}, "reason_1", "Geef de reden voor deze score"),
        ({"reason_1": "Veel overlast"}, "criterion_1", "Kies een score"),
        ({"criterion_1": "4", "reason_1": "Zie BSN 111222333"}, "reason_1", "burgerservicenummer (BSN)"),
        ({"criterion_1": "9", "reason_1": "Veel"}, "criterion_1", "De score is 0 tot en met 5."),
    ],
)
def test_every_score_has_a_reason_without_personal_data(
    slack: BotUnderTest, fields: dict[str, Any], block: str, expected: str
) -> None:
    make_case(slack, HANS, "Netwerk rond coffeeshops")
    ask(slack, FATIMA, 'criteria "Impact op de wijk" 3 5')
    before = snapshot(slack.services.engine)
    answer = score(slack, HANS, 1, **fields)
    assert answer is not None and answer["response_action"] == "errors"
    assert expected in answer["errors"][block]
    assert snapshot(slack.services.engine) == before


def test_a_partner_without_access_may_not_score(slack: BotUnderTest) -> None:
    make_case(slack, HANS, "Netwerk rond coffeeshops")
    ask(slack, FATIMA, 'criteria "Impact op de wijk" 3 5')
    before = snapshot(slack.services.engine)
    click(slack, BERT, "case_score", value="1")
    assert "hoort bij een andere partner" in confirmation(slack)
    assert snapshot(slack.services.engine) == before


def test_partners_join_a_case_with_what_they_bring(slack: BotUnderTest) -> None:
    make_case(slack, MARLEEN, "Netwerk rond autobedrijven", lead="3")
    click(slack, BERT, "case_join", channel=CHANNEL, value="1:SLAGKRACHT")
    assert "Belastingdienst sluit aan bij casus 1: Slagkracht." in confirmation(slack)
    deliver(slack)
    thread = [m for m in slack.double.messages_in(CHANNEL) if m.get("thread_ts")]
    assert thread and "Belastingdienst sluit aan bij casus 1" in visible_text(thread[-1]["blocks"])
    case_message = next(m for m in slack.double.messages_in(CHANNEL) if "Nieuwe casus 1" in m.get("text", ""))
    assert thread[-1]["thread_ts"] == case_message["ts"]  # in the case's thread

    before = snapshot(slack.services.engine)
    click(slack, BERT, "case_join", channel=CHANNEL, value="1:SLAGKRACHT")
    assert "was al aangesloten" in confirmation(slack)
    assert snapshot(slack.services.engine) == before
    click(slack, MARLEEN, "case_join", channel=CHANNEL, value="1:INFORMATIEPOSITIE")
    assert "Je partner is trekker van casus 1" in confirmation(slack)

    shown = ask(slack, BERT, "casus 1")
    assert "*Casus 1*: Netwerk rond autobedrijven" in shown
    assert "Trekker: Gemeente Breda" in shown and "Aangesloten: Belastingdienst (Slagkracht)" in shown
    # Joining gives no other partner's details: the signal's own sharing decides.
    assert "afgeschermd: Netwerk rond autobedrijven" not in shown
    assert "De details zijn voor Gemeente Breda" in shown
    assert "afgeschermd: Netwerk rond autobedrijven" in ask(slack, MARLEEN, "casus 1")
    assert any("Nieuwe casus 1" in t for t in channel_texts(slack.double))


def test_the_work_queue_in_help_and_in_english(slack: BotUnderTest) -> None:
    help_nl = ask(slack, HANS, "help")
    assert "`/samen werkvoorraad` De gezamenlijke werkvoorraad" in help_nl
    assert "`/samen casus &lt;nummer&gt;`" in help_nl and "`/samen criteria" in help_nl
    assert "`/samen werkvoorraad` The shared work queue" in ask(slack, HANS, "help", locale="en-GB")
    assert "No open cases." in ask(slack, HANS, "werkvoorraad", locale="en-GB")
