"""MatrixChat and MatrixConnection (bot/matrix/) against a real Synapse (tests/homeserver.py): what the
outbox and the jobs send arrives as people on Element see it; failures become the seam's outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from homeserver import Homeserver, MatrixUser
from mautrix.errors import make_request_error

from bot.chat import PERMANENT, RETRY_AFTER, TRANSIENT, ChatFailure, Identity, Sent
from bot.matrix.chat import OUTBOX_FIELD, MatrixChat
from bot.matrix.connection import MatrixConnection, outcome_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def bot(homeserver: Homeserver) -> MatrixUser:
    return homeserver.bot(_unique("samen"))


@pytest.fixture(scope="module")
def connection(homeserver: Homeserver, bot: MatrixUser) -> Iterator[MatrixConnection]:
    made = MatrixConnection(homeserver.url, bot.user_id, bot.access_token)
    made.start()
    yield made
    made.close()


@pytest.fixture
def chat(connection: MatrixConnection) -> MatrixChat:
    return MatrixChat(connection)


@pytest.fixture
def karin(homeserver: Homeserver) -> MatrixUser:
    return homeserver.register(_unique("karin"), displayname="Karin")


@pytest.fixture
def room(karin: MatrixUser, bot: MatrixUser, connection: MatrixConnection) -> str:
    """Karin's room, the bot invited and joined."""
    room_id = karin.create_room(name="Partnerschap", invite=[bot.user_id])
    connection.join(room_id)
    return room_id


def _text(event: dict[str, Any]) -> str:
    return str((event.get("content") or {}).get("body") or "")


# -- sending -----------------------------------------------------------------------------------------------


def test_whoami_names_the_bot_and_its_server(chat: MatrixChat, bot: MatrixUser) -> None:
    assert chat.whoami() == Identity(user_id=bot.user_id, bot_id=bot.user_id, team_id="localhost")


def test_a_post_reaches_the_room(chat: MatrixChat, karin: MatrixUser, room: str, bot: MatrixUser) -> None:
    sent = chat.post(room, {"text": "Het bord is bijgewerkt"})
    assert sent.channel == room and sent.message and sent.message.startswith("$")
    event = karin.event(room, sent.message)
    assert event["sender"] == bot.user_id
    assert "Het bord is bijgewerkt" in _text(event)


def test_a_thread_reply_is_in_the_thread_with_a_fallback(
    chat: MatrixChat, karin: MatrixUser, room: str
) -> None:
    root = chat.post(room, {"text": "Check-in van vandaag"})
    reply = chat.post(room, {"text": "Herinnering"}, thread=root.message)
    relation = karin.event(room, str(reply.message))["content"]["m.relates_to"]
    assert relation["rel_type"] == "m.thread"
    assert relation["event_id"] == root.message
    assert relation["is_falling_back"] is True
    assert relation["m.in_reply_to"] == {"event_id": root.message}


def test_an_update_is_an_edit_the_person_sees(chat: MatrixChat, karin: MatrixUser, room: str) -> None:
    first = chat.post(room, {"text": "Bord: 1 van 3 bevestigd"})
    again = chat.update(room, str(first.message), {"text": "Bord: 3 van 3 bevestigd"})
    assert again == Sent(room, first.message)  # the message keeps its first id
    edit = karin.wait_for(
        room, lambda e: (e["content"].get("m.relates_to") or {}).get("rel_type") == "m.replace"
    )
    assert edit["content"]["m.relates_to"]["event_id"] == first.message
    assert "3 van 3" in edit["content"]["m.new_content"]["body"]
    assert edit["content"]["body"].startswith("* ")
    assert "m.relates_to" not in edit["content"]["m.new_content"]


def test_delete_redacts(chat: MatrixChat, karin: MatrixUser, room: str) -> None:
    sent = chat.post(room, {"text": "Per ongeluk"})
    chat.delete(room, str(sent.message))
    event = karin.event(room, str(sent.message))
    assert event["content"] == {}
    assert "redacted_because" in event.get("unsigned", {})


def test_a_direct_message_reaches_the_person_and_stays_in_one_room(
    chat: MatrixChat, karin: MatrixUser, bot: MatrixUser
) -> None:
    sent = chat.direct_message(karin.user_id, {"text": "Alleen voor jou"})
    dm = karin.dm_with(bot.user_id)
    assert sent.channel == dm
    assert "Alleen voor jou" in _text(karin.event(dm, str(sent.message)))
    assert chat.direct_message(karin.user_id, {"text": "Nog iets"}).channel == dm
    assert chat.post(karin.user_id, {"text": "Via post"}).channel == dm


