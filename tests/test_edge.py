"""The edge: every hostile request to Slack's path is refused before anything reads it, and nothing it
names is ever called (bot/slack/wsgi.py, bot/slack/edge.py, bot/slack/sanitize.py).

Each kind of request is sent, as raw bytes with exactly the headers chosen, to the in-process server the
suite uses and to a real `samen serve` (gunicorn) process. Every payload names an attacker's host as its
`response_url`: a local listener that counts what reaches it, which must be nothing. The Slack double
must not be called either. Lone UTF-16 surrogates are sent through the four forms they used to crash
(signal register and weigh, backup alert raise and supporting action), over HTTP and Socket Mode.
How many requests of each kind were tried, and their answers, is printed at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from conftest import BOT_TOKEN, SIGNING_SECRET, BotUnderTest, _Lines, make_settings
from privacy_support import PARTNERSHIP, register_signal, weigh
from rugdekking_support import (
    BOARD,
    FATIMA,
    HANS,
    ILSE,
    MARLEEN,
    POLITIE_CHANNEL,
    WETHOUDER,
    click,
    deliver,
    raise_with_form,
    set_up_partnership,
    start_bot,
)
from slack_sdk import WebClient
from sqlmodel import select
from test_serve import free_port, healthy, running, samen_env

from bot.alerts.models import BackupAlert, SupportAction
from bot.db import make_engine, upgrade
from bot.runtime import Services
from bot.signals.models import Assessment, Signal
from bot.slack.app import create_app
from bot.slack.edge import MAX_BODY_BYTES
from bot.slack.sanitize import REPLACEMENT, clean_text
from bot.slack.socketmode import socket_mode_handler
from commands import register_all
from slackdouble import Payloads, SlackDouble, SlackDriver

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
LONE = "\udfff"  # what a JSON escape "\udfff" decodes to: no UTF-8 can carry it
APP_TOKEN = "xapp-1-A0SAMEN-1-test"
TALLY: Counter[tuple[str, str, int]] = Counter()  # (server, kind, status) → requests


# -- an attacker's host, and sending exactly the bytes chosen ------------------------------------------


class Attacker:
    """A local HTTP listener standing for a host an attacker names in `response_url`."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Record(BaseHTTPRequestHandler):
            def _any(self) -> None:
                hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _any

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/steal"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    listener = Attacker()
    yield listener
    listener.stop()


def send(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    method: str = "POST",
    path: str | None = None,
    content_length: str | None = None,
    chunked: bool = False,
) -> int:
    """The status of one request carrying exactly these headers and bytes (a Content-Length that lies,
    or none at all, included)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=15)
    try:
        connection.putrequest(method, path or parts.path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
            body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        else:
            connection.putheader("Content-Length", content_length or str(len(body)))
        connection.endheaders()
        # Refused before the body was read, the connection may close under it: the answer is there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.send(body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def signed(
    body: bytes, content_type: str = FORM, *, at: float | None = None, stamp: str | None = None
) -> dict[str, str]:
    timestamp = stamp if stamp is not None else str(int(time.time() if at is None else at))
    # As Slack signs: over the bytes, whatever they are (slack_sdk's signer would decode them first).
    mac = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + mac.hexdigest(),
    }


# -- the hostile requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    kind: str
    answer: int
    request: Callable[[bytes], tuple[bytes, dict[str, str], dict[str, Any]]]  # body → what is sent


def bodies(attacker_url: str) -> list[bytes]:
    """A slash command, a click and a form submission, each naming the attacker's host to answer."""
    payloads = Payloads()
    command = {**payloads.command("/samen", "signalen", user=HANS.user_id), "response_url": attacker_url}
    click_ = {
        **payloads.block_actions("signal_weigh", "1", user=FATIMA.user_id),
        "response_url": attacker_url,
    }
    form = payloads.view_submission("signal_register", {"summary": {"value": "Busjes"}}, user=MARLEEN.user_id)
    form["response_urls"] = [
        {"block_id": "b", "action_id": "a", "channel_id": BOARD, "response_url": attacker_url}
    ]
    return [
        urlencode(command).encode(),
        urlencode({"payload": json.dumps(click_)}).encode(),
        urlencode({"payload": json.dumps(form)}).encode(),
    ]


