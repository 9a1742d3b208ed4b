"""The rest of the booklet's scenarios on Matrix, against a real Synapse (issue 18): a check-in prompt
answered in its thread, an intervention's owner reminded once, the silent escalated step by step and
stopped by a ✅ on the escalation, the safety check answered with a keycap or a number, encrypted rooms,
and a form answered wrongly then stopped. The cast and its rooms: tests/test_matrix_partnership.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from homeserver import MatrixUser
from matrix_harness import MatrixPartnership
from sqlalchemy import text
from sqlmodel import select
from test_matrix_partnership import Cast, on_matrix  # noqa: F401  the fixture, shared

from bot.cases.models import Case, CasePartner
from bot.chat import matrix_server
from bot.checkins import service as checkins
from bot.checkins.models import CheckinAnswer
from bot.interventions import planning
from bot.interventions.dates import Window
from bot.partners import service as partners
from bot.signals.models import Signal
from bot.vocabulary import Contribution, FocusElement, InstrumentType

ACK = "\u2705"
KEYCAP_TWO = "2\ufe0f\u20e3"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Scene = tuple[MatrixPartnership, Cast]


@pytest.fixture
def scene(on_matrix: Scene) -> Scene:  # noqa: F811  the shared fixture, imported above
    return on_matrix


def _text(event: dict[str, Any]) -> str:
    content = event.get("content") or {}
    return str((content.get("m.new_content") or {}).get("body") or content.get("body") or "")


def _from_samen(samen: MatrixPartnership, person: MatrixUser, room: str) -> list[dict[str, Any]]:
    """Samen's messages in `room` as `person` sees them (edits left out), oldest first."""
    return [
        e
        for e in reversed(person.messages(room, limit=200))
        if e.get("sender") == samen.bot.user_id
        and e.get("type") == "m.room.message"
        and (e.get("content") or {}).get("m.relates_to", {}).get("rel_type") != "m.replace"
    ]


def _count(samen: MatrixPartnership, person: MatrixUser, room: str, holds: Callable[[str], bool]) -> int:
    return sum(1 for e in _from_samen(samen, person, room) if holds(_text(e)))


def _partner_id(samen: MatrixPartnership, name: str) -> int:
    with samen.services.session(read_only=True) as session:
        found = partners.require_partner(session, name=name).id
        assert found is not None
        return found


# --- a check-in prompt, answered in its thread ---------------------------------------------------------


def test_a_check_in_prompt_is_answered_in_its_thread_and_the_answer_recorded(scene: Scene) -> None:
    samen, cast = scene
    politie = _partner_id(samen, "Politie Zeeland-West-Brabant")
    opens = (samen.clock.now() + timedelta(minutes=2)).astimezone(AMSTERDAM)
    with samen.services.session() as session:
        fatima = partners.require_member(
            session, team_id=matrix_server(cast.fatima.user_id), user_id=cast.fatima.user_id
        )
        checkins.plan(
            session,
            actor=fatima,
            data=checkins.PlanInput(
                channel_id=cast.board,
                team_id=matrix_server(cast.fatima.user_id),
                weekdays=frozenset(range(7)),
                clock=opens.strftime("%H:%M"),
                timezone="Europe/Amsterdam",
                include_holidays=True,
                questions="Wat speelt er deze week?",
                ask_partner_need=False,
                partner_ids=(politie,),
                people=(),
                window_minutes=60,
                language="nl",
            ),
        )
    samen.later(minutes=3)
    samen.deliver()
    prompt = samen.from_samen(cast.hans, cast.board, "Afstemmoment")
    assert "1." in _text(prompt)  # "Antwoorden" is a numbered choice

    # Hans answers "1" in the prompt's thread: the answer form opens as a conversation in his direct room.
    cast.hans.say(cast.board, "1", thread=prompt["event_id"])
    dm = samen.dm(cast.hans)
    question = samen.from_samen(cast.hans, dm, "Wat speelt er deze week?")
    assert "stop" in _text(question)
    done = samen.answer(cast.hans, dm, "Twee controles bij de loods gepland")
    assert "Dank je" in _text(done), _text(done)

    with samen.services.session(read_only=True) as session:
        [answer] = session.exec(select(CheckinAnswer).where(CheckinAnswer.user_id == cast.hans.user_id)).all()
    assert answer.version == 1 and json.loads(answer.answers or "[]") == [
        "Twee controles bij de loods gepland"
    ]
    # Hans was the only one expected: the moment closes and its summary follows in the prompt's thread.
    samen.deliver()
    cast.fatima.wait_for(
        cast.board,
        lambda e: (
            e.get("sender") == samen.bot.user_id
            and (e.get("content") or {}).get("m.relates_to", {}).get("event_id") == prompt["event_id"]
            and (e.get("content") or {}).get("m.relates_to", {}).get("rel_type") == "m.thread"
            and "Samenvatting" in _text(e)
        ),
    )


