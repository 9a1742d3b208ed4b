"""Rugdekking: "Een aanval op één partner, is een aanval op allemaal."

Read like the booklet: a wethouder of Gemeente Breda is intimidated at home after a closure and asks for
backup; every partner is alerted at once, every partner acknowledges, the silent are escalated, the
wethouder is asked whether they are safe, the partners record what they do, the coordinator closes it.
Everything goes through signed requests and the Slack double; the outbox is run as a worker runs it.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from harness import Partnership
from rugdekking_support import (
    BOARD,
    BREDA_CHANNEL,
    FATIMA,
    HANS,
    ILSE,
    MARLEEN,
    OMAR,
    POLITIE_CHANNEL,
    RIEC_CHANNEL,
    SETUP,
    STRANGER,
    WETHOUDER,
    all_texts,
    click,
    deliver,
    dms_to,
    outbox_rows,
    raise_with_form,
    submit_form,
    text_of,
    the_alert,
)
from sqlalchemy import text
from sqlmodel import select

from bot.alerts.models import BackupAlert, SafetyState, Seriousness, SupportAction
from bot.audit import verify
from bot.partners.models import PersonRef
from bot.vocabulary import IncidentType
from slackdouble import visible_text
from slackdouble.blockkit import check_message_blocks

DESCRIPTION = "VERTROUWELIJK: twee mannen stonden bij mijn huis na de sluiting van de woning."
PLACE = "VERTROUWELIJK thuis, Breda-Noord"


pytestmark = pytest.mark.partnership(**SETUP)


@pytest.fixture
def slack(partnership: Partnership) -> Partnership:
    return partnership


@pytest.fixture
def slack_on(partnership_on: Partnership) -> Partnership:
    """The same, on SQLite and on PostgreSQL."""
    return partnership_on


def ask(bot: Partnership, who: PersonRef, text: str = "", command: str = "/rugdekking", **kwargs: Any) -> str:
    """Type a command as `who`; the answer must be ephemeral, valid Block Kit; return its text."""
    answer = bot.person(who, **kwargs).say(text, command=command)
    assert answer["response_type"] == "ephemeral"
    assert check_message_blocks(answer["blocks"]) == []
    return visible_text(answer["blocks"])


def answered(bot: Partnership, count: int = 1) -> str:
    """What the bot answered through the response_url (after a click): the `count`-th answer's text."""
    calls = bot.double.wait_for("response_url", count=count)
    return visible_text(calls[count - 1].args.get("blocks") or [])


def board(bot: Partnership) -> str:
    messages = bot.double.messages_in(BOARD)
    assert len(messages) == 1, "the board is one message, updated in place"
    return text_of(messages[0])


def audit_actions(bot: Partnership) -> list[str]:
    with bot.services.engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT action FROM audit_entry ORDER BY seq"))]


def everyone_acknowledges(bot: Partnership) -> None:
    click(bot, "rugdekking_ack", HANS, channel=POLITIE_CHANNEL)
    click(bot, "rugdekking_ack", MARLEEN, channel=MARLEEN.user_id)
    click(bot, "rugdekking_ack", FATIMA, channel=RIEC_CHANNEL)
    click(bot, "rugdekking_ack", OMAR, channel=OMAR.user_id)


# --- raising: reach everyone, at once -------------------------------------------------------------


