"""SlackChat, the chat seam on Slack, against the Slack double over real HTTP: every call of `bot.chat.Chat`
reaches the Web API method it stands for, and every failure comes back as an `Outcome`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import BOT_TOKEN
from slack_sdk import WebClient

from bot.chat import PERMANENT, RETRY_AFTER, TRANSIENT, Chat, ChatFailure, Sent
from bot.slack.chat import OUTBOX_EVENT, SlackChat, incoming
from slackdouble import SlackDouble

CHANNEL = "C0SEAM0001"
ANNE = "U0ANNE0001"
MESSAGE = {
    "text": "Rugdekking gevraagd",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*RD-1*"}}],
}


@pytest.fixture
def chat(slack_double: SlackDouble) -> SlackChat:
    slack_double.add_channel(CHANNEL, "seam", members=[ANNE])
    slack_double.add_user(ANNE, locale="en-GB", real_name="Anne de Vries")
    return SlackChat(WebClient(token=BOT_TOKEN, base_url=slack_double.base_url, retry_handlers=[], timeout=5))


def test_slack_chat_is_a_chat(chat: SlackChat) -> None:
    seam: Chat = chat  # mypy checks that SlackChat has every call of the seam
    assert seam.whoami().bot_id


def test_a_post_is_updated_in_its_thread_and_deleted(chat: SlackChat, slack_double: SlackDouble) -> None:
    sent = chat.post(CHANNEL, MESSAGE, outbox_id=7)
    assert sent.channel == CHANNEL and sent.message
    [call] = slack_double.delivered("chat.postMessage")
    assert (call.args["unfurl_links"], call.args["unfurl_media"]) == (False, False), "links never unfurl"
    assert call.args["metadata"] == {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": 7}}

    reply = chat.post(CHANNEL, {"text": "gezien"}, thread=sent.message)
    assert slack_double.delivered("chat.postMessage")[-1].args["thread_ts"] == sent.message
    chat.update(CHANNEL, sent.message, {"text": "Rugdekking: 1 van 5 gezien"})
    assert slack_double.delivered("chat.update")[0].args["unfurl_media"] is False
    assert slack_double.messages_in(CHANNEL)[0]["text"] == "Rugdekking: 1 van 5 gezien"
    assert reply.message is not None
    chat.delete(CHANNEL, reply.message)
    assert len(slack_double.delivered("chat.delete")) == 1


def test_a_direct_message_a_file_and_an_ephemeral_reply_reach_the_person(
    chat: SlackChat, slack_double: SlackDouble
) -> None:
    chat.direct_message(ANNE, {"text": "Je bent gevraagd"})
    assert [m["text"] for m in slack_double.messages_to(ANNE)] == ["Je bent gevraagd"]
    chat.upload_file(ANNE, b"\x89PNG", filename="chart.png", title="Grafiek", alt_text="een grafiek")
    assert len(slack_double.delivered("files.completeUploadExternal")) == 1
    chat.ephemeral(CHANNEL, ANNE, {"text": "alleen voor jou"})
    assert len(slack_double.delivered("chat.postEphemeral")) == 1


def test_forms_and_the_home_view(chat: SlackChat, slack_double: SlackDouble) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Wat zag je?"}}]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Signaal"}, "blocks": blocks}
    form_id = chat.open_form(slack_double.issue_trigger_id(), view)
    assert form_id
    chat.update_form(form_id, {**view, "title": {"type": "plain_text", "text": "Signaal 2"}})
    chat.publish_home(ANNE, {"type": "home", "blocks": blocks})
    assert len(slack_double.delivered("views.update")) == len(slack_double.delivered("views.publish")) == 1


def test_a_person_is_looked_up(chat: SlackChat, slack_double: SlackDouble) -> None:
    anne = chat.person(ANNE)
    assert anne is not None and (anne.name, anne.locale) == ("Anne de Vries", "en-GB")
    slack_double.strict_users = True
    assert chat.person("U0NOBODY01") is None


def test_our_post_is_found_after_a_crash_and_another_apps_is_not(
    chat: SlackChat, slack_double: SlackDouble
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    metadata = {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": 3}}
    slack_double.someone_posts(CHANNEL, "twin", bot_id="B0OTHERAPP", metadata=metadata)
    assert chat.find_posted(CHANNEL, outbox_id=3, since=since) is None
    sent = chat.post(CHANNEL, MESSAGE, outbox_id=3)
    assert chat.find_posted(CHANNEL, outbox_id=3, since=since) == sent
    dm = chat.direct_message(ANNE, MESSAGE, outbox_id=4)
    assert chat.find_posted(ANNE, outbox_id=4, since=since) == Sent(dm.channel, dm.message)
    assert len(slack_double.calls_to("auth.test")) == 1, "our bot's id is asked once per token"


@pytest.mark.parametrize(
    ("fault", "kind", "reason", "maybe_delivered", "refused"),
    [
        ({"status": 429, "retry_after": 7}, RETRY_AFTER, "ratelimited", False, False),
        ({"status": 503}, TRANSIENT, "http_503", True, False),
        ({"status": 200, "error": "channel_not_found"}, PERMANENT, "channel_not_found", False, False),
        ({"status": 200, "error": "token_revoked"}, TRANSIENT, "token_revoked", False, True),
    ],
)
def test_a_failure_is_an_outcome(
    chat: SlackChat,
    slack_double: SlackDouble,
    fault: dict[str, object],
    kind: str,
    reason: str,
    maybe_delivered: bool,
    refused: bool,
) -> None:
    slack_double.fail_next(method="chat.postMessage", **fault)  # type: ignore[arg-type]
    with pytest.raises(ChatFailure) as failed:
        chat.post(CHANNEL, MESSAGE)
    outcome = failed.value.outcome
    assert (outcome.kind, outcome.reason, outcome.maybe_delivered, outcome.refused) == (
        kind,
        reason,
        maybe_delivered,
        refused,
    )
    if kind == RETRY_AFTER:
        assert outcome.retry_after == 7


def test_nobody_answering_is_temporary_and_maybe_delivered(slack_double: SlackDouble) -> None:
    chat = SlackChat(WebClient(token=BOT_TOKEN, base_url=slack_double.base_url, retry_handlers=[], timeout=5))
    slack_double.drop_next(method="chat.postMessage")
    with pytest.raises(ChatFailure) as failed:
        chat.post(CHANNEL, MESSAGE)
    assert (failed.value.outcome.kind, failed.value.outcome.maybe_delivered) == (TRANSIENT, True)


def test_what_slack_hands_samen_is_read_into_plain_requests() -> None:
    command = incoming({"command": "/samen", "text": "signaal x", "team_id": "T1", "user_id": ANNE})
    assert (command.kind, command.name, command.text, command.user_id) == (
        "command",
        "/samen",
        "signaal x",
        ANNE,
    )
    click = incoming(
        {
            "type": "block_actions",
            "user": {"id": ANNE, "team_id": "T1"},
            "team": {"id": "T1"},
            "actions": [{"action_id": "ack", "value": "RD-1"}],
            "channel": {"id": CHANNEL},
            "message": {"ts": "1.2"},
            "trigger_id": "t-1",
        }
    )
    assert (click.kind, click.name, click.value, click.channel_id, click.message) == (
        "action",
        "ack",
        "RD-1",
        CHANNEL,
        "1.2",
    )
    form = incoming(
        {
            "type": "view_submission",
            "user": {"id": ANNE, "team_id": "T1"},
            "view": {"callback_id": "signal", "private_metadata": "{}", "state": {"values": {"b": {}}}},
        }
    )
    assert (form.kind, form.name, form.metadata, dict(form.values)) == ("view", "signal", "{}", {"b": {}})
    home = incoming(
        {"type": "event_callback", "team_id": "T1", "event": {"type": "app_home_opened", "user": ANNE}}
    )
    assert (home.kind, home.user_id) == ("home", ANNE)