def test_the_direct_room_is_found_again_by_another_process(
    homeserver: Homeserver, chat: MatrixChat, karin: MatrixUser, bot: MatrixUser
) -> None:
    first = chat.direct_message(karin.user_id, {"text": "Hallo"})
    karin.dm_with(bot.user_id)
    other = MatrixConnection(homeserver.url, bot.user_id, bot.access_token)
    try:
        assert other.direct_room(karin.user_id) == first.channel  # from m.direct, not made anew
    finally:
        other.close()


def test_two_threads_asking_for_a_direct_room_make_one(
    homeserver: Homeserver, bot: MatrixUser, karin: MatrixUser
) -> None:
    fresh = MatrixConnection(homeserver.url, bot.user_id, bot.access_token)
    found: list[str] = []
    try:
        threads = [
            threading.Thread(target=lambda: found.append(fresh.direct_room(karin.user_id))) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(found)) == 1 and len(found) == 4
        direct = bot.call("GET", f"/_matrix/client/v3/user/{bot.user_id}/account_data/m.direct")
        assert direct[karin.user_id] == found[:1]
    finally:
        fresh.close()


def test_direct_rooms_for_several_people_are_made_side_by_side_and_all_listed(
    homeserver: Homeserver, bot: MatrixUser
) -> None:
    """The first alert after a start opens a direct room for each duty contact at once: each person gets
    their own, and m.direct (one document for all) lists every one of them."""
    people = [homeserver.register(f"dienst-{uuid.uuid4().hex[:6]}") for _ in range(5)]
    fresh = MatrixConnection(homeserver.url, bot.user_id, bot.access_token)
    found: dict[str, str] = {}
    try:
        threads = [
            threading.Thread(target=lambda p=p: found.__setitem__(p.user_id, fresh.direct_room(p.user_id)))
            for p in people
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(found.values())) == len(people)
        direct = bot.call("GET", f"/_matrix/client/v3/user/{bot.user_id}/account_data/m.direct")
        assert {p.user_id: direct[p.user_id][-1] for p in people} == found
    finally:
        fresh.close()


def test_an_ephemeral_reply_goes_to_the_dm_not_the_room(
    chat: MatrixChat, karin: MatrixUser, bot: MatrixUser, room: str
) -> None:
    chat.ephemeral(room, karin.user_id, {"text": "Alleen jij ziet dit"})
    assert not any("Alleen jij ziet dit" in _text(e) for e in karin.messages(room))
    dm = karin.dm_with(bot.user_id)
    karin.wait_for(dm, lambda e: "Alleen jij ziet dit" in _text(e))


def test_a_file_is_an_image_message(chat: MatrixChat, karin: MatrixUser, room: str) -> None:
    root = chat.post(room, {"text": "Overzicht"})
    sent = chat.upload_file(
        room, PNG, filename="grafiek.png", title="Grafiek", alt_text="Signalen per week", thread=root.message
    )
    content = karin.event(room, str(sent.message))["content"]
    assert content["msgtype"] == "m.image"
    assert content["url"].startswith("mxc://")
    assert content["info"] == {"mimetype": "image/png", "size": len(PNG)}
    assert content["body"] == "Signalen per week" and content["filename"] == "grafiek.png"
    assert content["m.relates_to"]["event_id"] == root.message


def test_person_reads_the_profile(chat: MatrixChat, karin: MatrixUser, homeserver: Homeserver) -> None:
    person = chat.person(karin.user_id)
    assert person is not None
    assert (person.user_id, person.team_id, person.name) == (karin.user_id, "localhost", "Karin")
    assert chat.person(homeserver.user_id(_unique("niemand"))) is None
    assert chat.person("karin") is None


# -- the outbox's guarantees --------------------------------------------------------------------------------


def test_find_posted_finds_a_post_by_its_outbox_id(chat: MatrixChat, room: str, karin: MatrixUser) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    sent = chat.post(room, {"text": "Signaal gemeld"}, outbox_id=41)
    assert karin.event(room, str(sent.message))["content"][OUTBOX_FIELD] == 41
    assert chat.find_posted(room, outbox_id=41, since=since) == sent
    assert chat.find_posted(room, outbox_id=42, since=since) is None
    dm = chat.direct_message(karin.user_id, {"text": "Persoonlijk"}, outbox_id=43)
    assert chat.find_posted(karin.user_id, outbox_id=43, since=since) == dm