def test_the_wethouder_asks_for_backup_and_every_partner_is_alerted_at_once(slack_on: Partnership) -> None:
    bot = slack_on
    answer = raise_with_form(bot, text="na de sluiting", description=DESCRIPTION, place=PLACE)
    assert answer["response_action"] == "update"
    assert "Rugdekking RD-1 is verstuurd: alle 4 partners worden nu gealarmeerd" in visible_text(
        answer["view"]
    )
    assert "Direct gevaar: bel 112." in visible_text(answer["view"])
    # The threatened reporter is not told the partnership's setup gaps: the coordinators are (below).
    assert "alarmkanaal" not in visible_text(answer["view"])
    assert "Over 10 minuten vraag ik of je veilig bent." in visible_text(answer["view"])
    # The web process sent nothing itself: every message is an outbox row, committed with the alert.
    assert bot.double.calls_to("chat.postMessage") == []
    alert = the_alert(bot)
    assert (alert.incident_type, alert.seriousness, alert.safety) == (
        IncidentType.INTIMIDATIE,
        Seriousness.HOOG,
        SafetyState.VEILIG,
    )
    assert alert.description == f"na de sluiting\n{DESCRIPTION}"

    deliver(bot)
    assert "*Gemeente Breda* vraagt alle partners om rugdekking" in board(bot)
    assert board(bot).count("⏳") == 4
    for channel in (BREDA_CHANNEL, POLITIE_CHANNEL, RIEC_CHANNEL):
        [posted] = bot.double.messages_in(channel)
        shown = text_of(posted)
        assert "Rugdekking RD-1" in shown and "Ontvangen" in shown and "Details bekijken" in shown
        # docs/domain.md rule 7: the partner, not the person; never the description or the place.
        assert WETHOUDER.user_id not in json.dumps(posted)
        assert "mannen" not in shown and "Breda-Noord" not in shown
    # Duty contacts by DM; the OM has no alert channel and no duty contacts: its members instead.
    for person in (MARLEEN, HANS, FATIMA, OMAR):
        assert "Rugdekking RD-1" in all_texts(dms_to(bot, person)), person
    assert dms_to(bot, ILSE) == []
    assert "dienstdoende van *Politie Zeeland-West-Brabant*" in all_texts(dms_to(bot, HANS))
    assert "deelnemer van *Openbaar Ministerie*, dat geen alarmkanaal" in all_texts(dms_to(bot, OMAR))
    # The coordinators are told the gap.
    assert "*Openbaar Ministerie*: geen alarmkanaal, geen dienstdoenden, geen trekker" in all_texts(
        dms_to(bot, FATIMA)
    )
    # The reporter gets a confirmation, not the alert itself.
    reporter = all_texts(dms_to(bot, WETHOUDER))
    assert "Je rugdekking RD-1 is naar 4 partners gestuurd" in reporter
    assert "Ontvangen" not in reporter

    # Restricted: sealed at rest, and in no outbox row.
    with bot.services.engine.connect() as connection:
        stored = connection.execute(text("SELECT description, place, reporter FROM backup_alert")).one()
    assert not any("VERTROUWELIJK" in value or "U0BREDA001" in value for value in stored)
    assert not any("VERTROUWELIJK" in (row.args + (row.context or "")) for row in outbox_rows(bot))
    assert "backup_alert.raised" in audit_actions(bot)
    with bot.services.session() as session:
        assert verify(session).ok


def test_the_broadcast_names_the_reporter_only_when_they_choose_so(slack: Partnership) -> None:
    raise_with_form(slack, show_name=True)
    deliver(slack)
    [posted] = slack.double.messages_in(POLITIE_CHANNEL)
    assert "<@U0BREDA001> van *Gemeente Breda* vraagt alle partners om rugdekking." in text_of(posted)


def test_rugdekking_nu_alerts_at_once_and_a_second_within_a_minute_joins_the_first(
    slack: Partnership,
) -> None:
    first = ask(slack, WETHOUDER, "nu auto volgt mij")
    assert "Rugdekking RD-1 is verstuurd" in first
    second = ask(slack, WETHOUDER, "nu staat nu voor de deur")
    assert "Je vroeg minder dan een minuut geleden al om rugdekking (RD-1)" in second
    alert = the_alert(slack)
    assert (alert.incident_type, alert.seriousness) == (IncidentType.OVERIG, Seriousness.HOOG)
    assert alert.description == "auto volgt mij\n—\nstaat nu voor de deur"
    deliver(slack)
    for channel in (BREDA_CHANNEL, POLITIE_CHANNEL, RIEC_CHANNEL):
        assert len(slack.double.messages_in(channel)) == 1  # nobody alerted twice
    assert len([m for m in dms_to(slack, HANS) if "Rugdekking RD-1" in text_of(m)]) == 1


