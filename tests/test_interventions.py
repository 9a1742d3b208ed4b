"""Interventions, read like the booklet: the RIEC plans the closure of a loods with the gemeente as owner,
the gemeente commits and plans it, the politie waits for it; take on no more than you can finish; prepare
the second round before acting in the first; the next owner hears it the moment it is their turn.

Every path goes through signed requests and the Slack double. A refused change leaves the database as it
was (`snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import BOT_TOKEN
from harness import metadata
from interventions_support import (
    CHANNEL,
    FATIMA,
    ILSE,
    JAN,
    KEES,
    KOEN,
    MARLEEN,
    RUUD,
    World,
    audit_actions,
    build_world,
    snapshot,
    texts,
)
from slack_sdk import WebClient
from sqlmodel import select

from bot.audit import verify
from bot.interventions.models import Intervention, InterventionPartner, InterventionStatus, Lesson
from bot.outbox.dispatcher import Dispatcher
from bot.slack.chat import SlackChat
from slackdouble import SlackDouble, visible_text

S = InterventionStatus
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# What the form's datepicker sends for tomorrow and yesterday, in the partnership's zone.
TOMORROW = (datetime.now(AMSTERDAM).date() + timedelta(days=1)).isoformat()
YESTERDAY = (datetime.now(AMSTERDAM).date() - timedelta(days=1)).isoformat()


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(sqlite_url, slack_double)


@pytest.fixture
def world_on(database_url: str, slack_double: SlackDouble) -> Iterator[World]:
    """The same partnership on SQLite and on PostgreSQL."""
    yield from build_world(database_url, slack_double)


def step(world: World, person: object, number: int, to: S) -> None:
    world.click(person, f"intervention_to_{to.value}", str(number))  # type: ignore[arg-type]


def last_answer(world: World) -> str:
    return visible_text(world.responses()[-1].get("blocks") or [])


def thread_posts(world: World) -> list[str]:
    return [
        t
        for m, t in zip(
            world.double.messages_in(CHANNEL), texts(world.double.messages_in(CHANNEL)), strict=True
        )
        if m.get("thread_ts") == world.thread_ts
    ]


# --- planning -------------------------------------------------------------------------------------------


def test_the_riec_plans_a_closure_and_sees_the_window_resolved_before_it_is_saved(world: World) -> None:
    form = world.open_form(RUUD, f"interventie {world.case['loods']}")
    assert form["callback_id"] == "intervention_new"
    case_block = next(b for b in form["blocks"] if b.get("block_id") == "case")
    assert case_block["element"]["initial_option"]["value"] == str(world.case["loods"])  # the case typed

    answer = world.submit_form(
        RUUD,
        {
            "case": str(world.case["loods"]),
            "instrument_type": "BESTUURSRECHTELIJK",
            "instrument": "Sluiting loods (art. 13b Opiumwet)",
            "owner_partner": str(world.partner["gemeente"]),
            "owner": FATIMA.user_id,
            "round": "1",
            **world.picked("volgende week dinsdag 08:15–08:45"),  # with the date and time pickers
            "joining_SLAGKRACHT": [str(world.partner["politie"])],
        },
    )
    assert answer["response_action"] == "update"
    confirm = answer["view"]
    shown = visible_text(confirm["blocks"])
    today = datetime.now(AMSTERDAM).date()
    from datetime import timedelta

    tuesday = today - timedelta(days=today.weekday()) + timedelta(days=8)
    assert f"dinsdag {tuesday.day} " in shown and "08:15–08:45" in shown  # resolved, in Dutch
    assert world.count("SELECT count(*) FROM intervention") == 0  # nothing saved before confirmation

    saved = world.confirm(RUUD, confirm, view_id="V0CONFIRM1")
    assert "I-1" in visible_text(saved["view"]["blocks"])
    again = world.confirm(RUUD, confirm, view_id="V0CONFIRM1")  # the same modal submitted twice
    assert "Er is niets veranderd" in visible_text(again["view"]["blocks"])
    assert world.count("SELECT count(*) FROM intervention") == 1

    iv = world.intervention(1)
    assert iv.status is S.VOORGESTELD and iv.owner_user_id == FATIMA.user_id and iv.round == 1
    assert iv.window_start is not None and iv.window_start.astimezone(AMSTERDAM).strftime("%H:%M") == "08:15"
    assert iv.window_end is not None and iv.window_end.astimezone(AMSTERDAM).strftime("%H:%M") == "08:45"
    with world.services.session() as session:
        joining = session.exec(select(InterventionPartner)).all()
        assert [(j.partner_id, j.contribution.value) for j in joining] == [
            (world.partner["politie"], "SLAGKRACHT")
        ]

    world.dispatch()
    # The owner is asked to commit; the case's thread hears of it.
    assert any(
        "stelt voor dat jij *I-1* uitvoert" in m.get("text", "")
        for m in world.double.messages_to(FATIMA.user_id)
    )
    assert any("stelde interventie *I-1* voor" in t for t in thread_posts(world))
    assert "intervention.created" in audit_actions(world.services.engine)


@pytest.mark.parametrize(
    ("change", "block", "says"),
    [
        (
            {"window_day": TOMORROW, "window_from": "10:00", "window_to": "09:00"},
            "window_day",
            "eindigt (09:00) voordat het begint (10:00)",
        ),
        ({"window_day": YESTERDAY, "window_from": "09:00"}, "window_day", "ligt in het verleden"),
        ({"window_day": YESTERDAY}, "window_day", "ligt in het verleden"),
        ({"window_from": "09:00"}, "window_day", "Kies ook de dag"),
        ({"window_day": TOMORROW, "window_to": "09:00"}, "window_day", "Kies ook de begintijd"),
        ({"owner": JAN.user_id}, "owner", "is geen deelnemer van Gemeente Rotterdam"),
        ({"owner": KEES.user_id}, "owner", "is geen deelnemer van Gemeente Rotterdam"),
        ({"after": "I-99"}, "after", "I-99 bestaat niet"),
        ({"after": "loods"}, "after", "als I-12"),
        ({"instrument": "   "}, "instrument", "Zeg wat de interventie is"),
    ],
)
def test_bad_input_in_the_form_gets_a_field_error_and_nothing_is_saved(
    world: World, change: dict[str, str], block: str, says: str
) -> None:
    world.open_form(RUUD)
    before = snapshot(world.services.engine)
    values = {
        "case": str(world.case["loods"]),
        "instrument_type": "BESTUURSRECHTELIJK",
        "instrument": "Sluiting loods",
        "owner_partner": str(world.partner["gemeente"]),
        "owner": FATIMA.user_id,
        "round": "1",
        **change,
    }
    answer = world.submit_form(RUUD, values)
    assert answer["response_action"] == "errors"
    assert says in answer["errors"][block]
    assert snapshot(world.services.engine) == before


def test_the_form_speaks_english_to_an_english_speaker(world: World) -> None:
    from bot.people import remember_profile

    with world.services.session() as session:
        remember_profile(
            session, team_id=RUUD.team_id, user_id=RUUD.user_id, locale="en-GB", tz="Europe/London"
        )
    form = world.open_form(RUUD)
    assert form["title"]["text"] == "New intervention"
    answer = world.submit_form(
        RUUD,
        {
            "case": str(world.case["loods"]),
            "instrument_type": "FISCAAL",
            "instrument": "Naheffingsaanslag",
            "owner_partner": str(world.partner["belastingdienst"]),
            "owner": ILSE.user_id,
            "round": "1",
            **world.picked("tomorrow 9am"),
        },
    )
    assert "Time window:" in visible_text(answer["view"]["blocks"])


def test_a_case_the_partner_is_not_on_is_not_offered_and_a_stranger_is_told_whom_to_ask(world: World) -> None:
    answer = world.command(KEES, "interventie")
    assert "geen deelnemer" in visible_text(answer["blocks"]).lower()
    answer = world.command(RUUD, "interventie 99")
    assert "Casus 99 bestaat niet" in visible_text(answer["blocks"])
    assert world.double.calls_to("views.open") == []


# --- status, with buttons ------------------------------------------------------------------------------


def test_the_owner_moves_it_on_with_buttons_and_every_change_is_posted_in_the_case_thread(
    world: World,
) -> None:
    number = world.plan(RUUD)
    world.dispatch()
    # Fatima commits from the direct message that asked her.
    world.click(FATIMA, "intervention_to_TOEGEZEGD", str(number), in_dm_of=FATIMA)
    assert world.intervention(number).status is S.TOEGEZEGD
    assert "toegezegd" in last_answer(world)

    # Planning needs a window first.
    before = snapshot(world.services.engine)
    step(world, FATIMA, number, S.GEPLAND)
    assert "heeft nog geen tijdvak" in last_answer(world)
    assert snapshot(world.services.engine) == before

    answer = world.command(FATIMA, f"interventie I-{number} wanneer volgende week dinsdag 08:15-08:45")
    assert "Ik lees dit als: dinsdag" in visible_text(answer["blocks"])
    button = answer["blocks"][1]["elements"][0]
    world.click(FATIMA, "intervention_window_confirm", button["value"])
    world.click(FATIMA, "intervention_window_confirm", button["value"])  # twice: once
    assert world.count("SELECT count(*) FROM audit_entry WHERE action = 'intervention.window_set'") == 1

    step(world, FATIMA, number, S.GEPLAND)
    step(world, FATIMA, number, S.GEPLAND)  # a double click changes nothing twice
    assert "Er is niets veranderd" in last_answer(world)
    assert world.count("SELECT count(*) FROM audit_entry WHERE action = 'intervention.status_changed'") == 2

    # Not allowed from the current status: back to committed.
    before = snapshot(world.services.engine)
    step(world, FATIMA, number, S.TOEGEZEGD)
    assert "is gepland: vanaf daar kan het niet toegezegd worden" in last_answer(world)
    assert snapshot(world.services.engine) == before

    step(world, FATIMA, number, S.IN_UITVOERING)
    assert world.intervention(number).status is S.IN_UITVOERING
    world.dispatch()
    posts = thread_posts(world)
    assert any("is nu *toegezegd*" in p for p in posts)
    assert any("is nu *gepland*" in p for p in posts)
    assert any("is nu *in uitvoering*" in p for p in posts)
    assert any("heeft een nieuw tijdvak" in p for p in posts)
    with world.services.session() as session:
        assert verify(session).ok


def test_someone_else_cannot_close_the_owners_intervention(world: World) -> None:
    number = world.plan(RUUD)
    step(world, FATIMA, number, S.TOEGEZEGD)
    before = snapshot(world.services.engine)
    # A colleague at the gemeente, and the politie: neither may call it off or finish it.
    step(world, MARLEEN, number, S.GEANNULEERD)
    assert "is van <@U0GEM00001>: alleen die, of een coördinator" in str(world.responses()[-1])
    step(world, JAN, number, S.UITGEVOERD)
    assert "alleen die, of een coördinator" in str(world.responses()[-1])
    # The politie may not even commit or plan for the gemeente.
    step(world, JAN, number, S.IN_UITVOERING)
    assert "Alleen je eigen partner" in last_answer(world)
    assert world.double.calls_to("views.open")[-1].args["view"]["callback_id"] == "intervention_new"
    assert snapshot(world.services.engine) == before


def test_calling_off_needs_a_reason_which_is_shown_in_the_thread(world: World) -> None:
    number = world.plan(RUUD, window="volgende week woensdag 10:00")
    step(world, FATIMA, number, S.GEANNULEERD)
    view = world.double.last_view("intervention_reason")
    assert metadata(view)["kind"] == "cancel"
    answer = world.submit_view(FATIMA, "intervention_reason", {"reason": "  "}, view)
    assert answer["response_action"] == "errors" and "Zeg waarom" in answer["errors"]["reason"]
    answer = world.submit_view(
        FATIMA, "intervention_reason", {"reason": "Pand is al verkocht <!channel>"}, view
    )
    assert answer["response_action"] == "update"
    again = world.submit_view(FATIMA, "intervention_reason", {"reason": "nog eens"}, view)
    assert "Er is niets veranderd" in visible_text(again["view"]["blocks"])
    iv = world.intervention(number)
    assert iv.status is S.GEANNULEERD and iv.cancel_reason == "Pand is al verkocht <!channel>"
    assert iv.next_reminder_at is None
    # The window announcement that was waiting is called off too.
    assert (
        world.count("SELECT count(*) FROM outbox WHERE ref = 'intervention:1:window' AND status = 'pending'")
        == 0
    )
    world.dispatch()
    posts = thread_posts(world)
    assert any("Opgegeven reden: Pand is al verkocht &lt;!channel&gt;" in p for p in posts)


# --- capacity ------------------------------------------------------------------------------------------


def test_a_partner_takes_on_no_more_than_its_capacity_unless_a_coordinator_overrides_with_a_reason(
    world: World,
) -> None:
    numbers = [world.plan(RUUD, what=f"Controle {n}") for n in range(3)]
    # Proposals do not count: three proposed, capacity two.
    step(world, FATIMA, numbers[0], S.TOEGEZEGD)
    step(world, FATIMA, numbers[1], S.TOEGEZEGD)
    before = snapshot(world.services.engine)
    step(world, FATIMA, numbers[2], S.TOEGEZEGD)
    refusal = world.responses()[-1]
    shown = visible_text(refusal["blocks"])
    assert "Gemeente Rotterdam zit aan de capaciteit voor open interventies (2 van 2)" in shown
    assert "*I-1* Controle 0" in shown and "*I-2* Controle 1" in shown  # the list of its open ones
    assert "Vraag een coördinator: <@U0RIEC0001>" in shown
    assert "intervention_override" not in str(refusal)  # a member gets no override button
    assert snapshot(world.services.engine) == before

    # The coordinator may, with a reason.
    step(world, RUUD, numbers[2], S.TOEGEZEGD)
    offer = world.responses()[-1]
    override = next(e for b in offer["blocks"] if b.get("type") == "actions" for e in b["elements"])
    assert override["action_id"] == "intervention_override"
    world.click(RUUD, "intervention_override", override["value"])
    view = world.double.last_view("intervention_reason")
    answer = world.submit_view(
        RUUD, "intervention_reason", {"reason": "Spoed: pand wordt morgen ontruimd"}, view
    )
    assert answer["response_action"] == "update"
    iv = world.intervention(numbers[2])
    assert iv.status is S.TOEGEZEGD
    assert iv.capacity_override_reason == "Spoed: pand wordt morgen ontruimd"
    assert "intervention.capacity_overridden" in audit_actions(world.services.engine)


# --- second round -------------------------------------------------------------------------------------


def test_round_one_against_an_untouchable_waits_until_round_two_is_ready(world: World) -> None:
    first = world.plan(FATIMA, case="untouchable", what="Inval pand")
    step(world, FATIMA, first, S.TOEGEZEGD)
    before = snapshot(world.services.engine)
    step(world, FATIMA, first, S.IN_UITVOERING)
    refusal = world.responses()[-1]
    shown = visible_text(refusal["blocks"])
    assert "ronde 1 op een casus over een onaantastbare" in shown
    assert "bereid de tweede ronde voor" in shown
    assert snapshot(world.services.engine) == before

    # The refusal offers to plan round 2: the form opens on the same case, round 2.
    plan = next(e for b in refusal["blocks"] if b.get("type") == "actions" for e in b["elements"])
    assert plan["action_id"] == "intervention_plan_round2"
    world.click(FATIMA, "intervention_plan_round2", plan["value"])
    form = world.double.last_view("intervention_new")
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert blocks["round"]["element"]["initial_option"]["value"] == "2"
    assert blocks["case"]["element"]["initial_option"]["value"] == str(world.case["untouchable"])

    second = world.plan(
        FATIMA,
        case="untouchable",
        what="Beslag op vermogen",
        kind="FISCAAL",
        owner_partner="belastingdienst",
        owner=ILSE,
        round_=2,
    )
    step(world, FATIMA, first, S.IN_UITVOERING)
    assert world.intervention(first).status is S.TOEGEZEGD  # round 2 only proposed: not ready
    step(world, ILSE, second, S.TOEGEZEGD)
    step(world, FATIMA, first, S.IN_UITVOERING)
    assert world.intervention(first).status is S.IN_UITVOERING


def test_on_a_strategic_case_a_coordinator_may_go_ahead_without_round_two_with_a_reason(world: World) -> None:
    first = world.plan(RUUD, case="strategic", what="Aanhouding")
    step(world, FATIMA, first, S.TOEGEZEGD)
    step(world, RUUD, first, S.IN_UITVOERING)
    offer = world.responses()[-1]
    assert "een strategische casus" in visible_text(offer["blocks"])
    override = next(
        e
        for b in offer["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == "intervention_override"
    )
    world.click(RUUD, "intervention_override", override["value"])
    view = world.double.last_view("intervention_reason")
    world.submit_view(RUUD, "intervention_reason", {"reason": "Kans doet zich nu voor"}, view)
    iv = world.intervention(first)
    assert iv.status is S.IN_UITVOERING and iv.second_round_override_reason == "Kans doet zich nu voor"
    assert "intervention.second_round_overridden" in audit_actions(world.services.engine)


# --- timed chains, finishing and learning -----------------------------------------------------------


def test_when_the_loods_is_closed_the_politie_hears_within_seconds_and_the_success_is_celebrated(
    world: World,
) -> None:
    closure = world.plan(RUUD, window="volgende week dinsdag 08:15-08:45")
    equipment = world.plan(
        RUUD,
        what="Opnameapparatuur plaatsen",
        kind="STRAFRECHTELIJK",
        owner_partner="politie",
        owner=JAN,
        after=closure,
    )
    assessment = world.plan(
        RUUD,
        what="Naheffingsaanslag invorderbaar",
        kind="FISCAAL",
        owner_partner="belastingdienst",
        owner=ILSE,
        after=closure,
    )
    world.dispatch()
    step(world, FATIMA, closure, S.TOEGEZEGD)
    step(world, FATIMA, closure, S.GEPLAND)
    step(world, FATIMA, closure, S.IN_UITVOERING)

    client = WebClient(token=BOT_TOKEN, base_url=world.double.base_url, retry_handlers=[], timeout=5)
    from harness import FAST

    worker = Dispatcher(world.services, SlackChat(client), config=FAST)
    worker.start()
    try:
        world.click(FATIMA, "intervention_to_UITGEVOERD", str(closure))
        view = world.double.last_view("intervention_finish")
        answer = world.submit_view(
            FATIMA,
            "intervention_finish",
            {
                "result": "Loods gesloten, grondstoffen in beslag genomen",
                "effect": "Subject zoekt nieuwe opslag",
                "success": ["success"],
                "lesson": "Sluiting op dinsdagochtend gaf de politie ruimte voor apparatuur",
            },
            view,
        )
        assert answer["response_action"] == "update"
        # The owners waiting on it hear it within seconds: an urgent row wakes the dispatcher.
        for person in (JAN, ILSE):
            world.double.wait_for(
                "chat.postMessage",
                lambda c, p=person: (
                    c.ok and c.args.get("channel") == p.user_id and "Jouw beurt" in c.args.get("text", "")
                ),
                timeout=3,
            )
        world.double.wait_for(
            "chat.postMessage",
            lambda c: c.ok and c.args.get("channel") == CHANNEL and "Succes op" in c.args.get("text", ""),
            timeout=5,
        )
    finally:
        worker.stop()
    turn = world.message_with(JAN, "intervention_to_TOEGEZEGD", str(equipment))
    assert "Nu is het *I-2*: Opnameapparatuur plaatsen" in visible_text(turn["blocks"])
    assert world.message_with(ILSE, "intervention_to_TOEGEZEGD", str(assessment))
    success = [t for t in texts(world.double.messages_in(CHANNEL)) if "Succes op" in t]
    assert len(success) == 1 and "Succes op *Verdienmodellen verstoren*" in success[0]
    assert "Gemeente Rotterdam heeft I-1 uitgevoerd" in success[0]
    # Restricted: the result never goes to the channel.
    assert all("grondstoffen" not in t for t in texts(world.double.messages_in(CHANNEL)))

    # Finishing twice changes nothing twice; the lesson is there once and can be found.
    world.submit_view(FATIMA, "intervention_finish", {"result": "nogmaals"}, view)
    assert world.intervention(closure).result == "Loods gesloten, grondstoffen in beslag genomen"
    with world.services.session() as session:
        assert len(session.exec(select(Lesson)).all()) == 1
    found = visible_text(world.command(JAN, "lessen dinsdagochtend")["blocks"])
    assert "Sluiting op dinsdagochtend" in found and "I-1" in found
    assert "Geen leerpunten gevonden" in visible_text(world.command(JAN, "lessen fietsendiefstal")["blocks"])


def test_the_result_is_shown_only_to_the_partners_on_the_case_and_the_read_is_logged(world: World) -> None:
    number = world.plan(FATIMA, round_=2)
    step(world, FATIMA, number, S.TOEGEZEGD)
    step(world, FATIMA, number, S.IN_UITVOERING)
    step(world, FATIMA, number, S.UITGEVOERD)
    view = world.double.last_view("intervention_finish")
    world.submit_view(FATIMA, "intervention_finish", {"result": "Drie pallets grondstoffen"}, view)
    shown = visible_text(world.command(JAN, f"interventie I-{number}")["blocks"])  # politie is on the case
    assert "Resultaat: Drie pallets grondstoffen" in shown
    assert "intervention.result_read" in audit_actions(world.services.engine)
    hidden = visible_text(world.command(KOEN, f"interventie I-{number}")["blocks"])  # not on the case
    assert "Drie pallets" not in hidden and "uitgevoerd" in hidden
    with world.services.engine.connect() as connection:
        from sqlalchemy import text

        stored = connection.execute(text("SELECT result FROM intervention")).scalar_one()
    assert "pallets" not in stored  # sealed at rest


def test_dependencies_refuse_itself_and_circles(world: World) -> None:
    first = world.plan(RUUD)
    second = world.plan(RUUD, what="Apparatuur", owner_partner="politie", owner=JAN)
    before = snapshot(world.services.engine)
    answer = world.command(FATIMA, f"interventie I-{first} na I-{first}")
    assert "kan niet op zichzelf wachten" in visible_text(answer["blocks"])
    assert snapshot(world.services.engine) == before
    answer = world.command(JAN, f"interventie I-{second} na I-{first}")
    assert "begint nu zodra I-1 is uitgevoerd" in visible_text(answer["blocks"])
    before = snapshot(world.services.engine)
    answer = world.command(FATIMA, f"interventie I-{first} na I-{second}")
    assert "Dan ontstaat een kringetje: I-1 → I-2 → I-1" in visible_text(answer["blocks"])
    assert snapshot(world.services.engine) == before
    answer = world.command(JAN, f"interventie I-{second} na -")
    assert "wacht niet meer" in visible_text(answer["blocks"])
    answer = world.command(JAN, "interventie I-1 vliegen")
    assert "Schrijf het zo" in visible_text(answer["blocks"])


def test_a_handover_moves_it_to_the_other_partner_within_its_capacity(world: World) -> None:
    number = world.plan(RUUD)
    step(world, FATIMA, number, S.TOEGEZEGD)
    world.click(FATIMA, "intervention_handover", str(number))
    view = world.double.last_view("intervention_handover")
    answer = world.submit_view(FATIMA, "intervention_handover", {"owner": KEES.user_id}, view)
    assert answer["response_action"] == "errors" and "geen deelnemer" in answer["errors"]["owner"]
    answer = world.submit_view(FATIMA, "intervention_handover", {"owner": JAN.user_id}, view)
    assert answer["response_action"] == "update"
    iv = world.intervention(number)
    assert (iv.owner_user_id, iv.owner_partner_id) == (JAN.user_id, world.partner["politie"])
    world.dispatch()
    assert any("heeft *I-1* aan jou overgedragen" in t for t in texts(world.double.messages_to(JAN.user_id)))
    # Politie at capacity (2): a third handed to it is refused with its list.
    for n in range(2):
        other = world.plan(RUUD, what=f"Politie {n}", owner_partner="politie", owner=JAN)
        step(world, JAN, other, S.TOEGEZEGD)
    assert "zit aan de capaciteit voor open interventies (2 van 2)" in last_answer(world)


# --- my work, the App Home, help -------------------------------------------------------------------------


def test_my_work_lists_mine_and_my_partners_with_their_next_date(world: World) -> None:
    mine = world.plan(RUUD, window="volgende week donderdag 14:00")
    world.plan(RUUD, what="Controle horeca", owner=MARLEEN)
    world.plan(RUUD, what="Niet van ons", owner_partner="politie", owner=JAN)
    shown = visible_text(world.command(FATIMA, "mijn")["blocks"])
    assert "Jouw interventies" in shown
    assert "*I-1* Sluiting loods" in shown and "Volgende datum: donderdag" in shown
    assert "Van Gemeente Rotterdam" in shown and "Controle horeca" in shown
    assert "Niet van ons" not in shown
    english = visible_text(world.command(FATIMA, "mine", locale="en-GB")["blocks"])
    assert "Your interventions" in english and "Next date: Thursday" in english

    world.double.add_user(FATIMA.user_id, team_id=FATIMA.team_id, locale="nl-NL")
    world.driver.event(
        {"type": "app_home_opened", "user": FATIMA.user_id, "channel": "D0FATIMA", "tab": "home"}
    )
    home = world.double.wait_for("views.publish")[-1].args["view"]
    assert "Jouw interventies" in visible_text(home["blocks"]) and "Sluiting loods" in visible_text(
        home["blocks"]
    )
    # A button in the Home moves it on, and the Home shows it as it is now.
    world.click(FATIMA, "intervention_to_TOEGEZEGD", str(mine), view={**home, "type": "home"})
    assert world.intervention(mine).status is S.TOEGEZEGD
    republished = world.double.wait_for("views.publish", count=2)[-1].args["view"]
    assert "toegezegd" in visible_text(republished["blocks"])


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("nl-NL", ["/samen interventie", "/samen mijn", "/samen lessen", "/samen doelen"]),
        ("en-GB", ["Plan an intervention", "Search the lessons"]),
    ],
)
def test_help_shows_the_intervention_commands(world: World, locale: str, words: list[str]) -> None:
    shown = visible_text(world.command(FATIMA, "help", locale=locale)["blocks"])
    for word in words:
        assert word in shown


# --- goals ------------------------------------------------------------------------------------------------


def test_goals_show_progress_from_finished_interventions(world: World) -> None:
    assert "Nog geen doelen" in visible_text(world.command(ILSE, "doelen")["blocks"])
    world.command(ILSE, "doelen nieuw")
    view = world.double.last_view("goal_new")
    values = {
        "partner": str(world.partner["belastingdienst"]),
        "focus": "AFPAKKEN",
        "instrument_type": "FISCAAL",
        "description": "naheffen bij 10 sleutelpersonen",
        "target": "tien",
    }
    answer = world.submit_view(ILSE, "goal_new", values, view)
    assert answer["response_action"] == "errors" and "heel getal" in answer["errors"]["target"]
    answer = world.submit_view(ILSE, "goal_new", {**values, "target": "10"}, view)
    assert answer["response_action"] == "update"
    world.submit_view(ILSE, "goal_new", {**values, "target": "10"}, view)  # twice: once
    assert world.count("SELECT count(*) FROM goal") == 1
    # A member may not set another partner's goal.
    world.command(ILSE, "doelen nieuw")
    answer = world.submit_view(
        ILSE,
        "goal_new",
        {**values, "partner": str(world.partner["politie"]), "target": "3"},
        world.double.last_view("goal_new"),
    )
    assert answer["response_action"] == "errors"

    number = world.plan(
        RUUD, what="Naheffing S-2026-0042", kind="FISCAAL", owner_partner="belastingdienst", owner=ILSE
    )
    with world.services.session() as session:
        iv = session.get(Intervention, number)
        assert iv is not None
        iv.focus_element = iv.focus_element.__class__("AFPAKKEN")
        session.add(iv)
    step(world, ILSE, number, S.TOEGEZEGD)
    step(world, ILSE, number, S.UITGEVOERD)
    world.submit_view(
        ILSE,
        "intervention_finish",
        {"result": "Aanslag opgelegd"},
        world.double.last_view("intervention_finish"),
    )
    shown = visible_text(world.command(JAN, "doelen")["blocks"])
    assert "naheffen bij 10 sleutelpersonen" in shown and "1 van 10 uitgevoerd" in shown


def test_changes_go_into_the_thread_of_the_cases_message_once_that_is_posted(world: World) -> None:
    """A case made from a signal has its message queued in the outbox, its ts not yet known: the
    intervention's posts refer to it and the outbox fills the ts in when it sends them."""
    from bot.cases.models import Case
    from bot.cases.service import message_key
    from bot.outbox import post_message

    with world.services.session() as session:
        case = session.get(Case, world.case["strategic"])
        assert case is not None
        case.thread_channel = CHANNEL
        session.add(case)
        post_message(
            session, key=message_key(case.id or 0), channel=CHANNEL, message={"text": "Casus netwerk"}
        )
    world.plan(RUUD, case="strategic", what="Bestuurlijke rapportage")
    world.dispatch()
    messages = world.double.messages_in(CHANNEL)
    parent = next(m for m in messages if m.get("text") == "Casus netwerk")
    reply = next(m for m in messages if "Bestuurlijke rapportage" in m.get("text", ""))
    assert reply["thread_ts"] == parent["ts"]