def with_headers(**changes: str | None) -> Callable[[bytes], tuple[bytes, dict[str, str], dict[str, Any]]]:
    """The body signed now, then the headers changed (None: left out)."""

    def build(body: bytes) -> tuple[bytes, dict[str, str], dict[str, Any]]:
        headers = signed(body)
        for name, value in changes.items():
            header = {"timestamp": "X-Slack-Request-Timestamp", "signature": "X-Slack-Signature"}[name]
            if value is None:
                headers.pop(header)
            else:
                headers[header] = value
        return body, headers, {}

    return build


def signed_at(stamp: Callable[[], str]) -> Callable[[bytes], tuple[bytes, dict[str, str], dict[str, Any]]]:
    """A correct HMAC over a timestamp that is not whole seconds in ASCII, or not within five minutes."""
    return lambda body: (body, signed(body, stamp=stamp()), {})


def replaced(
    new_body: bytes, content_type: str = FORM, *, sign: bool = True, **options: Any
) -> Callable[[bytes], tuple[bytes, dict[str, str], dict[str, Any]]]:
    def build(_body: bytes) -> tuple[bytes, dict[str, str], dict[str, Any]]:
        headers = signed(new_body, content_type) if sign else {"Content-Type": content_type}
        if not sign:
            headers["X-Slack-Request-Timestamp"] = str(int(time.time()))
            headers["X-Slack-Signature"] = "v0=" + "0" * 64
        return new_body, headers, options

    return build


def now(delta: float = 0) -> str:
    return str(int(time.time() + delta))


def nested(depth: int) -> bytes:
    return urlencode(
        {"payload": '{"type": "block_actions", "x": ' + "[" * depth + "]" * depth + "}"}
    ).encode()


OVERSIZED = b"payload=" + b"A" * MAX_BODY_BYTES
HOSTILE = [
    Hostile("no signature headers", 401, with_headers(timestamp=None, signature=None)),
    Hostile("no timestamp", 401, with_headers(timestamp=None)),
    Hostile("no signature", 401, with_headers(signature=None)),
    Hostile("empty timestamp", 401, with_headers(timestamp="")),
    Hostile("empty signature", 401, with_headers(signature="")),
    Hostile("timestamp abc", 401, with_headers(timestamp="abc")),
    Hostile("timestamp 1e3", 401, with_headers(timestamp="1e3")),
    Hostile("timestamp 1796600111.5", 401, with_headers(timestamp="1796600111.5")),
    Hostile("float timestamp, signed over it", 401, signed_at(lambda: f"{time.time():.1f}")),
    Hostile("timestamp ' now', signed over it", 401, signed_at(lambda: " " + now())),
    Hostile("timestamp '+now', signed over it", 401, signed_at(lambda: "+" + now())),
    Hostile(
        "timestamp ending in a superscript ²",  # str.isdigit() says yes, int() raises
        401,
        signed_at(lambda: now()[:-1] + "²"),
    ),
    Hostile("malformed signature", 401, with_headers(signature="v0=not-hex")),
    Hostile("signature of another scheme", 401, with_headers(signature="v1=" + "a" * 64)),
    Hostile("wrong signature", 401, with_headers(signature="v0=" + "0" * 64)),
    Hostile("stale, signed six minutes ago", 401, signed_at(lambda: now(-6 * 60))),
    Hostile("from the future, signed", 401, signed_at(lambda: now(6 * 60))),
    Hostile("non-UTF-8 body, unsigned", 401, replaced(b"payload=\xff\xfe{}", sign=False)),
    Hostile("non-UTF-8 body, signed", 400, replaced(b"text=caf\xe9&command=/samen")),
    Hostile("non-UTF-8 JSON body, signed", 400, replaced(b'{"type": "\xc3\x28"}', JSON)),
    Hostile("percent-encoded non-UTF-8, signed", 400, replaced(b"command=%2Fsamen&text=%ff%fe")),
    Hostile("payload= not JSON, unsigned", 401, replaced(b"payload=%7Bnot+json", sign=False)),
    Hostile("payload= not JSON, signed", 400, replaced(b"payload=%7Bnot+json")),
    Hostile("payload= a JSON array, signed", 400, replaced(b"payload=%5B1%2C2%5D")),
    Hostile("payload= JSON null, signed", 400, replaced(b"payload=null")),
    Hostile("JSON body an array, signed", 400, replaced(b"[1, 2]", JSON)),
    Hostile("JSON body a string, signed", 400, replaced(b'"x"', JSON)),
    Hostile("JSON body not JSON, signed", 400, replaced(b"{not json", JSON)),
    Hostile("payload nested 3,000 deep, signed", 400, replaced(nested(3000))),
    Hostile("payload nested 100 deep, signed", 400, replaced(nested(100))),
    Hostile("empty body, signed", 400, replaced(b"")),
    Hostile("oversized body, signed", 413, replaced(OVERSIZED)),
    Hostile("oversized body, unsigned", 413, replaced(OVERSIZED, sign=False)),
    Hostile("huge Content-Length", 413, replaced(b"payload={}", content_length="1000000000000")),
    Hostile("malformed Content-Length", 400, replaced(b"payload={}", content_length="10abc")),
    Hostile("no Content-Length (chunked)", 411, replaced(b"payload=%7B%7D", chunked=True)),
    Hostile("GET on Slack's path", 405, replaced(b"", method="GET")),
    Hostile("PUT on Slack's path", 405, replaced(b"payload={}", method="PUT")),
    Hostile("POST elsewhere", 404, replaced(b"payload={}", path="/slack/other")),
    Hostile("GET an OAuth page without OAuth", 404, replaced(b"", method="GET", path="/slack/install")),
]