def test_a_double_submitted_form_raises_one_alert(slack: Partnership) -> None:
    raise_with_form(slack)
    rows = len(outbox_rows(slack))
    view = slack.double.last_view("rugdekking_raise")
    again = submit_form(slack, view, description="nog een keer")
    assert "Rugdekking RD-1 is verstuurd" in visible_text(again["view"])
    the_alert(slack)
    assert len(outbox_rows(slack)) == rows


def test_the_shortcut_opens_the_same_form(slack: Partnership) -> None:
    response = slack.driver.shortcut("rugdekking_vragen", user=HANS.user_id, team=HANS.team_id)
    assert response.status == 200
    slack.double.wait_for("views.open")
    view = slack.double.last_view("rugdekking_raise")
    assert view["title"]["text"] == "Rugdekking vragen"
    submit_form(slack, view, HANS, incident="BEDREIGING", level="MIDDEN", safe=None)
    alert = the_alert(slack)
    assert alert.incident_type is IncidentType.BEDREIGING and alert.safety is SafetyState.ONBEKEND


def test_only_members_can_ask_for_backup(slack: Partnership) -> None:
    answer = ask(slack, STRANGER, "nu help")
    assert (
        "Je bent (nog) geen deelnemer van het samenwerkingsverband. Vraag een coördinator: <@U0RIEC0001>"
        in answer
    )
    assert "Je bent (nog) geen deelnemer" in ask(slack, STRANGER, "")
    assert slack.double.calls_to("views.open") == []
    slack.driver.shortcut("rugdekking_vragen", user=STRANGER.user_id, team=STRANGER.team_id)
    [opened] = slack.double.wait_for("views.open")
    assert "Je bent (nog) geen deelnemer" in visible_text(opened.args["view"])
    with slack.services.session() as session:
        assert session.exec(select(BackupAlert)).all() == []
    assert outbox_rows(slack) == []


def test_a_form_without_what_happened_is_sent_back_with_the_field_marked(slack: Partnership) -> None:
    slack.driver.command("/rugdekking", "", user=WETHOUDER.user_id, team=WETHOUDER.team_id)
    slack.double.wait_for("views.open")
    answer = submit_form(slack, slack.double.last_view("rugdekking_raise"), incident=None)
    assert answer == {"response_action": "errors", "errors": {"rd_type": "Kies wat er gebeurde."}}
    too_long = "x" * 300
    slack.driver.command("/rugdekking", too_long, user=WETHOUDER.user_id, team=WETHOUDER.team_id)
    slack.double.wait_for("views.open", count=2)
    answer = submit_form(slack, slack.double.last_view("rugdekking_raise"), description="y" * 300)
    assert answer["errors"] == {
        "rd_description": "De omschrijving mag hoogstens 500 tekens lang zijn (nu 601)."
    }
    with slack.services.session() as session:
        assert session.exec(select(BackupAlert)).all() == []


# --- every partner acknowledges; the board is updated in place -------------------------------------


