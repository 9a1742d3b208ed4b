"""Forged and replayed requests, and requests for another workspace: refused, logged, nothing changed.

Slack signs every request (HMAC-SHA256 of `v0:{timestamp}:{body}` with the app's signing secret) and a
request older than five minutes is stale. In Socket Mode the connection itself is the app's; what it
cannot show is that an envelope is about the workspace Samen serves (bot/slack/teams.py).
(tests/test_serve.py checks the same forgeries against the real gunicorn server.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import BOT_TOKEN, BotUnderTest, _Lines, make_settings
from privacy_support import PARTNERSHIP, register_signal, row_counts
from rugdekking_support import HANS, MARLEEN, set_up_partnership, start_bot
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.authz import CLI_ACTOR
from bot.db import make_engine, upgrade
from bot.partners import service as partners
from bot.runtime import Services
from bot.slack.app import create_app
from commands import register_all
from slackdouble import Payloads, SlackDouble, visible_text

FORM = "application/x-www-form-urlencoded"
ELSEWHERE = "T0ELSEWHERE"  # a workspace none of the partnership's members comes from
APP_TOKEN = "xapp-1-A0SAMEN-1-test"


@pytest.fixture
def slack(sqlite_url: str, slack_double: SlackDouble) -> Iterator[BotUnderTest]:
    for bot in start_bot(sqlite_url, slack_double):
        set_up_partnership(bot.services, PARTNERSHIP)
        yield bot


def log_since(lines: _Lines, start: int) -> str:
    return "\n".join(lines.lines[start:])


def test_forged_stale_and_replayed_requests_are_refused_logged_and_change_nothing(
    slack: BotUnderTest, _log_lines: _Lines
) -> None:
    bot = slack
    register_signal(bot, MARLEEN, "Loods met busjes")  # something to protect
    before = row_counts(bot.services.engine)
    start = len(_log_lines.lines)
    body = urlencode(
        Payloads(double=bot.double).command("/samen", "signalen", user=HANS.user_id, team=HANS.team_id)
    ).encode()

    assert bot.driver.raw(body, FORM, signature="v0=" + "0" * 64).status == 401  # wrong signature
    assert bot.driver.raw(body, FORM, signature="").status == 401  # none at all
    assert bot.driver.raw(body, FORM, timestamp=int(time.time()) - 6 * 60).status == 401  # stale, signed
    future = int(time.time()) + 6 * 60
    assert bot.driver.raw(body, FORM, timestamp=future).status == 401  # from the future, signed
    signed = bot.driver.raw(body, FORM)  # genuine …
    assert signed.status == 200
    replay = bot.driver.last.signature  # … replayed with a fresh timestamp and the old signature
    assert bot.driver.raw(body, FORM, timestamp=int(time.time()) + 1, signature=replay).status == 401
    tampered = body.replace(b"signalen", b"signaal")  # the old signature over another body
    assert bot.driver.raw(tampered, FORM, timestamp=bot.driver.last.timestamp, signature=replay).status == 401
    event = json.dumps(Payloads().event_callback({"type": "app_home_opened", "user": HANS.user_id})).encode()
    assert bot.driver.raw(event, "application/json", signature="v0=" + "1" * 64).status == 401

    assert row_counts(bot.services.engine) == before  # the genuine look-up reads only
    logged = log_since(_log_lines, start)
    # One line per refusal at the edge, naming the reason and never the body (tests/test_edge.py
    # tries every malformed header and body).
    assert logged.count("refused a request to Slack's path") == 7
    assert logged.count("bad signature (HTTP 401)") == 4
    assert logged.count("stale or future timestamp (HTTP 401)") == 2
    assert logged.count("no signature (HTTP 401)") == 1
    assert "signalen" not in logged and "app_home_opened" not in logged  # the bodies are not in the log


def test_a_request_for_another_workspace_is_refused_and_changes_nothing(
    slack: BotUnderTest, _log_lines: _Lines
) -> None:
    bot = slack
    before = row_counts(bot.services.engine)
    start = len(_log_lines.lines)
    assert bot.driver.command("/samen", "signaal", user="U0ELSE0001", team=ELSEWHERE).status == 403
    assert bot.driver.command("/rugdekking", "nu", user="U0ELSE0001", team=ELSEWHERE).status == 403
    assert bot.driver.action("rugdekking_ack", value="1", user="U0ELSE0001", team=ELSEWHERE).status == 403
    event = {"type": "app_home_opened", "user": "U0ELSE0001", "tab": "home"}
    assert bot.driver.event(event, team=ELSEWHERE).status == 403
    assert row_counts(bot.services.engine) == before  # not even the event id was recorded
    assert bot.double.calls_to("views.open") == [] and bot.double.calls_to("views.publish") == []
    logged = log_since(_log_lines, start)
    assert logged.count(f"for workspace {ELSEWHERE}: Samen serves workspace T0SAMEN") == 4

    # A partner in another organisation, meeting in a Slack Connect channel, is served as before.
    with bot.services.session() as session:
        politie = partners.require_partner(session, name="Politie Zeeland-West-Brabant")
        partners.add_member(
            session,
            actor=CLI_ACTOR,
            team_id="T0POLITIE1",
            user_id="U0POLCON01",
            partner_id=int(politie.id or 0),
            purpose="test: Slack Connect",
        )
    answer = bot.driver.command("/samen", "help", user="U0POLCON01", team="T0POLITIE1")
    assert answer.status == 200 and "Wat Samen kan" in visible_text(answer.json()["blocks"])


def test_a_socket_mode_envelope_for_another_workspace_is_refused(
    sqlite_url: str, slack_double: SlackDouble, _log_lines: _Lines
) -> None:
    upgrade(sqlite_url)
    settings = make_settings(sqlite_url, api_url=slack_double.base_url, SLACK_APP_TOKEN=APP_TOKEN)
    services = Services.build(settings, engine=make_engine(sqlite_url))
    set_up_partnership(services, PARTNERSHIP)
    app = create_app(
        settings,
        features=register_all,
        client=WebClient(token=BOT_TOKEN, base_url=slack_double.base_url),
        services=services,
    )
    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    payloads = Payloads(double=slack_double)
    try:
        slack_double.socket.wait_connected(timeout=5)
        before = row_counts(services.engine)
        start = len(_log_lines.lines)
        foreign: list[tuple[str, dict[str, Any]]] = [
            ("slash_commands", payloads.command("/rugdekking", "nu", user="U0ELSE0001", team=ELSEWHERE)),
            ("interactive", payloads.shortcut("rugdekking_vragen", user="U0ELSE0001", team=ELSEWHERE)),
            (
                "events_api",
                payloads.event_callback({"type": "app_home_opened", "user": "U0ELSE0001"}, team=ELSEWHERE),
            ),
        ]
        for kind, payload in foreign:
            # Acknowledged, so that Slack does not deliver it again, but without any answer or effect.
            assert slack_double.socket.send(kind, payload, timeout=5) is None
        assert row_counts(services.engine) == before
        assert slack_double.calls_to("views.open") == []
        assert log_since(_log_lines, start).count(f"socket mode request for workspace {ELSEWHERE}") == 3

        # The partnership's own workspace, over the same connection: answered.
        answer = slack_double.socket.send(
            "slash_commands", payloads.command("/samen", "help", user=HANS.user_id)
        )
        assert answer is not None and "Wat Samen kan" in visible_text(answer["blocks"])
    finally:
        handler.client.auto_reconnect_enabled = False
        slack_double.socket.close_connections()
        handler.close()
        services.engine.dispose()


def test_an_error_on_samens_side_is_answered_with_an_apology_not_a_500(
    slack: BotUnderTest, _log_lines: _Lines
) -> None:
    """Something breaks that nobody typing can fix (here: the signal table is gone). Slack shows an HTTP
    500 as "trouble connecting"; Samen answers the person instead, with a reference for the coordinator."""
    bot = slack
    response = bot.driver.command("/samen", "signaal", user=HANS.user_id, team=HANS.team_id)
    assert response.status == 200
    bot.double.wait_for("views.open")
    view = bot.double.last_view("signal_register")
    with bot.services.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE signal")
    start = len(_log_lines.lines)

    answer = bot.driver.command("/samen", "signalen busjes", user=HANS.user_id, team=HANS.team_id)
    assert answer.status == 200
    text = answer.json()["text"]
    assert text.startswith("Sorry, er ging bij ons iets mis.") and "referentie" in text
    reference = text.split("referentie ")[1].split(" ")[0]

    values = {"summary": {"value": "Busjes"}, "category": {"value": "DRUGS"}}
    submitted = bot.driver.view_submission("signal_register", values, user=HANS.user_id, view_id=view["id"])
    assert submitted.status == 200
    apology = submitted.json()
    assert apology["response_action"] == "update"
    assert "Sorry, er ging bij ons iets mis." in visible_text(apology["view"]["blocks"])
    logged = log_since(_log_lines, start)
    assert f"unhandled error, reference {reference}" in logged
