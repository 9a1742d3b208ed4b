"""The partnership on Matrix (Element), against a real Synapse: people type, reply and react with a Matrix
client and read what Samen sent — the booklet's scenarios as on Slack, in Matrix's ways (docs/matrix.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from homeserver import Homeserver, MatrixUser
from matrix_harness import MatrixPartnership, start_matrix, unique
from sqlmodel import select

from bot.outbox.models import OutboxMessage
from bot.signals.models import Signal

ACK = "\u2705"


@dataclass
class Cast:
    """The people of the scenarios and their rooms."""

    wethouder: MatrixUser  # Gemeente Breda, asks for backup
    marleen: MatrixUser  # Gemeente Breda's lead
    hans: MatrixUser  # Politie's lead
    fatima: MatrixUser  # RIEC, coordinator
    omar: MatrixUser  # Openbaar Ministerie, no room of its own
    stranger: MatrixUser  # not in the partnership
    board: str  # the partnership's room
    breda: str
    politie: str
    riec: str


def partners_file(c: Cast) -> str:
    return f"""\
partners:
  - name: Gemeente Breda
    type: GEMEENTE
    alert_channel: "{c.breda}"
    lead: "{c.marleen.user_id}"
    duty_contacts: ["{c.marleen.user_id}"]
    members:
      - {{user: "{c.wethouder.user_id}", name: Wethouder}}
      - {{user: "{c.marleen.user_id}", name: Marleen}}
  - name: Politie Zeeland-West-Brabant
    type: POLITIE
    alert_channel: "{c.politie}"
    lead: "{c.hans.user_id}"
    duty_contacts: ["{c.hans.user_id}"]
    members:
      - {{user: "{c.hans.user_id}", name: Hans}}
  - name: RIEC Zeeland-West-Brabant
    type: RIEC
    alert_channel: "{c.riec}"
    lead: "{c.fatima.user_id}"
    duty_contacts: ["{c.fatima.user_id}"]
    members:
      - {{user: "{c.fatima.user_id}", role: coordinator, name: Fatima}}
  - name: Openbaar Ministerie
    type: OM
    members:
      - {{user: "{c.omar.user_id}", name: Omar}}