def test_every_partner_acknowledges_and_the_board_is_updated_in_place(slack_on: Partnership) -> None:
    from prometheus_client import REGISTRY

    def observed() -> float:
        return REGISTRY.get_sample_value("samen_backup_alert_ack_seconds_count", {"drill": "false"}) or 0.0

    before = observed()
    bot = slack_on
    raise_with_form(bot, level="MIDDEN")
    deliver(bot)
    board_ts = bot.double.messages_in(BOARD)[0]["ts"]

    click(bot, "rugdekking_ack", HANS, channel=POLITIE_CHANNEL)
    assert "Bevestigd voor *Politie Zeeland-West-Brabant*: de escalatie stopt." in answered(bot)
    deliver(bot)
    assert "✅ *Politie Zeeland-West-Brabant* — <@U0POL00001>" in board(bot)
    [updated] = bot.double.messages_in(POLITIE_CHANNEL)
    assert "Ontvangen voor *Politie Zeeland-West-Brabant* door <@U0POL00001>" in text_of(updated)
    assert all(
        e.get("action_id") != "rugdekking_ack" for b in updated["blocks"] for e in b.get("elements", [])
    )

    # Clicked again (his DM still has the button): nothing changes, nothing is logged twice.
    entries = len(audit_actions(bot))
    click(bot, "rugdekking_ack", HANS, channel=HANS.user_id)
    assert "RD-1 was al bevestigd voor *Politie Zeeland-West-Brabant* door <@U0POL00001>" in answered(bot, 2)
    assert len(audit_actions(bot)) == entries

    click(bot, "rugdekking_ack", MARLEEN, channel=MARLEEN.user_id)
    click(bot, "rugdekking_ack", FATIMA, channel=BOARD)
    click(bot, "rugdekking_ack", OMAR, channel=OMAR.user_id)
    deliver(bot)
    shown = board(bot)
    assert shown.count("✅") == 4 and "⏳" not in shown
    assert "4 van 4 partners bevestigd" in shown and "allemaal na" in shown
    # Never re-posted: one post, then chat.update of that very message.
    assert len([c for c in bot.double.delivered("chat.postMessage") if c.args["channel"] == BOARD]) == 1
    updates = [c for c in bot.double.delivered("chat.update") if c.args["channel"] == BOARD]
    assert updates and all(c.args["ts"] == board_ts for c in updates)
    assert observed() - before == 4  # one acknowledgement time per partner, for the metrics


def test_escalations_reach_the_silent_and_stop_the_moment_a_partner_acknowledges(slack: Partnership) -> None:
    raise_with_form(slack, level="MIDDEN")  # T1 5, T2 15, T3 30 minutes
    deliver(slack)
    click(slack, "rugdekking_ack", HANS, channel=POLITIE_CHANNEL)

    slack.later(minutes=5)
    deliver(slack)
    t1 = "nog niet bevestigd. Jij hoort bij deze partner"
    assert t1 in all_texts(dms_to(slack, MARLEEN))
    assert t1 in all_texts(dms_to(slack, OMAR))
    assert t1 in all_texts(dms_to(slack, FATIMA))
    assert t1 not in all_texts(dms_to(slack, HANS)) and dms_to(slack, ILSE) == []
    assert t1 not in all_texts(dms_to(slack, WETHOUDER))  # never escalated to the reporter

    click(slack, "rugdekking_ack", OMAR, channel=OMAR.user_id)
    slack.later(minutes=10)
    deliver(slack)
    t2 = "Je bent trekker van *"
    assert "Je bent trekker van *Gemeente Breda*" in all_texts(dms_to(slack, MARLEEN))
    assert "Je bent trekker van *RIEC Zeeland-West-Brabant*" in all_texts(dms_to(slack, FATIMA))
    assert t2 not in all_texts(dms_to(slack, HANS))

    slack.later(minutes=15)
    deliver(slack)
    coordinator = all_texts(dms_to(slack, FATIMA))
    assert "*Gemeente Breda* heeft rugdekking RD-1 na 30 minuten nog niet bevestigd. Bel hen." in coordinator
    assert "Trekker: <@U0BREDA002>" in coordinator
    assert "*Politie Zeeland-West-Brabant* heeft" not in coordinator
    assert "*Openbaar Ministerie* heeft rugdekking RD-1 na 30" not in coordinator

    # Each escalation once: running the outbox again sends nothing.
    assert deliver(slack) == 0
    texts = Counter(
        (c.args["channel"], c.args["text"])
        for c in slack.double.delivered("chat.postMessage")
        if "⏰" in c.args["text"]
    )
    assert max(texts.values()) == 1


# --- the reporter's safety -------------------------------------------------------------------------