def test_a_coordinator_plans_a_check_in_from_the_partnership_room(scene: Scene) -> None:
    samen, cast = scene
    cast.fatima.say(cast.board, "!samen afstemming plan")
    dm = samen.dm(cast.fatima)
    # The plan form, as a conversation (Samen answers "Plan een afstemmoment vanuit het kanaal…" now).
    samen.from_samen(cast.fatima, dm, "stop", timeout=10)


# --- reminders -------------------------------------------------------------------------------------------


def test_an_interventions_owner_is_reminded_once(scene: Scene) -> None:
    samen, cast = scene
    breda = _partner_id(samen, "Gemeente Breda")
    politie = _partner_id(samen, "Politie Zeeland-West-Brabant")
    # Monday 8:50 in Amsterdam; the intervention starts on Tuesday: its reminder is due Monday at 9:00.
    monday = datetime(2030, 3, 4, 8, 50, tzinfo=AMSTERDAM)
    samen.clock.set(monday)
    with samen.services.session() as session:
        case = Case(
            title="C-2030-0001 loods Haven",
            lead_partner_id=breda,
            focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
            created_by_team_id=matrix_server(cast.marleen.user_id),
            created_by_user_id=cast.marleen.user_id,
        )
        session.add(case)
        session.flush()
        assert case.id is not None
        session.add(CasePartner(case_id=case.id, partner_id=politie, contribution=Contribution.SLAGKRACHT))
        hans = partners.require_member(
            session, team_id=matrix_server(cast.hans.user_id), user_id=cast.hans.user_id
        )
        start = datetime(2030, 3, 5, 10, 0, tzinfo=AMSTERDAM).astimezone(UTC)
        planning.create(
            session,
            actor=hans,
            draft=planning.Draft(
                case_id=case.id,
                instrument_type=InstrumentType.BESTUURSRECHTELIJK,
                instrument="Controle loods",
                focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
                owner_partner_id=politie,
                owner=hans.person,
                window=Window(start=start, end=start + timedelta(hours=2), has_time=True),
            ),
            settings=samen.services.settings,
            now=samen.clock.now(),
        )
    samen.later(minutes=20)
    samen.deliver()
    dm = samen.dm(cast.hans)
    samen.from_samen(cast.hans, dm, "Controle loods")
    samen.later(minutes=60)
    samen.deliver()
    assert samen.deliver() == 0

    def reminder(said: str) -> bool:
        return "Controle loods" in said and "\U0001f514" in said

    assert _count(samen, cast.hans, dm, reminder) == 1


# --- rugdekking: the silent escalated, a ✅ on the escalation stops it ------------------------------------


def test_the_silent_are_escalated_once_per_step_and_a_check_on_the_escalation_acknowledges(
    scene: Scene,
) -> None:
    samen, cast = scene
    cast.wethouder.say(
        cast.breda, "!rugdekking nu Man met honkbalknuppel bij het gemeentehuis"
    )  # HOOG: 2, 5, 10
    samen.from_samen(cast.wethouder, samen.dm(cast.wethouder), "RD-1 is verstuurd")
    samen.deliver()
    for room, owner in ((cast.politie, cast.hans), (cast.riec, cast.fatima)):
        alert = samen.from_samen(owner, room, "RD-1")
        owner.react(room, alert["event_id"], ACK)
    samen.deliver()

    # T1 (2 minutes): the silent partners' people; the OM acknowledges with ✅ on that direct message.
    samen.later(minutes=3)
    samen.deliver()
    omar_dm = samen.dm(cast.omar)
    first = samen.from_samen(cast.omar, omar_dm, "nog niet bevestigd")
    cast.omar.react(omar_dm, first["event_id"], ACK)
    acknowledged = len(samen.acknowledged(3))

    # T2 (5 minutes): the lead of the partner still silent, once.
    samen.later(minutes=3)
    samen.deliver()
    marleen_dm = samen.dm(cast.marleen)
    second = samen.from_samen(cast.marleen, marleen_dm, "trekker van")
    assert "Gemeente Breda" in _text(second)

    # T3 (10 minutes): the coordinators, about Gemeente Breda only (the OM acknowledged).
    samen.later(minutes=5)
    samen.deliver()
    fatima_dm = samen.dm(cast.fatima)
    samen.from_samen(cast.fatima, fatima_dm, "Bel hen")
    assert samen.deliver() == 0  # each step once: nothing more to send

    def about(partner: str, step: str) -> Callable[[str], bool]:
        return lambda said: partner in said and step in said

    assert _count(samen, cast.marleen, marleen_dm, about("Gemeente Breda", "trekker van")) == 1
    assert _count(samen, cast.fatima, fatima_dm, about("Gemeente Breda", "Bel hen")) == 1
    assert _count(samen, cast.fatima, fatima_dm, about("Openbaar Ministerie", "Bel hen")) == 0
    assert _count(samen, cast.omar, omar_dm, about("Openbaar Ministerie", "nog niet bevestigd")) == 1

    # Marleen acknowledges for Gemeente Breda with ✅ on the lead's escalation.
    cast.marleen.react(marleen_dm, second["event_id"], ACK)
    assert len(samen.acknowledged(acknowledged + 1)) == 4