def try_every_kind(server: str, url: str, double: SlackDouble, attacker: Attacker) -> None:
    """Each kind with each body; then: the expected answer every time, and no outbound call at all."""
    calls = len(double.calls)
    for hostile in HOSTILE:
        for body in bodies(attacker.url):
            sent, headers, options = hostile.request(body)
            status = send(url, sent, headers, **options)
            TALLY[(server, hostile.kind, status)] += 1
            assert status == hostile.answer, f"{server}: {hostile.kind}: HTTP {status}"
    time.sleep(0.3)  # anything started in the background would have called out by now
    assert attacker.hits == []
    assert double.calls[calls:] == []


# -- the in-process server --------------------------------------------------------------------------------


@pytest.fixture
def slack(sqlite_url: str, slack_double: SlackDouble) -> Iterator[BotUnderTest]:
    for bot in start_bot(sqlite_url, slack_double):
        set_up_partnership(bot.services, PARTNERSHIP)
        yield bot


def test_every_hostile_request_is_refused_before_anything_reads_it(
    slack: BotUnderTest, attacker: Attacker, _log_lines: _Lines
) -> None:
    start = len(_log_lines.lines)
    try_every_kind("in-process", slack.url, slack.double, attacker)
    logged = _log_lines.lines[start:]
    refusals = [line for line in logged if "refused a request to Slack's path" in line]
    edge_kinds = [h for h in HOSTILE if h.answer not in (404, 405)]
    assert len(refusals) == 3 * len(edge_kinds)  # one line per refusal …
    assert not [line for line in logged if '"level": "error"' in line or "Traceback" in line]
    assert not [line for line in logged if "Busjes" in line or "steal" in line]  # … and no body in any


def test_a_signed_request_that_fails_apologises_only_to_slack(
    slack: BotUnderTest, attacker: Attacker
) -> None:
    """Even a verified request cannot make the error handler post its apology to another host."""
    with slack.services.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE signal")  # something nobody typing can fix
    payloads = Payloads(double=slack.double)
    for response_url in (attacker.url, slack.double.response_url("action")):
        click_ = payloads.block_actions("signal_weigh", "1", user=FATIMA.user_id, channel=BOARD)
        click_["response_url"] = response_url
        # (Bolt may answer 404 when a listener fails right after its ack: its runner then drops the
        # ack. Never a 5xx.)
        assert slack.driver.interactive(click_).status < 500
    apology = slack.double.wait_for("response_url")[-1]
    assert apology.args["text"].startswith("Sorry, er ging bij ons iets mis.")
    assert len(slack.double.calls_to("response_url")) == 1
    assert attacker.hits == []


# -- lone surrogates in the four forms that crashed -------------------------------------------------------