def test_the_reporter_needs_help_and_the_coordinators_and_own_partner_hear_it_at_once(
    slack: Partnership,
) -> None:
    raise_with_form(slack)
    deliver(slack)
    slack.later(minutes=10)
    deliver(slack)
    question = dms_to(slack, WETHOUDER)[-1]
    assert "Ben je veilig?" in text_of(question)

    # Someone else cannot answer for the reporter.
    slack.driver.action(
        "rugdekking_safe", value="1", user=HANS.user_id, message=question, channel=WETHOUDER.user_id
    )
    assert "Alleen wie met RD-1 om rugdekking vroeg, kan deze vraag beantwoorden." in answered(slack)

    click(slack, "rugdekking_help", WETHOUDER, channel=WETHOUDER.user_id)
    reply = slack.double.wait_for("response_url", count=2)[-1]
    assert reply.args["replace_original"] is True
    assert "De coördinatoren en je eigen partner zijn nu gealarmeerd (RD-1)" in visible_text(
        reply.args["blocks"]
    )
    deliver(slack)
    help_needed = "<@U0BREDA001>, die met RD-1 om rugdekking vroeg, antwoordde: ik heb hulp nodig."
    assert help_needed in all_texts(dms_to(slack, FATIMA))
    assert help_needed in all_texts(dms_to(slack, MARLEEN))
    assert help_needed not in all_texts(dms_to(slack, HANS))
    assert "Melder HEEFT HULP NODIG" in board(slack)

    slack.later(minutes=15)
    deliver(slack)
    assert "heeft niet geantwoord" not in all_texts(dms_to(slack, FATIMA))  # the follow-up was cancelled


def test_no_answer_about_safety_goes_to_the_coordinators_and_the_own_partner(slack: Partnership) -> None:
    raise_with_form(slack)
    slack.later(minutes=20)
    deliver(slack)
    silent = "<@U0BREDA001>, die met RD-1 om rugdekking vroeg, heeft niet geantwoord op de vraag"
    assert silent in all_texts(dms_to(slack, FATIMA))
    assert silent in all_texts(dms_to(slack, MARLEEN))


def test_yes_i_am_safe_ends_the_follow_up(slack: Partnership) -> None:
    raise_with_form(slack, safe=None)
    slack.later(minutes=10)
    deliver(slack)
    click(slack, "rugdekking_safe", WETHOUDER, channel=WETHOUDER.user_id)
    assert "Fijn dat je veilig bent (RD-1)." in answered(slack)
    slack.later(minutes=10)
    deliver(slack)
    assert "heeft niet geantwoord" not in all_texts(dms_to(slack, FATIMA))
    assert "Melder veilig: ja" in board(slack)


def test_not_safe_in_the_form_alerts_the_coordinators_at_once(slack: Partnership) -> None:
    raise_with_form(slack, safe="no")
    deliver(slack)
    assert "<@U0BREDA001>, die met RD-1 om rugdekking vroeg, is nu NIET veilig." in all_texts(
        dms_to(slack, FATIMA)
    )
    assert "Melder veilig: NEE" in board(slack)


# --- need to know ----------------------------------------------------------------------------------


def test_details_are_for_those_who_need_to_know_and_every_view_is_logged(slack: Partnership) -> None:
    raise_with_form(slack, description=DESCRIPTION, place=PLACE)
    deliver(slack)
    for who, channel in ((FATIMA, BOARD), (HANS, HANS.user_id), (MARLEEN, BREDA_CHANNEL)):
        click(slack, "rugdekking_details", who, channel=channel)
        opened = slack.double.wait_for(
            "views.open", lambda c: c.args["view"]["callback_id"] == "rugdekking_details"
        )
        shown = visible_text(opened[-1].args["view"])
        assert DESCRIPTION in shown and PLACE in shown and "<@U0BREDA001>" in shown, who
        slack.double.calls.clear()
    assert audit_actions(slack).count("backup_alert.details_viewed") == 3

    click(slack, "rugdekking_details", ILSE, channel=POLITIE_CHANNEL)  # a member, not a duty contact
    refused = answered(slack)
    assert (
        "Alleen de partner van de melder (Gemeente Breda), de dienstdoenden en de trekker van elke "
        "partner, en de coördinatoren zien de details van RD-1."
    ) in refused
    assert "Vraag het aan: <@U0POL00001>." in refused
    # The OM has no duty contacts and no lead: nobody there can see them, so the coordinators are named.
    slack.double.calls.clear()
    click(slack, "rugdekking_details", OMAR, channel=OMAR.user_id)
    assert "Vraag het aan: <@U0RIEC0001>." in answered(slack)
    assert audit_actions(slack).count("backup_alert.details_viewed") == 3