# --- the reporter's safety check -------------------------------------------------------------------------


def _safety_question(samen: MatrixPartnership, cast: Cast) -> tuple[str, dict[str, Any]]:
    cast.wethouder.say(cast.breda, "!rugdekking nu Dreiging bij de voordeur")
    dm = samen.dm(cast.wethouder)
    samen.from_samen(cast.wethouder, dm, "RD-1 is verstuurd")
    samen.deliver()
    samen.later(minutes=11)
    samen.deliver()
    return dm, samen.from_samen(cast.wethouder, dm, "Ben je veilig?")


def _help_is_raised(samen: MatrixPartnership, cast: Cast, dm: str) -> None:
    samen.from_samen(cast.wethouder, dm, "nemen contact met je op")
    samen.deliver()
    samen.from_samen(cast.fatima, samen.dm(cast.fatima), "ik heb hulp nodig")
    samen.from_samen(cast.marleen, samen.dm(cast.marleen), "ik heb hulp nodig")
    assert _count(samen, cast.hans, samen.dm(cast.hans), lambda said: "ik heb hulp nodig" in said) == 0


def test_i_need_help_by_a_keycap_reaction(scene: Scene) -> None:
    samen, cast = scene
    dm, question = _safety_question(samen, cast)
    cast.wethouder.react(dm, question["event_id"], KEYCAP_TWO)
    _help_is_raised(samen, cast, dm)


def test_i_need_help_by_a_numbered_reply_in_the_direct_room(scene: Scene) -> None:
    samen, cast = scene
    dm, _question = _safety_question(samen, cast)
    cast.wethouder.say(dm, "2")
    _help_is_raised(samen, cast, dm)


# --- encrypted rooms -------------------------------------------------------------------------------------