def fill_the_four_forms(bot: BotUnderTest) -> list[bytes]:
    """Register and weigh a signal, raise a backup alert and record a supporting action, each with a
    lone surrogate in its text; the bodies sent, to be replayed unsigned."""
    registered = register_signal(bot, MARLEEN, f"Loods {LONE} met busjes", details=f"Achter{LONE}om")
    sent = [bot.driver.last.body]
    weigh(bot, FATIMA, registered.signal_id, "CASUS", verdict_reason=f"Patroon {LONE} past")
    sent.append(bot.driver.last.body)
    raise_with_form(bot, WETHOUDER, description=f"Twee{LONE} mannen", place="Thuis \ud800")
    sent.append(bot.driver.last.body)
    deliver(bot)
    click(bot, "rugdekking_act", ILSE, channel=POLITIE_CHANNEL)
    bot.double.wait_for("views.open", lambda c: c.args["view"]["callback_id"] == "rugdekking_action")
    values = {"rd_kind": {"kind": "EXTRA_TOEZICHT"}, "rd_note": {"note": f"Surveillance {LONE}"}}
    form = bot.double.last_view("rugdekking_action")
    answer = bot.driver.view_submission("rugdekking_action", values, user=ILSE.user_id, view=form)
    assert answer.status == 200 and answer.json()["response_action"] == "update"
    sent.append(bot.driver.last.body)
    return sent


def stored_texts(services: Services) -> dict[str, str]:
    with services.session() as session:
        signal = session.exec(select(Signal)).one()
        return {
            "summary": signal.summary,
            "reason": next(a.reason for a in session.exec(select(Assessment)) if "Patroon" in a.reason),
            "description": session.exec(select(BackupAlert)).one().description or "",
            "note": session.exec(select(SupportAction)).one().note or "",
        }


def assert_cleaned(services: Services) -> None:
    texts = stored_texts(services)
    assert texts == {
        "summary": f"Loods {REPLACEMENT} met busjes",
        "reason": f"Patroon {REPLACEMENT} past",
        "description": f"Twee{REPLACEMENT} mannen",
        "note": f"Surveillance {REPLACEMENT}",
    }


@pytest.fixture
def slack_on(database_url: str, slack_double: SlackDouble) -> Iterator[BotUnderTest]:
    """The same, on SQLite and on PostgreSQL (whose driver cannot encode a lone surrogate either)."""
    for bot in start_bot(database_url, slack_double):
        set_up_partnership(bot.services, PARTNERSHIP)
        yield bot


def test_lone_surrogates_in_the_four_forms_are_cleaned_and_stored(
    slack_on: BotUnderTest, attacker: Attacker, _log_lines: _Lines
) -> None:
    slack = slack_on
    server = f"in-process, {slack.services.engine.dialect.name}"
    start = len(_log_lines.lines)
    sent = fill_the_four_forms(slack)
    for kind in ("signal register", "signal weigh", "alert raise", "alert action"):
        TALLY[(server, f"lone surrogate in {kind}, signed", 200)] += 1
    assert_cleaned(slack.services)
    assert not [line for line in _log_lines.lines[start:] if '"level": "error"' in line]
    calls = len(slack.double.calls)
    for kind, body in zip(
        ("signal register", "signal weigh", "alert raise", "alert action"), sent, strict=True
    ):
        status = send(
            slack.url,
            body,
            {"Content-Type": FORM, "X-Slack-Request-Timestamp": now(), "X-Slack-Signature": "v0=" + "1" * 64},
        )
        TALLY[(server, f"lone surrogate in {kind}, unsigned", status)] += 1
        assert status == 401
    assert slack.double.calls[calls:] == [] and attacker.hits == []