# --- supporting actions, the second round, closing ------------------------------------------------


def test_a_partner_records_its_action_and_the_bot_asks_for_the_second_round(slack: Partnership) -> None:
    raise_with_form(slack)
    deliver(slack)
    click(slack, "rugdekking_act", ILSE, channel=POLITIE_CHANNEL)
    slack.double.wait_for("views.open", lambda c: c.args["view"]["callback_id"] == "rugdekking_action")
    form = slack.double.last_view("rugdekking_action")
    values = {
        "rd_kind": {"kind": "EXTRA_TOEZICHT"},
        "rd_note": {"note": "Surveillance bij de woning vannacht"},
    }
    response = slack.driver.view_submission("rugdekking_action", values, user=ILSE.user_id, view=form)
    second = response.json()
    assert second["response_action"] == "update"
    assert "Bereid nu de tweede ronde voor: wat doet *Politie Zeeland-West-Brabant*" in visible_text(
        second["view"]
    )
    # Submitted twice: one action.
    slack.driver.view_submission("rugdekking_action", values, user=ILSE.user_id, view=form)
    round2 = {**form, "private_metadata": second["view"]["private_metadata"]}
    done = slack.driver.view_submission(
        "rugdekking_action",
        {"rd_kind": {"kind": "SNELRECHT"}, "rd_note": {"note": None}},
        user=ILSE.user_id,
        view=round2,
    )
    assert done.status == 200 and done.body == ""
    with slack.services.session() as session:
        actions = session.exec(select(SupportAction)).all()
    assert [(a.round, a.kind.value) for a in actions] == [(1, "EXTRA_TOEZICHT"), (2, "SNELRECHT")]
    deliver(slack)
    assert "✅ *Politie Zeeland-West-Brabant* — <@U0POL00002>" in board(slack)  # doing is acknowledging
    assert "in actie: Extra toezicht · tweede ronde: Snelrecht" in board(slack)
    assert "VERTROUWELIJK" not in json.dumps([r.context for r in outbox_rows(slack)])
    slack.later(minutes=5)
    deliver(slack)
    assert "nog niet bevestigd" not in all_texts(dms_to(slack, HANS))