def test_find_posted_ignores_what_came_before_since(chat: MatrixChat, room: str) -> None:
    chat.post(room, {"text": "Oud"}, outbox_id=51)
    assert chat.find_posted(room, outbox_id=51, since=datetime.now(UTC) + timedelta(hours=1)) is None


def test_a_retried_send_of_the_same_row_is_one_event(
    homeserver: Homeserver, chat: MatrixChat, room: str, karin: MatrixUser, bot: MatrixUser
) -> None:
    content = {"text": "Rugdekking gevraagd"}
    first = chat.post(room, content, outbox_id=7)
    again = chat.post(room, content, outbox_id=7)  # the outbox trying again after a timeout
    elsewhere = MatrixConnection(homeserver.url, bot.user_id, bot.access_token)  # another worker process
    try:
        third = MatrixChat(elsewhere).post(room, content, outbox_id=7)
    finally:
        elsewhere.close()
    assert first == again == third
    marked = [e for e in karin.messages(room) if e["content"].get(OUTBOX_FIELD) == 7]
    assert len(marked) == 1


# -- failures --------------------------------------------------------------------------------------------


def test_a_room_the_bot_is_not_in_is_permanent(chat: MatrixChat, karin: MatrixUser) -> None:
    elsewhere = karin.create_room(name="Zonder Samen")
    with pytest.raises(ChatFailure) as failed:
        chat.post(elsewhere, {"text": "Hallo"})
    assert (failed.value.outcome.kind, failed.value.outcome.reason) == (PERMANENT, "forbidden")


def test_a_bad_room_id_is_permanent(chat: MatrixChat) -> None:
    with pytest.raises(ChatFailure) as failed:
        chat.post("C0123SLACK", {"text": "Hallo"})
    assert (failed.value.outcome.kind, failed.value.outcome.reason) == (PERMANENT, "bad_room_id")


def test_a_refused_token_is_for_an_operator(homeserver: Homeserver, bot: MatrixUser) -> None:
    wrong = MatrixConnection(homeserver.url, bot.user_id, "syt_not_a_token")
    try:
        with pytest.raises(ChatFailure) as failed:
            MatrixChat(wrong).whoami()
    finally:
        wrong.close()
    outcome = failed.value.outcome
    assert (outcome.kind, outcome.refused, outcome.reason) == (TRANSIENT, True, "unknown_token")
    assert "syt_not_a_token" not in repr(wrong)


def test_an_encrypted_room_is_refused_and_nothing_is_sent(
    chat: MatrixChat, connection: MatrixConnection, karin: MatrixUser, bot: MatrixUser
) -> None:
    secret = karin.create_room(name="Versleuteld", invite=[bot.user_id], encrypted=True)
    connection.join(secret)
    assert connection.is_encrypted(secret)
    with pytest.raises(ChatFailure) as failed:
        chat.post(secret, {"text": "Niet te lezen"})
    assert (failed.value.outcome.kind, failed.value.outcome.reason) == (PERMANENT, "encrypted_room")
    with pytest.raises(ChatFailure):
        chat.update(secret, "$whatever", {"text": "Niet te lezen"})
    assert not any(
        e["sender"] == bot.user_id and e["type"] == "m.room.message" for e in karin.messages(secret)
    )


def test_forms_need_the_fronts_hook(chat: MatrixChat) -> None:
    with pytest.raises(ChatFailure) as failed:
        chat.open_form("trigger", {"type": "modal"})
    assert failed.value.outcome.reason == "no_forms"
    opened: list[str] = []

    def open_form(trigger: str, form: Any) -> str:
        opened.append(trigger)
        return "mx-1"

    chat.forms = open_form
    assert chat.open_form("t-1", {"type": "modal"}) == "mx-1" and opened == ["t-1"]
    chat.publish_home("@karin:localhost", {"type": "home"})  # no App Home on Matrix: nothing happens


