"""The Synapse harness itself (tests/homeserver.py): people register, talk, react, reply in threads, DM."""

from __future__ import annotations

import urllib.parse
import uuid

import pytest
from homeserver import CHECKMARK, Homeserver, MatrixError


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_synapse_starts_within_a_minute(homeserver: Homeserver) -> None:
    # CI's 30 minutes hold one Synapse per xdist worker only if it starts fast.
    assert 0 < homeserver.started_in < 60, f"Synapse took {homeserver.started_in:.1f} s to start"


def test_people_talk_react_and_reply_in_a_thread(homeserver: Homeserver) -> None:
    karin = homeserver.register(_name("karin"), displayname="Karin")
    piet = homeserver.register(_name("piet"))
    assert karin.user_id.endswith(f":{homeserver.server_name}")

    room = karin.create_room(name="Ondermijning Noord", invite=[piet.user_id])
    assert room in piet.invites()
    piet.join(room)
    assert room in piet.rooms()
    assert karin.state(room, "m.room.name") == {"name": "Ondermijning Noord"}
    assert karin.members(room)[piet.user_id] == "join"

    question = karin.say(room, "Wie kijkt er naar de loods?")
    piet.react(room, question)
    answer = piet.say(room, "Ik, vanmiddag", thread=question)
    quote = karin.say(room, "Dank je", reply_to=answer)

    reaction = karin.wait_for(room, lambda event: event["type"] == "m.reaction")
    assert reaction["sender"] == piet.user_id
    assert reaction["content"]["m.relates_to"] == {
        "rel_type": "m.annotation",
        "event_id": question,
        "key": CHECKMARK,
    }
    in_thread = karin.wait_for(room, lambda event: event.get("event_id") == answer)
    assert in_thread["content"]["body"] == "Ik, vanmiddag"
    assert in_thread["content"]["m.relates_to"]["rel_type"] == "m.thread"
    assert in_thread["content"]["m.relates_to"]["event_id"] == question

    newest = piet.messages(room, limit=3)
    assert [event["event_id"] for event in newest[:2]] == [quote, answer]  # newest first
    assert newest[0]["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": answer}}

    assert [event["event_id"] for event in karin.thread(room, question)] == [answer]
    piet.edit(room, answer, "Ik, morgen")
    karin.edit(room, answer, "niet van Karin")  # only the sender's own edits count
    assert karin.current_content(room, answer)["body"] == "Ik, morgen"
    assert karin.current_content(room, question)["body"] == "Wie kijkt er naar de loods?"

    piet.leave(room)
    assert room not in piet.rooms()


def test_wait_for_says_what_it_saw(homeserver: Homeserver) -> None:
    karin = homeserver.register(_name("karin"))
    room = karin.create_room()
    karin.say(room, "iets anders")
    with pytest.raises(AssertionError, match="iets anders"):
        karin.wait_for(room, lambda event: event["content"].get("body") == "nooit", timeout=0.3)


def test_a_direct_room_is_found_from_either_side(homeserver: Homeserver) -> None:
    karin = homeserver.register(_name("karin"))
    piet = homeserver.register(_name("piet"))
    dm = karin.create_room(invite=[piet.user_id], direct=True)

    assert piet.dm_with(karin.user_id) == dm  # accepts the is_direct invite
    assert dm in piet.rooms()
    assert karin.dm_with(piet.user_id) == dm  # recorded in m.direct when created
    assert piet.dm_with(karin.user_id) == dm  # and again, now joined
    piet.say(dm, "hoi")
    assert karin.wait_for(dm, lambda event: event["content"].get("body") == "hoi")["sender"] == piet.user_id


def test_no_direct_room_fails_in_time(homeserver: Homeserver) -> None:
    karin = homeserver.register(_name("karin"))
    with pytest.raises(AssertionError, match="no direct room"):
        karin.dm_with(homeserver.user_id("niemand"), timeout=0.2)


def test_an_encrypted_room_shows_its_encryption_state(homeserver: Homeserver) -> None:
    karin = homeserver.register(_name("karin"))
    room = karin.create_room(name="Versleuteld", encrypted=True)
    assert karin.state(room, "m.room.encryption") == {"algorithm": "m.megolm.v1.aes-sha2"}
    plain = karin.create_room()
    assert karin.state(plain, "m.room.encryption") is None


def test_the_bot_is_registered_once_and_not_rate_limited(homeserver: Homeserver) -> None:
    bot = homeserver.bot(_name("samen"))
    assert homeserver.bot(bot.user_id[1:].split(":")[0]) is bot
    room = bot.create_room(name="Burst")
    sent = [bot.say(room, f"bericht {number}") for number in range(30)]  # Synapse's default burst is 10
    assert len(set(sent)) == 30
    path = f"/_synapse/admin/v1/users/{urllib.parse.quote(bot.user_id)}/override_ratelimit"
    override = homeserver.admin().call("GET", path)
    assert override == {"messages_per_second": 0, "burst_count": 0}


def test_registration_needs_the_shared_secret(homeserver: Homeserver) -> None:
    forged = Homeserver(url=homeserver.url, server_name=homeserver.server_name, shared_secret="wrong")
    with pytest.raises(MatrixError) as refused:
        forged.register(_name("mallory"))
    assert refused.value.status == 403


def test_a_tight_rate_limit_answers_limit_exceeded(homeserver: Homeserver) -> None:
    karin = homeserver.register(_name("karin"))
    room = karin.create_room()
    homeserver.rate_limit(karin.user_id, messages_per_second=1, burst_count=1)
    path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/send/m.room.message/"
    with pytest.raises(MatrixError) as limited:
        for number in range(5):
            content = {"msgtype": "m.text", "body": str(number)}
            karin.call("PUT", path + uuid.uuid4().hex, content, retry=False)
    assert limited.value.status == 429
    assert limited.value.errcode == "M_LIMIT_EXCEEDED"
    assert limited.value.body["retry_after_ms"] > 0
    karin.say(room, "na het wachten")  # the client waits out retry_after_ms itself