def test_the_coordinator_closes_once_everyone_acknowledged_and_is_asked_for_a_lesson(
    slack: Partnership,
) -> None:
    raise_with_form(slack)
    deliver(slack)
    click(slack, "rugdekking_close", FATIMA, channel=BOARD)
    assert (
        "RD-1 kan pas worden afgesloten als elke partner hem heeft bevestigd. Nog stil: Gemeente Breda"
        in answered(slack)
    )

    everyone_acknowledges(slack)
    click(slack, "rugdekking_close", ILSE, channel=BOARD)  # politie: not the reporter's partner
    assert "Alleen je eigen partner mag dit" in answered(slack, 6)

    click(slack, "rugdekking_close", FATIMA, channel=BOARD)
    slack.double.wait_for("views.open", lambda c: c.args["view"]["callback_id"] == "rugdekking_close")
    form = slack.double.last_view("rugdekking_close")
    values = {
        "rd_summary": {"summary": "VERTROUWELIJK: extra toezicht, aangifte gedaan; dader aangehouden."},
        "rd_lesson": {"lesson": None},
    }
    ask_lesson = slack.driver.view_submission(
        "rugdekking_close", values, user=FATIMA.user_id, view=form
    ).json()
    assert ask_lesson["response_action"] == "update"
    assert "RD-1 is afgesloten. Nog één vraag: wat leren de partners ervan?" in visible_text(
        ask_lesson["view"]
    )
    lesson_form = {**form, **ask_lesson["view"], "id": form["id"]}
    slack.driver.view_submission(
        "rugdekking_lesson",
        {"rd_lesson": {"lesson": "Direct na een sluiting extra toezicht bij de woning."}},
        user=FATIMA.user_id,
        view=lesson_form,
    )
    again = slack.driver.view_submission("rugdekking_close", values, user=FATIMA.user_id, view=form)
    assert again.status == 200  # a second submission changes nothing
    alert = the_alert(slack)
    assert (
        alert.closed_at is not None and alert.lesson == "Direct na een sluiting extra toezicht bij de woning."
    )
    assert audit_actions(slack).count("backup_alert.closed") == 1

    deliver(slack)
    assert "Afgesloten door <@U0RIEC0001>" in board(slack)
    assert "Afsluiten" not in board(slack)
    assert "Afgesloten door <@U0RIEC0001>" in text_of(slack.double.messages_in(POLITIE_CHANNEL)[0])
    assert "Je rugdekking RD-1 is afgesloten door <@U0RIEC0001>" in all_texts(dms_to(slack, WETHOUDER))


# --- drills and figures ----------------------------------------------------------------------------


def test_a_drill_runs_the_whole_flow_marked_as_a_drill_and_reports_the_same_figures(
    slack: Partnership,
) -> None:
    raise_with_form(slack, text="oefening")
    assert slack.double.last_view("rugdekking_raise")["title"]["text"] == "Oefening rugdekking"
    assert the_alert(slack).drill
    deliver(slack)
    slack.later(minutes=2)
    deliver(slack)
    for call in slack.double.delivered("chat.postMessage"):
        assert "OEFENING" in call.args["text"], call.args["text"]
    everyone_acknowledges(slack)
    deliver(slack)
    overview = ask(slack, OMAR, "overzicht")
    assert "*RD-1* · OEFENING" in overview
    assert "4 van 4 bevestigd" in overview and "eerste bevestiging na 2 min" in overview
    per_partner = ask(slack, OMAR, "overzicht RD-1")
    assert "• Politie Zeeland-West-Brabant: 2 min" in per_partner
    assert "Schrijf het zo: `/rugdekking overzicht`" in ask(slack, OMAR, "overzicht gisteren")


# --- help, the App Home, and problems -------------------------------------------------------------


def test_help_and_the_app_home_show_rugdekking_in_dutch_and_english(slack: Partnership) -> None:
    dutch = ask(slack, HANS, "help", command="/samen")
    assert (
        "`/samen rugdekking [nu | oefening | overzicht] [omschrijving]` Bedreigd of geïntimideerd?" in dutch
    )
    english = ask(slack, HANS, "help", command="/samen", locale="en-GB")
    assert "Threatened or intimidated? Ask every partner for backup" in english

    assert "Rugdekking RD-1 is verstuurd" in ask(slack, WETHOUDER, "rugdekking nu", command="/samen")
    deliver(slack)
    slack.driver.event({"type": "app_home_opened", "user": HANS.user_id, "channel": "D0HANS", "tab": "home"})
    home = slack.double.wait_for("views.publish")[-1].args["view"]
    shown = visible_text(home)
    assert "Rugdekking RD-1" in shown and "⏳ *Politie Zeeland-West-Brabant*" in shown
    slack.driver.action(
        "rugdekking_ack", value="1", user=HANS.user_id, view=slack.double.home_view(HANS.user_id)
    )
    republished = slack.double.wait_for("views.publish", count=2)[-1].args["view"]
    assert "✅ *Politie Zeeland-West-Brabant* — <@U0POL00001>" in visible_text(republished)