def test_the_demo_scene_plays_the_booklets_timing_example() -> None:
    import io

    from bot.demo import _scene_help_and_home, play
    from bot.demo.scene_interventions import scene_interventions

    out = io.StringIO()
    play(language="nl", out=out, scenes=[_scene_help_and_home, scene_interventions])
    shown = out.getvalue()
    assert "Briljante timing" in shown
    assert "Jouw beurt: *I-1*" in shown and "Nu is het *I-2*: Opnameapparatuur plaatsen" in shown
    assert "Succes op *Verdienmodellen verstoren*" in shown
    assert "Nu is het *I-4*: Aanhouding bij verkoop partij" in shown


def test_the_start_of_a_time_window_is_announced_to_its_owner_and_a_new_window_replaces_it(
    world: World,
) -> None:
    from datetime import UTC

    from sqlalchemy import text

    number = world.plan(RUUD, window="volgende week dinsdag 08:15-08:45")
    iv = world.intervention(number)
    query = "SELECT key, status, not_before FROM outbox WHERE ref = 'intervention:1:window' ORDER BY id"
    with world.services.engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    assert [(key, status) for key, status, _ in rows] == [("intervention:1:v1:window", "pending")]
    assert iv.window_start is not None
    assert (
        datetime.fromisoformat(str(rows[0][2])).replace(tzinfo=UTC) == iv.window_start
    )  # not before the start

    answer = world.command(FATIMA, f"interventie I-{number} wanneer volgende week woensdag 10:00-11:00")
    world.click(FATIMA, "intervention_window_confirm", answer["blocks"][1]["elements"][0]["value"])
    with world.services.engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    assert [status for _key, status, _ in rows] == ["cancelled", "pending"]

    # When the moment comes, the owner hears it.
    start = world.intervention(number).window_start
    assert start is not None
    world.bot.later(seconds=(start - world.bot.clock.now()).total_seconds())
    world.dispatch()
    shown = texts(world.double.messages_to(FATIMA.user_id))
    assert any("Het tijdvak van *I-1* begint nu: woensdag" in t and "10:00–11:00" in t for t in shown)