def test_socket_mode_cleans_what_it_hands_to_bolt(sqlite_url: str, slack_double: SlackDouble) -> None:
    upgrade(sqlite_url)
    settings = make_settings(
        sqlite_url, api_url=slack_double.base_url, SLACK_APP_TOKEN=APP_TOKEN, SAMEN_PARTNERSHIP_CHANNEL=BOARD
    )
    services = Services.build(settings, engine=make_engine(sqlite_url))
    set_up_partnership(services, PARTNERSHIP)
    slack_double.add_user(WETHOUDER.user_id, team_id=WETHOUDER.team_id, locale="nl-NL")
    app = create_app(
        settings,
        features=register_all,
        client=WebClient(token=BOT_TOKEN, base_url=slack_double.base_url),
        services=services,
    )
    handler = socket_mode_handler(app, APP_TOKEN)
    handler.connect()
    payloads = Payloads(double=slack_double)
    try:
        slack_double.socket.wait_connected(timeout=5)
        slack_double.socket.send(
            "slash_commands", payloads.command("/rugdekking", "", user=WETHOUDER.user_id)
        )
        slack_double.wait_for("views.open", lambda c: c.args["view"].get("callback_id") == "rugdekking_raise")
        values = {
            "rd_type": {"type": "INTIMIDATIE"},
            "rd_level": {"level": "HOOG"},
            "rd_safe": {"safe": "yes"},
            "rd_description": {"description": f"Twee{LONE} mannen\x00"},
            "rd_place": {"place": "Thuis"},
            "rd_name": {"name": []},
        }
        form = payloads.view_submission(
            "rugdekking_raise",
            values,
            user=WETHOUDER.user_id,
            view=slack_double.last_view("rugdekking_raise"),
        )
        slack_double.socket.send("interactive", form, timeout=10)
        with services.session() as session:
            assert session.exec(select(BackupAlert)).one().description == f"Twee{REPLACEMENT} mannen"
        # Nested beyond any Slack payload: acknowledged, and handed to nobody.
        deep: dict[str, Any] = {"type": "block_actions"}
        holder = deep
        for _ in range(100):
            holder["x"] = holder = {}
        assert slack_double.socket.send("interactive", deep) is None
        TALLY[("socket mode", "lone surrogate and NUL in alert raise", 200)] += 1
        TALLY[("socket mode", "payload nested 100 deep (acknowledged, dropped)", 200)] += 1
    finally:
        handler.client.auto_reconnect_enabled = False
        slack_double.socket.close_connections()
        handler.close()
        services.engine.dispose()


def test_the_cleaning_itself() -> None:
    assert clean_text("a\x00b") == "ab"
    assert clean_text("\ud83d\ude00") == f"{REPLACEMENT}{REPLACEMENT}"  # a pair, but as two lone halves
    assert clean_text("😀 é ß \U0001f9ea") == "😀 é ß \U0001f9ea"  # ordinary text untouched
    assert clean_text("\ufffe\uffff\ufdd0\U0001ffff\U0010fffe") == REPLACEMENT * 5
    assert clean_text("\ufdcf\ufdf0\U0001fffd") == "\ufdcf\ufdf0\U0001fffd"  # neighbours are fine


# -- the real `samen serve` --------------------------------------------------------------------------------


@pytest.mark.slow
def test_samen_serve_refuses_every_hostile_request_and_cleans_the_four_forms(
    sqlite_url: str, slack_double: SlackDouble, attacker: Attacker
) -> None:
    upgrade(sqlite_url)
    services = Services.build(
        make_settings(sqlite_url, api_url=slack_double.base_url, SAMEN_PARTNERSHIP_CHANNEL=BOARD),
        engine=make_engine(sqlite_url),
    )
    set_up_partnership(services, PARTNERSHIP)
    for person in (WETHOUDER, MARLEEN, HANS, ILSE, FATIMA):
        slack_double.add_user(person.user_id, team_id=person.team_id, locale="nl-NL")
    port = free_port()
    env = samen_env(sqlite_url, slack_double.base_url, SAMEN_PARTNERSHIP_CHANNEL=BOARD)
    try:
        with running(
            ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env,
            lambda: healthy(port),
        ):
            url = f"http://127.0.0.1:{port}/slack/events"
            try_every_kind("samen serve", url, slack_double, attacker)
            driver = SlackDriver(url, SIGNING_SECRET, double=slack_double)
            served = BotUnderTest(app=None, services=services, double=slack_double, driver=driver, url=url)  # type: ignore[arg-type]
            fill_the_four_forms(served)
            for kind in ("signal register", "signal weigh", "alert raise", "alert action"):
                TALLY[("samen serve", f"lone surrogate in {kind}, signed", 200)] += 1
            assert_cleaned(services)
            assert attacker.hits == []
    finally:
        services.engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    """The table for the closing note: per server and kind, how many requests got which answer."""
    yield
    if not TALLY:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"edge: {sum(TALLY.values())} hostile requests")
        for (server, kind, status), count in sorted(TALLY.items()):
            reporter.write_line(f"edge: {server:22} | {kind:48} | {count:3} × HTTP {status}")