"""


def cast_on(homeserver: Homeserver, bot: MatrixUser) -> Cast:
    people = {
        name: homeserver.register(unique(name), displayname=name.title())
        for name in ("wethouder", "marleen", "hans", "fatima", "omar", "stranger")
    }

    def room(owner: MatrixUser, name: str, *members: MatrixUser) -> str:
        made = owner.create_room(name=name, invite=[m.user_id for m in members] + [bot.user_id])
        for member in members:
            member.join(made)
        return made

    p = people
    return Cast(
        **p,
        board=room(p["fatima"], "Samen", p["wethouder"], p["marleen"], p["hans"], p["omar"], p["stranger"]),
        breda=room(p["marleen"], "Breda", p["wethouder"]),
        politie=room(p["hans"], "Politie"),
        riec=room(p["fatima"], "RIEC"),
    )


@pytest.fixture
def on_matrix(homeserver: Homeserver, sqlite_url: str) -> Iterator[tuple[MatrixPartnership, Cast]]:
    bot = homeserver.bot(unique("samen"))
    cast = cast_on(homeserver, bot)
    for partnership in start_matrix(
        sqlite_url,
        homeserver,
        bot,
        partners=partners_file(cast),
        SAMEN_PARTNERSHIP_CHANNEL=cast.board,
    ):
        for room, owner in ((cast.board, cast.fatima), (cast.breda, cast.marleen), (cast.politie, cast.hans)):
            owner.wait_for(room, lambda e: _joined(e, bot.user_id))
        yield partnership, cast


def _joined(event: dict[str, Any], user_id: str) -> bool:
    return (
        event.get("type") == "m.room.member"
        and event.get("state_key") == user_id
        and (event.get("content") or {}).get("membership") == "join"
    )


def _text(event: dict[str, Any]) -> str:
    content = event.get("content") or {}
    return str((content.get("m.new_content") or {}).get("body") or content.get("body") or "")


# --- joining, help -----------------------------------------------------------------------------------


def test_samen_joins_the_members_rooms_and_answers_help_in_a_direct_room(
    on_matrix: tuple[MatrixPartnership, Cast],
) -> None:
    samen, cast = on_matrix
    cast.hans.say(cast.board, "!samen help")
    dm = samen.dm(cast.hans)
    helped = samen.from_samen(cast.hans, dm, "!samen")
    assert "signaal" in _text(helped) and "rugdekking" in _text(helped)
    assert (helped["content"].get("format")) == "org.matrix.custom.html"
    # Need-to-know: the answer went to Hans alone, nothing in the shared room.
    said = [e for e in cast.fatima.messages(cast.board) if e.get("type") == "m.room.message"]
    assert [e for e in said if e.get("sender") == samen.bot.user_id] == []


def test_a_stranger_is_told_whom_to_ask_and_samen_declines_their_invitation(
    on_matrix: tuple[MatrixPartnership, Cast],
) -> None:
    samen, cast = on_matrix
    asked = cast.stranger.say(cast.board, "!samen werkvoorraad")
    answer = samen.from_samen(cast.stranger, cast.board, "geen deelnemer")
    assert (answer["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == asked
    assert cast.fatima.user_id in str(answer["content"].get("formatted_body"))  # the coordinator to ask

    own = cast.stranger.create_room(name="Eigen kamer", invite=[samen.bot.user_id])
    cast.stranger.wait_for(
        own,
        lambda e: (
            e.get("type") == "m.room.member"
            and e.get("state_key") == samen.bot.user_id
            and (e.get("content") or {}).get("membership") == "leave"
        ),
    )


# --- a signal, registered in a conversation ----------------------------------------------------------


def test_a_signal_is_registered_in_a_short_conversation_in_the_direct_room(
    on_matrix: tuple[MatrixPartnership, Cast],
) -> None:
    samen, cast = on_matrix
    cast.marleen.say(cast.board, "!samen signaal")
    dm = samen.dm(cast.marleen)
    samen.from_samen(cast.marleen, dm, "stop")
    category = samen.answer(cast.marleen, dm, "Busje zonder kenteken bij loods, Haven 12")
    assert "1." in _text(category) and "2." in _text(category)
    reply = samen.answer(cast.marleen, dm, "1")
    # The optional questions: skipped one by one ("-") until Samen confirms the registration.
    for _ in range(15):
        if "stop" not in _text(reply):
            break
        reply = samen.answer(cast.marleen, dm, "-")
    with samen.services.session(read_only=True) as session:
        [signal] = session.exec(select(Signal)).all()
    assert "Busje" in signal.summary


# --- rugdekking: every partner alerted, acknowledged with ✅, the silent escalated ---------------------


def test_a_backup_alert_reaches_every_partner_room_and_acknowledgements_edit_the_board(
    on_matrix: tuple[MatrixPartnership, Cast],
) -> None:
    samen, cast = on_matrix
    cast.wethouder.say(cast.breda, "!rugdekking nu Man met honkbalknuppel bij het gemeentehuis")
    samen.from_samen(cast.wethouder, samen.dm(cast.wethouder), "RD-1 is verstuurd")
    samen.deliver()
    alerts = {
        room: samen.from_samen(owner, room, "RD-1")
        for room, owner in ((cast.politie, cast.hans), (cast.riec, cast.fatima), (cast.breda, cast.marleen))
    }
    board = samen.from_samen(cast.fatima, cast.board, "RD-1")
    # Need-to-know: the description stays out of the shared rooms' broadcast.
    assert "honkbalknuppel" not in _text(alerts[cast.politie])

    cast.hans.react(cast.politie, alerts[cast.politie]["event_id"], ACK)
    cast.fatima.react(cast.riec, alerts[cast.riec]["event_id"], ACK)
    assert samen.acknowledged(2) == ["chat", "chat"]
    samen.deliver()
    edited = cast.fatima.wait_for(
        cast.board,
        lambda e: (
            (e.get("content") or {}).get("m.relates_to", {}).get("event_id") == board["event_id"]
            and (e.get("content") or {}).get("m.relates_to", {}).get("rel_type") == "m.replace"
        ),
    )
    assert "RD-1" in _text(edited)

    # Gemeente Breda and the OM stay silent: after the first step their people are told, in a direct room.
    samen.later(minutes=6)
    samen.deliver()
    marleen_dm = samen.dm(cast.marleen)
    samen.from_samen(cast.marleen, marleen_dm, "nog niet bevestigd")


def test_the_reporter_is_asked_whether_they_are_safe_and_answers_with_a_reaction(
    on_matrix: tuple[MatrixPartnership, Cast],
) -> None:
    samen, cast = on_matrix
    cast.wethouder.say(cast.breda, "!rugdekking nu Dreiging bij de voordeur")
    samen.from_samen(cast.wethouder, samen.dm(cast.wethouder), "RD-1 is verstuurd")
    samen.deliver()
    samen.later(minutes=11)
    samen.deliver()
    dm = samen.dm(cast.wethouder)
    question = samen.from_samen(cast.wethouder, dm, "Ben je veilig?")
    cast.wethouder.react(dm, question["event_id"], ACK)
    samen.from_samen(cast.wethouder, dm, "Fijn dat je veilig bent")


# --- the homeserver's rate limit ------------------------------------------------------------------------


def test_a_rate_limited_bot_still_alerts_every_partner_exactly_once(
    on_matrix: tuple[MatrixPartnership, Cast],
) -> None:
    """An operator forgot to lift the bot's limit: Synapse answers 429 M_LIMIT_EXCEEDED with retry_after_ms.
    Each room waits as long as asked (the outbox's lanes are rooms) and every alert arrives once."""
    samen, cast = on_matrix
    samen.homeserver.rate_limit(samen.bot.user_id, messages_per_second=1, burst_count=2)
    try:
        cast.wethouder.say(cast.breda, "!rugdekking nu Dreiging bij de voordeur")
        samen.from_samen(cast.wethouder, samen.dm(cast.wethouder), "RD-1 is verstuurd", timeout=30)
        deadline = time.monotonic() + 60
        rooms = {cast.politie: cast.hans, cast.riec: cast.fatima, cast.breda: cast.marleen}
        while time.monotonic() < deadline:
            samen.deliver()
            arrived = {room: _alerts_in(owner, room, samen) for room, owner in rooms.items()}
            if all(arrived.values()):
                break
            time.sleep(0.5)
        samen.deliver()
        assert {room: len(_alerts_in(owner, room, samen)) for room, owner in rooms.items()} == dict.fromkeys(
            rooms, 1
        )
        with samen.services.session(read_only=True) as session:
            limited = session.exec(
                select(OutboxMessage).where(OutboxMessage.attempts > 1)  # type: ignore[operator]
            ).all()
        assert limited, "the homeserver's 429s were waited out, not avoided"
    finally:
        samen.homeserver.rate_limit(samen.bot.user_id)


def _alerts_in(owner: MatrixUser, room: str, samen: MatrixPartnership) -> list[dict[str, Any]]:
    return [
        e
        for e in owner.messages(room, limit=100)
        if e.get("sender") == samen.bot.user_id
        and e.get("type") == "m.room.message"
        and "m.new_content" not in (e.get("content") or {})
        and "RD-1" in _text(e)
    ]


# --- every subcommand of help ---------------------------------------------------------------------------

APOLOGY = "er ging bij ons iets mis"


def test_every_subcommand_that_help_lists_answers_on_matrix(
    on_matrix: tuple[MatrixPartnership, Cast],
) -> None:
    """What `!samen help` lists, a coordinator types as it reads: each gets an answer (or its form's first
    question) in the direct room, never the apology for an error."""
    samen, cast = on_matrix
    cast.fatima.say(cast.board, "!samen help")
    dm = samen.dm(cast.fatima)
    helped = samen.from_samen(cast.fatima, dm, "!samen")
    words = sorted(set(re.findall(r"!samen ([a-z]+)", _text(helped))) - {"help"})
    assert len(words) >= 10, _text(helped)
    for word in words:
        answer = samen.answer(cast.fatima, dm, f"!samen {word}", timeout=30)
        assert APOLOGY not in _text(answer), word
        if "stop" in _text(answer):  # a form began: leave it, as a person would
            samen.answer(cast.fatima, dm, "stop")