def test_a_click_on_an_unknown_alert_is_answered_and_changes_nothing(slack: Partnership) -> None:
    raise_with_form(slack)
    deliver(slack)
    [posted] = slack.double.messages_in(POLITIE_CHANNEL)
    forged = json.loads(json.dumps(posted).replace('"value": "1"', '"value": "999"'))
    slack.driver.action(
        "rugdekking_ack", value="999", user=HANS.user_id, message=forged, channel=POLITIE_CHANNEL
    )
    assert "Er is geen rugdekking RD-999." in answered(slack)
    with slack.services.session() as session:
        assert all(
            row.acknowledged_at is None
            for row in session.exec(
                select(__import__("bot.alerts.models", fromlist=["AlertPartner"]).AlertPartner)
            ).all()
        )


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_demo_scene_plays_the_booklet(language: str) -> None:
    import io

    from bot.demo import play
    from bot.demo.scene_rugdekking import scene_rugdekking

    out = io.StringIO()
    play(language=language, out=out, scenes=[scene_rugdekking])
    transcript = out.getvalue()
    if language == "nl":
        assert "⏰ *Belastingdienst* heeft rugdekking RD-1 na 2 minuten nog niet bevestigd" in transcript
        assert "in actie: Extra toezicht · tweede ronde: Snelrecht" in transcript
        assert "Afgesloten door @Ruud" in transcript
    else:
        assert "⏰ *Belastingdienst* has not acknowledged backup alert RD-1 after 2 minutes" in transcript
        assert "Closed by @Ruud" in transcript


# --- texts for a person under pressure -------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "nl", "en"),
    [
        (0.3, "18 seconden", "18 seconds"),
        (1, "1 minuut", "1 minute"),
        (2.5, "2,5 minuten", "2.5 minutes"),
        (10.0, "10 minuten", "10 minutes"),
    ],
)
def test_minutes_read_as_people_say_them(minutes: float, nl: str, en: str) -> None:
    from bot.i18n import format_minutes

    assert (format_minutes(minutes, "nl"), format_minutes(minutes, "en")) == (nl, en)


PARTNERSHIP_OF_ONE = f"""\
team: {WETHOUDER.team_id}
partners:
  - name: Gemeente Breda
    type: GEMEENTE
    alert_channel: {BREDA_CHANNEL}
    lead: {MARLEEN.user_id}
    duty_contacts: [{MARLEEN.user_id}]
    members:
      - {{user: {WETHOUDER.user_id}, name: Wethouder}}
      - {{user: {MARLEEN.user_id}, role: coordinator, name: Marleen}}
"""


SHORT_TIMES = {"SAMEN_RUGDEKKING_SAFETY": "0.3,1", "SAMEN_RUGDEKKING_ESCALATION": "hoog:0.5,1.5,2"}


@pytest.mark.partnership(**{**SETUP, "partners": PARTNERSHIP_OF_ONE, **SHORT_TIMES})
def test_short_times_read_without_a_decimal_point_and_one_partner_is_singular(
    partnership: Partnership,
) -> None:
    """Times under a minute (as in the demo): "Over 18 seconden", never "Over 0.3 minuten"; a
    partnership of one partner reads "1 partner", never "alle 1 partners"."""
    bot = partnership
    shown = visible_text(raise_with_form(bot)["view"])
    assert "Rugdekking RD-1 is verstuurd: 1 partner wordt nu gealarmeerd en moet bevestigen." in shown
    assert "Over 18 seconden vraag ik of je veilig bent." in shown
    deliver(bot)
    assert "Je rugdekking RD-1 is naar 1 partner gestuurd." in all_texts(dms_to(bot, WETHOUDER))
    assert "0 van 1 partner bevestigd" in board(bot)
    bot.later(minutes=0.5)
    deliver(bot)
    assert "heeft rugdekking RD-1 na 30 seconden nog niet bevestigd" in all_texts(dms_to(bot, MARLEEN))