def test_samen_says_once_it_cannot_read_an_encrypted_room_and_opens_a_direct_room(scene: Scene) -> None:
    samen, cast = scene
    secret = cast.hans.create_room(name="Versleuteld", invite=[samen.bot.user_id], encrypted=True)
    said = samen.from_samen(cast.hans, secret, "versleutelde kamers")
    samen.from_samen(cast.hans, samen.dm(cast.hans), "!samen help")
    # Something encrypted said there afterwards: not a second notice.
    cast.hans.send(
        secret,
        "m.room.encrypted",
        {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AAAA", "session_id": "x", "sender_key": "y"},
    )
    cast.hans.say(secret, "!samen help")
    samen.from_samen(cast.hans, samen.dm(cast.hans), "!samen help")
    assert _count(samen, cast.hans, secret, lambda t: "versleutelde kamers" in t) == 1
    assert said["content"].get("msgtype") == "m.notice"


def test_an_alert_for_a_partner_whose_room_became_encrypted_fails_visibly(scene: Scene) -> None:
    samen, cast = scene
    # The politie switches encryption on in its alert room after Samen joined it.
    cast.hans.call(
        "PUT",
        f"/_matrix/client/v3/rooms/{cast.politie}/state/m.room.encryption/",
        {"algorithm": "m.megolm.v1.aes-sha2"},
    )
    samen.from_samen(cast.hans, cast.politie, "versleutelde kamers")
    cast.wethouder.say(cast.breda, "!rugdekking nu Dreiging bij de voordeur")
    samen.from_samen(cast.wethouder, samen.dm(cast.wethouder), "RD-1 is verstuurd")
    samen.deliver()
    samen.from_samen(cast.fatima, cast.riec, "RD-1")
    with samen.services.engine.connect() as connection:
        failed = connection.execute(
            text("SELECT status, last_error FROM outbox WHERE lane = :room"), {"room": cast.politie}
        ).all()
    assert failed and all("encrypted_room" in f"{status} {error}" for status, error in failed), failed
    assert _count(samen, cast.hans, cast.politie, lambda t: "RD-1" in t) == 0


# --- a form answered wrongly, then stopped ---------------------------------------------------------------


def test_a_wrong_answer_is_asked_again_and_stop_saves_nothing(scene: Scene) -> None:
    samen, cast = scene
    cast.marleen.say(cast.board, "!samen signaal")
    dm = samen.dm(cast.marleen)
    samen.from_samen(cast.marleen, dm, "stop")
    category = samen.answer(cast.marleen, dm, "Busje zonder kenteken bij loods, Haven 12")
    assert "1." in _text(category)
    refused = samen.answer(cast.marleen, dm, "99")
    assert "Typ één nummer van 1 tot en met" in _text(refused), _text(refused)
    stopped = samen.answer(cast.marleen, dm, "stop")
    assert "niets opgeslagen" in _text(stopped)
    with samen.services.session(read_only=True) as session:
        assert session.exec(select(Signal)).all() == []


# --- the front's forms: the partnership's clock and zone, and people mentioned with a pill --------------

FORM = {
    "type": "modal",
    "callback_id": "matrix_scenario_form",
    "title": {"type": "plain_text", "text": "Proef"},
    "blocks": [
        {
            "type": "input",
            "block_id": "day",
            "label": {"type": "plain_text", "text": "Welke dag?"},
            "element": {"type": "datepicker", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "who",
            "label": {"type": "plain_text", "text": "Wie?"},
            "element": {"type": "users_select", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "Toelichting"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
    ],
}


def test_a_form_reads_days_on_the_partnerships_clock_and_a_mention_pill_as_the_person(scene: Scene) -> None:
    from bot.matrix.front import Asker

    samen, cast = scene
    samen.clock.set(datetime(2030, 3, 4, 12, 0, tzinfo=AMSTERDAM))  # a Monday
    samen.connection.direct_room(cast.hans.user_id)  # Samen opens it, as for any form
    dm = samen.dm(cast.hans)
    samen.front._show_view(Asker(cast.hans.user_id, dm, "nl"), "mx-scenario", FORM)
    samen.from_samen(cast.hans, dm, "Welke dag?")
    samen.answer(cast.hans, dm, "morgen")
    # Element: a pill shows the display name in the body; the id is only in the HTML's matrix.to link.
    pill = f'<a href="https://matrix.to/#/{cast.fatima.user_id}">Fatima</a>'
    said = cast.hans.send(
        dm,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "Fatima",
            "format": "org.matrix.custom.html",
            "formatted_body": pill,
            "m.mentions": {"user_ids": [cast.fatima.user_id]},
        },
    )
    stamp = cast.hans.event(dm, said)["origin_server_ts"]
    cast.hans.wait_for(
        dm,
        lambda e: (
            e.get("sender") == samen.bot.user_id
            and e.get("origin_server_ts", 0) >= stamp
            and "Toelichting" in _text(e)
        ),
    )
    values = samen.front._forms[cast.hans.user_id].conversation.state_values()
    assert values["day"]["value"]["selected_date"] == "2030-03-05"
    assert values["who"]["value"]["selected_user"] == cast.fatima.user_id
    stopped = samen.answer(cast.hans, dm, "stop")
    assert "niets opgeslagen" in _text(stopped)


def test_mentioned_in_reads_pills_outside_the_quoted_reply() -> None:
    from bot.matrix.forms import mentioned_in

    html = (
        '<mx-reply><blockquote><a href="https://matrix.to/#/!r:x/$e">In reply to</a> '
        '<a href="https://matrix.to/#/@samen:example.nl">Samen</a></blockquote></mx-reply>'
        '<a href="https://matrix.to/#/%40anne%3Aexample.nl?via=example.nl">Anne</a> en '
        '<a href="matrix:u/bram:example.nl">Bram</a> <a href="https://example.nl/@x:y">niet</a> '
        '<a href="https://matrix.to/#/@anne:example.nl">Anne</a>'
    )
    assert mentioned_in(html) == ["@anne:example.nl", "@bram:example.nl"]
    assert mentioned_in("<a href=") == [] and mentioned_in("") == []