def test_rate_limit_mapping() -> None:
    limited = make_request_error(429, "", "M_LIMIT_EXCEEDED", "Too many requests")
    limited.retry_after = 2.5  # type: ignore[attr-defined]
    outcome = outcome_of(limited)
    assert outcome is not None and (outcome.kind, outcome.reason, outcome.retry_after) == (
        RETRY_AFTER,
        "rate_limited",
        2.5,
    )
    bare = outcome_of(make_request_error(429, "", None, None))
    assert bare is not None and bare.kind == RETRY_AFTER and bare.retry_after == 1.0
    down = outcome_of(make_request_error(502, "Bad Gateway", None, None))
    assert down is not None and (down.kind, down.maybe_delivered) == (TRANSIENT, True)
    missing = outcome_of(make_request_error(404, "", "M_NOT_FOUND", "Event not found"))
    assert missing is not None and (missing.kind, missing.reason) == (PERMANENT, "not_found")
    assert outcome_of(ValueError("a bug of ours")) is None


class _Answer(http.server.BaseHTTPRequestHandler):
    """A homeserver that answers every request the same way (set per test on the server)."""

    def do_GET(self) -> None:
        status, body, delay = self.server.answer  # type: ignore[attr-defined]
        time.sleep(delay)
        if status == 0:  # hang up without an answer
            self.close_connection = True
            self.connection.shutdown(2)
            return
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up waiting (the timeout case)
            self.wfile.write(raw)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[tuple[http.server.ThreadingHTTPServer, MatrixConnection]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    made = MatrixConnection(
        f"http://127.0.0.1:{server.server_address[1]}", "@samen:localhost", "t", timeout=1.0
    )
    try:
        yield server, made
    finally:
        made.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "slow down", "retry_after_ms": 2500}, 0),
            (RETRY_AFTER, 2.5),
        ),
        ((429, {"errcode": "M_LIMIT_EXCEEDED"}, 0), (RETRY_AFTER, 1.0)),
        ((503, {"errcode": "M_UNKNOWN"}, 0), (TRANSIENT, None)),
        ((401, {"errcode": "M_UNKNOWN_TOKEN", "soft_logout": False}, 0), (TRANSIENT, None)),
        ((0, {}, 0), (TRANSIENT, None)),  # the connection dropped
        ((200, {"user_id": "@samen:localhost"}, 3), (TRANSIENT, None)),  # no answer within the timeout
    ],
)
def test_what_a_homeserver_answers_becomes_an_outcome(
    answering: tuple[http.server.ThreadingHTTPServer, MatrixConnection],
    answer: tuple[int, dict[str, Any], float],
    expected: tuple[str, float | None],
) -> None:
    server, connection = answering
    server.answer = answer  # type: ignore[attr-defined]
    with pytest.raises(ChatFailure) as failed:
        connection.whoami()
    outcome = failed.value.outcome
    assert (outcome.kind, outcome.retry_after) == expected
    if answer[0] == 401:
        assert outcome.refused
    elif outcome.kind == TRANSIENT:
        assert outcome.maybe_delivered


def test_for_services_shares_one_connection_per_process(homeserver: Homeserver, bot: MatrixUser) -> None:
    from types import SimpleNamespace

    settings = SimpleNamespace(
        matrix_homeserver_url=homeserver.url,
        matrix_user_id=bot.user_id,
        matrix_access_token=bot.access_token,
        samen_language="nl",
    )
    services: Any = SimpleNamespace(settings=settings)
    first, second = MatrixChat.for_services(services), MatrixChat.for_services(services)
    try:
        assert first.connection is second.connection
        assert first.whoami().user_id == bot.user_id
    finally:
        first.connection.close()


def test_two_threads_starting_the_connection_at_once_do_not_lock_its_loop() -> None:
    """The client is made on the loop; a second thread that saw the loop before the client existed used to
    hand it work that started the connection again on the loop itself — stuck for good."""

    class Slow(MatrixConnection):
        async def _make_client(self) -> Any:
            await asyncio.sleep(0.3)
            return await super()._make_client()

    connection = Slow("http://127.0.0.1:9", "@samen:localhost", "syt_0123456789abcdef", timeout=2)
    outcomes: list[str] = []

    def ask() -> None:
        try:
            connection.whoami()
        except ChatFailure as failure:
            outcomes.append(failure.outcome.kind)

    first = threading.Thread(target=ask)
    first.start()
    time.sleep(0.1)
    ask()
    first.join(10)
    connection.close()
    # Nobody listens on port 9: refused (transient), not the timeout of a stuck loop.
    assert outcomes == [TRANSIENT, TRANSIENT]
