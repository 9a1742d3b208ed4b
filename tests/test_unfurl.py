"""Nothing Samen says unfurls (issue 16): a link typed into an alert or a signal must not make Slack
fetch it and show a preview. The outbox's posts are checked in tests/test_outbox_crash.py; these are
the answers given directly, through a response_url and as the answer to a slash command."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from conftest import BotUnderTest
from rugdekking_support import (
    HANS,
    POLITIE_CHANNEL,
    click,
    deliver,
    raise_with_form,
    set_up_partnership,
    start_bot,
)

from slackdouble import SlackDouble


@pytest.fixture
def slack(sqlite_url: str, slack_double: SlackDouble) -> Iterator[BotUnderTest]:
    for bot in start_bot(sqlite_url, slack_double):
        set_up_partnership(bot.services)
        yield bot


def test_an_answer_through_the_response_url_does_not_unfurl(slack: BotUnderTest) -> None:
    raise_with_form(slack, description="Zie https://voorbeeld.nl/foto en https://voorbeeld.nl/film.mp4")
    deliver(slack)
    click(slack, "rugdekking_ack", HANS, channel=POLITIE_CHANNEL)
    [answer] = slack.double.wait_for("response_url")
    assert answer.ok
    assert answer.args["unfurl_links"] is False and answer.args["unfurl_media"] is False


def test_the_answer_to_a_slash_command_does_not_unfurl(slack: BotUnderTest) -> None:
    answer = slack.driver.command("/samen", "help", user=HANS.user_id, team=HANS.team_id)
    body = json.loads(answer.body)
    assert body["text"] and body["unfurl_links"] is False and body["unfurl_media"] is False


def test_every_post_of_a_backup_alert_does_not_unfurl(slack: BotUnderTest) -> None:
    raise_with_form(slack, description="Zie https://voorbeeld.nl/foto")
    deliver(slack)
    posts = slack.double.delivered("chat.postMessage")
    assert posts
    assert all(c.args["unfurl_links"] is False and c.args["unfurl_media"] is False for c in posts)
