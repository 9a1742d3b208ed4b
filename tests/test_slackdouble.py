"""The Slack double catches what Slack would refuse, and misbehaves when asked.

Every check of the double is exercised through the real `slack_sdk.WebClient` (or Bolt), so these
tests also pin down how the SDK talks to Slack. Each test fails if the check it covers is removed.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
from collections.abc import Iterator
from http.client import RemoteDisconnected
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from slackdouble import SPEC_GAPS, Payloads, SlackDouble, SlackDriver, visible_text
from slackdouble.fixtures import slack_double
from slackdouble.spec import load_spec

__all__ = ["slack_double"]  # the fixture, imported for pytest

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-A0SAMEN-test"

allow_violations = pytest.mark.allow_slack_violations


@pytest.fixture
def client(slack_double: SlackDouble) -> WebClient:
    """The SDK client as the bot builds it; retries off so every answer reaches the test."""
    return WebClient(token=BOT_TOKEN, base_url=slack_double.base_url, retry_handlers=[])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(blocks: list[dict[str, Any]], title: str = "Melding", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": blocks, **extra}


def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


# -- the spec ----------------------------------------------------------------------------------------


def test_the_spec_is_found_and_its_gaps_are_applied() -> None:
    spec = load_spec()
    assert spec.methods["chat.postMessage"].from_spec
    for method in SPEC_GAPS["missing_methods"]:
        assert not spec.methods[method].from_spec
    assert "metadata" in spec.methods["chat.postMessage"].args
    assert "team_id" in spec.methods["users.info"].args
    # views.open: the spec's "trigger_id required" is replaced by "trigger_id or interactivity_pointer".
    assert "trigger_id" not in spec.methods["views.open"].required
    assert spec.methods["views.open"].one_of


def test_a_valid_message_passes_without_violations(slack_double: SlackDouble, client: WebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Nieuwe melding"}},
        section("*Gemeente* meldt een signaal"),
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Oppakken"}, "action_id": "claim"}
            ],
        },
    ]
    first = client.chat_postMessage(channel="C0POLITIE1", text="Nieuwe melding", blocks=blocks)
    second = client.chat_postMessage(
        channel="C0POLITIE1", text="Nog een", metadata={"event_type": "x", "event_payload": {}}
    )
    assert first["channel"] == "C0POLITIE1"
    assert float(second["ts"]) > float(first["ts"])
    assert first["ts"].startswith("17") and len(first["ts"].split(".")[1]) == 6
    call = slack_double.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks  # parsed back to Python objects
    assert call.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert "Oppakken" in visible_text(slack_double.messages_in("C0POLITIE1")[0])
    slack_double.assert_no_violations()


# -- names and required arguments --------------------------------------------------------------------


@allow_violations
def test_a_misspelt_argument_is_rejected_and_recorded(slack_double: SlackDouble, client: WebClient) -> None:
    # Real Slack ignores unknown arguments; the double refuses them so that the typo is found.
    error = slack_error(lambda: client.api_call("chat.postMessage", json={"chanel": "C0X", "text": "hoi"}))
    assert error.response["error"] == "invalid_arguments"
    assert any("'chanel'" in v for v in slack_double.violations)
    assert any("required argument 'channel'" in v for v in slack_double.violations)

    error = slack_error(lambda: client.chat_postMessage(channel="C0X", text="hoi", unfurl_link=False))
    assert "unfurl_link" in str(error.response["response_metadata"]["messages"])
    assert len(slack_double.violations) == 3


@allow_violations
def test_required_arguments_follow_the_spec_and_its_corrections(
    slack_double: SlackDouble, client: WebClient
) -> None:
    view = modal([section("x")])
    error = slack_error(lambda: client.views_open(view=view))  # neither trigger_id nor interactivity_pointer
    assert error.response["error"] == "invalid_arguments"
    assert "one of interactivity_pointer, trigger_id is required" in slack_double.violations[0]
    client.views_open(interactivity_pointer="123.456.abc", view=view)  # the spec's gap, accepted
    slack_error(lambda: client.api_call("reactions.add", params={"channel": "C0X", "timestamp": "1.2"}))
    assert "required argument 'name'" in slack_double.violations[-1]
    assert len(slack_double.violations) == 2


@allow_violations
def test_an_unknown_method_is_rejected_and_recorded(slack_double: SlackDouble, client: WebClient) -> None:
    error = slack_error(lambda: client.api_call("chat.postMesage", json={"channel": "C0X", "text": "x"}))
    assert error.response["error"] == "unknown_method"
    assert slack_double.violations == ["chat.postMesage: no such method in Slack's Web API"]


def test_methods_missing_from_the_2020_spec_are_accepted(
    slack_double: SlackDouble, client: WebClient
) -> None:
    client.chat_scheduledMessages_list(team_id="T0SAMEN")
    client.api_call("users.info", params={"user": "U0ANNE0001", "team_id": "T0SAMEN"})
    # The listener client Bolt hands out adds team_id; every method must accept it.
    client.chat_postMessage(channel="C0X", text="x", team_id="T0SAMEN")


# -- Block Kit ---------------------------------------------------------------------------------------


@allow_violations
def test_fifty_one_blocks_in_a_message_are_invalid(slack_double: SlackDouble, client: WebClient) -> None:
    client.chat_postMessage(channel="C0X", text="50", blocks=[section(str(i)) for i in range(50)])
    assert slack_double.violations == []
    error = slack_error(
        lambda: client.chat_postMessage(channel="C0X", text="51", blocks=[section(str(i)) for i in range(51)])
    )
    assert error.response["error"] == "invalid_blocks"
    assert slack_double.violations == ["chat.postMessage: blocks: 51 blocks; a message may have 50"]
    assert len(slack_double.delivered("chat.postMessage")) == 1


@allow_violations
def test_a_hundred_and_one_blocks_in_a_view_are_invalid(slack_double: SlackDouble, client: WebClient) -> None:
    client.views_publish(user_id="U0ANNE0001", view={"type": "home", "blocks": [section("x")] * 100})
    assert slack_double.violations == []
    error = slack_error(
        lambda: client.views_publish(
            user_id="U0ANNE0001", view={"type": "home", "blocks": [section("x")] * 101}
        )
    )
    assert error.response["error"] == "invalid_arguments"
    assert any("101 blocks; a modal or Home tab may have 100" in v for v in slack_double.violations)


@allow_violations
@pytest.mark.parametrize(
    ("method", "payload", "expected"),
    [
        (
            "views.open",
            modal([section("x")], title="x" * 25),
            "modal title is 25 characters; Slack allows 24",
        ),
        ("chat", {"blocks": [section("x" * 3001)]}, "section text is 3001 characters; Slack allows 3000"),
        (
            "chat",
            {"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "y" * 2001}]}]},
            "section field is 2001 characters; Slack allows 2000",
        ),
        (
            "chat",
            {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
            "header text is 151 characters; Slack allows 150",
        ),
        (
            "chat",
            {
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "b" * 76},
                                "action_id": "a",
                            }
                        ],
                    }
                ]
            },
            "button text is 76 characters; Slack allows 75",
        ),
        (
            "views.open",
            modal([section("x")], private_metadata="m" * 3001),
            "private_metadata is 3001 characters; Slack allows 3000",
        ),
        (
            "views.open",
            modal([section("x")], callback_id="c" * 256),
            "callback_id is 256 characters; Slack allows 255",
        ),
        (
            "views.open",
            modal(
                [
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "Naam"},
                        "element": {"type": "plain_text_input", "action_id": "naam"},
                    }
                ]
            ),
            "a modal with input blocks needs a submit button",
        ),
        ("chat", {"blocks": [{"type": "section", "txt": {"type": "mrkdwn", "text": "typo"}}]}, "/blocks/0"),
        ("chat", {"blocks": [section("ok") | {"colour": "red"}]}, "/blocks/0/colour: unknown field"),
        (
            "chat",
            {
                "blocks": [
                    {"type": "actions", "elements": [{"type": "button", "text": "Ja", "action_id": "ja"}]}
                ]
            },
            "/blocks/0/elements/0/text: a bare string",
        ),
        ("chat", {"blocks": [{"type": "sektion"}]}, "unknown block type 'sektion'"),
        (
            "chat",
            {"blocks": [section("a") | {"block_id": "b"}, section("b") | {"block_id": "b"}]},
            "duplicate block_id",
        ),
    ],
)
def test_block_kit_limits_and_shapes_are_enforced(
    slack_double: SlackDouble, client: WebClient, method: str, payload: dict[str, Any], expected: str
) -> None:
    if method == "chat":
        error = slack_error(lambda: client.chat_postMessage(channel="C0X", text="fallback", **payload))
        assert error.response["error"] == "invalid_blocks"
    else:
        error = slack_error(lambda: client.views_open(trigger_id="1.2.abc", view=payload))
        assert error.response["error"] == "invalid_arguments"
    assert any(expected in violation for violation in slack_double.violations), slack_double.violations


@allow_violations
def test_message_text_over_forty_thousand_characters_is_too_long(
    slack_double: SlackDouble, client: WebClient
) -> None:
    client.chat_postMessage(channel="C0X", text="x" * 40_000)
    error = slack_error(lambda: client.chat_postMessage(channel="C0X", text="x" * 40_001))
    assert error.response["error"] == "msg_too_long"
    assert len(slack_double.violations) == 1


# -- faults on demand --------------------------------------------------------------------------------


def test_429_carries_retry_after_to_the_client(slack_double: SlackDouble, client: WebClient) -> None:
    slack_double.fail_next(status=429, retry_after=7, method="chat.postMessage")
    error = slack_error(lambda: client.chat_postMessage(channel="C0X", text="x"))
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "7"
    client.chat_postMessage(channel="C0X", text="x")  # only the next call failed
    attempts, delivered = (
        slack_double.calls_to("chat.postMessage"),
        slack_double.delivered("chat.postMessage"),
    )
    assert (len(attempts), len(delivered)) == (2, 1)
    assert attempts[0].failed and attempts[0].status == 429


def test_the_sdk_rate_limit_handler_retries_after_a_429(slack_double: SlackDouble) -> None:
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    retrying = WebClient(
        token=BOT_TOKEN, base_url=slack_double.base_url, retry_handlers=[RateLimitErrorRetryHandler()]
    )
    slack_double.fail_next(status=429, retry_after=0)
    retrying.chat_postMessage(channel="C0X", text="x")
    assert [call.status for call in slack_double.calls_to("chat.postMessage")] == [429, 200]


@pytest.mark.parametrize(("status", "error"), [(500, "internal_error"), (503, "service_unavailable")])
def test_server_errors(slack_double: SlackDouble, client: WebClient, status: int, error: str) -> None:
    slack_double.fail_next(status=status, channel="C0KAPOT")
    client.chat_postMessage(channel="C0HEEL", text="other channels are fine")
    failure = slack_error(lambda: client.chat_postMessage(channel="C0KAPOT", text="x"))
    assert failure.response.status_code == status
    assert failure.response["error"] == error


def test_a_slack_error_can_be_injected(slack_double: SlackDouble, client: WebClient) -> None:
    slack_double.fail_next(status=200, error="account_inactive", method="chat.postMessage")
    failure = slack_error(lambda: client.chat_postMessage(channel="C0X", text="x"))
    assert failure.response.status_code == 200 and failure.response["error"] == "account_inactive"


def test_a_dropped_connection_reaches_the_client(slack_double: SlackDouble, client: WebClient) -> None:
    slack_double.drop_next(method="chat.postMessage")
    with pytest.raises((RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        client.chat_postMessage(channel="C0X", text="x")
    assert slack_double.calls_to("chat.postMessage")[0].status == 0

    # The SDK's default retry handler retries a dropped connection once.
    slack_double.drop_next()
    WebClient(token=BOT_TOKEN, base_url=slack_double.base_url).chat_postMessage(channel="C0X", text="x")
    assert [call.status for call in slack_double.calls_to("chat.postMessage")] == [0, 0, 200]


def test_latency_is_applied_per_method(slack_double: SlackDouble, client: WebClient) -> None:
    slack_double.set_latency(0.3, method="chat.postMessage")
    started = time.monotonic()
    client.auth_test()
    fast = time.monotonic() - started
    client.chat_postMessage(channel="C0X", text="x")
    slow = time.monotonic() - started - fast
    assert fast < 0.2 <= 0.3 <= slow


def test_channel_rate_is_enforced_per_channel(slack_double: SlackDouble, client: WebClient) -> None:
    slack_double.enforce_channel_rate(per_second=1.0, burst=2)
    client.chat_postMessage(channel="C0DRUK", text="1")
    client.chat_postMessage(channel="C0DRUK", text="2")
    failure = slack_error(lambda: client.chat_postMessage(channel="C0DRUK", text="3"))
    assert failure.response.status_code == 429
    assert int(failure.response.headers["Retry-After"]) >= 1
    client.chat_postMessage(channel="C0STIL", text="another channel has its own budget")
    client.chat_postMessage(channel="U0ANNE0001", text="a DM too")
    assert len(slack_double.delivered("chat.postMessage")) == 4


def test_fail_rate_is_deterministic_for_a_seed(slack_double: SlackDouble, client: WebClient) -> None:
    def outcomes(seed: int) -> list[int]:
        slack_double.reset()
        slack_double.fail_rate(0.4, statuses=(429, 500, 503), seed=seed)
        for _ in range(30):
            with contextlib.suppress(SlackApiError):
                client.auth_test()
        return [call.status for call in slack_double.calls_to("auth.test")]

    first, again, other = outcomes(7), outcomes(7), outcomes(8)
    assert first == again
    assert first != other
    assert 3 <= sum(status != 200 for status in first) <= 25
    assert set(first) <= {200, 429, 500, 503}


# -- conversations and people ------------------------------------------------------------------------


def test_channels_membership_and_direct_messages(slack_double: SlackDouble, client: WebClient) -> None:
    slack_double.add_channel("C0GEHEIM", "geheim", members=["U0ANNE0001"], bot_is_member=False)
    assert slack_error(lambda: client.chat_postMessage(channel="C0GEHEIM", text="x")).response["error"] == (
        "not_in_channel"
    )
    assert slack_error(lambda: client.chat_postMessage(channel="#nergens", text="x")).response["error"] == (
        "channel_not_found"
    )
    dm = client.conversations_open(users="U0ANNE0001")["channel"]["id"]
    assert dm.startswith("D") and client.conversations_open(users="U0ANNE0001")["channel"]["id"] == dm
    # Posting to a user id delivers in the DM, and Slack answers with the DM's id.
    assert client.chat_postMessage(channel="U0ANNE0001", text="hoi")["channel"] == dm
    assert [m["text"] for m in slack_double.messages_to("U0ANNE0001")] == ["hoi"]
    slack_double.strict_channels = True
    assert slack_error(lambda: client.chat_postMessage(channel="C0ONBEKEND", text="x")).response["error"] == (
        "channel_not_found"
    )


def test_users_info_gives_the_locale_only_when_asked(slack_double: SlackDouble, client: WebClient) -> None:
    slack_double.add_team("T0POLITIE", "Politie")
    slack_double.add_user(
        "U0ANNE0001", team_id="T0POLITIE", locale="nl-NL", tz="Europe/Amsterdam", name="anne"
    )
    user = client.users_info(user="U0ANNE0001", include_locale=True)["user"]
    assert (user["locale"], user["tz"], user["team_id"]) == ("nl-NL", "Europe/Amsterdam", "T0POLITIE")
    assert "locale" not in client.users_info(user="U0ANNE0001")["user"]
    assert client.team_info(team="T0POLITIE")["team"]["name"] == "Politie"


@allow_violations
def test_trigger_ids_live_three_seconds_and_once(slack_double: SlackDouble, client: WebClient) -> None:
    trigger = slack_double.issue_trigger_id()
    opened = client.views_open(trigger_id=trigger, view=modal([section("x")], callback_id="melding"))["view"]
    assert opened["id"].startswith("V") and slack_double.last_view("melding")["id"] == opened["id"]
    assert (
        slack_error(lambda: client.views_open(trigger_id=trigger, view=modal([section("x")]))).response[
            "error"
        ]
        == "exchanged_trigger_id"
    )
    stale = slack_double.issue_trigger_id(seconds_ago=3.5)
    assert (
        slack_error(lambda: client.views_open(trigger_id=stale, view=modal([section("x")]))).response["error"]
        == "expired_trigger_id"
    )
    # A hash from before an update is refused, as Slack does to protect concurrent updates.
    client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal([section("y")]))
    assert (
        slack_error(
            lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal([section("z")]))
        ).response["error"]
        == "hash_conflict"
    )


def test_files_upload_v2_end_to_end(slack_double: SlackDouble) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=slack_double.base_url)
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    result = client.files_upload_v2(channel="C0X", content=content, filename="x.png", title="Kaart")
    file_id = result["file"]["id"]
    assert slack_double.file_bytes(file_id) == content
    assert [call.method for call in slack_double.calls] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    complete = slack_double.calls_to("files.completeUploadExternal")[0]
    assert complete.args["files"] == [{"id": file_id, "title": "Kaart"}]
    assert complete.args["channel_id"] == "C0X"
    assert slack_double.files[file_id].completed


@allow_violations
def test_response_url_posts_are_recorded_and_checked(slack_double: SlackDouble) -> None:
    url = slack_double.response_url("cmd-1")
    answer = WebhookClient(url).send(text="Gelukt", response_type="ephemeral")
    assert answer.status_code == 200 and answer.body == "ok"
    call = slack_double.wait_for("response_url")[0]
    assert (call.tag, call.args["text"], call.args["response_type"]) == ("cmd-1", "Gelukt", "ephemeral")
    assert slack_double.violations == []
    refused = WebhookClient(url).send(text="x", blocks=[section("x" * 3001)])
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    assert any(v.startswith("response_url: /blocks/0/text: section text") for v in slack_double.violations)
    # A misspelt response_type would show everyone what was meant for one person.
    misspelt = WebhookClient(url).send_dict({"text": "vertrouwelijk", "respons_type": "ephemeral"})
    assert (misspelt.status_code, misspelt.body) == (400, "invalid_arguments")
    assert slack_double.violations[-1] == "response_url: unknown field 'respons_type'"


def test_wait_for_lists_what_arrived_when_it_times_out(slack_double: SlackDouble, client: WebClient) -> None:
    client.chat_postMessage(channel="C0X", text="iets anders")
    with pytest.raises(AssertionError) as failure:
        slack_double.wait_for("views.open", timeout=0.1)
    assert "expected 1 call(s) to views.open" in str(failure.value)
    assert 'chat.postMessage [ok] {"channel": "C0X"' in str(failure.value)


def test_success_answers_have_the_fields_the_spec_requires(
    slack_double: SlackDouble, client: WebClient
) -> None:
    spec = load_spec()

    def required(method: str) -> set[str]:
        assert spec.methods[method].from_spec, f"{method}: the spec declares no answer for it"
        return set(spec.methods[method].answer_requires)

    posted = client.chat_postMessage(channel="C0X", text="x")
    answers = {
        "auth.test": client.auth_test(),
        "chat.postMessage": posted,
        "chat.postEphemeral": client.chat_postEphemeral(channel="C0X", user="U0ANNE0001", text="x"),
        "chat.update": client.chat_update(channel="C0X", ts=posted["ts"], text="y"),
        "chat.getPermalink": client.chat_getPermalink(channel="C0X", message_ts=posted["ts"]),
        "chat.scheduleMessage": client.chat_scheduleMessage(
            channel="C0X", text="x", post_at=int(time.time()) + 60
        ),
        "chat.scheduledMessages.list": client.chat_scheduledMessages_list(),
        "conversations.open": client.conversations_open(users="U0ANNE0001"),
        "conversations.info": client.conversations_info(channel="C0X"),
        "conversations.members": client.conversations_members(channel="C0X"),
        "conversations.join": client.conversations_join(channel="C0X"),
        "conversations.history": client.conversations_history(channel="C0X"),
        "users.info": client.users_info(user="U0ANNE0001"),
        "team.info": client.team_info(),
        "reactions.add": client.reactions_add(channel="C0X", timestamp=posted["ts"], name="eyes"),
        "chat.delete": client.chat_delete(channel="C0X", ts=posted["ts"]),
    }
    for method, answer in answers.items():
        missing = required(method) - set(answer.data)
        assert not missing, f"{method} answer lacks {missing}"


# -- the driver --------------------------------------------------------------------------------------


class _VerifyingHandler(BaseHTTPRequestHandler):
    """A stand-in bot that only checks signatures, as Bolt does, and keeps what it got."""

    server: _VerifyingServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = dict(self.headers.items())
        self.server.received.append((headers, body))
        valid = SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
        self.send_response(200 if valid else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _VerifyingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _VerifyingHandler)
        self.received: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def verifying_bot() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    server = _VerifyingServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events", server.received
    server.shutdown()
    server.server_close()


def test_driver_requests_are_signed_like_slacks_and_forgeries_are_not(
    slack_double: SlackDouble, verifying_bot: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = verifying_bot
    driver = SlackDriver(url, SIGNING_SECRET, double=slack_double)
    assert driver.command("/melding", "nieuw signaal", locale="nl-NL").status == 200
    form = dict(urllib.parse.parse_qsl(received[-1][1].decode()))
    assert form["command"] == "/melding" and form["locale"] == "nl-NL"
    assert form["response_url"].startswith(slack_double.root_url + "/response/")
    driver.command("/melding")
    assert "locale" not in dict(urllib.parse.parse_qsl(received[-1][1].decode()))  # Slack sends it rarely

    assert driver.action("claim", "42", channel="C0X").status == 200
    payload = json.loads(dict(urllib.parse.parse_qsl(received[-1][1].decode()))["payload"])
    assert payload["type"] == "block_actions" and payload["actions"][0]["value"] == "42"
    assert driver.view_submission("melding", {"b": {"a": "tekst"}}).status == 200
    assert driver.shortcut("nieuw").status == 200
    assert driver.message_shortcut("doorsturen", {"text": "bericht"}).status == 200

    assert (
        driver.event({"type": "app_home_opened", "user": "U0X"}, event_id="Ev01", retry_num=1).status == 200
    )
    headers, body = received[-1]
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("1", "http_timeout")
    assert json.loads(body)["event_id"] == "Ev01"
    assert driver.url_verification("uitdaging").status == 200

    original = driver.last
    assert (
        driver.raw(b"payload=x", "application/x-www-form-urlencoded", signature="v0=" + "0" * 64).status
        == 401
    )
    stale = int(time.time()) - 6 * 60
    assert driver.raw(original.body, original.content_type, timestamp=stale).status == 401
    replay = driver.raw(
        original.body, original.content_type, timestamp=int(time.time()) + 1, signature=original.signature
    )
    assert replay.status == 401


def test_a_click_is_built_from_the_message_the_bot_showed(
    slack_double: SlackDouble, client: WebClient
) -> None:
    blocks = [
        section("Signaal 42"),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Oppakken"},
                    "action_id": "claim",
                    "value": "signal-42",
                },
                {
                    "type": "static_select",
                    "action_id": "prio",
                    "placeholder": {"type": "plain_text", "text": "P"},
                    "options": [{"text": {"type": "plain_text", "text": "Hoog"}, "value": "hoog"}],
                },
            ],
        },
    ]
    posted = client.chat_postMessage(channel="C0POLITIE1", text="Signaal 42", blocks=blocks)
    payloads = Payloads(double=slack_double)
    click = payloads.block_actions("claim")
    assert click["container"]["message_ts"] == posted["ts"]
    assert click["channel"]["id"] == "C0POLITIE1"
    assert click["actions"][0]["value"] == "signal-42"
    assert (
        click["actions"][0]["block_id"] == posted["message"]["blocks"][1]["block_id"]
    )  # Slack's generated id
    choice = payloads.block_actions("prio", "hoog")
    assert choice["actions"][0]["selected_option"]["text"]["text"] == "Hoog"


def test_a_submission_carries_the_modal_the_bot_opened(slack_double: SlackDouble, client: WebClient) -> None:
    view = modal(
        [
            {
                "type": "input",
                "block_id": "naam",
                "label": {"type": "plain_text", "text": "Naam"},
                "element": {"type": "plain_text_input", "action_id": "naam"},
            },
            {
                "type": "input",
                "block_id": "prio",
                "label": {"type": "plain_text", "text": "Prioriteit"},
                "element": {
                    "type": "static_select",
                    "action_id": "prio",
                    "options": [{"text": {"type": "plain_text", "text": "Hoog"}, "value": "hoog"}],
                },
            },
        ],
        callback_id="melding",
        private_metadata='{"case": 7}',
        submit={"type": "plain_text", "text": "Opslaan"},
    )
    opened = client.views_open(trigger_id="1.2.abc", view=view)["view"]
    submitted = Payloads(double=slack_double).view_submission(
        "melding", {"naam": {"naam": "Jan"}, "prio": {"prio": "hoog"}}
    )["view"]
    assert (submitted["id"], submitted["private_metadata"]) == (opened["id"], '{"case": 7}')
    values = submitted["state"]["values"]
    assert values["naam"]["naam"] == {"type": "plain_text_input", "value": "Jan"}
    assert values["prio"]["prio"]["selected_option"]["text"]["text"] == "Hoog"


@allow_violations
def test_unimplemented_methods_are_loud_and_can_be_answered_by_the_test(
    slack_double: SlackDouble, client: WebClient
) -> None:
    error = slack_error(lambda: client.users_lookupByEmail(email="anne@gemeente.nl"))
    assert error.response["error"] == "not_implemented_by_double"
    assert "double.on(method, handler)" in slack_double.violations[0]
    slack_double.on("users.lookupByEmail", lambda args: {"user": {"id": "U0ANNE0001", "name": args["email"]}})
    assert client.users_lookupByEmail(email="anne@gemeente.nl")["user"]["id"] == "U0ANNE0001"


# -- Bolt, over HTTP and over Socket Mode ------------------------------------------------------------


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_bolt_over_http_acks_and_responds_through_the_double(slack_double: SlackDouble) -> None:
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=slack_double.base_url), signing_secret=SIGNING_SECRET
    )

    @app.command("/ping")
    def ping(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack(text="pong")
        respond(text=f"pong for {command['user_id']}", blocks=[section("*pong*")])

    server: WSGIServer = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietWSGIHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        driver = SlackDriver(
            f"http://127.0.0.1:{server.server_port}/slack/events", SIGNING_SECRET, slack_double
        )
        answer = driver.command("/ping", user="U0ANNE0001")
        # Bolt answers ack(text=...) alone as text/plain; with blocks it would be JSON.
        assert (answer.status, answer.body) == (200, "pong")
        assert (answer.header("content-type") or "").startswith("text/plain")
        responded = slack_double.wait_for("response_url")[0]
        assert responded.args["text"] == "pong for U0ANNE0001"
        assert responded.args["blocks"] == [section("*pong*")]
        assert (
            driver.raw(driver.last.body, "application/x-www-form-urlencoded", signature="v0=bad").status
            == 401
        )
    finally:
        server.shutdown()
        server.server_close()
    assert [call.method for call in slack_double.calls] == ["auth.test", "response_url"]


def test_bolt_socket_mode_round_trip(slack_double: SlackDouble) -> None:
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=slack_double.base_url), signing_secret=SIGNING_SECRET
    )

    @app.command("/ping")
    def ping(ack: Any) -> None:
        ack(text="pong")

    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    try:
        slack_double.socket.wait_connected(timeout=5)
        opened = slack_double.calls_to("apps.connections.open")[0]
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
        ack = slack_double.socket.send("slash_commands", Payloads(double=slack_double).command("/ping"))
        assert ack == {"text": "pong"}
        assert slack_double.socket.unacknowledged == []
    finally:
        # Close from Slack's side first: the builtin client's close() otherwise waits out its
        # 3-second read timeout.
        handler.client.auto_reconnect_enabled = False
        slack_double.socket.close_connections()
        handler.close()


def test_socket_send_without_an_ack_fails_the_test(slack_double: SlackDouble) -> None:
    from websockets.sync.client import connect

    url = WebClient(token=APP_TOKEN, base_url=slack_double.base_url).apps_connections_open(
        app_token=APP_TOKEN
    )["url"]
    with connect(url) as silent_app:
        assert json.loads(silent_app.recv(timeout=2))["type"] == "hello"
        with pytest.raises(AssertionError, match="no acknowledgement"):
            slack_double.socket.send(
                "events_api", Payloads().event_callback({"type": "app_mention"}), timeout=0.2
            )
        envelope = json.loads(silent_app.recv(timeout=2))
        assert envelope["type"] == "events_api" and envelope["accepts_response_payload"] is False
        assert len(slack_double.socket.unacknowledged) == 1
